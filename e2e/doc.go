// Package e2e holds the tests of the whole pipeline, HTTP to ClickHouse,
// against real servers: an embedded NATS server and a clickhouse-server
// process, each started on free ports with temporary data directories.
package e2e
