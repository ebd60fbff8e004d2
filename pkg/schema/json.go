package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// rawReading holds the fields of one JSON reading before validation. Unknown
// fields are ignored; a field given twice takes its last value.
type rawReading struct {
	Time    json.RawMessage `json:"time"`
	ShipID  json.RawMessage `json:"ship_id"`
	CargoID json.RawMessage `json:"cargo_id"`
	Value   json.RawMessage `json:"value"`
}

// DecodeReading parses and validates the body of the single-reading endpoint:
// one JSON object. now is the receive time, used when the reading has none.
func DecodeReading(body []byte, now time.Time, lim Limits) (Reading, error) {
	if err := checkJSON(body, '{', "a JSON object"); err != nil {
		return Reading{}, err
	}
	var raw rawReading
	if err := json.Unmarshal(body, &raw); err != nil {
		return Reading{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	v := newValidator(lim, now)
	r := v.reading("", &raw)
	return r, v.err()
}

// DecodeBatch parses and validates the body of the batch endpoint: a JSON
// array of reading objects, at most maxLen of them. Either every reading is
// valid and returned, or an error says why none is.
func DecodeBatch(body []byte, now time.Time, lim Limits, maxLen int) ([]Reading, error) {
	if err := checkJSON(body, '[', "a JSON array of readings"); err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch {
	case len(items) == 0:
		return nil, ErrEmptyBatch
	case len(items) > maxLen:
		return nil, &TooLongError{Len: len(items), Max: maxLen}
	}
	v := newValidator(lim, now)
	readings := make([]Reading, len(items))
	for i, item := range items {
		index := "[" + strconv.Itoa(i) + "]"
		if item[0] != '{' {
			v.fail(index, "", ErrTypeType, "each reading must be a JSON object")
			continue
		}
		var raw rawReading
		if err := json.Unmarshal(item, &raw); err != nil {
			v.fail(index, "", ErrTypeType, err.Error())
			continue
		}
		readings[i] = v.reading(index, &raw)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return readings, nil
}

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
