package load

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/format/jsonbody"
	"github.com/harbor-ingest/harbor/pkg/schema"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
)

var testStart = time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)

func mustDataset(t testing.TB, ships, cargos int, readings int64, start time.Time, seed int64) *Dataset {
	t.Helper()
	d, err := NewDataset(ships, cargos, readings, start, seed)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// defaultAPI is the ingest API's configuration with nothing set: its
// default limits.
func defaultAPI(t testing.TB) ingest.Config {
	t.Helper()
	cfg := devtest.ParseEnv[ingest.Config](t, map[string]string{})
	return cfg
}

func TestDatasetIsDeterministic(t *testing.T) {
	a := mustDataset(t, 7, 3, 10_000, testStart, 42)
	b := mustDataset(t, 7, 3, 10_000, testStart, 42)
	bodyA := a.NewEncoder().AppendBatch(nil, 0, a.Readings)
	// Another encoder, reading the batches in another order, gives the same
	// bytes for each.
	enc := b.NewEncoder()
	second := enc.AppendBatch(nil, 5000, 10_000)
	first := enc.AppendBatch(nil, 0, 5000)
	whole := append(append(first[:len(first)-1:len(first)-1], ','), second[1:]...)
	if !bytes.Equal(bodyA, whole) {
		t.Fatal("the same data set encoded twice differs")
	}
	other := mustDataset(t, 7, 3, 10_000, testStart, 43).NewEncoder().AppendBatch(nil, 0, 10_000)
	if bytes.Equal(bodyA, other) {
		t.Fatal("another seed gave the same readings")
	}
}

func TestDatasetCountsAndSpacing(t *testing.T) {
	const readings = 1003 // not a multiple of the series: some get one more
	d := mustDataset(t, 4, 5, readings, testStart, 1)
	c := d.NewCursor()
	last := map[int]int64{} // series → its last Unix second
	count := map[int]int64{}
	for i := range int64(readings) {
		p := c.At(i)
		sec := p.UnixSec(d)
		prev, seen := last[p.Series]
		switch {
		case seen && sec != prev+1:
			t.Fatalf("reading %d: series %d at %d after %d, want one second apart", i, p.Series, sec, prev)
		case !seen && sec != testStart.Unix():
			t.Fatalf("series %d starts at %d, want %d", p.Series, sec, testStart.Unix())
		}
		last[p.Series] = sec
		count[p.Series]++
	}
	if len(count) != 20 {
		t.Fatalf("%d series, want 20", len(count))
	}
	for s, n := range count {
		want := int64(readings / 20)
		if s < readings%20 {
			want++
		}
		if n != want {
			t.Errorf("series %d has %d readings, want %d", s, n, want)
		}
	}
	if d.Span() != 50*time.Second {
		t.Errorf("span %s, want 50s", d.Span())
	}
}

func TestCursorRandomAccessMatchesSequential(t *testing.T) {
	d := mustDataset(t, 3, 2, 600, testStart, 9)
	seq := d.NewCursor()
	want := make([]Point, d.Readings)
	for i := range want {
		want[i] = seq.At(int64(i))
	}
	jumpy := d.NewCursor()
	for _, i := range []int64{599, 3, 400, 0, 598, 200, 201, 17} {
		if got := jumpy.At(i); got != want[i] {
			t.Fatalf("At(%d) = %+v after jumps, want %+v", i, got, want[i])
		}
	}
	// The values walk in steps of at most 0.5.
	for i := 6; i < len(want); i++ {
		if diff := want[i].Milli - want[i-6].Milli; diff < -500 || diff > 500 {
			t.Fatalf("series %d jumps by %d thousandths", want[i].Series, diff)
		}
	}
}

func TestIDs(t *testing.T) {
	d := mustDataset(t, 12, 3, 36, testStart, 1)
	if d.ShipID(0) != "ship-0001" || d.CargoID(0) != "cargo-01" || d.ShipID(35) != "ship-0012" || d.CargoID(35) != "cargo-03" {
		t.Errorf("ids: %s %s %s %s", d.ShipID(0), d.CargoID(0), d.ShipID(35), d.CargoID(35))
	}
	big := mustDataset(t, 12345, 150, 1, testStart, 1)
	if big.ShipID(0) != "ship-00001" || big.CargoID(149) != "cargo-150" {
		t.Errorf("wide ids: %s %s", big.ShipID(0), big.CargoID(149))
	}
}

func TestNewDatasetRejectsEmpty(t *testing.T) {
	for _, c := range [][3]int{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		if _, err := NewDataset(c[0], c[1], int64(c[2]), testStart, 1); err == nil {
			t.Errorf("%v: no error", c)
		}
	}
}

// The bodies are what the API accepts with its default limits, and decode
// to exactly the data set's readings.
func TestBodiesDecodeWithDefaultLimits(t *testing.T) {
	cfg := defaultAPI(t)
	now := time.Now()
	d := mustDataset(t, 50, 8, 25_000, DefaultStart(now), 3)
	enc := d.NewEncoder()
	check := d.NewCursor()
	const batch = 5000
	for lo := int64(0); lo < d.Readings; lo += batch {
		body := enc.AppendBatch(nil, lo, lo+batch)
		if !json.Valid(body) {
			t.Fatalf("batch at %d is not valid JSON", lo)
		}
		decoded, err := jsonbody.DecodeBatch(body, now, schema.Options{Limits: cfg.API.Limits, MaxLen: cfg.API.MaxBatchLen})
		if err != nil {
			t.Fatalf("batch at %d refused: %v", lo, err)
		}
		for j, r := range decoded.Readings {
			p := check.At(lo + int64(j))
			want := schema.Reading{Time: p.UnixSec(d) * 1000, ShipID: d.ShipID(p.Series), CargoID: d.CargoID(p.Series), Value: p.Value()}
			if r != want {
				t.Fatalf("reading %d decodes to %+v, want %+v", lo+int64(j), r, want)
			}
		}
	}
	one := enc.AppendReading(nil, 12_345)
	single, err := jsonbody.DecodeReading(one, now, schema.Options{Limits: cfg.API.Limits})
	if err != nil || len(single.Readings) != 1 {
		t.Fatalf("%s refused: %v", one, err)
	}
	if p, r := check.At(12_345), single.Readings[0]; r.Time != p.UnixSec(d)*1000 || r.Value != p.Value() {
		t.Fatalf("%s decodes to %+v", one, r)
	}
}

func TestAppendTimeMatchesTimeFormat(t *testing.T) {
	e := mustDataset(t, 1, 1, 1, testStart, 1).NewEncoder()
	for sec := int64(0); sec < 4_000_000_000; sec += 86_399*37 + 1234 {
		got := string(e.appendTime(nil, sec))
		if want := time.Unix(sec, 0).UTC().Format(time.RFC3339); got != want {
			t.Fatalf("%d: %s, want %s", sec, got, want)
		}
	}
}

func BenchmarkAppendBatch(b *testing.B) {
	d := mustDataset(b, 100, 10, 10_000_000, testStart, 1)
	enc := d.NewEncoder()
	var buf []byte
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		lo := int64(i%2000) * 5000
		buf = enc.AppendBatch(buf[:0], lo, lo+5000)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/5000, "ns/reading")
}
