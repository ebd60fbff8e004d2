package schema

import (
	"math"
	"strconv"
	"testing"
	"time"
)

// FuzzParseTime: the hand-written time parser agrees with time.Parse on
// everything it accepts, and its cache of the last time changes no result:
// after any time before it, a time parses as it does alone.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-25T10:00:00Z", "2024-02-29T23:59:59.999999999+14:00",
		"1970-01-01T00:00:00.1-00:30", "2023-02-29T00:00:00Z", "2026-11-25T10:00:00.1234567891Z", "0001-01-01T00:00:00Z"} {
		f.Add("2026-11-25T10:00:00.250Z", s)
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, before, s string) {
		b := []byte(s)
		if secs, ok := parseSeconds(b); ok {
			if ms, ok := addFractionAndZone(secs, b[19:]); ok {
				want, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t.Fatalf("fast parser accepted %q, time.Parse refuses: %v", s, err)
				}
				if ms != want.UnixMilli() {
					t.Fatalf("%q: %d, time.Parse says %d", s, ms, want.UnixMilli())
				}
			}
		}
		var c timeCache
		c.parse([]byte(before))
		ms, ok := c.parse(b)
		wantMs, wantOK := ParseTimeMillis(b)
		if ms != wantMs || ok != wantOK {
			t.Fatalf("%q after %q: %d, %v; alone: %d, %v", s, before, ms, ok, wantMs, wantOK)
		}
	})
}

// FuzzParseNumber: ParseNumber gives strconv.ParseFloat's float64, to the
// bit, for every number in JSON's grammar.
func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "21.5", "-11.5", "123456789012345", "1234567890123456", "0.1",
		"0.000000000000001", "9007199254740993", "1e3", "-2.5E-3", "1.7976931348623157e308", "1e309", "4.9e-324"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !IsNumber([]byte(s)) {
			return
		}
		got, ok := ParseNumber([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		wantOK := err == nil && !math.IsInf(want, 0)
		if ok != wantOK || (ok && math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("%q: %v (%v), strconv says %v (%v)", s, got, ok, want, err)
		}
	})
}
