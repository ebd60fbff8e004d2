package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestTelemetryHarborClientsWorkUnchanged sends every request shape that
// Telemetry Harbor's clients send (its SDKs, the Lighthouse agent, shell
// agents, TTN webhooks, browser pages) to the real pipeline, with their
// paths, header spellings and bodies, and checks the answer and the rows
// that land in ClickHouse. Each case writes its own ship, so its rows are
// found by it.
func TestTelemetryHarborClientsWorkUnchanged(t *testing.T) {
	p := startPipeline(t, options{writers: 1})
	p.harborctl("harbor", "create", "lenient", "-partial")
	lenientKey, _ := p.createKey("lenient", "write")

	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	at := func(d time.Duration, digits int) string { // a time with 0, 3, 6 or 9 fraction digits
		layout := "2006-01-02T15:04:05"
		if digits > 0 {
			layout += "." + strings.Repeat("0", digits)
		}
		return t0.Add(d).Format(layout + "Z07:00")
	}
	ms := func(d time.Duration) int64 { return t0.Add(d).UnixMilli() }
	frac := 123456789 * time.Nanosecond

	cases := []struct {
		name, path, key string
		headers         []string
		body            string
		status          int
		rows            []row // of ship == name, with harbor filled in below
	}{
		{"python-sdk-single", "/api/v2/ingest/" + harborA, keyA, []string{"X-API-Key", keyA},
			`{"time":"` + at(0, 0) + `","ship_id":"python-sdk-single","cargo_id":"temp","value":21.5}`, 200,
			[]row{{Cargo: "temp", Millis: ms(0), Value: 21.5}}},
		{"python-sdk-batch", "/api/v2/ingest/" + harborA + "/batch", keyA, nil,
			`[{"time":"` + at(frac, 3) + `","ship_id":"python-sdk-batch","cargo_id":"a","value":1},{"time":"` + at(frac, 6) + `","ship_id":"python-sdk-batch","cargo_id":"b","value":2},{"time":"` + at(frac, 9) + `","ship_id":"python-sdk-batch","cargo_id":"c","value":3}]`, 200,
			[]row{{Cargo: "a", Millis: ms(123 * time.Millisecond), Value: 1}, {Cargo: "b", Millis: ms(123 * time.Millisecond), Value: 2}, {Cargo: "c", Millis: ms(123 * time.Millisecond), Value: 3}}},
		{"js-sdk-trailing-slash", "/api/v2/ingest/" + harborA + "/", keyA, []string{"X-Api-Key", keyA},
			`{"time":"` + at(0, 3) + `","ship_id":"js-sdk-trailing-slash","cargo_id":"temp","value":"21.5"}`, 200,
			[]row{{Cargo: "temp", Millis: ms(0), Value: 21.5}}},
		{"cpp-sdk-trailing-slash-batch", "/api/v2/ingest/" + harborA + "/batch/", keyA, []string{"x-api-key", keyA},
			`[{"time":"` + at(0, 0) + `","ship_id":"cpp-sdk-trailing-slash-batch","cargo_id":"on","value":true}]`, 200,
			[]row{{Cargo: "on", Millis: ms(0), Value: 1}}},
		{"lighthouse-self-hosted", "/api/v2/ingest/batch", "", []string{"X-Api-Key", keyA},
			`[{"time":"` + at(0, 0) + `","ship_id":"lighthouse-self-hosted","cargo_id":"cpu","value":12.5},{"time":"` + at(time.Second, 0) + `","ship_id":"lighthouse-self-hosted","cargo_id":"disk","value":"80"}]`, 200,
			[]row{{Cargo: "cpu", Millis: ms(0), Value: 12.5}, {Cargo: "disk", Millis: ms(time.Second), Value: 80}}},
		{"lighthouse-gps", "/api/v2/ingest/" + harborA + "/gps", keyA, nil,
			`{"ship_id":"lighthouse-gps","time":"` + at(0, 0) + `","latitude":41.1,"longitude":29}`, 200,
			[]row{{Cargo: "latitude", Millis: ms(0), Value: 41.1}, {Cargo: "longitude", Millis: ms(0), Value: 29}}},
		{"oss-implied-single", "/api/v2/ingest", keyA, nil,
			`{"time":"` + at(0, 6) + `","ship_id":"oss-implied-single","cargo_id":"temp","value":7}`, 200,
			[]row{{Cargo: "temp", Millis: ms(0), Value: 7}}},
		{"oss-flat-batch", "/api/v2/ingest/batch", keyA, nil,
			`[{"ship_id":"oss-flat-batch","time":"` + at(0, 0) + `","cargo_id":"rpm","value":900,"temp":21.5,"unit":"C"}]`, 200,
			[]row{{Cargo: "rpm", Millis: ms(0), Value: 900}, {Cargo: "temp", Millis: ms(0), Value: 21.5}}},
		{"older-v2-path", "/api/v2/ingest/ingest/" + harborA + "/batch", keyA, nil,
			`[{"time":"` + at(0, 0) + `","ship_id":"older-v2-path","cargo_id":"c","value":1}]`, 200,
			[]row{{Cargo: "c", Millis: ms(0), Value: 1}}},
		{"older-v1-path", "/api/v1/ingest/" + harborA, keyA, nil,
			`{"time":"` + at(0, 0) + `","ship_id":"older-v1-path","cargo_id":"c","value":1}`, 200,
			[]row{{Cargo: "c", Millis: ms(0), Value: 1}}},
		{"docs-v1-path", "/api/v1/ingest/ingest/" + harborA + "/batch", keyA, nil,
			`[{"time":"` + at(0, 0) + `","ship_id":"docs-v1-path","cargo_id":"c","value":-1.5e2}]`, 200,
			[]row{{Cargo: "c", Millis: ms(0), Value: -150}}},
		{"ttn-webhook", "/api/v2/ingest/" + harborA + "/ttn", keyA, nil, ttnBody("ttn-webhook", at(0, 9)), 200,
			[]row{{Cargo: "bandwidth", Millis: ms(0), Value: 125000}, {Cargo: "channel_rssi", Millis: ms(0), Value: -42},
				{Cargo: "frequency", Millis: ms(0), Value: 868300000}, {Cargo: "humidity", Millis: ms(0), Value: 55},
				{Cargo: "rssi", Millis: ms(0), Value: -42}, {Cargo: "snr", Millis: ms(0), Value: 9.5},
				{Cargo: "spreading_factor", Millis: ms(0), Value: 7}, {Cargo: "temperature", Millis: ms(0), Value: 21.5}}},
		{"ttn-webhook-implied", "/api/v2/ingest/ttn", keyA, nil, ttnBody("ttn-webhook-implied", at(0, 0)), 200, nil}, // rows checked by count below
		{"text-value-refused", "/api/v2/ingest/" + harborA + "/batch", keyA, nil,
			`[{"ship_id":"text-value-refused","cargo_id":"ok","value":1},{"ship_id":"text-value-refused","cargo_id":"state","value":"ok"}]`, 400, nil},
		{"null-value-refused", "/api/v2/ingest/" + harborA, keyA, nil,
			`{"ship_id":"null-value-refused","cargo_id":"c","value":null}`, 400, nil},
		{"partial-policy", "/api/v2/ingest/batch", lenientKey, nil,
			`[{"time":"` + at(0, 0) + `","ship_id":"partial-policy","cargo_id":"ok","value":"3"},{"ship_id":"partial-policy","cargo_id":"state","value":"ok"},{"time":"` + at(0, 0) + `","ship_id":"partial-policy","cargo_id":"null","value":null}]`, 200,
			[]row{{Cargo: "ok", Millis: ms(0), Value: 3}}},
	}
	var stored int
	for _, c := range cases {
		headers := append([]string{"Content-Type", "application/json"}, c.headers...)
		status, _, body := p.request(http.MethodPost, p.url+c.path, c.key, []byte(c.body), headers...)
		if status != c.status {
			t.Errorf("%s: POST %s answered %d %s, want %d", c.name, c.path, status, body, c.status)
			continue
		}
		if status == http.StatusOK {
			var answer struct {
				Count   int               `json:"count"`
				Skipped []json.RawMessage `json:"skipped"`
			}
			if err := json.Unmarshal(body, &answer); err != nil {
				t.Errorf("%s: answer %s: %v", c.name, body, err)
			}
			if c.name == "partial-policy" && len(answer.Skipped) != 2 {
				t.Errorf("%s: answer %s, want two skipped readings", c.name, body)
			}
			stored += answer.Count
		}
	}
	p.waitForRows(uint64(stored), 30*time.Second)
	byShip := map[string][]row{}
	for _, r := range p.rows() {
		byShip[r.Ship] = append(byShip[r.Ship], r)
	}
	for _, c := range cases {
		got := byShip[c.name]
		if c.name == "ttn-webhook-implied" {
			if len(got) != 8 {
				t.Errorf("%s: %d rows, want 8", c.name, len(got))
			}
			continue
		}
		harbor := harborA
		if c.key == lenientKey {
			harbor = "lenient"
		}
		var want []row
		for _, r := range c.rows {
			r.Harbor, r.Ship = harbor, c.name
			want = append(want, r)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: rows %+v, want %+v", c.name, got, want)
		}
	}
}

// TestBrowserClientsPassCORS: a page's preflight names the headers it will
// send, and the answer allows them.
func TestBrowserClientsPassCORS(t *testing.T) {
	p := startPipeline(t, options{noCH: true})
	status, header, _ := p.request(http.MethodOptions, p.url+"/api/v2/ingest/"+harborA+"/batch", "", nil,
		"Origin", "https://fleet.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-api-key")
	if status != http.StatusNoContent || header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(strings.ToLower(header.Get("Access-Control-Allow-Headers")), "x-api-key") {
		t.Fatalf("preflight answered %d %v", status, header)
	}
}

// ttnBody is The Things Stack v3's uplink webhook message for a device,
// received at the given time (see the API's routes_test.go for the fields).
func ttnBody(device, receivedAt string) string {
	b, err := os.ReadFile("testdata/ttn-uplink.json")
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf(string(b), device, receivedAt)
}
