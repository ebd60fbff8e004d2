// Package service wires a writer together: ClickHouse store, NATS
// connection, stream and consumer, and the HTTP listener of its probes and
// metrics, run until its context ends.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/writerstatus"
	"github.com/harbor-ingest/harbor/services/writer/pipeline"
	"github.com/harbor-ingest/harbor/services/writer/store"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Config is every setting of a writer.
type Config struct {
	// HTTPAddr serves /healthz, /readyz and /metrics; empty turns it off.
	HTTPAddr   string `env:"HTTP_ADDR" envDefault:":8081"`
	Stream     stream.Config
	ClickHouse store.Config
	Pipeline   pipeline.Config
	// Status is where the writer reports whether it can write.
	Status writerstatus.Config
}

// Run writes readings from the stream into ClickHouse until ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := cfg.Pipeline.Limits.Check(time.Now()); err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return err
	}
	defer st.Close()
	cfg.Stream.Role = stream.RoleWriter
	nc, js, err := stream.Open(ctx, cfg.Stream, "harbor-writer", log)
	if err != nil {
		return err
	}
	defer nc.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	w, err := pipeline.New(ctx, js, cfg.Stream, cfg.Pipeline, st, reg, log)
	if err != nil {
		return err
	}
	kv, err := writerstatus.Open(ctx, js, cfg.Status)
	if err != nil {
		return err
	}
	go reportStatus(ctx, kv, cfg.Status, w.Blocked, log)
	if cfg.HTTPAddr != "" {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("listen on %s (HTTP_ADDR): %w", cfg.HTTPAddr, err)
		}
		srv := &http.Server{Handler: httpHandler(nc, st, w.Blocked, reg), ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("probe and metrics listener failed", "err", err)
			}
		}()
		defer srv.Close()
		log.Info("writer probes and metrics listening", "addr", ln.Addr().String())
	}
	log.Info("writer running", "stream", cfg.Stream.Name, "consumer", cfg.Stream.Consumer)
	err = w.Run(ctx)
	log.Info("writer stopped")
	return err
}
