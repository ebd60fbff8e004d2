package publish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/harbor-ingest/harbor/pkg/metric"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// CoalesceConfig holds the settings of the API's group commit: requests of
// one harbor that arrive while a message of that harbor is being stored
// (or within Linger of the first) go to the stream together, as one
// message, so that a server that syncs each message to disk does it once
// for all of them.
type CoalesceConfig struct {
	// Enabled combines the requests; off, each request is a message of its
	// own (or several, past the server's max payload).
	Enabled bool `env:"PUBLISH_COALESCE" envDefault:"true"`
	// Linger is how long the first request of a message waits for others
	// when no message of its harbor is being stored.
	Linger time.Duration `env:"PUBLISH_COALESCE_LINGER" envDefault:"500us"`
	// MaxReadings caps the readings of one combined message; a request with
	// more makes messages of its own, as it would without the coalescer:
	// its fsync is already shared by its readings, and its messages go to
	// the stream beside the others' instead of waiting for them.
	MaxReadings int `env:"PUBLISH_COALESCE_MAX_READINGS" envDefault:"1000"`
	// MaxBytes caps the payload of one combined message, and never exceeds
	// the server's max payload (less room for headers).
	MaxBytes int `env:"PUBLISH_COALESCE_MAX_BYTES" envDefault:"1048576"`
}

// Check refuses settings the coalescer cannot work with.
func (c CoalesceConfig) Check() error {
	switch {
	case !c.Enabled:
		return nil
	case c.Linger < 0 || c.Linger > time.Second:
		return errors.New("PUBLISH_COALESCE_LINGER must be between 0 and 1s")
	case c.MaxReadings < 1:
		return errors.New("PUBLISH_COALESCE_MAX_READINGS must be at least 1")
	case c.MaxBytes < 1024:
		return errors.New("PUBLISH_COALESCE_MAX_BYTES must be at least 1024")
	}
	return nil
}

// request is one request's readings waiting in the coalescer.
type request struct {
	readings []schema.Reading
	bound    int // schema.PayloadBound(readings)
	arrived  time.Time
	// done receives the outcome of the message that carries the readings.
	done chan error
	// abandoned: the request stopped waiting before its readings were
	// taken into a message; they are left out. Guarded by coalescer.mu.
	abandoned bool
}

// queue holds the requests of one harbor not yet taken into a message.
type queue struct {
	waiting []*request
}

// coalescer combines the concurrent requests of each harbor into as few
// stream messages as it can: per harbor, one message is being stored at a
// time, and the requests that arrive meanwhile make the next one. A harbor's
// queue, and the goroutine that sends its messages, exist while it has
// requests waiting.
type coalescer struct {
	cfg     CoalesceConfig
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  stream.Config
	timeout time.Duration

	requestsPerMsg prometheus.Histogram
	readingsPerMsg prometheus.Histogram
	wait           prometheus.Histogram

	mu     sync.Mutex
	queues map[string]*queue
}

func newCoalescer(cfg CoalesceConfig, nc *nats.Conn, js jetstream.JetStream, sc stream.Config, timeout time.Duration, reg prometheus.Registerer) *coalescer {
	c := &coalescer{
		cfg: cfg, nc: nc, js: js, stream: sc, timeout: timeout,
		queues:         map[string]*queue{},
		requestsPerMsg: metric.Histogram(reg, "harbor_publish_coalesced_requests", "Requests combined into one stream message by the group commit.", prometheus.ExponentialBuckets(1, 2, 11)),
		readingsPerMsg: metric.Histogram(reg, "harbor_publish_coalesced_readings", "Readings of one stream message of the group commit.", prometheus.ExponentialBuckets(1, 4, 9)),
		wait:           metric.Histogram(reg, "harbor_publish_coalesce_wait_seconds", "Time a request waited in the group commit before its message was sent.", prometheus.ExponentialBuckets(0.00005, 2, 15)),
	}
	return c
}

// maxBytes is the largest payload of a combined message.
func (c *coalescer) maxBytes() int {
	return min(c.cfg.MaxBytes, int(c.nc.MaxPayload())-headerRoom)
}

// takes reports whether the readings of one request can go through the
// coalescer: they fit in one combined message.
func (c *coalescer) takes(readings []schema.Reading, bound int) bool {
	return len(readings) <= c.cfg.MaxReadings && schema.PayloadHeaderSize+bound <= c.maxBytes()
}

// publish stores readings of harborID with those of other requests, and
// returns once the message that carries them is acknowledged, or with the
// error that message failed with, or when ctx ends.
func (c *coalescer) publish(ctx context.Context, harborID string, readings []schema.Reading, bound int) error {
	r := &request{readings: readings, bound: bound, arrived: time.Now(), done: make(chan error, 1)}
	c.mu.Lock()
	q := c.queues[harborID]
	start := q == nil
	if start {
		q = &queue{}
		c.queues[harborID] = q
	}
	q.waiting = append(q.waiting, r)
	c.mu.Unlock()
	if start {
		go c.send(harborID, q)
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		c.mu.Lock()
		r.abandoned = true
		c.mu.Unlock()
		return fmt.Errorf("wait for JetStream acknowledgement: %w", ctx.Err())
	}
}

// send sends the messages of harborID's queue, one at a time, until none
// is waiting; then it removes the queue. The first message lingers for
// others to join it.
func (c *coalescer) send(harborID string, q *queue) {
	if c.cfg.Linger > 0 {
		time.Sleep(c.cfg.Linger)
	}
	for {
		c.mu.Lock()
		group := c.take(q)
		if len(group) == 0 { // every waiting request was taken or abandoned
			delete(c.queues, harborID)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		c.store(harborID, group)
	}
}

// take removes from the queue the requests of the next message: the
// waiting ones in order of arrival, as many as the limits allow, leaving
// out the abandoned. c.mu must be held.
func (c *coalescer) take(q *queue) []*request {
	limit := c.maxBytes() - schema.PayloadHeaderSize
	readings, bytes, n := 0, 0, 0
	var group []*request
	for _, r := range q.waiting {
		if !r.abandoned {
			if len(group) > 0 && (readings+len(r.readings) > c.cfg.MaxReadings || bytes+r.bound > limit) {
				break
			}
			group = append(group, r)
			readings += len(r.readings)
			bytes += r.bound
		}
		n++
	}
	clear(q.waiting[:n])
	q.waiting = q.waiting[n:]
	return group
}

// store publishes the readings of group as one message and answers each of
// its requests with the outcome.
func (c *coalescer) store(harborID string, group []*request) {
	sent := time.Now()
	n := 0
	for _, r := range group {
		n += len(r.readings)
		c.wait.Observe(sent.Sub(r.arrived).Seconds())
	}
	readings := make([]schema.Reading, 0, n)
	for _, r := range group {
		readings = append(readings, r.readings...)
	}
	c.requestsPerMsg.Observe(float64(len(group)))
	c.readingsPerMsg.Observe(float64(n))

	// One payload, as the limits keep the readings' bound within maxBytes;
	// more only if the server's max payload shrank since (a reconnect to
	// another server).
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	subject := c.stream.Subject(harborID)
	var err error
	for _, payload := range schema.EncodePayloads(readings, c.maxBytes()) {
		if _, err = c.js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: payload}, jetstream.WithExpectStream(c.stream.Name)); err != nil {
			err = fmt.Errorf("publish to %s: %w", subject, publishError(err))
			break
		}
	}
	for _, r := range group {
		r.done <- err
	}
}
