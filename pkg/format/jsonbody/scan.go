package jsonbody

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// maxNesting bounds how deep an ignored (unknown) field's value may nest.
const maxNesting = 64

// scanner is a strict JSON reader over a whole body, made for the reading
// bodies: it finds the four known fields without building any intermediate
// value, and strings without escapes stay slices of the body.
type scanner struct {
	b       []byte
	i       int
	scratch []byte             // unescaped strings are appended here
	flat    []schema.FlatField // reused for each object's flat fields
	discard schema.Field       // where value puts what nobody keeps
}

// malformed is the error of a body that is not valid JSON.
func (s *scanner) malformed(what string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w: the JSON ends early, %s", schema.ErrMalformed, what)
	}
	return fmt.Errorf("%w: invalid JSON at byte %d (%q): %s", schema.ErrMalformed, s.i, s.b[s.i], what)
}

func (s *scanner) skipSpace() {
	if s.i < len(s.b) && s.b[s.i] > ' ' {
		return // the common case: no space at all
	}
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after white space, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte, what string) error {
	if s.peek() != c {
		return s.malformed("expected " + what)
	}
	s.i++
	return nil
}

// end checks that nothing but white space follows the value.
func (s *scanner) end() error {
	if s.skipSpace(); s.i < len(s.b) {
		return s.malformed("expected the end of the body after the JSON value")
	}
	return nil
}

// countRest counts the values left in an array, without keeping them; -1
// if the rest is not valid JSON.
func (s *scanner) countRest() int {
	for n := 1; ; n++ {
		if s.value(nil, 0) != nil {
			return -1
		}
		if s.peek() != ',' {
			return n
		}
		s.i++
	}
}

// object reads one reading object into r. r.flat is valid until the next
// object is read.
func (s *scanner) object(r *schema.Raw) error {
	if err := s.expect('{', "'{'"); err != nil {
		return err
	}
	s.flat = s.flat[:0]
	defer func() { r.Flat = s.flat }()
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.malformed("expected a field name in double quotes")
		}
		key, err := s.string()
		if err != nil {
			return err
		}
		if err := s.expect(':', "':' after a field name"); err != nil {
			return err
		}
		var dst *schema.Field
		var other schema.Field
		switch string(key) {
		case "time":
			dst = &r.Time
		case "ship_id":
			dst = &r.ShipID
		case "cargo_id":
			dst = &r.CargoID
		case "value":
			dst = &r.Value
		default:
			dst = &other
		}
		if err := s.value(dst, 0); err != nil {
			return err
		}
		if dst == &other && (other.Kind == schema.Number || other.Kind == schema.String || other.Kind == schema.Bool) && string(key) != "access_token" {
			s.flat = append(s.flat, schema.FlatField{Key: key, Value: other})
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.malformed("expected ',' or '}' in an object")
		}
	}
}

// value reads any JSON value, keeping it in dst when dst is not nil.
func (s *scanner) value(dst *schema.Field, depth int) error {
	if depth > maxNesting {
		return s.malformed(fmt.Sprintf("values nested more than %d deep", maxNesting))
	}
	if dst == nil {
		dst = &s.discard
	}
	switch c := s.peek(); {
	case c == '"':
		text, err := s.string()
		if err != nil {
			return err
		}
		*dst = schema.Field{Kind: schema.String, Text: text}
	case c == '-' || (c >= '0' && c <= '9'):
		text, err := s.number()
		if err != nil {
			return err
		}
		*dst = schema.Field{Kind: schema.Number, Text: text}
	case c == 'n':
		if err := s.literal("null"); err != nil {
			return err
		}
		*dst = schema.Field{Kind: schema.Null}
	case c == 't' || c == 'f':
		word := "false"
		if c == 't' {
			word = "true"
		}
		start := s.i
		if err := s.literal(word); err != nil {
			return err
		}
		*dst = schema.Field{Kind: schema.Bool, Text: s.b[start:s.i]}
	case c == '{' || c == '[':
		if err := s.container(depth); err != nil {
			return err
		}
		*dst = schema.Field{Kind: schema.Other}
	default:
		return s.malformed("expected a JSON value")
	}
	return nil
}

