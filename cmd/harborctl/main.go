// Command harborctl manages Harbor's harbors and API keys. Run it without
// arguments for help.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/harbor-ingest/harbor/cmd/harborctl/ctl"
	"github.com/harbor-ingest/harbor/pkg/app"
)

func main() {
	app.Main("harborctl", func(ctx context.Context, cfg ctl.Config, log *slog.Logger) error {
		return ctl.Run(ctx, cfg, os.Args[1:], os.Stdout, log)
	})
}
