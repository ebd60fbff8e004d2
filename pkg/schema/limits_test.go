package schema

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// sampleBounds are the writer's bounds for sampleReadings, published when
// their first reading was taken.
var sampleBounds = testLimits.Published(time.UnixMilli(1_764_000_000_000), time.Minute)

func TestTableTimeRangeIsTheLegacyDateTime(t *testing.T) {
	if MaxTableTime/1000 != math.MaxUint32 || formatMillis(MaxTableTime) != "2106-02-07T06:28:15.999Z" || formatMillis(MinTableTime) != "1970-01-01T00:00:00Z" {
		t.Fatalf("table range %s .. %s", formatMillis(MinTableTime), formatMillis(MaxTableTime))
	}
}

func TestLimitsCheck(t *testing.T) {
	last := time.UnixMilli(MaxTableTime)
	ok := []struct {
		now time.Time
		lim Limits
	}{
		{testNow, testLimits},
		{last.Add(-24 * time.Hour), testLimits}, // the last day the table holds
		{testNow, Limits{MaxIDLength: 1, MaxFuture: last.Sub(testNow), MaxPast: testNow.Sub(time.UnixMilli(0))}}, // to both edges
		{testNow, Limits{MaxIDLength: 1}},
	}
	for _, c := range ok {
		if err := c.lim.Check(c.now); err != nil {
			t.Errorf("%+v at %s: %v", c.lim, c.now, err)
		}
	}
	bad := []struct {
		now  time.Time
		lim  Limits
		want string
	}{
		{testNow, Limits{MaxIDLength: 0, MaxFuture: time.Hour, MaxPast: time.Hour}, "MAX_ID_LENGTH=0"},
		{testNow, Limits{MaxIDLength: 1, MaxFuture: -time.Hour}, "MAX_FUTURE=-1h0m0s: it cannot be negative"},
		{testNow, Limits{MaxIDLength: 1, MaxPast: -time.Hour}, "MAX_PAST=-1h0m0s: it cannot be negative"},
		{testNow, Limits{MaxIDLength: 1, MaxFuture: last.Sub(testNow) + time.Millisecond}, "after 2106-02-07T06:28:15.999Z, the latest the table holds"},
		{testNow, Limits{MaxIDLength: 1, MaxFuture: 1000000 * time.Hour}, "MAX_FUTURE=1000000h0m0s lets in times up to 2140-"},
		{testNow, Limits{MaxIDLength: 1, MaxFuture: 1000000 * time.Hour}, "set MAX_FUTURE to at most 694266h"},
		{testNow, Limits{MaxIDLength: 1, MaxPast: testNow.Sub(time.UnixMilli(0)) + time.Millisecond}, "before 1970-01-01T00:00:00Z, the earliest the table holds"},
		{last.Add(-time.Hour), testLimits, "MAX_FUTURE=24h0m0s"},
	}
	for _, c := range bad {
		if err := c.lim.Check(c.now); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v at %s: %v, want an error with %q", c.lim, c.now, err, c.want)
		}
	}
}

// TestValidatorKeepsToTheTable: even limits Check would refuse never let
// in a time the table cannot hold.
func TestValidatorKeepsToTheTable(t *testing.T) {
	now := time.UnixMilli(MaxTableTime).Add(-time.Hour)
	for at, want := range map[string]string{
		"2106-02-07T06:28:15.999Z": "",
		"2106-02-07T06:28:16Z":     "after 2106-02-07T06:28:15.999Z, the latest time the table holds",
		"2200-01-01T00:00:00Z":     "the latest time the table holds",
		"1969-12-31T23:59:59.999Z": "in the past (or before 1970)",
	} {
		lim := Limits{MaxIDLength: 10, MaxFuture: 1000000 * time.Hour, MaxPast: 1000000 * time.Hour}
		v := NewValidator(now, Options{Limits: lim}, AtIndex)
		raw := Raw{Time: Field{Kind: String, Text: []byte(at)}, ShipID: Field{Kind: String, Text: []byte("s")},
			CargoID: Field{Kind: String, Text: []byte("c")}, Value: Field{Kind: Number, Text: []byte("1")}}
		_, err := v.Result(v.Object(-1, &raw, nil))
		var inv *InvalidError
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", at, err)
		case want != "" && (!errors.As(err, &inv) || !strings.Contains(inv.Details[0].Msg, want)):
			t.Errorf("%s: %v, want %q", at, err, want)
		}
	}
}

