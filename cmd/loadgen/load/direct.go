package load

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// DirectConfig says how to insert a data set straight into ClickHouse.
type DirectConfig struct {
	// Store is where to: the same settings a writer has. The table is
	// created, in the variant the server supports, if it is missing.
	Store store.Config
	// Harbor is the harbor_id of the rows; use one that pipeline runs do not
	// (loadgen uses "direct-<harbor>").
	Harbor string
	// BatchRows is the rows of one insert; the writer's default is 100,000.
	BatchRows int
	// Inserters is how many inserts run at once, each on its own connection.
	Inserters int
}

// DirectResult is what a direct insert did.
type DirectResult struct {
	Rows    int64
	Inserts int64
	Legacy  bool // the table is the variant for servers before 20.1
	Latency Latencies
	// Start is when the first insert began, End when the last ended.
	Start, End time.Time
}

// Elapsed is the length of the insert phase.
func (r *DirectResult) Elapsed() time.Duration { return r.End.Sub(r.Start) }

// RowsPerSec is the rows inserted per second.
func (r *DirectResult) RowsPerSec() float64 { return perSec(r.Rows, r.Elapsed()) }

// Direct inserts every reading of d into the table with the writer's own
// store, in columnar batches of BatchRows, to measure how fast the sink
// takes rows without the API and the stream in front of it.
func Direct(ctx context.Context, d *Dataset, cfg DirectConfig, log *slog.Logger) (*DirectResult, error) {
	if cfg.BatchRows < 1 || cfg.Inserters < 1 {
		return nil, fmt.Errorf("direct insert needs batches of at least one row and one inserter, not %d and %d", cfg.BatchRows, cfg.Inserters)
	}
	stores := make([]*store.Store, cfg.Inserters)
	defer func() {
		for _, st := range stores {
			if st != nil {
				st.Close()
			}
		}
	}()
	for i := range stores {
		st, err := store.Open(ctx, cfg.Store, log)
		if err != nil {
			return nil, fmt.Errorf("open ClickHouse for direct inserts: %w", err)
		}
		stores[i] = st
	}
	legacy, err := tableIsLegacy(ctx, stores[0])
	if err != nil {
		return nil, err
	}

	batches := (d.Readings + int64(cfg.BatchRows) - 1) / int64(cfg.BatchRows)
	var next atomic.Int64
	tallies := make([]*tally, cfg.Inserters)
	errs := make([]error, cfg.Inserters)
	var wg sync.WaitGroup
	for w, st := range stores {
		tallies[w] = newTally()
		wg.Go(func() {
			errs[w] = insertBatches(ctx, d, st, cfg, tallies[w], &next, batches)
		})
	}
	wg.Wait()
	total := newTally()
	for _, t := range tallies {
		total.merge(t)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return &DirectResult{
		Rows: total.readings, Inserts: total.requests, Legacy: legacy,
		Latency: Summarize(total.latencies), Start: total.first, End: total.last,
	}, nil
}

// insertBatches inserts batches, taking the next from the shared counter,
// until none is left or one fails.
func insertBatches(ctx context.Context, d *Dataset, st *store.Store, cfg DirectConfig, t *tally, next *atomic.Int64, batches int64) error {
	cursor := d.NewCursor()
	cols := &schema.Columns{}
	for {
		k := next.Add(1) - 1
		if k >= batches {
			return nil
		}
		lo := k * int64(cfg.BatchRows)
		hi := min(lo+int64(cfg.BatchRows), d.Readings)
		cols.Reset()
		d.AppendColumns(cols, cursor, cfg.Harbor, lo, hi)

		start := time.Now()
		if t.first.IsZero() {
			t.first = start
		}
		if err := st.Insert(ctx, cols); err != nil {
			return fmt.Errorf("direct insert of readings %d to %d: %w", lo, hi, err)
		}
		t.last = time.Now()
		t.latencies = append(t.latencies, t.last.Sub(start))
		t.requests++
		t.readings += hi - lo
	}
}

// AppendColumns appends readings [lo, hi) of the harbor to cols, as a
// writer would after decoding them from the stream.
func (d *Dataset) AppendColumns(cols *schema.Columns, cursor *Cursor, harbor string, lo, hi int64) {
	for i := lo; i < hi; i++ {
		p := cursor.At(i)
		cols.HarborID = append(cols.HarborID, harbor)
		cols.ShipID = append(cols.ShipID, d.ShipID(p.Series))
		cols.CargoID = append(cols.CargoID, d.CargoID(p.Series))
		cols.Time = append(cols.Time, p.UnixSec(d)*1000)
		cols.Value = append(cols.Value, p.Value())
	}
}

// tableIsLegacy reads the table's columns from system.columns: the legacy
// variant has time DateTime('UTC') and time_ms UInt16, the modern one
// time DateTime64(3, 'UTC'). It fails if the table is neither, or not the
// variant the store inserts for this server, which would mean a table made
// by another version is in the way.
func tableIsLegacy(ctx context.Context, st *store.Store) (bool, error) {
	tb := st.Table()
	types, err := store.ColumnTypes(ctx, st.Conn(), tb)
	if err != nil {
		return false, err
	}
	var legacy bool
	switch {
	case strings.HasPrefix(types["time"], "DateTime64"):
		legacy = false
	case strings.HasPrefix(types["time"], "DateTime") && types["time_ms"] == "UInt16":
		legacy = true
	default:
		return false, fmt.Errorf("%s is not a readings table: its time column is %q, time_ms %q", tb.FullName(), types["time"], types["time_ms"])
	}
	if legacy != tb.Legacy {
		return false, fmt.Errorf("%s is the legacy=%v variant but this server takes legacy=%v: use another -table", tb.FullName(), legacy, tb.Legacy)
	}
	return legacy, nil
}
