package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// get sends a GET to the API with the key (none if empty) and returns the
// status, the headers and the body.
func (p *pipeline) get(path, key string) (int, http.Header, []byte) {
	p.t.Helper()
	return p.request(http.MethodGet, p.url+path, key, nil)
}

// getJSON is get for an answer that must be 200 with the JSON want (compared
// as values, not text).
func (p *pipeline) getJSON(path, key, want string) {
	p.t.Helper()
	status, _, body := p.get(path, key)
	var got, wanted any
	if err := json.Unmarshal([]byte(want), &wanted); err != nil {
		p.t.Fatalf("bad want %s: %v", want, err)
	}
	if err := json.Unmarshal(body, &got); status != http.StatusOK || err != nil || !reflect.DeepEqual(got, wanted) {
		p.t.Errorf("GET %s: %d\n got %s\nwant %s", path, status, body, want)
	}
}

// getProblem is get for an answer that must be the error status with
// problems at the locations locs (none for an error without details).
func (p *pipeline) getProblem(path, key string, status int, locs ...string) {
	p.t.Helper()
	got, _, body := p.get(path, key)
	var e struct {
		Message string `json:"message"`
		Details []struct {
			Loc []string `json:"loc"`
		} `json:"details"`
	}
	var gotLocs []string
	if err := json.Unmarshal(body, &e); err == nil {
		for _, d := range e.Details {
			gotLocs = append(gotLocs, strings.Join(d.Loc, "."))
		}
	}
	if got != status || e.Message == "" || !reflect.DeepEqual(gotLocs, locs) {
		p.t.Errorf("GET %s: %d %s, want %d with problems at %v", path, got, body, status, locs)
	}
}

// TestReadAPI posts readings (each batch twice) through the pipeline and
// reads them back over the read API: ships, raw and downsampled readings,
// latest values, the points cap, bad parameters, keys' scopes and harbors,
// hostile ids, and ClickHouse down and back.
func TestReadAPI(t *testing.T) { devtest.OnEachEngine(t, testReadAPI) }

