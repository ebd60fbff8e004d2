package e2e

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// TestClickHouseClusterStoresOnEveryReplica runs the pipeline against a
// ClickHouse cluster of one shard with two replicas and ZooKeeper, once per
// CLICKHOUSE_INSERT_TABLE: the writer creates the replicated tables ON
// CLUSTER when it starts, readings posted over HTTP reach the local table of
// both replicas and read the same through the Distributed table on both,
// and a second writer, started against the existing tables on the other
// replica, adds its readings the same way.
func TestClickHouseClusterStoresOnEveryReplica(t *testing.T) {
	c := devtest.ClickHouseCluster(t, 2)
	for _, mode := range []string{store.InsertLocal, store.InsertDistributed} {
		t.Run(mode, func(t *testing.T) {
			p := startPipeline(t, options{noCH: true, environment: map[string]string{
				"CLICKHOUSE_ADDR":         c.Replicas[0].Addr,
				"CLICKHOUSE_CLUSTER":      c.Name,
				"CLICKHOUSE_INSERT_TABLE": mode,
				"CLICKHOUSE_TABLE":        "readings_" + mode,
			}})
			start := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
			var want []row
			for i, replica := range c.Replicas {
				// The first writer creates the tables, the second finds them.
				p.writer.ClickHouse.Addr = replica.Addr
				stopWriter := p.startWriter()
				ship := fmt.Sprintf("ship-%d", i+1)
				p.postBatch(harborA, keyA, batchBody(ship, start, 50, 0))
				for j := range 50 {
					want = append(want, row{harborA, ship, "temp", start.Add(time.Duration(j) * time.Second).UnixMilli(), float64(j)})
				}
				p.waitUntilWritten()
				stopWriter()
			}

			// Only now does the test open its own view of the tables (the
			// writer made them), on each replica with the writer's settings.
			views := make([]*pipeline, len(c.Replicas))
			for i, replica := range c.Replicas {
				p.writer.ClickHouse.Addr = replica.Addr
				views[i] = p.onTable(p.writer.ClickHouse.Table)
				views[i].checkClusterTables()
			}
			// Replication is asynchronous: wait for both local tables.
			fingerprints := map[string]tableFingerprint{}
			devtest.WaitFor(t, time.Minute, "the rows on every replica", func() bool {
				complete := true
				for i, v := range views {
					tb := v.store.Table()
					for _, table := range []string{tb.LocalFullName(), tb.FullName()} {
						f := v.fingerprint(table)
						fingerprints[fmt.Sprintf("replica %d: %s", i+1, table)] = f
						complete = complete && f.Rows == uint64(len(want))
					}
				}
				return complete
			})
			for _, f := range fingerprints {
				if f != fingerprints["replica 1: "+views[0].store.Table().FullName()] {
					t.Fatalf("the replicas' tables differ: %+v", fingerprints)
				}
			}
			for i, v := range views {
				if got := v.rows(); !reflect.DeepEqual(got, want) {
					t.Fatalf("replica %d's Distributed table holds\n%+v\nwant\n%+v", i+1, got, want)
				}
			}
		})
	}
}

// waitUntilWritten waits until the writers have acknowledged every message
// of the stream, that is stored its readings.
func (p *pipeline) waitUntilWritten() {
	p.t.Helper()
	// A writer makes the consumer once it has made the tables.
	devtest.WaitFor(p.t, time.Minute, "the writer's consumer", func() bool { return p.streamInfo().State.Consumers > 0 })
	consumer := p.consumer()
	devtest.WaitFor(p.t, time.Minute, "the writer to store every message", func() bool {
		info, err := consumer.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}

// checkClusterTables checks the engines of the view's server's tables: the
// rows in a replicated local table, and the Distributed table over it.
func (p *pipeline) checkClusterTables() {
	p.t.Helper()
	tb := p.store.Table()
	for name, want := range map[string]string{tb.LocalName(): "ReplicatedReplacingMergeTree", tb.Name: "Distributed"} {
		var engine string
		err := p.store.Conn().QueryRow(context.Background(), "SELECT engine FROM system.tables WHERE database = ? AND name = ?", tb.Database, name).Scan(&engine)
		if err != nil || engine != want {
			p.t.Fatalf("table %s.%s: engine %q (%v), want %s", tb.Database, name, engine, err, want)
		}
	}
}

// tableFingerprint sums up a table's deduplicated rows: how many, and an
// order-independent hash of their contents.
type tableFingerprint struct {
	Rows, Hash uint64
}

// fingerprint reads the fingerprint of a table of the view's server.
func (p *pipeline) fingerprint(table string) tableFingerprint {
	p.t.Helper()
	q := "SELECT count(), sum(cityHash64(harbor_id, ship_id, cargo_id, " + p.store.Table().TimeMillisSQL() + ", value)) FROM " + table + " FINAL"
	var f tableFingerprint
	if err := p.store.Conn().QueryRow(context.Background(), q).Scan(&f.Rows, &f.Hash); err != nil {
		p.t.Fatal(err)
	}
	return f
}
