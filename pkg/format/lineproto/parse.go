package lineproto

import (
	"bytes"
	"math"
	"strconv"
)

// span is a name or value of a point: bytes lo to hi of the line, or of
// the parser's buffer (inBuf) where escapes made it differ from the line.
// Spans hold no pointers, so that parsing writes no pointers to the heap.
type span struct {
	lo, hi int32
	inBuf  bool
}

func (s span) empty() bool { return s.lo == s.hi }

// tag is a tag of a point, unescaped.
type tag struct{ key, value span }

// The kinds of field values.
const (
	kindFloat  = 'f'
	kindInt    = 'i'
	kindUint   = 'u'
	kindBool   = 'b'
	kindString = 's'
)

// field is a field of a point: its unescaped key, and for numbers the
// literal without its i or u suffix.
type field struct {
	key  span
	kind byte
	text span
}

// point is one line of line protocol, valid until the next line is parsed.
type point struct {
	measurement span
	tags        []tag // sorted by key
	fields      []field
	hasTime     bool
	time        int64 // in the body's precision
}

// parser reads lines of line protocol, reusing its buffers from line to
// line.
type parser struct {
	pt   point
	line []byte
	buf  []byte // unescaped names; reset for each line
}

// text is the bytes of s.
func (p *parser) text(s span) []byte {
	if s.inBuf {
		return p.buf[s.lo:s.hi:s.hi]
	}
	return p.line[s.lo:s.hi:s.hi]
}

// Which characters end a name: measurement, tag key, tag value or field key.
const (
	stopComma = 1 << iota
	stopSpace
	stopEquals
	backslash // not a stop: escapes the next character
)

// class has, for each byte, its stop bit or backslash; 0 for the others.
var class = [256]byte{',': stopComma, ' ': stopSpace, '=': stopEquals, '\\': backslash}

var (
	trueText  = []byte("true")
	falseText = []byte("false")
)

