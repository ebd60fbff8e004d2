package load

import (
	"maps"
	"slices"
	"time"
)

// Latencies summarises request latencies.
type Latencies struct {
	P50, P95, P99, Max time.Duration
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values at
// or below it. It is 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// rank = ceil(p/100 × n), computed in integers so 95% of 100 is 95.
	n := len(sorted)
	rank := int((int64(p*1000)*int64(n) + 100_000 - 1) / 100_000)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Summarize sorts the latencies in place and returns their percentiles.
func Summarize(latencies []time.Duration) Latencies {
	slices.Sort(latencies)
	if len(latencies) == 0 {
		return Latencies{}
	}
	return Latencies{
		P50: Percentile(latencies, 50),
		P95: Percentile(latencies, 95),
		P99: Percentile(latencies, 99),
		Max: latencies[len(latencies)-1],
	}
}

// tally is what one worker records; workers merge theirs at the end, so
// nothing is shared on the hot path.
type tally struct {
	requests  int64
	readings  int64 // in the requests sent
	accepted  int64 // in requests answered 200
	bytes     int64 // of the bodies, as sent (compressed with -gzip)
	errors    int64 // requests without an answer
	statuses  map[int]int64
	latencies []time.Duration
	errSample []string // the first few distinct errors
	first     time.Time
	last      time.Time
}

// maxErrorSamples is how many distinct error messages a report keeps.
const maxErrorSamples = 5

func newTally() *tally { return &tally{statuses: map[int]int64{}} }

// merge adds o into t.
func (t *tally) merge(o *tally) {
	t.requests += o.requests
	t.readings += o.readings
	t.accepted += o.accepted
	t.bytes += o.bytes
	t.errors += o.errors
	for code, n := range o.statuses {
		t.statuses[code] += n
	}
	t.latencies = append(t.latencies, o.latencies...)
	for _, e := range o.errSample {
		t.addError(e)
	}
	if !o.first.IsZero() && (t.first.IsZero() || o.first.Before(t.first)) {
		t.first = o.first
	}
	if o.last.After(t.last) {
		t.last = o.last
	}
}

func (t *tally) addError(msg string) {
	if len(t.errSample) < maxErrorSamples && !slices.Contains(t.errSample, msg) {
		t.errSample = append(t.errSample, msg)
	}
}

// non2xx counts the answers outside 200..299.
func (t *tally) non2xx() int64 {
	var n int64
	for _, code := range slices.Sorted(maps.Keys(t.statuses)) {
		if code < 200 || code > 299 {
			n += t.statuses[code]
		}
	}
	return n
}
