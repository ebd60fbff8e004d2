package e2e

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestIdempotencyKeyReusedForADifferentRequest: a retry of the same request
// with its Idempotency-Key is 200 and stored once, even gzip-encoded or with
// server-filled times; the key with a different body, or on the other
// endpoint, is 409 with a clear message, and nothing of it is stored, not
// even the chunks of a body larger than the original.
func TestIdempotencyKeyReusedForADifferentRequest(t *testing.T) {
	p := startPipeline(t, options{writers: 1, environment: map[string]string{"MAX_BATCH_LEN": "100000"}})
	batch := "/api/v1/ingest/ingest/" + harborA + "/batch"
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	body := batchBody("ship-1", start, 10, 0)
	expect := func(path string, body []byte, key string, want int, headers ...string) []byte {
		t.Helper()
		status, _, got := p.post(path, keyA, body, append([]string{"Idempotency-Key", key}, headers...)...)
		if status != want {
			t.Fatalf("POST %s with key %s: %d %s, want %d", path, key, status, got, want)
		}
		return got
	}
	expect(batch, body, "k1", http.StatusOK)
	expect(batch, body, "k1", http.StatusOK)
	expect(batch, gzipped(body), "k1", http.StatusOK, "Content-Encoding", "gzip")
	conflict := expect(batch, batchBody("ship-1", start, 10, 100), "k1", http.StatusConflict)
	var eb errorBody
	if err := json.Unmarshal(conflict, &eb); err != nil || !strings.Contains(eb.Message, `Idempotency-Key "k1" was used for a different request within the last 2m0s`) || !strings.Contains(eb.Message, "use a new key") {
		t.Errorf("409 body %s", conflict)
	}
	// Larger than one message (1 MiB): its first chunk is the duplicate, and
	// none of the others may be stored.
	expect(batch, batchBody("ship-1", start, 60000, 0), "k1", http.StatusConflict)
	// The same key on the single-reading endpoint is another request.
	expect("/api/v1/ingest/ingest/"+harborA, []byte(`{"time":"`+start.Format(time.RFC3339Nano)+`","ship_id":"ship-1","cargo_id":"temp","value":0}`), "k1", http.StatusConflict)
	// Without a time the server fills it in, differently on the retry: the
	// same request still.
	single := []byte(`{"ship_id":"ship-2","cargo_id":"temp","value":7}`)
	expect("/api/v2/ingest/"+harborA, single, "k2", http.StatusOK)
	expect("/api/v2/ingest/"+harborA, single, "k2", http.StatusOK)
	// The same key from another harbor is another request.
	if status, _, b := p.post(batch[:len(batch)-len(harborA+"/batch")]+harborB+"/batch", keyB, batchBody("ship-1", start, 10, 100), "Idempotency-Key", "k1"); status != http.StatusOK {
		t.Fatalf("harbor B with key k1: %d %s", status, b)
	}

	if n := p.streamMessages(); n != 3 {
		t.Fatalf("stream holds %d messages, want the 3 of the requests stored", n)
	}
	p.waitForRows(21, 30*time.Second)
	var want []row
	for i := range 10 {
		want = append(want, row{Harbor: harborA, Ship: "ship-1", Cargo: "temp", Millis: start.Add(time.Duration(i) * time.Second).UnixMilli(), Value: float64(i)})
	}
	got := p.rows()
	if len(got) != 21 || !reflect.DeepEqual(got[:10], want) || got[10].Ship != "ship-2" || got[10].Value != 7 || got[11].Harbor != harborB || got[11].Value != 100 {
		t.Fatalf("stored rows %+v, want harbor A's first body, its single reading and harbor B's body", got)
	}
}
