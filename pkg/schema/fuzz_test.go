package schema

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// checkValid fails the test unless r passes every rule of the limits.
func checkValid(t *testing.T, r Reading) {
	t.Helper()
	for _, id := range []string{r.ShipID, r.CargoID} {
		if n := utf8.RuneCountInString(id); n == 0 || n > testLimits.MaxIDLength || !utf8.ValidString(id) {
			t.Fatalf("accepted an id of %d characters: %q", n, id)
		}
		for _, c := range id {
			if !unicode.IsPrint(c) || c == utf8.RuneError {
				t.Fatalf("accepted an id with %U: %q", c, id)
			}
		}
	}
	if math.IsInf(r.Value, 0) || math.IsNaN(r.Value) {
		t.Fatalf("accepted value %v", r.Value)
	}
	if r.Time < 0 || r.Time > testNow.Add(testLimits.MaxFuture).UnixMilli() || r.Time < testNow.Add(-testLimits.MaxPast).UnixMilli() {
		t.Fatalf("accepted time %d", r.Time)
	}
}

// checkError fails the test unless err is one of the decoders' documented errors.
func checkError(t *testing.T, err error) {
	t.Helper()
	var inv *InvalidError
	var long *TooLongError
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrEmptyBatch), errors.As(err, &long):
	case errors.As(err, &inv):
		if len(inv.Details) == 0 || len(inv.Details) > MaxErrorDetails || inv.Count < len(inv.Details) {
			t.Fatalf("invalid error with %d details of %d", len(inv.Details), inv.Count)
		}
	default:
		t.Fatalf("undocumented error %T: %v", err, err)
	}
}

// FuzzDecodeReading: whatever the body, the decoder answers a valid reading
// or a documented error, and an accepted reading survives a JSON round trip.
func FuzzDecodeReading(f *testing.F) {
	for _, s := range []string{
		`{"time":"2026-11-25T10:00:00.123Z","ship_id":"s","cargo_id":"c","value":1.5}`,
		`{"ship_id":"s","cargo_id":"c","value":-0}`,
		`{"ship_id":"s","ship_id":"t","cargo_id":"c","value":1e308}`,
		`{"ship_id":"s","cargo_id":"c","value":1e400}`,
		`{"ship_id":"\u0000","cargo_id":"c","value":1}`,
		`{"time":null,"ship_id":"s","cargo_id":"c","value":1,"x":[[[{}]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeReading(body, testNow, testLimits)
		if err != nil {
			checkError(t, err)
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		checkValid(t, r)
		again, err := DecodeReading(readingJSON(r), testNow, testLimits)
		if err != nil || again != r {
			t.Fatalf("round trip of %+v: %+v, %v", r, again, err)
		}
	})
}

// FuzzDecodeBatch: the same for batches, and an accepted batch is never
// longer than the limit or empty.
func FuzzDecodeBatch(f *testing.F) {
	for _, s := range []string{
		`[{"time":"2026-11-25T10:00:00Z","ship_id":"s","cargo_id":"c","value":1}]`,
		`[{"ship_id":"a","cargo_id":"c","value":1},{"ship_id":"b","cargo_id":"c","value":2}]`,
		`[]`, `[1,"x",null]`, `[{"value":"1"}]`, `[[]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := DecodeBatch(body, testNow, testLimits, 50)
		if err != nil {
			checkError(t, err)
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		if len(rs) == 0 || len(rs) > 50 {
			t.Fatalf("accepted a batch of %d", len(rs))
		}
		parts := make([]string, len(rs))
		for i, r := range rs {
			checkValid(t, r)
			parts[i] = string(readingJSON(r))
		}
		// The writers accept what the API accepted.
		var c Columns
		if err := c.AppendPayload("h", EncodePayloads(rs, 1<<20)[0], testLimits.Published(testNow, 0)); err != nil {
			t.Fatalf("the writer refuses what the API accepted: %v", err)
		}
		again, err := DecodeBatch([]byte("["+strings.Join(parts, ",")+"]"), testNow, testLimits, 50)
		if err != nil || len(again) != len(rs) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range rs {
			if again[i] != rs[i] {
				t.Fatalf("round trip of reading %d: %+v, want %+v", i, again[i], rs[i])
			}
		}
	})
}

// readingJSON writes a reading in the API's JSON form.
func readingJSON(r Reading) []byte {
	b, _ := json.Marshal(map[string]any{
		"time":     timeString(r.Time),
		"ship_id":  r.ShipID,
		"cargo_id": r.CargoID,
		"value":    r.Value,
	})
	return b
}

func timeString(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// FuzzParseTime: the hand-written time parser agrees with time.Parse on
// everything it accepts.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T10:00:00Z", "2024-02-29T23:59:59.999999999+14:00",
		"1970-01-01T00:00:00.1-00:30", "2023-02-29T00:00:00Z", "2026-11-25T10:00:00.1234567891Z", "0001-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, ok := parseTimeFast([]byte(s))
		if !ok {
			return
		}
		want, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("fast parser accepted %q, time.Parse refuses: %v", s, err)
		}
		if ms != want.UnixMilli() {
			t.Fatalf("%q: %d, time.Parse says %d", s, ms, want.UnixMilli())
		}
	})
}
