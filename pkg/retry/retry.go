// Package retry is Harbor's one retry policy for every loop that waits on a
// server: capped exponential backoff with jitter, and a classifier that
// decides whether an error is worth another try.
package retry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Backoff gives the waits between tries: a nominal wait that starts at Min
// and doubles after every wait up to Max, each wait drawn at random between
// half the nominal wait and all of it, so that many clients that failed
// together do not come back together. The zero Backoff waits 1ms at first
// and never more than 1ms.
type Backoff struct {
	Min, Max time.Duration
	next     time.Duration // nominal wait of the next Next; 0 before the first
}

// floor is the shortest nominal wait, so that a zero Min cannot spin.
const floor = time.Millisecond

// Next returns the wait before the next try and doubles the nominal wait,
// up to Max.
func (b *Backoff) Next() time.Duration {
	lo := max(b.Min, floor)
	hi := max(b.Max, lo)
	if b.next == 0 {
		b.next = lo
	}
	d := min(b.next, hi)
	b.next = min(2*d, hi)
	return d/2 + rand.N(d-d/2+1)
}

// Reset starts the waits from Min again, after a success.
func (b *Backoff) Reset() { b.next = 0 }

// Wait sleeps for Next, or returns ctx.Err() as soon as ctx ends.
func (b *Backoff) Wait(ctx context.Context) error {
	return Sleep(ctx, b.Next())
}

// Sleep waits for d, or returns ctx.Err() as soon as ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Policy is how Do retries.
type Policy struct {
	// Min and Max bound the backoff between tries (see Backoff).
	Min, Max time.Duration
	// GiveUp reports errors that another try cannot cure: Do returns them at
	// once. Nil retries every error.
	GiveUp func(error) bool
	// OnRetry, if not nil, hears of every error that is retried, with the
	// wait before the next try.
	OnRetry func(err error, wait time.Duration)
}

// Do calls op until it succeeds, fails with an error GiveUp reports, or ctx
// ends. It returns nil, that error, or an error wrapping ctx.Err() and the
// last error of op.
func Do(ctx context.Context, p Policy, op func(ctx context.Context) error) error {
	b := Backoff{Min: p.Min, Max: p.Max}
	for {
		err := op(ctx)
		if err == nil {
			return nil
		}
		if p.GiveUp != nil && p.GiveUp(err) {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w; last error: %w", ctx.Err(), err)
		}
		wait := b.Next()
		if p.OnRetry != nil {
			p.OnRetry(err, wait)
		}
		if Sleep(ctx, wait) != nil {
			return fmt.Errorf("%w; last error: %w", ctx.Err(), err)
		}
	}
}
