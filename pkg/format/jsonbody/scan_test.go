package jsonbody

import (
	"encoding/binary"
	"math/bits"
	"testing"
)

// TestSpecials: the word-at-a-time test finds the first quote, backslash
// or control character as a byte loop does, for every pair of byte values
// at every pair of positions of a word of letters (a borrow from one byte
// could otherwise mislead the next).
func TestSpecials(t *testing.T) {
	special := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
	for p := range 8 {
		for q := p + 1; q < 8; q++ {
			for c := range 256 {
				for d := range 256 {
					word := [8]byte{'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'}
					word[p], word[q] = byte(c), byte(d)
					first := 8
					for i, b := range word {
						if special(b) {
							first = i
							break
						}
					}
					got := 8
					if m := specials(binary.LittleEndian.Uint64(word[:])); m != 0 {
						got = bits.TrailingZeros64(m) / 8
					}
					if got != first {
						t.Fatalf("%q: specials finds byte %d first, the bytes say %d", word, got, first)
					}
				}
			}
		}
	}
}
