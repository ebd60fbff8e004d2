// Package publish stores readings in the JetStream stream for the ingest API.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
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
		backlog: &backlog{js: js, cfg: cfg},
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "harbor_publish_duration_seconds",
			Help:    "Time from publishing a request's readings to JetStream's acknowledgement of all of them.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 15),
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "harbor_publish_in_flight",
			Help: "Requests waiting for JetStream's acknowledgement.",
		}),
	}
	reg.MustRegister(p.duration, p.inFlight)
	if coalesce.Enabled {
		p.coalescer = newCoalescer(coalesce, nc, js, cfg, timeout, reg)
	}
	go p.backlog.watch(ctx, log)
	return p
}

// Publish implements api.Publisher. Readings without an idempotency key
// that fit in a combined message go through the coalescer (when enabled).
// The others make messages of their own; the message id of chunk i is
// "<harbor>:<idempotencyKey>:<i>", so that keys of different harbors never
// collide in the stream's duplicate window.
func (p *Publisher) Publish(ctx context.Context, harborID string, readings []schema.Reading, idempotencyKey string) error {
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
	if p.coalescer != nil && idempotencyKey == "" {
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
	for i, payload := range payloads {
		msg := &nats.Msg{Subject: p.cfg.Subject(harborID), Data: payload}
		if idempotencyKey != "" {
			msg.Header = nats.Header{jetstream.MsgIDHeader: []string{harborID + ":" + idempotencyKey + ":" + strconv.Itoa(i)}}
		}
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithExpectStream(p.cfg.Name))
		if err != nil {
			return fmt.Errorf("publish to %s: %w", msg.Subject, err)
		}
		futures[i] = f
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publish to %s: %w", p.cfg.Subject(harborID), err)
		case <-ctx.Done():
			return fmt.Errorf("wait for JetStream acknowledgement: %w", ctx.Err())
		}
	}
	p.duration.Observe(time.Since(start).Seconds())
	return nil
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
