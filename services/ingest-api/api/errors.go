package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/labstack/echo/v4"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Message string              `json:"message"`
	Details []schema.FieldError `json:"details"`
}

// problem returns an error that the error handler turns into an ErrorBody.
func problem(status int, message string, details ...schema.FieldError) *echo.HTTPError {
	if details == nil {
		details = []schema.FieldError{}
	}
	return echo.NewHTTPError(status, ErrorBody{Message: message, Details: details})
}

// decodeProblem maps an error of the schema decoders to its answer.
func decodeProblem(err error) *echo.HTTPError {
	var invalid *schema.InvalidError
	var tooLong *schema.TooLongError
	switch {
	case errors.As(err, &invalid):
		return problem(http.StatusBadRequest, invalid.Error(), invalid.Details...)
	case errors.As(err, &tooLong):
		return problem(http.StatusRequestEntityTooLarge, tooLong.Error())
	default: // ErrMalformed, ErrEmptyBatch
		return problem(http.StatusBadRequest, err.Error())
	}
}

// errorHandler writes every error, Echo's own (404, 405) included, in the
// ErrorBody shape.
func errorHandler(retryAfter string, log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, body := http.StatusInternalServerError, ErrorBody{Message: "internal error", Details: []schema.FieldError{}}
		var he *echo.HTTPError
		if errors.As(err, &he) {
			status = he.Code
			switch m := he.Message.(type) {
			case ErrorBody:
				body = m
			default:
				body.Message = strings.ToLower(http.StatusText(status))
			}
		} else {
			log.Error("request failed", "path", c.Path(), "err", err)
		}
		if status == http.StatusServiceUnavailable {
			c.Response().Header().Set("Retry-After", retryAfter)
		}
		if err := c.JSON(status, body); err != nil {
			log.Debug("write error answer", "err", err)
		}
	}
}

// retryAfterSeconds formats a Retry-After value, at least one second.
func retryAfterSeconds(seconds float64) string {
	return strconv.Itoa(max(1, int(seconds+0.999)))
}
