package deadletter

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"text/tabwriter"

	"github.com/harbor-ingest/harbor/pkg/stream"
)

// Usage describes the dead-letter command.
const Usage = `usage:
  writer dead-letter list [-json] [-limit N]   list dead-lettered messages with their reasons
  writer dead-letter republish SEQUENCE...     put messages back on the readings stream`

// Command runs `writer dead-letter ARGS`, writing its output to out.
func Command(ctx context.Context, cfg stream.Config, args []string, out io.Writer, log *slog.Logger) error {
	if len(args) == 0 {
		return fmt.Errorf("missing subcommand\n%s", Usage)
	}
	cfg.Role = stream.RoleOperator
	nc, js, err := stream.Open(ctx, cfg, "harbor-dead-letter", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	switch args[0] {
	case "list":
		fs := flag.NewFlagSet("list", flag.ContinueOnError)
		asJSON := fs.Bool("json", false, "print JSON instead of a table")
		limit := fs.Int("limit", 1000, "list at most this many")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		entries, err := List(ctx, js, cfg, *limit)
		if err != nil {
			return err
		}
		if *asJSON {
			return json.NewEncoder(out).Encode(entries)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQUENCE\tTIME\tSUBJECT\tBYTES\tREASON")
		for _, e := range entries {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", e.Sequence, e.Time.UTC().Format("2006-01-02T15:04:05Z"), e.Subject, e.Bytes, e.Reason)
		}
		return tw.Flush()
	case "republish":
		if len(args) < 2 {
			return fmt.Errorf("republish needs the sequence numbers that list shows\n%s", Usage)
		}
		for _, a := range args[1:] {
			seq, err := strconv.ParseUint(a, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a sequence number", a)
			}
			if err := Republish(ctx, js, cfg, seq); err != nil {
				return err
			}
			fmt.Fprintf(out, "republished %d\n", seq)
		}
		return nil
	default:
		return fmt.Errorf("unknown subcommand %q\n%s", args[0], Usage)
	}
}
