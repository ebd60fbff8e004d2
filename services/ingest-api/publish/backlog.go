package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrBacklogFull means the writers are too far behind: the readings not yet
// in ClickHouse exceed STREAM_MAX_BACKLOG_BYTES, or fill the stream up to
// STREAM_MAX_BYTES. The request was not accepted; retrying it after
// Retry-After (with the same Idempotency-Key) is safe.
var ErrBacklogFull = errors.New("the writers' backlog is full (STREAM_MAX_BACKLOG_BYTES); the writers are behind")

// backlogPollInterval is how often the backlog is measured (and written
// history trimmed). Between two measurements the replicas together may
// accept more than the limit; the stream refuses what would pass
// STREAM_MAX_BYTES, so the overshoot is answered 503 too, never dropped.
const backlogPollInterval = 250 * time.Millisecond

// backlog trims the stream's written history and says whether the writers'
// backlog is over the limit.
type backlog struct {
	trimmer *stream.Trimmer
	limit   int64
	full    atomic.Bool
}

func newBacklog(js jetstream.JetStream, cfg stream.Config) *backlog {
	return &backlog{trimmer: stream.NewTrimmer(js, cfg), limit: cfg.MaxBacklogBytes}
}

// watch trims and measures until ctx ends.
func (b *backlog) watch(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(backlogPollInterval)
	defer t.Stop()
	for {
		measureCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		u, err := b.trimmer.Trim(measureCtx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			log.Debug("trim and measure the backlog", "err", err) // NATS down: Publish says so itself
		case err == nil:
			// Above the limit, no written history is left (see Trim):
			// Bytes is the backlog itself.
			if full := u.Bytes > uint64(max(b.limit, 0)); full != b.full.Swap(full) {
				log.Warn("writers' backlog crossed the limit", "full", full, "stream_bytes", u.Bytes, "written_history_messages", u.History, "limit", b.limit)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// errCodeStoreFailed is JetStream's error code for a message it did not
// store; with the description errMaxBytes, because the stream is full.
const (
	errCodeStoreFailed jetstream.ErrorCode = 10077
	errMaxBytes                            = "maximum bytes exceeded"
)

// publishError is err, marked as ErrBacklogFull when JetStream refused the
// message because the stream is at STREAM_MAX_BYTES (DiscardNew).
func publishError(err error) error {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == errCodeStoreFailed && apiErr.Description == errMaxBytes {
		return fmt.Errorf("%w: the stream is at STREAM_MAX_BYTES (%w)", ErrBacklogFull, err)
	}
	return err
}
