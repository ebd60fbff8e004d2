package schema

// PayloadBound is an upper bound of the bytes of the payload that
// EncodePayloads makes of readings: with a maxSize of at least the bound of
// all readings together, they make one payload. The ingest API sums the
// bounds of several requests to combine them into one message.
func PayloadBound(readings []Reading) int {
	n := 0
	for i := range readings {
		n += maxEncodedSize(&readings[i])
	}
	return n
}

// PayloadHeaderSize is the bytes of a payload before its readings: the
// format byte. A payload of readings takes at most PayloadHeaderSize plus
// their PayloadBound.
const PayloadHeaderSize = 1
