package schema

import (
	"bytes"
	"fmt"
	"time"
	"unicode/utf8"
)

// DecodeReading parses and validates the body of the single-reading endpoint:
// one JSON object. now is the receive time, used when the reading has none.
//
// Fields are matched by their exact names; unknown fields are ignored, and a
// field given twice keeps its last value.
func DecodeReading(body []byte, now time.Time, lim Limits) (Reading, error) {
	if err := checkJSON(body, '{', "a JSON object"); err != nil {
		return Reading{}, err
	}
	s := scanner{b: body}
	var raw jsonReading
	if err := s.object(&raw); err != nil {
		return Reading{}, err
	}
	if err := s.end(); err != nil {
		return Reading{}, err
	}
	v := newValidator(lim, now)
	r := v.reading(-1, &raw)
	return r, v.err()
}

// DecodeBatch parses and validates the body of the batch endpoint: a JSON
// array of reading objects, at most maxLen of them. Either every reading is
// valid and returned, or an error says why none is.
func DecodeBatch(body []byte, now time.Time, lim Limits, maxLen int) ([]Reading, error) {
	if err := checkJSON(body, '[', "a JSON array of readings"); err != nil {
		return nil, err
	}
	s := scanner{b: body}
	s.i = bytes.IndexByte(body, '[') + 1
	v := newValidator(lim, now)
	readings := make([]Reading, 0, min(maxLen, estimateLen(body)))
	if s.peek() == ']' {
		s.i++
	} else {
		for i := 0; ; i++ {
			if i == maxLen {
				return nil, &TooLongError{Len: maxLen + s.countRest(), Max: maxLen}
			}
			var raw jsonReading
			if s.peek() == '{' {
				if err := s.object(&raw); err != nil {
					return nil, err
				}
				readings = append(readings, v.reading(i, &raw))
			} else {
				if err := s.value(nil, 0); err != nil {
					return nil, err
				}
				v.fail(i, "", ErrTypeType, "each reading must be a JSON object")
			}
			if c := s.peek(); c == ']' {
				s.i++
				break
			} else if c != ',' {
				return nil, s.malformed("expected ',' or ']' after a reading")
			}
			s.i++
		}
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	if len(readings) == 0 && v.count == 0 {
		return nil, ErrEmptyBatch
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return readings, nil
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
