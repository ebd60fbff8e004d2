package load

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format/jsonbody"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// fakeAPI decodes every body as the real API does, remembers each reading
// it accepted, and answers 503 to every fail-th request if fail > 0.
type fakeAPI struct {
	t        *testing.T
	cfg      SendConfig
	fail     int64
	calls    atomic.Int64
	mu       sync.Mutex
	accepted map[schema.Reading]int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	if r.Header.Get("X-API-Key") != f.cfg.Key || r.URL.Path != "/api/v1/ingest/ingest/h/batch" && !f.cfg.Single {
		http.Error(w, "bad key or path "+r.URL.Path, http.StatusForbidden)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, _ := io.ReadAll(body)
	decode := jsonbody.DecodeBatch
	if f.cfg.Single {
		decode = jsonbody.DecodeReading
	}
	opt := schema.Options{Limits: schema.Limits{MaxIDLength: 100, MaxFuture: 24 * time.Hour, MaxPast: 43800 * time.Hour}, MaxLen: 10000}
	decoded, err := decode(raw, time.Now(), opt)
	readings := decoded.Readings
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if f.fail > 0 && n%f.fail == 0 {
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	f.mu.Lock()
	for _, r := range readings {
		f.accepted[r]++
	}
	f.mu.Unlock()
	w.Write([]byte(`{"status":"accepted"}`))
}

func startFake(t *testing.T, cfg *SendConfig, fail int64) *fakeAPI {
	f := &fakeAPI{t: t, cfg: *cfg, fail: fail, accepted: map[schema.Reading]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.URL = srv.URL
	return f
}

func TestSendPostsEveryReadingOnce(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  SendConfig
	}{
		{"batch", SendConfig{Harbor: "h", Key: "k", Batch: 70, Conns: 3}},
		{"gzip", SendConfig{Harbor: "h", Key: "k", Batch: 1000, Conns: 2, Gzip: true}},
		{"single", SendConfig{Harbor: "h", Key: "k", Single: true, Conns: 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := mustDataset(t, 5, 4, 2_003, DefaultStart(time.Now()), 1)
			f := startFake(t, &c.cfg, 0)
			res, err := Send(context.Background(), d, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			per := int64(c.cfg.Batch)
			if c.cfg.Single {
				per = 1
			}
			wantReq := (d.Readings + per - 1) / per
			if res.Requests != wantReq || res.Readings != d.Readings || res.Accepted != d.Readings ||
				res.Statuses[200] != wantReq || res.Non2xx != 0 || res.Errors != 0 || res.Stopped {
				t.Fatalf("result %+v, want %d requests of all %d readings accepted", res, wantReq, d.Readings)
			}
			if len(f.accepted) != int(d.Readings) {
				t.Fatalf("server got %d distinct readings, want %d", len(f.accepted), d.Readings)
			}
			for r, n := range f.accepted {
				if n != 1 {
					t.Fatalf("%+v received %d times", r, n)
				}
			}
			if res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 || res.End.Before(res.Start) || res.ReadingsPerSec() <= 0 {
				t.Fatalf("timings: %+v", res)
			}
		})
	}
}

func TestSendCountsRefusals(t *testing.T) {
	cfg := SendConfig{Harbor: "h", Key: "k", Batch: 10, Conns: 2}
	startFake(t, &cfg, 4) // every 4th request: 503
	d := mustDataset(t, 2, 2, 400, DefaultStart(time.Now()), 1)
	res, err := Send(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 40 || res.Statuses[503] != 10 || res.Statuses[200] != 30 || res.Non2xx != 10 || res.Accepted != 300 {
		t.Fatalf("result %+v", res)
	}
	if len(res.ErrorSamples) != 1 || !strings.Contains(res.ErrorSamples[0], "HTTP 503: busy") {
		t.Fatalf("error samples %q", res.ErrorSamples)
	}

	// Nothing listening: every request is an error.
	cfg.URL = "http://127.0.0.1:1"
	res, err = Send(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 40 || res.Accepted != 0 || len(res.ErrorSamples) == 0 {
		t.Fatalf("result %+v", res)
	}
}

func TestSendKeepsToTheRate(t *testing.T) {
	cfg := SendConfig{Harbor: "h", Key: "k", Batch: 50, Conns: 4, Rate: 2000}
	startFake(t, &cfg, 0)
	d := mustDataset(t, 2, 2, 1000, DefaultStart(time.Now()), 1)
	start := time.Now()
	res, err := Send(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 20 requests, the last due 950 readings after the first: 0.475s.
	if took := time.Since(start); took < 450*time.Millisecond || took > 5*time.Second {
		t.Fatalf("1000 readings at 2000/s took %s", took)
	}
	if res.Accepted != 1000 {
		t.Fatalf("result %+v", res)
	}
}

func TestSendStopsAtMaxDuration(t *testing.T) {
	cfg := SendConfig{Harbor: "h", Key: "k", Batch: 10, Conns: 2, Rate: 100, MaxDuration: 300 * time.Millisecond}
	startFake(t, &cfg, 0)
	d := mustDataset(t, 2, 2, 10_000, DefaultStart(time.Now()), 1)
	res, err := Send(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Stopped || res.Readings == 0 || res.Readings > 100 || res.Accepted != res.Readings {
		t.Fatalf("result %+v", res)
	}
}

func TestRunFailsWhenNothingIsAccepted(t *testing.T) {
	cfg := SendConfig{Harbor: "h", Key: "k", Batch: 10, Conns: 1}
	startFake(t, &cfg, 1) // every request: 503
	rep, err := Run(context.Background(), Options{Ships: 1, Cargos: 1, Readings: 30, Start: DefaultStart(time.Now()), Send: cfg})
	if err == nil || rep == nil || rep.Statuses["503"] != 3 || rep.Accepted != 0 {
		t.Fatalf("report %+v, error %v", rep, err)
	}
}
