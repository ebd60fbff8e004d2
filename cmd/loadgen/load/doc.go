// Package load is the engine of the loadgen command: a deterministic data set
// of readings, the HTTP sender that posts it to the ingest API, latency and
// throughput statistics, the check that every accepted reading reached
// ClickHouse, and the direct insert that measures ClickHouse alone.
//
// The pieces are separate so that tests and future benchmarks can use them
// without the command: a Dataset generates readings on the fly (its Encoder
// as JSON bodies), Send posts them, Counter.WaitForRows waits for them in
// ClickHouse, Direct inserts them there, and Run does all of it as the
// command's flags say.
package load
