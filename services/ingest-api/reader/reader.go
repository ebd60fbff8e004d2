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

// Reader queries the readings table, each query within its Limits.
type Reader struct {
	conn  driver.Conn
	cfg   Config
	lim   Limits
	slots slots
	// settings are every query's ClickHouse settings (Limits.settings).
	settings clickhouse.Settings
	log      *slog.Logger
	// table is set by the first query that reaches the server, which tells
	// its version and so the table's variant.
	table atomic.Pointer[schema.Table]
}

// Open configures the connection to ClickHouse. It does not wait for the
// server: the ingest API must start and accept readings while ClickHouse is
// down, so the first query that reaches ClickHouse detects its version, and
// queries fail with ErrUnavailable until then.
func Open(cfg Config, lim Limits, log *slog.Logger) (*Reader, error) {
	if err := lim.Check(); err != nil {
		return nil, err
	}
	// Refuse bad names now rather than at the first query.
	if _, err := schema.NewTable(cfg.Database, cfg.Table, 0, 0); err != nil {
		return nil, err
	}
	conn, err := chconn.Open(cfg, func(o *clickhouse.Options) {
		// A connection for every query that may run, and spares for the
		// KILL QUERY of cancelled ones.
		o.MaxOpenConns = lim.MaxConcurrent + killConns
		o.MaxIdleConns = lim.MaxConcurrent
	})
	if err != nil {
		return nil, err
	}
	r := &Reader{conn: conn, cfg: cfg, lim: lim, slots: make(slots, lim.MaxConcurrent), settings: lim.settings(), log: log}
	// A server that answers but cannot serve the protocol is refused now;
	// one that does not answer yet is looked at again by the first query,
	// so that the API starts while ClickHouse is down.
	if _, err := r.currentTable(); errors.Is(err, chconn.ErrProtocol) {
		conn.Close()
		return nil, err
	}
	return r, nil
}

// killConns are the connections kept for KILL QUERY beyond the queries'.
const killConns = 2

// Close closes the connections.
func (r *Reader) Close() error { return r.conn.Close() }

// currentTable returns the table in the variant of the server's version,
// asking the server for it until it answers.
func (r *Reader) currentTable() (schema.Table, error) {
	if t := r.table.Load(); t != nil {
		return *t, nil
	}
	v, err := r.conn.ServerVersion()
	if err := r.cfg.CheckServer(v, err); err != nil {
		r.log.Error("ClickHouse refused for reads", "err", err)
		return schema.Table{}, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if err != nil {
		return schema.Table{}, fmt.Errorf("%w at %s: %w", ErrUnavailable, r.cfg.Addr, err)
	}
	t, err := schema.NewTable(r.cfg.Database, r.cfg.Table, int(v.Version.Major), int(v.Version.Minor))
	if err != nil {
		return schema.Table{}, err
	}
	r.table.Store(&t)
	r.log.Info("ClickHouse ready for reads", "addr", r.cfg.Addr, "protocol", r.cfg.Protocol, "version", v.String(), "table", t.FullName(), "legacy_schema", t.Legacy)
	return t, nil
}

// query runs the SQL that sql builds for the table, with args bound to its
// ? placeholders, and calls scan for every row. It waits for a slot
// (ErrBusy after READ_QUEUE_TIMEOUT), bounds the query by READ_QUERY_TIMEOUT
// and the other Limits, and kills it in ClickHouse if ctx ends first.
func (r *Reader) query(ctx context.Context, sql func(schema.Table) string, args []any, scan func(driver.Rows) error) error {
	t, err := r.currentTable()
	if err != nil {
		return err
	}
	if err := r.slots.acquire(ctx, r.lim.QueueTimeout); err != nil {
		return err
	}
	defer r.slots.release()
	ctx, cancel := context.WithTimeout(ctx, r.lim.QueryTimeout)
	defer cancel()
	// clickhouse-go turns a context's deadline into a max_execution_time of
	// its own (the time left + 5s), so the query's context has none: it
	// ends when ctx does, and the query is killed then.
	id := newQueryID()
	qctx, qcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer qcancel()
	stop := context.AfterFunc(ctx, func() { qcancel(); r.kill(id) })
	defer stop() // first: a query that returned is not killed
	qctx = clickhouse.Context(qctx, clickhouse.WithQueryID(id), clickhouse.WithSettings(r.settings))
	rows, err := r.conn.Query(qctx, sql(t)+overflowClause, args...)
	if err != nil {
		return r.classify(ctx, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("scan a row: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return r.classify(ctx, err)
	}
	return nil
}

// classify wraps a failed query's error: a limit's own error, or
// ErrUnavailable unless it is the server refusing the query itself, which a
// retry would not change.
func (r *Reader) classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: the query ran past READ_QUERY_TIMEOUT (%s), or its request ended: %w", ErrUnavailable, r.lim.QueryTimeout, ctx.Err())
	}
	var ex *clickhouse.Exception
	if !errors.As(err, &ex) || ex.Code == codeUnknownTable || ex.Code == codeUnknownDatabase {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if limitErr := r.lim.limitError(ex); limitErr != nil {
		return limitErr
	}
	return fmt.Errorf("query ClickHouse: %w", err)
}
