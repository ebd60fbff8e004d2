package schema

import "time"

// ParseTimeMillis parses an RFC 3339 time with a zone, with or without a
// fraction, into Unix milliseconds (finer digits cut). The common form is
// parsed by hand, without allocating; anything else goes to time.Parse,
// which then decides.
func ParseTimeMillis(b []byte) (int64, bool) {
	var c timeCache
	return c.parse(b)
}

// timeCache parses times as ParseTimeMillis does, remembering the last
// date and clock time to the second that it parsed by hand: the readings
// of a body mostly share them, and comparing 19 bytes is cheaper than
// parsing them again. Its zero value is ready to use.
type timeCache struct {
	prefix [19]byte // YYYY-MM-DDTHH:MM:SS of the last time parsed by hand
	secs   int64    // what prefix means, in Unix seconds
	valid  bool     // whether prefix and secs hold a time
}

func (c *timeCache) parse(b []byte) (int64, bool) {
	if len(b) >= 20 && c.valid && string(b[:19]) == string(c.prefix[:]) {
		if ms, ok := addFractionAndZone(c.secs, b[19:]); ok {
			return ms, true
		}
	} else if secs, ok := parseSeconds(b); ok {
		copy(c.prefix[:], b)
		c.secs, c.valid = secs, true
		if ms, ok := addFractionAndZone(secs, b[19:]); ok {
			return ms, true
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// parseSeconds reads the YYYY-MM-DDTHH:MM:SS that begins b, which must
// have at least one byte after it, as Unix seconds of that clock time in
// UTC.
func parseSeconds(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1 || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	return daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec), true
}

// addFractionAndZone reads what follows the seconds, [.f{1,9}](Z|±HH:MM),
// and returns the time in Unix milliseconds, given secs, the clock time's
// Unix seconds in UTC.
func addFractionAndZone(secs int64, rest []byte) (int64, bool) {
	var ms int64
	if len(rest) > 0 && rest[0] == '.' {
		n := 1
		for n < len(rest) && n <= 9 && rest[n] >= '0' && rest[n] <= '9' {
			if n <= 3 {
				ms = ms*10 + int64(rest[n]-'0')
			}
			n++
		}
		if n == 1 || (n < len(rest) && rest[n] >= '0' && rest[n] <= '9') {
			return 0, false // no digits, or more than nine
		}
		for d := n; d <= 3; d++ {
			ms *= 10
		}
		rest = rest[n:]
	}
	var offset int64
	switch {
	case len(rest) == 1 && rest[0] == 'Z':
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := num(rest[1:3])
		om, ok2 := num(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return 0, false
		}
		offset = int64(oh*3600 + om*60)
		if rest[0] == '-' {
			offset = -offset
		}
	default:
		return 0, false
	}
	return (secs-offset)*1000 + ms, true
}

// num parses a run of ASCII digits.
func num(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the date in the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here
	yoe := y - era*400
	m := int64(month)
	if m > 2 {
		m -= 3
	} else {
		m += 9
	}
	doy := (153*m+2)/5 + int64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
