package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestNATSRestartLosesNothing stops NATS while clients post, and starts it
// again on the same store. While it is down the API answers 503 with
// Retry-After; it reconnects by itself; clients that retry with their
// Idempotency-Key get every batch stored exactly once.
func TestNATSRestartLosesNothing(t *testing.T) {
	p := startPipeline(t, options{writers: 1})
	start := time.Now().Add(-time.Hour)
	const clients, batches, perBatch = 4, 30, 50

	wait := p.postConcurrently(clients, batches, perBatch, start, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	p.stopNATS()
	// While NATS is down the API refuses at once, with Retry-After.
	status, header, _ := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody("probe", start, 1, 0))
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" {
		t.Fatalf("with NATS down: %d, Retry-After %q", status, header.Get("Retry-After"))
	}
	time.Sleep(1500 * time.Millisecond)
	p.startNATS()
	wait()

	// The Idempotency-Key kept every retried batch to one message.
	if n := p.streamMessages(); n != clients*batches {
		t.Fatalf("stream holds %d messages, want one per batch: %d", n, clients*batches)
	}
	p.waitForRows(clients*batches*perBatch, 60*time.Second)
	if n := p.count(true, "ship_id LIKE 'ship-c%'"); n != clients*batches*perBatch {
		t.Fatalf("%d rows, want %d", n, clients*batches*perBatch)
	}
}
