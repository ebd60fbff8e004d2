package api

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// cors answers browsers' preflight requests and marks the answers of the
// ingest and read routes as readable by the allowed origins, so that a
// page's fetch() with an X-API-Key header works. The admin API is left
// out: it is for operators' tools, not pages.
func cors(allowOrigins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		Skipper:      func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/api/v1/admin") },
		AllowOrigins: allowOrigins,
		AllowMethods: []string{http.MethodGet, http.MethodPost, http.MethodOptions},
		AllowHeaders: []string{echo.HeaderContentType, "X-API-Key", "Idempotency-Key", echo.HeaderContentEncoding},
		// Clients read these to pace themselves.
		ExposeHeaders: []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining"},
		MaxAge:        86400,
	})
}
