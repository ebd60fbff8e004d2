package schema

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// validator turns the raw fields of readings into Readings, collecting
// every problem it finds instead of stopping at the first.
type validator struct {
	lim      Limits
	now      time.Time
	nowMs    int64
	earliest int64 // Unix milliseconds
	latest   int64
	problems []FieldError
	count    int
	ids      map[string]string // interned ship and cargo ids
}

func newValidator(lim Limits, now time.Time) *validator {
	earliest := now.Add(-lim.MaxPast).UnixMilli()
	if earliest < 0 { // DateTime columns start at the Unix epoch
		earliest = 0
	}
	return &validator{
		lim: lim, now: now, nowMs: now.UnixMilli(), earliest: earliest, latest: now.Add(lim.MaxFuture).UnixMilli(),
		ids: make(map[string]string),
	}
}

// fail records a problem of reading index (-1 for a single reading).
func (v *validator) fail(index int, field, typ, msg string) {
	v.count++
	if len(v.problems) >= MaxErrorDetails {
		return
	}
	loc := make([]string, 0, 2)
	if index >= 0 {
		loc = append(loc, "["+strconv.Itoa(index)+"]")
	}
	if field != "" {
		loc = append(loc, field)
	}
	v.problems = append(v.problems, FieldError{Loc: loc, Msg: msg, Type: typ})
}

// result is what decoding gives for the valid readings found: a
// TooLongError if they are more than opt.MaxLen; them alone
// when there was no problem; else, under the Partial policy, them and the
// problems as skipped, unless none was valid; else the problems as an
// error.
func (v *validator) result(valid []Reading, opt Options) (Decoded, error) {
	if opt.MaxLen > 0 && len(valid) > opt.MaxLen { // flat readings can outgrow it
		return Decoded{}, &TooLongError{Len: len(valid), Max: opt.MaxLen}
	}
	if v.count == 0 {
		return Decoded{Readings: valid}, nil
	}
	problems := &InvalidError{Details: v.problems, Count: v.count}
	if opt.Policy == Partial && len(valid) > 0 {
		return Decoded{Readings: valid, Skipped: problems}, nil
	}
	return Decoded{}, problems
}

// object validates one decoded object and appends its readings to out: the
// reading of its cargo_id and value, and one reading for each flat field
// (a number, a boolean or a string holding a number, named by its cargo),
// all with the object's time and ship_id. An object without such flat
// fields is one reading, and is told what it lacks. Invalid readings are recorded as
// problems and not appended; a problem with the shared time or ship_id
// leaves out every reading of the object.
func (v *validator) object(index int, raw *jsonReading, out []Reading) []Reading {
	before := v.count
	t := v.time(index, raw.time)
	ship := v.id(index, "ship_id", raw.shipID)
	shared := v.count == before
	readable := 0
	for i := range raw.flat {
		if raw.flat[i].readable() {
			readable++
		}
	}
	if raw.cargoID.kind != 0 || raw.value.kind != 0 || readable == 0 {
		mark := v.count
		r := Reading{Time: t, ShipID: ship, CargoID: v.id(index, "cargo_id", raw.cargoID), Value: v.value(index, "value", raw.value)}
		if shared && v.count == mark {
			out = append(out, r)
		}
	}
	var last map[string]int // where each key is last, for objects of many flat fields
	if len(raw.flat) > maxFlatScan {
		last = make(map[string]int, len(raw.flat))
		for i := range raw.flat {
			last[string(raw.flat[i].key)] = i
		}
	}
	for i := range raw.flat {
		f := &raw.flat[i]
		if !f.readable() {
			continue // a flat field of text (a unit, a label) is no reading
		}
		if !lastOf(raw.flat, i, last) {
			continue // a field given twice keeps its last value
		}
		mark := v.count
		name := string(f.key)
		r := Reading{Time: t, ShipID: ship, CargoID: v.id(index, name, field{kind: 's', text: f.key}), Value: v.value(index, name, f.value)}
		if shared && v.count == mark {
			out = append(out, r)
		}
	}
	return out
}

