package api

import (
	"net/http"
	"strconv"

	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
)

// Harbors gives the harbors' own settings.
type Harbors interface {
	Harbor(id string) (tenant.Harbor, bool)
}

// harborLimits are the limits that apply to a harbor: its own, or the
// configured defaults for what it does not set.
func (h *handlers) harborLimits(harborID string) (limit.Rates, int) {
	r := limit.Rates{ReadingsPerSecond: h.cfg.DefaultReadingsPerSecond, RequestsPerSecond: h.cfg.DefaultRequestsPerSecond}
	maxLen := h.cfg.MaxBatchLen
	if hb, ok := h.harbors.Harbor(harborID); ok {
		if hb.Limits.ReadingsPerSecond > 0 {
			r.ReadingsPerSecond = hb.Limits.ReadingsPerSecond
		}
		if hb.Limits.RequestsPerSecond > 0 {
			r.RequestsPerSecond = hb.Limits.RequestsPerSecond
		}
		if hb.Limits.MaxBatchLen > 0 {
			maxLen = hb.Limits.MaxBatchLen
		}
	}
	return r, maxLen
}

// rateLimit takes n readings from the harbor's budget, setting the
// X-RateLimit headers, or returns the 429 that refuses them.
func (h *handlers) rateLimit(c echo.Context, harborID string, n int) error {
	rates, _ := h.harborLimits(harborID)
	return rateAnswer(c, harborID, h.limiter.Allow(harborID, rates, n))
}

// admit refuses, before its body is read, a request of a harbor that has no
// request or no reading left in its buckets (429, as rateLimit would).
func (h *handlers) admit(c echo.Context, harborID string) error {
	rates, _ := h.harborLimits(harborID)
	return rateAnswer(c, harborID, h.limiter.Admit(harborID, rates))
}

// rateAnswer sets the X-RateLimit headers of the decision and returns the
// 429 of a refusal.
func rateAnswer(c echo.Context, harborID string, d limit.Decision) error {
	if d.Limit > 0 {
		hdr := c.Response().Header()
		hdr.Set("X-RateLimit-Limit", strconv.Itoa(d.Limit))
		hdr.Set("X-RateLimit-Remaining", strconv.Itoa(d.Remaining))
	}
	if d.Allowed {
		return nil
	}
	c.Response().Header().Set("Retry-After", retryAfterSeconds(d.RetryAfter.Seconds()))
	return problem(http.StatusTooManyRequests, "harbor "+harborID+" is over its rate limit; nothing was stored, retry after the Retry-After seconds")
}
