package devenv

import (
	"context"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// TestNATS starts an embedded NATS server for a test, on a free port with a
// temporary store, and shuts it down when the test ends.
func TestNATS(t testing.TB, opts ...NATSOption) *server.Server {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := StartNATS(t.TempDir(), port, opts...)
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
	return startForTest(t, "ClickHouse", StartClickHouse)
}

// TestClickHouseOn is TestClickHouse on the engine e: EngineServer (the
// installed clickhouse-server) or EngineChDB (ClickHouse 26, over HTTP).
func TestClickHouseOn(t testing.TB, e Engine) *ClickHouse {
	t.Helper()
	return startForTest(t, "ClickHouse ("+string(e)+")", func(ctx context.Context, dir string, port int) (*ClickHouse, error) {
		return StartEngine(ctx, e, dir, port)
	})
}

// TestZooKeeper starts a standalone ZooKeeper server for a test, on a free
// port with a temporary data directory, and stops it when the test ends. A
// machine without ZooKeeper fails the test; it never skips.
func TestZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	return startForTest(t, "ZooKeeper", StartZooKeeper)
}

// startForTest starts a server on a free port with a temporary directory
// and stops it when the test ends; a server that cannot start fails the
// test.
func startForTest[S interface{ Stop() }](t testing.TB, what string, start func(ctx context.Context, dir string, port int) (S, error)) S {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s, err := start(context.Background(), t.TempDir(), port)
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	t.Cleanup(s.Stop)
	return s
}

// TestClickHouseCluster starts a ClickHouse cluster named "harbor" for a
// test: ZooKeeper and the given number of clickhouse-server replicas of one
// shard, on free ports with temporary directories, and stops them when the
// test ends. A machine without ClickHouse or ZooKeeper fails the test; it
// never skips.
func TestClickHouseCluster(t testing.TB, replicas int) *ClickHouseCluster {
	t.Helper()
	c, err := StartClickHouseCluster(context.Background(), t.TempDir(), "harbor", replicas)
	if err != nil {
		t.Fatalf("start ClickHouse cluster: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}
