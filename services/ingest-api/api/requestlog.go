package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// Keys of the echo.Context values that make the request's logger.
const (
	ctxLog       = "log"
	ctxRequestID = "request_id"
)

// requestLog gives every request an id (the client's X-Request-Id, or a new
// one, echoed in the answer) and a logger that carries it and the key's
// prefix, never the key. It logs each request at debug level, and server
// errors at warn.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			id := c.Request().Header.Get(echo.HeaderXRequestID)
			if id == "" || len(id) > 64 || !printableASCII(id) {
				id = newRequestID()
			}
			c.Response().Header().Set(echo.HeaderXRequestID, id)
			c.Set(ctxLog, log)
			c.Set(ctxRequestID, id)
			err := next(c)
			if err != nil {
				c.Error(err) // write the answer now, so its status is logged
			}
			level := slog.LevelDebug
			if c.Response().Status >= 500 {
				level = slog.LevelWarn
			}
			if log.Enabled(c.Request().Context(), level) {
				logger(c).Log(c.Request().Context(), level, "request",
					"method", c.Request().Method, "route", c.Path(), "status", c.Response().Status,
					"duration", time.Since(start), "harbor_id", c.Param("harbor_id"))
			}
			return nil
		}
	}
}

// KeyPrefix is the part of an API key that may be shown: its first 6
// characters at most, enough to tell keys apart and useless to an attacker.
func KeyPrefix(key string) string {
	if len(key) > 6 {
		return key[:6] + "…"
	}
	return "…"
}

func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// logger returns the request's logger: with its id and the key's prefix.
// It is made when something is logged, not for every request.
func logger(c echo.Context) *slog.Logger {
	l := c.Get(ctxLog).(*slog.Logger).With("request_id", c.Get(ctxRequestID))
	if key := c.Request().Header.Get("X-API-Key"); key != "" {
		l = l.With("key_prefix", KeyPrefix(key))
	}
	return l
}
