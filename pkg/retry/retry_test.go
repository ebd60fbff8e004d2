package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestBackoffDoublesWithJitterUpToMax(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: time.Second}
	for round := range 2 {
		nominal := 100 * time.Millisecond
		for i := range 8 {
			d := b.Next()
			if d < nominal/2 || d > nominal {
				t.Fatalf("round %d, wait %d: %s, want within [%s, %s]", round, i, d, nominal/2, nominal)
			}
			nominal = min(2*nominal, time.Second)
		}
		b.Reset() // and the second round starts from Min again
	}
}

func TestBackoffJitterVaries(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		b := Backoff{Min: time.Second, Max: time.Second}
		seen[b.Next()] = true
	}
	if len(seen) < 2 {
		t.Fatalf("50 first waits were all %v: no jitter", seen)
	}
}

func TestBackoffZeroValueDoesNotSpin(t *testing.T) {
	var b Backoff
	for range 3 {
		if d := b.Next(); d < floor/2 || d > floor {
			t.Fatalf("zero Backoff waits %s", d)
		}
	}
}

func TestDoRetriesUntilSuccess(t *testing.T) {
	tries, retries := 0, 0
	err := Do(context.Background(), Policy{Min: time.Microsecond, Max: time.Millisecond,
		OnRetry: func(error, time.Duration) { retries++ }},
		func(context.Context) error {
			if tries++; tries < 4 {
				return errors.New("down")
			}
			return nil
		})
	if err != nil || tries != 4 || retries != 3 {
		t.Fatalf("err %v after %d tries and %d retries; want nil, 4, 3", err, tries, retries)
	}
}

func TestDoGivesUpOnPermanentErrors(t *testing.T) {
	permanent := errors.New("refused for good")
	tries := 0
	err := Do(context.Background(), Policy{Min: time.Microsecond, Max: time.Millisecond,
		GiveUp: func(err error) bool { return errors.Is(err, permanent) }},
		func(context.Context) error {
			if tries++; tries < 3 {
				return errors.New("down")
			}
			return permanent
		})
	if !errors.Is(err, permanent) || tries != 3 {
		t.Fatalf("err %v after %d tries; want the permanent error after 3", err, tries)
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	last := errors.New("still down")
	tries := 0
	err := Do(ctx, Policy{Min: time.Hour, Max: time.Hour}, func(context.Context) error {
		tries++
		cancel() // during the first, hour-long wait
		return last
	})
	if !errors.Is(err, context.Canceled) || !errors.Is(err, last) || tries != 1 {
		t.Fatalf("err %v after %d tries; want one wrapping context.Canceled and the last error, after 1", err, tries)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on an ended context: %v", err)
	}
	if err := Sleep(context.Background(), time.Microsecond); err != nil {
		t.Fatal(err)
	}
}
