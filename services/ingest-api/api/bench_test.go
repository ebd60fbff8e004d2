package api

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/labstack/echo/v4"
)

// encodingPublisher does the publisher's CPU work (the binary payload) and
// no I/O, so the benchmark measures the API's own cost per reading.
type encodingPublisher struct{}

func (encodingPublisher) Publish(_ context.Context, _ string, rs []schema.Reading, _ Idempotency) error {
	schema.EncodePayloads(rs, 1<<20)
	return nil
}
func (encodingPublisher) Ready(context.Context) error { return nil }

// benchAPI is the API with the default settings, a static key "k" for
// harbor "fleet", and the encodingPublisher.
func benchAPI(t testing.TB) *echo.Echo {
	cfg := devtest.ParseEnv[Config](t, map[string]string{})
	return New(cfg, testDeps(mustKeys(t, map[string]string{"k": "fleet"}), noHarbors{}, encodingPublisher{}))
}

// BenchmarkIngestBatch5000 runs a 5,000-reading batch request through the
// whole Echo stack: auth, body, decode, validation, limits, encoding.
func BenchmarkIngestBatch5000(b *testing.B) {
	e := benchAPI(b)
	var body bytes.Buffer
	body.WriteByte('[')
	t0 := time.Now().Add(-time.Hour).UTC()
	for i := range 5000 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"time":"` + t0.Add(time.Duration(i)*time.Second).Format("2006-01-02T15:04:05.000Z") +
			`","ship_id":"ship-` + strconv.Itoa(i%50) + `","cargo_id":"cargo-` + strconv.Itoa(i%7) + `","value":` + strconv.Itoa(i) + `.25}`)
	}
	body.WriteByte(']')
	b.SetBytes(int64(body.Len()))
	benchmarkPosts(b, e, "/api/v1/ingest/ingest/fleet/batch", body.String(), http.StatusOK, "X-API-Key", "k", "Content-Type", "application/json")
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "readings/s")
}

// BenchmarkIngestSingle runs one-reading requests through the Echo stack.
func BenchmarkIngestSingle(b *testing.B) {
	e := benchAPI(b)
	body := `{"time":"2026-11-25T10:00:00.123Z","ship_id":"ship-1","cargo_id":"temperature","value":21.5}`
	benchmarkPosts(b, e, "/api/v1/ingest/ingest/fleet", body, http.StatusOK, "X-API-Key", "k", "Content-Type", "application/json")
}

// BenchmarkIngestLines5000 is BenchmarkIngestBatch5000's readings as line
// protocol, through the InfluxDB 2 write endpoint.
func BenchmarkIngestLines5000(b *testing.B) {
	e := benchAPI(b)
	var body bytes.Buffer
	t0 := time.Now().Add(-time.Hour).UTC()
	for i := range 5000 {
		body.WriteString("cargo-" + strconv.Itoa(i%7) + ",ship_id=ship-" + strconv.Itoa(i%50) + " value=" + strconv.Itoa(i) + ".25 " +
			strconv.FormatInt(t0.Add(time.Duration(i)*time.Second).UnixMilli(), 10) + "\n")
	}
	b.SetBytes(int64(body.Len()))
	benchmarkPosts(b, e, "/api/v2/write?bucket=fleet&precision=ms", body.String(), http.StatusNoContent, "Authorization", "Token k")
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "readings/s")
}

// benchmarkPosts posts body to target through e at each iteration, with
// headers (pairs of name and value), and fails unless e answers want.
func benchmarkPosts(b *testing.B, e *echo.Echo, target, body string, want int, headers ...string) {
	b.ReportAllocs()
	for b.Loop() {
		if rec := send(e, http.MethodPost, target, body, headers...); rec.Code != want {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
	}
}
