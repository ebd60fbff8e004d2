package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/labstack/echo/v4"
)

// fakeReader records the queries it gets and answers with its points, or
// with err. Its ships are "s" and, when set, more; its latest values are
// values.
type fakeReader struct {
	queries []reader.SeriesQuery
	ships   []string // harbors and ships asked about
	pages   []reader.Page
	more    []reader.Ship
	values  []reader.CargoValue
	points  []reader.Point
	err     error
}

func (f *fakeReader) Ships(_ context.Context, harborID string, p reader.Page) ([]reader.Ship, error) {
	f.ships = append(f.ships, harborID)
	f.pages = append(f.pages, p)
	ships := []reader.Ship{{ShipID: "s", LastSeen: 1000, Cargos: []reader.Cargo{{CargoID: "c", LastSeen: 1000}}}}
	return append(ships, f.more...), f.err
}

func (f *fakeReader) Series(_ context.Context, q reader.SeriesQuery) ([]reader.Point, error) {
	f.queries = append(f.queries, q)
	return f.points, f.err
}

func (f *fakeReader) Latest(_ context.Context, harborID, shipID string, p reader.Page) ([]reader.CargoValue, error) {
	f.ships = append(f.ships, harborID+"/"+shipID)
	f.pages = append(f.pages, p)
	return append([]reader.CargoValue{}, f.values...), f.err
}

// scopedKeys are managed keys by secret.
type scopedKeys map[string]tenant.Key

func (k scopedKeys) Authenticate(secret string) (tenant.Key, bool) {
	key, ok := k[secret]
	return key, ok
}

// testKeys: "rw" opens fleet with both scopes, "w" and "r" with one, "other"
// opens another harbor.
var testKeys = scopedKeys{
	"rw":    {HarborID: "fleet", Scopes: []string{tenant.ScopeWrite, tenant.ScopeRead}},
	"w":     {HarborID: "fleet", Scopes: []string{tenant.ScopeWrite}},
	"r":     {HarborID: "fleet", Scopes: []string{tenant.ScopeRead}},
	"other": {HarborID: "other", Scopes: []string{tenant.ScopeWrite, tenant.ScopeRead}},
}

// newTestAPI is the API with the settings of environment, the admin API on
// and rd as its Reader.
func newTestAPI(t *testing.T, environment map[string]string, rd Reader) *echo.Echo {
	t.Helper()
	return newTestAPIWith(devtest.ParseEnv[Config](t, environment), rd)
}

// newTestAPIWith is the API with cfg and rd as its Reader.
func newTestAPIWith(cfg Config, rd Reader) *echo.Echo {
	d := testDeps(testKeys, noHarbors{}, failingPublisher{})
	d.Store, d.Reader = &tenant.Store{}, rd
	return New(cfg, d)
}

// get sends a GET with the key and returns the status and the body.
func get(e *echo.Echo, target, key string) (int, http.Header, string) {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("X-API-Key", key)
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.String()
}

var readEnv = map[string]string{"READ_API_ENABLED": "true", "READ_MAX_POINTS": "100", "READ_MAX_RANGE": "48h"}

func TestReadParameters(t *testing.T) {
	const series = "/api/v1/harbors/fleet/ships/s-1/cargos/temp/readings"
	at := func(s string) int64 { tm, _ := time.Parse(time.RFC3339Nano, s); return tm.UnixMilli() }
	for _, tc := range []struct {
		query string
		want  reader.SeriesQuery // without the ids and Limit
	}{
		{"from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00.5Z", reader.SeriesQuery{From: at("2026-11-25T10:00:00Z"), To: at("2026-11-25T11:00:00.5Z"), Agg: reader.AggRaw}},
		{"to=2026-11-25T11:00:00%2B01:00", reader.SeriesQuery{From: at("2026-11-25T09:00:00Z"), To: at("2026-11-25T10:00:00Z"), Agg: reader.AggRaw}},
		{"from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z&step=90", reader.SeriesQuery{From: at("2026-11-25T10:00:00Z"), To: at("2026-11-25T11:00:00Z"), Agg: reader.AggAvg, Step: 90_000}},
		{"from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z&step=1m30s&agg=last", reader.SeriesQuery{From: at("2026-11-25T10:00:00Z"), To: at("2026-11-25T11:00:00Z"), Agg: reader.AggLast, Step: 90_000}},
		{"from=2026-11-25T10:00:00Z&to=2026-11-25T10:00:01Z&step=0.25&agg=min", reader.SeriesQuery{From: at("2026-11-25T10:00:00Z"), To: at("2026-11-25T10:00:01Z"), Agg: reader.AggMin, Step: 250}},
		// 3,600 one-second steps are more than 100 points: the step is
		// raised to 37s (3600/99 = 36.4, rounded up to a whole second).
		{"from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z&step=1s&agg=max", reader.SeriesQuery{From: at("2026-11-25T10:00:00Z"), To: at("2026-11-25T11:00:00Z"), Agg: reader.AggMax, Step: 37_000}},
		{"from=2026-11-25T10:00:00Z&to=2026-11-25T11:00:00Z&agg=count", reader.SeriesQuery{From: at("2026-11-25T10:00:00Z"), To: at("2026-11-25T11:00:00Z"), Agg: reader.AggCount, Step: 37_000}},
	} {
		f := &fakeReader{}
		e := newTestAPI(t, readEnv, f)
		if status, _, body := get(e, series+"?"+tc.query, "r"); status != http.StatusOK || len(f.queries) != 1 {
			t.Fatalf("%s: %d %s", tc.query, status, body)
		}
		want := tc.want
		want.HarborID, want.ShipID, want.CargoID, want.Limit = "fleet", "s-1", "temp", 101
		if got := f.queries[0]; got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.query, got, want)
		}
	}

	// Without from and to: the last hour.
	f := &fakeReader{}
	before := time.Now().UnixMilli()
	get(newTestAPI(t, readEnv, f), series, "r")
	if q := f.queries[0]; q.To < before || q.To > time.Now().UnixMilli() || q.To-q.From != time.Hour.Milliseconds() {
		t.Errorf("default range: %+v", q)
	}
}

