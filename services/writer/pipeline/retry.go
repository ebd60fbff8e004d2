package pipeline

import (
	"context"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// InsertWithRetry inserts the rows into sink, retrying with a backoff that
// doubles from retryMin up to retryMax, until the insert succeeds or ctx
// ends. onFailure, if not nil, hears of each failure and the wait after it.
func InsertWithRetry(ctx context.Context, sink Sink, c *schema.Columns, retryMin, retryMax time.Duration, onFailure func(err error, wait time.Duration)) error {
	wait := retryMin
	for {
		err := sink.Insert(ctx, c)
		if err == nil {
			return nil
		}
		if onFailure != nil {
			onFailure(err, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}
