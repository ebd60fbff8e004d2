package load

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Counter counts the rows of some harbors in the readings table over
// ClickHouse's native protocol. The queries bind the harbor as a parameter
// and name no column but harbor_id, so they work on both table variants and
// on every server version Harbor supports (Debian's 18.16 among them).
type Counter struct {
	conn  driver.Conn
	table schema.Table
}

// OpenCounter connects to ClickHouse as cfg says, for its table.
func OpenCounter(ctx context.Context, cfg chconn.Config) (*Counter, error) {
	table, err := schema.NewTable(cfg.Database, cfg.Table, 0, 0) // the variant does not matter for counts
	if err != nil {
		return nil, err
	}
	conn, err := chconn.Open(cfg)
	if err != nil {
		return nil, err
	}
	if err := conn.Ping(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("reach ClickHouse at %s: %w", cfg.Addr, err)
	}
	return &Counter{conn: conn, table: table}, nil
}

// Close closes the connection.
func (c *Counter) Close() error { return c.conn.Close() }

// Count returns the rows of the harbors; final deduplicates them (FINAL), as
// a reader of the table would. A table that does not exist yet has none.
func (c *Counter) Count(ctx context.Context, harbors []string, final bool) (uint64, error) {
	var exists uint64
	if err := c.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = ?",
		c.table.Database, c.table.Name).Scan(&exists); err != nil {
		return 0, fmt.Errorf("look for table %s: %w", c.table.FullName(), err)
	}
	if exists == 0 {
		return 0, nil
	}
	q := "SELECT count() FROM " + c.table.FullName()
	if final {
		q += " FINAL"
	}
	var n uint64
	ids := make([]any, len(harbors))
	for i, h := range harbors {
		ids[i] = h
	}
	if err := c.conn.QueryRow(ctx, q+" WHERE harbor_id IN ?", clickhouse.GroupSet{Value: ids}).Scan(&n); err != nil {
		return 0, fmt.Errorf("count rows of harbor %s: %w", harborNames(harbors), err)
	}
	return n, nil
}

// Verified is the outcome of WaitForRows.
type Verified struct {
	Rows    uint64    // rows of the harbor (FINAL) at the last look
	Want    uint64    // rows expected
	Visible time.Time // when the last expected row was first seen
}

// WaitForRows polls until the harbors hold want rows or the timeout passes,
// and fails if they do not, or hold more.
//
// Each poll is a plain count(), cheap even on millions of rows; once that
// reaches want, a count() ... FINAL confirms that the rows are want distinct
// readings and not redelivered copies. Visible is the time of the plain
// count that the confirmation agreed with, so it is accurate to the poll
// interval.
func (c *Counter) WaitForRows(ctx context.Context, harbors []string, want uint64, timeout, poll time.Duration) (Verified, error) {
	harbor := harborNames(harbors)
	v := Verified{Want: want}
	deadline := time.Now().Add(timeout)
	for {
		seen := time.Now()
		n, err := c.Count(ctx, harbors, false)
		if err != nil {
			return v, err
		}
		if n >= want {
			if v.Rows, err = c.Count(ctx, harbors, true); err != nil {
				return v, err
			}
			switch {
			case v.Rows == want:
				v.Visible = seen
				return v, nil
			case v.Rows > want:
				return v, fmt.Errorf("harbor %s has %d rows in %s, more than the %d accepted: was it used before?",
					harbor, v.Rows, c.table.FullName(), want)
			}
		} else {
			v.Rows = n // the plain count, until a FINAL one is due
		}
		if time.Now().After(deadline) {
			if v.Rows, err = c.Count(ctx, harbors, true); err != nil {
				return v, err
			}
			return v, fmt.Errorf("harbor %s has %d rows in %s after waiting %s, want %d",
				harbor, v.Rows, c.table.FullName(), timeout, want)
		}
		select {
		case <-ctx.Done():
			return v, fmt.Errorf("wait for rows: %w", ctx.Err())
		case <-time.After(poll):
		}
	}
}

// harborNames names harbors in messages: the one, or the first and last.
func harborNames(harbors []string) string {
	if len(harbors) == 1 {
		return harbors[0]
	}
	return fmt.Sprintf("%s to %s", harbors[0], harbors[len(harbors)-1])
}
