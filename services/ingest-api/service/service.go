// Package service wires the ingest API together: NATS connection, stream,
// publisher, the read API's ClickHouse reader and the HTTP server, run until
// its context ends.
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
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/api"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/harbor-ingest/harbor/services/ingest-api/publish"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Config is every setting of the ingest API.
type Config struct {
	API    api.Config
	Stream stream.Config
	// Coalesce are the settings of the group commit of concurrent requests.
	Coalesce publish.CoalesceConfig
	// ClickHouse is where the read API reads (when API.Read.Enabled).
	ClickHouse reader.Config
	// TenantsBucket holds the harbors and keys that harborctl manages.
	TenantsBucket string `env:"TENANTS_BUCKET" envDefault:"harbor_tenants"`
	// ReplicasBucket holds one heartbeat per live replica; ReplicaTTL is how
	// long a replica that stopped beating still counts.
	ReplicasBucket string        `env:"REPLICAS_BUCKET" envDefault:"harbor_replicas"`
	ReplicaTTL     time.Duration `env:"REPLICA_TTL" envDefault:"4s"`
	// ShutdownTimeout bounds the wait for in-flight requests on shutdown.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
}

// Run serves the API until ctx ends, then lets in-flight requests finish
// (each waits for its JetStream acknowledgement) and closes the connection.
// listening, if not nil, is called with the address once it accepts requests.
func Run(ctx context.Context, cfg Config, log *slog.Logger, listening func(addr string)) error {
	if err := cfg.Coalesce.Check(); err != nil {
		return err
	}
	var rd api.Reader
	if cfg.API.Read.Enabled {
		if err := cfg.API.Read.Check(); err != nil {
			return err
		}
		r, err := reader.Open(cfg.ClickHouse, log)
		if err != nil {
			return err
		}
		defer r.Close()
		rd = r
	}
	nc, js, err := stream.Open(ctx, cfg.Stream, "harbor-ingest-api", log, jetstream.WithPublishAsyncTimeout(cfg.API.PublishTimeout))
	if err != nil {
		return err
	}
	defer nc.Close()
	tenants, err := tenant.Open(ctx, js, cfg.TenantsBucket, cfg.Stream.Replicas)
	if err != nil {
		return err
	}
	cache, err := tenants.Watch(ctx)
	if err != nil {
		return err
	}
	replicas, err := limit.JoinReplicas(ctx, js, cfg.ReplicasBucket, cfg.ReplicaTTL, log)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pub := publish.New(ctx, nc, js, cfg.Stream, cfg.Coalesce, cfg.API.PublishTimeout, reg, log)
	router := api.New(cfg.API, api.Deps{
		Auth:      api.AnyOf{api.NewKeys(cfg.API.APIKeys), cache},
		Harbors:   cache,
		Limiter:   limit.New(cfg.API.RateBurst, replicas.Count),
		Publisher: pub,
		Store:     tenants,
		Reader:    rd,
		Registry:  reg, Gatherer: reg,
		Log: log,
	})
	srv := api.NewServer(cfg.API, router)
	ln, err := net.Listen("tcp", cfg.API.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s (LISTEN_ADDR): %w", cfg.API.ListenAddr, err)
	}
	log.Info("ingest API listening", "addr", ln.Addr().String(), "stream", cfg.Stream.Name)
	if listening != nil {
		listening(ln.Addr().String())
	}

	served := make(chan error, 1)
	go func() {
		if cfg.API.TLSCertFile != "" {
			served <- srv.ServeTLS(ln, cfg.API.TLSCertFile, cfg.API.TLSKeyFile)
			return
		}
		served <- srv.Serve(ln)
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down HTTP server: %w", err)
	}
	log.Info("ingest API stopped")
	return nc.Drain()
}
