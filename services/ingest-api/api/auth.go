package api

import (
	"net/http"
	"slices"

	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/labstack/echo/v4"
)

// ctxHarborID is the echo.Context key of the authorized harbor.
const ctxHarborID = "harbor_id"

// authorize checks the X-API-Key header and that it opens the harbor in the
// path with the scope: 401 without a known key, 400 for a malformed
// harbor_id, 403 for a key of another harbor or without the scope. On a
// path that names no harbor, the harbor is the one the key opens (each key
// opens exactly one).
func authorize(keys Authenticator, scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get("X-API-Key")
			if key == "" {
				return problem(http.StatusUnauthorized, "missing API key: send it in the X-API-Key header")
			}
			k, ok := keys.Authenticate(key)
			if !ok {
				return problem(http.StatusUnauthorized, "unknown or revoked API key")
			}
			harborID := c.Param("harbor_id")
			if !slices.Contains(c.ParamNames(), "harbor_id") {
				harborID = k.HarborID
			}
			if !tenant.HarborIDPattern.MatchString(harborID) {
				return problem(http.StatusBadRequest, "harbor_id must be 1 to 64 letters, digits, '-' or '_'")
			}
			if harborID != k.HarborID {
				return problem(http.StatusForbidden, "this API key does not open harbor "+harborID)
			}
			if !k.Has(scope) {
				return problem(http.StatusForbidden, "this API key lacks the "+scope+" scope")
			}
			c.Set(ctxHarborID, harborID)
			return next(c)
		}
	}
}