// container skips an object or array.
func (s *scanner) container(depth int) error {
	open := s.b[s.i]
	closing := byte('}')
	if open == '[' {
		closing = ']'
	}
	s.i++
	if s.peek() == closing {
		s.i++
		return nil
	}
	for {
		if open == '{' {
			if s.peek() != '"' {
				return s.malformed("expected a field name in double quotes")
			}
			if _, err := s.string(); err != nil {
				return err
			}
			if err := s.expect(':', "':' after a field name"); err != nil {
				return err
			}
		}
		if err := s.value(nil, depth+1); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case closing:
			s.i++
			return nil
		default:
			return s.malformed("expected ',' or '" + string(closing) + "'")
		}
	}
}

func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return s.malformed("expected " + word)
	}
	s.i += len(word)
	return nil
}

// number reads a number in JSON's grammar and returns its literal.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	end, problem := schema.NumberEnd(s.b, s.i)
	s.i = end
	if problem != "" {
		return nil, s.malformed(problem)
	}
	return s.b[start:end], nil
}

// string reads a string and returns its unescaped bytes: a slice of the
// body when it has no escapes, else of the scratch buffer. Its one pass
// stops at the closing quote, a backslash or a control character, looking
// at eight bytes at a time.
func (s *scanner) string() ([]byte, error) {
	s.i++ // the opening quote
	start := s.i
	i := start
	for ; i+8 <= len(s.b); i += 8 {
		if m := specials(binary.LittleEndian.Uint64(s.b[i:])); m != 0 {
			i += bits.TrailingZeros64(m) / 8
			break
		}
	}
	for ; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], nil
		case c == '\\':
			s.i = i
			return s.escaped(start)
		case c < 0x20:
			s.i = i
			return nil, s.malformed("control character in a string: escape it")
		}
	}
	s.i = len(s.b)
	return nil, s.malformed("unterminated string")
}

// specials marks, in the high bit of each byte, the bytes of w (little
// endian) that are a quote, a backslash or a control character (below
// 0x20), with the word-at-a-time tests of "Bit Twiddling Hacks" (haszero,
// hasless). Zero means none is; otherwise the lowest mark is the first
// such byte (marks above it may be false).
func specials(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	zeroQuote := (quote - ones) &^ quote
	zeroBackslash := (backslash - ones) &^ backslash
	below := (w - ones*0x20) &^ w
	return (zeroQuote | zeroBackslash | below) & highs
}

// escaped finishes reading a string that has escapes.
func (s *scanner) escaped(start int) ([]byte, error) {
	out := append(s.scratch[len(s.scratch):], s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			s.scratch = out[len(out):] // later strings must not overwrite this one
			return out, nil
		case c < 0x20:
			return nil, s.malformed("control character in a string: escape it")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		s.i += 2
		switch e := s.b[s.i-1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.unicodeEscape()
			if !ok {
				return nil, s.malformed(`expected 4 hex digits after \u`)
			}
			out = utf8.AppendRune(out, r)
		default:
			s.i--
			return nil, s.malformed("unknown escape in a string")
		}
	}
	return nil, s.malformed("unterminated string")
}

// unicodeEscape reads the XXXX of a \uXXXX escape, and the low half of a
// surrogate pair after it. A lone surrogate becomes U+FFFD, as
// encoding/json decodes it.
func (s *scanner) unicodeEscape() (rune, bool) {
	r, ok := s.hex4()
	if !ok || !utf16.IsSurrogate(r) {
		return r, ok
	}
	if len(s.b)-s.i >= 6 && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
		save := s.i
		s.i += 2
		if low, ok := s.hex4(); ok {
			if pair := utf16.DecodeRune(r, low); pair != utf8.RuneError {
				return pair, true
			}
		}
		s.i = save // not a pair: the second escape is read on its own
	}
	return utf8.RuneError, true
}

func (s *scanner) hex4() (rune, bool) {
	if len(s.b)-s.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}