func testReadAPI(t *testing.T, engine devenv.Engine) {
	p := startPipeline(t, options{writers: 1, engine: engine, environment: map[string]string{
		"READ_API_ENABLED": "true", "READ_MAX_POINTS": "8", "READ_MAX_RANGE": "48h",
	}})
	t0 := time.Now().UTC().Truncate(time.Minute).Add(-30 * time.Minute)
	at := func(d time.Duration) string { return t0.Add(d).Format("2006-01-02T15:04:05.000Z") }
	reading := func(d time.Duration, ship, cargo string, value float64) string {
		return fmt.Sprintf(`{"time":%q,"ship_id":%q,"cargo_id":%q,"value":%v}`, at(d), ship, cargo, value)
	}
	// ship-1's temp: 10 readings, 1s apart from t0+100ms.
	var readingsA []string
	for i, v := range []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3} {
		readingsA = append(readingsA, reading(time.Duration(i)*time.Second+100*time.Millisecond, "ship-1", "temp", v))
	}
	readingsA = append(readingsA,
		reading(2*time.Second, "ship-1", "rpm", 1200), reading(7500*time.Millisecond, "ship-1", "rpm", 1300),
		reading(20*time.Second, "ship-2", "temp", -4.5))
	batchA := []byte("[" + strings.Join(readingsA, ",") + "]")
	batchB := []byte("[" + reading(0, "ship-1", "temp", 99) + "]")
	// Every reading twice, in inserts of their own, and no merge to collapse
	// them (ClickHouse 26 would within a minute, and within one insert too):
	// both copies are in the table, and the API reads each once.
	if err := p.store.Conn().Exec(context.Background(), "SYSTEM STOP MERGES "+p.store.Table().FullName()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		for _, post := range []struct {
			harbor, key string
			body        []byte
		}{{harborA, keyA, batchA}, {harborB, keyB, batchB}} {
			if status, _, body := p.post("/api/v2/ingest/"+post.harbor+"/batch", post.key, post.body); status != http.StatusOK {
				t.Fatalf("POST %s: %d %s", post.harbor, status, body)
			}
		}
		p.waitForRows(14, 30*time.Second)
		consumer := p.consumer()
		devtest.WaitFor(t, time.Minute, "the writer to store every copy", func() bool {
			info, err := consumer.Info(context.Background())
			return err == nil && info.NumPending == 0 && info.NumAckPending == 0
		})
	}
	if n := p.count(false, ""); n != 28 {
		t.Fatalf("the table holds %d rows before merges, want both copies of the 14 readings", n)
	}

	const shipsA = "/api/v1/harbors/" + harborA + "/ships"
	temp := shipsA + "/ship-1/cargos/temp/readings"
	window := "from=" + at(0) + "&to=" + at(10*time.Second)

	t.Run("ships", func(t *testing.T) {
		ship1 := fmt.Sprintf(`{"ship_id":"ship-1","last_seen":%q,"cargos":[{"cargo_id":"rpm","last_seen":%q},{"cargo_id":"temp","last_seen":%q}]}`,
			at(9100*time.Millisecond), at(7500*time.Millisecond), at(9100*time.Millisecond))
		ship2 := fmt.Sprintf(`{"ship_id":"ship-2","last_seen":%q,"cargos":[{"cargo_id":"temp","last_seen":%q}]}`, at(20*time.Second), at(20*time.Second))
		p.getJSON(shipsA, keyA, `{"harbor_id":"harbor-a","ships":[`+ship1+`,`+ship2+`]}`)
		p.getJSON("/api/v1/harbors/"+harborB+"/ships", keyB, fmt.Sprintf(`{"harbor_id":"harbor-b","ships":[{"ship_id":"ship-1","last_seen":%q,"cargos":[{"cargo_id":"temp","last_seen":%q}]}]}`, at(0), at(0)))
		// Pages of one ship: the first has a next_cursor, the last none.
		status, _, body := p.get(shipsA+"?limit=1", keyA)
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil || status != http.StatusOK || page.NextCursor == "" || !strings.Contains(string(body), `"ship_id":"ship-1"`) {
			t.Fatalf("first page: %d %s", status, body)
		}
		p.getJSON(shipsA+"?limit=1&cursor="+page.NextCursor, keyA, `{"harbor_id":"harbor-a","ships":[`+ship2+`]}`)
		// A ship's latest values come in pages of cargos too.
		status, _, body = p.get(shipsA+"/ship-1/latest?limit=1", keyA)
		if err := json.Unmarshal(body, &page); err != nil || status != http.StatusOK || page.NextCursor == "" || !strings.Contains(string(body), `"cargo_id":"rpm"`) {
			t.Fatalf("first page of latest values: %d %s", status, body)
		}
		p.getJSON(shipsA+"/ship-1/latest?limit=1&cursor="+page.NextCursor, keyA, fmt.Sprintf(
			`{"harbor_id":"harbor-a","ship_id":"ship-1","cargos":[{"cargo_id":"temp","time":%q,"value":3}]}`, at(9100*time.Millisecond)))
	})

	t.Run("downsampled", func(t *testing.T) {
		// Two steps of 5s: values 3 1 4 1 5, then 9 2 6 5 3.
		for agg, values := range map[string][2]float64{"avg": {2.8, 5}, "min": {1, 2}, "max": {5, 9}, "last": {5, 3}, "count": {5, 5}} {
			p.getJSON(temp+"?"+window+"&step=5s&agg="+agg, keyA, fmt.Sprintf(
				`{"harbor_id":"harbor-a","ship_id":"ship-1","cargo_id":"temp","from":%q,"to":%q,"step":"5s","agg":%q,"truncated":false,
				  "points":[{"time":%q,"value":%v},{"time":%q,"value":%v}]}`,
				at(0), at(10*time.Second), agg, at(0), values[0], at(5*time.Second), values[1]))
		}
		// A step in seconds, averaged by default; and steps without readings
		// have no point.
		p.getJSON(shipsA+"/ship-1/cargos/rpm/readings?"+window+"&step=3", keyA, fmt.Sprintf(
			`{"harbor_id":"harbor-a","ship_id":"ship-1","cargo_id":"rpm","from":%q,"to":%q,"step":"3s","agg":"avg","truncated":false,
			  "points":[{"time":%q,"value":1200},{"time":%q,"value":1300}]}`,
			at(0), at(10*time.Second), at(0), at(6*time.Second)))
	})

	t.Run("raw and capped", func(t *testing.T) {
		points := func(from, to int) string {
			var ps []string
			for i, v := range []float64{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}[from:to] {
				ps = append(ps, fmt.Sprintf(`{"time":%q,"value":%v}`, at(time.Duration(from+i)*time.Second+100*time.Millisecond), v))
			}
			return "[" + strings.Join(ps, ",") + "]"
		}
		// 10 readings, READ_MAX_POINTS 8: the first 8, then the rest.
		p.getJSON(temp+"?"+window, keyA, fmt.Sprintf(
			`{"harbor_id":"harbor-a","ship_id":"ship-1","cargo_id":"temp","from":%q,"to":%q,"step":"0s","agg":"raw","truncated":true,"points":%s}`,
			at(0), at(10*time.Second), points(0, 8)))
		next := at(7*time.Second + 101*time.Millisecond)
		p.getJSON(temp+"?from="+next+"&to="+at(10*time.Second), keyA, fmt.Sprintf(
			`{"harbor_id":"harbor-a","ship_id":"ship-1","cargo_id":"temp","from":%q,"to":%q,"step":"0s","agg":"raw","truncated":false,"points":%s}`,
			next, at(10*time.Second), points(8, 10)))
		// 10 steps of 1s are too many: raised to 2s (10s / 7, whole seconds).
		p.getJSON(temp+"?"+window+"&step=1s&agg=count", keyA, fmt.Sprintf(
			`{"harbor_id":"harbor-a","ship_id":"ship-1","cargo_id":"temp","from":%q,"to":%q,"step":"2s","agg":"count","truncated":false,
			  "points":[{"time":%q,"value":2},{"time":%q,"value":2},{"time":%q,"value":2},{"time":%q,"value":2},{"time":%q,"value":2}]}`,
			at(0), at(10*time.Second), at(0), at(2*time.Second), at(4*time.Second), at(6*time.Second), at(8*time.Second)))
		// No range and no step: the last hour in at most 8 steps (1h / 7 = 515s).
		status, _, body := p.get(temp+"?agg=max", keyA)
		var got struct {
			Step   string
			Points []struct{ Value float64 }
		}
		if err := json.Unmarshal(body, &got); err != nil || status != http.StatusOK || got.Step != "8m35s" || len(got.Points) == 0 || len(got.Points) > 8 {
			t.Errorf("the last hour: %d %s", status, body)
		}
	})

	t.Run("latest", func(t *testing.T) {
		p.getJSON(shipsA+"/ship-1/latest", keyA, fmt.Sprintf(
			`{"harbor_id":"harbor-a","ship_id":"ship-1","cargos":[{"cargo_id":"rpm","time":%q,"value":1300},{"cargo_id":"temp","time":%q,"value":3}]}`,
			at(7500*time.Millisecond), at(9100*time.Millisecond)))
		p.getJSON(shipsA+"/no-such-ship/latest", keyA, `{"harbor_id":"harbor-a","ship_id":"no-such-ship","cargos":[]}`)
	})

	t.Run("bad parameters", func(t *testing.T) {
		p.getProblem(temp+"?from=yesterday", keyA, http.StatusBadRequest, "from")
		p.getProblem(temp+"?from="+at(0)+"&to="+at(0), keyA, http.StatusBadRequest, "to")
		p.getProblem(temp+"?from="+at(-72*time.Hour)+"&to="+at(0), keyA, http.StatusBadRequest, "to")
		p.getProblem(temp+"?agg=median&step=x", keyA, http.StatusBadRequest, "agg")
		p.getProblem(temp+"?step=x", keyA, http.StatusBadRequest, "step")
		p.getProblem(temp+"?agg=raw&step=5s", keyA, http.StatusBadRequest, "step")
		p.getProblem(shipsA+"/"+strings.Repeat("s", 101)+"/cargos/%09/readings", keyA, http.StatusBadRequest, "ship_id", "cargo_id")
		p.getProblem(shipsA+"/%C3%28/latest", keyA, http.StatusBadRequest, "ship_id") // not UTF-8
		p.getProblem("/api/v1/harbors/bad%20harbor/ships", keyA, http.StatusBadRequest)
		p.getProblem(shipsA+"?limit=0&cursor=x", keyA, http.StatusBadRequest, "limit", "cursor")
	})

	t.Run("keys", func(t *testing.T) {
		p.harborctl("harbor", "create", harborA)
		writeOnly, _ := p.createKey(harborA, "write")
		readOnly, _ := p.createKey(harborA, "read")
		devtest.WaitFor(t, time.Minute, "the managed keys", func() bool {
			status, _, _ := p.get(shipsA, readOnly)
			return status == http.StatusOK
		})
		p.getProblem(shipsA, writeOnly, http.StatusForbidden)
		p.getProblem(shipsA, "", http.StatusUnauthorized)
		p.getProblem(shipsA, "no-such-key", http.StatusUnauthorized)
		if status, _, body := p.post("/api/v2/ingest/"+harborA, readOnly, []byte(`{"ship_id":"s","cargo_id":"c","value":1}`)); status != http.StatusForbidden {
			t.Errorf("a read-only key wrote: %d %s", status, body)
		}
		// A key of one harbor neither reads nor writes another.
		p.getProblem("/api/v1/harbors/"+harborB+"/ships", keyA, http.StatusForbidden)
		p.getProblem("/api/v1/harbors/"+harborB+"/ships/ship-1/latest", keyA, http.StatusForbidden)
		p.getProblem("/api/v1/harbors/"+harborB+"/ships/ship-1/cargos/temp/readings", readOnly, http.StatusForbidden)
		p.getProblem(temp, keyB, http.StatusForbidden)
		if status, _, body := p.post("/api/v2/ingest/"+harborB, keyA, []byte(`{"ship_id":"s","cargo_id":"c","value":1}`)); status != http.StatusForbidden {
			t.Errorf("harbor A's key wrote to harbor B: %d %s", status, body)
		}
	})

	t.Run("hostile ids", func(t *testing.T) {
		for _, id := range []string{"x' OR 1=1 --", `x\' OR 1=1 --`, "'; DROP TABLE harbor.readings; --", "ship-1' --"} {
			p.getJSON(shipsA+"/"+url.PathEscape(id)+"/latest", keyA,
				fmt.Sprintf(`{"harbor_id":"harbor-a","ship_id":%q,"cargos":[]}`, id))
			p.getJSON(shipsA+"/ship-1/cargos/"+url.PathEscape(id)+"/readings?"+window, keyA, fmt.Sprintf(
				`{"harbor_id":"harbor-a","ship_id":"ship-1","cargo_id":%q,"from":%q,"to":%q,"step":"0s","agg":"raw","truncated":false,"points":[]}`,
				id, at(0), at(10*time.Second)))
		}
		// A bare quote in the URL, as some clients send it.
		p.getJSON(shipsA+"/x'%20OR%201=1%20--/latest", keyA, `{"harbor_id":"harbor-a","ship_id":"x' OR 1=1 --","cargos":[]}`)
		p.getProblem(temp+"?from="+url.QueryEscape("2026' OR 1=1"), keyA, http.StatusBadRequest, "from")
		if n := p.count(true, ""); n != 14 {
			t.Errorf("the table holds %d rows after the hostile reads, want 14", n)
		}
	})

	t.Run("ClickHouse down and back", func(t *testing.T) {
		p.ch.Stop()
		status, header, body := p.get(shipsA, keyA)
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || strings.Contains(string(body), p.ch.Addr) {
			t.Errorf("ClickHouse down: %d, Retry-After %q, %s", status, header.Get("Retry-After"), body)
		}
		if err := p.ch.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		devtest.WaitFor(t, time.Minute, "reads after ClickHouse's restart", func() bool {
			status, _, _ := p.get(shipsA, keyA)
			return status == http.StatusOK
		})
		p.getJSON(shipsA+"/ship-2/latest", keyA, fmt.Sprintf(`{"harbor_id":"harbor-a","ship_id":"ship-2","cargos":[{"cargo_id":"temp","time":%q,"value":-4.5}]}`, at(20*time.Second)))
	})
}

// TestReadAPIIsOffByDefault: without READ_API_ENABLED the read routes are
// not there, and the API needs no ClickHouse.
func TestReadAPIIsOffByDefault(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	p.getProblem("/api/v1/harbors/"+harborA+"/ships", keyA, http.StatusNotFound)
}

// TestOpenAPIDocumentIsServed: the API serves its OpenAPI document without a
// key, and it lists the read routes.
func TestOpenAPIDocumentIsServed(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	status, header, body := p.get("/api/openapi.json", "")
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || status != http.StatusOK || header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(doc.OpenAPI, "3.") || doc.Paths["/api/v1/harbors/{harbor_id}/ships/{ship_id}/latest"] == nil {
		t.Fatalf("GET /api/openapi.json: %d %s %.200s", status, header.Get("Content-Type"), body)
	}
}
