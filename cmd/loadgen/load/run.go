package load

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// Options is everything a loadgen run needs: the data set, how to send it,
// and what to check afterwards.
type Options struct {
	Ships, Cargos int
	Readings      int64
	Start         time.Time
	Seed          int64

	Send SendConfig

	// Verify waits, after sending, until ClickHouse holds every accepted
	// reading of the harbor, and fails if it does not within VerifyTimeout.
	Verify     bool
	ClickHouse string // host:port of ClickHouseProtocol
	// ClickHouseProtocol is chconn.ProtocolNative or chconn.ProtocolHTTP.
	ClickHouseProtocol string
	Database           string
	Table              string
	VerifyTimeout      time.Duration
	VerifyPoll         time.Duration // between counts; 100ms if 0

	// Direct inserts into ClickHouse instead of posting to the API, in
	// batches of DirectBatch rows with Send.Conns inserters, under the
	// harbor "direct-<Send.Harbor>".
	Direct      bool
	DirectBatch int

	Log *slog.Logger
}

// Mode is the name of the run's mode: batch (of JSON), ndjson, csv, line-protocol, single or direct.
func (o *Options) Mode() string {
	switch {
	case o.Direct:
		return "direct"
	case o.Send.Single:
		return "single"
	case o.Send.Format != JSON:
		return string(o.Send.Format)
	}
	return "batch"
}

// Run sends (or inserts) the data set, verifies it if asked, and reports.
// The report is returned even with an error, which means the run could not
// be done or the verification failed.
func Run(ctx context.Context, o Options) (*Report, error) {
	d, err := NewDataset(o.Ships, o.Cargos, o.Readings, o.Start, o.Seed)
	if err != nil {
		return nil, err
	}
	if end := d.Start.Add(d.Span()); end.After(time.Now().Add(24*time.Hour)) && o.Log != nil {
		o.Log.Warn("the last readings are more than 24h ahead: the API refuses them with its default MAX_FUTURE; use more -ships or -cargos, or an earlier -start",
			"last_time", end.Format(time.RFC3339))
	}
	rep := &Report{Mode: o.Mode(), Harbor: o.Send.Harbor, Harbors: max(o.Send.Harbors, 1), Batch: o.Send.Batch, Conns: o.Send.Conns, Gzip: o.Send.Gzip, TargetRate: o.Send.Rate}
	harbors := o.Send.HarborIDs()
	if o.Send.Single {
		rep.Batch = 1
	}
	if o.Direct {
		rep.Harbor, rep.Harbors, rep.Batch, rep.Gzip, rep.TargetRate = "direct-"+o.Send.Harbor, 1, o.DirectBatch, false, 0
		harbors = []string{rep.Harbor}
	}

	var counter *Counter
	if o.Verify {
		if counter, err = o.openCounter(ctx, harbors); err != nil {
			return nil, err
		}
		defer counter.Close()
	}

	var start, end time.Time
	var want uint64
	if o.Direct {
		res, err := Direct(ctx, d, DirectConfig{
			Store:  store.Config{Config: o.clickhouse()},
			Harbor: rep.Harbor, BatchRows: o.DirectBatch, Inserters: o.Send.Conns,
		}, o.Log)
		if err != nil {
			return nil, err
		}
		rep.AddDirect(res)
		start, end, want = res.Start, res.End, uint64(res.Rows)
	} else {
		res, err := Send(ctx, d, o.Send)
		if err != nil {
			return nil, err
		}
		rep.AddSend(res)
		start, end, want = res.Start, res.End, uint64(res.Accepted)
		if res.Accepted == 0 {
			return rep, errors.New("no reading was accepted: see the status codes and errors")
		}
	}

	if counter != nil {
		poll := o.VerifyPoll
		if poll <= 0 {
			poll = 100 * time.Millisecond
		}
		v, err := counter.WaitForRows(ctx, harbors, want, o.VerifyTimeout, poll)
		rep.AddVerify(start, end, v, err)
		if err != nil {
			return rep, fmt.Errorf("verify: %w", err)
		}
	}
	return rep, nil
}

// clickhouse is how to reach the readings table, for -verify and -direct.
func (o *Options) clickhouse() chconn.Config {
	return chconn.Config{Addr: o.ClickHouse, Protocol: o.ClickHouseProtocol, Database: o.Database, Table: o.Table,
		Username: "default", DialTimeout: 5 * time.Second}
}

// openCounter connects for verification and checks that the harbors have no
// rows yet, since rows from an earlier run would make the count meaningless.
func (o *Options) openCounter(ctx context.Context, harbors []string) (*Counter, error) {
	c, err := OpenCounter(ctx, o.clickhouse())
	if err != nil {
		return nil, err
	}
	n, err := c.Count(ctx, harbors, false)
	if err != nil {
		c.Close()
		return nil, err
	}
	if n > 0 {
		c.Close()
		return nil, fmt.Errorf("harbor %s already has %d rows in %s.%s: pick an unused -harbor so the count can be exact", harborNames(harbors), n, o.Database, o.Table)
	}
	return c, nil
}
