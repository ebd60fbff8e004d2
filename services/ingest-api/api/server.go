package api

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are what the API works with.
type Deps struct {
	Keys      *Keys
	Publisher Publisher
	// Metrics are registered on Registry and served from Gatherer.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
}

// New returns the Echo router of the API.
func New(cfg Config, d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(retryAfterSeconds(cfg.RetryAfter.Seconds()), d.Log)
	m := newMetrics(d.Registry)
	e.Use(requestLog(d.Log), m.middleware)

	h := &handlers{cfg: cfg, pub: d.Publisher, m: m}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))

	auth := authorize(d.Keys)
	for _, prefix := range []string{"/api/v1/ingest/ingest/:harbor_id", "/api/v2/ingest/:harbor_id"} {
		e.POST(prefix, h.ingestOne, auth)
		e.POST(prefix+"/batch", h.ingestBatch, auth)
	}
	return e
}

// NewServer returns an http.Server for the router with the timeouts of cfg,
// which keep slow or idle clients from holding connections forever.
func NewServer(cfg Config, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
	}
}
