package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestFullBacklogAnswers503AndRecovers lets readings pile up with no writer
// running: past the backlog limit the API answers 503 with Retry-After and
// stores nothing of the refused batch; once a writer drains the stream it
// accepts again, and every accepted reading is stored.
func TestFullBacklogAnswers503AndRecovers(t *testing.T) {
	p := startPipeline(t, options{environment: map[string]string{"STREAM_MAX_BACKLOG_BYTES": "20000"}})
	path := "/api/v1/ingest/ingest/" + harborA + "/batch"
	start := time.Now().Add(-time.Hour)
	accepted, refused := 0, false
	for i := 0; i < 200 && !refused; i++ {
		status, header, body := p.post(path, keyA, batchBody("ship-"+strconv.Itoa(i), start, 100, 0))
		switch {
		case status == http.StatusOK:
			accepted++
		case status == http.StatusServiceUnavailable && header.Get("Retry-After") != "":
			refused = true
			if n := p.streamMessages(); n != uint64(accepted) {
				t.Fatalf("stream holds %d messages, want the %d accepted", n, accepted)
			}
		default:
			t.Fatalf("batch %d: %d, Retry-After %q, %s", i, status, header.Get("Retry-After"), body)
		}
		time.Sleep(10 * time.Millisecond) // let the backlog be measured
	}
	if !refused {
		t.Fatal("the backlog never filled up")
	}

	p.startWriter()
	deadline := time.Now().Add(30 * time.Second)
	for {
		status, _, body := p.post(path, keyA, batchBody("ship-after", start, 100, 0))
		if status == http.StatusOK {
			accepted++
			break
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("after the writer started: %d %s", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.waitForRows(uint64(accepted*100), 30*time.Second)
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
	if status, _ := get(t, p.url+"/readyz"); status != http.StatusServiceUnavailable {
		t.Fatalf("/readyz with NATS down: %d", status)
	}
}
