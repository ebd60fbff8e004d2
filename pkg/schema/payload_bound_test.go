package schema

import (
	"reflect"
	"strings"
	"testing"
)

func TestPayloadBoundKeepsReadingsInOnePayload(t *testing.T) {
	readings := []Reading{
		{ShipID: "s", CargoID: "c", Time: -1 << 62, Value: 1},
		{ShipID: strings.Repeat("x", 100), CargoID: "c", Time: 1 << 62, Value: -2},
		{ShipID: "ship-7", CargoID: "cargo-3", Time: 1_700_000_000_000, Value: 3.5},
	}
	bound := PayloadHeaderSize + PayloadBound(readings)
	payloads := EncodePayloads(readings, bound)
	if len(payloads) != 1 || len(payloads[0]) > bound {
		t.Fatalf("readings bounded by %d bytes make %d payload(s), the first of %d bytes", bound, len(payloads), len(payloads[0]))
	}
	got, err := decodePayload(payloads[0])
	if err != nil || !reflect.DeepEqual(got, readings) {
		t.Fatalf("decoded %v, %v; want %v", got, err, readings)
	}
}
