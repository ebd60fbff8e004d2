package store

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

func TestClusterSettings(t *testing.T) {
	for _, c := range []struct {
		cluster, insert string
		want            schema.Cluster
		err             string
	}{
		{"", "local", schema.Cluster{}, ""},
		{"", "", schema.Cluster{}, ""},
		{"c", "local", schema.Cluster{Name: "c"}, ""},
		{"c", "distributed", schema.Cluster{Name: "c", InsertDistributed: true}, ""},
		{"", "distributed", schema.Cluster{}, "needs CLICKHOUSE_CLUSTER"},
		{"c", "Distributed", schema.Cluster{}, "use local or distributed"},
	} {
		got, err := Config{Cluster: c.cluster, InsertTable: c.insert}.cluster()
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q, %q: error %v, want one saying %q", c.cluster, c.insert, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q, %q: %+v, %v; want %+v", c.cluster, c.insert, got, err, c.want)
		}
	}
}

// TestStoreOnCluster inserts in both modes into a cluster of two replicas:
// the rows are in the tables of the server the store talks to when Insert
// returns, and replication brings them to the other replica.
func TestStoreOnCluster(t *testing.T) {
	c := devtest.ClickHouseCluster(t, 2)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	cols := sampleColumns()
	for i, mode := range []string{InsertLocal, InsertDistributed} {
		own, other := c.Replicas[i], c.Replicas[1-i]
		cfg := Config{Config: chconn.Config{Addr: own.Addr, Database: "harbor_test", Table: "readings_" + mode, Username: "default",
			DialTimeout: 5 * time.Second}, Cluster: c.Name, InsertTable: mode}
		st, err := Open(ctx, cfg, log)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		defer st.Close()
		if err := st.Insert(ctx, cols); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		tb := st.Table()
		for _, table := range []string{tb.LocalFullName(), tb.FullName()} {
			if n := countRows(t, own.Addr, table); n != 3 {
				t.Errorf("%s: %s on %s holds %d rows right after the insert, want 3", mode, table, own.Addr, n)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for countRows(t, other.Addr, tb.LocalFullName()) != 3 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the rows did not reach %s within 30s", mode, other.Addr)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// Opening again reuses the cluster's tables.
		again, err := Open(ctx, cfg, log)
		if err != nil {
			t.Fatalf("%s: reopen: %v", mode, err)
		}
		again.Close()
	}
}

// TestDistributedInsertIsSynchronous checks that the server takes the
// setting that makes a distributed insert return only once the rows are in
// their shards. (With one shard on the server itself, as in
// TestStoreOnCluster, the rows are written locally either way.)
func TestDistributedInsertIsSynchronous(t *testing.T) {
	ch := devtest.ClickHouse(t)
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var v string
	q := "SELECT value FROM system.settings WHERE name = 'insert_distributed_sync'"
	if err := conn.QueryRow(distributedInsert(context.Background()), q).Scan(&v); err != nil || v != "1" {
		t.Fatalf("insert_distributed_sync is %q (%v), want 1", v, err)
	}
}

// countRows counts the deduplicated rows of a table on one server.
func countRows(t *testing.T, addr, table string) uint64 {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{addr}, ReadTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(context.Background(), "SELECT count() FROM "+table+" FINAL").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
