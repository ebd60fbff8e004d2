package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format"
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
	// Skipped lists the invalid readings left out, for a harbor whose
	// policy is partial.
	Skipped []schema.FieldError `json:"skipped,omitempty"`
}

type handlers struct {
	cfg     Config
	pub     Publisher
	harbors Harbors
	limiter *limit.Limiter
	budget  *budget
	m       *metrics
}

// ingest is the handler of an ingest route that takes the formats: it
// reads the body, decodes it by its Content-Type and the harbor's rules,
// stores what it holds and answers 200 with what was accepted.
func (h *handlers) ingest(formats []bodyFormat) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := formatOf(formats, c.Request().Header.Get(echo.HeaderContentType))
		if err != nil {
			return err
		}
		harborID := c.Get(ctxHarborID).(string)
		rules := h.rules(harborID)
		return h.withBody(c, harborID, rules.rates, func(body []byte) error {
			d, err := h.decodeAndStore(c, harborID, rules, f.name, f.decode, body)
			if err != nil {
				return err
			}
			answer := Accepted{Status: "accepted", Count: len(d.Readings)}
			if d.Skipped != nil {
				answer.Skipped = d.Skipped.Details
			}
			return c.JSON(http.StatusOK, answer)
		})
	}
}

// decodeAndStore decodes a body of the format (named for Idempotency-Key
// fingerprints) by the harbor's rules, takes its readings from the
// harbor's rate and publishes them, returning once they are stored with
// what they were, or the error to answer.
func (h *handlers) decodeAndStore(c echo.Context, harborID string, rules harborRules, name string, decode format.Decoder, body []byte) (schema.Decoded, error) {
	d, err := decode(body, time.Now(), rules.options)
	if err != nil {
		return d, decodeProblem(err)
	}
	idem := idempotency(c, name, body)
	if len(d.Readings) == 0 { // a TTN uplink with nothing numeric: nothing to store, nothing to retry
		return d, nil
	}
	if err := h.rateLimit(c, harborID, rules.rates, len(d.Readings)); err != nil {
		return d, err
	}
	if err := h.pub.Publish(c.Request().Context(), harborID, d.Readings, idem); err != nil {
		var conflict *IdempotencyConflictError
		if errors.As(err, &conflict) {
			return d, problem(http.StatusConflict, conflict.Error())
		}
		logger(c).Warn("publish failed", "harbor_id", harborID, "readings", len(d.Readings), "err", err)
		return d, problem(http.StatusServiceUnavailable, "not stored: "+err.Error()+"; retry later")
	}
	h.m.readingsAccepted.WithLabelValues(harborID).Add(float64(len(d.Readings)))
	return d, nil
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
