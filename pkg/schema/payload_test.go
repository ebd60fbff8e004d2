package schema

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"testing"
)

func sampleReadings(n int) []Reading {
	rs := make([]Reading, n)
	for i := range rs {
		rs[i] = Reading{
			Time:    1_764_000_000_000 + int64(i/10)*1000,
			ShipID:  "ship-" + strconv.Itoa(i%10),
			CargoID: "cargo-" + strconv.Itoa(i%3),
			Value:   float64(i) * 0.25,
		}
	}
	return rs
}

func TestPayloadRoundTrip(t *testing.T) {
	rs := sampleReadings(1000)
	rs = append(rs,
		Reading{Time: 0, ShipID: "ünï", CargoID: "c", Value: math.Copysign(0, -1)},
		Reading{Time: 4_102_444_800_000, ShipID: "s", CargoID: "c", Value: math.MaxFloat64},
		Reading{Time: 5, ShipID: "s", CargoID: "c", Value: -math.SmallestNonzeroFloat64},
	)
	payloads := EncodePayloads(rs, 1<<20)
	if len(payloads) != 1 {
		t.Fatalf("got %d payloads, want 1", len(payloads))
	}
	got, err := decodePayload(payloads[0])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rs) {
		t.Fatal("decoded readings differ from the encoded ones")
	}
	if math.Signbit(got[1000].Value) != true {
		t.Fatal("-0 lost its sign")
	}
}

func TestPayloadSplitsAtMaxSize(t *testing.T) {
	rs := sampleReadings(5000)
	const max = 4096
	payloads := EncodePayloads(rs, max)
	if len(payloads) < 10 {
		t.Fatalf("got %d payloads for %d readings of max %d bytes", len(payloads), len(rs), max)
	}
	var all []Reading
	for _, p := range payloads {
		if len(p) > max {
			t.Fatalf("payload of %d bytes, more than %d", len(p), max)
		}
		got, err := decodePayload(p)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, got...)
	}
	if !reflect.DeepEqual(all, rs) {
		t.Fatal("split payloads do not hold the same readings")
	}
}

func TestPayloadRejectsCorruption(t *testing.T) {
	good := EncodePayloads(sampleReadings(3), 1<<20)[0]
	cases := map[string][]byte{
		"empty":       {},
		"version":     append([]byte{9}, good[1:]...),
		"truncated":   good[:len(good)-1],
		"long string": {PayloadV1, 0, 200, 'a'},
	}
	for name, p := range cases {
		if _, err := decodePayload(p); !errors.Is(err, ErrBadPayload) {
			t.Errorf("%s: got %v, want ErrBadPayload", name, err)
		}
	}
}

func TestColumnsAppendPayloadIsAllOrNothing(t *testing.T) {
	var c Columns
	good := EncodePayloads(sampleReadings(4), 1<<20)[0]
	if err := c.AppendPayload("h1", good, sampleBounds); err != nil {
		t.Fatal(err)
	}
	if err := c.AppendPayload("h1", good[:len(good)-3], sampleBounds); err == nil {
		t.Fatal("a truncated payload was accepted")
	}
	if c.Len() != 4 || len(c.HarborID) != 4 || len(c.ShipID) != 4 || len(c.Value) != 4 {
		t.Fatalf("columns hold %d rows after a bad payload, want 4", c.Len())
	}
	if c.HarborID[3] != "h1" || c.ShipID[3] != "ship-3" || c.Value[3] != 0.75 {
		t.Fatalf("row 3 is %s %s %v", c.HarborID[3], c.ShipID[3], c.Value[3])
	}
}

func FuzzDecodePayload(f *testing.F) {
	f.Add(EncodePayloads(sampleReadings(3), 1<<20)[0])
	f.Add([]byte{PayloadV1})
	f.Add([]byte{PayloadV1, 1, 1, 'a'})
	f.Fuzz(func(t *testing.T, p []byte) {
		var c Columns
		if c.AppendPayload("h", p, testLimits.Published(testNow, 0)) == nil {
			// What the writer accepts, the API would have accepted.
			for i := range c.Len() {
				if CheckID("ship_id", c.ShipID[i], testLimits) != nil || CheckID("cargo_id", c.CargoID[i], testLimits) != nil {
					t.Fatalf("the writer accepted ids %q, %q", c.ShipID[i], c.CargoID[i])
				}
				if c.Time[i] < testNow.Add(-testLimits.MaxPast).UnixMilli() || c.Time[i] > testNow.Add(testLimits.MaxFuture).UnixMilli() {
					t.Fatalf("the writer accepted time %d", c.Time[i])
				}
			}
		}
		rs, err := decodePayload(p)
		if err != nil {
			return
		}
		// Whatever decodes must encode back to a payload that decodes the same.
		again, err := decodePayload(EncodePayloads(rs, 1<<30)[0])
		if err != nil || !reflect.DeepEqual(normalize(again), normalize(rs)) {
			t.Fatalf("re-encoding changed the readings: %v", err)
		}
	})
}

// decodePayload returns every reading of payload p, with any time and id
// length allowed.
func decodePayload(p []byte) ([]Reading, error) {
	pr := payloadReader{intern: map[string]string{}, bounds: Bounds{Earliest: math.MinInt64, Latest: math.MaxInt64, MaxIDLength: math.MaxInt}}
	pr.init(p)
	var rs []Reading
	for pr.Next() {
		rs = append(rs, pr.Reading())
	}
	return rs, pr.Err()
}

// normalize makes NaN values comparable for DeepEqual.
func normalize(rs []Reading) []Reading {
	for i := range rs {
		if math.IsNaN(rs[i].Value) {
			rs[i].Value = 0
		}
	}
	return rs
}

func BenchmarkPayloadEncode5000(b *testing.B) {
	rs := sampleReadings(5000)
	b.ReportAllocs()
	for b.Loop() {
		EncodePayloads(rs, 1<<20)
	}
	b.ReportMetric(float64(len(EncodePayloads(rs, 1<<20)[0]))/5000, "bytes/reading")
}

func BenchmarkPayloadDecodeToColumns5000(b *testing.B) {
	p := EncodePayloads(sampleReadings(5000), 1<<20)[0]
	var c Columns
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		if err := c.AppendPayload("harbor", p, sampleBounds); err != nil {
			b.Fatal(err)
		}
	}
}

// The JSON benchmarks are the baseline the binary payload was chosen against.
func BenchmarkJSONEncode5000(b *testing.B) {
	rs := sampleReadings(5000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(rs); err != nil {
			b.Fatal(err)
		}
	}
	p, _ := json.Marshal(rs)
	b.ReportMetric(float64(len(p))/5000, "bytes/reading")
}

func BenchmarkJSONDecode5000(b *testing.B) {
	p, _ := json.Marshal(sampleReadings(5000))
	b.ReportAllocs()
	for b.Loop() {
		var rs []Reading
		if err := json.Unmarshal(p, &rs); err != nil {
			b.Fatal(err)
		}
	}
}
