package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// recordingPublisher keeps what it is given, by harbor.
type recordingPublisher struct {
	mu       sync.Mutex
	readings map[string][]schema.Reading
}

func (p *recordingPublisher) Publish(_ context.Context, harborID string, rs []schema.Reading, _ Idempotency) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readings[harborID] = append(p.readings[harborID], rs...)
	return nil
}

func (p *recordingPublisher) Ready(context.Context) error { return nil }

func (p *recordingPublisher) take(harborID string) []schema.Reading {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs := p.readings[harborID]
	delete(p.readings, harborID)
	return rs
}

// partialHarbors: harbor "lenient" has the partial policy.
type partialHarbors struct{}

func (partialHarbors) Harbor(id string) (tenant.Harbor, bool) {
	return tenant.Harbor{ID: id, Partial: id == "lenient"}, id == "lenient"
}

func newRecordingAPI(t *testing.T, environment map[string]string) (*echo.Echo, *recordingPublisher) {
	t.Helper()
	cfg := devtest.ParseEnv[Config](t, environment)
	pub := &recordingPublisher{readings: map[string][]schema.Reading{}}
	keys := scopedKeys{"lenient": {HarborID: "lenient", Scopes: []string{tenant.ScopeWrite}}}
	for k, v := range testKeys {
		keys[k] = v
	}
	return New(cfg, testDeps(keys, partialHarbors{}, pub)), pub
}

// testDeps are the API's dependencies in tests: auth, harbors and pub, a
// limiter that counts this replica alone, a registry of their own and a
// log that writes nothing.
func testDeps(auth Authenticator, harbors Harbors, pub Publisher) Deps {
	reg := prometheus.NewRegistry()
	return Deps{
		Auth: auth, Harbors: harbors, Limiter: limit.New(time.Second, func() int { return 1 }),
		Publisher: pub, Registry: reg, Gatherer: reg, Log: slog.New(slog.DiscardHandler),
	}
}

func send(e *echo.Echo, method, target string, body string, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// TestEveryIngestPathOfTelemetryHarborsClients posts to each path the
// clients use, with the header spelling they use, and checks where the
// readings go.
func TestEveryIngestPathOfTelemetryHarborsClients(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{})
	one := `{"ship_id":"s","cargo_id":"c","value":1}`
	batch := `[` + one + `,` + one + `]`
	gps := `{"ship_id":"s1","time":"2026-11-25T10:00:00Z","latitude":41.1,"longitude":29}`
	for _, c := range []struct {
		path, body string
		readings   int
	}{
		{"/api/v1/ingest/ingest/fleet", one, 1},
		{"/api/v1/ingest/ingest/fleet/batch", batch, 2},
		{"/api/v1/ingest/fleet", one, 1},
		{"/api/v1/ingest/fleet/batch", batch, 2},
		{"/api/v2/ingest/fleet", one, 1},
		{"/api/v2/ingest/fleet/", one, 1}, // the JS and C++ SDKs
		{"/api/v2/ingest/fleet/batch", batch, 2},
		{"/api/v2/ingest/fleet/batch/", batch, 2},
		{"/api/v2/ingest/fleet/gps", gps, 2},
		{"/api/v2/ingest/ingest/fleet", one, 1},
		{"/api/v2/ingest/ingest/fleet/batch", batch, 2},
		{"/api/v2/ingest", one, 1},
		{"/api/v2/ingest/", one, 1},
		{"/api/v2/ingest/batch", batch, 2}, // Lighthouse with --endpoint
		{"/api/v2/ingest/gps", gps, 2},
	} {
		rec := send(e, http.MethodPost, c.path, c.body, "X-Api-Key", "w", "Content-Type", "application/json")
		if rec.Code != http.StatusOK {
			t.Errorf("POST %s: %d %s", c.path, rec.Code, rec.Body)
			continue
		}
		if got := len(pub.take("fleet")); got != c.readings {
			t.Errorf("POST %s: %d readings in harbor fleet, want %d", c.path, got, c.readings)
		}
	}
	// The key of another harbor: its own harbor on the implied paths, 403 on fleet's.
	if rec := send(e, http.MethodPost, "/api/v2/ingest/batch", batch, "X-API-Key", "other"); rec.Code != http.StatusOK || len(pub.take("other")) != 2 {
		t.Errorf("implied harbor of key other: %d %s", rec.Code, rec.Body)
	}
	if rec := send(e, http.MethodPost, "/api/v2/ingest/fleet/batch", batch, "X-API-Key", "other"); rec.Code != http.StatusForbidden {
		t.Errorf("key other on fleet: %d, want 403", rec.Code)
	}
}

