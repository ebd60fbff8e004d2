package e2e

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/services/writer/replay"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// TestReplayWindowIntoEmptyTable posts readings before, inside and after a
// window, replays the window into an empty table, and finds exactly the
// rows live ingestion stored for that window; twice gives the same rows.
func TestReplayWindowIntoEmptyTable(t *testing.T) {
	devtest.OnEachEngine(t, testReplayWindowIntoEmptyTable)
}

func testReplayWindowIntoEmptyTable(t *testing.T, engine devenv.Engine) {
	p := startPipeline(t, options{writers: 1, engine: engine})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	post := func(harbor, key, ship string) { p.postBatch(harbor, key, batchBody(ship, start, 200, 1)) }
	post(harborA, keyA, "before")
	time.Sleep(20 * time.Millisecond)
	from := time.Now()
	for i := range 5 {
		post(harborA, keyA, fmt.Sprintf("inside-%d", i))
		post(harborB, keyB, fmt.Sprintf("inside-%d", i))
	}
	to := time.Now()
	time.Sleep(20 * time.Millisecond)
	post(harborA, keyA, "after")
	p.waitForRows(12*200, 30*time.Second)

	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		cfg := p.writer
		if err := replay.Command(context.Background(), cfg.Stream, cfg.ClickHouse, cfg.Pipeline, args, &out, testLog); err != nil {
			t.Fatalf("replay %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	window := []string{"-from", from.Format(time.RFC3339Nano), "-to", to.Format(time.RFC3339Nano), "-harbor", harborA, "-table", "backfill"}
	if out := run(append(window, "-dry-run")...); !strings.Contains(out, "5 messages, 1000 readings would be inserted") {
		t.Fatalf("dry run:\n%s", out)
	}
	if out := run(window...); !strings.Contains(out, "1000 readings inserted into harbor.backfill") {
		t.Fatalf("replay:\n%s", out)
	}
	run(window...) // again: the same rows

	backfill := p.rowsOf("backfill")
	var live []row
	for _, r := range p.rows() {
		if r.Harbor == harborA && strings.HasPrefix(r.Ship, "inside-") {
			live = append(live, r)
		}
	}
	if len(backfill) != 1000 || !reflect.DeepEqual(backfill, live) {
		t.Fatalf("backfill holds %d rows, want the %d live rows of the window", len(backfill), len(live))
	}
	if n := p.countOf("backfill", false); n != 2000 {
		t.Fatalf("%d rows before deduplication after two replays, want 2000", n)
	}

	// Everything, every harbor, up to the end of the stream.
	if out := run("-from", start.Add(-time.Hour).Format(time.RFC3339), "-table", "everything"); !strings.Contains(out, "2400 readings inserted") {
		t.Fatalf("full replay:\n%s", out)
	}
}

// rowsOf is rows() of another table in the same database.
func (p *pipeline) rowsOf(table string) []row { return p.onTable(table).rows() }

// countOf is count() of another table in the same database.
func (p *pipeline) countOf(table string, final bool) uint64 { return p.onTable(table).count(final, "") }

// onTable is the pipeline with its test view on another table of the
// database, closed when the test ends.
func (p *pipeline) onTable(table string) *pipeline {
	p.t.Helper()
	cfg := p.writer.ClickHouse
	cfg.Table = table
	st, err := store.Open(context.Background(), cfg, testLog)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { st.Close() })
	other := *p
	other.store = st
	return &other
}
