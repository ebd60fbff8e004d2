package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
	"github.com/harbor-ingest/harbor/services/writer/store"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Keys every test pipeline accepts.
const (
	keyA    = "key-for-harbor-a"
	keyB    = "key-for-harbor-b"
	harborA = "harbor-a"
	harborB = "harbor-b"
)

var testLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// pipeline is a running Harbor: NATS, ClickHouse (unless started without),
// one ingest API and some writers.
type pipeline struct {
	t        *testing.T
	nats     *server.Server
	natsDir  string // the store, kept across restarts
	natsPort int
	ch       *devenv.ClickHouse
	url      string // of the API
	ingest   ingest.Config
	writer   writer.Config
	store    *store.Store      // the test's own view of the table
	env      map[string]string // the settings it was started with
}

// options change the settings of a test pipeline before it starts.
type options struct {
	writers int
	noCH    bool
	// engine is the ClickHouse to start: devenv.EngineServer (the zero
	// value: the installed clickhouse-server, Debian's 18.16 here) or
	// devenv.EngineChDB (ClickHouse 26, reached over HTTP). Tests on both
	// run through devtest.OnEachEngine, as subtests Legacy and Modern.
	engine      devenv.Engine
	natsURL     string            // use these NATS servers instead of starting one
	environment map[string]string // settings, as the environment would give them
	// writerEnvironment are settings of the writers only, over environment
	// (their own NATS user, say).
	writerEnvironment map[string]string
}

func startPipeline(t *testing.T, o options) *pipeline {
	t.Helper()
	p := &pipeline{t: t, natsDir: t.TempDir()}
	var err error
	if o.natsURL == "" {
		if p.natsPort, err = devenv.FreePort(); err != nil {
			t.Fatal(err)
		}
		p.startNATS()
		t.Cleanup(func() { p.nats.Shutdown() })
		o.natsURL = p.nats.ClientURL()
	}
	environment := map[string]string{
		"NATS_URL":       o.natsURL,
		"API_KEYS":       keyA + ":" + harborA + "," + keyB + ":" + harborB,
		"LISTEN_ADDR":    "127.0.0.1:0",
		"FLUSH_INTERVAL": "200ms",
		"RETRY_MAX":      "1s",
		"ACK_WAIT":       "5s",
		"HTTP_ADDR":      "127.0.0.1:0",
	}
	if !o.noCH {
		if o.engine == "" {
			o.engine = devenv.EngineServer
		}
		p.ch = devtest.ClickHouseOn(t, o.engine)
		environment["CLICKHOUSE_ADDR"] = p.ch.Addr
		environment["CLICKHOUSE_PROTOCOL"] = p.ch.Protocol
	}
	maps.Copy(environment, o.environment)
	p.env = environment
	p.ingest = parseConfig[ingest.Config](t, environment)
	writerEnvironment := maps.Clone(environment)
	maps.Copy(writerEnvironment, o.writerEnvironment)
	p.writer = parseConfig[writer.Config](t, writerEnvironment)

	p.url = p.startAPI()
	if o.noCH {
		return p
	}
	p.store, err = store.Open(context.Background(), p.writer.ClickHouse, testLog)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.store.Close() })
	version, err := p.store.Conn().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ClickHouse %s", version.Version)
	for range o.writers {
		p.startWriter()
	}
	return p
}

// startNATS starts (or starts again) the pipeline's NATS server, with the
// same store and port.
func (p *pipeline) startNATS() {
	p.t.Helper()
	ns, err := devenv.StartNATS(p.natsDir, p.natsPort)
	if err != nil {
		p.t.Fatal(err)
	}
	p.nats = ns
}

// stopNATS shuts the NATS server down.
func (p *pipeline) stopNATS() {
	p.nats.Shutdown()
	p.nats.WaitForShutdown()
}

// with returns the settings with some changed (name, value, ...); an empty
// value removes one.
func with(environment map[string]string, changes ...string) map[string]string {
	out := maps.Clone(environment)
	for i := 0; i+1 < len(changes); i += 2 {
		if changes[i+1] == "" {
			delete(out, changes[i])
		} else {
			out[changes[i]] = changes[i+1]
		}
	}
	return out
}

func parseConfig[T any](t *testing.T, environment map[string]string) T {
	t.Helper()
	cfg, err := env.ParseAsWithOptions[T](env.Options{Environment: environment})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startAPI starts one more ingest API replica and returns its URL.
func (p *pipeline) startAPI() string {
	return "http://" + devtest.RunService(p.t, func(ctx context.Context, listening func(string)) error {
		return ingest.Run(ctx, p.ingest, testLog, listening)
	}).Addr
}

// startWriter starts one more writer; it stops when the test ends, or
// earlier through the returned function.
func (p *pipeline) startWriter() (stop func()) {
	return devtest.RunService(p.t, func(ctx context.Context, listening func(string)) error {
		listening("")
		return writer.Run(ctx, p.writer, testLog)
	}).Stop
}

// post sends a request to the API and returns the status, the headers and the body.
func (p *pipeline) post(path, key string, body []byte, headers ...string) (int, http.Header, []byte) {
	p.t.Helper()
	return p.postTo(p.url, path, key, body, headers...)
}

// postBatch posts a batch to harbor's batch endpoint with key and fails the
// test unless it is answered 200.
func (p *pipeline) postBatch(harbor, key string, body []byte, headers ...string) {
	p.t.Helper()
	if status, _, answer := p.post("/api/v1/ingest/ingest/"+harbor+"/batch", key, body, headers...); status != http.StatusOK {
		p.t.Fatalf("batch for %s: %d %s", harbor, status, answer)
	}
}

// postTo is post to the API at baseURL.
func (p *pipeline) postTo(baseURL, path, key string, body []byte, headers ...string) (int, http.Header, []byte) {
	p.t.Helper()
	return p.request(http.MethodPost, baseURL+path, key, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

// request sends a request with the API key and headers (name, value, ...)
// and returns the status, the headers and the body.
func (p *pipeline) request(method, url, key string, body []byte, headers ...string) (int, http.Header, []byte) {
	p.t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// get returns the status and body of a GET of url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metric reads a metric without labels from the /metrics of the service at
// baseURL.
func metric(t *testing.T, baseURL, name string) float64 {
	t.Helper()
	_, body := get(t, baseURL+"/metrics")
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s %q: %v", name, v, err)
			}
			return f
		}
	}
	t.Fatalf("%s/metrics has no %s", baseURL, name)
	return 0
}

// postConcurrently has clients post batches of perBatch readings each, as
// careful clients (postUntilAccepted), a new ship per batch, and returns a
// wait for them to finish.
func (p *pipeline) postConcurrently(clients, batches, perBatch int, start time.Time, gap time.Duration) (wait func()) {
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for b := range batches {
				id := "c" + strconv.Itoa(c) + "-b" + strconv.Itoa(b)
				if !p.postUntilAccepted(id, batchBody("ship-"+id, start, perBatch, 0)) {
					return
				}
				time.Sleep(gap)
			}
		})
	}
	return wg.Wait
}

