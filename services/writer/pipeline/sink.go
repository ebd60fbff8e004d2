package pipeline

import (
	"context"
	"errors"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Sink stores a batch of rows, all or nothing. An error that wraps
// ErrRowsRefused or ErrCannotWrite says that trying the same rows again
// cannot help; any other error is transient, and the insert is retried.
type Sink interface {
	Insert(ctx context.Context, c *schema.Columns) error
}

var (
	// ErrRowsRefused means the database refuses some of the rows for good
	// (a value it cannot take): the writer bisects the batch to find them,
	// stores the others and dead-letters these.
	ErrRowsRefused = errors.New("ClickHouse refuses these rows")
	// ErrCannotWrite means the table takes no rows until an operator acts
	// (its columns no longer match, the writer lacks permissions): the
	// writer keeps its messages, reports itself blocked and retries.
	ErrCannotWrite = errors.New("the writer cannot write")
)
