package jsonbody

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// whole are the options of a decode with no limit on the readings.
var whole = formattest.Options(0, schema.Whole)

// decodeOne decodes a single-reading body that must hold exactly one reading.
func decodeOne(t *testing.T, body string) (schema.Reading, error) {
	t.Helper()
	d, err := DecodeReading([]byte(body), formattest.Now, whole)
	if err != nil {
		return schema.Reading{}, err
	}
	if len(d.Readings) != 1 {
		t.Fatalf("%s: %d readings, want 1", body, len(d.Readings))
	}
	return d.Readings[0], nil
}

func TestDecodeReadingAcceptsTimeFormats(t *testing.T) {
	cases := map[string]int64{
		`"2026-11-25T10:00:00Z"`:           time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli(),
		`"2026-11-25T10:00:00.123Z"`:       time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC).UnixMilli(),
		`"2026-11-25T10:00:00.123456789Z"`: time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC).UnixMilli(),
		`"2026-11-25T12:30:00.5+02:30"`:    time.Date(2026, 11, 25, 10, 0, 0, 500e6, time.UTC).UnixMilli(),
		`"2026-11-25T05:00:00-05:00"`:      time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli(),
	}
	for in, want := range cases {
		r, err := decodeOne(t, `{"time":`+in+`,"ship_id":"s","cargo_id":"c","value":1}`)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if r.Time != want {
			t.Errorf("%s: time %d, want %d", in, r.Time, want)
		}
	}
}

func TestDecodeReadingDefaultsAndFields(t *testing.T) {
	r, err := decodeOne(t, `{"ship_id":"ship-1","cargo_id":"temp °C","value":-0.5e2,"extra":{"a":[1]},"unit":"°C","n":null}`)
	if err != nil {
		t.Fatal(err)
	}
	want := schema.Reading{Time: formattest.Now.UnixMilli(), ShipID: "ship-1", CargoID: "temp °C", Value: -50}
	if r != want {
		t.Fatalf("got %+v, want %+v", r, want)
	}
}

func TestDecodeReadingRejects(t *testing.T) {
	long := strings.Repeat("é", 101)
	cases := []struct {
		body, field, typ string
	}{
		{`{"ship_id":"s","cargo_id":"c"}`, "value", schema.TypeMissing},
		{`{"cargo_id":"c","value":1}`, "ship_id", schema.TypeMissing},
		{`{"ship_id":"s","value":1}`, "cargo_id", schema.TypeMissing},
		{`{"ship_id":"s","cargo_id":"c","value":"ok"}`, "value", schema.TypeMismatch},
		{`{"ship_id":"s","cargo_id":"c","value":" 1"}`, "value", schema.TypeMismatch},
		{`{"ship_id":"s","cargo_id":"c","value":"NaN"}`, "value", schema.TypeMismatch},
		{`{"ship_id":"s","cargo_id":"c","value":"0x10"}`, "value", schema.TypeMismatch},
		{`{"ship_id":"s","cargo_id":"c","value":"1e400"}`, "value", schema.TypeNotFinite},
		{`{"ship_id":"s","cargo_id":"c","value":null}`, "value", schema.TypeMismatch},
		{`{"ship_id":"s","cargo_id":"c","value":[1]}`, "value", schema.TypeMismatch},
		{`{"ship_id":"s","cargo_id":"c","value":1e400}`, "value", schema.TypeNotFinite},
		{`{"ship_id":"s","cargo_id":"c","value":-1e400}`, "value", schema.TypeNotFinite},
		{`{"ship_id":1,"cargo_id":"c","value":1}`, "ship_id", schema.TypeMismatch},
		{`{"ship_id":"","cargo_id":"c","value":1}`, "ship_id", schema.TypeLength},
		{`{"ship_id":"` + long + `","cargo_id":"c","value":1}`, "ship_id", schema.TypeLength},
		{`{"ship_id":"a\u0000b","cargo_id":"c","value":1}`, "ship_id", schema.TypeCharacters},
		{`{"ship_id":"s","cargo_id":"a\nb","value":1}`, "cargo_id", schema.TypeCharacters},
		{`{"ship_id":"\ud800","cargo_id":"c","value":1}`, "ship_id", schema.TypeCharacters},
		{`{"time":1700000000,"ship_id":"s","cargo_id":"c","value":1}`, "time", schema.TypeMismatch},
		{`{"time":"2026-11-25T10:00:00","ship_id":"s","cargo_id":"c","value":1}`, "time", schema.TypeTimeFormat},
		{`{"time":"2026-11-25","ship_id":"s","cargo_id":"c","value":1}`, "time", schema.TypeTimeFormat},
		{`{"time":"yesterday","ship_id":"s","cargo_id":"c","value":1}`, "time", schema.TypeTimeFormat},
		{`{"time":"2026-11-27T12:00:00Z","ship_id":"s","cargo_id":"c","value":1}`, "time", schema.TypeTimeRange},
		{`{"time":"1999-01-01T00:00:00Z","ship_id":"s","cargo_id":"c","value":1}`, "time", schema.TypeTimeRange},
	}
	for _, c := range cases {
		_, err := DecodeReading([]byte(c.body), formattest.Now, whole)
		var inv *schema.InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("%s: got %v, want an schema.InvalidError", c.body, err)
			continue
		}
		d := inv.Details[0]
		if len(d.Loc) != 1 || d.Loc[0] != c.field || d.Type != c.typ || d.Msg == "" {
			t.Errorf("%s: got %+v, want loc [%s] type %s", c.body, d, c.field, c.typ)
		}
	}
}

