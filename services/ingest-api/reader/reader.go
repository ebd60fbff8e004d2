// Package reader answers the read API's questions from the ClickHouse
// readings table: which ships and cargos a harbor has, a cargo's readings
// (raw or downsampled) and the latest value of each cargo of a ship.
//
// It never creates or alters anything: the writers own the table. Every value
// that comes from a request is bound as a query argument, and the table's
// name comes from configuration (schema.Table), so a request cannot change
// the SQL. Reads collapse the duplicates an at-least-once pipeline leaves in
// the ReplacingMergeTree (FINAL, or a GROUP BY whose aggregate ignores them).
package reader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// ErrUnavailable means ClickHouse cannot answer now: it is unreachable, too
// slow, or the writers have not created the table yet. A retry may succeed.
var ErrUnavailable = errors.New("ClickHouse is unavailable")

// ClickHouse's codes for a missing table or database.
const (
	codeUnknownTable    = 60
	codeUnknownDatabase = 81
)

// Reader queries the readings table.
type Reader struct {
	conn driver.Conn
	cfg  Config
	log  *slog.Logger
	// table is set by the first query that reaches the server, which tells
	// its version and so the table's variant.
	table atomic.Pointer[schema.Table]
}

// Open configures the connection to ClickHouse. It does not wait for the
// server: the ingest API must start and accept readings while ClickHouse is
// down, so the first query that reaches ClickHouse detects its version, and
// queries fail with ErrUnavailable until then.
func Open(cfg Config, log *slog.Logger) (*Reader, error) {
	// Refuse bad names now rather than at the first query.
	if _, err := schema.NewTable(cfg.Database, cfg.Table, 0, 0); err != nil {
		return nil, err
	}
	conn, err := chconn.Open(cfg)
	if err != nil {
		return nil, err
	}
	return &Reader{conn: conn, cfg: cfg, log: log}, nil
}

// Close closes the connections.
func (r *Reader) Close() error { return r.conn.Close() }

// currentTable returns the table in the variant of the server's version,
// asking the server for it on first use.
func (r *Reader) currentTable() (schema.Table, error) {
	if t := r.table.Load(); t != nil {
		return *t, nil
	}
	v, err := r.conn.ServerVersion()
	if err != nil {
		return schema.Table{}, fmt.Errorf("%w at %s: %w", ErrUnavailable, r.cfg.Addr, err)
	}
	t, err := schema.NewTable(r.cfg.Database, r.cfg.Table, int(v.Version.Major), int(v.Version.Minor))
	if err != nil {
		return schema.Table{}, err
	}
	r.table.Store(&t)
	r.log.Info("ClickHouse ready for reads", "addr", r.cfg.Addr, "version", v.String(), "table", t.FullName(), "legacy_schema", t.Legacy)
	return t, nil
}

// query runs the SQL that sql builds for the table, with args bound to its
// ? placeholders, and calls scan for every row.
func (r *Reader) query(ctx context.Context, sql func(schema.Table) string, args []any, scan func(driver.Rows) error) error {
	t, err := r.currentTable()
	if err != nil {
		return err
	}
	rows, err := r.conn.Query(ctx, sql(t), args...)
	if err != nil {
		return classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("scan a row: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return classify(err)
	}
	return nil
}

// classify wraps a failed query's error in ErrUnavailable unless it is the
// server refusing the query itself, which a retry would not change.
func classify(err error) error {
	var ex *clickhouse.Exception
	if errors.As(err, &ex) && ex.Code != codeUnknownTable && ex.Code != codeUnknownDatabase {
		return fmt.Errorf("query ClickHouse: %w", err)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
