package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
)

// Publisher stores readings durably, returning only once they are stored.
type Publisher interface {
	// Publish stores the readings of one request for a harbor. An
	// Idempotency with a Key makes a retry of the same request within the
	// stream's duplicate window a no-op, and answers a different request
	// with that key *IdempotencyConflictError. Any other error means the
	// client should retry.
	Publish(ctx context.Context, harborID string, readings []schema.Reading, idem Idempotency) error
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
	m       *metrics
}

func (h *handlers) ingestOne(c echo.Context) error {
	return withBody(c, h.cfg.MaxBodyBytes, func(body []byte) error {
		r, err := schema.DecodeReading(body, time.Now(), h.cfg.Limits)
		if err != nil {
			return decodeProblem(err)
		}
		return h.publish(c, "one", body, []schema.Reading{r})
	})
}

func (h *handlers) ingestBatch(c echo.Context) error {
	_, maxLen := h.harborLimits(c.Get(ctxHarborID).(string))
	return withBody(c, h.cfg.MaxBodyBytes, func(body []byte) error {
		readings, err := schema.DecodeBatch(body, time.Now(), h.cfg.Limits, maxLen)
		if err != nil {
			return decodeProblem(err)
		}
		return h.publish(c, "batch", body, readings)
	})
}

// publish stores the readings of a request to endpoint ("one", "batch")
// with its body.
func (h *handlers) publish(c echo.Context, endpoint string, body []byte, readings []schema.Reading) error {
	idem, err := idempotency(c, endpoint, body)
	if err != nil {
		return err
	}
	harborID := c.Get(ctxHarborID).(string)
	if err := h.rateLimit(c, harborID, len(readings)); err != nil {
		return err
	}
	if err := h.pub.Publish(c.Request().Context(), harborID, readings, idem); err != nil {
		var conflict *IdempotencyConflictError
		if errors.As(err, &conflict) {
			return problem(http.StatusConflict, conflict.Error())
		}
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