func TestDecodeMalformed(t *testing.T) {
	for _, body := range []string{``, `   `, `[`, `{"ship_id":`, `"text"`, `[1]`, "{\"ship_id\":\"\xff\"}", `nul`} {
		if _, err := DecodeReading([]byte(body), formattest.Now, whole); !errors.Is(err, schema.ErrMalformed) {
			t.Errorf("single %q: got %v, want schema.ErrMalformed", body, err)
		}
	}
	for _, body := range []string{``, `{}`, `[{}`, `[1,]`, `"x"`} {
		if _, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole)); !errors.Is(err, schema.ErrMalformed) {
			t.Errorf("batch %q: got %v, want schema.ErrMalformed", body, err)
		}
	}
}

func TestDecodeBatch(t *testing.T) {
	body := `[{"time":"2026-11-25T10:00:00.001Z","ship_id":"a","cargo_id":"x","value":1},
	          {"time":"2026-11-25T10:00:00.002Z","ship_id":"b","cargo_id":"y","value":2.5}]`
	d, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	rs := d.Readings
	if len(rs) != 2 || rs[1].ShipID != "b" || rs[1].Value != 2.5 || rs[1].Time-rs[0].Time != 1 {
		t.Fatalf("got %+v", rs)
	}
}

func TestDecodeBatchReportsEveryBadReading(t *testing.T) {
	body := `[{"ship_id":"a","cargo_id":"x","value":1}, 7, {"ship_id":"a","cargo_id":"x"}, {"ship_id":"","cargo_id":"x","value":"no"}]`
	_, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	got, count := locations(t, err)
	if want := "[1] [2].value [3].ship_id [3].value"; got != want || count != 4 {
		t.Fatalf("locations %s (count %d), want %s", got, count, want)
	}
}

// TestDecodeBatchChecksEveryShip: a ship_id repeated from the object before
// is taken as it was, valid or not: one too long is refused each time.
func TestDecodeBatchChecksEveryShip(t *testing.T) {
	long := strings.Repeat("s", 101)
	body := `[{"ship_id":"a","cargo_id":"x","value":1}, {"ship_id":"a","cargo_id":"y","value":2},
	          {"ship_id":"` + long + `","cargo_id":"x","value":3}, {"ship_id":"` + long + `","cargo_id":"x","value":4},
	          {"ship_id":"a","cargo_id":"x","value":5}]`
	_, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	if got, count := locations(t, err); got != "[2].ship_id [3].ship_id" || count != 2 {
		t.Fatalf("locations %s (count %d), want [2].ship_id [3].ship_id", got, count)
	}
	d, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Partial))
	if err != nil || len(d.Readings) != 3 || d.Readings[1].ShipID != "a" || d.Readings[2].Value != 5 {
		t.Fatalf("partial: %+v, %v", d.Readings, err)
	}
}

func TestDecodeBatchLimits(t *testing.T) {
	if _, err := DecodeBatch([]byte(` [ ] `), formattest.Now, formattest.Options(10, schema.Whole)); !errors.Is(err, schema.ErrEmptyBatch) {
		t.Errorf("empty: got %v", err)
	}
	one := `{"ship_id":"a","cargo_id":"x","value":1}`
	body := "[" + strings.Repeat(one+",", 10) + one + "]"
	var tl *schema.TooLongError
	if _, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole)); !errors.As(err, &tl) || tl.Len != 11 {
		t.Errorf("11 readings: got %v", err)
	}
	bad := "[" + strings.Repeat(`{"value":1},`, 200) + `{"value":1}]`
	_, err := DecodeBatch([]byte(bad), formattest.Now, formattest.Options(1000, schema.Whole))
	var inv *schema.InvalidError
	if !errors.As(err, &inv) || len(inv.Details) != schema.MaxErrorDetails || inv.Count != 402 {
		t.Errorf("many bad readings: got %v", err)
	}
}

func TestDecodeValuesAsClientsSendThem(t *testing.T) {
	cases := map[string]float64{
		`21.5`: 21.5, `"21.5"`: 21.5, `"-1e3"`: -1000, `"0"`: 0, `true`: 1, `false`: 0,
	}
	for in, want := range cases {
		r, err := decodeOne(t, `{"ship_id":"s","cargo_id":"c","value":`+in+`}`)
		if err != nil || r.Value != want {
			t.Errorf("value %s: %v, %v; want %v", in, r.Value, err, want)
		}
	}
}

