package store

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/services/writer/pipeline"
)

// testConfig is the store's configuration for ch, over the protocol it
// speaks.
func testConfig(ch *devenv.ClickHouse) Config {
	return Config{Config: chconn.Config{Addr: ch.Addr, Protocol: ch.Protocol, Database: "harbor_test", Table: "readings", Username: "default", DialTimeout: 5 * time.Second}}
}

// openTestStore opens a store on ch with testConfig, closed when the test
// ends.
func openTestStore(t testing.TB, ch *devenv.ClickHouse) *Store {
	t.Helper()
	st, err := Open(context.Background(), testConfig(ch), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func (s *Store) mustExec(t *testing.T, sql string) {
	t.Helper()
	if err := s.conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (s *Store) count(t *testing.T) uint64 {
	t.Helper()
	var n uint64
	if err := s.conn.QueryRow(context.Background(), "SELECT count() FROM "+s.table.FullName()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestStoreCreatesMissingTableAgain drops the table, then the database:
// the next insert creates them again and stores its rows.
func TestStoreCreatesMissingTableAgain(t *testing.T) {
	st := openTestStore(t, devtest.ClickHouse(t))
	ctx := context.Background()
	for i, drop := range []string{"DROP TABLE " + st.table.FullName(), "DROP DATABASE `harbor_test`"} {
		st.mustExec(t, drop)
		if err := st.Insert(ctx, sampleColumns()); err != nil {
			t.Fatalf("insert after %s: %v", drop, err)
		}
		if n := st.count(t); n != 3 {
			t.Fatalf("%d: %d rows after %s and an insert, want 3", i, n, drop)
		}
	}
}

// TestStoreSaysHowTheTableDiffers changes a column's type: inserts fail
// with ErrCannotWrite saying what differs, and work again once the column
// is changed back.
func TestStoreSaysHowTheTableDiffers(t *testing.T) {
	st := openTestStore(t, devtest.ClickHouse(t))
	ctx := context.Background()
	st.mustExec(t, "ALTER TABLE "+st.table.FullName()+" MODIFY COLUMN value String")
	err := st.Insert(ctx, sampleColumns())
	if !errors.Is(err, pipeline.ErrCannotWrite) || errors.Is(err, pipeline.ErrRowsRefused) ||
		!strings.Contains(err.Error(), "column value is String, want Float64") {
		t.Fatalf("insert into a table whose value is a String: %v", err)
	}
	st.mustExec(t, "ALTER TABLE "+st.table.FullName()+" MODIFY COLUMN value Float64")
	if err := st.Insert(ctx, sampleColumns()); err != nil {
		t.Fatalf("insert after the column was changed back: %v", err)
	}
}

// TestStoreTellsRefusedRows adds a materialized column that refuses the
// value 2 (Debian's 18.16 has no CHECK constraints): a batch with it fails
// with ErrRowsRefused and the server's message, one without it is stored.
func TestStoreTellsRefusedRows(t *testing.T) {
	st := openTestStore(t, devtest.ClickHouse(t))
	ctx := context.Background()
	st.mustExec(t, "ALTER TABLE "+st.table.FullName()+" ADD COLUMN refuse_two UInt8 MATERIALIZED throwIf(value = 2)")
	cols := sampleColumns() // values 1, 2, 3
	err := st.Insert(ctx, cols)
	if !errors.Is(err, pipeline.ErrRowsRefused) || errors.Is(err, pipeline.ErrCannotWrite) || !strings.Contains(err.Error(), "throwIf") {
		t.Fatalf("insert of a refused value: %v", err)
	}
	cols.Value[1] = 4
	if err := st.Insert(ctx, cols); err != nil {
		t.Fatalf("insert without the refused value: %v", err)
	}
}

// TestStoreOutageIsTransient: with ClickHouse down an insert fails with an
// error that is worth retrying.
func TestStoreOutageIsTransient(t *testing.T) {
	ch := devtest.ClickHouse(t)
	st := openTestStore(t, ch)
	ch.Stop()
	err := st.Insert(context.Background(), sampleColumns())
	if err == nil || errors.Is(err, pipeline.ErrRowsRefused) || errors.Is(err, pipeline.ErrCannotWrite) {
		t.Fatalf("insert with ClickHouse down: %v", err)
	}
}
