package api

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/labstack/echo/v4"
)

// defaultRange is how far back from goes when a request does not say.
const defaultRange = time.Hour

// anyCargo stands in for the cargo_id of a request that names only a ship:
// a valid id, so that checkIDs reports on the ship alone.
const anyCargo = "-"

// errTypeValue is the FieldError type of a parameter that is none of the
// values it may take.
const errTypeValue = "value_error"

// The times a request may ask for: the table's time columns start at the
// epoch, and DateTime (which bounds the queries) ends in 2106.
var (
	earliestReadTime = time.Unix(0, 0)
	latestReadTime   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// seriesQuery reads and checks the parameters of a readings request. The
// error is the 400 answer that lists every problem found.
func (rd *reads) seriesQuery(c echo.Context, now time.Time) (reader.SeriesQuery, error) {
	q := reader.SeriesQuery{
		HarborID: c.Get(ctxHarborID).(string),
		ShipID:   pathID(c, "ship_id"),
		CargoID:  pathID(c, "cargo_id"),
		Limit:    rd.cfg.Read.MaxPoints + 1, // one more tells that raw readings were cut off
	}
	problems := checkIDs(rd.cfg.Limits, q.ShipID, q.CargoID)
	from, to, timeProblems := rd.timeRange(c, now)
	q.From, q.To = from.UnixMilli(), to.UnixMilli()
	var stepProblems []schema.FieldError
	q.Agg, q.Step, stepProblems = rd.aggAndStep(c)
	problems = slices.Concat(problems, timeProblems, stepProblems)
	if len(problems) > 0 {
		return q, paramProblem(problems)
	}
	if q.Agg != reader.AggRaw {
		q.Step = capStep(q.From, q.To, q.Step, rd.cfg.Read.MaxPoints)
	}
	return q, nil
}

// timeRange reads from and to (RFC 3339): to defaults to now, from to an
// hour before to. From is included, to is not.
func (rd *reads) timeRange(c echo.Context, now time.Time) (from, to time.Time, problems []schema.FieldError) {
	to, toProblems := timeParam(c, "to", now)
	from, fromProblems := timeParam(c, "from", to.Add(-defaultRange))
	if problems = slices.Concat(fromProblems, toProblems); len(problems) > 0 {
		return from, to, problems
	}
	switch {
	case from.Before(earliestReadTime) || !to.Before(latestReadTime):
		problems = fieldProblem("from", schema.TypeTimeRange, "from and to must lie between 1970-01-01 and 2100-01-01")
	case !to.After(from):
		problems = fieldProblem("to", schema.TypeTimeRange, "to must be after from")
	case to.Sub(from) > rd.cfg.Read.MaxRange:
		problems = fieldProblem("to", schema.TypeTimeRange, fmt.Sprintf("from and to are more than %s apart (READ_MAX_RANGE): ask for a shorter range", rd.cfg.Read.MaxRange))
	}
	return from, to, problems
}

// timeParam reads the query parameter name as an RFC 3339 time, or returns
// def when it is absent.
func timeParam(c echo.Context, name string, def time.Time) (time.Time, []schema.FieldError) {
	s := c.QueryParam(name)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return def, fieldProblem(name, schema.TypeTimeFormat, name+" must be RFC 3339 with a zone, e.g. 2026-11-25T12:00:00.250Z (in a URL, write + as %2B)")
	}
	return t, nil
}

// aggAndStep reads agg and step. Without either the answer is raw
// readings; a step without agg averages; an agg without step gets the
// step capStep chooses (0 here).
func (rd *reads) aggAndStep(c echo.Context) (reader.Agg, int64, []schema.FieldError) {
	aggParam, stepParam := c.QueryParam("agg"), c.QueryParam("step")
	agg := reader.Agg(aggParam)
	switch {
	case aggParam == "" && stepParam == "":
		return reader.AggRaw, 0, nil
	case aggParam == "":
		agg = reader.AggAvg
	case !slices.Contains(reader.Aggs, agg):
		return agg, 0, fieldProblem("agg", errTypeValue, fmt.Sprintf("agg must be one of %v", reader.Aggs))
	case agg == reader.AggRaw:
		return agg, 0, fieldProblem("step", errTypeValue, "raw readings have no step: leave step out, or ask for an agg")
	}
	if stepParam == "" {
		return agg, 0, nil
	}
	step, ok := parseStep(stepParam, rd.cfg.Read.MaxRange)
	if !ok {
		return agg, 0, fieldProblem("step", errTypeValue, fmt.Sprintf("step must be a duration (90s, 5m, 1h) or a number of seconds, from 1ms to %s (READ_MAX_RANGE)", rd.cfg.Read.MaxRange))
	}
	return agg, step, nil
}

// parseStep reads a step, a Go duration or a number of seconds, in whole
// milliseconds from 1 to most.
func parseStep(s string, most time.Duration) (int64, bool) {
	d, err := time.ParseDuration(s)
	if err != nil {
		seconds, err := strconv.ParseFloat(s, 64)
		if err != nil || !(seconds > 0 && seconds <= most.Seconds()) { // NaN and infinities too
			return 0, false
		}
		d = time.Duration(seconds * float64(time.Second))
	}
	return d.Milliseconds(), d >= time.Millisecond && d <= most
}

// capStep returns step, raised when need be so that [from, to) has at most
// maxPoints steps; a step of 0 asks for the smallest such step. A raised
// step is a whole number of seconds.
func capStep(from, to, step int64, maxPoints int) int64 {
	if step > 0 && (to-1)/step-from/step+1 <= int64(maxPoints) {
		return step
	}
	// The steps that [from, to) touches number at most (to-from-1)/step + 2,
	// no more than maxPoints once step >= (to-from)/(maxPoints-1).
	least := ceilDiv(to-from, int64(maxPoints-1))
	return ceilDiv(least, 1000) * 1000
}

func ceilDiv(a, b int64) int64 { return (a + b - 1) / b }

// pathID returns a path parameter decoded. Echo leaves it as sent when the
// client escaped it otherwise than Go would (a "%2F", or a bare "'").
func pathID(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath == "" {
		return v
	}
	if decoded, err := url.PathUnescape(v); err == nil {
		return decoded
	}
	return v
}

// checkIDs checks a ship and a cargo id with ingest's own rules: an id no
// reading can have is refused the same way, with the same details.
func checkIDs(lim schema.Limits, shipID, cargoID string) []schema.FieldError {
	var problems []schema.FieldError
	for _, id := range [][2]string{{"ship_id", shipID}, {"cargo_id", cargoID}} {
		if p := schema.CheckID(id[0], id[1], lim); p != nil {
			problems = append(problems, *p)
		}
	}
	return problems
}

// fieldProblem is the one problem of a parameter.
func fieldProblem(name, typ, msg string) []schema.FieldError {
	return []schema.FieldError{{Loc: []string{name}, Msg: msg, Type: typ}}
}

// paramProblem is the 400 answer that lists the problems of a request's
// parameters.
func paramProblem(problems []schema.FieldError) error {
	return problem(http.StatusBadRequest, fmt.Sprintf("%d invalid parameter(s)", len(problems)), problems...)
}
