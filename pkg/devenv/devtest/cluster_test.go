package devtest

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/schema"
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

// TestClusterDDLRunsOnClickHouse26 runs the cluster schema's statements on
// ClickHouse 26 (chDB configured as a replica: ZooKeeper, macros, the
// cluster): the replicated local table, registered in ZooKeeper, and the
// Distributed table over it. chDB has no distributed DDL queue, so each
// statement runs here without its ON CLUSTER clause (which the 18.16
// cluster tests run); that is as far as one chDB can take the cluster DDL.
func TestClusterDDLRunsOnClickHouse26(t *testing.T) {
	zk := ZooKeeper(t)
	ports, err := devenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	self := "127.0.0.1:" + strconv.Itoa(ports[0])
	ch, err := devenv.StartReplica(context.Background(), devenv.EngineChDB, t.TempDir(), ports[0], devenv.Replica{
		Cluster: "harbor", ZooKeeper: zk.Addr, Servers: []string{self}, Shard: "01", Name: "replica1", InterserverPort: ports[1],
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ch.Stop)
	ctx := context.Background()
	conn, v := connect(t, ch)
	table, err := schema.NewClusterTable("harbor", "readings", int(v.Version.Major), int(v.Version.Minor), schema.Cluster{Name: "harbor"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ddl := range table.SchemaSQL() {
		local := strings.Replace(ddl, " ON CLUSTER `harbor`", "", 1)
		if local == ddl {
			t.Fatalf("no ON CLUSTER clause in %s", ddl)
		}
		if err := conn.Exec(ctx, local); err != nil {
			t.Fatalf("%s: %v", local, err)
		}
	}
	var path, engine string
	if err := conn.QueryRow(ctx, "SELECT zookeeper_path, engine FROM system.replicas WHERE database = 'harbor' AND table = ?", table.LocalName()).Scan(&path, &engine); err != nil {
		t.Fatal(err)
	}
	if path != "/clickhouse/tables/01/harbor/readings_local" || engine != "ReplicatedReplacingMergeTree" {
		t.Fatalf("the local table is %s at %q", engine, path)
	}
	var distributed string
	if err := conn.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = 'harbor' AND name = ?", table.Name).Scan(&distributed); err != nil || distributed != "Distributed" {
		t.Fatalf("the readers' table is %q, %v; want Distributed", distributed, err)
	}
	var warnings uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.warnings").Scan(&warnings); err != nil || warnings != 0 {
		t.Fatalf("ClickHouse 26 warns %d times (%v)", warnings, err)
	}
}
