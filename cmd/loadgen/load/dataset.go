package load

import (
	"fmt"
	"strconv"
	"time"
)

// Dataset is a deterministic set of readings: Ships × Cargos series, each a
// seeded random walk sampled once a second from Start. Reading i (0 ≤ i <
// Readings) is step i / Series() of series i % Series(), so the readings
// interleave the series, and any contiguous range of indexes is a batch whose
// readings have increasing times per series.
//
// The same fields give the same readings byte for byte, however the work is
// split between connections or inserters.
type Dataset struct {
	Ships, Cargos int
	Readings      int64
	Start         time.Time // whole seconds; readings of a series are one second apart from it
	Seed          int64

	shipIDs, cargoIDs []string
	startSec          int64
}

// NewDataset checks the sizes and prepares the ids.
func NewDataset(ships, cargos int, readings int64, start time.Time, seed int64) (*Dataset, error) {
	switch {
	case ships < 1 || cargos < 1:
		return nil, fmt.Errorf("the data set needs at least one ship and one cargo, not %d × %d", ships, cargos)
	case readings < 1:
		return nil, fmt.Errorf("the data set needs at least one reading, not %d", readings)
	}
	d := &Dataset{Ships: ships, Cargos: cargos, Readings: readings, Start: start.Truncate(time.Second).UTC(), Seed: seed}
	d.startSec = d.Start.Unix()
	d.shipIDs = ids("ship-", ships, 4)
	d.cargoIDs = ids("cargo-", cargos, 2)
	return d, nil
}

// DefaultStart is the default first time of the data set: a day before now,
// rounded down to the hour, so the readings fall within the API's default
// MAX_PAST and MAX_FUTURE and runs within the same hour share it.
func DefaultStart(now time.Time) time.Time {
	return now.Add(-24 * time.Hour).UTC().Truncate(time.Hour)
}

// ids returns prefix0001, prefix0002, ... numbered from 1, zero-padded to at
// least width digits.
func ids(prefix string, n, width int) []string {
	width = max(width, len(strconv.Itoa(n)))
	out := make([]string, n)
	for i := range out {
		num := strconv.Itoa(i + 1)
		for len(num) < width {
			num = "0" + num
		}
		out[i] = prefix + num
	}
	return out
}

// Series is the number of series, Ships × Cargos.
func (d *Dataset) Series() int { return d.Ships * d.Cargos }

// Span is the time from the first reading to the last.
func (d *Dataset) Span() time.Duration {
	return time.Duration((d.Readings-1)/int64(d.Series())) * time.Second
}

// ShipID is the ship_id of series s.
func (d *Dataset) ShipID(s int) string { return d.shipIDs[s/d.Cargos] }

// CargoID is the cargo_id of series s.
func (d *Dataset) CargoID(s int) string { return d.cargoIDs[s%d.Cargos] }

// Point is one reading of the data set.
type Point struct {
	Series int
	Step   int64 // seconds after Start
	Milli  int64 // the value in thousandths: the value is Milli / 1000
}

// UnixSec is the time of the reading in Unix seconds.
func (p Point) UnixSec(d *Dataset) int64 { return d.startSec + p.Step }

// Value is the reading's value.
func (p Point) Value() float64 { return float64(p.Milli) / 1000 }

// Cursor produces the readings of a data set by index. It keeps each
// series' random walk where it last stopped, so reading indexes in
// increasing order (as batches handed out in order are) costs a few
// nanoseconds per step; going back restarts that series' walk.
type Cursor struct {
	d     *Dataset
	step  []int64 // step of each series' walk, -1 before the first
	milli []int64 // value of each series at step
}

// NewCursor returns a cursor at the start of every series.
func (d *Dataset) NewCursor() *Cursor {
	c := &Cursor{d: d, step: make([]int64, d.Series()), milli: make([]int64, d.Series())}
	for s := range c.step {
		c.step[s] = -1
	}
	return c
}

// At returns reading i.
func (c *Cursor) At(i int64) Point {
	n := int64(len(c.step))
	s, t := int(i%n), i/n
	if c.step[s] > t {
		c.step[s] = -1
	}
	if c.step[s] < 0 {
		c.step[s], c.milli[s] = 0, c.d.initial(s)
	}
	for c.step[s] < t {
		c.step[s]++
		c.milli[s] += c.d.increment(s, c.step[s])
	}
	return Point{Series: s, Step: t, Milli: c.milli[s]}
}

// initial is the value of series s at step 0, 10.000 to 29.999.
func (d *Dataset) initial(s int) int64 {
	return 10_000 + int64(mix(uint64(d.Seed), uint64(s), 0)%20_000)
}

// increment is the walk's change into step t of series s: -0.500 to +0.500.
func (d *Dataset) increment(s int, t int64) int64 {
	return int64(mix(uint64(d.Seed), uint64(s), uint64(t))%1001) - 500
}

// mix hashes a (seed, series, step) triple into 64 random-looking bits
// (SplitMix64's finalizer), so any step of any walk can be drawn without
// drawing the ones before it.
func mix(seed, s, t uint64) uint64 {
	z := seed*0x9e3779b97f4a7c15 ^ (s+1)*0xbf58476d1ce4e5b9 ^ (t+1)*0x94d049bb133111eb
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
