package api

import (
	"net/http"
	"strconv"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
)

// Harbors gives the harbors' own settings.
type Harbors interface {
	Harbor(id string) (tenant.Harbor, bool)
}

// harborRules are the rules a harbor's requests are held to: its own
// limits and policy, or the configured defaults for what it does not set.
type harborRules struct {
	rates   limit.Rates
	options schema.Options
}

func (h *handlers) rules(harborID string) harborRules {
	r := harborRules{
		rates:   limit.Rates{ReadingsPerSecond: h.cfg.DefaultReadingsPerSecond, RequestsPerSecond: h.cfg.DefaultRequestsPerSecond},
		options: schema.Options{Limits: h.cfg.Limits, MaxLen: h.cfg.MaxBatchLen},
	}
	if hb, ok := h.harbors.Harbor(harborID); ok {
		if hb.Limits.ReadingsPerSecond > 0 {
			r.rates.ReadingsPerSecond = hb.Limits.ReadingsPerSecond
		}
		if hb.Limits.RequestsPerSecond > 0 {
			r.rates.RequestsPerSecond = hb.Limits.RequestsPerSecond
		}
		if hb.Limits.MaxBatchLen > 0 {
			r.options.MaxLen = hb.Limits.MaxBatchLen
		}
		if hb.Partial {
			r.options.Policy = schema.Partial
		}
	}
	return r
}

// rateLimit takes n readings from the harbor's budget, setting the
// X-RateLimit headers, or returns the 429 that refuses them.
func (h *handlers) rateLimit(c echo.Context, harborID string, rates limit.Rates, n int) error {
	return rateAnswer(c, harborID, h.limiter.Allow(harborID, rates, n))
}

// admit refuses, before its body is read, a request of a harbor that has no
// request or no reading left in its buckets (429, as rateLimit would).
func (h *handlers) admit(c echo.Context, harborID string, rates limit.Rates) error {
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
