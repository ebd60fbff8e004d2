package schema

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// PayloadV1 is the first byte of every payload in format version 1.
//
// A payload carries the readings of one request (or one chunk of it) for one
// harbor; the harbor is the last token of the message subject. After the
// format byte come the readings, back to back, until the payload ends:
//
//	zigzag varint  time, as the difference in milliseconds from the previous
//	               reading's time (from 0 for the first)
//	uvarint + bytes  ship_id
//	uvarint + bytes  cargo_id
//	8 bytes        value, IEEE 754 float64, little endian
//
// Delta-encoded times make a typical reading about 25 bytes plus its ids,
// against about 90 as JSON, and decoding needs no parsing of numbers or text.
const PayloadV1 byte = 1

// ErrBadPayload means a payload could not be decoded. The writer sends such
// messages to the dead-letter stream.
var ErrBadPayload = errors.New("bad payload")

// ErrRefusedReading means a payload decoded, but one of its readings fails
// the Bounds the API would have checked: the payload did not come through
// the API, or through one with other limits. The writer dead-letters it too.
var ErrRefusedReading = errors.New("reading refused")

// maxEncodedSize is an upper bound of the bytes one reading takes.
func maxEncodedSize(r *Reading) int {
	return binary.MaxVarintLen64 + 2*binary.MaxVarintLen32 + len(r.ShipID) + len(r.CargoID) + 8
}

// EncodePayloads encodes readings into payloads of at most maxSize bytes each
// (one payload unless the readings do not fit in one).
func EncodePayloads(readings []Reading, maxSize int) [][]byte {
	var payloads [][]byte
	size := 1
	for i := range readings {
		size += maxEncodedSize(&readings[i])
	}
	buf := make([]byte, 0, min(size, maxSize))
	buf = append(buf, PayloadV1)
	var prev int64
	for i := range readings {
		r := &readings[i]
		if len(buf) > 1 && len(buf)+maxEncodedSize(r) > maxSize {
			payloads = append(payloads, buf)
			size -= len(buf)
			buf = append(make([]byte, 0, min(size, maxSize)), PayloadV1)
			prev = 0
		}
		buf = binary.AppendVarint(buf, r.Time-prev)
		prev = r.Time
		buf = binary.AppendUvarint(buf, uint64(len(r.ShipID)))
		buf = append(buf, r.ShipID...)
		buf = binary.AppendUvarint(buf, uint64(len(r.CargoID)))
		buf = append(buf, r.CargoID...)
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.Value))
	}
	return append(payloads, buf)
}

// payloadReader reads the readings of one payload in order, checking them
// against bounds as the API checks them (see Columns.AppendPayload):
//
//	pr := payloadReader{intern: ids, bounds: b}
//	pr.init(p)
//	for pr.Next() { use(pr.Reading()) }
//	if err := pr.Err(); err != nil { ... }
//
// Consecutive readings of the same ship or cargo share one string, and so
// do all readings of an id through the intern map, so decoding costs an
// allocation and a check per distinct id, not per reading; each reading's
// time is checked.
type payloadReader struct {
	rest    []byte
	reading Reading
	index   int // of the reading Next advanced to
	err     error
	intern  map[string]string // ids checked already
	bounds  Bounds
}

// init starts reading payload p.
func (pr *payloadReader) init(p []byte) {
	pr.index = -1
	switch {
	case len(p) == 0:
		pr.err = fmt.Errorf("%w: empty payload", ErrBadPayload)
	case p[0] != PayloadV1:
		pr.err = fmt.Errorf("%w: unknown format version %d (this build reads version %d)", ErrBadPayload, p[0], PayloadV1)
	default:
		pr.rest = p[1:]
	}
}

// Next advances to the next reading and reports whether there is one.
func (pr *payloadReader) Next() bool {
	if pr.err != nil || len(pr.rest) == 0 {
		return false
	}
	delta, n := binary.Varint(pr.rest)
	if n <= 0 {
		return pr.fail("time")
	}
	pr.rest = pr.rest[n:]
	pr.index++
	pr.reading.Time += delta
	if b := &pr.bounds; pr.reading.Time < b.Earliest || pr.reading.Time > b.Latest {
		return pr.refuse(fmt.Sprintf("time %s is outside %s .. %s: MAX_PAST and MAX_FUTURE around when it was published, within what the table holds",
			formatMillis(pr.reading.Time), formatMillis(b.Earliest), formatMillis(b.Latest)))
	}
	var ok bool
	if pr.reading.ShipID, ok = pr.text("ship_id", pr.reading.ShipID); !ok {
		return false
	}
	if pr.reading.CargoID, ok = pr.text("cargo_id", pr.reading.CargoID); !ok {
		return false
	}
	if len(pr.rest) < 8 {
		return pr.fail("value")
	}
	pr.reading.Value = math.Float64frombits(binary.LittleEndian.Uint64(pr.rest))
	pr.rest = pr.rest[8:]
	return true
}

// text reads the length-prefixed id name, reusing prev when the bytes are
// equal. An id not seen before is checked as the API checks it.
func (pr *payloadReader) text(name, prev string) (string, bool) {
	n, k := binary.Uvarint(pr.rest)
	if k <= 0 || n > uint64(len(pr.rest)-k) {
		return "", pr.fail(name)
	}
	b := pr.rest[k : k+int(n)]
	pr.rest = pr.rest[k+int(n):]
	if len(b) > 0 && string(b) == prev { // compiles to a comparison, without allocating
		return prev, true
	}
	if s, ok := pr.intern[string(b)]; ok { // a lookup without allocating
		return s, true
	}
	if msg, _ := checkID(b, pr.bounds.MaxIDLength); msg != "" {
		return "", pr.refuse(fmt.Sprintf("%s %q%s", name, b, msg))
	}
	s := string(b)
	pr.intern[s] = s
	return s, true
}

// refuse stops the reader at a reading that fails the bounds.
func (pr *payloadReader) refuse(why string) bool {
	pr.err = fmt.Errorf("%w: reading [%d]: %s", ErrRefusedReading, pr.index, why)
	return false
}

func (pr *payloadReader) fail(field string) bool {
	pr.err = fmt.Errorf("%w: truncated or corrupt %s at byte %d from the end", ErrBadPayload, field, len(pr.rest))
	return false
}

// Reading returns the reading Next advanced to.
func (pr *payloadReader) Reading() Reading { return pr.reading }

// Err returns the error that stopped Next, or nil if the payload was read
// to its end.
func (pr *payloadReader) Err() error { return pr.err }
