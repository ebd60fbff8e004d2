package jsonbody

import (
	"testing"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
)

func BenchmarkDecodeBatch5000(b *testing.B) {
	body := formattest.BatchJSON(5000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(body, testNow, batchOpts(10000)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "readings/s")
}
