// Package formattest holds the checks every body format's tests and fuzz
// targets make of what a decoder answers.
package formattest

import (
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/harbor-ingest/harbor/pkg/format"
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

// CheckProblems fails the test unless err is an *schema.InvalidError whose
// details are, in order, want: each "loc: type", the parts of its Loc
// joined with dots.
func CheckProblems(t testing.TB, err error, want ...string) {
	t.Helper()
	var inv *schema.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v, want invalid readings %q", err, want)
	}
	var got []string
	for _, d := range inv.Details {
		got = append(got, strings.Join(d.Loc, ".")+": "+d.Type)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems\n%q\nwant\n%q\n(%+v)", got, want, inv.Details)
	}
}

// CheckPolicies decodes body at Now, in a batch of at most 10 readings,
// by both policies: schema.Whole must refuse it with the problems want (see
// CheckProblems), and schema.Partial must keep kept readings and skip one
// for each problem.
func CheckPolicies(t testing.TB, decode format.Decoder, body string, kept int, want ...string) {
	t.Helper()
	_, err := decode([]byte(body), Now, Options(10, schema.Whole))
	CheckProblems(t, err, want...)
	d, err := decode([]byte(body), Now, Options(10, schema.Partial))
	if err != nil || len(d.Readings) != kept || d.Skipped == nil || d.Skipped.Count != len(want) {
		t.Fatalf("partial: %+v %v", d, err)
	}
}

// CheckFuzzed decodes a fuzzed body at Now by the rules of opt and fails
// the test unless decode answers a documented error or readings that are
// all valid, at least one and at most opt.MaxLen (when it is set), with
// nothing skipped. It reports whether decode accepted the body.
func CheckFuzzed(t testing.TB, decode format.Decoder, body []byte, opt schema.Options) (schema.Decoded, bool) {
	t.Helper()
	d, err := decode(body, Now, opt)
	if err != nil {
		CheckError(t, err)
		return d, false
	}
	if len(d.Readings) == 0 || (opt.MaxLen > 0 && len(d.Readings) > opt.MaxLen) || d.Skipped != nil {
		t.Fatalf("accepted %d readings, skipped %v", len(d.Readings), d.Skipped)
	}
	for _, r := range d.Readings {
		CheckValid(t, r, Now, opt.Limits)
	}
	return d, true
}

// CheckRefused fails the test for each of the named bodies that decode
// accepts, in a batch of at most 10000 readings. Its bodies are hostile
// (long, deep, wide or binary): that they answer an error, and do not
// panic, is the check.
func CheckRefused(t *testing.T, decode format.Decoder, bodies map[string]string) {
	t.Helper()
	for name, body := range bodies {
		if _, err := decode([]byte(body), Now, Options(10000, schema.Whole)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// BenchmarkDecode decodes body, which holds n readings, at Now, and
// reports the readings decoded a second beside the bytes.
func BenchmarkDecode(b *testing.B, decode format.Decoder, body []byte, n int) {
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := decode(body, Now, Options(10000, schema.Whole))
		if err != nil || len(d.Readings) != n {
			b.Fatal(len(d.Readings), err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "readings/s")
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

// benchReading is the i-th reading of the formats' benchmark batches, an
// hour before Now: 50 ships, 7 cargos, 50 readings a second.
func benchReading(i int) (at time.Time, ship, cargo int64, value float64) {
	return Now.Add(-time.Hour).Add(time.Duration(i/50) * time.Second), int64(i % 50), int64(i % 7), float64(i)*0.37 - 11.5
}

// appendReadingJSON appends the i-th benchmark reading as a JSON object.
func appendReadingJSON(b []byte, i int) []byte {
	at, ship, cargo, value := benchReading(i)
	b = append(b, `{"time":"`...)
	b = at.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","ship_id":"ship-`...)
	b = strconv.AppendInt(b, ship, 10)
	b = append(b, `","cargo_id":"cargo-`...)
	b = strconv.AppendInt(b, cargo, 10)
	b = append(b, `","value":`...)
	b = strconv.AppendFloat(b, value, 'g', -1, 64)
	return append(b, '}')
}

// BatchJSON is a JSON batch of n readings as clients send them. The
// formats' benchmarks decode it, or the same readings in their own format
// (BatchNDJSON, BatchCSV).
func BatchJSON(n int) []byte {
	b := []byte{'['}
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendReadingJSON(b, i)
	}
	return append(b, ']')
}

// BatchNDJSON is BatchJSON's readings as newline-delimited JSON.
func BatchNDJSON(n int) []byte {
	var b []byte
	for i := range n {
		b = append(appendReadingJSON(b, i), '\n')
	}
	return b
}

// BatchCSV is BatchJSON's readings as CSV, under a header row.
func BatchCSV(n int) []byte {
	b := []byte("time,ship_id,cargo_id,value\n")
	for i := range n {
		at, ship, cargo, value := benchReading(i)
		b = at.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, ",ship-"...)
		b = strconv.AppendInt(b, ship, 10)
		b = append(b, ",cargo-"...)
		b = strconv.AppendInt(b, cargo, 10)
		b = append(b, ',')
		b = strconv.AppendFloat(b, value, 'g', -1, 64)
		b = append(b, '\n')
	}
	return b
}
