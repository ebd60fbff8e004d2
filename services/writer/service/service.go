// Package service wires a writer together: ClickHouse store, NATS
// connection, stream and consumer, run until its context ends.
package service

import (
	"context"
	"log/slog"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/writer/pipeline"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// Config is every setting of a writer.
type Config struct {
	Stream     stream.Config
	ClickHouse store.Config
	Pipeline   pipeline.Config
}

// Run writes readings from the stream into ClickHouse until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	st, err := store.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer st.Close()
	nc, js, err := stream.Open(ctx, cfg.Stream, "harbor-writer", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	w, err := pipeline.New(ctx, js, cfg.Stream, cfg.Pipeline, st, log)
	if err != nil {
		return err
	}
	log.Info("writer running", "stream", cfg.Stream.Name, "consumer", cfg.Pipeline.Consumer)
	err = w.Run(ctx)
	log.Info("writer stopped")
	return err
}
