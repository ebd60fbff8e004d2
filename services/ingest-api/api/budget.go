package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// BodyConfig bounds the memory that request bodies take while they are read,
// decoded and published, and the requests each harbor has in flight.
type BodyConfig struct {
	// MemoryBytes is the most body memory all requests in flight may hold
	// together: the larger of what a body declares (Content-Length) and what
	// it grew to (after gzip decompression). Past it a request waits up to
	// AdmissionWait, then gets 503.
	MemoryBytes int64 `env:"BODY_MEMORY_BYTES" envDefault:"50331648"`
	// HarborMemoryBytes is the most of MemoryBytes that one harbor's
	// requests may hold; past it they wait, then get 429.
	HarborMemoryBytes int64 `env:"HARBOR_BODY_MEMORY_BYTES" envDefault:"25165824"`
	// HarborMaxInFlight is the most ingest requests of one harbor that one
	// replica serves at once; past it they wait, then get 429.
	HarborMaxInFlight int `env:"HARBOR_MAX_IN_FLIGHT" envDefault:"64"`
	// AdmissionWait is how long a request waits for room under those
	// bounds before it is refused.
	AdmissionWait time.Duration `env:"ADMISSION_WAIT" envDefault:"1s"`
}

// Check refuses bounds that could never admit a body of maxBody bytes.
func (c BodyConfig) Check(maxBody int64) error {
	switch {
	case c.HarborMemoryBytes <= maxBody: // a body of maxBody bytes is read into maxBody+1
		return fmt.Errorf("HARBOR_BODY_MEMORY_BYTES (%d) must be larger than MAX_BODY_BYTES (%d)", c.HarborMemoryBytes, maxBody)
	case c.MemoryBytes < c.HarborMemoryBytes:
		return fmt.Errorf("BODY_MEMORY_BYTES (%d) must be at least HARBOR_BODY_MEMORY_BYTES (%d)", c.MemoryBytes, c.HarborMemoryBytes)
	case c.HarborMaxInFlight < 1:
		return errors.New("HARBOR_MAX_IN_FLIGHT must be at least 1")
	case c.AdmissionWait < 0:
		return errors.New("ADMISSION_WAIT must not be negative")
	}
	return nil
}

// budget shares BodyConfig's bounds out among the requests in flight.
type budget struct {
	cfg BodyConfig

	mu   sync.Mutex
	used int64
	// harbors holds an entry for every harbor that sent a body (a few
	// words each, of authorized harbors only), kept to spare an
	// allocation per request.
	harbors map[string]*harborUse
	// freed is closed, and replaced, when memory or a slot is given back
	// while requests wait for room, to wake them.
	freed   chan struct{}
	waiting int
}

// harborUse is what one harbor holds now.
type harborUse struct {
	bytes    int64
	requests int
}

func newBudget(cfg BodyConfig) *budget {
	return &budget{cfg: cfg, harbors: make(map[string]*harborUse), freed: make(chan struct{})}
}

// grant is the part of the budget one request holds.
type grant struct {
	b     *budget
	h     *harborUse
	bytes int64
}

// errors of the budget, turned into answers by refusal.
var (
	errBodyMemory   = errors.New("body memory budget full")
	errHarborMemory = errors.New("harbor's share of the body memory budget full")
	errHarborBusy   = errors.New("harbor's requests in flight at their limit")
)

// enter takes one of the harbor's request slots and bytes of memory,
// waiting up to AdmissionWait for room.
func (b *budget) enter(ctx context.Context, harbor string, bytes int64) (grant, error) {
	b.mu.Lock()
	h := b.harbors[harbor]
	if h == nil {
		h = &harborUse{}
		b.harbors[harbor] = h
	}
	b.mu.Unlock()
	if err := b.acquire(ctx, h, 1, bytes); err != nil {
		return grant{}, err
	}
	return grant{b: b, h: h, bytes: bytes}, nil
}

// growTo raises the grant's memory to bytes, waiting up to AdmissionWait
// for room; a smaller value changes nothing.
func (g *grant) growTo(ctx context.Context, bytes int64) error {
	if bytes <= g.bytes {
		return nil
	}
	if err := g.b.acquire(ctx, g.h, 0, bytes-g.bytes); err != nil {
		return err
	}
	g.bytes = bytes
	return nil
}

// release gives the grant's slot and memory back.
func (g *grant) release() {
	b := g.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= g.bytes
	g.h.bytes -= g.bytes
	g.h.requests--
	if b.waiting > 0 {
		close(b.freed)
		b.freed = make(chan struct{})
	}
}

// acquire takes requests slots and bytes for the harbor, waiting up to
// AdmissionWait (or until ctx ends) for room, or returns why there is none.
func (b *budget) acquire(ctx context.Context, h *harborUse, requests int, bytes int64) error {
	var timer *time.Timer
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		var err error
		switch {
		case h.requests+requests > b.cfg.HarborMaxInFlight:
			err = errHarborBusy
		case h.bytes+bytes > b.cfg.HarborMemoryBytes:
			err = errHarborMemory
		case b.used+bytes > b.cfg.MemoryBytes:
			err = errBodyMemory
		}
		if err == nil {
			h.requests += requests
			h.bytes += bytes
			b.used += bytes
			return nil
		}
		if timer == nil {
			timer = time.NewTimer(b.cfg.AdmissionWait)
			defer timer.Stop()
		}
		freed := b.freed
		b.waiting++
		b.mu.Unlock()
		select {
		case <-freed:
			err = nil
		case <-timer.C:
		case <-ctx.Done():
		}
		b.mu.Lock()
		b.waiting--
		if err != nil {
			return err
		}
	}
}

// refusal is the answer to a request the budget has no room for: 429 when
// its harbor holds its whole share, 503 when the API as a whole is full;
// both with Retry-After.
func (h *handlers) refusal(c echo.Context, err error, harbor string) error {
	cfg := h.cfg.Bodies
	var status int
	var msg string
	switch {
	case errors.Is(err, errHarborBusy):
		status = http.StatusTooManyRequests
		msg = fmt.Sprintf("harbor %s already has %d requests in flight (HARBOR_MAX_IN_FLIGHT): nothing was stored, retry after the Retry-After seconds", harbor, cfg.HarborMaxInFlight)
	case errors.Is(err, errHarborMemory):
		status = http.StatusTooManyRequests
		msg = fmt.Sprintf("harbor %s's requests in flight hold its share of body memory (HARBOR_BODY_MEMORY_BYTES, %d bytes): nothing was stored, retry after the Retry-After seconds", harbor, cfg.HarborMemoryBytes)
	default:
		status = http.StatusServiceUnavailable
		msg = fmt.Sprintf("the API holds its whole budget of body memory (BODY_MEMORY_BYTES, %d bytes): nothing was stored, retry after the Retry-After seconds", cfg.MemoryBytes)
	}
	c.Response().Header().Set("Retry-After", retryAfterSeconds(h.cfg.RetryAfter.Seconds()))
	return problem(status, msg)
}
