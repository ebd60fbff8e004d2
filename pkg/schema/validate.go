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
	earliest, latest := lim.window(now, 0)
	return &validator{
		lim: lim, now: now, nowMs: now.UnixMilli(), earliest: earliest, latest: latest,
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

func (v *validator) err() error {
	if v.count == 0 {
		return nil
	}
	return &InvalidError{Details: v.problems, Count: v.count}
}

// reading validates one decoded object.
func (v *validator) reading(index int, raw *jsonReading) Reading {
	return Reading{
		Time:    v.time(index, raw.time),
		ShipID:  v.id(index, "ship_id", raw.shipID),
		CargoID: v.id(index, "cargo_id", raw.cargoID),
		Value:   v.value(index, raw.value),
	}
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
	case ms > v.latest && v.latest == MaxTableTime:
		v.fail(index, "time", ErrTypeTimeRange, "time is after "+formatMillis(MaxTableTime)+", the latest time the table holds")
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

func (v *validator) value(index int, f field) float64 {
	switch f.kind {
	case 0:
		v.fail(index, "value", ErrTypeMissing, "value is required")
		return 0
	case 'n':
	default:
		v.fail(index, "value", ErrTypeType, "value must be a JSON number (not a string, boolean or null)")
		return 0
	}
	x, err := strconv.ParseFloat(string(f.text), 64)
	if err != nil || math.IsInf(x, 0) {
		v.fail(index, "value", ErrTypeFinite, "value must be a finite number within the range of a 64-bit float")
		return 0
	}
	return x
}
