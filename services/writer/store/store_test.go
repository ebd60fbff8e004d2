package store

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

func TestStoreCreatesTableInsertsAndReopens(t *testing.T) {
	ch := devtest.ClickHouse(t)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	cfg := testConfig(ch)

	st, err := Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	cols := sampleColumns()
	if err := st.Insert(ctx, cols); err != nil {
		t.Fatal(err)
	}
	if err := st.Insert(ctx, cols); err != nil { // a redelivered batch
		t.Fatal(err)
	}
	st.Close()

	// Opening again reuses the table and its rows.
	st, err = Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q := "SELECT " + st.Table().TimeMillisSQL() + ", value FROM " + st.Table().FullName() + " FINAL ORDER BY 1"
	rows, err := st.Conn().Query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for ; rows.Next(); i++ {
		var ms int64
		var v float64
		if err := rows.Scan(&ms, &v); err != nil {
			t.Fatal(err)
		}
		if i >= 3 || ms != cols.Time[i] || v != cols.Value[i] {
			t.Fatalf("row %d: %d %v, want %d %v", i, ms, v, cols.Time[min(i, 2)], cols.Value[min(i, 2)])
		}
	}
	if i != 3 {
		t.Fatalf("%d rows with FINAL, want 3", i)
	}
}

// sampleColumns is a batch of three readings of one series, 1 ms, 998 ms
// and 1 ms apart.
func sampleColumns() *schema.Columns {
	return &schema.Columns{
		HarborID: []string{"h", "h", "h"},
		ShipID:   []string{"s", "s", "s"},
		CargoID:  []string{"c", "c", "c"},
		Time:     []int64{1_700_000_000_001, 1_700_000_000_999, 1_700_000_001_000},
		Value:    []float64{1, 2, 3},
	}
}

// TestHTTPToAnOldServerIsRefusedAtOnce: CLICKHOUSE_PROTOCOL=http pointed at
// a server too old for it (Debian's 18.16) fails Open at once with a
// message that says what to do, instead of waiting for a server that
// answers.
func TestHTTPToAnOldServerIsRefusedAtOnce(t *testing.T) {
	ch := devtest.ClickHouse(t)
	log := slog.New(slog.DiscardHandler)
	cfg := testConfig(ch)
	cfg.Addr, cfg.Protocol = ch.HTTPAddr, chconn.ProtocolHTTP
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	started := time.Now()
	st, err := Open(ctx, cfg, log)
	if err == nil {
		st.Close()
		t.Fatal("Open over HTTP to an old server succeeded (is the installed clickhouse-server not Debian's 18.16?)")
	}
	if !errors.Is(err, chconn.ErrProtocol) || !strings.Contains(err.Error(), "CLICKHOUSE_PROTOCOL=native") || ctx.Err() != nil {
		t.Fatalf("Open after %s: %v; want ErrProtocol at once, naming CLICKHOUSE_PROTOCOL=native", time.Since(started), err)
	}
	t.Log(err)
	ch.Kill() // at once: a stop waits 10 s for the client's idle HTTP connection
}
