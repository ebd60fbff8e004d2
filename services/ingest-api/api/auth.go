package api

import (
	"net/http"
	"regexp"

	"github.com/labstack/echo/v4"
)

// harborIDPattern is what a harbor_id may be: it becomes a NATS subject token
// and a ClickHouse value, so only letters, digits, '-' and '_'.
var harborIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ctxHarborID is the echo.Context key of the authorized harbor.
const ctxHarborID = "harbor_id"

// authorize checks the X-API-Key header and that it opens the harbor in the
// path: 401 without a known key, 400 for a malformed harbor_id, 403 for a
// key of another harbor.
func authorize(keys *Keys) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get("X-API-Key")
			if key == "" {
				return problem(http.StatusUnauthorized, "missing API key: send it in the X-API-Key header")
			}
			allowed, ok := keys.Harbor(key)
			if !ok {
				return problem(http.StatusUnauthorized, "unknown API key")
			}
			harborID := c.Param("harbor_id")
			if !harborIDPattern.MatchString(harborID) {
				return problem(http.StatusBadRequest, "harbor_id must be 1 to 64 letters, digits, '-' or '_'")
			}
			if harborID != allowed {
				return problem(http.StatusForbidden, "this API key does not open harbor "+harborID)
			}
			c.Set(ctxHarborID, harborID)
			return next(c)
		}
	}
}
