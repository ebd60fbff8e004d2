package api

import (
	"context"
	"net/http"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
)

// Publisher stores readings durably, returning only once they are stored.
type Publisher interface {
	// Publish stores the readings of one request for a harbor. A non-empty
	// idempotencyKey makes a retry of the same request within the stream's
	// duplicate window a no-op. An error means the client should retry.
	Publish(ctx context.Context, harborID string, readings []schema.Reading, idempotencyKey string) error
	// Ready reports whether Publish can work now.
	Ready(ctx context.Context) error
}

// Accepted is the body of a 200 answer.
type Accepted struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

type handlers struct {
	cfg     Config
	pub     Publisher
	harbors Harbors
	limiter *limit.Limiter
	budget  *budget
	m       *metrics
}

func (h *handlers) ingestOne(c echo.Context) error {
	return h.withBody(c, func(body []byte) error {
		r, err := schema.DecodeReading(body, time.Now(), h.cfg.Limits)
		if err != nil {
			return decodeProblem(err)
		}
		return h.publish(c, []schema.Reading{r})
	})
}

func (h *handlers) ingestBatch(c echo.Context) error {
	_, maxLen := h.harborLimits(c.Get(ctxHarborID).(string))
	return h.withBody(c, func(body []byte) error {
		readings, err := schema.DecodeBatch(body, time.Now(), h.cfg.Limits, maxLen)
		if err != nil {
			return decodeProblem(err)
		}
		return h.publish(c, readings)
	})
}

func (h *handlers) publish(c echo.Context, readings []schema.Reading) error {
	idem := c.Request().Header.Get("Idempotency-Key")
	if len(idem) > 128 || !printableASCII(idem) {
		return problem(http.StatusBadRequest, "Idempotency-Key must be at most 128 printable ASCII characters")
	}
	harborID := c.Get(ctxHarborID).(string)
	if err := h.rateLimit(c, harborID, len(readings)); err != nil {
		return err
	}
	if err := h.pub.Publish(c.Request().Context(), harborID, readings, idem); err != nil {
		logger(c).Warn("publish failed", "harbor_id", harborID, "readings", len(readings), "err", err)
		return problem(http.StatusServiceUnavailable, "not stored: "+err.Error()+"; retry later")
	}
	h.m.readingsAccepted.WithLabelValues(harborID).Add(float64(len(readings)))
	return c.JSON(http.StatusOK, Accepted{Status: "accepted", Count: len(readings)})
}

func (h *handlers) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (h *handlers) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.pub.Ready(ctx); err != nil {
		return problem(http.StatusServiceUnavailable, "not ready: "+err.Error())
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
