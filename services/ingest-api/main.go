// Command ingest-api is Harbor's HTTP front: it authenticates API keys,
// validates readings and stores them in NATS JetStream. Settings come from
// the environment; see the README for the list.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/services/ingest-api/service"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := env.ParseAs[service.Config]()
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, cfg, log, nil); err != nil {
		log.Error("ingest API failed", "err", err)
		os.Exit(1)
	}
}
