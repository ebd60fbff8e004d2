package load

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// SendConfig says how to post a data set to the ingest API.
type SendConfig struct {
	// URL is the API's base URL, e.g. http://127.0.0.1:8080.
	URL    string
	Harbor string
	Key    string // the X-API-Key of every request
	// Harbors, above 1, spreads the requests over that many harbors in
	// turn: request k goes to harbor "<Harbor>-<k mod Harbors>" with key
	// "<Key>-<k mod Harbors>".
	Harbors int
	// Single posts one reading per request to the single-reading endpoint;
	// otherwise Batch readings go in each request to the batch endpoint.
	Single bool
	Batch  int
	// Format is the body format of the batches: JSON (the default, ""),
	// NDJSON or CSV to the batch endpoint, or InfluxDB line protocol to the
	// InfluxDB 2 write endpoint (/api/v2/write).
	Format Format
	// Conns is the number of connections, each used by one goroutine that
	// sends a request and waits for its answer before the next.
	Conns int
	Gzip  bool // compress bodies (Content-Encoding: gzip)
	// Rate is the target in readings per second over all connections,
	// spread evenly: request k is not sent before its first reading's due
	// time. 0 sends as fast as the answers come.
	Rate float64
	// Timeout bounds each request; MaxDuration, if not 0, stops handing out
	// requests once the send phase has lasted that long.
	Timeout     time.Duration
	MaxDuration time.Duration
	// Progress, if not nil, gets a line every ProgressEvery.
	Progress      io.Writer
	ProgressEvery time.Duration
}

// SendResult is what a send phase did.
type SendResult struct {
	Requests int64 // requests sent, answered or not
	Readings int64 // readings in the requests sent
	Accepted int64 // readings in requests answered 200: stored, by the API's contract
	Bytes    int64 // request bodies as sent
	Errors   int64 // requests that got no answer (connection error, timeout)
	Non2xx   int64
	Statuses map[int]int64
	Latency  Latencies
	// Start is when the first request was sent, End when the last answer
	// (or error) came back.
	Start, End   time.Time
	ErrorSamples []string // a few distinct errors and non-2xx answers
	// Stopped is set when MaxDuration or the context ended the phase
	// before every reading was sent.
	Stopped bool
}

// Elapsed is the length of the send phase.
func (r *SendResult) Elapsed() time.Duration { return r.End.Sub(r.Start) }

// ReadingsPerSec is the readings sent per second of the send phase.
func (r *SendResult) ReadingsPerSec() float64 { return perSec(r.Readings, r.Elapsed()) }

// RequestsPerSec is the requests sent per second of the send phase.
func (r *SendResult) RequestsPerSec() float64 { return perSec(r.Requests, r.Elapsed()) }

func perSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Endpoint is the URL requests of cfg go to (the first harbor's, when
// they are spread).
func (cfg *SendConfig) Endpoint() string { return cfg.endpoints()[0] }

// endpoints are the URLs of the harbors in turn.
func (cfg *SendConfig) endpoints() []string {
	var urls []string
	for _, h := range cfg.HarborIDs() {
		base := strings.TrimRight(cfg.URL, "/")
		u := base + "/api/v1/ingest/ingest/" + h
		switch {
		case cfg.Format == LineProtocol:
			u = base + "/api/v2/write?bucket=" + h + "&precision=s"
		case !cfg.Single:
			u += "/batch"
		}
		urls = append(urls, u)
	}
	return urls
}

// keys are the API keys of the harbors in turn.
func (cfg *SendConfig) keys() []string { return spread(cfg.Key, cfg.Harbors) }

// HarborIDs are the harbors the requests go to, in turn.
func (cfg *SendConfig) HarborIDs() []string { return spread(cfg.Harbor, cfg.Harbors) }

// spread is name itself, or for n above 1 the names "<name>-0" to
// "<name>-<n-1>".
func spread(name string, n int) []string {
	if n <= 1 {
		return []string{name}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = name + "-" + strconv.Itoa(i)
	}
	return names
}

func (cfg *SendConfig) check() error {
	switch {
	case cfg.Conns < 1:
		return fmt.Errorf("need at least one connection, not %d", cfg.Conns)
	case !cfg.Single && cfg.Batch < 1:
		return fmt.Errorf("batch size must be at least 1, not %d", cfg.Batch)
	case cfg.Rate < 0:
		return fmt.Errorf("rate must not be negative: %v", cfg.Rate)
	case cfg.Harbors < 0:
		return fmt.Errorf("harbors must not be negative: %d", cfg.Harbors)
	}
	return nil
}

// Send posts every reading of d to the API as cfg says and reports what
// happened. Requests are not retried: a reading whose request failed is
// counted as sent and not accepted. The error is only for a configuration
// that cannot work; failed requests are in the result.
func Send(ctx context.Context, d *Dataset, cfg SendConfig) (*SendResult, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	perRequest := int64(cfg.Batch)
	if cfg.Single {
		perRequest = 1
	}
	host, heads, err := cfg.requestHeads()
	if err != nil {
		return nil, err
	}
	s := &sender{
		cfg: cfg, d: d, host: host, heads: heads,
		perRequest: perRequest, requests: (d.Readings + perRequest - 1) / perRequest,
		t0: time.Now(),
	}
	if cfg.MaxDuration > 0 {
		s.deadline = s.t0.Add(cfg.MaxDuration)
	}
	stopProgress := s.progress()
	tallies := make([]*tally, cfg.Conns)
	var wg sync.WaitGroup
	for w := range tallies {
		tallies[w] = newTally()
		wg.Go(func() { s.work(ctx, tallies[w]) })
	}
	wg.Wait()
	stopProgress()

	total := newTally()
	for _, t := range tallies {
		total.merge(t)
	}
	return &SendResult{
		Requests: total.requests, Readings: total.readings, Accepted: total.accepted,
		Bytes: total.bytes, Errors: total.errors, Non2xx: total.non2xx(),
		Statuses: total.statuses, Latency: Summarize(total.latencies),
		Start: total.first, End: total.last, ErrorSamples: total.errSample,
		Stopped: s.stopped.Load(),
	}, nil
}

// requestHeads are the heads of the requests to each harbor in turn, and
// the host:port they go to.
func (cfg *SendConfig) requestHeads() (host string, heads []requestHead, err error) {
	keys := cfg.keys()
	for i, u := range cfg.endpoints() {
		headers := []string{"Content-Type: " + cfg.Format.contentType(), "X-API-Key: " + keys[i]}
		if cfg.Gzip {
			headers = append(headers, "Content-Encoding: gzip")
		}
		h, head, err := newRequestHead(u, headers...)
		if err != nil {
			return "", nil, err
		}
		host, heads = h, append(heads, head)
	}
	return host, heads, nil
}

// sender is the state the workers share: which request is next.
type sender struct {
	cfg        SendConfig
	d          *Dataset
	host       string        // host:port of the API
	heads      []requestHead // of the requests to the harbors in turn
	perRequest int64
	requests   int64
	t0         time.Time
	deadline   time.Time

	next     atomic.Int64 // index of the next request to send
	done     atomic.Int64 // requests answered or failed
	doneRead atomic.Int64 // readings in them
	stopped  atomic.Bool
}

// work sends requests until none is left, then returns. Each worker has its
// own connection, encoder and buffers, reused from request to request.
func (s *sender) work(ctx context.Context, t *tally) {
	conn := &httpConn{addr: s.host, timeout: s.cfg.Timeout}
	defer conn.close()
	enc := s.d.NewEncoder()
	var buf []byte
	var zbuf bytes.Buffer
	var zw *gzip.Writer
	if s.cfg.Gzip {
		zw, _ = gzip.NewWriterLevel(&zbuf, gzip.BestSpeed)
	}
	for {
		k := s.next.Add(1) - 1
		if k >= s.requests {
			return
		}
		if ctx.Err() != nil || (!s.deadline.IsZero() && time.Now().After(s.deadline)) {
			s.stopped.Store(true)
			return
		}
		lo := k * s.perRequest
		hi := min(lo+s.perRequest, s.d.Readings)
		if s.cfg.Rate > 0 && !s.waitUntil(ctx, s.t0.Add(time.Duration(float64(lo)/s.cfg.Rate*float64(time.Second)))) {
			s.stopped.Store(true)
			return
		}
		switch {
		case s.cfg.Single:
			buf = enc.AppendReading(buf[:0], lo)
		case s.cfg.Format == LineProtocol:
			buf = enc.AppendLines(buf[:0], lo, hi)
		case s.cfg.Format == NDJSON:
			buf = enc.AppendNDJSON(buf[:0], lo, hi)
		case s.cfg.Format == CSV:
			buf = enc.AppendCSV(buf[:0], lo, hi)
		default:
			buf = enc.AppendBatch(buf[:0], lo, hi)
		}
		body := buf
		if zw != nil {
			zbuf.Reset()
			zw.Reset(&zbuf)
			zw.Write(buf) // a bytes.Buffer does not fail
			zw.Close()
			body = zbuf.Bytes()
		}
		s.post(t, conn, body, hi-lo, int(k%int64(len(s.heads))))
		s.done.Add(1)
		s.doneRead.Add(hi - lo)
	}
}

// waitUntil sleeps until due; false if the context or deadline came first.
func (s *sender) waitUntil(ctx context.Context, due time.Time) bool {
	if !s.deadline.IsZero() && due.After(s.deadline) {
		return false
	}
	wait := time.Until(due)
	if wait <= 0 {
		return true
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// post sends one request of n readings to harbor h (its index) over conn
// and records its outcome in t.
func (s *sender) post(t *tally, conn *httpConn, body []byte, n int64, h int) {
	start := time.Now()
	if t.first.IsZero() {
		t.first = start
	}
	status, answer, err := conn.post(s.heads[h], body)
	end := time.Now()

	t.last = end
	t.requests++
	t.readings += n
	t.bytes += int64(len(body))
	t.latencies = append(t.latencies, end.Sub(start))
	switch {
	case err != nil && status == 0:
		t.errors++
		t.addError(err.Error())
	case err != nil:
		t.errors++
		t.statuses[status]++
		t.addError(fmt.Sprintf("HTTP %d, reading the answer: %v", status, err))
	default:
		t.statuses[status]++
		if status == http.StatusOK || status == http.StatusNoContent && s.cfg.Format == LineProtocol {
			t.accepted += n
		} else if status < 200 || status > 299 {
			t.addError(fmt.Sprintf("HTTP %d: %s", status, bytes.TrimSpace(answer[:min(len(answer), 300)])))
		}
	}
}

// progress prints a line every ProgressEvery until the returned function is
// called.
func (s *sender) progress() (stop func()) {
	if s.cfg.Progress == nil || s.cfg.ProgressEvery <= 0 {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(s.cfg.ProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case now := <-tick.C:
				n := s.doneRead.Load()
				el := now.Sub(s.t0)
				fmt.Fprintf(s.cfg.Progress, "  %6.1fs  %d/%d requests  %d readings  %.0f readings/s\n",
					el.Seconds(), s.done.Load(), s.requests, n, perSec(n, el))
			}
		}
	})
	return func() { close(quit); wg.Wait() }
}
