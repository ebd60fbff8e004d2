package devtest

import (
	"context"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

func TestZooKeeperStartsAndStops(t *testing.T) {
	zk := ZooKeeper(t)
	ctx := context.Background()
	if err := zk.Serving(ctx); err != nil {
		t.Fatal(err)
	}
	zk.Stop()
	if err := zk.Serving(ctx); err == nil {
		t.Fatal("ZooKeeper still answers after Stop")
	}
}

// TestClickHouseClusterReplicates checks what the cluster is for: DDL run ON
// CLUSTER on one replica creates the table on both, and a row inserted into
// one replica reaches the other.
func TestClickHouseClusterReplicates(t *testing.T) {
	c := ClickHouseCluster(t, 2)
	ctx := context.Background()
	conns := make([]driver.Conn, len(c.Replicas))
	for i, ch := range c.Replicas {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr}, ReadTimeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns[i] = conn
		var replicas uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM system.clusters WHERE cluster = ?", c.Name).Scan(&replicas); err != nil || replicas != 2 {
			t.Fatalf("%s: cluster %s has %d servers (%v), want 2", ch.Addr, c.Name, replicas, err)
		}
	}
	for _, ddl := range []string{
		"CREATE DATABASE IF NOT EXISTS rep ON CLUSTER harbor",
		"CREATE TABLE IF NOT EXISTS rep.t ON CLUSTER harbor (k UInt64) " +
			"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/rep/t', '{replica}') ORDER BY k",
	} {
		if err := conns[0].Exec(ctx, ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	// A batch: 18.16 never answers an INSERT with inline VALUES from this client.
	batch, err := conns[1].PrepareBatch(ctx, "INSERT INTO rep.t (k)")
	if err != nil {
		t.Fatal(err)
	}
	if err := batch.Append(uint64(42)); err != nil {
		t.Fatal(err)
	}
	if err := batch.Send(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n uint64
		if err := conns[0].QueryRow(ctx, "SELECT count() FROM rep.t WHERE k = 42").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the row inserted on %s is not on %s after 30s", c.Replicas[1].Addr, c.Replicas[0].Addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
