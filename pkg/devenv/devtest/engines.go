package devtest

import (
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv"
)

// OnEachEngine runs test twice, as subtests: "Legacy" on the installed
// clickhouse-server (devenv.EngineServer: 18.16, the native protocol, the
// legacy table) and "Modern" on ClickHouse 26 (devenv.EngineChDB: chDB over
// HTTP, the modern table). `go test -run /Modern` runs the second only.
func OnEachEngine(t *testing.T, test func(t *testing.T, engine devenv.Engine)) {
	t.Helper()
	t.Run("Legacy", func(t *testing.T) { test(t, devenv.EngineServer) })
	t.Run("Modern", func(t *testing.T) { test(t, devenv.EngineChDB) })
}