// parse reads one line (without its newline) into p.pt. It returns false
// with no problem for a blank line or a comment, and a problem (with the
// column it is at) for a line that is not line protocol.
func (p *parser) parse(b []byte) (ok bool, problem string) {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	if i == len(b) || b[i] == '#' {
		return false, ""
	}
	p.buf, p.line = p.buf[:0], b
	pt := &p.pt
	tags, fields := pt.tags[:0], pt.fields[:0] // stored at the end: see decoder.readings
	pt.hasTime = false

	pt.measurement, i = p.name(b, i, stopComma|stopSpace)
	if pt.measurement.empty() {
		return false, at(b, i, "expected a measurement")
	}
	for i < len(b) && b[i] == ',' {
		var t tag
		if t.key, i = p.name(b, i+1, stopComma|stopSpace|stopEquals); t.key.empty() {
			return false, at(b, i, "expected a tag key")
		}
		if i >= len(b) || b[i] != '=' {
			return false, at(b, i, "expected '=' after a tag key")
		}
		if t.value, i = p.name(b, i+1, stopComma|stopSpace); t.value.empty() {
			return false, at(b, i, "expected a tag value (a tag cannot be empty: leave it out)")
		}
		tags = append(tags, t)
	}
	if i >= len(b) || b[i] != ' ' {
		return false, at(b, i, "expected a space and the fields after the measurement and tags")
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	for {
		var f field
		if f.key, i = p.name(b, i, stopComma|stopSpace|stopEquals); f.key.empty() {
			return false, at(b, i, "expected a field key")
		}
		if i >= len(b) || b[i] != '=' {
			return false, at(b, i, "expected '=' after a field key")
		}
		var problem string
		if i, problem = fieldValue(b, i+1, &f); problem != "" {
			return false, problem
		}
		fields = append(fields, f)
		if i < len(b) && b[i] == ',' {
			i++
			continue
		}
		break
	}
	if i < len(b) && b[i] != ' ' {
		return false, at(b, i, "expected ',' or a space after a field value")
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	if i < len(b) {
		start := i
		t, end, ok := timestamp(b, i)
		if !ok {
			return false, at(b, start, "expected a timestamp: an integer in the request's precision")
		}
		i = end
		pt.time, pt.hasTime = t, true
		for i < len(b) && b[i] == ' ' {
			i++
		}
		if i < len(b) {
			return false, at(b, i, "expected the end of the line after the timestamp")
		}
	}
	if cap(tags) != cap(pt.tags) || len(tags) != len(pt.tags) {
		pt.tags = tags
	}
	if cap(fields) != cap(pt.fields) || len(fields) != len(pt.fields) {
		pt.fields = fields
	}
	return true, p.sortTags()
}

// name reads a measurement, tag key, tag value or field key starting at
// b[i], up to the first unescaped character of stop, and returns it
// unescaped and where it ends. A backslash escapes a comma, an equals sign,
// a space or a backslash; before anything else it is itself.
func (p *parser) name(b []byte, i int, stop int) (span, int) {
	start, escaped := i, false
	for i < len(b) {
		m := class[b[i]]
		if m == 0 {
			i++
			continue
		}
		if m == backslash {
			escaped = true
			i += 2
			continue
		}
		if m&byte(stop) != 0 {
			break
		}
		i++
	}
	i = min(i, len(b)) // a backslash at the end is itself
	if !escaped {
		return span{lo: int32(start), hi: int32(i)}, i
	}
	from := len(p.buf)
	for j := start; j < i; j++ {
		c := b[j]
		if c == '\\' && j+1 < i {
			switch b[j+1] {
			case ',', '=', ' ', '\\':
				j++
				c = b[j]
			}
		}
		p.buf = append(p.buf, c)
	}
	return span{lo: int32(from), hi: int32(len(p.buf)), inBuf: true}, i
}

// fieldValue reads the value of f at b[i] and returns where it ends.
func fieldValue(b []byte, i int, f *field) (int, string) {
	if i < len(b) && b[i] == '"' {
		f.kind = kindString
		for j := i + 1; j < len(b); j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1, ""
			}
		}
		return len(b), at(b, i, "unterminated string field value")
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != ' ' {
		i++
	}
	tok := b[start:i]
	if len(tok) == 0 {
		return i, at(b, start, "expected a field value")
	}
	switch c := tok[0]; {
	case c == 't' || c == 'T' || c == 'f' || c == 'F':
		switch string(tok) {
		case "t", "T", "true", "True", "TRUE":
			f.kind, f.text = kindBool, span{lo: 1}
		case "f", "F", "false", "False", "FALSE":
			f.kind, f.text = kindBool, span{}
		default:
			return i, at(b, start, "invalid boolean field value: write t, true, f or false")
		}
		return i, ""
	}
	f.text = span{lo: int32(start), hi: int32(i)}
	switch tok[len(tok)-1] {
	case 'i':
		f.kind, f.text.hi = kindInt, f.text.hi-1
		if _, ok := parseInt(tok[:len(tok)-1]); !ok {
			return i, at(b, start, "invalid integer field value: digits and i, within 64 bits")
		}
	case 'u':
		f.kind, f.text.hi = kindUint, f.text.hi-1
		if d := tok[:len(tok)-1]; !digits(d) || (len(d) > 19 && !fitsUint(d)) {
			return i, at(b, start, "invalid unsigned field value: digits and u, within 64 bits")
		}
	default:
		f.kind = kindFloat
		if !isFloat(tok) {
			return i, at(b, start, "invalid field value: a number (1.5, 2i, 3u), a boolean or a double-quoted string")
		}
	}
	return i, ""
}

// timestamp reads the timestamp at b[i], up to a space or the end, and
// returns it and where it ends.
func timestamp(b []byte, i int) (int64, int, bool) {
	start := i
	neg := b[i] == '-'
	if neg {
		i++
	}
	var n uint64
	for ; i < len(b) && b[i] != ' '; i++ {
		c := b[i] - '0'
		if c > 9 || i-start >= 19 { // not a digit, or perhaps too long: the slow way
			for i < len(b) && b[i] != ' ' {
				i++
			}
			t, ok := parseInt(b[start:i])
			return t, i, ok
		}
		n = n*10 + uint64(c)
	}
	switch {
	case i == start+1 && neg, i == start:
		return 0, i, false
	case !neg && n <= math.MaxInt64:
		return int64(n), i, true
	case neg && n <= -math.MinInt64:
		return -int64(n), i, true
	}
	return 0, i, false
}

// parseInt reads an optionally negative decimal integer of 64 bits.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 {
		return 0, false
	}
	if len(d) > 19 { // with leading zeros, it may still fit
		n, err := strconv.ParseInt(string(b), 10, 64)
		return n, err == nil
	}
	var n uint64 // 19 digits always fit
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	switch {
	case !neg && n <= math.MaxInt64:
		return int64(n), true
	case neg && n <= -math.MinInt64:
		return -int64(n), true
	}
	return 0, false
}

func fitsUint(b []byte) bool {
	_, err := strconv.ParseUint(string(b), 10, 64)
	return err == nil
}

// digits reports whether b is one or more decimal digits.
func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isFloat reports whether b is a float of line protocol: an optional
// minus, digits with an optional decimal point (at least one digit), and
// an optional exponent.
func isFloat(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	n := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i, n = i+1, n+1
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i, n = i+1, n+1
		}
	}
	if n == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits(b[i:]) {
			return false
		}
		i = len(b)
	}
	return i == len(b)
}

// sortTags puts the tags in the order of their keys (clients usually send
// them so: then this only checks) and refuses a key given twice.
func (p *parser) sortTags() string {
	tags := p.pt.tags
	for i := 1; i < len(tags); i++ {
		for j := i; j > 0 && bytes.Compare(p.text(tags[j-1].key), p.text(tags[j].key)) >= 0; j-- {
			if bytes.Equal(p.text(tags[j-1].key), p.text(tags[j].key)) {
				return "the tag " + strconv.Quote(string(p.text(tags[j].key))) + " is given twice"
			}
			tags[j-1], tags[j] = tags[j], tags[j-1]
		}
	}
	return ""
}

// at describes a problem at b[i] of a line.
func at(b []byte, i int, what string) string {
	if i >= len(b) {
		return "invalid line protocol at the end of the line: " + what
	}
	return "invalid line protocol at column " + strconv.Itoa(i+1) + " (" + strconv.Quote(string(b[i:i+1])) + "): " + what
}
