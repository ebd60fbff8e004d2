// Package publish stores readings in the JetStream stream for the ingest API.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/harbor-ingest/harbor/pkg/metric"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/ingest-api/api"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// ErrNotConnected means NATS is unreachable at the moment.
var ErrNotConnected = errors.New("not connected to NATS")

// headerRoom is the part of the server's max payload left for headers.
const headerRoom = 1024

// Publisher publishes the readings of a request as one message (or a few,
// when they exceed the server's max payload) and waits for JetStream to
// acknowledge every one of them.
type Publisher struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	cfg      stream.Config
	timeout  time.Duration
	duration prometheus.Histogram
	inFlight prometheus.Gauge
	backlog  *backlog
	// coalescer, when not nil, combines the concurrent requests of a harbor
	// that have no idempotency key into one message.
	coalescer *coalescer
}

// New returns a Publisher on the connection; timeout bounds the wait for
// acknowledgements, and coalesce says how it combines requests. Its metrics
// are registered on reg. Until ctx ends it watches the writers' backlog,
// refusing readings while it is full.
func New(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg stream.Config, coalesce CoalesceConfig, timeout time.Duration, reg prometheus.Registerer, log *slog.Logger) *Publisher {
	p := &Publisher{
		nc: nc, js: js, cfg: cfg, timeout: timeout,
		backlog:  newBacklog(js, cfg),
		duration: metric.Histogram(reg, "harbor_publish_duration_seconds", "Time from publishing a request's readings to JetStream's acknowledgement of all of them.", prometheus.ExponentialBuckets(0.0002, 2, 15)),
		inFlight: metric.Gauge(reg, "harbor_publish_in_flight", "Requests waiting for JetStream's acknowledgement."),
	}
	if coalesce.Enabled {
		p.coalescer = newCoalescer(coalesce, nc, js, cfg, timeout, reg)
	}
	go p.backlog.watch(ctx, log)
	return p
}

// Publish implements api.Publisher. Readings without an Idempotency-Key
// that fit in a combined message go through the coalescer (when enabled);
// the others make messages of their own (see idempotency.go for those with
// a key).
func (p *Publisher) Publish(ctx context.Context, harborID string, readings []schema.Reading, idem api.Idempotency) error {
	if !p.nc.IsConnected() {
		return ErrNotConnected
	}
	if p.backlog.full.Load() {
		return ErrBacklogFull
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	p.inFlight.Inc()
	defer p.inFlight.Dec()
	start := time.Now()
	if p.coalescer != nil && idem.Key == "" {
		if bound := schema.PayloadBound(readings); p.coalescer.takes(readings, bound) {
			if err := p.coalescer.publish(ctx, harborID, readings, bound); err != nil {
				return err
			}
			p.duration.Observe(time.Since(start).Seconds())
			return nil
		}
	}

	payloads := schema.EncodePayloads(readings, int(p.nc.MaxPayload())-headerRoom)
	futures := make([]jetstream.PubAckFuture, len(payloads))
	acked := 0 // futures waited for already
	for i, payload := range payloads {
		msg := &nats.Msg{Subject: p.cfg.Subject(harborID), Data: payload}
		if idem.Key != "" {
			msg.Header = idempotencyHeader(harborID, idem, i)
			if i == 1 {
				// The first chunk tells a retry from a reused key: wait for
				// it before storing any other chunk of a different request.
				if err := p.await(ctx, harborID, futures[0], idem); err != nil {
					return err
				}
				acked = 1
			}
		}
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithExpectStream(p.cfg.Name))
		if err != nil {
			return fmt.Errorf("publish to %s: %w", msg.Subject, err)
		}
		futures[i] = f
	}
	for _, f := range futures[acked:] {
		if err := p.await(ctx, harborID, f, idem); err != nil {
			return err
		}
	}
	p.duration.Observe(time.Since(start).Seconds())
	return nil
}

// await waits for the acknowledgement of one message.
func (p *Publisher) await(ctx context.Context, harborID string, f jetstream.PubAckFuture, idem api.Idempotency) error {
	select {
	case ack := <-f.Ok():
		return p.checkDuplicate(ctx, ack, idem)
	case err := <-f.Err():
		return fmt.Errorf("publish to %s: %w", p.cfg.Subject(harborID), publishError(err))
	case <-ctx.Done():
		return fmt.Errorf("wait for JetStream acknowledgement: %w", ctx.Err())
	}
}

// Ready implements api.Publisher: connected, and the stream answers.
func (p *Publisher) Ready(ctx context.Context) error {
	if !p.nc.IsConnected() {
		return ErrNotConnected
	}
	if _, err := p.js.Stream(ctx, p.cfg.Name); err != nil {
		return fmt.Errorf("stream %s: %w", p.cfg.Name, err)
	}
	return nil
}
