package devenv

import (
	"context"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestNATS starts an embedded NATS server for a test, on a free port with a
// temporary store, and shuts it down when the test ends.
func TestNATS(t testing.TB) *server.Server {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := StartNATS(t.TempDir(), port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// TestClickHouse starts a clickhouse-server for a test, on a free port with a
// temporary data directory, and stops it when the test ends. A machine
// without ClickHouse fails the test: it never skips, so a missing server
// cannot pass for a green run.
func TestClickHouse(t testing.TB) *ClickHouse {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := StartClickHouse(context.Background(), t.TempDir(), port)
	if err != nil {
		t.Fatalf("start ClickHouse: %v", err)
	}
	t.Cleanup(ch.Stop)
	return ch
}
