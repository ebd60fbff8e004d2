// Package service wires the ingest API together: NATS connection, stream,
// publisher, the read API's ClickHouse reader and the HTTP server, run until
// its context ends.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/pkg/writerstatus"
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
	// Tenants holds the harbors and keys that harborctl manages.
	Tenants tenant.Config
	// AdminNATS are the NATS credentials of the admin API (on when
	// API.AdminToken is set), which manages the tenants bucket that the
	// API's own user may only read.
	AdminNATS AdminNATS
	// ReplicasBucket holds one heartbeat per live replica; ReplicaTTL is how
	// long a replica that stopped beating still counts.
	ReplicasBucket string        `env:"REPLICAS_BUCKET" envDefault:"harbor_replicas"`
	ReplicaTTL     time.Duration `env:"REPLICA_TTL" envDefault:"4s"`
	// WriterStatus is where the writers report whether they can write;
	// /readyz fails while one reports it cannot.
	WriterStatus writerstatus.Config
	// ShutdownTimeout bounds the wait for in-flight requests on shutdown.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
}

// Check refuses, before anything starts, settings that cannot work
// together: the body budget, the validation limits (against what the table
// holds, as of now) and the coalescer's.
func (c Config) Check(now time.Time) error {
	return errors.Join(c.API.Bodies.Check(c.API.MaxBodyBytes), c.API.Limits.Check(now), c.Coalesce.Check())
}

// Run serves the API until ctx ends, then lets in-flight requests finish
// (each waits for its JetStream acknowledgement) and closes the connection.
// listening, if not nil, is called with the address once it accepts requests.
func Run(ctx context.Context, cfg Config, log *slog.Logger, listening func(addr string)) error {
	if err := cfg.Check(time.Now()); err != nil {
		return err
	}
	var rd api.Reader
	if cfg.API.Read.Enabled {
		if err := cfg.API.Read.Check(); err != nil {
			return err
		}
		r, err := reader.Open(cfg.ClickHouse, cfg.API.Read.Query, log)
		if err != nil {
			return err
		}
		defer r.Close()
		rd = r
	}
	cfg.Stream.Role = stream.RoleAPI
	nc, js, err := stream.OpenAsOwner(ctx, cfg.Stream, "harbor-ingest-api", log, jetstream.WithPublishAsyncTimeout(cfg.API.PublishTimeout))
	if err != nil {
		return err
	}
	defer nc.Close()
	tenants, err := tenant.Attach(ctx, js, cfg.Tenants.Bucket, cfg.Stream.Replicas)
	if err != nil {
		return err
	}
	adminStore, closeAdmin, err := openAdminStore(ctx, cfg, tenants, log)
	if err != nil {
		return err
	}
	defer closeAdmin()
	cache, err := tenants.Watch(ctx)
	if err != nil {
		return err
	}
	replicas, err := limit.JoinReplicas(ctx, js, cfg.ReplicasBucket, cfg.ReplicaTTL, log)
	if err != nil {
		return err
	}
	static, err := api.NewKeys(cfg.API.APIKeys)
	if err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	pub := publish.New(ctx, nc, js, cfg.Stream, cfg.Coalesce, cfg.API.PublishTimeout, reg, log)
	writers, err := publish.WatchWriters(ctx, js, cfg.WriterStatus, log)
	if err != nil {
		return err
	}
	router := api.New(cfg.API, api.Deps{
		Auth:      api.AnyOf{static, cache},
		Harbors:   cache,
		Limiter:   limit.New(cfg.API.RateBurst, replicas.Count),
		Publisher: publish.WritersReady{Publisher: pub, Writers: writers},
		Store:     adminStore,
		Reader:    rd,
		Registry:  reg, Gatherer: reg,
		Log: log,
	})
	ln, err := api.Listen(cfg.API.ListenAddr, cfg.API.MaxConnections, "LISTEN_ADDR")
	if err != nil {
		return err
	}
	ln.Register(reg)
	srv := api.NewServer(cfg.API, router, ln)
	servers := []*http.Server{srv}
	served := make(chan error, 2)
	if cfg.API.ProbeAddr != "" {
		pln, err := api.Listen(cfg.API.ProbeAddr, 0, "PROBE_ADDR")
		if err != nil {
			ln.Close()
			return err
		}
		probes := api.NewServer(cfg.API, api.ProbesOnly(router), pln)
		servers = append(servers, probes)
		log.Info("ingest API probes listening", "addr", pln.Addr().String())
		go func() { served <- probes.Serve(pln) }()
	}
	log.Info("ingest API listening", "addr", ln.Addr().String(), "stream", cfg.Stream.Name, "max_connections", cfg.API.MaxConnections)
	if listening != nil {
		listening(ln.Addr().String())
	}

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
	for _, s := range servers {
		if err := s.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("shut down HTTP server: %w", err)
		}
	}
	log.Info("ingest API stopped")
	return nc.Drain()
}
