package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the API's Prometheus metrics.
type metrics struct {
	requests         *prometheus.CounterVec
	duration         *prometheus.HistogramVec
	readingsAccepted *prometheus.CounterVec
	requestsRejected *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harbor_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "harbor_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"route"}),
		readingsAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harbor_readings_accepted_total",
			Help: "Readings stored in the stream, by harbor.",
		}, []string{"harbor_id"}),
		requestsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "harbor_requests_rejected_total",
			Help: "Ingest requests refused, by harbor (empty before authentication) and reason.",
		}, []string{"harbor_id", "reason"}),
	}
	reg.MustRegister(m.requests, m.duration, m.readingsAccepted, m.requestsRejected)
	return m
}

// rejectReasons names the reasons of refused requests by status code.
var rejectReasons = map[int]string{
	http.StatusBadRequest:            "invalid",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusRequestEntityTooLarge: "too_large",
	http.StatusUnsupportedMediaType:  "unsupported_media_type",
	http.StatusConflict:              "idempotency_conflict",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// middleware counts and times every request.
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		var he *echo.HTTPError
		switch {
		case errors.As(err, &he):
			status = he.Code
		case err != nil:
			status = http.StatusInternalServerError
		}
		route := c.Path()
		m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		if reason, ok := rejectReasons[status]; ok && c.Param("harbor_id") != "" {
			harborID, _ := c.Get(ctxHarborID).(string)
			m.requestsRejected.WithLabelValues(harborID, reason).Inc()
		}
		return err
	}
}