func TestReadParameterErrors(t *testing.T) {
	long := strings.Repeat("x", 101)
	for _, tc := range []struct {
		path, query string
		locs        [][]string
	}{
		{"s/cargos/c/readings", "from=yesterday", [][]string{{"from"}}},
		{"s/cargos/c/readings", "from=2026-11-25T10:00:00+01:00", [][]string{{"from"}}}, // a + not escaped is a space
		{"s/cargos/c/readings", "from=2026-11-25T10:00:00Z&to=2026-11-25T10:00:00Z", [][]string{{"to"}}},
		{"s/cargos/c/readings", "from=2026-11-20T10:00:00Z&to=2026-11-25T10:00:00Z", [][]string{{"to"}}},
		{"s/cargos/c/readings", "from=1969-12-31T23:59:59Z&to=1970-01-01T01:00:00Z", [][]string{{"from"}}},
		{"s/cargos/c/readings", "agg=median", [][]string{{"agg"}}},
		{"s/cargos/c/readings", "agg=raw&step=1m", [][]string{{"step"}}},
		{"s/cargos/c/readings", "step=0", [][]string{{"step"}}},
		{"s/cargos/c/readings", "step=-1s", [][]string{{"step"}}},
		{"s/cargos/c/readings", "step=NaN", [][]string{{"step"}}},
		{"s/cargos/c/readings", "step=49h", [][]string{{"step"}}},
		{long + "/cargos/%01/readings", "step=x&to=never", [][]string{{"ship_id"}, {"cargo_id"}, {"to"}, {"step"}}},
		{"%EF%BF%BD/latest", "", [][]string{{"ship_id"}}},
		{long + "/latest", "", [][]string{{"ship_id"}}},
	} {
		f := &fakeReader{}
		status, _, body := get(newTestAPI(t, readEnv, f), "/api/v1/harbors/fleet/ships/"+tc.path+"?"+tc.query, "r")
		var got ErrorBody
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusBadRequest {
			t.Errorf("%s?%s: %d %s", tc.path, tc.query, status, body)
			continue
		}
		var locs [][]string
		for _, d := range got.Details {
			locs = append(locs, d.Loc)
		}
		if !reflect.DeepEqual(locs, tc.locs) || got.Message != fmt.Sprintf("%d invalid parameter(s)", len(tc.locs)) {
			t.Errorf("%s?%s: %s, want problems at %v", tc.path, tc.query, body, tc.locs)
		}
		if len(f.queries)+len(f.ships) > 0 {
			t.Errorf("%s?%s: a refused request was queried", tc.path, tc.query)
		}
	}
}

func TestReadAuthorization(t *testing.T) {
	f := &fakeReader{}
	e := newTestAPI(t, readEnv, f)
	for _, tc := range []struct {
		path, key string
		want      int
	}{
		{"/api/v1/harbors/fleet/ships", "r", http.StatusOK},
		{"/api/v1/harbors/fleet/ships", "rw", http.StatusOK},
		{"/api/v1/harbors/fleet/ships", "w", http.StatusForbidden},
		{"/api/v1/harbors/fleet/ships", "other", http.StatusForbidden},
		{"/api/v1/harbors/other/ships/s/latest", "r", http.StatusForbidden},
		{"/api/v1/harbors/fleet/ships", "", http.StatusUnauthorized},
		{"/api/v1/harbors/fleet/ships", "nope", http.StatusUnauthorized},
		{"/api/v1/harbors/bad%20id/ships", "r", http.StatusBadRequest},
	} {
		if status, _, body := get(e, tc.path, tc.key); status != tc.want {
			t.Errorf("GET %s with %q: %d %s, want %d", tc.path, tc.key, status, body, tc.want)
		}
	}
	if !reflect.DeepEqual(f.ships, []string{"fleet", "fleet"}) {
		t.Errorf("queried %v, want fleet's ships twice", f.ships)
	}
}

