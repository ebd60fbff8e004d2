package reader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
)

// Limits bound what one read query may cost, in the API and in ClickHouse.
type Limits struct {
	// QueryTimeout bounds each query: the request's context ends then, and
	// ClickHouse stops it itself (max_execution_time, in whole seconds,
	// rounded up) should the cancellation not reach it.
	QueryTimeout time.Duration `env:"READ_QUERY_TIMEOUT" envDefault:"10s"`
	// MaxMemoryBytes is ClickHouse's max_memory_usage for one query.
	MaxMemoryBytes int64 `env:"READ_MAX_MEMORY_BYTES" envDefault:"1073741824"`
	// MaxResultRows is ClickHouse's max_result_rows for one query (with
	// result_overflow_mode throw): a longer answer is refused, never cut.
	MaxResultRows int `env:"READ_MAX_RESULT_ROWS" envDefault:"100000"`
	// MaxConcurrent caps the queries one API process runs at once; a query
	// past it waits up to QueueTimeout for its turn, then gets ErrBusy.
	MaxConcurrent int           `env:"READ_MAX_CONCURRENT_QUERIES" envDefault:"8"`
	QueueTimeout  time.Duration `env:"READ_QUEUE_TIMEOUT" envDefault:"500ms"`
}

// Check refuses limits the reader cannot work with.
func (l Limits) Check() error {
	switch {
	case l.QueryTimeout <= 0:
		return errors.New("READ_QUERY_TIMEOUT must be positive")
	case l.MaxMemoryBytes < 1<<20:
		return errors.New("READ_MAX_MEMORY_BYTES must be at least 1048576 (1 MiB)")
	case l.MaxResultRows < 1:
		return errors.New("READ_MAX_RESULT_ROWS must be at least 1")
	case l.MaxConcurrent < 1:
		return errors.New("READ_MAX_CONCURRENT_QUERIES must be at least 1")
	case l.QueueTimeout < 0:
		return errors.New("READ_QUEUE_TIMEOUT must not be negative")
	}
	return nil
}

// The errors of a query that went past a limit.
var (
	// ErrBusy means READ_MAX_CONCURRENT_QUERIES queries were running for
	// all of READ_QUEUE_TIMEOUT. A retry may succeed.
	ErrBusy = errors.New("too many read queries at once")
	// ErrTooManyRows means the answer would have more than
	// READ_MAX_RESULT_ROWS rows: ask for less.
	ErrTooManyRows = errors.New("the answer has too many rows")
	// ErrTooMuchMemory means ClickHouse refused the memory the query needs
	// (READ_MAX_MEMORY_BYTES, or the server's own limits).
	ErrTooMuchMemory = errors.New("the query needs too much memory")
)

// ClickHouse's codes for a query past a limit (the same in 18.16 and
// current releases).
const (
	codeTimeoutExceeded   = 159
	codeMemoryLimit       = 241
	codeTooManyRowsOrSize = 396
)

// settings are the per-query ClickHouse settings of l.
func (l Limits) settings() clickhouse.Settings {
	return clickhouse.Settings{
		"max_execution_time": int(math.Ceil(l.QueryTimeout.Seconds())),
		"max_memory_usage":   int(l.MaxMemoryBytes),
		"max_result_rows":    l.MaxResultRows,
	}
}

// overflowClause is the SETTINGS clause every query ends with: an answer
// past max_result_rows is an error, never a silently cut page, whatever the
// server's profile says. It is in the SQL because clickhouse-go sends only
// numbers and booleans as settings to servers older than protocol revision
// 54429 (18.16 is 54412), and result_overflow_mode is a word.
const overflowClause = "\nSETTINGS result_overflow_mode = 'throw'"

// slots is a semaphore of the queries running at once.
type slots chan struct{}

// acquire takes a slot, waiting up to wait for one; release gives it back.
func (s slots) acquire(ctx context.Context, wait time.Duration) error {
	select {
	case s <- struct{}{}:
		return nil
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case s <- struct{}{}:
		return nil
	case <-timer.C:
		return fmt.Errorf("%w: %d are running (READ_MAX_CONCURRENT_QUERIES)", ErrBusy, cap(s))
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for a query slot: %w", ErrUnavailable, ctx.Err())
	}
}

func (s slots) release() { <-s }

// QueryIDPrefix starts the id of every read query, as system.processes and
// system.query_log show it.
const QueryIDPrefix = "harbor-read-"

// newQueryID returns a fresh query id.
func newQueryID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails
	return QueryIDPrefix + hex.EncodeToString(b)
}

// killTimeout bounds the KILL QUERY of a cancelled query.
const killTimeout = 5 * time.Second

// kill asks ClickHouse to stop the query with the id, from another
// connection. clickhouse-go cancels a query whose context ends by sending
// Cancel and closing the connection, which stops most queries; but a server
// notices Cancel only while it polls the connection (18.16 once ran a
// max_threads = 1 query to its end after its client left), and KILL QUERY
// stops any query at its next block.
func (r *Reader) kill(queryID string) {
	ctx, cancel := context.WithTimeout(context.Background(), killTimeout)
	defer cancel()
	if err := r.conn.Exec(ctx, "KILL QUERY WHERE query_id = ? ASYNC", queryID); err != nil {
		r.log.Warn("kill a cancelled read query", "query_id", queryID, "err", err)
	}
}

// limitError maps ClickHouse's refusal of a query past a limit to its
// error, or returns nil for other errors.
func (l Limits) limitError(ex *clickhouse.Exception) error {
	switch ex.Code {
	case codeTooManyRowsOrSize:
		return fmt.Errorf("%w: more than %d (READ_MAX_RESULT_ROWS): %w", ErrTooManyRows, l.MaxResultRows, ex)
	case codeMemoryLimit:
		return fmt.Errorf("%w: more than %d bytes (READ_MAX_MEMORY_BYTES) or more than the server has free: %w", ErrTooMuchMemory, l.MaxMemoryBytes, ex)
	case codeTimeoutExceeded:
		return fmt.Errorf("%w: slower than READ_QUERY_TIMEOUT (%s): %w", ErrUnavailable, l.QueryTimeout, ex)
	}
	return nil
}
