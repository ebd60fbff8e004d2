package load

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
)

var quietLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

// testPipeline is a whole Harbor in this process, as e2e starts it: NATS,
// ClickHouse, an ingest API and one writer. Keys "key-<harbor>" open the
// harbors given.
type testPipeline struct {
	url        string
	clickhouse string
}

func startPipeline(t testing.TB, harbors ...string) *testPipeline {
	t.Helper()
	ns := devtest.NATS(t)
	ch := devtest.ClickHouse(t) // fails, never skips, without ClickHouse
	keys := ""
	for i, h := range harbors {
		if i > 0 {
			keys += ","
		}
		keys += "key-" + h + ":" + h
	}
	environment := map[string]string{
		"NATS_URL":        ns.ClientURL(),
		"CLICKHOUSE_ADDR": ch.Addr,
		"API_KEYS":        keys,
		"LISTEN_ADDR":     "127.0.0.1:0",
		"HTTP_ADDR":       "127.0.0.1:0", // the writer's probes and metrics
		"FLUSH_INTERVAL":  "200ms",
	}
	ingestCfg := devtest.ParseEnv[ingest.Config](t, environment)
	writerCfg := devtest.ParseEnv[writer.Config](t, environment)
	addr := devtest.RunService(t, func(ctx context.Context, listening func(string)) error {
		return ingest.Run(ctx, ingestCfg, quietLog, listening)
	})
	devtest.RunService(t, func(ctx context.Context, listening func(string)) error {
		listening("")
		return writer.Run(ctx, writerCfg, quietLog)
	})
	return &testPipeline{url: "http://" + addr.Addr, clickhouse: ch.Addr}
}

func (p *testPipeline) options(harbor string, readings int64) Options {
	return Options{
		Ships: 20, Cargos: 5, Readings: readings, Start: DefaultStart(time.Now()), Seed: 7,
		Send: SendConfig{
			URL: p.url, Harbor: harbor, Key: "key-" + harbor,
			Batch: 1000, Conns: 2, Timeout: 30 * time.Second,
		},
		Verify: true, ClickHouse: p.clickhouse, Database: "harbor", Table: "readings",
		VerifyTimeout: 60 * time.Second, VerifyPoll: 50 * time.Millisecond,
		DirectBatch: 100_000,
		Log:         quietLog,
	}
}

// The smoke test: the sender against a real pipeline, every reading stored,
// and the report's counts right, in each mode.
func TestSmokeAgainstThePipeline(t *testing.T) {
	p := startPipeline(t, "smoke-batch", "smoke-single", "smoke-gzip", "smoke-spread-0", "smoke-spread-1", "smoke-spread-2", "smoke-lp", "smoke-ndjson", "smoke-csv")
	ctx := context.Background()

	o := p.options("smoke-batch", 20_000)
	rep := mustRun(t, o)
	checkReport(t, rep, 20_000, 20)
	p.checkStored(t, o, "smoke-batch")

	// Sending the same harbor again cannot be verified exactly: refused.
	if _, err := Run(ctx, o); err == nil {
		t.Fatal("a second -verify run on the same harbor was not refused")
	}

	o = p.options("smoke-single", 300)
	o.Send.Single, o.Send.Conns = true, 4
	rep = mustRun(t, o)
	checkReport(t, rep, 300, 300)

	// Spread over three harbors, verified over the three.
	o = p.options("smoke-spread", 300)
	o.Send.Single, o.Send.Conns, o.Send.Harbors = true, 4, 3
	rep = mustRun(t, o)
	checkReport(t, rep, 300, 300)

	for _, f := range []Format{LineProtocol, NDJSON, CSV} {
		harbor := map[Format]string{LineProtocol: "smoke-lp", NDJSON: "smoke-ndjson", CSV: "smoke-csv"}[f]
		o = p.options(harbor, 10_000)
		o.Send.Format = f
		rep = mustRun(t, o)
		checkReport(t, rep, 10_000, 10)
		p.checkStored(t, o, harbor)
	}

	o = p.options("smoke-gzip", 5_000)
	o.Send.Gzip, o.Send.Rate = true, 20_000
	rep = mustRun(t, o)
	checkReport(t, rep, 5_000, 5)
	// Paced: five requests 50 ms apart cannot take less than 4 gaps (with
	// slack for where the clock starts); timers are only ever late.
	if rep.Seconds < 0.15 {
		t.Errorf("5000 readings at 20000/s took %.3fs: not paced", rep.Seconds)
	}

	// Direct inserts, beside the pipeline's rows in the same table.
	o = p.options("smoke", 250_000)
	o.Direct = true
	rep = mustRun(t, o)
	if rep.Harbor != "direct-smoke" || rep.Readings != 250_000 || rep.Requests != 3 || !rep.Verify.OK || rep.Legacy == nil || rep.ReadingsPerSec <= 0 {
		t.Fatalf("direct report %+v", rep)
	}
	t.Logf("direct: %.0f rows/s", rep.ReadingsPerSec)
	p.checkStored(t, o, "direct-smoke")
}

