package schema

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// validator turns the raw JSON fields of readings into Readings, collecting
// every problem it finds instead of stopping at the first.
type validator struct {
	lim      Limits
	now      time.Time
	earliest int64 // Unix milliseconds
	latest   int64
	problems []FieldError
	count    int
}

func newValidator(lim Limits, now time.Time) *validator {
	earliest := now.Add(-lim.MaxPast).UnixMilli()
	if earliest < 0 { // DateTime columns start at the Unix epoch
		earliest = 0
	}
	return &validator{lim: lim, now: now, earliest: earliest, latest: now.Add(lim.MaxFuture).UnixMilli()}
}

func (v *validator) fail(index, field, typ, msg string) {
	v.count++
	if len(v.problems) >= MaxErrorDetails {
		return
	}
	loc := make([]string, 0, 2)
	if index != "" {
		loc = append(loc, index)
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

// reading validates one decoded object. index is "" for a single reading,
// "[i]" inside a batch.
func (v *validator) reading(index string, raw *rawReading) Reading {
	return Reading{
		Time:    v.time(index, raw.Time),
		ShipID:  v.id(index, "ship_id", raw.ShipID),
		CargoID: v.id(index, "cargo_id", raw.CargoID),
		Value:   v.value(index, raw.Value),
	}
}

func (v *validator) time(index string, raw json.RawMessage) int64 {
	if raw == nil || string(raw) == "null" {
		return v.now.UnixMilli()
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		v.fail(index, "time", ErrTypeType, "time must be a string in RFC 3339 / ISO 8601 format, e.g. 2024-05-01T12:00:00.250Z")
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		v.fail(index, "time", ErrTypeTime, "time must be RFC 3339 / ISO 8601 with a date, a time and a zone (Z or ±hh:mm), e.g. 2024-05-01T12:00:00.250Z")
		return 0
	}
	ms := t.UnixMilli()
	switch {
	case ms > v.latest:
		v.fail(index, "time", ErrTypeTimeRange, "time is more than "+v.lim.MaxFuture.String()+" in the future")
	case ms < v.earliest:
		v.fail(index, "time", ErrTypeTimeRange, "time is more than "+v.lim.MaxPast.String()+" in the past (or before 1970)")
	}
	return ms
}

func (v *validator) id(index, field string, raw json.RawMessage) string {
	if raw == nil || string(raw) == "null" {
		v.fail(index, field, ErrTypeMissing, field+" is required")
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		v.fail(index, field, ErrTypeType, field+" must be a string")
		return ""
	}
	if n := utf8.RuneCountInString(s); n == 0 || n > v.lim.MaxIDLength {
		v.fail(index, field, ErrTypeLength, field+" must have 1 to "+strconv.Itoa(v.lim.MaxIDLength)+" characters")
		return ""
	}
	for _, r := range s {
		// U+FFFD is what a lone surrogate escape (\ud800) decodes to: the id
		// the client meant is lost, so it is refused rather than stored.
		if !unicode.IsPrint(r) || r == utf8.RuneError {
			v.fail(index, field, ErrTypeChars, field+" must be printable text without control characters or U+FFFD")
			return ""
		}
	}
	return s
}

func (v *validator) value(index string, raw json.RawMessage) float64 {
	if raw == nil {
		v.fail(index, "value", ErrTypeMissing, "value is required")
		return 0
	}
	if c := raw[0]; c != '-' && (c < '0' || c > '9') {
		v.fail(index, "value", ErrTypeType, "value must be a JSON number (not a string, boolean or null)")
		return 0
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) {
		v.fail(index, "value", ErrTypeFinite, "value must be a finite number within the range of a 64-bit float")
		return 0
	}
	return f
}
