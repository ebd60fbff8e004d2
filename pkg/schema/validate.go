package schema

import (
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// Validator turns the raw readings of a body into Readings by Harbor's
// rules, collecting every problem it finds instead of stopping at the
// first. Every body format decodes into Raw and validates with it, so the
// rules and the error bodies are the same for all of them.
type Validator struct {
	opt      Options
	lim      Limits
	where    Locator
	now      time.Time
	nowMs    int64
	earliest int64 // Unix milliseconds
	latest   int64
	problems []FieldError
	count    int
	ids      map[string]string // interned ship and cargo ids
	lastShip string            // the previous object's ship_id if valid, else ""
	times    timeCache
}

// Locator names where in a body the object of an index is, in the Loc of
// its problems.
type Locator func(index int) string

// AtIndex locates an element of an array: "[3]".
func AtIndex(index int) string { return "[" + strconv.Itoa(index) + "]" }

// AtLine locates a line of a text body: "line 3".
func AtLine(line int) string { return "line " + strconv.Itoa(line) }

// NewValidator returns a Validator of the readings of one body, received
// at now, by the rules of opt; where names the objects in error locations
// (AtIndex or AtLine).
func NewValidator(now time.Time, opt Options, where Locator) *Validator {
	lim := opt.Limits
	earliest, latest := lim.window(now, 0)
	return &Validator{
		opt: opt, lim: lim, where: where,
		now: now, nowMs: now.UnixMilli(), earliest: earliest, latest: latest,
		ids: make(map[string]string),
	}
}

// Latest is the latest time, in Unix milliseconds, a reading may have.
func (v *Validator) Latest() int64 { return v.latest }

// Problems is how many problems were found so far.
func (v *Validator) Problems() int { return v.count }

// Fail records a problem of the object at index (-1 for the only object of
// a body) with a field (empty for the whole object), of a FieldError type.
func (v *Validator) Fail(index int, field, typ, msg string) {
	v.count++
	if len(v.problems) >= MaxErrorDetails {
		return
	}
	loc := make([]string, 0, 2)
	if index >= 0 {
		loc = append(loc, v.where(index))
	}
	if field != "" {
		loc = append(loc, field)
	}
	v.problems = append(v.problems, FieldError{Loc: loc, Msg: msg, Type: typ})
}

// Result is what the body decodes to, given the valid readings Object
// gave: a TooLongError if they are more than Options.MaxLen; them alone
// when there was no problem; else, under the Partial policy, them and the
// problems as skipped, unless none was valid; else the problems as an
// error.
func (v *Validator) Result(valid []Reading) (Decoded, error) {
	opt := v.opt
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

// Object validates one raw object and appends its readings to out: the
// reading of its cargo_id and value, and one reading for each flat field
// (a number, a boolean or a string holding a number, named by its cargo),
// all with the object's time and ship_id. An object without such flat
// fields is one reading, and is told what it lacks. Invalid readings are recorded as
// problems and not appended; a problem with the shared time or ship_id
// leaves out every reading of the object.
func (v *Validator) Object(index int, raw *Raw, out []Reading) []Reading {
	before := v.count
	t := v.time(index, raw.Time)
	ship := v.shipID(index, raw.ShipID)
	shared := v.count == before
	readable := 0
	for i := range raw.Flat {
		if raw.Flat[i].readable() {
			readable++
		}
	}
	if raw.CargoID.Kind != 0 || raw.Value.Kind != 0 || readable == 0 {
		mark := v.count
		r := Reading{Time: t, ShipID: ship, CargoID: v.id(index, "cargo_id", raw.CargoID), Value: v.value(index, "value", raw.Value)}
		if shared && v.count == mark {
			out = append(out, r)
		}
	}
	var last map[string]int // where each key is last, for objects of many flat fields
	if len(raw.Flat) > maxFlatScan {
		last = make(map[string]int, len(raw.Flat))
		for i := range raw.Flat {
			last[string(raw.Flat[i].Key)] = i
		}
	}
	for i := range raw.Flat {
		f := &raw.Flat[i]
		if !f.readable() {
			continue // a flat field of text (a unit, a label) is no reading
		}
		if !lastOf(raw.Flat, i, last) {
			continue // a field given twice keeps its last value
		}
		mark := v.count
		// A cargo seen before is valid, and costs no allocation.
		cargo, seen := v.ids[string(f.Key)]
		name := cargo
		if !seen {
			name = string(f.Key)
			cargo = v.id(index, name, Field{Kind: String, Text: f.Key})
		}
		r := Reading{Time: t, ShipID: ship, CargoID: cargo, Value: v.value(index, name, f.Value)}
		if shared && v.count == mark {
			out = append(out, r)
		}
	}
	return out
}

func (v *Validator) time(index int, f Field) int64 {
	var ms int64
	switch f.Kind {
	case Absent, Null:
		return v.nowMs
	case UnixMillis:
		ms = f.Millis
	case String:
		var ok bool
		if ms, ok = v.times.parse(f.Text); !ok {
			v.Fail(index, "time", TypeTimeFormat, "time must be RFC 3339 / ISO 8601 with a date, a time and a zone (Z or ±hh:mm), e.g. 2024-05-01T12:00:00.250Z")
			return 0
		}
	default:
		v.Fail(index, "time", TypeMismatch, "time must be a string in RFC 3339 / ISO 8601 format, e.g. 2024-05-01T12:00:00.250Z")
		return 0
	}
	switch {
	case ms > v.latest && v.latest == MaxTableTime:
		v.Fail(index, "time", TypeTimeRange, "time is after "+formatMillis(MaxTableTime)+", the latest time the table holds")
	case ms > v.latest:
		v.Fail(index, "time", TypeTimeRange, "time is more than "+v.lim.MaxFuture.String()+" in the future")
	case ms < v.earliest:
		v.Fail(index, "time", TypeTimeRange, "time is more than "+v.lim.MaxPast.String()+" in the past (or before 1970)")
	}
	return ms
}

// shipID is id for an object's ship_id. A body's readings tend to come a
// ship at a time (a device posts its own), so the ship of the previous
// object is tried before the intern map.
func (v *Validator) shipID(index int, f Field) string {
	if f.Kind == String && len(f.Text) > 0 && string(f.Text) == v.lastShip {
		return v.lastShip
	}
	s := v.id(index, "ship_id", f)
	v.lastShip = s // "" when invalid, which no valid id equals
	return s
}

func (v *Validator) id(index int, name string, f Field) string {
	switch f.Kind {
	case Absent, Null:
		v.Fail(index, name, TypeMissing, name+" is required")
		return ""
	case String:
	default:
		v.Fail(index, name, TypeMismatch, name+" must be a string")
		return ""
	}
	if s, ok := v.ids[string(f.Text)]; ok { // seen before: valid, and no allocation
		return s
	}
	if msg, typ := checkID(f.Text, v.lim.MaxIDLength); msg != "" {
		v.Fail(index, name, typ, name+msg)
		return ""
	}
	s := string(f.Text)
	v.ids[s] = s
	return s
}

// CheckID returns what is wrong with an id (of the field name: ship_id,
// cargo_id) by the rules a reading's ids are held to, or nil. Loc is the
// field name alone.
func CheckID(name, id string, lim Limits) *FieldError {
	v := NewValidator(time.Time{}, Options{Limits: lim}, AtIndex)
	v.id(-1, name, Field{Kind: String, Text: []byte(id)})
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
			return " must be printable text without control characters or U+FFFD", TypeCharacters
		}
	}
	if n == 0 || n > maxLen {
		return fmt.Sprintf(" must have 1 to %d characters", maxLen), TypeLength
	}
	return "", ""
}

