package api

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/tenant"
)

// failingPublisher refuses everything, as a NATS outage would.
type failingPublisher struct{}

func (failingPublisher) Publish(context.Context, string, []schema.Reading, Idempotency) error {
	return errors.New("nats: no servers available")
}
func (failingPublisher) Ready(context.Context) error { return nil }

// noHarbors has no managed harbors: only static keys.
type noHarbors struct{}

func (noHarbors) Harbor(string) (tenant.Harbor, bool) { return tenant.Harbor{}, false }

func TestLogsCarryRequestIDAndKeyPrefixButNeverTheKey(t *testing.T) {
	const key = "hb_0123456789abcdef-secret"
	cfg := devtest.ParseEnv[Config](t, map[string]string{})
	var logs bytes.Buffer
	d := testDeps(mustKeys(t, map[string]string{key: "fleet"}), noHarbors{}, failingPublisher{})
	d.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := New(cfg, d)
	for _, k := range []string{key, key + "-wrong"} {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/ingest/ingest/fleet", strings.NewReader(`{"ship_id":"s","cargo_id":"c","value":1}`))
		req.Header.Set("X-API-Key", k)
		req.Header.Set("X-Request-Id", "req-42")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Header().Get("X-Request-Id") != "req-42" {
			t.Errorf("X-Request-Id not echoed: %q", rec.Header().Get("X-Request-Id"))
		}
	}
	out := logs.String()
	if strings.Contains(out, "0123456789") {
		t.Fatalf("a key is in the logs:\n%s", out)
	}
	for _, want := range []string{`"key_prefix":"hb_012…"`, `"request_id":"req-42"`, `"msg":"publish failed"`, `"status":503`, `"status":401`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
	// Every line of a request carries its id.
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(line, `"request_id":"req-42"`) {
			t.Errorf("log line without the request id: %s", line)
		}
	}
}
