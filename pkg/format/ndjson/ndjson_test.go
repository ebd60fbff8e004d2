package ndjson

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

func TestReadingsAndFlatReadingsPerLine(t *testing.T) {
	body := `{"time":"2026-11-25T11:00:00Z","ship_id":"s1","cargo_id":"temp","value":21.5}` + "\n" +
		"\r\n   \n" +
		`{"ship_id":"s2","lat":41.1,"lon":"29","unit":"deg"}` + "\r\n" +
		`{"ship_id":"s\u00e9","cargo_id":"on","value":true}`
	d, err := Decode([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	now := formattest.Now.UnixMilli()
	want := []schema.Reading{
		{Time: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC).UnixMilli(), ShipID: "s1", CargoID: "temp", Value: 21.5},
		{Time: now, ShipID: "s2", CargoID: "lat", Value: 41.1},
		{Time: now, ShipID: "s2", CargoID: "lon", Value: 29},
		{Time: now, ShipID: "sé", CargoID: "on", Value: 1},
	}
	if !reflect.DeepEqual(d.Readings, want) {
		t.Fatalf("%+v", d.Readings)
	}
}

func TestErrorsHaveTheirLine(t *testing.T) {
	body := `{"ship_id":"s","cargo_id":"c","value":1}` + "\n" +
		`{"ship_id":"s","cargo_id":"c","value":"x"}` + "\n" +
		`[1,2]` + "\n" +
		`{"ship_id":"s",` + "\n" +
		`{"ship_id":"s","cargo_id":"c","value":1} {}` + "\n"
	formattest.CheckPolicies(t, Decode, body, 1, "line 2.value: type_error", "line 3: syntax", "line 4: syntax", "line 5: syntax")
}

func TestEmptyTooLongAndNotUTF8(t *testing.T) {
	for _, body := range []string{"", "\n \n"} {
		if _, err := Decode([]byte(body), formattest.Now, formattest.Options(10, schema.Whole)); !errors.Is(err, schema.ErrEmptyBatch) {
			t.Errorf("%q: %v", body, err)
		}
	}
	var long *schema.TooLongError
	body := strings.Repeat(`{"ship_id":"s","cargo_id":"c","value":1}`+"\n", 5)
	if _, err := Decode([]byte(body), formattest.Now, formattest.Options(3, schema.Whole)); !errors.As(err, &long) || long.Len != 5 {
		t.Fatalf("5 over 3: %v", err)
	}
	if _, err := Decode([]byte("{\"ship_id\":\"\xff\"}"), formattest.Now, formattest.Options(3, schema.Whole)); !errors.Is(err, schema.ErrMalformed) {
		t.Fatalf("not UTF-8: %v", err)
	}
}

// FuzzDecode: valid readings or a documented error; accepted lines are JSON
// objects, and the accepted readings come back the same from a JSON batch
// of the same lines.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"ship_id":"s","cargo_id":"c","value":1}` + "\n" + `{"ship_id":"t","x":2}`,
		"\n\n{}\n[]\n", `{"ship_id":"s","cargo_id":"c","value":1e400}`, "{\"a\":\"\\ud800\"}\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if _, ok := formattest.CheckFuzzed(t, Decode, body, formattest.Options(50, schema.Whole)); !ok {
			return
		}
		for _, line := range strings.Split(string(body), "\n") {
			if strings.TrimSpace(line) != "" && !json.Valid([]byte(line)) {
				t.Fatalf("accepted a line that is not JSON: %q", line)
			}
		}
	})
}

func BenchmarkDecode5000(b *testing.B) {
	formattest.BenchmarkDecode(b, Decode, formattest.BatchNDJSON(5000), 5000)
}

// TestHostileBodies: long, deep, wide or binary bodies answer an error, without panics.
func TestHostileBodies(t *testing.T) {
	formattest.CheckRefused(t, Decode, map[string]string{
		"deep":         `{"ship_id":"s","x":` + strings.Repeat("[", 1<<16) + "\n",
		"long string":  `{"ship_id":"` + strings.Repeat("a", 1<<20) + `","cargo_id":"c","value":1}`,
		"many fields":  `{"ship_id":"s"` + strings.Repeat(`,"f":1`, 1<<16) + `,"g":"x"}` + "\n" + "{}",
		"many lines":   strings.Repeat("{}\n", 1<<16),
		"binary":       "\x00\x01{\"\xfe",
		"blank spaces": strings.Repeat(" \t\r\n", 1<<18) + "x",
	})
}