// mustRun runs the load generator with o and returns its report; a run
// that fails fails the test.
func mustRun(t *testing.T, o Options) *Report {
	t.Helper()
	rep, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%s: %v", o.Send.Harbor, err)
	}
	return rep
}

func checkReport(t *testing.T, rep *Report, readings, requests int64) {
	t.Helper()
	var table strings.Builder
	rep.WriteTable(&table)
	t.Logf("report:\n%s", table.String())
	ok := "200"
	if rep.Mode == "line-protocol" {
		ok = "204" // as InfluxDB answers
	}
	if rep.Readings != readings || rep.Accepted != readings || rep.Requests != requests ||
		rep.Statuses[ok] != requests || len(rep.Statuses) != 1 || rep.Non2xx != 0 || rep.Errors != 0 || rep.Stopped {
		t.Fatalf("report %+v, want %d readings in %d requests, all %s", rep, readings, requests, ok)
	}
	v := rep.Verify
	if v == nil || !v.OK || v.Rows != uint64(readings) || v.Want != uint64(readings) || v.EndToEndPerSec <= 0 || v.EndToEndSeconds < rep.Seconds {
		t.Fatalf("verification %+v", v)
	}
	if rep.ReadingsPerSec <= 0 || rep.LatencyMs.P50 <= 0 || rep.LatencyMs.Max < rep.LatencyMs.P99 {
		t.Fatalf("rates and latencies %+v", rep)
	}
}

// checkStored compares what ClickHouse holds of the harbor with the data set:
// the series, the first and last times, and the sum of the values.
func (p *testPipeline) checkStored(t *testing.T, o Options, harbor string) {
	t.Helper()
	d := mustDataset(t, o.Ships, o.Cargos, o.Readings, o.Start, o.Seed)
	var sum float64
	c := d.NewCursor()
	for i := range d.Readings {
		sum += c.At(i).Value()
	}
	counter, err := OpenCounter(context.Background(), o.clickhouse())
	if err != nil {
		t.Fatal(err)
	}
	defer counter.Close()
	q := fmt.Sprintf("SELECT uniqExact(ship_id, cargo_id), toInt64(min(time)), toInt64(max(time)), sum(value) FROM %s FINAL WHERE harbor_id = ?",
		counter.table.FullName())
	var series uint64
	var first, last int64
	var gotSum float64
	if err := counter.conn.QueryRow(context.Background(), q, harbor).Scan(&series, &first, &last, &gotSum); err != nil {
		t.Fatal(err)
	}
	if series != uint64(d.Series()) || first != d.Start.Unix() || last != d.Start.Add(d.Span()).Unix() || math.Abs(gotSum-sum) > 1e-6*math.Abs(sum) {
		t.Fatalf("stored: %d series, times %d..%d, sum %v; want %d, %d..%d, %v",
			series, first, last, gotSum, d.Series(), d.Start.Unix(), d.Start.Add(d.Span()).Unix(), sum)
	}
}

// BenchmarkPipeline sends LOADGEN_BENCH_READINGS readings (default 200,000)
// through an in-process pipeline per iteration, for CPU profiles of the API,
// NATS and the writer together (ClickHouse runs apart):
//
//	go test -run '^$' -bench Pipeline -benchtime 1x -cpuprofile cpu.out ./load/
func BenchmarkPipeline(b *testing.B) {
	readings := int64(200_000)
	if s := os.Getenv("LOADGEN_BENCH_READINGS"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		readings = n
	}
	harbors := make([]string, 0, 100)
	for i := range 100 {
		harbors = append(harbors, "bench-"+strconv.Itoa(i))
	}
	p := startPipeline(b, harbors...)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		o := p.options(harbors[i%100], readings)
		o.Ships, o.Cargos, o.Send.Batch, o.Send.Conns = 100, 10, 5000, 4
		o.VerifyTimeout = 10 * time.Minute
		rep, err := Run(context.Background(), o)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.ReadingsPerSec, "sent/s")
		b.ReportMetric(rep.Verify.EndToEndPerSec, "stored/s")
	}
}
