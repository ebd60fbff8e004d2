package main

import (
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 34, 56, 0, time.UTC)
	o, jsonOut, err := parseFlags([]string{"-mode", "single", "-readings", "100000", "-conns", "32", "-json", "-verify"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Send.Single || o.Readings != 100_000 || o.Send.Conns != 32 || !jsonOut || !o.Verify || o.Send.Harbor != "bench" {
		t.Errorf("options %+v", o)
	}
	if want := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC); !o.Start.Equal(want) {
		t.Errorf("default start %s, want %s", o.Start, want)
	}
	// A given start is used as it is, whatever the time now.
	o, _, err = parseFlags([]string{"-start", "2026-01-02T03:04:05Z"}, now)
	if err != nil || !o.Start.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) || o.Send.Single || o.Send.Batch != 5000 {
		t.Errorf("start %s, %v, options %+v", o.Start, err, o)
	}
	for _, bad := range [][]string{{"-mode", "bulk"}, {"-start", "yesterday"}, {"extra"}} {
		if _, _, err := parseFlags(bad, now); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
