package schema

import (
	"bytes"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Policy is what a body with invalid readings in it does.
type Policy uint8

const (
	// Whole refuses the whole body when any reading in it is invalid:
	// nothing of it is stored. The default.
	Whole Policy = iota
	// Partial keeps the valid readings and reports the others as skipped.
	Partial
)

// Options are the rules a body is decoded by.
type Options struct {
	Limits Limits
	// MaxLen is the most readings a body may hold; 0 means no limit.
	MaxLen int
	Policy Policy
}

// Decoded is what a body holds.
type Decoded struct {
	Readings []Reading
	// Skipped, under the Partial policy, says which readings were left out
	// and why; nil when none was.
	Skipped *InvalidError
}

// DecodeReading parses and validates the body of the single-reading
// endpoint: one JSON object, a reading or a flat reading (see
// DecodeBatch). now is the receive time, used when the reading has none.
func DecodeReading(body []byte, now time.Time, opt Options) (Decoded, error) {
	if err := checkJSON(body, '{', "a JSON object"); err != nil {
		return Decoded{}, err
	}
	s := scanner{b: body}
	var raw jsonReading
	if err := s.object(&raw); err != nil {
		return Decoded{}, err
	}
	if err := s.end(); err != nil {
		return Decoded{}, err
	}
	v := newValidator(opt.Limits, now)
	return v.result(v.object(-1, &raw, nil), opt)
}

// DecodeBatch parses and validates the body of the batch endpoint: a JSON
// array of reading objects. An object is a reading, {"time", "ship_id",
// "cargo_id", "value"}, or a flat reading, {"time", "ship_id", <cargo>:
// <value>, ...}, that holds one reading for each field other than those
// four whose value is a number, a boolean or a string holding a number
// (with or without a cargo_id and value of its own). Fields are matched by
// their exact names; a field given twice keeps its last value.
//
// Under the Whole policy either every reading is valid and returned, or an
// error says why none is stored.
func DecodeBatch(body []byte, now time.Time, opt Options) (Decoded, error) {
	if err := checkJSON(body, '[', "a JSON array of readings"); err != nil {
		return Decoded{}, err
	}
	s := scanner{b: body}
	s.i = bytes.IndexByte(body, '[') + 1
	v := newValidator(opt.Limits, now)
	maxLen := opt.MaxLen
	if maxLen <= 0 {
		maxLen = math.MaxInt
	}
	readings := make([]Reading, 0, min(maxLen, estimateLen(body)))
	if s.peek() == ']' {
		s.i++
	} else {
		for i := 0; ; i++ {
			if len(readings) >= maxLen {
				return Decoded{}, &TooLongError{Len: len(readings) + s.countRest(), Max: maxLen}
			}
			var raw jsonReading
			if s.peek() == '{' {
				if err := s.object(&raw); err != nil {
					return Decoded{}, err
				}
				readings = v.object(i, &raw, readings)
			} else {
				if err := s.value(nil, 0); err != nil {
					return Decoded{}, err
				}
				v.fail(i, "", ErrTypeType, "each reading must be a JSON object")
			}
			if c := s.peek(); c == ']' {
				s.i++
				break
			} else if c != ',' {
				return Decoded{}, s.malformed("expected ',' or ']' after a reading")
			}
			s.i++
		}
	}
	if err := s.end(); err != nil {
		return Decoded{}, err
	}
	if len(readings) == 0 && v.count == 0 {
		return Decoded{}, ErrEmptyBatch
	}
	return v.result(readings, opt)
}

// estimateLen guesses a batch's length from its size, to size the result.
func estimateLen(body []byte) int { return len(body)/64 + 1 }

// checkJSON rejects, with a clear message, bodies that cannot be the JSON
// value the endpoint wants, before any decoding work is spent on them.
func checkJSON(body []byte, first byte, want string) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: the body is not valid UTF-8", ErrMalformed)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: the body is empty; send %s", ErrMalformed, want)
	}
	if trimmed[0] != first {
		return fmt.Errorf("%w: the body must be %s", ErrMalformed, want)
	}
	return nil
}
