package reader

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// testLimits are the default limits with a query timeout long enough that
// only a kill stops a query within a test.
var testLimits = Limits{QueryTimeout: time.Minute, MaxMemoryBytes: 1 << 30, MaxResultRows: 1000, MaxConcurrent: 4, QueueTimeout: 100 * time.Millisecond}

// openTestReader starts a clickhouse-server and opens a Reader on it.
func openTestReader(t *testing.T, lim Limits) (*Reader, *devenv.ClickHouse) {
	t.Helper()
	ch := devtest.ClickHouse(t)
	return openReader(t, ch, lim), ch
}

// openReader opens a Reader on ch.
func openReader(t *testing.T, ch *devenv.ClickHouse, lim Limits) *Reader {
	t.Helper()
	r, err := Open(Config{Addr: ch.Addr, Database: "harbor", Table: "readings", Username: "default", DialTimeout: 5 * time.Second},
		lim, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// runningReads returns the ids of the read queries ClickHouse runs now.
func runningReads(t *testing.T, r *Reader) []string {
	t.Helper()
	rows, err := r.conn.Query(context.Background(), "SELECT query_id FROM system.processes WHERE startsWith(query_id, ?)", QueryIDPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// endless is a query that runs until it is stopped.
func endless(schema.Table) string { return "SELECT count() FROM system.numbers" }

// TestCancelledQueryIsKilled: a query whose context ends is gone from
// ClickHouse soon after, although it would run for READ_QUERY_TIMEOUT
// otherwise (a minute here).
func TestCancelledQueryIsKilled(t *testing.T) {
	r, _ := openTestReader(t, testLimits)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.query(ctx, endless, nil, func(driver.Rows) error { return nil }) }()
	devtest.WaitFor(t, 30*time.Second, "the query to run", func() bool { return len(runningReads(t, r)) == 1 })
	cancel()
	if err := <-done; !errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled query: %v, want ErrUnavailable", err)
	}
	start := time.Now()
	devtest.WaitFor(t, 20*time.Second, "the cancelled query to end in ClickHouse", func() bool { return len(runningReads(t, r)) == 0 })
	t.Logf("the cancelled query was gone from system.processes %v after the cancel", time.Since(start).Round(time.Millisecond))
}

// TestQuerySettings: each query carries the limits as ClickHouse settings
// (system.settings shows a query's own).
func TestQuerySettings(t *testing.T) {
	lim := testLimits
	lim.QueryTimeout = 2500 * time.Millisecond
	r, _ := openTestReader(t, lim)
	got := map[string]string{}
	err := r.query(context.Background(), func(schema.Table) string {
		return "SELECT name, value FROM system.settings WHERE name IN ('max_execution_time', 'max_memory_usage', 'max_result_rows', 'result_overflow_mode')"
	}, nil, func(rows driver.Rows) error {
		var name, value string
		err := rows.Scan(&name, &value)
		got[name] = value
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"max_execution_time": "3", "max_memory_usage": "1073741824", "max_result_rows": "1000", "result_overflow_mode": "throw"}
	for name, value := range want {
		if got[name] != value {
			t.Errorf("%s = %q, want %q (all: %v)", name, got[name], value, got)
		}
	}
}

// TestLimitErrors: a query past a limit fails at once with the limit's
// error.
func TestLimitErrors(t *testing.T) {
	_, ch := openTestReader(t, testLimits)
	for _, tc := range []struct {
		sql  string
		lim  func(*Limits)
		want error
	}{
		{"SELECT number FROM numbers(1001)", func(*Limits) {}, ErrTooManyRows},
		{"SELECT number FROM numbers(10000000) GROUP BY number LIMIT 1", func(l *Limits) { l.MaxMemoryBytes = 1 << 20 }, ErrTooMuchMemory},
		{"SELECT count() FROM system.numbers", func(l *Limits) { l.QueryTimeout = time.Second }, ErrUnavailable},
	} {
		lim := testLimits
		tc.lim(&lim)
		r := openReader(t, ch, lim)
		err := r.query(context.Background(), func(schema.Table) string { return tc.sql }, nil, func(driver.Rows) error { return nil })
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.sql, err, tc.want)
		}
	}
}

// TestSlots: past the bound, a query waits for a slot up to the queue
// timeout, then gets ErrBusy.
func TestSlots(t *testing.T) {
	s := make(slots, 1)
	ctx := context.Background()
	if err := s.acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.acquire(ctx, 0); !errors.Is(err, ErrBusy) {
		t.Errorf("no wait, full: %v, want ErrBusy", err)
	}
	if err := s.acquire(ctx, 20*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Errorf("short wait, full: %v, want ErrBusy", err)
	}
	go func() { time.Sleep(10 * time.Millisecond); s.release() }()
	if err := s.acquire(ctx, time.Minute); err != nil {
		t.Errorf("a slot freed while waiting: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.acquire(cancelled, time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled while waiting: %v, want ErrUnavailable", err)
	}
}

// TestOpenRefusesHTTPToAnOldServer: the read API, like the writers, refuses
// at start a server that cannot serve CLICKHOUSE_PROTOCOL=http (Debian's
// 18.16 answers clickhouse-go's HTTP handshake 404), saying what to do;
// a server that is down does not keep it from starting.
func TestOpenRefusesHTTPToAnOldServer(t *testing.T) {
	ch := devtest.ClickHouse(t)
	quiet := slog.New(slog.DiscardHandler)
	cfg := Config{Addr: ch.HTTPAddr, Protocol: chconn.ProtocolHTTP, Database: "harbor", Table: "readings", Username: "default", DialTimeout: 5 * time.Second}
	r, err := Open(cfg, testLimits, quiet)
	if err == nil {
		r.Close()
		t.Fatal("the reader opened over HTTP on an old server (is the installed clickhouse-server not Debian's 18.16?)")
	}
	if !errors.Is(err, chconn.ErrProtocol) || !strings.Contains(err.Error(), "CLICKHOUSE_PROTOCOL=native") {
		t.Fatalf("Open: %v; want ErrProtocol naming CLICKHOUSE_PROTOCOL=native", err)
	}
	ch.Kill() // at once: a stop waits 10 s for the client's idle HTTP connection
	down, err := Open(cfg, testLimits, quiet)
	if err != nil {
		t.Fatalf("the reader does not open while ClickHouse is down: %v", err)
	}
	down.Close()
}
