// Command loadgen measures Harbor: it posts a deterministic data set of
// readings to the ingest API as fast as it can (or at a set rate), reports
// throughput, latency percentiles and status codes, and with -verify waits
// until ClickHouse holds every accepted reading. -direct inserts the same
// rows straight into ClickHouse, to measure the sink alone.
//
//	go run ./cmd/loadgen -readings 1000000 -batch 5000 -conns 4 -key KEY -verify -clickhouse 127.0.0.1:19000
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/harbor-ingest/harbor/cmd/loadgen/load"
	"github.com/harbor-ingest/harbor/pkg/chconn"
)

func main() {
	o, jsonOut, err := parseFlags(os.Args[1:], time.Now())
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	human := io.Writer(os.Stdout)
	if jsonOut {
		human = os.Stderr // stdout is for the JSON line alone
	}
	o.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o.Send.Progress = os.Stderr
	rep, err := load.Run(ctx, o)
	if rep != nil {
		rep.CPUSeconds = cpuTime().Seconds()
		rep.WriteTable(human)
		if jsonOut {
			rep.WriteJSON(os.Stdout)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// parseFlags reads the command line into the run's options; jsonOut asks
// for the machine-readable report line.
func parseFlags(args []string, now time.Time) (o load.Options, jsonOut bool, err error) {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: loadgen [flags]\n\n"+
			"Posts a deterministic data set of readings to Harbor's ingest API and reports\n"+
			"throughput and latency; -verify checks ClickHouse holds every accepted reading,\n"+
			"-direct inserts the rows straight into ClickHouse instead.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	var start, mode string
	// The data set.
	fs.IntVar(&o.Ships, "ships", 100, "ships in the data set (ids ship-0001, ...)")
	fs.IntVar(&o.Cargos, "cargos", 10, "cargos per ship (ids cargo-01, ...); one series per ship and cargo")
	fs.Int64Var(&o.Readings, "readings", 1_000_000, "readings in all, spread over the series one second apart")
	fs.StringVar(&start, "start", "", "time of each series' first reading, RFC 3339 (default: a day ago, rounded down to the hour)")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the values' random walks")
	// Sending.
	fs.StringVar(&o.Send.URL, "url", "http://127.0.0.1:8080", "base URL of the ingest API")
	fs.StringVar(&o.Send.Harbor, "harbor", "bench", "harbor id (use a new one per -verify run so counts are exact)")
	fs.StringVar(&o.Send.Key, "key", "", "API key of the harbor (X-API-Key)")
	fs.IntVar(&o.Send.Harbors, "harbors", 1, "spread the requests over this many harbors in turn: <harbor>-0 ... with keys <key>-0 ...")
	fs.StringVar(&mode, "mode", "batch", "batch: JSON arrays to the batch endpoint; ndjson, csv: the batches in that format; line-protocol: as InfluxDB line protocol to /api/v2/write; single: one reading per request")
	fs.IntVar(&o.Send.Batch, "batch", 5000, "readings per request in batch mode")
	fs.IntVar(&o.Send.Conns, "conns", 4, "concurrent connections, one request in flight on each (inserters with -direct)")
	fs.BoolVar(&o.Send.Gzip, "gzip", false, "gzip request bodies")
	fs.Float64Var(&o.Send.Rate, "rate", 0, "target readings per second, spread evenly (0: as fast as possible)")
	fs.DurationVar(&o.Send.Timeout, "timeout", 60*time.Second, "bound on each request")
	fs.DurationVar(&o.Send.MaxDuration, "max-duration", 30*time.Minute, "stop sending after this long (0: no bound)")
	fs.DurationVar(&o.Send.ProgressEvery, "progress", 5*time.Second, "progress line on stderr this often (0: none)")
	fs.BoolVar(&jsonOut, "json", false, "print the report as one JSON line on stdout (the table goes to stderr)")
	// ClickHouse.
	fs.BoolVar(&o.Verify, "verify", false, "after sending, wait until ClickHouse holds every reading answered 200; exit 1 if not")
	fs.StringVar(&o.ClickHouse, "clickhouse", "127.0.0.1:9000", "ClickHouse host:port (of -clickhouse-protocol), for -verify and -direct")
	fs.StringVar(&o.ClickHouseProtocol, "clickhouse-protocol", chconn.ProtocolNative, "how to reach -clickhouse: native, or http (a current server's HTTP interface, chDB's)")
	fs.StringVar(&o.Database, "database", "harbor", "ClickHouse database of the readings table")
	fs.StringVar(&o.Table, "table", "readings", "ClickHouse readings table")
	fs.DurationVar(&o.VerifyTimeout, "verify-timeout", 5*time.Minute, "how long -verify waits for the rows")
	fs.BoolVar(&o.Direct, "direct", false, "insert the rows straight into ClickHouse (harbor direct-<harbor>) with the writer's store, to measure the sink alone")
	fs.IntVar(&o.DirectBatch, "direct-batch", 100_000, "rows per insert with -direct")

	if err := fs.Parse(args); err != nil {
		return o, false, err
	}
	if fs.NArg() > 0 {
		return o, false, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	switch mode {
	case "batch":
	case "single":
		o.Send.Single = true
	case string(load.NDJSON), string(load.CSV), string(load.LineProtocol):
		o.Send.Format = load.Format(mode)
	default:
		return o, false, fmt.Errorf("-mode must be batch, ndjson, csv, line-protocol or single, not %q", mode)
	}
	o.Start = load.DefaultStart(now)
	if start != "" {
		if o.Start, err = time.Parse(time.RFC3339, start); err != nil {
			return o, false, fmt.Errorf("-start: %w", err)
		}
	}
	return o, jsonOut, nil
}
