package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
)

// pageEnv is readEnv with pages of 2 by default, at most 3.
var pageEnv = map[string]string{"READ_API_ENABLED": "true", "READ_DEFAULT_LIMIT": "2", "READ_MAX_LIMIT": "3"}

func TestShipsPages(t *testing.T) {
	f := &fakeReader{more: []reader.Ship{{ShipID: "t"}, {ShipID: "u"}}}
	e := newTestAPI(t, pageEnv, f)
	status, _, body := get(e, "/api/v1/harbors/fleet/ships", "r")
	var page struct {
		HarborID string `json:"harbor_id"`
		Ships    []struct {
			ShipID string `json:"ship_id"`
		}
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	// The reader is asked for one more than the page, which tells that more
	// remain: the page ends at "t" and the cursor points after it.
	if len(page.Ships) != 2 || page.Ships[1].ShipID != "t" || page.NextCursor == nil || page.HarborID != "fleet" {
		t.Fatalf("first page: %s", body)
	}
	if want := (reader.Page{After: "", Limit: 3}); f.pages[0] != want {
		t.Errorf("first page asked for %+v, want %+v", f.pages[0], want)
	}
	get(e, "/api/v1/harbors/fleet/ships?limit=3&cursor="+*page.NextCursor, "r")
	if want := (reader.Page{After: "t", Limit: 4}); f.pages[1] != want {
		t.Errorf("next page asked for %+v, want %+v", f.pages[1], want)
	}
	// The last page has no next_cursor.
	status, _, body = get(e, "/api/v1/harbors/fleet/ships?limit=3", "r")
	if status != http.StatusOK || strings.Contains(body, "next_cursor") || strings.Count(body, `"ship_id"`) != 3 {
		t.Errorf("last page: %d %s", status, body)
	}
}

func TestLatestPages(t *testing.T) {
	f := &fakeReader{values: []reader.CargoValue{{CargoID: "a"}, {CargoID: "b"}, {CargoID: "c"}}}
	e := newTestAPI(t, pageEnv, f)
	status, _, body := get(e, "/api/v1/harbors/fleet/ships/s-1/latest", "r")
	var page struct {
		Cargos []struct {
			CargoID string `json:"cargo_id"`
		}
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil || status != http.StatusOK || len(page.Cargos) != 2 || page.NextCursor == "" {
		t.Fatalf("%d %s", status, body)
	}
	get(e, "/api/v1/harbors/fleet/ships/s-1/latest?cursor="+page.NextCursor, "r")
	if want := []reader.Page{{Limit: 3}, {After: "b", Limit: 3}}; !reflect.DeepEqual(f.pages, want) {
		t.Errorf("pages asked for %+v, want %+v", f.pages, want)
	}
}

func TestPageParameterErrors(t *testing.T) {
	shipCursorOf := func(id string) string { return encodeCursor(shipCursor, id) }
	for _, tc := range []struct {
		path string
		locs [][]string
	}{
		{"ships?limit=0", [][]string{{"limit"}}},
		{"ships?limit=4", [][]string{{"limit"}}},
		{"ships?limit=-1", [][]string{{"limit"}}},
		{"ships?limit=two", [][]string{{"limit"}}},
		{"ships?cursor=%21%21", [][]string{{"cursor"}}},                                         // not base64url
		{"ships?cursor=" + encodeCursor(cargoCursor, "temp"), [][]string{{"cursor"}}},           // a cargo's cursor
		{"ships?cursor=" + shipCursorOf(strings.Repeat("x", 101)), [][]string{{"cursor"}}},      // no ship has that id
		{"ships?cursor=" + shipCursorOf(""), [][]string{{"cursor"}}},                            // nor an empty one
		{"ships?limit=9&cursor=" + url.QueryEscape("s\x00"), [][]string{{"limit"}, {"cursor"}}}, // both
		{"ships/s/latest?cursor=" + shipCursorOf("s"), [][]string{{"cursor"}}},                  // a ship's cursor
		{"ships/%01/latest?limit=0", [][]string{{"ship_id"}, {"limit"}}},
	} {
		f := &fakeReader{}
		status, _, body := get(newTestAPI(t, pageEnv, f), "/api/v1/harbors/fleet/"+tc.path, "r")
		var got ErrorBody
		if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", tc.path, status, body)
			continue
		}
		var locs [][]string
		for _, d := range got.Details {
			locs = append(locs, d.Loc)
		}
		if !reflect.DeepEqual(locs, tc.locs) {
			t.Errorf("%s: %s, want problems at %v", tc.path, body, tc.locs)
		}
		if len(f.pages) > 0 {
			t.Errorf("%s: a refused request was queried", tc.path)
		}
	}
}

func TestReadLimitErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		msg    string
	}{
		{fmt.Errorf("%w: 8 are running", reader.ErrBusy), http.StatusServiceUnavailable, "READ_MAX_CONCURRENT_QUERIES is 8"},
		{fmt.Errorf("%w: code 396", reader.ErrTooManyRows), http.StatusBadRequest, "more than 100000 rows (READ_MAX_RESULT_ROWS): ask for a smaller limit"},
		{fmt.Errorf("%w: code 241", reader.ErrTooMuchMemory), http.StatusServiceUnavailable, "READ_MAX_MEMORY_BYTES is 1073741824"},
	} {
		e := newTestAPI(t, readEnv, &fakeReader{err: tc.err})
		for _, path := range []string{"/ships", "/ships/s/latest", "/ships/s/cargos/c/readings"} {
			status, header, body := get(e, "/api/v1/harbors/fleet"+path, "r")
			var got ErrorBody
			if err := json.Unmarshal([]byte(body), &got); err != nil || status != tc.status || !strings.Contains(got.Message, tc.msg) ||
				(status == http.StatusServiceUnavailable) != (header.Get("Retry-After") != "") || strings.Contains(body, "code") {
				t.Errorf("%v on %s: %d, Retry-After %q, %s", tc.err, path, status, header.Get("Retry-After"), body)
			}
		}
	}
}

func TestReadConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		environment map[string]string
		want        string // in the error; "" for none
	}{
		{map[string]string{}, ""},
		{map[string]string{"READ_DEFAULT_LIMIT": "1001"}, "READ_DEFAULT_LIMIT"},
		{map[string]string{"READ_MAX_LIMIT": "0", "READ_DEFAULT_LIMIT": "0"}, "READ_MAX_LIMIT"},
		{map[string]string{"READ_MAX_RESULT_ROWS": "10000"}, "READ_MAX_RESULT_ROWS"},
		{map[string]string{"READ_QUERY_TIMEOUT": "0s"}, "READ_QUERY_TIMEOUT"},
		{map[string]string{"READ_MAX_MEMORY_BYTES": "1000"}, "READ_MAX_MEMORY_BYTES"},
		{map[string]string{"READ_MAX_CONCURRENT_QUERIES": "0"}, "READ_MAX_CONCURRENT_QUERIES"},
		{map[string]string{"READ_QUEUE_TIMEOUT": "-1s"}, "READ_QUEUE_TIMEOUT"},
	} {
		cfg := devtest.ParseEnv[ReadConfig](t, tc.environment)
		err := cfg.Check()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: %v, want an error about %q", tc.environment, err, tc.want)
		}
	}
}
