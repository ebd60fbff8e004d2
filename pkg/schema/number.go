package schema

import (
	"math"
	"strconv"
)

// IsNumber reports whether text is a number in JSON's grammar, and nothing
// else: no spaces, no "NaN", "Inf", hexadecimal or digit separators, which
// strconv.ParseFloat would take.
func IsNumber(text []byte) bool {
	end, problem := NumberEnd(text, 0)
	return problem == "" && end == len(text)
}

// NumberEnd returns where the number in JSON's grammar that starts at b[i]
// ends, or, if there is none, where it goes wrong and what is wrong.
func NumberEnd(b []byte, i int) (end int, problem string) {
	digits := func() int {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - start
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return i, "expected digits in a number"
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return i, "expected digits after a decimal point"
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, "expected digits in an exponent"
		}
	}
	return i, ""
}

// ParseNumber returns the value of text, a number in JSON's grammar (see
// IsNumber), as the nearest float64, exactly as strconv.ParseFloat does;
// ok is false when it is outside float64's range. The short decimals most
// readings carry ([-]digits[.digits], at most 15 digits) are parsed
// without strconv, by one division of two exactly representable numbers,
// which IEEE 754 rounds correctly.
func ParseNumber(text []byte) (x float64, ok bool) {
	if x, ok := parseShortDecimal(text); ok {
		return x, true
	}
	x, err := strconv.ParseFloat(string(text), 64)
	return x, err == nil && !math.IsInf(x, 0)
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseShortDecimal parses [-]digits[.digits] of at most 15 digits in all,
// which both fit in a float64's 53-bit mantissa; ok is false for anything
// else (an exponent, more digits), which strconv then parses.
func parseShortDecimal(text []byte) (float64, bool) {
	i, neg := 0, false
	if len(text) > 0 && text[0] == '-' {
		i, neg = 1, true
	}
	var mantissa uint64
	digits, fraction := 0, -1 // fraction: the digits after the point, once one is seen
	for ; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= '0' && c <= '9':
			mantissa = mantissa*10 + uint64(c-'0')
			digits++
			if fraction >= 0 {
				fraction++
			}
		case c == '.' && fraction < 0:
			fraction = 0
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	x := float64(mantissa)
	if fraction > 0 {
		x /= pow10[fraction]
	}
	if neg {
		x = -x
	}
	return x, true
}
