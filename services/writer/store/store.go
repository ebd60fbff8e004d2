// Package store writes batches of readings into ClickHouse.
package store

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Config holds the ClickHouse settings of a writer.
type Config struct {
	// Addr is host:port of ClickHouse's native protocol, or a comma-separated
	// list of them.
	Addr     string `env:"CLICKHOUSE_ADDR" envDefault:"127.0.0.1:9000"`
	Database string `env:"CLICKHOUSE_DATABASE" envDefault:"harbor"`
	Table    string `env:"CLICKHOUSE_TABLE" envDefault:"readings"`
	Username string `env:"CLICKHOUSE_USER" envDefault:"default"`
	Password string `env:"CLICKHOUSE_PASSWORD"`
	// TLS connects with TLS (ClickHouse's secure native port, 9440 by
	// default); TLSCAFile verifies the server with this CA instead of the
	// system's.
	TLS       bool   `env:"CLICKHOUSE_TLS" envDefault:"false"`
	TLSCAFile string `env:"CLICKHOUSE_TLS_CA_FILE"`
	// DialTimeout bounds each attempt to reach ClickHouse.
	DialTimeout time.Duration `env:"CLICKHOUSE_DIAL_TIMEOUT" envDefault:"5s"`
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
	// Reused per insert on the legacy table, which splits time in two.
	seconds []int64
	millis  []uint16
}

// Open connects to ClickHouse, waiting for it while it is unreachable (until
// ctx ends), detects the server's version and creates the database and table
// in the best form that version supports.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	tlsConfig, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	cluster, err := cfg.cluster()
	if err != nil {
		return nil, err
	}
	conn, err := clickhouse.Open(&clickhouse.Options{
		Addr:        strings.Split(cfg.Addr, ","),
		Auth:        clickhouse.Auth{Database: "default", Username: cfg.Username, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		TLS:         tlsConfig,
	})
	if err != nil {
		return nil, fmt.Errorf("configure ClickHouse client: %w", err)
	}
	version, err := waitForServer(ctx, conn, cfg.Addr, log)
	if err != nil {
		conn.Close()
		return nil, err
	}
	table, err := schema.NewClusterTable(cfg.Database, cfg.Table, int(version.Version.Major), int(version.Version.Minor), cluster)
	if err != nil {
		conn.Close()
		return nil, err
	}
	for _, ddl := range table.SchemaSQL() {
		if err := conn.Exec(ctx, ddl); err != nil {
			conn.Close()
			return nil, fmt.Errorf("create ClickHouse schema: %w\n%s", err, ddl)
		}
	}
	log.Info("ClickHouse ready", "addr", cfg.Addr, "version", version.String(), "table", table.FullName(), "legacy_schema", table.Legacy,
		"cluster", cluster.Name, "insert_distributed", cluster.InsertDistributed)
	return &Store{conn: conn, table: table}, nil
}

func waitForServer(ctx context.Context, conn driver.Conn, addr string, log *slog.Logger) (driver.ServerVersion, error) {
	wait := 200 * time.Millisecond
	for {
		v, err := conn.ServerVersion()
		if err == nil {
			return *v, nil
		}
		log.Warn("ClickHouse not reachable yet, retrying", "addr", addr, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return driver.ServerVersion{}, fmt.Errorf("reach ClickHouse at %s (set CLICKHOUSE_ADDR): %w", addr, err)
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// Table is the table this store writes to.
func (s *Store) Table() schema.Table { return s.table }

// Conn is the underlying connection, for queries beside inserts.
func (s *Store) Conn() driver.Conn { return s.conn }

// Insert writes the rows in one batch. Either the whole batch is stored or
// an error is returned; retrying a batch that did get stored only makes
// duplicates the ReplacingMergeTree collapses.
func (s *Store) Insert(ctx context.Context, c *schema.Columns) error {
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
		columns = []any{c.HarborID, c.ShipID, c.CargoID, s.seconds, s.millis, c.Value}
	}
	for i, col := range columns {
		if err := batch.Column(i).Append(col); err != nil {
			batch.Abort()
			return fmt.Errorf("append column %d: %w", i, err)
		}
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

// tlsConfig is the client TLS configuration, or nil without TLS.
func (cfg Config) tlsConfig() (*tls.Config, error) {
	if !cfg.TLS {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSCAFile != "" {
		pem, err := os.ReadFile(cfg.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("read CLICKHOUSE_TLS_CA_FILE: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CLICKHOUSE_TLS_CA_FILE %s holds no PEM certificate", cfg.TLSCAFile)
		}
	}
	return c, nil
}
