package schema

import (
	"fmt"
	"math"
	"time"
)

// Limits are the validation rules a reading must pass. Each is a documented
// setting; the env tags name the variables (after the service's prefix).
// The API applies them to what it accepts, and the writers again to what
// they decode from the stream.
type Limits struct {
	// MaxIDLength is the most characters (runes) a ship_id or cargo_id may have.
	MaxIDLength int `env:"MAX_ID_LENGTH" envDefault:"100"`
	// MaxFuture is how far ahead of the server's clock a reading's time may be.
	MaxFuture time.Duration `env:"MAX_FUTURE" envDefault:"24h"`
	// MaxPast is how far behind the server's clock a reading's time may be.
	// The default (5 years) keeps a batch within ClickHouse's limit of 100
	// monthly partitions per insert.
	MaxPast time.Duration `env:"MAX_PAST" envDefault:"43800h"`
}

// The times the table holds, in Unix milliseconds, both included.
//
// Of the table's two variants the legacy one (servers before 20.1) is the
// narrower: time is a DateTime, UInt32 seconds, from 1970-01-01T00:00:00Z
// to 2106-02-07T06:28:15Z (plus time_ms), and a later time wraps around (a
// year-2200 time would be stored as 2063). DateTime64(3, 'UTC') holds
// 1900-01-01 to 2299-12-31 at least (ClickHouse's documentation). The API
// does not know which variant the writers use, so every side keeps to the
// narrower one.
const (
	MinTableTime int64 = 0
	MaxTableTime int64 = math.MaxUint32*1000 + 999
)

// formatMillis is a time of Unix milliseconds for messages.
func formatMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
}

// Check refuses limits that cannot work from now on: an id length below 1,
// negative durations, or a MaxFuture or MaxPast reaching past the times the
// table holds, which would store times that wrapped around.
func (l Limits) Check(now time.Time) error {
	switch {
	case l.MaxIDLength < 1:
		return fmt.Errorf("MAX_ID_LENGTH=%d: it must be at least 1", l.MaxIDLength)
	case l.MaxFuture < 0:
		return fmt.Errorf("MAX_FUTURE=%s: it cannot be negative", l.MaxFuture)
	case l.MaxPast < 0:
		return fmt.Errorf("MAX_PAST=%s: it cannot be negative", l.MaxPast)
	}
	if latest := now.Add(l.MaxFuture).UnixMilli(); latest > MaxTableTime {
		return fmt.Errorf("MAX_FUTURE=%s lets in times up to %s, after %s, the latest the table holds (a later time would wrap around): set MAX_FUTURE to at most %s",
			l.MaxFuture, formatMillis(latest), formatMillis(MaxTableTime), time.UnixMilli(MaxTableTime).Sub(now).Truncate(time.Hour))
	}
	if earliest := now.Add(-l.MaxPast).UnixMilli(); earliest < MinTableTime {
		return fmt.Errorf("MAX_PAST=%s lets in times back to %s, before %s, the earliest the table holds: set MAX_PAST to at most %s",
			l.MaxPast, formatMillis(earliest), formatMillis(MinTableTime), now.Sub(time.UnixMilli(MinTableTime)).Truncate(time.Hour))
	}
	return nil
}

// window is the range of times, in Unix milliseconds, of a reading accepted
// at t: from MaxPast before t to MaxFuture after it, each widened by slack,
// and never beyond the times the table holds.
func (l Limits) window(t time.Time, slack time.Duration) (earliest, latest int64) {
	earliest = max(t.Add(-l.MaxPast-slack).UnixMilli(), MinTableTime)
	latest = min(t.Add(l.MaxFuture+slack).UnixMilli(), MaxTableTime)
	return earliest, latest
}

// Bounds are what every reading of a payload must pass when a writer decodes
// it (Columns.AppendPayload): what the API checked when it accepted it.
type Bounds struct {
	Earliest, Latest int64 // Unix milliseconds, both included
	MaxIDLength      int
}

// Published returns the bounds of a payload published on the stream at t (the
// message's stream timestamp): the times the API accepted then, widened by
// slack for the difference between the API's clock and the NATS server's
// and the time between the two, and the ids it accepts. A payload of old
// history, replayed, is judged by when it was published, not by now.
func (l Limits) Published(t time.Time, slack time.Duration) Bounds {
	earliest, latest := l.window(t, slack)
	return Bounds{Earliest: earliest, Latest: latest, MaxIDLength: l.MaxIDLength}
}
