package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"

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
// and docs/benchmarks.md for the writer's CPU in the pipeline). Columns of
// other types (LowCardinality and DateTime64 on current servers) are
// appended as before.
type nativeColumns struct {
	buf    []byte
	reader bytes.Reader
	decode []column.Interface // columns to fill from buf, in its order
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
		if _, ok := col.(*column.String); !ok {
			return false
		}
		for _, s := range v {
			n.buf = binary.AppendUvarint(n.buf, uint64(len(s)))
			n.buf = append(n.buf, s...)
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
	default:
		return false
	}
	return true
}

// unixSeconds is the legacy table's time column: Unix seconds for a
// DateTime column.
type unixSeconds []int64