func TestReadIDsAreDecodedFromThePath(t *testing.T) {
	f := &fakeReader{}
	e := newTestAPI(t, readEnv, f)
	// Go escapes ' itself, so the first path keeps no RawPath; the others do.
	for _, path := range []string{"x%27%20OR%201=1%20--", "x'%20OR%201=1%20--", "a%2Fb", "caf%C3%A9"} {
		if status, _, body := get(e, "/api/v1/harbors/fleet/ships/"+path+"/latest", "r"); status != http.StatusOK {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
	want := []string{"fleet/x' OR 1=1 --", "fleet/x' OR 1=1 --", "fleet/a/b", "fleet/café"}
	if !reflect.DeepEqual(f.ships, want) {
		t.Errorf("queried %q, want %q", f.ships, want)
	}
}

func TestReadAnswers(t *testing.T) {
	points := make([]reader.Point, 101)
	for i := range points {
		points[i] = reader.Point{Time: reader.Time(1_700_000_000_000 + int64(i)), Value: float64(i)}
	}
	f := &fakeReader{points: points}
	e := newTestAPI(t, readEnv, f)
	status, _, body := get(e, "/api/v1/harbors/fleet/ships/s/cargos/c/readings?from=2023-11-14T22:13:20Z&to=2023-11-14T23:13:20Z", "r")
	var got struct {
		Step, Agg string
		Truncated bool
		Points    []json.RawMessage
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	if !got.Truncated || len(got.Points) != 100 || got.Step != "0s" || got.Agg != "raw" ||
		!strings.Contains(body, `"from":"2023-11-14T22:13:20.000Z","to":"2023-11-14T23:13:20.000Z"`) ||
		!strings.Contains(body, `{"time":"2023-11-14T22:13:20.099Z","value":99}]`) {
		t.Errorf("raw readings past READ_MAX_POINTS: %.300s...", body)
	}
	status, _, body = get(e, "/api/v1/harbors/fleet/ships", "r")
	if want := `{"harbor_id":"fleet","ships":[{"ship_id":"s","last_seen":"1970-01-01T00:00:01.000Z","cargos":[{"cargo_id":"c","last_seen":"1970-01-01T00:00:01.000Z"}]}]}`; status != http.StatusOK || strings.TrimSpace(body) != want {
		t.Errorf("ships: %d %s, want %s", status, body, want)
	}
	status, _, body = get(e, "/api/v1/harbors/fleet/ships/s/latest", "r")
	if want := `{"harbor_id":"fleet","ship_id":"s","cargos":[]}`; status != http.StatusOK || strings.TrimSpace(body) != want {
		t.Errorf("latest: %d %s, want %s", status, body, want)
	}
}

func TestReadUnavailableIs503(t *testing.T) {
	e := newTestAPI(t, readEnv, &fakeReader{err: fmt.Errorf("%w: dial tcp 10.0.0.9:9000: connection refused", reader.ErrUnavailable)})
	for _, path := range []string{"/ships", "/ships/s/latest", "/ships/s/cargos/c/readings"} {
		status, header, body := get(e, "/api/v1/harbors/fleet"+path, "r")
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") != "1" || strings.Contains(body, "10.0.0.9") {
			t.Errorf("%s: %d, Retry-After %q, %s", path, status, header.Get("Retry-After"), body)
		}
	}
}

func TestReadAPIIsOffByDefault(t *testing.T) {
	e := newTestAPI(t, map[string]string{}, &fakeReader{})
	if status, _, body := get(e, "/api/v1/harbors/fleet/ships", "r"); status != http.StatusNotFound {
		t.Fatalf("read API off: %d %s", status, body)
	}
}

func TestCapStep(t *testing.T) {
	for _, tc := range []struct {
		from, to, step int64
		maxPoints      int
		want           int64
	}{
		{0, 10_000, 1_000, 10, 1_000},   // 10 steps: fits
		{0, 10_000, 1_000, 9, 2_000},    // raised: 10000/8 = 1250ms, whole seconds
		{500, 10_500, 1_000, 10, 2_000}, // 11 steps touched: raised
		{0, 3_600_000, 0, 10_000, 1_000},
		{0, 31 * 86_400_000, 0, 10_000, 268_000},
		{0, 10, 3, 2, 1_000},
	} {
		got := capStep(tc.from, tc.to, tc.step, tc.maxPoints)
		if got != tc.want {
			t.Errorf("capStep(%d, %d, %d, %d) = %d, want %d", tc.from, tc.to, tc.step, tc.maxPoints, got, tc.want)
		}
		if n := (tc.to-1)/got - tc.from/got + 1; n > int64(tc.maxPoints) {
			t.Errorf("capStep(%d, %d, %d, %d) = %d gives %d points", tc.from, tc.to, tc.step, tc.maxPoints, got, n)
		}
	}
}
