package jsonbody

import (
	"testing"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
)

func BenchmarkDecodeBatch5000(b *testing.B) {
	formattest.BenchmarkDecode(b, DecodeBatch, formattest.BatchJSON(5000), 5000)
}
