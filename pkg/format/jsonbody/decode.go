// Package jsonbody decodes Harbor's JSON bodies: one reading or flat reading
// (an object), or a batch of them (an array), with a strict hand-written
// scanner that builds no intermediate values.
package jsonbody

import (
	"bytes"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// DecodeReading parses and validates the body of the single-reading
// endpoint: one JSON object, a reading or a flat reading (see
// DecodeBatch). now is the receive time, used when the reading has none.
func DecodeReading(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error) {
	if err := checkJSON(body, '{', "a JSON object"); err != nil {
		return schema.Decoded{}, err
	}
	s := scanner{b: body}
	var raw schema.Raw
	if err := s.object(&raw); err != nil {
		return schema.Decoded{}, err
	}
	if err := s.end(); err != nil {
		return schema.Decoded{}, err
	}
	v := schema.NewValidator(now, opt, schema.AtIndex)
	return v.Result(v.Object(-1, &raw, nil))
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
func DecodeBatch(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error) {
	if err := checkJSON(body, '[', "a JSON array of readings"); err != nil {
		return schema.Decoded{}, err
	}
	s := scanner{b: body}
	s.i = bytes.IndexByte(body, '[') + 1
	v := schema.NewValidator(now, opt, schema.AtIndex)
	maxLen := opt.MaxLen
	if maxLen <= 0 {
		maxLen = math.MaxInt
	}
	readings := make([]schema.Reading, 0, min(maxLen, estimateLen(body)))
	if s.peek() == ']' {
		s.i++
	} else {
		for i := 0; ; i++ {
			if len(readings) >= maxLen {
				return schema.Decoded{}, &schema.TooLongError{Len: len(readings) + s.countRest(), Max: maxLen}
			}
			var raw schema.Raw
			if s.peek() == '{' {
				if err := s.object(&raw); err != nil {
					return schema.Decoded{}, err
				}
				readings = v.Object(i, &raw, readings)
			} else {
				if err := s.value(nil, 0); err != nil {
					return schema.Decoded{}, err
				}
				v.Fail(i, "", schema.TypeMismatch, "each reading must be a JSON object")
			}
			if c := s.peek(); c == ']' {
				s.i++
				break
			} else if c != ',' {
				return schema.Decoded{}, s.malformed("expected ',' or ']' after a reading")
			}
			s.i++
		}
	}
	if err := s.end(); err != nil {
		return schema.Decoded{}, err
	}
	if len(readings) == 0 && v.Problems() == 0 {
		return schema.Decoded{}, schema.ErrEmptyBatch
	}
	return v.Result(readings)
}

// estimateLen guesses a batch's length from its size, to size the result.
func estimateLen(body []byte) int { return len(body)/64 + 1 }

// checkJSON rejects, with a clear message, bodies that cannot be the JSON
// value the endpoint wants, before any decoding work is spent on them.
func checkJSON(body []byte, first byte, want string) error {
	if !utf8.Valid(body) {
		return fmt.Errorf("%w: the body is not valid UTF-8", schema.ErrMalformed)
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return fmt.Errorf("%w: the body is empty; send %s", schema.ErrMalformed, want)
	}
	if trimmed[0] != first {
		return fmt.Errorf("%w: the body must be %s", schema.ErrMalformed, want)
	}
	return nil
}
