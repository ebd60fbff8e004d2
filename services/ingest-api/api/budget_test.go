package api

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/labstack/echo/v4"
)

func testBodyConfig() BodyConfig {
	return BodyConfig{MemoryBytes: 1000, HarborMemoryBytes: 600, HarborMaxInFlight: 2, AdmissionWait: 20 * time.Millisecond}
}

func TestBudgetBounds(t *testing.T) {
	ctx := context.Background()
	b := newBudget(testBodyConfig())
	a1, err := b.enter(ctx, "a", 500)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.enter(ctx, "a", 200); !errors.Is(err, errHarborMemory) {
		t.Fatalf("a's 700 bytes of its 600 share: %v", err)
	}
	a2, err := b.enter(ctx, "a", 100)
	if err != nil {
		t.Fatalf("a's second request within its share: %v", err)
	}
	if _, err := b.enter(ctx, "a", 0); !errors.Is(err, errHarborBusy) {
		t.Fatalf("a's third request in flight: %v", err)
	}
	bb, err := b.enter(ctx, "b", 400)
	if err != nil {
		t.Fatalf("b within the whole budget: %v", err)
	}
	if err := bb.growTo(ctx, 401); !errors.Is(err, errBodyMemory) {
		t.Fatalf("1,001 bytes of the 1,000: %v", err)
	}
	if err := bb.growTo(ctx, 300); err != nil || bb.bytes != 400 {
		t.Fatalf("growing to less changes nothing: %v, %d", err, bb.bytes)
	}
	// A waiting request gets the room released meanwhile.
	go func() {
		time.Sleep(5 * time.Millisecond)
		a1.release()
	}()
	b.cfg.AdmissionWait = 10 * time.Second
	if err := bb.growTo(ctx, 600); err != nil {
		t.Fatalf("growth after a release: %v", err)
	}
	a2.release()
	bb.release()
	if b.used != 0 || *b.harbors["a"] != (harborUse{}) || *b.harbors["b"] != (harborUse{}) || b.waiting != 0 {
		t.Fatalf("after all releases: %d bytes used, a %+v, b %+v, %d waiting", b.used, *b.harbors["a"], *b.harbors["b"], b.waiting)
	}
}

// bodyTestAPI is the API with the settings of environment and a publisher
// that stores nothing but answers 200.
func bodyTestAPI(t *testing.T, environment map[string]string) *echo.Echo {
	t.Helper()
	cfg := devtest.ParseEnv[Config](t, environment)
	if err := cfg.Bodies.Check(cfg.MaxBodyBytes); err != nil {
		t.Fatal(err)
	}
	return New(cfg, testDeps(testKeys, noHarbors{}, encodingPublisher{}))
}

