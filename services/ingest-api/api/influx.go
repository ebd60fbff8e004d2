package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/harbor-ingest/harbor/pkg/format/lineproto"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/labstack/echo/v4"
)

// influxWriteRoutes are InfluxDB's write endpoints, and the query parameter
// that names the harbor (InfluxDB's bucket or database) on each.
var influxWriteRoutes = []struct{ path, harborParam string }{
	{"/api/v2/write", "bucket"}, // InfluxDB 2 clients, Telegraf's outputs.influxdb_v2
	{"/write", "db"},            // InfluxDB 1.x clients, Telegraf's outputs.influxdb
}

// influxRoutes serves line protocol on InfluxDB's write endpoints, answered
// as InfluxDB answers: 204 on success, errors in InfluxDB's body.
func influxRoutes(e *echo.Echo, h *handlers, auth echo.MiddlewareFunc) {
	answers := influxAnswers(retryAfterSeconds(h.cfg.RetryAfter.Seconds()))
	for _, r := range influxWriteRoutes {
		e.POST(r.path, h.influxWrite, answers, influxCredentials(r.harborParam), auth)
	}
}

// influxWrite stores the readings of a line protocol body. Under the
// partial policy, a body of which some readings were skipped is answered as
// InfluxDB answers a partial write: 400 "partial write", with what was
// skipped; the others are stored, and clients do not retry a 400.
func (h *handlers) influxWrite(c echo.Context) error {
	precision, err := lineproto.ParsePrecision(c.QueryParam("precision"))
	if err != nil {
		return problem(http.StatusBadRequest, err.Error())
	}
	decode := lineproto.Decoder(lineproto.Options{ShipTags: h.cfg.LineProtocolShipTags, Precision: precision})
	harborID := c.Get(ctxHarborID).(string)
	rules := h.rules(harborID)
	return h.withBody(c, harborID, rules.rates, func(body []byte) error {
		d, err := h.decodeAndStore(c, harborID, rules, "lineproto", decode, body)
		if err != nil {
			return err
		}
		if d.Skipped != nil {
			return problem(http.StatusBadRequest, "partial write: "+strconv.Itoa(len(d.Readings))+" readings stored, "+
				strconv.Itoa(d.Skipped.Count)+" invalid field(s) skipped", d.Skipped.Details...)
		}
		return c.NoContent(http.StatusNoContent)
	})
}

// influxCredentials finds the API key where InfluxDB clients send it when
// there is no X-API-Key: "Authorization: Token <key>" (InfluxDB 2, Telegraf),
// the password of basic auth, or the p parameter (InfluxDB 1.x; the user
// name is ignored). The harbor is the one the query parameter names, or,
// without it, the one the key opens.
func influxCredentials(harborParam string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.Header.Get("X-API-Key") == "" {
				if key := influxKey(req); key != "" {
					req.Header.Set("X-API-Key", key)
				}
			}
			if id := c.QueryParam(harborParam); id != "" {
				c.SetParamNames("harbor_id")
				c.SetParamValues(id)
			}
			return next(c)
		}
	}
}

func influxKey(req *http.Request) string {
	auth := req.Header.Get("Authorization")
	for _, scheme := range []string{"Token ", "Bearer "} {
		if len(auth) > len(scheme) && strings.EqualFold(auth[:len(scheme)], scheme) {
			return strings.TrimSpace(auth[len(scheme):])
		}
	}
	if _, password, ok := req.BasicAuth(); ok {
		return password
	}
	return req.URL.Query().Get("p")
}

// InfluxError is the body of an error answer on InfluxDB's write
// endpoints: code and message as InfluxDB 2 writes them (its clients and
// Telegraf show them), error as InfluxDB 1.x writes it, and Harbor's
// details.
type InfluxError struct {
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Error   string              `json:"error"`
	Details []schema.FieldError `json:"details"`
}

// influxCodes are InfluxDB's error codes of the statuses Harbor answers.
var influxCodes = map[int]string{
	http.StatusBadRequest:            "invalid",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not found",
	http.StatusRequestEntityTooLarge: "request too large",
	http.StatusUnsupportedMediaType:  "unsupported media type",
	http.StatusTooManyRequests:       "too many requests",
	http.StatusServiceUnavailable:    "unavailable",
}

// influxAnswers writes the errors of the routes it wraps as InfluxError
// bodies, with the message also in X-Influxdb-Error, and Retry-After on a
// 503 (a 429 has its own).
func influxAnswers(retryAfter string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			var he *echo.HTTPError
			if err == nil || !errors.As(err, &he) || c.Response().Committed {
				return err
			}
			body, ok := he.Message.(ErrorBody)
			if !ok {
				body = ErrorBody{Message: strings.ToLower(http.StatusText(he.Code)), Details: []schema.FieldError{}}
			}
			code, ok := influxCodes[he.Code]
			if !ok {
				code = "internal error"
			}
			hdr := c.Response().Header()
			if he.Code == http.StatusServiceUnavailable {
				hdr.Set("Retry-After", retryAfter)
			}
			hdr.Set("X-Influxdb-Error", body.Message)
			return c.JSON(he.Code, InfluxError{Code: code, Message: body.Message, Error: body.Message, Details: body.Details})
		}
	}
}
