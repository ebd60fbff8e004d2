package api

import (
	"log/slog"
	"net/http"

	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Deps are what the API works with.
type Deps struct {
	Auth      Authenticator
	Harbors   Harbors
	Limiter   *limit.Limiter
	Publisher Publisher
	// Store backs the admin API (on when cfg.AdminToken is set).
	Store *tenant.Store
	// Reader backs the read API (on when cfg.Read.Enabled).
	Reader Reader
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
	e.Pre(middleware.RemoveTrailingSlash()) // the JS and C++ SDKs send /api/v2/ingest/{harbor_id}/
	m := newMetrics(d.Registry)
	e.Use(requestLog(d.Log), m.middleware, cors(cfg.CORSAllowOrigins))

	h := &handlers{cfg: cfg, pub: d.Publisher, harbors: d.Harbors, limiter: d.Limiter, budget: newBudget(cfg.Bodies), m: m}
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))
	e.GET("/api/openapi.json", openAPI)

	if cfg.AdminToken != "" && d.Store != nil {
		adminRoutes(e, cfg.AdminToken, d.Store)
	}
	if cfg.Read.Enabled && d.Reader != nil {
		readRoutes(e, cfg, d.Reader, d.Auth)
	}
	auth := authorize(d.Auth, tenant.ScopeWrite)
	for _, r := range ingestRoutes {
		e.POST(r.path, h.ingest(r.formats), auth)
	}
	influxRoutes(e, h, auth)
	return e
}

// NewServer returns an http.Server for the router with the timeouts of cfg,
// which keep slow or idle clients from holding connections forever, to
// serve ln (which it tells what its connections are doing).
func NewServer(cfg Config, handler http.Handler, ln *Listener) *http.Server {
	return &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           handler,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ConnState:         ln.ConnState,
	}
}

// probePaths are what the PROBE_ADDR listener serves.
var probePaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// ProbesOnly serves the GET requests of /healthz, /readyz and /metrics with
// the router, and 404 for anything else: what PROBE_ADDR serves.
func ProbesOnly(router http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !probePaths[r.URL.Path] {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"message":"only /healthz, /readyz and /metrics are served here","details":[]}`))
			return
		}
		router.ServeHTTP(w, r)
	})
}
