package devtest

import (
	"context"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
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