func (v *validator) time(index int, f field) int64 {
	switch f.kind {
	case 0, 'l':
		return v.nowMs
	case 's':
	default:
		v.fail(index, "time", ErrTypeType, "time must be a string in RFC 3339 / ISO 8601 format, e.g. 2024-05-01T12:00:00.250Z")
		return 0
	}
	ms, ok := parseTimeMillis(f.text)
	if !ok {
		v.fail(index, "time", ErrTypeTime, "time must be RFC 3339 / ISO 8601 with a date, a time and a zone (Z or ±hh:mm), e.g. 2024-05-01T12:00:00.250Z")
		return 0
	}
	switch {
	case ms > v.latest:
		v.fail(index, "time", ErrTypeTimeRange, "time is more than "+v.lim.MaxFuture.String()+" in the future")
	case ms < v.earliest:
		v.fail(index, "time", ErrTypeTimeRange, "time is more than "+v.lim.MaxPast.String()+" in the past (or before 1970)")
	}
	return ms
}

func (v *validator) id(index int, name string, f field) string {
	switch f.kind {
	case 0, 'l':
		v.fail(index, name, ErrTypeMissing, name+" is required")
		return ""
	case 's':
	default:
		v.fail(index, name, ErrTypeType, name+" must be a string")
		return ""
	}
	if s, ok := v.ids[string(f.text)]; ok { // seen before: valid, and no allocation
		return s
	}
	if msg, typ := checkID(f.text, v.lim.MaxIDLength); msg != "" {
		v.fail(index, name, typ, name+msg)
		return ""
	}
	s := string(f.text)
	v.ids[s] = s
	return s
}

// CheckID returns what is wrong with an id (of the field name: ship_id,
// cargo_id) by the rules a reading's ids are held to, or nil. Loc is the
// field name alone.
func CheckID(name, id string, lim Limits) *FieldError {
	v := newValidator(lim, time.Time{})
	v.id(-1, name, field{kind: 's', text: []byte(id)})
	if len(v.problems) == 0 {
		return nil
	}
	return &v.problems[0]
}

// checkID returns what is wrong with an id, or "" if nothing is.
func checkID(b []byte, maxLen int) (msg, typ string) {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		n++
		// U+FFFD is also what a lone surrogate escape (\ud800) decodes to:
		// the id the client meant is lost, so it is refused, not stored.
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			return " must be printable text without control characters or U+FFFD", ErrTypeChars
		}
	}
	if n == 0 || n > maxLen {
		return fmt.Sprintf(" must have 1 to %d characters", maxLen), ErrTypeLength
	}
	return "", ""
}

// readable reports whether a flat field is a reading: a number, a boolean,
// or a string that holds a number.
func (f *flatField) readable() bool {
	return f.value.kind != 's' || isNumber(f.value.text)
}

// maxFlatScan is the most flat fields an object may have for a repeated key
// to be found by comparing it with the later ones; more are looked up in a
// map, so that an object of a hundred thousand fields stays linear.
const maxFlatScan = 16

// lastOf reports whether flat[i] is the last field with its key. last, when
// not nil, maps each key to its last index.
func lastOf(flat []flatField, i int, last map[string]int) bool {
	if last != nil {
		return last[string(flat[i].key)] == i
	}
	for j := i + 1; j < len(flat); j++ {
		if string(flat[j].key) == string(flat[i].key) {
			return false
		}
	}
	return true
}

// value reads the value of the field name: a number, a string that holds
// one in JSON's grammar ("21.5", as some clients send), or a boolean (1 or
// 0).
func (v *validator) value(index int, name string, f field) float64 {
	switch {
	case f.kind == 0:
		v.fail(index, name, ErrTypeMissing, name+" is required")
		return 0
	case f.kind == 'b':
		if f.text[0] == 't' {
			return 1
		}
		return 0
	case f.kind == 'n', f.kind == 's' && isNumber(f.text):
	default:
		v.fail(index, name, ErrTypeType, name+" must be a number, a string holding a number, or true/false (not other text, null, an object or an array)")
		return 0
	}
	x, err := strconv.ParseFloat(string(f.text), 64)
	if err != nil || math.IsInf(x, 0) {
		v.fail(index, name, ErrTypeFinite, name+" must be a finite number within the range of a 64-bit float")
		return 0
	}
	return x
}

// isNumber reports whether text is a number in JSON's grammar, and nothing
// else: no spaces, no "NaN", "Inf", hexadecimal or digit separators, which
// strconv.ParseFloat would take.
func isNumber(text []byte) bool {
	end, problem := numberEnd(text, 0)
	return problem == "" && end == len(text)
}
