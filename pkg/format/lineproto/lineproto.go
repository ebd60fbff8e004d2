// Package lineproto decodes InfluxDB line protocol, as InfluxDB 1.x and 2.x
// clients and Telegraf send it, into readings.
//
// Each line is a point: measurement, tags, fields and an optional
// timestamp. Every numeric field of a point is one reading:
//
//   - ship_id is the value of the first of Options.ShipTags the point has
//     (by default the tag ship_id, else host);
//   - cargo_id is <measurement>.<field>, followed by every other tag of the
//     point as ,key=value in the order of the keys, so that two series
//     never share a cargo. Where a part holds a character that would make
//     the cargo_id ambiguous, a backslash escapes it: \ everywhere, . in
//     the measurement, , in the field key and the tags, = in the tag keys;
//   - value is the field's value: floats, integers (1i) and unsigned
//     integers (1u) as numbers, booleans as 1 or 0. String fields are not
//     readings: they are refused, or skipped under the partial policy;
//   - time is the timestamp in Options.Precision, or the receive time when
//     the point has none.
//
// A line that is not line protocol is refused with its line number, as an
// invalid reading is; blank lines and comments (#) are skipped.
package lineproto

import (
	"fmt"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// DefaultShipTags are the tags that name a point's ship, in order, when
// Options.ShipTags is empty: ship_id, else host (which Telegraf sets).
var DefaultShipTags = []string{"ship_id", "host"}

// Precision is the unit of the timestamps of a body.
type Precision time.Duration

// The precisions of InfluxDB's write APIs.
const (
	Nanosecond  = Precision(time.Nanosecond)
	Microsecond = Precision(time.Microsecond)
	Millisecond = Precision(time.Millisecond)
	Second      = Precision(time.Second)
	Minute      = Precision(time.Minute)
	Hour        = Precision(time.Hour)
)

// ParsePrecision reads the precision parameter of a write request: ns, us,
// ms or s (InfluxDB 2), and also n, u, m and h (InfluxDB 1.x). Empty is
// nanoseconds.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "ns", "n":
		return Nanosecond, nil
	case "us", "u", "µ":
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return 0, fmt.Errorf("precision must be ns, us, ms or s (or n, u, m, h), not %q", s)
}

// Options are how points become readings.
type Options struct {
	// ShipTags name the tags that give a point's ship_id, the first one
	// present winning; empty means DefaultShipTags.
	ShipTags []string
	// Precision is the unit of the timestamps; 0 means nanoseconds.
	Precision Precision
}

// Decoder returns the format.Decoder of line protocol bodies by o.
func Decoder(o Options) format.Decoder {
	if len(o.ShipTags) == 0 {
		o.ShipTags = DefaultShipTags
	}
	if o.Precision <= 0 {
		o.Precision = Nanosecond
	}
	return func(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error) {
		return decode(body, now, opt, o)
	}
}
