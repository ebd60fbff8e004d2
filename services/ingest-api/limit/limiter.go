// Package limit keeps each harbor within its rate limits, and shares them
// out among the ingest-api replicas.
package limit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rates are the limits of one harbor as a whole; 0 means no limit.
type Rates struct {
	ReadingsPerSecond float64
	RequestsPerSecond float64
}

// Decision is the answer to one request.
type Decision struct {
	Allowed bool
	// RetryAfter is when the request would fit, when it is refused.
	RetryAfter time.Duration
	// Limit and Remaining describe the readings budget (or the requests
	// budget when only that is limited), for the X-RateLimit headers; Limit
	// is 0 when the harbor has no limit.
	Limit, Remaining int
}

// Limiter holds a token bucket for readings and one for requests per harbor.
// Each replica enforces its share of a harbor's rate: the rate divided by
// the number of live replicas, so the harbor as a whole stays within it.
type Limiter struct {
	// burst is how many seconds of its rate a bucket holds.
	burst    time.Duration
	replicas func() int

	mu      sync.Mutex
	harbors map[string]*buckets
}

type buckets struct {
	rates              Rates
	share              int // replica count the buckets were sized for
	readings, requests *rate.Limiter
}

// New returns a Limiter whose buckets hold burst worth of their rate, and
// which asks replicas how many replicas share each limit.
func New(burst time.Duration, replicas func() int) *Limiter {
	return &Limiter{burst: burst, replicas: replicas, harbors: make(map[string]*buckets)}
}

// Allow takes one request of n readings from the harbor's buckets, or
// refuses it and takes nothing.
func (l *Limiter) Allow(harborID string, r Rates, n int) Decision {
	if r.ReadingsPerSecond <= 0 && r.RequestsPerSecond <= 0 {
		return Decision{Allowed: true}
	}
	now := time.Now()
	b := l.bucketsFor(harborID, r)
	req := b.requests.ReserveN(now, 1)
	rd := b.readings.ReserveN(now, n)
	delay := max(delayOf(req, now), delayOf(rd, now))
	if delay > 0 {
		req.CancelAt(now)
		rd.CancelAt(now)
	}
	return b.decision(delay, now)
}

// Admit reports, taking nothing, whether the harbor has a request and at
// least one reading left now: a request it refuses would be refused by Allow
// too, so it can be refused before its body is read.
func (l *Limiter) Admit(harborID string, r Rates) Decision {
	if r.ReadingsPerSecond <= 0 && r.RequestsPerSecond <= 0 {
		return Decision{Allowed: true}
	}
	now := time.Now()
	b := l.bucketsFor(harborID, r)
	return b.decision(max(untilOne(b.requests, now), untilOne(b.readings, now)), now)
}

// untilOne is how long until the bucket holds a whole token.
func untilOne(bucket *rate.Limiter, now time.Time) time.Duration {
	if bucket.Limit() == rate.Inf {
		return 0
	}
	missing := 1 - bucket.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / float64(bucket.Limit()) * float64(time.Second))
}

// decision is the Decision for a request that waits delay, with the
// readings budget (or the requests budget when only that is limited).
func (b *buckets) decision(delay time.Duration, now time.Time) Decision {
	d := Decision{Allowed: delay == 0, RetryAfter: delay}
	limited, rateOf := b.readings, b.rates.ReadingsPerSecond
	if rateOf <= 0 {
		limited, rateOf = b.requests, b.rates.RequestsPerSecond
	}
	d.Limit = int(rateOf)
	d.Remaining = max(0, int(limited.TokensAt(now)))
	return d
}

// delayOf is how long a reservation must wait; a request larger than the
// bucket can ever hold waits a minute: it is refused, not queued.
func delayOf(r *rate.Reservation, now time.Time) time.Duration {
	if !r.OK() {
		return time.Minute
	}
	return r.DelayFrom(now)
}

// bucketsFor returns the harbor's buckets, resized when its rates or the
// number of replicas changed.
func (l *Limiter) bucketsFor(harborID string, r Rates) *buckets {
	share := max(1, l.replicas())
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.harbors[harborID]
	if !ok || b.rates != r || b.share != share {
		// New buckets start full: a change of rates or of replicas grants
		// at most one extra burst.
		b = &buckets{rates: r, share: share,
			readings: l.bucket(r.ReadingsPerSecond / float64(share)),
			requests: l.bucket(r.RequestsPerSecond / float64(share)),
		}
		l.harbors[harborID] = b
	}
	return b
}

// bucket returns a full token bucket of the rate, unlimited for 0.
func (l *Limiter) bucket(perSecond float64) *rate.Limiter {
	if perSecond <= 0 {
		return rate.NewLimiter(rate.Inf, 0)
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, int(math.Ceil(perSecond*l.burst.Seconds()))))
}
