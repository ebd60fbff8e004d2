// Package csvbody decodes CSV bodies (RFC 4180): a header row, then one
// reading or flat reading per row.
package csvbody

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// The columns of a reading; any other column is a cargo of flat readings.
const (
	colTime    = "time"
	colShipID  = "ship_id"
	colCargoID = "cargo_id"
	colValue   = "value"
)

// Decode parses and validates a CSV body. The header row names the columns,
// in any order: ship_id (required), time (optional: RFC 3339, empty is the
// receive time), cargo_id and value (a reading per row), and any other
// column, which names a cargo: its cell in a row is a reading of that
// cargo, as a field of a flat reading is (a number, or true/false; an empty
// cell or text is no reading). A cell of value or of a cargo column may
// be true or false (1 or 0). Names are matched after trimming spaces; a
// UTF-8 byte order mark is skipped.
//
// A row with a wrong number of cells is refused with its line number, as
// an invalid reading is; a body that is not CSV (a stray quote) is
// malformed.
func Decode(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error) {
	if !utf8.Valid(body) {
		return schema.Decoded{}, fmt.Errorf("%w: the body is not valid UTF-8", schema.ErrMalformed)
	}
	body = bytes.TrimPrefix(body, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(body))
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return schema.Decoded{}, schema.ErrEmptyBatch
	}
	if err != nil {
		return schema.Decoded{}, malformed(err)
	}
	cols, err := columns(header)
	if err != nil {
		return schema.Decoded{}, err
	}
	v := schema.NewValidator(now, opt, schema.AtLine)
	maxLen := opt.MaxLen
	if maxLen <= 0 {
		maxLen = math.MaxInt
	}
	readings := make([]schema.Reading, 0, min(maxLen, bytes.Count(body, []byte{'\n'})))
	var raw schema.Raw
	var buf []byte
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && errors.Is(err, csv.ErrFieldCount) {
			v.Fail(pe.StartLine, "", schema.TypeSyntax, fmt.Sprintf("the row has %d cells, the header %d", len(record), len(cols.names)))
			continue
		}
		if err != nil {
			return schema.Decoded{}, malformed(err)
		}
		line, _ := r.FieldPos(0)
		if len(readings) >= maxLen {
			return schema.Decoded{}, &schema.TooLongError{Len: len(readings) + 1 + rowsLeft(r), Max: maxLen}
		}
		buf = buf[:0]
		raw = schema.Raw{Flat: raw.Flat[:0]}
		for i, cell := range record {
			start := len(buf)
			buf = append(buf, cell...)
			f := field(buf[start:len(buf):len(buf)])
			switch i {
			case cols.time:
				raw.Time = f
			case cols.shipID:
				raw.ShipID = f
			case cols.cargoID:
				raw.CargoID = f
			case cols.value:
				raw.Value = f
			default:
				if f.Kind != schema.Absent {
					raw.Flat = append(raw.Flat, schema.FlatField{Key: cols.names[i], Value: f})
				}
			}
		}
		readings = v.Object(line, &raw, readings)
	}
	if len(readings) == 0 && v.Problems() == 0 {
		return schema.Decoded{}, schema.ErrEmptyBatch
	}
	return v.Result(readings)
}

// header is where each column is; -1 for a column the header lacks.
type header struct {
	time, shipID, cargoID, value int
	names                        [][]byte
}

func columns(names []string) (header, error) {
	h := header{time: -1, shipID: -1, cargoID: -1, value: -1, names: make([][]byte, len(names))}
	seen := make(map[string]bool, len(names))
	for i, name := range names {
		name = strings.TrimSpace(name)
		if name == "" {
			return h, fmt.Errorf("%w: column %d of the CSV header has no name", schema.ErrMalformed, i+1)
		}
		if seen[name] {
			return h, fmt.Errorf("%w: the CSV header names %q twice", schema.ErrMalformed, name)
		}
		seen[name] = true
		h.names[i] = []byte(name)
		switch name {
		case colTime:
			h.time = i
		case colShipID:
			h.shipID = i
		case colCargoID:
			h.cargoID = i
		case colValue:
			h.value = i
		}
	}
	readings := len(names) - 1
	if h.time >= 0 {
		readings--
	}
	switch {
	case h.shipID < 0:
		return h, fmt.Errorf("%w: the CSV header must name a ship_id column", schema.ErrMalformed)
	case (h.cargoID < 0) != (h.value < 0):
		return h, fmt.Errorf("%w: the CSV header names one of cargo_id and value without the other", schema.ErrMalformed)
	case readings == 0:
		return h, fmt.Errorf("%w: the CSV header must name cargo_id and value, or a column per cargo", schema.ErrMalformed)
	}
	return h, nil
}

// field is a cell as a raw value: absent when empty, a boolean for true or
// false, else text (which the validator takes as a number if it is one).
func field(cell []byte) schema.Field {
	switch string(cell) {
	case "":
		return schema.Field{}
	case "true", "false":
		return schema.Field{Kind: schema.Bool, Text: cell}
	}
	return schema.Field{Kind: schema.String, Text: cell}
}

// rowsLeft counts the rows the reader has not read, without keeping them.
func rowsLeft(r *csv.Reader) int {
	n := 0
	for {
		if _, err := r.Read(); errors.Is(err, io.EOF) {
			return n
		}
		n++
	}
}

func malformed(err error) error {
	return fmt.Errorf("%w: not CSV: %v", schema.ErrMalformed, err)
}
