// Command writer moves readings from NATS JetStream into ClickHouse. Run as
// many as you like: they share one durable consumer. Settings come from the
// environment; see the README for the list.
//
//	writer                       run
//	writer replay -from T ...    replay a window of the stream (backfill)
//	writer dead-letter list      list dead letters: undecodable messages, refused readings
//	writer dead-letter republish put them back on the stream
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/harbor-ingest/harbor/pkg/app"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/writer/deadletter"
	"github.com/harbor-ingest/harbor/services/writer/replay"
	"github.com/harbor-ingest/harbor/services/writer/service"
)

func main() {
	sub := ""
	if len(os.Args) > 1 {
		sub = os.Args[1]
	}
	switch sub {
	case "dead-letter":
		app.Main("writer dead-letter", func(ctx context.Context, cfg stream.Config, log *slog.Logger) error {
			return deadletter.Command(ctx, cfg, os.Args[2:], os.Stdout, log)
		})
	case "replay":
		app.Main("writer replay", func(ctx context.Context, cfg service.Config, log *slog.Logger) error {
			return replay.Command(ctx, cfg.Stream, cfg.ClickHouse, cfg.Pipeline, os.Args[2:], os.Stdout, log)
		})
	default:
		app.Main("writer", service.Run)
	}
}
