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
	// Skipped lists the invalid readings left out, for a harbor whose
	// policy is partial.
	Skipped []schema.FieldError `json:"skipped,omitempty"`
}

type handlers struct {
	cfg     Config
	pub     Publisher
	harbors Harbors
	limiter *limit.Limiter
	m       *metrics
}

// ingest is the handler of an ingest route that takes the formats: it
// reads the body, decodes it by its Content-Type and the harbor's rules,
// and stores what it holds.
func (h *handlers) ingest(formats []bodyFormat) echo.HandlerFunc {
	return func(c echo.Context) error {
		decode, err := decoderFor(formats, c.Request().Header.Get(echo.HeaderContentType))
		if err != nil {
			return err
		}
		harborID := c.Get(ctxHarborID).(string)
		rules := h.rules(harborID)
		return withBody(c, h.cfg.MaxBodyBytes, func(body []byte) error {
			d, err := decode(body, time.Now(), rules.options)
			if err != nil {
				return decodeProblem(err)
			}
			return h.publish(c, harborID, rules, d)
		})
	}
}

func (h *handlers) publish(c echo.Context, harborID string, rules harborRules, d schema.Decoded) error {
	if err := h.store(c, harborID, rules, d); err != nil {
		return err
	}
	answer := Accepted{Status: "accepted", Count: len(d.Readings)}
	if d.Skipped != nil {
		answer.Skipped = d.Skipped.Details
	}
	return c.JSON(http.StatusOK, answer)
}

// store takes the readings of a request from the harbor's rate and
// publishes them, returning once they are stored, or the error to answer.
func (h *handlers) store(c echo.Context, harborID string, rules harborRules, d schema.Decoded) error {
	idem := c.Request().Header.Get("Idempotency-Key")
	if len(idem) > 128 || !printableASCII(idem) {
		return problem(http.StatusBadRequest, "Idempotency-Key must be at most 128 printable ASCII characters")
	}
	if len(d.Readings) == 0 { // a TTN uplink with nothing numeric: nothing to store, nothing to retry
		return nil
	}
	if err := h.rateLimit(c, harborID, rules.rates, len(d.Readings)); err != nil {
		return err
	}
	if err := h.pub.Publish(c.Request().Context(), harborID, d.Readings, idem); err != nil {
		logger(c).Warn("publish failed", "harbor_id", harborID, "readings", len(d.Readings), "err", err)
		return problem(http.StatusServiceUnavailable, "not stored: "+err.Error()+"; retry later")
	}
	h.m.readingsAccepted.WithLabelValues(harborID).Add(float64(len(d.Readings)))
	return nil
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
