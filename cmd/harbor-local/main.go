// Command harbor-local runs the whole Harbor pipeline on this machine for
// trying it out: embedded NATS, a local ClickHouse, the ingest API and a
// writer. `make run` starts it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/harbor-ingest/harbor/cmd/harbor-local/local"
	"github.com/harbor-ingest/harbor/pkg/app"
)

func main() {
	app.Main("harbor-local", func(ctx context.Context, cfg local.Config, log *slog.Logger) error {
		// Servers and keys named in the environment are used as they are;
		// the rest the local mode provides.
		_, cfg.ExternalNATS = os.LookupEnv("NATS_URL")
		_, cfg.ExternalClickHouse = os.LookupEnv("CLICKHOUSE_ADDR")
		_, cfg.ExternalKeys = os.LookupEnv("API_KEYS")
		if _, set := os.LookupEnv("LISTEN_ADDR"); !set {
			cfg.Ingest.API.ListenAddr = "127.0.0.1:8080"
		}
		if _, set := os.LookupEnv("READ_API_ENABLED"); !set {
			cfg.Ingest.API.Read.Enabled = true // the demo key has the read scope
		}
		if _, set := os.LookupEnv("HTTP_ADDR"); !set {
			cfg.Writer.HTTPAddr = "127.0.0.1:8081"
		}
		return local.Run(ctx, cfg, log, os.Stdout)
	})
}
