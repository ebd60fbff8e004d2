// Package store writes batches of readings into ClickHouse.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/retry"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Config holds the ClickHouse settings of a writer: the connection shared
// with the read API, and the cluster mode.
type Config struct {
	chconn.Config
	// Cluster, when set, creates the table replicated over this cluster of
	// the servers' <remote_servers> (see schema.Cluster); empty: one server.
	Cluster string `env:"CLICKHOUSE_CLUSTER"`
	// InsertTable is where a writer inserts on a cluster: InsertLocal or
	// InsertDistributed.
	InsertTable string `env:"CLICKHOUSE_INSERT_TABLE" envDefault:"local"`
}

// Store inserts columnar batches into the readings table.
type Store struct {
	conn  driver.Conn
	table schema.Table
	log   *slog.Logger
	// Reused per insert on the legacy table, which splits time in two.
	seconds []int64
	millis  []uint16
	// Reused per insert: the rows in ClickHouse's native format.
	native nativeColumns
}

// Open connects to ClickHouse, waiting for it while it is unreachable (until
// ctx ends), detects the server's version and creates the database and table
// in the best form that version supports.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	cluster, err := cfg.cluster()
	if err != nil {
		return nil, err
	}
	conn, err := chconn.Open(cfg.Config)
	if err != nil {
		return nil, err
	}
	version, err := waitForServer(ctx, conn, cfg.Config, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	table, err := schema.NewClusterTable(cfg.Database, cfg.Table, int(version.Version.Major), int(version.Version.Minor), cluster)
	if err != nil {
		conn.Close()
		return nil, err
	}
	s := &Store{conn: conn, table: table, log: log}
	if err := s.createSchema(ctx); err != nil {
		conn.Close()
		return nil, err
	}
	log.Info("ClickHouse ready", "addr", cfg.Addr, "protocol", cfg.Protocol, "version", version.String(), "table", table.FullName(), "legacy_schema", table.Legacy,
		"cluster", cluster.Name, "insert_distributed", cluster.InsertDistributed)
	if actual, err := s.columns(ctx); err == nil {
		if problems := s.insertTarget().CompareColumns(actual); len(problems) > 0 {
			log.Error("table does not match the writer's schema: inserts will wait until it is fixed", "table", s.insertTarget().FullName(), "problems", strings.Join(problems, "; "))
		}
	}
	return s, nil
}

// createSchema creates the database and the tables where they are missing.
func (s *Store) createSchema(ctx context.Context) error {
	for _, ddl := range s.table.SchemaSQL() {
		if err := s.conn.Exec(ctx, ddl); err != nil {
			return fmt.Errorf("create ClickHouse schema: %w\n%s", err, ddl)
		}
	}
	return nil
}

// waitForServer asks the server's version until it answers or ctx ends,
// and gives up at once on a server that cannot serve the configured
// protocol (chconn.Config.CheckServer).
func waitForServer(ctx context.Context, conn driver.Conn, cfg chconn.Config, log *slog.Logger) (driver.ServerVersion, error) {
	var v *driver.ServerVersion
	err := retry.Do(ctx, retry.Policy{Min: 200 * time.Millisecond, Max: 5 * time.Second,
		GiveUp: func(err error) bool { return errors.Is(err, chconn.ErrProtocol) },
		OnRetry: func(err error, wait time.Duration) {
			log.Warn("ClickHouse not reachable yet, retrying", "addr", cfg.Addr, "protocol", cfg.Protocol, "err", err, "retry_in", wait)
		}}, func(context.Context) error {
		var err error
		v, err = conn.ServerVersion()
		if final := cfg.CheckServer(v, err); final != nil {
			return final
		}
		return err
	})
	if errors.Is(err, chconn.ErrProtocol) {
		return driver.ServerVersion{}, err
	}
	if err != nil {
		return driver.ServerVersion{}, fmt.Errorf("reach ClickHouse at %s (set CLICKHOUSE_ADDR): %w", cfg.Addr, err)
	}
	return *v, nil
}

// Table is the table this store writes to.
func (s *Store) Table() schema.Table { return s.table }

// Conn is the underlying connection, for queries beside inserts.
func (s *Store) Conn() driver.Conn { return s.conn }

// Insert writes the rows in one batch. Either the whole batch is stored or
// an error is returned; retrying a batch that did get stored only makes
// duplicates the ReplacingMergeTree collapses. It implements pipeline.Sink:
// a table that went missing is created again and the insert tried once
// more, and an error that retrying cannot cure wraps
// pipeline.ErrRowsRefused or pipeline.ErrCannotWrite.
func (s *Store) Insert(ctx context.Context, c *schema.Columns) error {
	err := s.insert(ctx, c)
	if err == nil {
		return nil
	}
	err, again := s.explain(ctx, err, true)
	if !again {
		return err
	}
	if err = s.insert(ctx, c); err != nil {
		err, _ = s.explain(ctx, err, false)
	}
	return err
}

// insert sends the rows in one batch.
func (s *Store) insert(ctx context.Context, c *schema.Columns) error {
	if s.table.Cluster.InsertDistributed {
		ctx = distributedInsert(ctx)
	}
	batch, err := s.conn.PrepareBatch(ctx, s.table.InsertSQL())
	if err != nil {
		return fmt.Errorf("prepare insert: %w", err)
	}
	columns := []any{c.HarborID, c.ShipID, c.CargoID, c.Time, c.Value}
	if s.table.Legacy {
		s.splitTime(c.Time)
		columns = []any{c.HarborID, c.ShipID, c.CargoID, unixSeconds(s.seconds), s.millis, c.Value}
	}
	if err := s.native.fill(batch, c.Len(), columns); err != nil {
		batch.Abort()
		return err
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("insert %d rows: %w", c.Len(), err)
	}
	return nil
}

// splitTime turns Unix milliseconds into the legacy table's seconds and
// milliseconds columns.
func (s *Store) splitTime(ms []int64) {
	s.seconds, s.millis = s.seconds[:0], s.millis[:0]
	for _, t := range ms {
		s.seconds = append(s.seconds, t/1000)
		s.millis = append(s.millis, uint16(t%1000))
	}
}

// Ping checks that ClickHouse answers.
func (s *Store) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

// Close closes the connection.
func (s *Store) Close() error { return s.conn.Close() }
