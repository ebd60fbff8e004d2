package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// nativeColumns fills a batch's columns from the rows written in
// ClickHouse's native format into one buffer that is reused across batches.
//
// Appending a []string (or []float64 ...) to a clickhouse-go batch column
// grows the column's new buffers row by row, by a quarter at a time: about
// five times the column's size allocated and copied for every batch (46 MB
// for 100,000 rows), and the garbage collection that follows was most of a
// writer's CPU. Decode, on the batch's new and empty columns, sizes each
// once for all its rows (11 MB per 100,000 rows; BenchmarkDecodeAndInsert100k,
// and docs/benchmarks.md for the writer's CPU in the pipeline). On a
// current server's table it matters more: appending to a
// LowCardinality(String) column boxes every row in an interface and looks
// it up in a map of interfaces (BenchmarkDecodeAndInsert100kModern).
// Columns of other types are appended as before.
type nativeColumns struct {
	buf    []byte
	reader bytes.Reader
	decode []column.Interface // columns to fill from buf, in its order
	// Reused per LowCardinality column: its dictionary and a key per row.
	dict  map[string]uint32
	words []string
	keys  []uint32
}

// fill appends rows rows to the batch's columns: values[i] is what column i
// gets (in the order the table's insert lists them).
func (n *nativeColumns) fill(batch driver.Batch, rows int, values []any) error {
	n.buf, n.decode = n.buf[:0], n.decode[:0]
	cols := batch.Columns()
	if len(cols) != len(values) {
		return fmt.Errorf("insert of %d columns into a batch of %d", len(values), len(cols))
	}
	for i, col := range cols {
		if n.encode(col, values[i]) {
			n.decode = append(n.decode, col)
			continue
		}
		v := values[i]
		if s, ok := v.(unixSeconds); ok {
			v = []int64(s)
		}
		if err := batch.Column(i).Append(v); err != nil {
			return fmt.Errorf("append column %d: %w", i, err)
		}
	}
	if len(n.decode) == 0 {
		return nil
	}
	n.reader.Reset(n.buf)
	r := proto.NewReader(&n.reader)
	for _, col := range n.decode {
		if err := col.Decode(r, rows); err != nil {
			return fmt.Errorf("fill column %s: %w", col.Name(), err)
		}
	}
	return nil
}

// encode writes v onto buf in col's native format and reports whether it
// did: only for the column types whose Decode reads what encode writes.
func (n *nativeColumns) encode(col column.Interface, v any) bool {
	switch v := v.(type) {
	case []string:
		switch col.(type) {
		case *column.String:
			n.appendStrings(v)
		case *column.LowCardinality:
			if col.Type() != "LowCardinality(String)" {
				return false
			}
			n.appendLowCardinality(v)
		default:
			return false
		}
	case []float64:
		if _, ok := col.(*column.Float64); !ok {
			return false
		}
		for _, f := range v {
			n.buf = binary.LittleEndian.AppendUint64(n.buf, math.Float64bits(f))
		}
	case []uint16:
		if _, ok := col.(*column.UInt16); !ok {
			return false
		}
		for _, u := range v {
			n.buf = binary.LittleEndian.AppendUint16(n.buf, u)
		}
	case unixSeconds:
		if _, ok := col.(*column.DateTime); !ok {
			return false
		}
		for _, s := range v {
			n.buf = binary.LittleEndian.AppendUint32(n.buf, uint32(s))
		}
	case []int64: // Unix milliseconds
		if _, ok := col.(*column.DateTime64); !ok || !strings.HasPrefix(string(col.Type()), "DateTime64(3") {
			return false
		}
		for _, ms := range v {
			n.buf = binary.LittleEndian.AppendUint64(n.buf, uint64(ms))
		}
	default:
		return false
	}
	return true
}

// appendStrings writes a String column: each string's length as a varint,
// then its bytes.
func (n *nativeColumns) appendStrings(v []string) {
	for _, s := range v {
		n.buf = binary.AppendUvarint(n.buf, uint64(len(s)))
		n.buf = append(n.buf, s...)
	}
}

// The LowCardinality serialization as a column's Decode reads it: the
// width of the keys, and the flag that the dictionary travels with them
// (ClickHouse's ColumnLowCardinality, "additional keys").
const (
	lowCardinalityKeys8, lowCardinalityKeys16, lowCardinalityKeys32 = 0, 1, 2
	lowCardinalityAdditionalKeys                                    = 1 << 9
)

// appendLowCardinality writes a LowCardinality(String) column: its
// serialization, its dictionary of distinct strings as a String column
// (the default "" first, as clickhouse-go writes it), and a key into the
// dictionary for each row, as narrow as the dictionary's size allows.
func (n *nativeColumns) appendLowCardinality(v []string) {
	if n.dict == nil {
		n.dict = make(map[string]uint32)
	}
	clear(n.dict)
	clear(n.words)
	n.words, n.keys = append(n.words[:0], ""), n.keys[:0]
	n.dict[""] = 0
	last, key := "", uint32(0)
	for _, s := range v {
		if s != last { // rows of one harbor or cargo tend to come together
			k, ok := n.dict[s]
			if !ok {
				k = uint32(len(n.words))
				n.dict[s], n.words = k, append(n.words, s)
			}
			last, key = s, k
		}
		n.keys = append(n.keys, key)
	}
	width := uint64(lowCardinalityKeys32)
	switch {
	case len(n.words) <= math.MaxUint8+1:
		width = lowCardinalityKeys8
	case len(n.words) <= math.MaxUint16+1:
		width = lowCardinalityKeys16
	}
	n.buf = binary.LittleEndian.AppendUint64(n.buf, lowCardinalityAdditionalKeys|width)
	n.buf = binary.LittleEndian.AppendUint64(n.buf, uint64(len(n.words)))
	n.appendStrings(n.words)
	n.buf = binary.LittleEndian.AppendUint64(n.buf, uint64(len(n.keys)))
	for _, k := range n.keys {
		switch width {
		case lowCardinalityKeys8:
			n.buf = append(n.buf, uint8(k))
		case lowCardinalityKeys16:
			n.buf = binary.LittleEndian.AppendUint16(n.buf, uint16(k))
		default:
			n.buf = binary.LittleEndian.AppendUint32(n.buf, k)
		}
	}
}

// unixSeconds is the legacy table's time column: Unix seconds for a
// DateTime column.
type unixSeconds []int64
