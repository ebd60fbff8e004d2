package schema

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testNow    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testLimits = Limits{MaxIDLength: 100, MaxFuture: 24 * time.Hour, MaxPast: 5 * 8760 * time.Hour}
)

func TestDecodeReadingAcceptsTimeFormats(t *testing.T) {
	cases := map[string]int64{
		`"2026-11-25T10:00:00Z"`:           time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli(),
		`"2026-11-25T10:00:00.123Z"`:       time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC).UnixMilli(),
		`"2026-11-25T10:00:00.123456789Z"`: time.Date(2026, 11, 25, 10, 0, 0, 123e6, time.UTC).UnixMilli(),
		`"2026-11-25T12:30:00.5+02:30"`:    time.Date(2026, 11, 25, 10, 0, 0, 500e6, time.UTC).UnixMilli(),
		`"2026-11-25T05:00:00-05:00"`:      time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli(),
	}
	for in, want := range cases {
		r, err := DecodeReading([]byte(`{"time":`+in+`,"ship_id":"s","cargo_id":"c","value":1}`), testNow, testLimits)
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
	r, err := DecodeReading([]byte(`{"ship_id":"ship-1","cargo_id":"temp °C","value":-0.5e2,"extra":{"a":[1]}}`), testNow, testLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := Reading{Time: testNow.UnixMilli(), ShipID: "ship-1", CargoID: "temp °C", Value: -50}
	if r != want {
		t.Fatalf("got %+v, want %+v", r, want)
	}
}

func TestDecodeReadingRejects(t *testing.T) {
	long := strings.Repeat("é", 101)
	cases := []struct {
		body, field, typ string
	}{
		{`{"ship_id":"s","cargo_id":"c"}`, "value", ErrTypeMissing},
		{`{"cargo_id":"c","value":1}`, "ship_id", ErrTypeMissing},
		{`{"ship_id":"s","value":1}`, "cargo_id", ErrTypeMissing},
		{`{"ship_id":"s","cargo_id":"c","value":"1"}`, "value", ErrTypeType},
		{`{"ship_id":"s","cargo_id":"c","value":true}`, "value", ErrTypeType},
		{`{"ship_id":"s","cargo_id":"c","value":null}`, "value", ErrTypeType},
		{`{"ship_id":"s","cargo_id":"c","value":1e400}`, "value", ErrTypeFinite},
		{`{"ship_id":"s","cargo_id":"c","value":-1e400}`, "value", ErrTypeFinite},
		{`{"ship_id":1,"cargo_id":"c","value":1}`, "ship_id", ErrTypeType},
		{`{"ship_id":"","cargo_id":"c","value":1}`, "ship_id", ErrTypeLength},
		{`{"ship_id":"` + long + `","cargo_id":"c","value":1}`, "ship_id", ErrTypeLength},
		{`{"ship_id":"a\u0000b","cargo_id":"c","value":1}`, "ship_id", ErrTypeChars},
		{`{"ship_id":"s","cargo_id":"a\nb","value":1}`, "cargo_id", ErrTypeChars},
		{`{"ship_id":"\ud800","cargo_id":"c","value":1}`, "ship_id", ErrTypeChars},
		{`{"time":1700000000,"ship_id":"s","cargo_id":"c","value":1}`, "time", ErrTypeType},
		{`{"time":"2026-11-25T10:00:00","ship_id":"s","cargo_id":"c","value":1}`, "time", ErrTypeTime},
		{`{"time":"2026-11-25","ship_id":"s","cargo_id":"c","value":1}`, "time", ErrTypeTime},
		{`{"time":"yesterday","ship_id":"s","cargo_id":"c","value":1}`, "time", ErrTypeTime},
		{`{"time":"2026-11-27T12:00:00Z","ship_id":"s","cargo_id":"c","value":1}`, "time", ErrTypeTimeRange},
		{`{"time":"1999-01-01T00:00:00Z","ship_id":"s","cargo_id":"c","value":1}`, "time", ErrTypeTimeRange},
	}
	for _, c := range cases {
		_, err := DecodeReading([]byte(c.body), testNow, testLimits)
		var inv *InvalidError
		if !errors.As(err, &inv) {
			t.Errorf("%s: got %v, want an InvalidError", c.body, err)
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
		if _, err := DecodeReading([]byte(body), testNow, testLimits); !errors.Is(err, ErrMalformed) {
			t.Errorf("single %q: got %v, want ErrMalformed", body, err)
		}
	}
	for _, body := range []string{``, `{}`, `[{}`, `[1,]`, `"x"`} {
		if _, err := DecodeBatch([]byte(body), testNow, testLimits, 10); !errors.Is(err, ErrMalformed) {
			t.Errorf("batch %q: got %v, want ErrMalformed", body, err)
		}
	}
}

func TestDecodeBatch(t *testing.T) {
	body := `[{"time":"2026-11-25T10:00:00.001Z","ship_id":"a","cargo_id":"x","value":1},
	          {"time":"2026-11-25T10:00:00.002Z","ship_id":"b","cargo_id":"y","value":2.5}]`
	rs, err := DecodeBatch([]byte(body), testNow, testLimits, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[1].ShipID != "b" || rs[1].Value != 2.5 || rs[1].Time-rs[0].Time != 1 {
		t.Fatalf("got %+v", rs)
	}
}

func TestDecodeBatchReportsEveryBadReading(t *testing.T) {
	body := `[{"ship_id":"a","cargo_id":"x","value":1}, 7, {"ship_id":"a","cargo_id":"x"}, {"ship_id":"","cargo_id":"x","value":"no"}]`
	_, err := DecodeBatch([]byte(body), testNow, testLimits, 10)
	var inv *InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("got %v, want InvalidError", err)
	}
	var got []string
	for _, d := range inv.Details {
		got = append(got, strings.Join(d.Loc, "."))
	}
	want := "[1] [2].value [3].ship_id [3].value"
	if strings.Join(got, " ") != want || inv.Count != 4 {
		t.Fatalf("locations %v (count %d), want %s", got, inv.Count, want)
	}
}

func TestDecodeBatchLimits(t *testing.T) {
	if _, err := DecodeBatch([]byte(` [ ] `), testNow, testLimits, 10); !errors.Is(err, ErrEmptyBatch) {
		t.Errorf("empty: got %v", err)
	}
	one := `{"ship_id":"a","cargo_id":"x","value":1}`
	body := "[" + strings.Repeat(one+",", 10) + one + "]"
	var tl *TooLongError
	if _, err := DecodeBatch([]byte(body), testNow, testLimits, 10); !errors.As(err, &tl) || tl.Len != 11 {
		t.Errorf("11 readings: got %v", err)
	}
	bad := "[" + strings.Repeat(`{"value":1},`, 200) + `{"value":1}]`
	_, err := DecodeBatch([]byte(bad), testNow, testLimits, 1000)
	var inv *InvalidError
	if !errors.As(err, &inv) || len(inv.Details) != MaxErrorDetails || inv.Count != 402 {
		t.Errorf("many bad readings: got %v", err)
	}
}
