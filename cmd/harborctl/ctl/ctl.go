// Package ctl is harborctl: the management of harbors and API keys, talking
// to NATS directly.
package ctl

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/tenant"
)

// Config holds harborctl's settings.
type Config struct {
	Stream  stream.Config
	Tenants tenant.Config
}

// Usage is harborctl's help.
const Usage = `usage: harborctl [-json] COMMAND

  harbor create ID [-name NAME] [-readings-per-second N] [-requests-per-second N] [-max-batch-len N] [-partial]
  harbor list
  harbor delete ID                 (revokes its keys; its readings stay, so its id stays reserved)
  key create HARBOR [-scopes write,read]
  key list [HARBOR]
  key revoke KEY_ID                (the id, or the hb_... prefix that list shows)
  stream apply                     (gives the streams the STREAM_* settings; as the harbor-operator user)

Settings come from the environment: NATS_URL (and NATS_USER/NATS_PASSWORD of the
harbor-admin user, or NATS_CREDS_FILE; NATS_TLS_*), TENANTS_BUCKET, and for
stream apply the STREAM_* settings of the ingest API.`

// Run runs harborctl with args (without the program name), printing to out.
func Run(ctx context.Context, cfg Config, args []string, out io.Writer, log *slog.Logger) error {
	top := flag.NewFlagSet("harborctl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	asJSON := top.Bool("json", false, "print JSON for scripts instead of a table")
	if err := top.Parse(args); err != nil || top.NArg() < 2 {
		return fmt.Errorf("%s", Usage)
	}
	cmd, rest := top.Arg(0)+" "+top.Arg(1), top.Args()[2:]
	p := printer{out: out, json: *asJSON}
	if cmd == "stream apply" {
		return streamApply(ctx, cfg.Stream, p, log)
	}
	cfg.Stream.Role = stream.RoleAdmin
	nc, err := stream.Connect(cfg.Stream, "harborctl", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := stream.JetStream(nc)
	if err != nil {
		return err
	}
	store, err := tenant.Open(ctx, js, cfg.Tenants.Bucket, cfg.Stream.Replicas)
	if err != nil {
		return err
	}
	switch cmd {
	case "harbor create":
		return harborCreate(ctx, store, rest, p)
	case "harbor list":
		hs, err := store.Harbors(ctx)
		if err != nil {
			return err
		}
		return p.harbors(hs)
	case "harbor delete":
		if len(rest) != 1 {
			return fmt.Errorf("harbor delete takes one harbor id\n%s", Usage)
		}
		if err := store.DeleteHarbor(ctx, rest[0]); err != nil {
			return err
		}
		return p.done("deleted harbor " + rest[0])
	case "key create":
		return keyCreate(ctx, store, rest, p)
	case "key list":
		harbor := ""
		if len(rest) > 0 {
			harbor = rest[0]
		}
		ks, err := store.Keys(ctx, harbor)
		if err != nil {
			return err
		}
		return p.keys(ks)
	case "key revoke":
		if len(rest) != 1 {
			return fmt.Errorf("key revoke takes one key id\n%s", Usage)
		}
		if err := store.RevokeKey(ctx, rest[0]); err != nil {
			return err
		}
		return p.done("revoked key " + rest[0])
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, Usage)
	}
}

// streamApply gives the streams the settings of cfg, as their owner does
// (stream.Ensure): with NATS users, the operator's job.
func streamApply(ctx context.Context, cfg stream.Config, p printer, log *slog.Logger) error {
	cfg.Role = stream.RoleOperator
	nc, _, err := stream.OpenAsOwner(ctx, cfg, "harborctl", log)
	if err != nil {
		return err
	}
	nc.Close()
	return p.done("streams " + cfg.Name + " and " + cfg.DeadLetterName() + " have the STREAM_* settings")
}

func harborCreate(ctx context.Context, store *tenant.Store, args []string, p printer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("harbor create needs a harbor id\n%s", Usage)
	}
	h := tenant.Harbor{ID: args[0]}
	fs := flag.NewFlagSet("harbor create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&h.Name, "name", "", "a name for people")
	fs.Float64Var(&h.Limits.ReadingsPerSecond, "readings-per-second", 0, "readings per second, all replicas together (0: the default)")
	fs.Float64Var(&h.Limits.RequestsPerSecond, "requests-per-second", 0, "requests per second (0: the default)")
	fs.IntVar(&h.Limits.MaxBatchLen, "max-batch-len", 0, "readings per batch (0: the default)")
	fs.BoolVar(&h.Partial, "partial", false, "store the valid readings of a body and list the invalid ones as skipped (default: refuse the whole body)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, Usage)
	}
	h, err := store.CreateHarbor(ctx, h)
	if err != nil {
		return err
	}
	return p.harbors([]tenant.Harbor{h})
}

func keyCreate(ctx context.Context, store *tenant.Store, args []string, p printer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("key create needs a harbor id\n%s", Usage)
	}
	fs := flag.NewFlagSet("key create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	scopes := fs.String("scopes", tenant.ScopeWrite, "comma-separated: write, read")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w\n%s", err, Usage)
	}
	secret, k, err := store.CreateKey(ctx, args[0], strings.Split(*scopes, ","))
	if err != nil {
		return err
	}
	if p.json {
		return json.NewEncoder(p.out).Encode(map[string]any{"key": k, "secret": secret})
	}
	fmt.Fprintf(p.out, "Key %s for harbor %s (scopes %s). The secret, shown this once:\n\n  %s\n",
		k.Prefix(), k.HarborID, strings.Join(k.Scopes, ","), secret)
	return nil
}

// printer writes results as a table for people or JSON for scripts.
type printer struct {
	out  io.Writer
	json bool
}

func (p printer) harbors(hs []tenant.Harbor) error {
	if p.json {
		return json.NewEncoder(p.out).Encode(orEmpty(hs))
	}
	tw := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tCREATED\tREADINGS/S\tREQUESTS/S\tMAX BATCH\tINVALID READINGS")
	for _, h := range hs {
		policy := "refuse the body"
		if h.Partial {
			policy = "skip"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Name, h.CreatedAt.Format("2006-01-02 15:04:05"),
			orDefault(h.Limits.ReadingsPerSecond), orDefault(h.Limits.RequestsPerSecond), orDefault(float64(h.Limits.MaxBatchLen)), policy)
	}
	return tw.Flush()
}

func (p printer) keys(ks []tenant.Key) error {
	if p.json {
		return json.NewEncoder(p.out).Encode(orEmpty(ks))
	}
	tw := tabwriter.NewWriter(p.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tHARBOR\tSCOPES\tCREATED")
	for _, k := range ks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.Prefix(), k.HarborID, strings.Join(k.Scopes, ","), k.CreatedAt.Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}

func (p printer) done(what string) error {
	if p.json {
		return json.NewEncoder(p.out).Encode(map[string]string{"result": what})
	}
	_, err := fmt.Fprintln(p.out, what)
	return err
}

func orDefault(v float64) string {
	if v == 0 {
		return "default"
	}
	return fmt.Sprint(v)
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
