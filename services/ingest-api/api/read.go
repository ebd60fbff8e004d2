package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/labstack/echo/v4"
)

// Reader answers the read API's queries; *reader.Reader is the real one.
type Reader interface {
	Ships(ctx context.Context, harborID string, p reader.Page) ([]reader.Ship, error)
	Series(ctx context.Context, q reader.SeriesQuery) ([]reader.Point, error)
	Latest(ctx context.Context, harborID, shipID string, p reader.Page) ([]reader.CargoValue, error)
}

// Ships is the answer of a ships request: a page of the harbor's ships.
type Ships struct {
	HarborID string        `json:"harbor_id"`
	Ships    []reader.Ship `json:"ships"`
	// NextCursor, when more ships remain, is the cursor of the next page.
	NextCursor string `json:"next_cursor,omitempty"`
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
	// NextCursor, when more cargos remain, is the cursor of the next page.
	NextCursor string `json:"next_cursor,omitempty"`
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
	harborID := c.Get(ctxHarborID).(string)
	page, problems := rd.page(c, shipCursor)
	if len(problems) > 0 {
		return paramProblem(problems)
	}
	ships, err := rd.reader.Ships(c.Request().Context(), harborID, page)
	if err != nil {
		return rd.readProblem(c, err)
	}
	ships, next := nextPage(ships, page, shipCursor, func(s reader.Ship) string { return s.ShipID })
	return c.JSON(http.StatusOK, Ships{HarborID: harborID, Ships: ships, NextCursor: next})
}

func (rd *reads) readings(c echo.Context) error {
	q, err := rd.seriesQuery(c, time.Now())
	if err != nil {
		return err
	}
	points, err := rd.reader.Series(c.Request().Context(), q)
	if err != nil {
		return rd.readProblem(c, err)
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
	page, pageProblems := rd.page(c, cargoCursor)
	if problems := slices.Concat(checkIDs(rd.cfg.Limits, shipID, anyCargo), pageProblems); len(problems) > 0 {
		return paramProblem(problems)
	}
	values, err := rd.reader.Latest(c.Request().Context(), harborID, shipID, page)
	if err != nil {
		return rd.readProblem(c, err)
	}
	values, next := nextPage(values, page, cargoCursor, func(v reader.CargoValue) string { return v.CargoID })
	return c.JSON(http.StatusOK, Latest{HarborID: harborID, ShipID: shipID, Cargos: values, NextCursor: next})
}

// readProblem maps a failed read to its answer: 503 (with Retry-After) when
// a retry may work, 400 for an answer too long for READ_MAX_RESULT_ROWS,
// else the error itself, a logged 500. The cause is logged, not shown: it
// names the database's servers.
func (rd *reads) readProblem(c echo.Context, err error) error {
	answer := rd.limitProblem(err)
	if answer == nil {
		return err
	}
	logger(c).Warn("read failed", "err", err)
	return answer
}

// limitProblem is the answer to a read that failed for a reason a client
// can act on, or nil.
func (rd *reads) limitProblem(err error) error {
	switch {
	case errors.Is(err, reader.ErrBusy):
		return problem(http.StatusServiceUnavailable, fmt.Sprintf(
			"too many reads at once (READ_MAX_CONCURRENT_QUERIES is %d); retry later", rd.cfg.Read.Query.MaxConcurrent))
	case errors.Is(err, reader.ErrTooManyRows):
		return problem(http.StatusBadRequest, fmt.Sprintf(
			"the answer would have more than %d rows (READ_MAX_RESULT_ROWS): ask for a smaller limit", rd.cfg.Read.Query.MaxResultRows))
	case errors.Is(err, reader.ErrTooMuchMemory):
		return problem(http.StatusServiceUnavailable, fmt.Sprintf(
			"the read needs more memory than ClickHouse grants it (READ_MAX_MEMORY_BYTES is %d): ask for a smaller limit or a shorter range, or retry later", rd.cfg.Read.Query.MaxMemoryBytes))
	case errors.Is(err, reader.ErrUnavailable):
		return problem(http.StatusServiceUnavailable, "the readings cannot be read now; retry later")
	}
	return nil
}