func TestLimitsPublished(t *testing.T) {
	b := testLimits.Published(testNow, time.Minute)
	if b.Earliest != testNow.Add(-testLimits.MaxPast-time.Minute).UnixMilli() || b.Latest != testNow.Add(testLimits.MaxFuture+time.Minute).UnixMilli() || b.MaxIDLength != 100 {
		t.Fatalf("bounds %+v", b)
	}
	wide := Limits{MaxIDLength: 5, MaxFuture: 1000000 * time.Hour, MaxPast: 1000000 * time.Hour}.Published(testNow, time.Minute)
	if wide.Earliest != MinTableTime || wide.Latest != MaxTableTime {
		t.Fatalf("bounds %+v go beyond the table", wide)
	}
}

// TestAppendPayloadChecksReadings: the writer refuses, as the API does, times
// outside the bounds (both edges included) and bad ids, wherever they are
// in the payload, and keeps the columns as they were.
func TestAppendPayloadChecksReadings(t *testing.T) {
	b := Bounds{Earliest: 1000, Latest: 2000, MaxIDLength: 3}
	good := Reading{Time: 1500, ShipID: "s", CargoID: "c", Value: 1}
	with := func(change func(*Reading)) Reading { r := good; change(&r); return r }
	accepted := []Reading{
		with(func(r *Reading) { r.Time = 1000 }),
		with(func(r *Reading) { r.Time = 2000 }),
		with(func(r *Reading) { r.ShipID = "äöü" }),
		with(func(r *Reading) { r.Value = math.NaN() }), // as the stream carries it; JSON cannot send it
	}
	refused := map[string]Reading{
		"reading [1]: time 1970-01-01T00:00:00.999Z is outside": with(func(r *Reading) { r.Time = 999 }),
		"reading [1]: time 1970-01-01T00:00:02.001Z is outside": with(func(r *Reading) { r.Time = 2001 }),
		`reading [1]: ship_id "" must have 1 to 3 characters`:   with(func(r *Reading) { r.ShipID = "" }),
		`reading [1]: cargo_id "abcd" must have 1 to 3`:         with(func(r *Reading) { r.CargoID = "abcd" }),
		`reading [1]: ship_id "a\x00" must be printable`:        with(func(r *Reading) { r.ShipID = "a\x00" }),
		`reading [1]: cargo_id "\xff" must be printable`:        with(func(r *Reading) { r.CargoID = "\xff" }),
		"reading [1]: cargo_id \"\ufffd\" must be printable":    with(func(r *Reading) { r.CargoID = "\ufffd" }),
		"reading [1]: time -292275055-":                         with(func(r *Reading) { r.Time = math.MinInt64 }),
	}
	var c Columns
	for _, r := range accepted {
		if err := c.AppendPayload("h", EncodePayloads([]Reading{good, r}, 1<<20)[0], b); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
	n := c.Len()
	for want, r := range refused {
		err := c.AppendPayload("h", EncodePayloads([]Reading{good, r, good}, 1<<20)[0], b)
		if !errors.Is(err, ErrRefusedReading) || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", r, err, want)
		}
		// The first reading with an empty id is refused too, although the
		// reader's previous id starts out empty.
		if err := c.AppendPayload("h", EncodePayloads([]Reading{r}, 1<<20)[0], b); !errors.Is(err, ErrRefusedReading) {
			t.Errorf("%+v alone: %v", r, err)
		}
	}
	if c.Len() != n {
		t.Fatalf("columns hold %d rows after refused payloads, want %d", c.Len(), n)
	}
}

var (
	testNow    = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	testLimits = Limits{MaxIDLength: 100, MaxFuture: 24 * time.Hour, MaxPast: 5 * 8760 * time.Hour}
)
