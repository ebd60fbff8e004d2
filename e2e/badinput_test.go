package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// errorBody is the shape of every error answer.
type errorBody struct {
	Message string `json:"message"`
	Details []struct {
		Loc  []string `json:"loc"`
		Msg  string   `json:"msg"`
		Type string   `json:"type"`
	} `json:"details"`
}

// TestBadInputIsRefusedAndStoresNothing sends every kind of bad request and
// checks its status and error body; then that the stream holds only the
// messages of the requests answered 200.
func TestBadInputIsRefusedAndStoresNothing(t *testing.T) {
	p := startPipeline(t, options{noCH: true, environment: map[string]string{
		"MAX_BODY_BYTES": "4096",
		"MAX_BATCH_LEN":  "5",
	}})
	one := `{"ship_id":"s","cargo_id":"c","value":1}`
	single := "/api/v1/ingest/ingest/" + harborA
	batch := single + "/batch"
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	bomb := gzipped(append([]byte(`[`+one+`,`), bytes.Repeat([]byte(" "), 1<<20)...))
	good := gzipped([]byte("[" + one + "]"))

	cases := []struct {
		name    string
		path    string
		key     string
		body    []byte
		headers []string
		status  int
		message string   // a part of the message
		locs    []string // the details' locations, joined with "."
	}{
		{"no key", single, "", []byte(one), nil, 401, "X-API-Key", nil},
		{"unknown key", single, "nope", []byte(one), nil, 401, "unknown or revoked API key", nil},
		{"key of another harbor", "/api/v1/ingest/ingest/" + harborB, keyA, []byte(one), nil, 403, "does not open harbor", nil},
		{"bad harbor id", "/api/v1/ingest/ingest/bad.harbor", keyA, []byte(one), nil, 400, "harbor_id", nil},
		{"wrong content type", single, keyA, []byte(one), []string{"Content-Type", "text/plain"}, 415, "application/json", nil},
		{"form content type", single, keyA, []byte(one), []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "application/json", nil},
		{"unknown encoding", single, keyA, []byte(one), []string{"Content-Encoding", "br"}, 415, "gzip", nil},
		{"not JSON", single, keyA, []byte("hello"), nil, 400, "JSON object", nil},
		{"array on the single endpoint", single, keyA, []byte("[" + one + "]"), nil, 400, "JSON object", nil},
		{"object on the batch endpoint", batch, keyA, []byte(one), nil, 400, "JSON array", nil},
		{"truncated JSON", batch, keyA, []byte("[" + one), nil, 400, "malformed", nil},
		{"invalid UTF-8", single, keyA, []byte("{\"ship_id\":\"\xff\",\"cargo_id\":\"c\",\"value\":1}"), nil, 400, "UTF-8", nil},
		{"empty batch", batch, keyA, []byte("[]"), nil, 400, "empty", nil},
		{"batch too long", batch, keyA, []byte("[" + strings.Repeat(one+",", 5) + one + "]"), nil, 413, "limit of 5", nil},
		{"body too large", batch, keyA, []byte("[" + one + strings.Repeat(" ", 5000) + "]"), nil, 413, "4096 bytes", nil},
		{"gzip bomb", batch, keyA, bomb, []string{"Content-Encoding", "gzip"}, 413, "4096 bytes", nil},
		{"truncated gzip", batch, keyA, good[:len(good)-6], []string{"Content-Encoding", "gzip"}, 400, "gzip", nil},
		{"not gzip", batch, keyA, []byte("[" + one + "]"), []string{"Content-Encoding", "gzip"}, 400, "gzip", nil},
		{"long idempotency key", single, keyA, []byte(one), []string{"Idempotency-Key", strings.Repeat("k", 129)}, 400, "Idempotency-Key", nil},
		{"bad readings in a batch", batch, keyA, []byte(`[` + one + `,
			{"ship_id":"s","cargo_id":"c","value":"ok"},
			{"ship_id":"` + strings.Repeat("x", 101) + `","cargo_id":"c\u0007","value":1e400},
			{"time":"2024-01-01T00:00:00","ship_id":"s","cargo_id":"c","value":1},
			{"time":"` + future + `","cargo_id":"c","value":null}]`), nil, 400, "invalid",
			[]string{"[1].value", "[2].ship_id", "[2].cargo_id", "[2].value", "[3].time", "[4].time", "[4].ship_id", "[4].value"}},
		{"bad single reading", single, keyA, []byte(`{"ship_id":"s","cargo_id":"c","value":"21,5"}`), nil, 400, "invalid", []string{"value"}},
		{"bad flat reading", single, keyA, []byte(`{"ship_id":"s","temp":1e400,"rpm":"x"}`), nil, 400, "invalid", []string{"temp"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, header, body := p.post(c.path, c.key, c.body, c.headers...)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			var eb errorBody
			if err := json.Unmarshal(body, &eb); err != nil || eb.Details == nil {
				t.Fatalf("body is not the error shape: %s", body)
			}
			if !strings.Contains(eb.Message, c.message) {
				t.Errorf("message %q does not mention %q", eb.Message, c.message)
			}
			var locs []string
			for _, d := range eb.Details {
				if d.Msg == "" || d.Type == "" {
					t.Errorf("detail without msg or type: %+v", d)
				}
				locs = append(locs, strings.Join(d.Loc, "."))
			}
			if strings.Join(locs, " ") != strings.Join(c.locs, " ") {
				t.Errorf("details at %v, want %v", locs, c.locs)
			}
		})
	}

	// Routes that do not exist answer in the same shape.
	for _, req := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, single, http.StatusMethodNotAllowed},
		{http.MethodPost, "/api/v1/nothing", http.StatusNotFound},
	} {
		r, _ := http.NewRequest(req.method, p.url+req.path, nil)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		var eb errorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != req.status || err != nil || eb.Message == "" || eb.Details == nil {
			t.Errorf("%s %s: %d, %+v, %v", req.method, req.path, resp.StatusCode, eb, err)
		}
	}

	// A good gzip request still works, and is the only message stored.
	if status, _, body := p.post(batch, keyA, good, "Content-Encoding", "gzip"); status != http.StatusOK {
		t.Fatalf("good gzip batch: %d %s", status, body)
	}
	if n := p.streamMessages(); n != 1 {
		t.Fatalf("stream holds %d messages, want only the 1 accepted", n)
	}
}
