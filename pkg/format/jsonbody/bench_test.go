package jsonbody

import (
	"strconv"
	"testing"
	"time"
)

// batchJSON is a batch body of n readings as clients send it.
func batchJSON(n int) []byte {
	b := []byte{'['}
	t0 := testNow.Add(-time.Hour)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"time":"`...)
		b = t0.Add(time.Duration(i/50)*time.Second).AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, `","ship_id":"ship-`...)
		b = strconv.AppendInt(b, int64(i%50), 10)
		b = append(b, `","cargo_id":"cargo-`...)
		b = strconv.AppendInt(b, int64(i%7), 10)
		b = append(b, `","value":`...)
		b = strconv.AppendFloat(b, float64(i)*0.37-11.5, 'g', -1, 64)
		b = append(b, '}')
	}
	return append(b, ']')
}

func BenchmarkDecodeBatch5000(b *testing.B) {
	body := batchJSON(5000)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBatch(body, testNow, batchOpts(10000)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "readings/s")
}
