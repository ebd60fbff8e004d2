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
// in ClickHouse exceed STREAM_MAX_BACKLOG_BYTES.
var ErrBacklogFull = errors.New("the writers' backlog is full")

// backlogPollInterval is how often the backlog is measured. Between two
// measurements the replicas together may overshoot the limit by what they
// accept in that time, which the margin between the backlog limit and the
// stream's size absorbs.
const backlogPollInterval = 250 * time.Millisecond

// backlog measures the bytes of the stream the writers have not
// acknowledged yet, and says whether it is over the limit.
type backlog struct {
	js   jetstream.JetStream
	cfg  stream.Config
	full atomic.Bool
}

// watch measures the backlog until ctx ends.
func (b *backlog) watch(ctx context.Context, log *slog.Logger) {
	t := time.NewTicker(backlogPollInterval)
	defer t.Stop()
	for {
		n, err := b.measure(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Debug("measure backlog", "err", err) // NATS down: Publish says so itself
		case err == nil:
			if full := n > b.cfg.MaxBacklogBytes; full != b.full.Swap(full) {
				log.Warn("writers' backlog crossed the limit", "full", full, "backlog_bytes", n, "limit", b.cfg.MaxBacklogBytes)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// measure estimates the bytes above the consumer's ack floor: the stream's
// average message size times the messages not known to be written.
func (b *backlog) measure(ctx context.Context) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	s, err := b.js.Stream(ctx, b.cfg.Name)
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	state := s.CachedInfo().State
	if state.Msgs == 0 {
		return 0, nil
	}
	written := state.FirstSeq - 1 // before any writer: nothing
	c, err := s.Consumer(ctx, b.cfg.Consumer)
	switch {
	case errors.Is(err, jetstream.ErrConsumerNotFound):
	case err != nil:
		return 0, fmt.Errorf("consumer info: %w", err)
	default:
		written = max(written, c.CachedInfo().AckFloor.Stream)
	}
	unwritten := min(state.LastSeq-written, state.Msgs)
	return int64(unwritten * (state.Bytes / state.Msgs)), nil
}
