// Package local runs the whole Harbor pipeline on one machine: an embedded
// NATS server, a ClickHouse it starts (a clickhouse-server, installing
// Debian's package if need be, or ClickHouse 26 from chDB), the ingest API
// and a writer, until its context ends.
package local

import (
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
)

// Config holds the settings of the local mode, beside those of the services.
type Config struct {
	// DataDir keeps the NATS store, ClickHouse's data and the demo API key
	// between runs.
	DataDir string `env:"HARBOR_DATA_DIR" envDefault:".harbor"`
	// NATSPort is the port of the embedded NATS server.
	NATSPort int `env:"LOCAL_NATS_PORT" envDefault:"4222"`
	// NATSSyncAlways makes the embedded NATS write each message to disk
	// before acknowledging it; false leaves it to nats-server's background
	// sync every 2 minutes (faster, but a power cut loses what it acked
	// since), for measuring what the sync costs.
	NATSSyncAlways bool `env:"LOCAL_NATS_SYNC_ALWAYS" envDefault:"true"`
	// ClickHouse is the ClickHouse engine it starts (devenv.ParseEngine):
	// "server", the installed clickhouse-server, or "chdb", ClickHouse 26
	// from chDB behind cmd/harbor-chdb's HTTP interface.
	ClickHouse string `env:"LOCAL_CLICKHOUSE" envDefault:"server"`
	// ClickHousePort is the port of the ClickHouse it starts: native for a
	// clickhouse-server, HTTP for chDB.
	ClickHousePort int `env:"LOCAL_CLICKHOUSE_PORT" envDefault:"19000"`
	// RunServices runs the ingest API and a writer; false starts only the
	// servers (NATS, ClickHouse), for running the services as processes of
	// their own (as the benchmark does, to measure each).
	RunServices bool `env:"LOCAL_RUN_SERVICES" envDefault:"true"`
	// DemoHarbor is the harbor made, with a key, on the first run when
	// API_KEYS is unset.
	DemoHarbor string `env:"LOCAL_DEMO_HARBOR" envDefault:"demo"`

	Ingest ingest.Config
	Writer writer.Config

	// Set from whether the variables are present at all: when they are,
	// the local mode uses those servers instead of starting its own.
	ExternalNATS, ExternalClickHouse, ExternalKeys bool `env:"-"`
}
