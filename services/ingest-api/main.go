// Command ingest-api is Harbor's HTTP front: it authenticates API keys,
// validates readings and stores them in NATS JetStream. Settings come from
// the environment; see the README for the list.
package main

import (
	"context"
	"log/slog"

	"github.com/harbor-ingest/harbor/pkg/app"
	"github.com/harbor-ingest/harbor/services/ingest-api/service"
)

func main() {
	app.Main("ingest-api", func(ctx context.Context, cfg service.Config, log *slog.Logger) error {
		return service.Run(ctx, cfg, log, nil)
	})
}
