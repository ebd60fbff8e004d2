package api

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
)

// New returns the Echo router of the API.
func New(cfg Config, keys *Keys, pub Publisher, log *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(retryAfterSeconds(cfg.RetryAfter.Seconds()), log)

	h := &handlers{cfg: cfg, pub: pub, log: log}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)

	auth := authorize(keys)
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
