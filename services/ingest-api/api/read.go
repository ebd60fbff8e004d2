package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/labstack/echo/v4"
)

// Reader answers the read API's queries; *reader.Reader is the real one.
type Reader interface {
	Ships(ctx context.Context, harborID string) ([]reader.Ship, error)
	Series(ctx context.Context, q reader.SeriesQuery) ([]reader.Point, error)
	Latest(ctx context.Context, harborID, shipID string) ([]reader.CargoValue, error)
}

// Series is the answer of a readings request.
type Series struct {
	HarborID string      `json:"harbor_id"`
	ShipID   string      `json:"ship_id"`
	CargoID  string      `json:"cargo_id"`
	From     reader.Time `json:"from"`
	To       reader.Time `json:"to"`
	// Step is a Go duration, "0s" for raw readings.
	Step string `json:"step"`
	Agg  string `json:"agg"`
	// Truncated says there were more raw readings than READ_MAX_POINTS:
	// the next ones start after the last point.
	Truncated bool           `json:"truncated"`
	Points    []reader.Point `json:"points"`
}

// Latest is the answer of a latest-values request.
type Latest struct {
	HarborID string              `json:"harbor_id"`
	ShipID   string              `json:"ship_id"`
	Cargos   []reader.CargoValue `json:"cargos"`
}

// readRoutes serves the readings back to keys with the read scope.
func readRoutes(e *echo.Echo, cfg Config, r Reader, keys Authenticator) {
	rd := &reads{cfg: cfg, reader: r}
	auth := authorize(keys, tenant.ScopeRead)
	const harbor = "/api/v1/harbors/:harbor_id"
	e.GET(harbor+"/ships", rd.ships, auth)
	e.GET(harbor+"/ships/:ship_id/cargos/:cargo_id/readings", rd.readings, auth)
	e.GET(harbor+"/ships/:ship_id/latest", rd.latest, auth)
}

type reads struct {
	cfg    Config
	reader Reader
}

func (rd *reads) ships(c echo.Context) error {
	ctx, cancel := rd.queryContext(c)
	defer cancel()
	ships, err := rd.reader.Ships(ctx, c.Get(ctxHarborID).(string))
	if err != nil {
		return readProblem(c, err)
	}
	return c.JSON(http.StatusOK, ships)
}

func (rd *reads) readings(c echo.Context) error {
	q, err := rd.seriesQuery(c, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := rd.queryContext(c)
	defer cancel()
	points, err := rd.reader.Series(ctx, q)
	if err != nil {
		return readProblem(c, err)
	}
	truncated := len(points) > rd.cfg.Read.MaxPoints
	return c.JSON(http.StatusOK, Series{
		HarborID: q.HarborID, ShipID: q.ShipID, CargoID: q.CargoID,
		From: reader.Time(q.From), To: reader.Time(q.To),
		Step: (time.Duration(q.Step) * time.Millisecond).String(), Agg: string(q.Agg),
		Truncated: truncated, Points: points[:min(len(points), rd.cfg.Read.MaxPoints)],
	})
}

func (rd *reads) latest(c echo.Context) error {
	harborID := c.Get(ctxHarborID).(string)
	shipID := pathID(c, "ship_id")
	if problems := checkIDs(rd.cfg.Limits, shipID, anyCargo); len(problems) > 0 {
		return paramProblem(problems)
	}
	ctx, cancel := rd.queryContext(c)
	defer cancel()
	values, err := rd.reader.Latest(ctx, harborID, shipID)
	if err != nil {
		return readProblem(c, err)
	}
	return c.JSON(http.StatusOK, Latest{HarborID: harborID, ShipID: shipID, Cargos: values})
}

// queryContext bounds a query by READ_QUERY_TIMEOUT.
func (rd *reads) queryContext(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), rd.cfg.Read.QueryTimeout)
}

// readProblem maps a failed read to its answer: 503 (with Retry-After) when
// a retry may work, else the error itself, a logged 500. The cause is
// logged, not shown: it names the database's servers.
func readProblem(c echo.Context, err error) error {
	if errors.Is(err, reader.ErrUnavailable) {
		logger(c).Warn("read failed", "err", err)
		return problem(http.StatusServiceUnavailable, "the readings cannot be read now; retry later")
	}
	return err
}
