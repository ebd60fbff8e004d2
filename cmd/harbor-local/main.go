// Command harbor-local runs the whole Harbor pipeline on this machine for
// trying it out: embedded NATS, a local ClickHouse, the ingest API and a
// writer. `make run` starts it.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/cmd/harbor-local/local"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := env.ParseAs[local.Config]()
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	_, cfg.ExternalNATS = os.LookupEnv("NATS_URL")
	_, cfg.ExternalClickHouse = os.LookupEnv("CLICKHOUSE_ADDR")
	_, cfg.ExternalKeys = os.LookupEnv("API_KEYS")
	if _, set := os.LookupEnv("LISTEN_ADDR"); !set {
		cfg.Ingest.API.ListenAddr = "127.0.0.1:8080"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := local.Run(ctx, cfg, log, os.Stdout); err != nil {
		log.Error("harbor-local failed", "err", err)
		os.Exit(1)
	}
}
