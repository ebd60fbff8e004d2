package schema

import (
	"errors"
	"fmt"
)

// MaxErrorDetails caps how many bad readings one error lists, so that a
// large bad batch does not produce a larger error body.
const MaxErrorDetails = 100

// ErrMalformed means the body is not the JSON the endpoint expects (not JSON
// at all, not UTF-8, or an object where an array belongs). It is wrapped with
// a detail that says what was wrong.
var ErrMalformed = errors.New("malformed body")

// ErrEmptyBatch means a batch body was an empty JSON array.
var ErrEmptyBatch = errors.New("batch is empty: send at least one reading")

// FieldError says what is wrong with one field of one reading. Loc is the
// path to it: the reading's index in a batch ("[3]") and the field name.
type FieldError struct {
	Loc  []string `json:"loc"`
	Msg  string   `json:"msg"`
	Type string   `json:"type"`
}

// The Type values of FieldError: what kind of problem a field has. They
// are strings of the error bodies' JSON, not Go errors.
const (
	TypeMissing    = "missing"
	TypeMismatch   = "type_error"
	TypeTimeFormat = "time_format"
	TypeTimeRange  = "time_range"
	TypeLength     = "length"
	TypeCharacters = "characters"
	TypeNotFinite  = "not_finite"
	// TypeSyntax is a line of a text body (line protocol, NDJSON, CSV)
	// that its format cannot read: the line is refused, the others are
	// still validated.
	TypeSyntax = "syntax"
)

// InvalidError reports the readings of a body that failed validation. A batch
// is validated as a whole: one bad reading rejects all of it.
type InvalidError struct {
	Details []FieldError // at most MaxErrorDetails of them
	Count   int          // how many problems there were in all
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("%d invalid field(s) in the readings", e.Count)
}

// TooLongError means a batch has more readings than the limit allows.
type TooLongError struct {
	Len, Max int
}

func (e *TooLongError) Error() string {
	return fmt.Sprintf("batch has %d readings, more than the limit of %d: split it into smaller batches", e.Len, e.Max)
}
