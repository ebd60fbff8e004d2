// Package devtest starts the real servers of package devenv for tests, on
// free ports with temporary directories, and stops them when the test
// ends; a server that cannot start fails the test, never skips it. It is
// apart from devenv so that what `make run` links holds no test code.
package devtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATS starts an embedded NATS server for a test, on a free port with a
// temporary store, and shuts it down when the test ends. Like
// devenv.StartNATS, it
// syncs each message to disk before acknowledging it unless options say
// otherwise.
func NATS(t testing.TB, options ...devenv.NATSOption) *server.Server {
	t.Helper()
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ns, err := devenv.StartNATS(t.TempDir(), port, options...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// ClickHouse starts a clickhouse-server for a test, on a free port with a
// temporary data directory, and stops it when the test ends. A machine
// without ClickHouse fails the test: it never skips, so a missing server
// cannot pass for a green run.
func ClickHouse(t testing.TB) *devenv.ClickHouse {
	t.Helper()
	return ClickHouseOn(t, devenv.EngineServer)
}

// ClickHouseOn is ClickHouse on the engine e: devenv.EngineServer (the
// installed clickhouse-server) or devenv.EngineChDB (ClickHouse 26, over
// HTTP).
func ClickHouseOn(t testing.TB, e devenv.Engine) *devenv.ClickHouse {
	t.Helper()
	return startForTest(t, "ClickHouse ("+string(e)+")", func(ctx context.Context, dir string, port int) (*devenv.ClickHouse, error) {
		return devenv.StartEngine(ctx, e, dir, port)
	})
}

// ZooKeeper starts a standalone ZooKeeper server for a test, on a free
// port with a temporary data directory, and stops it when the test ends. A
// machine without ZooKeeper fails the test; it never skips.
func ZooKeeper(t testing.TB) *devenv.ZooKeeper {
	t.Helper()
	return startForTest(t, "ZooKeeper", devenv.StartZooKeeper)
}

// startForTest starts a server on a free port with a temporary directory
// and stops it when the test ends; a server that cannot start fails the
// test.
func startForTest[S interface{ Stop() }](t testing.TB, what string, start func(ctx context.Context, dir string, port int) (S, error)) S {
	t.Helper()
	port, err := devenv.FreePort()
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

// ClickHouseCluster starts a ClickHouse cluster named "harbor" for a
// test: ZooKeeper and the given number of clickhouse-server replicas of one
// shard, on free ports with temporary directories, and stops them when the
// test ends. A machine without ClickHouse or ZooKeeper fails the test; it
// never skips.
func ClickHouseCluster(t testing.TB, replicas int) *devenv.ClickHouseCluster {
	t.Helper()
	c, err := devenv.StartClickHouseCluster(context.Background(), t.TempDir(), "harbor", replicas)
	if err != nil {
		t.Fatalf("start ClickHouse cluster: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, ch := range c.Replicas {
				logTail(t, filepath.Join(ch.LogDir(), "error.log"))
			}
		}
		c.Stop()
	})
	return c
}

// logTail logs the last lines of a server's log file, for a failed test.
func logTail(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s: %v", path, err)
		return
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	t.Logf("last lines of %s:\n%s", path, strings.Join(lines[max(0, len(lines)-40):], "\n"))
}

// WaitFor polls cond until it holds, and fails the test if it does not
// within timeout; what says what was awaited.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Service is a service a test runs in a goroutine (RunService).
type Service struct {
	// Addr is what the service gave as its address once it listened.
	Addr string
	// Stop stops it and waits for it to return; the test's end does too.
	Stop func()
}

// RunService runs a service until the test ends (or Stop is called) and
// returns once it listens: run calls listening with its address. A service
// that fails fails the test.
func RunService(t testing.TB, run func(ctx context.Context, listening func(addr string)) error) Service {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := run(ctx, func(addr string) { ready <- addr }); err != nil && ctx.Err() == nil {
			t.Errorf("service failed: %v", err)
			ready <- ""
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	select {
	case addr := <-ready:
		return Service{Addr: addr, Stop: stop}
	case <-time.After(60 * time.Second):
		t.Fatal("service did not start within 60s")
		return Service{}
	}
}

// JetStream starts an embedded NATS server for a test (see NATS) and
// returns it with a connection to it, closed when the test ends, and
// JetStream on that connection.
func JetStream(t testing.TB, options ...devenv.NATSOption) (*server.Server, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	ns := NATS(t, options...)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return ns, nc, js
}

// ParseEnv parses a configuration of type C, as the services parse theirs
// from their environment, from environment alone: a test's settings do not
// depend on the process's. A configuration that does not parse fails the
// test.
func ParseEnv[C any](t testing.TB, environment map[string]string) C {
	t.Helper()
	cfg, err := env.ParseAsWithOptions[C](env.Options{Environment: environment})
	if err != nil {
		t.Fatalf("parse %T: %v", cfg, err)
	}
	return cfg
}

// ProcessCPU is the CPU time (user and system) this process has used so
// far, for a benchmark to report CPU per operation beside its wall time.
func ProcessCPU(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
