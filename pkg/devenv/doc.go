// Package devenv starts the real servers Harbor runs against, on this
// machine, for the local all-in-one mode and for integration tests: an
// embedded NATS server with JetStream, and a clickhouse-server process with
// its own configuration and data directory on free ports; and for cluster
// tests, a ClickHouse cluster of replicas and the standalone ZooKeeper
// server they replicate through.
//
// Nothing here is a mock: the NATS server is nats-server itself, and
// ClickHouse is whatever clickhouse-server is installed (Debian's package, or
// the official build) or, for EngineChDB, ClickHouse 26 as chDB behind
// cmd/harbor-chdb's HTTP interface (StartEngine).
package devenv
