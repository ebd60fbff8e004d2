// Package pipeline is the writer's loop: pull messages from the shared
// durable consumer, decode them into columns, insert a batch into ClickHouse
// and acknowledge its messages only after its rows are stored, or
// dead-lettered where ClickHouse refuses them for good.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/harbor-ingest/harbor/pkg/retry"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Writer moves readings from the stream into a Sink. It fills one batch
// while the previous one is being inserted, so ClickHouse and the decoding
// work at the same time; it never holds more than these two batches.
type Writer struct {
	cfg    Config
	stream stream.Config
	js     jetstream.JetStream
	cons   jetstream.Consumer
	sink   Sink
	log    *slog.Logger
	m      *metrics

	filling  *batch
	spare    *batch     // the other batch, when no insert runs
	inserted chan error // the running insert's result; nil when none runs

	fetchBackoff retry.Backoff // between failed fetches
	blocked      blockedState
}

// New creates (or reuses) the durable consumer and returns a Writer on it,
// with its metrics registered on reg.
func New(ctx context.Context, js jetstream.JetStream, streamCfg stream.Config, cfg Config, sink Sink, reg prometheus.Registerer, log *slog.Logger) (*Writer, error) {
	cons, err := js.CreateOrUpdateConsumer(ctx, streamCfg.Name, ConsumerConfig(streamCfg.Consumer, cfg))
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on stream %s: %w", streamCfg.Consumer, streamCfg.Name, err)
	}
	return &Writer{
		cfg: cfg, stream: streamCfg, js: js, cons: cons, sink: sink, log: log, m: newMetrics(reg, cons),
		filling: &batch{}, spare: &batch{},
		fetchBackoff: retry.Backoff{Min: cfg.RetryMin, Max: cfg.RetryMax},
	}, nil
}

// ConsumerConfig is the durable pull consumer the writers share.
func ConsumerConfig(name string, cfg Config) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Harbor writers: readings into ClickHouse",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxAckPending: cfg.MaxAckPending,
		MaxDeliver:    -1,
	}
}

// Run pulls and writes until ctx ends, then inserts what it holds (within
// ShutdownTimeout) and returns. Messages it could not insert are left
// unacknowledged: JetStream redelivers them.
func (w *Writer) Run(ctx context.Context) error {
	// Inserts outlive ctx: on shutdown they get ShutdownTimeout to finish.
	insertCtx, cancelInserts := context.WithCancel(context.Background())
	defer cancelInserts()
	for ctx.Err() == nil {
		w.fetch(ctx)
		if w.due() && w.waitInsert(ctx) == nil {
			w.startInsert(insertCtx)
		}
	}
	stop := time.AfterFunc(w.cfg.ShutdownTimeout, cancelInserts)
	defer stop.Stop()
	err := w.waitInsert(context.Background())
	if err == nil && !w.filling.empty() {
		w.startInsert(insertCtx)
		err = w.waitInsert(context.Background())
	}
	if err != nil {
		return fmt.Errorf("last insert on shutdown (its messages will be redelivered): %w", err)
	}
	return nil
}

// waitInsert waits for the running insert, if any, and returns its error.
// Meanwhile it keeps the messages of the batch being filled from being
// redelivered.
func (w *Writer) waitInsert(ctx context.Context) error {
	if w.inserted == nil {
		return nil
	}
	t := time.NewTicker(w.keepAliveEvery())
	defer t.Stop()
	for {
		select {
		case err := <-w.inserted:
			w.inserted = nil
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			w.filling.keepAlive(w.keepAliveEvery())
		}
	}
}

// startInsert hands the filled batch to a goroutine that inserts and
// acknowledges it, and starts filling the spare one.
func (w *Writer) startInsert(ctx context.Context) {
	b := w.filling
	w.filling, w.spare = w.spare, nil
	done := make(chan error, 1)
	w.inserted = done
	go func() {
		err := w.insert(ctx, b)
		if err == nil {
			b.reset()
		}
		w.spare = b // read only after done is received
		done <- err
	}()
}

// maxPull bounds one pull's wait: Run sees its context end within it.
const maxPull = time.Second

// fetch pulls messages until the batch is due or FlushInterval passes.
func (w *Writer) fetch(ctx context.Context) {
	wait := w.cfg.FlushInterval
	if !w.filling.empty() {
		wait = max(time.Until(w.filling.since.Add(w.cfg.FlushInterval)), time.Millisecond)
	}
	wait = min(wait, maxPull) // so that a shutdown is noticed
	// As many messages as FetchBytes holds, never more than may be pending.
	// The server ends the pull after wait (FetchMaxWait, not a context): a
	// client that gave up on its own could miss messages already on their
	// way, which would come back only after ACK_WAIT.
	batch, err := w.cons.Fetch(w.cfg.MaxAckPending, jetstream.FetchMaxBytes(w.cfg.FetchBytes), jetstream.FetchMaxWait(wait))
	if err != nil {
		w.pause(ctx, "fetch failed", err)
		return
	}
	for msg := range batch.Messages() {
		w.add(ctx, msg)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) && !errors.Is(err, nats.ErrTimeout) {
		w.pause(ctx, "fetch interrupted", err)
		return
	}
	w.fetchBackoff.Reset()
}

// add decodes a message onto the batch, or dead-letters it (see
// AppendMessage).
func (w *Writer) add(ctx context.Context, msg jetstream.Msg) {
	if err := AppendMessage(&w.filling.cols, w.stream, w.cfg.Limits, w.cfg.ClockSkew, msg); err != nil {
		w.deadLetter(ctx, msg, err)
		return
	}
	w.filling.add(msg)
}

func (w *Writer) due() bool {
	b := w.filling
	return !b.empty() && (b.cols.Len() >= w.cfg.BatchRows || time.Since(b.since) >= w.cfg.FlushInterval)
}

// pause waits after a failed fetch (NATS down, say), longer after each
// failure in a row, so the loop does not spin.
func (w *Writer) pause(ctx context.Context, what string, err error) {
	wait := w.fetchBackoff.Next()
	w.log.Warn(what, "err", err, "retry_in", wait)
	retry.Sleep(ctx, wait)
}
