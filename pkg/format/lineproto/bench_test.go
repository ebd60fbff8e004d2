package lineproto

import (
	"strconv"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format"
	"github.com/harbor-ingest/harbor/pkg/format/formattest"
	"github.com/harbor-ingest/harbor/pkg/format/jsonbody"
)

// linesBody is n readings, one point of one field each, of the same shape
// as jsonbody's BenchmarkDecodeBatch5000: 50 ships, 7 cargos, a time each.
func linesBody(n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, "cargo-"...)
		b = strconv.AppendInt(b, int64(i%7), 10)
		b = append(b, ",ship_id=ship-"...)
		b = strconv.AppendInt(b, int64(i%50), 10)
		b = append(b, " value="...)
		b = strconv.AppendFloat(b, float64(i)*0.37-11.5, 'g', -1, 64)
		b = append(b, ' ')
		b = strconv.AppendInt(b, t0.Add(time.Duration(i/50)*time.Second).UnixNano(), 10)
		b = append(b, '\n')
	}
	return b
}

// telegrafBody is n readings as Telegraf's cpu input writes them: points
// of 5 fields, tagged cpu and host.
func telegrafBody(n int) []byte {
	var b []byte
	for i := 0; i < n; i += 5 {
		b = append(b, "cpu,cpu=cpu"...)
		b = strconv.AppendInt(b, int64(i%8), 10)
		b = append(b, ",host=ship-"...)
		b = strconv.AppendInt(b, int64(i%50), 10)
		for j, name := range []string{" usage_user=", ",usage_system=", ",usage_idle=", ",usage_iowait=", ",usage_steal="} {
			b = append(b, name...)
			b = strconv.AppendFloat(b, float64(i+j)*0.37, 'g', -1, 64)
		}
		b = append(b, ' ')
		b = strconv.AppendInt(b, t0.Add(time.Duration(i/50)*time.Second).UnixNano(), 10)
		b = append(b, '\n')
	}
	return b
}

// BenchmarkDecodeLines5000 is comparable, reading for reading, with
// jsonbody's BenchmarkDecodeBatch5000.
func BenchmarkDecodeLines5000(b *testing.B) {
	formattest.BenchmarkDecode(b, Decoder(Options{}), linesBody(5000), 5000)
}

func BenchmarkDecodeTelegraf5000(b *testing.B) {
	formattest.BenchmarkDecode(b, Decoder(Options{}), telegrafBody(5000), 5000)
}

// BenchmarkPerReading decodes the same 5000 readings as a JSON batch and
// as line protocol in one process, so that the two are measured on the
// same machine at the same time (compare their readings/s).
func BenchmarkPerReading(b *testing.B) {
	lp := Decoder(Options{})
	for _, c := range []struct {
		name   string
		body   []byte
		decode format.Decoder
	}{
		{"json-batch", formattest.BatchJSON(5000), jsonbody.DecodeBatch},
		{"line-protocol", linesBody(5000), lp},
		{"line-protocol-telegraf", telegrafBody(5000), lp},
	} {
		b.Run(c.name, func(b *testing.B) { formattest.BenchmarkDecode(b, c.decode, c.body, 5000) })
	}
}
