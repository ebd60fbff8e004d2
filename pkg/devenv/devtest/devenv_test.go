package devtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

func TestClickHouseStartsStopsAndRestartsWithItsData(t *testing.T) {
	ch := ClickHouse(t)
	ctx := context.Background()
	exec := func(q string) {
		t.Helper()
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE DATABASE kept")
	ch.Kill()
	if err := ch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	exec("CREATE DATABASE IF NOT EXISTS kept") // a no-op only if the database came back
	conn, _ := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr}})
	defer conn.Close()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = 'kept'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("database after restart: %d, %v", n, err)
	}
}

// TestChDBServesClickHouse26OverHTTP runs the modern table's DDL, an insert
// of Native blocks and a FINAL read through clickhouse-go's HTTP transport
// against the chDB server, kills it, and finds the rows after a restart.
func TestChDBServesClickHouse26OverHTTP(t *testing.T) {
	ch := ClickHouseOn(t, devenv.EngineChDB)
	ctx := context.Background()
	conn, v := connect(t, ch)
	if v.Version.Major < 26 {
		t.Fatalf("chDB is ClickHouse %s, want 26 or later", v)
	}
	table, err := schema.NewTable("h", "readings", int(v.Version.Major), int(v.Version.Minor))
	if err != nil {
		t.Fatal(err)
	}
	for _, ddl := range table.SchemaSQL() {
		if err := conn.Exec(ctx, ddl); err != nil {
			t.Fatalf("%s: %v", ddl, err)
		}
	}
	insert := func(values ...float64) {
		t.Helper()
		b, err := conn.PrepareBatch(ctx, table.InsertSQL())
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if err := b.Append("h1", "ship-1", "temp", time.UnixMilli(1700000000123).UTC(), v); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Send(); err != nil {
			t.Fatal(err)
		}
	}
	insert(1.5)
	insert(2.5) // the same key again: FINAL reads one row
	read := func() (n uint64, ms int64, value float64) {
		t.Helper()
		q := "SELECT count(), max(" + table.TimeMillisSQL() + "), any(value) FROM " + table.FullName() + " FINAL"
		if err := conn.QueryRow(ctx, q).Scan(&n, &ms, &value); err != nil {
			t.Fatal(err)
		}
		return n, ms, value
	}
	if n, ms, _ := read(); n != 1 || ms != 1700000000123 {
		t.Fatalf("FINAL reads %d rows at %d ms, want 1 at 1700000000123", n, ms)
	}

	var ex *clickhouse.Exception
	if err := conn.Exec(ctx, "SELECT * FROM h.no_such_table"); !errors.As(err, &ex) || ex.Code != 60 {
		t.Fatalf("unknown table: %v, want ClickHouse exception 60", err)
	}

	ch.Kill()
	if err := ch.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := read(); n != 1 {
		t.Fatalf("after a restart FINAL reads %d rows, want 1", n)
	}
}

// connect opens a connection to ch, closed when the test ends, and
// returns it with the server's version, which it logs.
func connect(t *testing.T, ch *devenv.ClickHouse) (driver.Conn, *driver.ServerVersion) {
	t.Helper()
	conn, err := chconn.Open(chconn.Config{Addr: ch.Addr, Protocol: ch.Protocol, Username: "default", DialTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	v, err := conn.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse %s", v)
	return conn, v
}
