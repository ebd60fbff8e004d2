package replay

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/writer/pipeline"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// Usage describes the replay command.
const Usage = `usage: writer replay -from TIME [-to TIME] [-harbor ID] [-database DB] [-table TABLE] [-dry-run]

Reads the readings the stream accepted between -from and -to (RFC 3339; -to
defaults to the end of the stream) and inserts them into ClickHouse, into the
configured table or the one -database/-table name (created if missing).
Replaying twice leaves the same rows. -dry-run only counts.`

// Command runs `writer replay ARGS` with the writer's settings, printing
// progress and the summary to out.
func Command(ctx context.Context, streamCfg stream.Config, chCfg store.Config, pipeCfg pipeline.Config, args []string, out io.Writer, log *slog.Logger) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "start of the window, RFC 3339")
	to := fs.String("to", "", "end of the window, RFC 3339 (default: the end of the stream)")
	o := Options{BatchRows: pipeCfg.BatchRows, RetryMin: pipeCfg.RetryMin, RetryMax: pipeCfg.RetryMax, Limits: pipeCfg.Limits, ClockSkew: pipeCfg.ClockSkew}
	fs.StringVar(&o.HarborID, "harbor", "", "replay one harbor (default: all)")
	fs.StringVar(&chCfg.Database, "database", chCfg.Database, "ClickHouse database to insert into")
	fs.StringVar(&chCfg.Table, "table", chCfg.Table, "ClickHouse table to insert into")
	fs.BoolVar(&o.DryRun, "dry-run", false, "count what would be inserted, insert nothing")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, Usage)
	}
	var err error
	if o.From, err = time.Parse(time.RFC3339Nano, *from); err != nil {
		return fmt.Errorf("-from must be an RFC 3339 time\n%s", Usage)
	}
	if *to != "" {
		if o.To, err = time.Parse(time.RFC3339Nano, *to); err != nil {
			return fmt.Errorf("-to must be an RFC 3339 time\n%s", Usage)
		}
	}

	streamCfg.Role = stream.RoleOperator
	if err := pipeCfg.Limits.Check(time.Now()); err != nil {
		return err
	}
	nc, js, err := stream.Open(ctx, streamCfg, "harbor-replay", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	var sink pipeline.Sink
	if !o.DryRun {
		st, err := store.Open(ctx, chCfg, log)
		if err != nil {
			return err
		}
		defer st.Close()
		sink = st
	}
	p, err := Run(ctx, js, streamCfg, sink, o, func(p Progress) {
		fmt.Fprintf(out, "replay: %5.1f%% of the window, %d readings, %.0f readings/s, ETA %s\n",
			100*p.Done, p.Readings, p.Rate(), p.ETA().Round(time.Second))
	})
	if err != nil {
		return err
	}
	verb := "inserted into " + chCfg.Database + "." + chCfg.Table
	if o.DryRun {
		verb = "would be inserted (dry run)"
	}
	fmt.Fprintf(out, "replay done: %d messages, %d readings %s in %s (%.0f readings/s); %d messages skipped (undecodable or refused by the checks: the live writers dead-letter them)\n",
		p.Messages, p.Readings, verb, p.Elapsed.Round(time.Millisecond), p.Rate(), p.Skipped)
	return nil
}