// maxFlatScan is the most flat fields an object may have for a repeated key
// to be found by comparing it with the later ones; more are looked up in a
// map, so that an object of a hundred thousand fields stays linear.
const maxFlatScan = 16

// lastOf reports whether flat[i] is the last field with its key. last, when
// not nil, maps each key to its last index.
func lastOf(flat []FlatField, i int, last map[string]int) bool {
	if last != nil {
		return last[string(flat[i].Key)] == i
	}
	for j := i + 1; j < len(flat); j++ {
		if string(flat[j].Key) == string(flat[i].Key) {
			return false
		}
	}
	return true
}

// value reads the value of the field name: a number, a string that holds
// one in JSON's grammar ("21.5", as some clients send), or a boolean (1 or
// 0).
func (v *Validator) value(index int, name string, f Field) float64 {
	switch {
	case f.Kind == Absent:
		v.Fail(index, name, TypeMissing, name+" is required")
		return 0
	case f.Kind == Bool:
		if f.Text[0] == 't' {
			return 1
		}
		return 0
	case f.Kind == Number, f.Kind == String && IsNumber(f.Text):
	default:
		v.Fail(index, name, TypeMismatch, name+" must be a number, a string holding a number, or true/false (not other text, null, an object or an array)")
		return 0
	}
	x, ok := ParseNumber(f.Text)
	if !ok {
		v.Fail(index, name, TypeNotFinite, name+" must be a finite number within the range of a 64-bit float")
		return 0
	}
	return x
}
