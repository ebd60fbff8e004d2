package lineproto

import (
	"bytes"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// decoder is the state of decoding one body; decoders are pooled so that
// their buffers are reused from body to body.
type decoder struct {
	parser
	flat  []schema.FlatField // for points of many fields
	ends  []int              // where each field's cargo_id ends in buf
	clock clock
}

var newline = []byte{'\n'}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// maxPooledBuffer keeps a decoder whose buffer grew past it out of the pool.
const maxPooledBuffer = 64 << 10

func decode(body []byte, now time.Time, opt schema.Options, o Options) (schema.Decoded, error) {
	d := decoders.Get().(*decoder)
	defer func() {
		if cap(d.buf) <= maxPooledBuffer && cap(d.flat) <= maxPooledBuffer {
			decoders.Put(d)
		}
	}()
	d.clock = newClock(o.Precision)
	v := schema.NewValidator(now, opt, schema.AtLine)
	maxLen := opt.MaxLen
	if maxLen <= 0 {
		maxLen = math.MaxInt
	}
	var readings []schema.Reading // sized at the first point
	over := 0                     // readings past maxLen, only counted
	line := 0
	for rest := body; len(rest) > 0; {
		line++
		var b []byte
		b, rest, _ = bytes.Cut(rest, []byte{'\n'})
		ok, problem := d.parse(b)
		switch {
		case problem != "":
			v.Fail(line, "", schema.TypeSyntax, problem)
		case !ok: // blank or a comment
		case len(readings) >= maxLen:
			over += d.numericFields()
		default:
			if readings == nil { // as many lines again as there are left, of as many fields
				readings = make([]schema.Reading, 0, min(maxLen, (bytes.Count(rest, newline)+1)*len(d.pt.fields)))
			}
			readings = d.readings(v, line, &o, readings)
		}
	}
	if over > 0 {
		return schema.Decoded{}, &schema.TooLongError{Len: len(readings) + over, Max: maxLen}
	}
	if len(readings) == 0 && v.Problems() == 0 {
		return schema.Decoded{}, schema.ErrEmptyBatch
	}
	return v.Result(readings)
}

// numericFields counts the fields of the point that are readings.
func (d *decoder) numericFields() int {
	n := 0
	for _, f := range d.pt.fields {
		if f.kind != kindString {
			n++
		}
	}
	return n
}

// readings validates the point of a line and appends its readings to out.
func (d *decoder) readings(v *schema.Validator, line int, o *Options, out []schema.Reading) []schema.Reading {
	pt := &d.pt
	ship := d.shipTag(o.ShipTags)
	if ship < 0 {
		v.Fail(line, "ship_id", schema.TypeMissing, "ship_id is required: give the point one of the tags "+strings.Join(o.ShipTags, ", "))
		return out
	}
	raw := schema.Raw{ShipID: schema.Field{Kind: schema.String, Text: d.text(pt.tags[ship].value)}}
	if pt.hasTime {
		ms, ok := d.clock.millis(pt.time)
		if !ok {
			v.Fail(line, "time", schema.TypeTimeRange, "the timestamp is out of range for its precision")
			return out
		}
		raw.Time = schema.Field{Kind: schema.UnixMillis, Millis: ms}
	}
	// The cargo_id of each field is measurement.field plus the other tags:
	// the measurement and the tags are escaped once, then copied.
	// (In locals, stored once: each store of a slice to the decoder is a
	// pointer written to the heap.)
	buf := d.buf
	m0 := len(buf)
	buf = appendEscaped(buf, d.text(pt.measurement), '.', '.')
	m1 := len(buf)
	for j, t := range pt.tags {
		if j != ship {
			buf = append(buf, ',')
			buf = appendEscaped(buf, d.text(t.key), ',', '=')
			buf = append(buf, '=')
			buf = appendEscaped(buf, d.text(t.value), ',', ',')
		}
	}
	t1 := len(buf)
	// The keys are built first, then sliced: the buffer may move meanwhile.
	ends := d.ends[:0]
	for _, f := range pt.fields {
		buf = append(buf, buf[m0:m1]...)
		buf = append(buf, '.')
		buf = appendEscaped(buf, d.text(f.key), ',', ',')
		buf = append(buf, buf[m1:t1]...)
		ends = append(ends, len(buf))
	}
	if cap(buf) != cap(d.buf) {
		d.buf = buf
	}
	if cap(ends) != cap(d.ends) {
		d.ends = ends
	}
	var small [8]schema.FlatField // on the stack: no pointers written to the heap
	flat := small[:0]
	if n := len(pt.fields); n > len(small) {
		if cap(d.flat) < n {
			d.flat = make([]schema.FlatField, 0, n) // never outgrown below
		}
		flat = d.flat[:0]
	}
	k0 := t1
	for j, f := range pt.fields {
		key := buf[k0:ends[j]:ends[j]]
		k0 = ends[j]
		var value schema.Field
		switch f.kind {
		case kindString:
			v.Fail(line, string(key), schema.TypeMismatch, "string fields are not readings: Harbor stores numbers and booleans; leave the field out (Telegraf: fieldexclude) or send a number")
			continue
		case kindBool:
			value = schema.Field{Kind: schema.Bool, Text: falseText}
			if f.text.lo == 1 {
				value.Text = trueText
			}
		default:
			value = schema.Field{Kind: schema.Number, Text: d.text(f.text)}
		}
		flat = append(flat, schema.FlatField{Key: key, Value: value})
	}

	if len(flat) == 0 {
		return out
	}
	raw.Flat = flat
	return v.Object(line, &raw, out)
}

// shipTag is the index of the first of names among the point's tags, or -1.
func (d *decoder) shipTag(names []string) int {
	tags := d.pt.tags
	for _, name := range names {
		for j := range tags {
			if string(d.text(tags[j].key)) == name {
				return j
			}
		}
	}
	return -1
}

// clock converts timestamps of one precision to Unix milliseconds.
type clock struct {
	min, max int64 // the range of int64 nanoseconds since 1970, which InfluxDB takes
	mul, div int64 // milliseconds = t * mul / div, rounded down
}

func newClock(p Precision) clock {
	unit := int64(p)
	c := clock{min: math.MinInt64 / unit, max: math.MaxInt64 / unit, mul: 1, div: 1}
	if unit >= int64(time.Millisecond) {
		c.mul = unit / int64(time.Millisecond)
	} else {
		c.div = int64(time.Millisecond) / unit
	}
	return c
}

// millis converts a timestamp, if it is in range.
func (c *clock) millis(t int64) (int64, bool) {
	if t > c.max || t < c.min {
		return 0, false
	}
	if c.div == 1 {
		return t * c.mul, true
	}
	ms := t / c.div
	if t%c.div < 0 { // round down, not toward zero
		ms--
	}
	return ms, true
}

// appendEscaped appends s with a backslash before each backslash and
// each of the special characters a and b.
func appendEscaped(dst, s []byte, a, b byte) []byte {
	for _, c := range s {
		if c == '\\' || c == a || c == b {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}
