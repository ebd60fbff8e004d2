// Package ndjson decodes NDJSON (newline-delimited JSON) bodies: one reading
// or flat reading per line, each line a JSON object as in a JSON batch.
package ndjson

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harbor-ingest/harbor/pkg/format/jsonbody"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Decode parses and validates an NDJSON body: each line is a reading or a
// flat reading, the objects of jsonbody.DecodeBatch. Blank lines are
// skipped; a line that is not a JSON object is refused with its line
// number, as an invalid reading is, and the other lines are still
// validated (and, under the partial policy, stored).
func Decode(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error) {
	if !utf8.Valid(body) {
		return schema.Decoded{}, fmt.Errorf("%w: the body is not valid UTF-8", schema.ErrMalformed)
	}
	v := schema.NewValidator(now, opt, schema.AtLine)
	maxLen := opt.MaxLen
	if maxLen <= 0 {
		maxLen = math.MaxInt
	}
	readings := make([]schema.Reading, 0, min(maxLen, bytes.Count(body, []byte{'\n'})+1))
	var objects jsonbody.Objects
	var raw schema.Raw
	line := 0
	for rest := body; len(rest) > 0; {
		line++
		var b []byte
		b, rest, _ = bytes.Cut(rest, []byte{'\n'})
		if len(bytes.TrimLeft(b, " \t\r")) == 0 {
			continue
		}
		if len(readings) >= maxLen {
			return schema.Decoded{}, &schema.TooLongError{Len: len(readings) + 1 + lines(rest), Max: maxLen}
		}
		if err := objects.Read(b, &raw); err != nil {
			v.Fail(line, "", schema.TypeSyntax, problem(err))
			continue
		}
		readings = v.Object(line, &raw, readings)
	}
	if len(readings) == 0 && v.Problems() == 0 {
		return schema.Decoded{}, schema.ErrEmptyBatch
	}
	return v.Result(readings)
}

// lines counts the lines of b that are not blank.
func lines(b []byte) int {
	n := 0
	for len(b) > 0 {
		l := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			l, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimLeft(l, " \t\r")) > 0 {
			n++
		}
	}
	return n
}

// problem is what a line's error says, without the prefix every one has.
func problem(err error) string {
	msg := err.Error()
	if errors.Is(err, schema.ErrMalformed) {
		msg = strings.TrimPrefix(msg, schema.ErrMalformed.Error()+": ")
	}
	return "each line must be one JSON object: " + msg
}
