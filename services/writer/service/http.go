package service

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// pinger is what readiness needs of the ClickHouse store.
type pinger interface {
	Ping(ctx context.Context) error
}

// httpHandler serves the writer's probes and metrics:
// GET /healthz (the process runs), GET /readyz (NATS connected, ClickHouse
// answering and the writer not blocked: blocked returns why it cannot
// write) and GET /metrics.
func httpHandler(nc *nats.Conn, ch pinger, blocked func() error, gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		blockedBy := blocked()
		switch {
		case blockedBy != nil:
			writeStatus(w, http.StatusServiceUnavailable, blockedBy.Error())
		case !nc.IsConnected():
			writeStatus(w, http.StatusServiceUnavailable, "not connected to NATS")
		case ch.Ping(ctx) != nil:
			writeStatus(w, http.StatusServiceUnavailable, "ClickHouse does not answer")
		default:
			writeStatus(w, http.StatusOK, "ready")
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	return mux
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"status": status})
}