// serve posts body to the harbor's batch route with key and returns the
// answer.
func serve(e http.Handler, key, harbor string, body io.Reader, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/api/v2/ingest/"+harbor+"/batch", body)
	req.Header.Set("X-API-Key", key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

const oneReadingBatch = `[{"ship_id":"s","cargo_id":"c","value":1}]`

// TestDeclaredLengthDoesNotSizeTheBuffer: a body that declares far more than
// arrives gets a buffer for what arrived.
func TestDeclaredLengthDoesNotSizeTheBuffer(t *testing.T) {
	b := newBudget(BodyConfig{MemoryBytes: 20 << 20, HarborMemoryBytes: 20 << 20, HarborMaxInFlight: 1})
	g, err := b.enter(context.Background(), "a", 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer g.release()
	buf, err := readBody(context.Background(), strings.NewReader(oneReadingBatch), "", 10<<20+1, 10<<20, &g, nil)
	if err != nil || string(buf) != oneReadingBatch {
		t.Fatalf("%q, %v", buf, err)
	}
	if cap(buf) > firstGrowth {
		t.Fatalf("a %d-byte body declared as 10 MiB has a buffer of %d bytes", len(buf), cap(buf))
	}
}

// TestGzipBodiesCountAsTheyGrow: the decompressed body is charged, so a
// small gzip body that inflates past the room left is refused with 503, and
// one of a harbor past its share with 429.
func TestGzipBodiesCountAsTheyGrow(t *testing.T) {
	e := bodyTestAPI(t, map[string]string{
		"BODY_MEMORY_BYTES": "2097152", "HARBOR_BODY_MEMORY_BYTES": "1048576", "MAX_BODY_BYTES": "1000000",
		"ADMISSION_WAIT": "10ms",
	})
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte("[" + strings.Repeat(" ", 900_000) + `{"ship_id":"s","cargo_id":"c","value":1}]`))
	zw.Close()
	if zipped.Len() > 10_000 {
		t.Fatalf("the test body compresses to %d bytes", zipped.Len())
	}
	gz := []string{"Content-Encoding", "gzip", "Content-Type", "application/json"}
	if rec := serve(e, "w", "fleet", bytes.NewReader(zipped.Bytes()), gz...); rec.Code != http.StatusOK {
		t.Fatalf("alone: %d %s", rec.Code, rec.Body)
	}

	// Another request of fleet holds most of its share while it waits for
	// the rest of its body.
	pr, pw := io.Pipe()
	defer pw.Close()
	held := make(chan int)
	go func() {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/ingest/fleet/batch", pr)
		req.Header.Set("X-API-Key", "w")
		req.ContentLength = 600_000
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		held <- rec.Code
	}()
	pw.Write([]byte("["))
	devtest.WaitFor(t, 10*time.Second, "the condition", func() bool {
		rec := serve(e, "w", "fleet", bytes.NewReader(zipped.Bytes()), gz...)
		return rec.Code == http.StatusTooManyRequests && rec.Header().Get("Retry-After") != ""
	})
	// Another harbor's inflating body still fits the whole budget...
	if rec := serve(e, "other", "other", bytes.NewReader(zipped.Bytes()), gz...); rec.Code != http.StatusOK {
		t.Fatalf("another harbor: %d %s", rec.Code, rec.Body)
	}
	pw.CloseWithError(io.ErrUnexpectedEOF)
	if code := <-held; code != http.StatusBadRequest {
		t.Fatalf("the cut body: %d", code)
	}
	if rec := serve(e, "w", "fleet", bytes.NewReader(zipped.Bytes()), gz...); rec.Code != http.StatusOK {
		t.Fatalf("after the held request ended: %d %s", rec.Code, rec.Body)
	}
}

// TestWholeBudgetFull: past BODY_MEMORY_BYTES a request gets 503 with
// Retry-After even when its harbor holds nothing.
func TestWholeBudgetFull(t *testing.T) {
	e := bodyTestAPI(t, map[string]string{
		"BODY_MEMORY_BYTES": "1000000", "HARBOR_BODY_MEMORY_BYTES": "900000", "MAX_BODY_BYTES": "899000",
		"ADMISSION_WAIT": "10ms",
	})
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := httptest.NewRequest(http.MethodPost, "/api/v2/ingest/fleet/batch", pr)
		req.Header.Set("X-API-Key", "w")
		req.ContentLength = 899_000
		e.ServeHTTP(httptest.NewRecorder(), req)
	}()
	pw.Write([]byte("["))
	devtest.WaitFor(t, 10*time.Second, "the condition", func() bool {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/ingest/other/batch", strings.NewReader(strings.Repeat(" ", 200_000)+oneReadingBatch))
		req.Header.Set("X-API-Key", "other")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec.Code == http.StatusServiceUnavailable && rec.Header().Get("Retry-After") != "" &&
			strings.Contains(rec.Body.String(), "BODY_MEMORY_BYTES")
	})
	pw.CloseWithError(io.ErrUnexpectedEOF)
	<-done
}

// TestHarborMaxInFlight: past HARBOR_MAX_IN_FLIGHT a harbor's request gets
// 429 while other harbors are served.
func TestHarborMaxInFlight(t *testing.T) {
	e := bodyTestAPI(t, map[string]string{"HARBOR_MAX_IN_FLIGHT": "1", "ADMISSION_WAIT": "10ms"})
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		rec := serve(e, "w", "fleet", pr)
		done <- rec.Code
	}()
	pw.Write([]byte("["))
	devtest.WaitFor(t, 10*time.Second, "the condition", func() bool {
		rec := serve(e, "w", "fleet", strings.NewReader(oneReadingBatch))
		return rec.Code == http.StatusTooManyRequests && strings.Contains(rec.Body.String(), "HARBOR_MAX_IN_FLIGHT")
	})
	if rec := serve(e, "other", "other", strings.NewReader(oneReadingBatch)); rec.Code != http.StatusOK {
		t.Fatalf("another harbor: %d %s", rec.Code, rec.Body)
	}
	pw.Write([]byte(`{"ship_id":"s","cargo_id":"c","value":1}]`))
	pw.Close()
	if code := <-done; code != http.StatusOK {
		t.Fatalf("the slow request: %d", code)
	}
	if rec := serve(e, "w", "fleet", strings.NewReader(oneReadingBatch)); rec.Code != http.StatusOK {
		t.Fatalf("after the slow one: %d %s", rec.Code, rec.Body)
	}
}

// unreadBody fails the test if the server reads it.
type unreadBody struct{ t *testing.T }

func (u unreadBody) Read([]byte) (int, error) {
	u.t.Error("the body of a request over its rate limit was read")
	return 0, io.EOF
}

// TestRateLimitBeforeTheBody: a harbor without a request left is refused
// before its body is read.
func TestRateLimitBeforeTheBody(t *testing.T) {
	e := bodyTestAPI(t, map[string]string{"DEFAULT_REQUESTS_PER_SECOND": "1"})
	if rec := serve(e, "w", "fleet", strings.NewReader(oneReadingBatch)); rec.Code != http.StatusOK {
		t.Fatalf("first request: %d %s", rec.Code, rec.Body)
	}
	rec := serve(e, "w", "fleet", unreadBody{t})
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || rec.Header().Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("second request: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}

func TestPoolKeepsNoLargeBuffers(t *testing.T) {
	for range 2 * poolBuffers {
		putBuffer(make([]byte, 0, poolBufferBytes))
		putBuffer(make([]byte, 0, 10<<20))
	}
	if len(buffers) > poolBuffers {
		t.Fatalf("the pool holds %d buffers", len(buffers))
	}
	for len(buffers) > 0 {
		if b := getBuffer(); cap(b) > poolBufferBytes {
			t.Fatalf("the pool kept a buffer of %d bytes", cap(b))
		}
	}
}

func TestBodyConfigCheck(t *testing.T) {
	cfg := devtest.ParseEnv[Config](t, map[string]string{})
	if err := cfg.Bodies.Check(cfg.MaxBodyBytes); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	small := cfg.Bodies
	small.HarborMemoryBytes = cfg.MaxBodyBytes
	if err := small.Check(cfg.MaxBodyBytes); err == nil || !strings.Contains(err.Error(), "HARBOR_BODY_MEMORY_BYTES") {
		t.Fatalf("a share smaller than a body: %v", err)
	}
}