func TestTTNUplinkWebhook(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{})
	rec := send(e, http.MethodPost, "/api/v2/ingest/fleet/ttn", ttnUplinkBody, "X-API-Key", "w", "Content-Type", "application/json")
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	got := map[string]float64{}
	for _, r := range pub.take("fleet") {
		if r.ShipID != "eui-70b3d57ed0000001" || r.Time != time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC).UnixMilli() {
			t.Errorf("reading %+v: wrong ship or time", r)
		}
		got[r.CargoID] = r.Value
	}
	want := map[string]float64{"temperature": 21.5, "humidity": 55, "battery": 3.3, "rssi": -42, "snr": 9.5, "channel_rssi": -42,
		"bandwidth": 125000, "spreading_factor": 7, "frequency": 868300000}
	if len(got) != len(want) {
		t.Fatalf("readings %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	// decoded_payload.time is the readings' time when it is valid.
	withTime := strings.Replace(ttnUplinkBody, `"temperature": 21.5`, `"time": "2026-11-25T09:59:00Z", "temperature": 21.5`, 1)
	if rec := send(e, http.MethodPost, "/api/v2/ingest/ttn", withTime, "X-API-Key", "w"); rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for _, r := range pub.take("fleet") {
		if r.Time != time.Date(2026, 11, 25, 9, 59, 0, 0, time.UTC).UnixMilli() || r.CargoID == "time" {
			t.Fatalf("reading %+v: want the payload's time, and no reading of it", r)
		}
	}
	// Nothing numeric: 200, so that TTN does not retry, and nothing stored.
	empty := `{"end_device_ids":{"device_id":"d"},"received_at":"2026-11-25T10:00:00Z","uplink_message":{"f_port":1,"decoded_payload":{"state":"ok"}}}`
	if rec := send(e, http.MethodPost, "/api/v2/ingest/ttn", empty, "X-API-Key", "w"); rec.Code != http.StatusOK || len(pub.take("fleet")) != 0 {
		t.Fatalf("uplink with nothing numeric: %d %s", rec.Code, rec.Body)
	}
}

func TestPartialPolicyStoresTheValidReadings(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{})
	body := `[{"ship_id":"s","cargo_id":"a","value":"21.5"},{"ship_id":"s","cargo_id":"b","value":"ok"},{"ship_id":"s","cargo_id":"c","value":true}]`
	rec := send(e, http.MethodPost, "/api/v2/ingest/batch", body, "X-API-Key", "w")
	if rec.Code != http.StatusBadRequest || len(pub.take("fleet")) != 0 {
		t.Fatalf("whole policy: %d %s, want 400 and nothing stored", rec.Code, rec.Body)
	}
	rec = send(e, http.MethodPost, "/api/v2/ingest/batch", body, "X-API-Key", "lenient")
	var answer Accepted
	if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("partial policy: %d %s", rec.Code, rec.Body)
	}
	stored := pub.take("lenient")
	if answer.Count != 2 || len(stored) != 2 || stored[0].Value != 21.5 || stored[1].Value != 1 {
		t.Fatalf("partial policy stored %+v, answered %+v", stored, answer)
	}
	if len(answer.Skipped) != 1 || strings.Join(answer.Skipped[0].Loc, ".") != "[1].value" || answer.Skipped[0].Type != schema.TypeMismatch {
		t.Fatalf("skipped %+v", answer.Skipped)
	}
}