func TestDecodeFlatReadings(t *testing.T) {
	body := `[{"ship_id":"s1","time":"2026-11-25T10:00:00Z","latitude":41.1,"longitude":"29","moving":true,"unit":"deg","fix":null,"nested":{"a":1}},
	          {"ship_id":"s2","cargo_id":"rpm","value":900,"temp":21.5,"temp":22.5}]`
	d, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli()
	want := []schema.Reading{
		{Time: t0, ShipID: "s1", CargoID: "latitude", Value: 41.1},
		{Time: t0, ShipID: "s1", CargoID: "longitude", Value: 29},
		{Time: t0, ShipID: "s1", CargoID: "moving", Value: 1},
		{Time: formattest.Now.UnixMilli(), ShipID: "s2", CargoID: "rpm", Value: 900},
		{Time: formattest.Now.UnixMilli(), ShipID: "s2", CargoID: "temp", Value: 22.5},
	}
	if len(d.Readings) != len(want) {
		t.Fatalf("got %+v, want %+v", d.Readings, want)
	}
	for i := range want {
		if d.Readings[i] != want[i] {
			t.Errorf("reading %d: %+v, want %+v", i, d.Readings[i], want[i])
		}
	}
	single, err := DecodeReading([]byte(`{"ship_id":"s","latitude":1,"longitude":2}`), formattest.Now, whole)
	if err != nil || len(single.Readings) != 2 {
		t.Fatalf("single flat reading: %+v, %v", single, err)
	}
}

func TestDecodeFlatReadingsAreValidated(t *testing.T) {
	long := strings.Repeat("k", 101)
	body := `[{"ship_id":"s","` + long + `":1,"ok":2}, {"ship_id":"","a":1}, {"ship_id":"s","b":1e400}, {"ship_id":"s","unit":"C"}]`
	_, err := DecodeBatch([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	// The last object has no reading at all: it is told what it lacks.
	got, _ := locations(t, err)
	if want := "[0]." + long + " [1].ship_id [2].b [3].cargo_id [3].value"; got != want {
		t.Fatalf("locations %s, want %s", got, want)
	}
	var tl *schema.TooLongError
	if _, err := DecodeBatch([]byte(`[{"ship_id":"s","a":1,"b":2,"c":3}]`), formattest.Now, formattest.Options(2, schema.Whole)); !errors.As(err, &tl) || tl.Len != 3 {
		t.Errorf("a flat object past the limit: got %v", err)
	}
}

func TestDecodeManyFlatFieldsKeepsTheLastOfEach(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"ship_id":"s"`)
	for i := range 1000 {
		fmt.Fprintf(&b, `,"k%d":%d`, i%100, i)
	}
	b.WriteString("}")
	d, err := DecodeReading([]byte(b.String()), formattest.Now, whole)
	if err != nil || len(d.Readings) != 100 {
		t.Fatalf("%d readings, %v; want 100", len(d.Readings), err)
	}
	if r := d.Readings[99]; r.CargoID != "k99" || r.Value != 999 {
		t.Fatalf("last reading %+v, want k99 = 999", r)
	}
}

func TestDecodePartialPolicy(t *testing.T) {
	body := `[{"ship_id":"s","cargo_id":"a","value":1}, {"ship_id":"s","cargo_id":"b","value":"ok"}, 7, {"ship_id":"s","cargo_id":"c","value":3}]`
	opt := formattest.Options(10, schema.Whole)
	if _, err := DecodeBatch([]byte(body), formattest.Now, opt); err == nil {
		t.Fatal("whole policy accepted a batch with bad readings")
	}
	opt.Policy = schema.Partial
	d, err := DecodeBatch([]byte(body), formattest.Now, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Readings) != 2 || d.Readings[0].CargoID != "a" || d.Readings[1].CargoID != "c" {
		t.Fatalf("kept %+v, want a and c", d.Readings)
	}
	if d.Skipped == nil || d.Skipped.Count != 2 || strings.Join(d.Skipped.Details[0].Loc, ".") != "[1].value" {
		t.Fatalf("skipped %+v", d.Skipped)
	}
	if _, err := DecodeBatch([]byte(`[{"ship_id":"s","cargo_id":"b","value":"ok"}]`), formattest.Now, opt); err == nil {
		t.Fatal("partial policy accepted a batch with no valid reading")
	}
}

// locations are the places of the details of err, which must be an
// *schema.InvalidError, each with the parts of its Loc joined with dots,
// separated by spaces; count is the error's count of invalid readings.
func locations(t *testing.T, err error) (locs string, count int) {
	t.Helper()
	var inv *schema.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("got %v, want schema.InvalidError", err)
	}
	var got []string
	for _, d := range inv.Details {
		got = append(got, strings.Join(d.Loc, "."))
	}
	return strings.Join(got, " "), inv.Count
}