// row is a stored reading as the test reads it back.
type row struct {
	Harbor, Ship, Cargo string
	Millis              int64
	Value               float64
}

// rows returns the deduplicated rows (FINAL) of the table, sorted.
func (p *pipeline) rows() []row {
	p.t.Helper()
	tb := p.store.Table()
	// Old servers take ORDER BY 4 for a constant, not a position: name it.
	q := fmt.Sprintf("SELECT harbor_id, ship_id, cargo_id, %[1]s AS ms, value FROM %[2]s FINAL ORDER BY harbor_id, ship_id, cargo_id, ms",
		tb.TimeMillisSQL(), tb.FullName())
	res, err := p.store.Conn().Query(context.Background(), q)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Close()
	var out []row
	for res.Next() {
		var r row
		if err := res.Scan(&r.Harbor, &r.Ship, &r.Cargo, &r.Millis, &r.Value); err != nil {
			p.t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// count runs a SELECT count() query on the table; where may be empty.
func (p *pipeline) count(final bool, where string) uint64 {
	p.t.Helper()
	q := "SELECT count() FROM " + p.store.Table().FullName()
	if final {
		q += " FINAL"
	}
	if where != "" {
		q += " WHERE " + where
	}
	var n uint64
	if err := p.store.Conn().QueryRow(context.Background(), q).Scan(&n); err != nil {
		p.t.Fatal(err)
	}
	return n
}

// waitForRows waits until the table holds want deduplicated rows, and fails
// the test if it does not within the timeout or holds more.
func (p *pipeline) waitForRows(want uint64, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := p.count(true, "")
		if n == want {
			return
		}
		if n > want {
			p.t.Fatalf("table holds %d rows, more than the %d accepted", n, want)
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("table holds %d rows after %s, want %d", n, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// jetStreamAt connects to the NATS server at url and returns the
// connection, for the caller to close, and JetStream on it.
func jetStreamAt(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	return nc, js
}

// jetStream is jetStreamAt the pipeline's NATS.
func (p *pipeline) jetStream() (*nats.Conn, jetstream.JetStream) {
	p.t.Helper()
	return jetStreamAt(p.t, p.ingest.Stream.URL)
}

// streamInfo describes the readings stream now.
func (p *pipeline) streamInfo() *jetstream.StreamInfo {
	p.t.Helper()
	nc, js := p.jetStream()
	defer nc.Close()
	s, err := js.Stream(context.Background(), p.ingest.Stream.Name)
	if err != nil {
		p.t.Fatal(err)
	}
	return s.CachedInfo()
}

// streamMessages is the number of messages in the readings stream.
func (p *pipeline) streamMessages() uint64 { return p.streamInfo().State.Msgs }

// consumer returns the writers' durable consumer, on a connection closed
// when the test ends.
func (p *pipeline) consumer() jetstream.Consumer {
	p.t.Helper()
	nc, js := p.jetStream()
	p.t.Cleanup(nc.Close)
	c, err := js.Consumer(context.Background(), p.ingest.Stream.Name, p.ingest.Stream.Consumer)
	if err != nil {
		p.t.Fatal(err)
	}
	return c
}

// postUntilAccepted posts a batch with an Idempotency-Key as a careful
// client does: retrying while the answer is 503, until it is 200.
func (p *pipeline) postUntilAccepted(id string, body []byte) bool {
	for attempt := 0; attempt < 300; attempt++ {
		status, header, _ := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, body, "Idempotency-Key", id)
		if status == http.StatusOK {
			return true
		}
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
			p.t.Errorf("batch %s: %d, Retry-After %q", id, status, header.Get("Retry-After"))
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.t.Errorf("batch %s: still refused after 300 tries", id)
	return false
}

// batchBody is a JSON batch of n readings of one ship, one second apart
// from start, with values first, first+1, ...
func batchBody(ship string, start time.Time, n int, first float64) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"time":%q,"ship_id":%q,"cargo_id":"temp","value":%s}`,
			start.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), ship,
			strconv.FormatFloat(first+float64(i), 'g', -1, 64))
	}
	b.WriteByte(']')
	return b.Bytes()
}

// gzipped is b compressed with gzip; writing to memory cannot fail.
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