func TestCORSPreflightOfBrowserClients(t *testing.T) {
	e, _ := newRecordingAPI(t, map[string]string{})
	rec := send(e, http.MethodOptions, "/api/v2/ingest/fleet/batch", "",
		"Origin", "https://dashboard.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-api-key")
	h := rec.Header()
	if rec.Code != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "x-api-key") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight: %d %v", rec.Code, h)
	}
	post := send(e, http.MethodPost, "/api/v2/ingest/fleet", `{"ship_id":"s","cargo_id":"c","value":1}`, "Origin", "https://dashboard.example", "X-API-Key", "w")
	if post.Code != http.StatusOK || post.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("post from a page: %d %v", post.Code, post.Header())
	}
	// Only the configured origins.
	e, _ = newRecordingAPI(t, map[string]string{"CORS_ALLOW_ORIGINS": "https://a.example,https://b.example"})
	rec = send(e, http.MethodOptions, "/api/v2/ingest/fleet", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("an origin not allowed got Access-Control-Allow-Origin %q", got)
	}
	rec = send(e, http.MethodOptions, "/api/v2/ingest/fleet", "", "Origin", "https://b.example", "Access-Control-Request-Method", "POST")
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "https://b.example" {
		t.Fatalf("an allowed origin got Access-Control-Allow-Origin %q", got)
	}
}

// ttnUplinkBody is an uplink message as The Things Stack v3 sends it to a
// webhook (its documented shape, abridged only in the number of gateways).
const ttnUplinkBody = `{
  "end_device_ids": {
    "device_id": "eui-70b3d57ed0000001",
    "application_ids": {"application_id": "fleet-sensors"},
    "dev_eui": "70B3D57ED0000001",
    "join_eui": "0000000000000000",
    "dev_addr": "260B1234"
  },
  "correlation_ids": ["as:up:01HF3Z6C8Q4M2V6S7YJ3N5K9QX", "gs:uplink:01HF3Z6C7T0E5B4A3C2D1F0G9H"],
  "received_at": "2026-11-25T10:00:00.123456789Z",
  "uplink_message": {
    "session_key_id": "AYvTn2yXkY0=",
    "f_port": 1,
    "f_cnt": 4242,
    "frm_payload": "CNcCJAFK",
    "decoded_payload": {"temperature": 21.5, "humidity": 55, "battery": "3.3", "status": "ok", "alarm": false, "gps": {"lat": 1}},
    "rx_metadata": [{
      "gateway_ids": {"gateway_id": "gw-harbor-1", "eui": "B827EBFFFE000001"},
      "time": "2026-11-25T10:00:00.100Z",
      "timestamp": 2452343,
      "rssi": -42,
      "channel_rssi": -42,
      "snr": 9.5,
      "location": {"latitude": 52.1, "longitude": 4.3, "altitude": 10, "source": "SOURCE_REGISTRY"},
      "uplink_token": "ChkKFwoLZ3ctaGFyYm9yLTEQAhoIuCfr//4AAAEQ",
      "channel_index": 2,
      "received_at": "2026-11-25T10:00:00.110Z"
    }],
    "settings": {
      "data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7, "coding_rate": "4/5"}},
      "frequency": "868300000",
      "timestamp": 2452343,
      "time": "2026-11-25T10:00:00.100Z"
    },
    "received_at": "2026-11-25T10:00:00.115Z",
    "consumed_airtime": "0.056576s",
    "network_ids": {"net_id": "000013", "tenant_id": "ttn", "cluster_id": "eu1", "cluster_address": "eu1.cloud.thethings.network"}
  }
}`
