// Package schematest reads stream payloads back for tests, the way the
// writers decode them. It is apart from schema so that what the services
// link holds no test code.
package schematest

import (
	"math"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Readings decodes payload as a writer does (schema.Columns.AppendPayload),
// with any time and id length allowed, and fails the test if it does not
// decode.
func Readings(t testing.TB, payload []byte) []schema.Reading {
	t.Helper()
	var c schema.Columns
	if err := c.AppendPayload("", payload, schema.Bounds{Earliest: math.MinInt64, Latest: math.MaxInt64, MaxIDLength: math.MaxInt}); err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	rs := make([]schema.Reading, c.Len())
	for i := range rs {
		rs[i] = schema.Reading{Time: c.Time[i], ShipID: c.ShipID[i], CargoID: c.CargoID[i], Value: c.Value[i]}
	}
	return rs
}
