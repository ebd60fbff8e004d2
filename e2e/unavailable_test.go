package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestStreamFullAnswers503 fills a tiny stream: the API answers 503 with
// Retry-After, and the refused batch is not in the stream.
func TestStreamFullAnswers503(t *testing.T) {
	p := startPipeline(t, options{noCH: true, environment: map[string]string{"STREAM_MAX_BYTES": "20000"}})
	path := "/api/v1/ingest/ingest/" + harborA + "/batch"
	accepted := uint64(0)
	for i := range 100 {
		status, header, body := p.post(path, keyA, batchBody("ship", time.Now().Add(-time.Hour), 100, float64(i)))
		if status == http.StatusOK {
			accepted++
			continue
		}
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
			t.Fatalf("full stream: %d, Retry-After %q, %s", status, header.Get("Retry-After"), body)
		}
		if n := p.streamMessages(); n != accepted {
			t.Fatalf("stream holds %d messages, want the %d accepted", n, accepted)
		}
		return
	}
	t.Fatal("the stream never filled up")
}

// TestNATSDownAnswers503 stops NATS: the API answers 503 with Retry-After
// and /readyz turns 503 too.
func TestNATSDownAnswers503(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	path := "/api/v1/ingest/ingest/" + harborA
	one := []byte(`{"ship_id":"s","cargo_id":"c","value":1}`)
	if status, _, body := p.post(path, keyA, one); status != http.StatusOK {
		t.Fatalf("with NATS up: %d %s", status, body)
	}
	p.nats.Shutdown()
	p.nats.WaitForShutdown()
	status, header, body := p.post(path, keyA, one)
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" {
		t.Fatalf("with NATS down: %d, Retry-After %q, %s", status, header.Get("Retry-After"), body)
	}
	resp, err := http.Get(p.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with NATS down: %d", resp.StatusCode)
	}
}
