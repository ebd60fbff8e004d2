package reader

import "github.com/harbor-ingest/harbor/pkg/chconn"

// Config holds the ClickHouse settings of the read API: the writers' own
// variables (pkg/chconn), so one set of settings points both services at the
// same table.
type Config = chconn.Config
