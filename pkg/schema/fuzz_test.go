package schema

import (
	"testing"
	"time"
)

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
