package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// TestReadingsLandInClickHouse posts single readings and batches over HTTP,
// on both API versions' paths, and finds exactly those rows in ClickHouse,
// written by two writers sharing the consumer.
func TestReadingsLandInClickHouse(t *testing.T) { devtest.OnEachEngine(t, testReadingsLand) }

func testReadingsLand(t *testing.T, engine devenv.Engine) {
	p := startPipeline(t, options{writers: 2, engine: engine})
	now := time.Now().UTC().Truncate(time.Second)
	t0 := now.Add(-time.Hour)

	posts := []struct {
		path, key string
		body      string
		count     int
	}{
		{"/api/v1/ingest/ingest/" + harborA, keyA,
			`{"time":"` + t0.Add(123*time.Millisecond).Format(time.RFC3339Nano) + `","ship_id":"ship-1","cargo_id":"temp","value":21.5}`, 1},
		// The same instant written with a +02:00 offset: stored as UTC.
		{"/api/v2/ingest/" + harborA, keyA,
			`{"time":"` + t0.Add(time.Second+7*time.Millisecond).In(time.FixedZone("", 7200)).Format("2006-01-02T15:04:05.000-07:00") + `","ship_id":"ship-1","cargo_id":"rpm","value":-3e3,"unit":"ignored"}`, 1},
		{"/api/v1/ingest/ingest/" + harborA + "/batch", keyA,
			`[{"time":"` + t0.Add(2*time.Second).Format(time.RFC3339) + `","ship_id":"ship-2","cargo_id":"temp","value":1},
			  {"time":"` + t0.Add(3*time.Second+999*time.Millisecond).Format(time.RFC3339Nano) + `","ship_id":"ship-2","cargo_id":"temp","value":2.25}]`, 2},
		{"/api/v2/ingest/" + harborB + "/batch", keyB,
			`[{"time":"` + t0.Format(time.RFC3339) + `","ship_id":"ship-1","cargo_id":"temp","value":0}]`, 1},
	}
	for _, post := range posts {
		status, _, body := p.post(post.path, post.key, []byte(post.body))
		if status != http.StatusOK {
			t.Fatalf("POST %s: %d %s", post.path, status, body)
		}
		var got struct {
			Status string `json:"status"`
			Count  int    `json:"count"`
		}
		if err := json.Unmarshal(body, &got); err != nil || got.Status != "accepted" || got.Count != post.count {
			t.Fatalf("POST %s answered %s, want accepted with count %d", post.path, body, post.count)
		}
	}

	ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	want := []row{
		{harborA, "ship-1", "rpm", ms(time.Second + 7*time.Millisecond), -3000},
		{harborA, "ship-1", "temp", ms(123 * time.Millisecond), 21.5},
		{harborA, "ship-2", "temp", ms(2 * time.Second), 1},
		{harborA, "ship-2", "temp", ms(3*time.Second + 999*time.Millisecond), 2.25},
		{harborB, "ship-1", "temp", ms(0), 0},
	}
	p.waitForRows(uint64(len(want)), 30*time.Second)
	if got := p.rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored rows:\n%+v\nwant:\n%+v", got, want)
	}
}

// TestReadingWithoutTimeGetsReceiveTime checks the server's clock stands in
// for a missing time.
func TestReadingWithoutTimeGetsReceiveTime(t *testing.T) {
	p := startPipeline(t, options{writers: 1})
	before := time.Now().UnixMilli()
	status, _, body := p.post("/api/v1/ingest/ingest/"+harborA, keyA, []byte(`{"ship_id":"s","cargo_id":"c","value":1}`))
	after := time.Now().UnixMilli()
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	p.waitForRows(1, 30*time.Second)
	if got := p.rows()[0].Millis; got < before || got > after {
		t.Fatalf("stored time %d is not the receive time, between %d and %d", got, before, after)
	}
}

// TestIdempotencyKeyStoresARetryOnce posts the same request twice with one
// Idempotency-Key: the stream keeps one message.
func TestIdempotencyKeyStoresARetryOnce(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	body := batchBody("ship-1", time.Now().Add(-time.Minute), 10, 0)
	for range 2 {
		p.postBatch(harborA, keyA, body, "Idempotency-Key", "request-42")
	}
	// The same key from another harbor is another request.
	p.postBatch(harborB, keyB, body, "Idempotency-Key", "request-42")
	if n := p.streamMessages(); n != 2 {
		t.Fatalf("stream holds %d messages, want 2", n)
	}
}

// TestAPIMetricsCountRequests scrapes /metrics after accepted and refused
// requests.
func TestAPIMetricsCountRequests(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	path := "/api/v1/ingest/ingest/" + harborA + "/batch"
	p.postBatch(harborA, keyA, batchBody("s", time.Now().Add(-time.Minute), 7, 0))
	p.post(path, keyB, batchBody("s", time.Now(), 1, 0)) // 403
	p.post(path, keyA, []byte(`[]`))                     // 400

	_, body := get(t, p.url+"/metrics")
	for _, want := range []string{
		`harbor_readings_accepted_total{harbor_id="harbor-a"} 7`,
		`harbor_requests_rejected_total{harbor_id="",reason="forbidden"} 1`,
		`harbor_requests_rejected_total{harbor_id="harbor-a",reason="invalid"} 1`,
		`harbor_http_requests_total{code="200",route="/api/v1/ingest/ingest/:harbor_id/batch"} 1`,
		`harbor_publish_duration_seconds_count 1`,
		`harbor_publish_in_flight 0`,
		"\nharbor_http_connections ",
		`harbor_http_connections_closed_for_room_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
