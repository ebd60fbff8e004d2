package store

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// BenchmarkDecodeAndInsert100k is the writer's work for one full batch
// (BATCH_ROWS' default 100,000 rows) on the bench's data set: 20 payloads
// of 5,000 readings of 100 ships × 10 cargos, readings one second apart,
// decoded onto reused Columns and inserted into the legacy table of the
// installed clickhouse-server. Its CPU profile (-cpuprofile) shows where a
// writer's CPU goes, beside ClickHouse's own.
func BenchmarkDecodeAndInsert100k(b *testing.B) {
	benchmarkDecodeAndInsert100k(b, devenv.EngineServer)
}

// BenchmarkDecodeAndInsert100kModern is the same into a current server's
// table (chDB, over HTTP): LowCardinality ids and a DateTime64 time.
func BenchmarkDecodeAndInsert100kModern(b *testing.B) {
	benchmarkDecodeAndInsert100k(b, devenv.EngineChDB)
}

func benchmarkDecodeAndInsert100k(b *testing.B, engine devenv.Engine) {
	const payloads, perPayload = 20, 5000
	ctx := context.Background()
	st := openTestStore(b, devtest.ClickHouseOn(b, engine))
	start := time.Now().Add(-time.Hour).UnixMilli()
	var encoded [][]byte
	for p := range payloads {
		rs := make([]schema.Reading, perPayload)
		for i := range rs {
			n := p*perPayload + i
			rs[i] = schema.Reading{Time: start + int64(n/1000)*1000, ShipID: "ship-" + strconv.Itoa(n%100), CargoID: "cargo-" + strconv.Itoa(n/100%10), Value: float64(n) * 0.25}
		}
		encoded = append(encoded, schema.EncodePayloads(rs, 1<<20)...)
	}
	bounds := schema.Bounds{Earliest: start - time.Hour.Milliseconds(), Latest: start + 2*time.Hour.Milliseconds(), MaxIDLength: 256}
	var cols schema.Columns
	b.ReportAllocs()
	cpu0 := devtest.ProcessCPU(b)
	for b.Loop() {
		cols.Reset()
		for _, p := range encoded {
			if err := cols.AppendPayload("harbor-1", p, bounds); err != nil {
				b.Fatal(err)
			}
		}
		if err := st.Insert(ctx, &cols); err != nil {
			b.Fatal(err)
		}
	}
	rows := float64(b.N * payloads * perPayload)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/rows, "ns/row")
	// The writer's own CPU, without clickhouse-server's, which ns/op includes.
	b.ReportMetric(float64((devtest.ProcessCPU(b)-cpu0).Nanoseconds())/rows, "cpu-ns/row")
}
