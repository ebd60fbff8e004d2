// Package pipeline is the writer's loop: pull messages from the shared
// durable consumer, decode them into columns, insert a batch into ClickHouse
// and acknowledge its messages only after the insert succeeded.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Sink stores a batch of rows, all or nothing.
type Sink interface {
	Insert(ctx context.Context, c *schema.Columns) error
}

// Writer moves readings from the stream into a Sink.
type Writer struct {
	cfg    Config
	stream stream.Config
	js     jetstream.JetStream
	cons   jetstream.Consumer
	sink   Sink
	log    *slog.Logger
	m      *metrics

	cols  schema.Columns  // the batch being built
	held  []jetstream.Msg // its messages, acknowledged after the insert
	since time.Time       // when the batch got its first message
}

// New creates (or reuses) the durable consumer and returns a Writer on it,
// with its metrics registered on reg.
func New(ctx context.Context, js jetstream.JetStream, streamCfg stream.Config, cfg Config, sink Sink, reg prometheus.Registerer, log *slog.Logger) (*Writer, error) {
	cons, err := js.CreateOrUpdateConsumer(ctx, streamCfg.Name, ConsumerConfig(streamCfg.Consumer, cfg))
	if err != nil {
		return nil, fmt.Errorf("create consumer %s on stream %s: %w", streamCfg.Consumer, streamCfg.Name, err)
	}
	return &Writer{cfg: cfg, stream: streamCfg, js: js, cons: cons, sink: sink, log: log, m: newMetrics(reg, cons)}, nil
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

// Run pulls and writes until ctx ends, then flushes what it holds (within
// ShutdownTimeout) and returns. Messages it could not insert are left
// unacknowledged: JetStream redelivers them.
func (w *Writer) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		w.fetch(ctx)
		if w.due() {
			if err := w.flush(ctx); err != nil {
				break // ctx ended while retrying
			}
		}
	}
	if len(w.held) == 0 {
		return nil
	}
	flushCtx, cancel := context.WithTimeout(context.Background(), w.cfg.ShutdownTimeout)
	defer cancel()
	if err := w.flush(flushCtx); err != nil {
		return fmt.Errorf("last flush on shutdown (its %d messages will be redelivered): %w", len(w.held), err)
	}
	return nil
}

// fetch pulls messages until the batch is due or FlushInterval passes.
func (w *Writer) fetch(ctx context.Context) {
	wait := w.cfg.FlushInterval
	if len(w.held) > 0 {
		wait = max(time.Until(w.since.Add(w.cfg.FlushInterval)), time.Millisecond)
	}
	fetchCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	// As many messages as FetchBytes holds, never more than may be pending.
	batch, err := w.cons.Fetch(w.cfg.MaxAckPending, jetstream.FetchMaxBytes(w.cfg.FetchBytes), jetstream.FetchContext(fetchCtx))
	if err != nil {
		w.pause(ctx, "fetch failed", err)
		return
	}
	for msg := range batch.Messages() {
		w.add(ctx, msg)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		w.pause(ctx, "fetch interrupted", err)
	}
}

// add decodes a message onto the batch, or dead-letters it.
func (w *Writer) add(ctx context.Context, msg jetstream.Msg) {
	harborID, ok := w.stream.HarborID(msg.Subject())
	err := errUnknownSubject
	if ok {
		err = w.cols.AppendPayload(harborID, msg.Data())
	}
	if err != nil {
		w.deadLetter(ctx, msg, err)
		return
	}
	if len(w.held) == 0 {
		w.since = time.Now()
	}
	w.held = append(w.held, msg)
}

func (w *Writer) due() bool {
	return len(w.held) > 0 && (w.cols.Len() >= w.cfg.BatchRows || time.Since(w.since) >= w.cfg.FlushInterval)
}

// flush inserts the batch, retrying with capped backoff until it succeeds
// or ctx ends, then acknowledges its messages.
func (w *Writer) flush(ctx context.Context) error {
	start, lastProgress := time.Now(), time.Now()
	err := InsertWithRetry(ctx, w.sink, &w.cols, w.cfg.RetryMin, w.cfg.RetryMax, func(err error, wait time.Duration) {
		w.m.insertRetries.Inc()
		w.log.Warn("insert failed, will retry", "rows", w.cols.Len(), "err", err, "retry_in", wait)
		if time.Since(lastProgress) > w.cfg.AckWait/3 {
			w.extendAckWait()
			lastProgress = time.Now()
		}
		start = time.Now().Add(wait)
	})
	if err != nil {
		return err
	}
	w.m.insertDuration.Observe(time.Since(start).Seconds())
	for _, msg := range w.held {
		if err := msg.Ack(); err != nil {
			// The rows are stored; a redelivery only makes duplicates that
			// the table collapses.
			w.log.Warn("ack failed; the message will be redelivered", "err", err)
		}
	}
	w.m.batchRows.Observe(float64(w.cols.Len()))
	w.m.rowsInserted.Add(float64(w.cols.Len()))
	w.log.Debug("batch inserted", "rows", w.cols.Len(), "messages", len(w.held))
	w.cols.Reset()
	clear(w.held)
	w.held = w.held[:0]
	return nil
}

// extendAckWait tells JetStream the held messages are still being worked on,
// so they are not redelivered while ClickHouse is down.
func (w *Writer) extendAckWait() {
	for _, msg := range w.held {
		msg.InProgress()
	}
}

// pause waits a moment after a failed fetch (NATS down, say), so the loop
// does not spin.
func (w *Writer) pause(ctx context.Context, what string, err error) {
	w.log.Warn(what, "err", err)
	select {
	case <-ctx.Done():
	case <-time.After(w.cfg.RetryMin):
	}
}
