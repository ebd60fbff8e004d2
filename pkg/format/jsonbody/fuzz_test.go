package jsonbody

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

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
		d, ok := formattest.CheckFuzzed(t, DecodeReading, body, whole)
		if !ok {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		for _, r := range d.Readings {
			again, err := DecodeReading(readingJSON(r), formattest.Now, whole)
			if err != nil || len(again.Readings) != 1 || again.Readings[0] != r {
				t.Fatalf("round trip of %+v: %+v, %v", r, again, err)
			}
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
		d, ok := formattest.CheckFuzzed(t, DecodeBatch, body, formattest.Options(50, schema.Whole))
		if !ok {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not JSON: %q", body)
		}
		rs := d.Readings
		parts := make([]string, len(rs))
		for i, r := range rs {
			parts[i] = string(readingJSON(r))
		}
		// The writers accept what the API accepted.
		var c schema.Columns
		if err := c.AppendPayload("h", schema.EncodePayloads(rs, 1<<20)[0], formattest.Limits.Published(formattest.Now, 0)); err != nil {
			t.Fatalf("the writer refuses what the API accepted: %v", err)
		}
		again, err := DecodeBatch([]byte("["+strings.Join(parts, ",")+"]"), formattest.Now, formattest.Options(50, schema.Whole))
		if err != nil || len(again.Readings) != len(rs) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range rs {
			if again.Readings[i] != rs[i] {
				t.Fatalf("round trip of reading %d: %+v, want %+v", i, again.Readings[i], rs[i])
			}
		}
	})
}

// readingJSON writes a reading in the API's JSON form.
func readingJSON(r schema.Reading) []byte {
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
