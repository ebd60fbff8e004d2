// Package schema is Harbor's shared contract between the ingest API and the
// writers: what a reading is, how it is validated, how readings travel on the
// JetStream stream (the payload format), and the ClickHouse table they land in.
//
// Everything that both sides must agree on lives here, so that a change to the
// contract is a change to one package.
package schema
