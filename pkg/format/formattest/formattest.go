// Package formattest holds the checks every body format's tests and fuzz
// targets make of what a decoder answers.
package formattest

import (
	"errors"
	"math"
	"strconv"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// CheckValid fails the test unless r, decoded at now, passes every rule of
// lim.
func CheckValid(t testing.TB, r schema.Reading, now time.Time, lim schema.Limits) {
	t.Helper()
	for _, id := range []string{r.ShipID, r.CargoID} {
		if n := utf8.RuneCountInString(id); n == 0 || n > lim.MaxIDLength || !utf8.ValidString(id) {
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
	if r.Time < 0 || r.Time > now.Add(lim.MaxFuture).UnixMilli() || r.Time < now.Add(-lim.MaxPast).UnixMilli() {
		t.Fatalf("accepted time %d", r.Time)
	}
}

// CheckError fails the test unless err is one of the decoders' documented
// errors.
func CheckError(t testing.TB, err error) {
	t.Helper()
	var inv *schema.InvalidError
	var long *schema.TooLongError
	switch {
	case errors.Is(err, schema.ErrMalformed), errors.Is(err, schema.ErrEmptyBatch), errors.As(err, &long):
	case errors.As(err, &inv):
		if len(inv.Details) == 0 || len(inv.Details) > schema.MaxErrorDetails || inv.Count < len(inv.Details) {
			t.Fatalf("invalid error with %d details of %d", len(inv.Details), inv.Count)
		}
	default:
		t.Fatalf("undocumented error %T: %v", err, err)
	}
}

// Now is the receive time the formats' tests decode at.
var Now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// Limits are the validation limits of the settings' defaults.
var Limits = schema.Limits{MaxIDLength: 100, MaxFuture: 24 * time.Hour, MaxPast: 5 * 8760 * time.Hour}

// Options are the rules of Limits for a body of at most maxLen readings
// under policy p.
func Options(maxLen int, p schema.Policy) schema.Options {
	return schema.Options{Limits: Limits, MaxLen: maxLen, Policy: p}
}

// BatchJSON is a JSON batch of n readings as clients send them, an hour
// before Now: 50 ships, 7 cargos, 50 readings a second. The formats'
// benchmarks decode it, or the same readings in their own format.
func BatchJSON(n int) []byte {
	b := []byte{'['}
	t0 := Now.Add(-time.Hour)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"time":"`...)
		b = t0.Add(time.Duration(i/50)*time.Second).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, `","ship_id":"ship-`...)
		b = strconv.AppendInt(b, int64(i%50), 10)
		b = append(b, `","cargo_id":"cargo-`...)
		b = strconv.AppendInt(b, int64(i%7), 10)
		b = append(b, `","value":`...)
		b = strconv.AppendFloat(b, float64(i)*0.37-11.5, 'g', -1, 64)
		b = append(b, '}')
	}
	return append(b, ']')
}
