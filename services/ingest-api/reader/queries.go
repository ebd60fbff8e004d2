package reader

import (
	"context"
	"fmt"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Agg is how the readings of one step are summed up into a point.
type Agg string

// The aggregates; AggRaw returns the readings themselves.
const (
	AggRaw   Agg = "raw"
	AggAvg   Agg = "avg"
	AggMin   Agg = "min"
	AggMax   Agg = "max"
	AggLast  Agg = "last"
	AggCount Agg = "count"
)

// Aggs are the aggregates a SeriesQuery may ask for, AggRaw first.
var Aggs = []Agg{AggRaw, AggAvg, AggMin, AggMax, AggLast, AggCount}

// aggSQL is the SQL of each aggregate but AggRaw, given the expression of a
// row's time in milliseconds.
func aggSQL(a Agg, millis string) string {
	switch a {
	case AggAvg, AggMin, AggMax:
		return string(a) + "(value)"
	case AggLast:
		return "argMax(value, " + millis + ")"
	default: // AggCount
		return "toFloat64(count())"
	}
}

// SeriesQuery asks for the readings of one cargo in [From, To).
type SeriesQuery struct {
	HarborID, ShipID, CargoID string
	// From and To are Unix milliseconds, From included and To not.
	From, To int64
	// Agg sums up the readings of each Step (milliseconds; steps start at
	// multiples of it since the epoch). With AggRaw, Step is not used.
	Agg  Agg
	Step int64
	// Limit is the most points returned, the oldest first.
	Limit int
}

// Page asks for one page of a list ordered by id: at most Limit items whose
// id comes after After ("" for the first page). Keyset pagination: each page
// starts where the sort key says, however deep, and no item is skipped or
// repeated while others are added.
type Page struct {
	After string
	Limit int
}

// Ships returns a page of the ships of a harbor (ordered by ship_id), each
// with its cargos (ordered by cargo_id) and the time of their newest
// readings.
func (r *Reader) Ships(ctx context.Context, harborID string, p Page) ([]Ship, error) {
	// The subquery picks the page's ships from the sort key; GLOBAL runs it
	// once, not on every shard of a cluster (on one server it is a plain IN).
	sql := func(t schema.Table) string {
		return fmt.Sprintf(`SELECT ship_id, cargo_id, max(%[1]s) AS last_ms
FROM %[2]s
WHERE harbor_id = ? AND ship_id > ? AND ship_id GLOBAL IN (
    SELECT ship_id FROM %[2]s
    WHERE harbor_id = ? AND ship_id > ?
    GROUP BY ship_id
    ORDER BY ship_id
    LIMIT ?)
GROUP BY ship_id, cargo_id
ORDER BY ship_id, cargo_id`, t.TimeMillisSQL(), t.FullName())
	}
	ships := []Ship{}
	err := r.query(ctx, sql, []any{harborID, p.After, harborID, p.After, p.Limit}, func(rows driver.Rows) error {
		var shipID string
		var c Cargo
		if err := rows.Scan(&shipID, &c.CargoID, (*int64)(&c.LastSeen)); err != nil {
			return err
		}
		if len(ships) == 0 || ships[len(ships)-1].ShipID != shipID {
			ships = append(ships, Ship{ShipID: shipID})
		}
		s := &ships[len(ships)-1]
		s.Cargos = append(s.Cargos, c)
		s.LastSeen = max(s.LastSeen, c.LastSeen)
		return nil
	})
	return ships, err
}

// Series returns the points q asks for, the oldest first: the deduplicated
// readings, or one point per step that has readings.
func (r *Reader) Series(ctx context.Context, q SeriesQuery) ([]Point, error) {
	// The coarse bounds on time, in whole seconds, let ClickHouse skip what
	// the sort key excludes; the bounds on milliseconds are exact.
	where := []any{q.HarborID, q.ShipID, q.CargoID, q.From / 1000, q.To/1000 + 1, q.From, q.To}
	sql := func(t schema.Table) string {
		ms := t.TimeMillisSQL()
		point := ms + " AS t, value AS v"
		groupBy := ""
		if q.Agg != AggRaw {
			point = fmt.Sprintf("intDiv(%s, toInt64(?)) * toInt64(?) AS t, %s AS v", ms, aggSQL(q.Agg, ms))
			groupBy = "GROUP BY t\n"
		}
		return fmt.Sprintf(`SELECT %[1]s
FROM %[2]s FINAL
WHERE harbor_id = ? AND ship_id = ? AND cargo_id = ?
  AND time >= toDateTime(?) AND time < toDateTime(?)
  AND %[3]s >= ? AND %[3]s < ?
%[4]sORDER BY t
LIMIT ?`, point, t.FullName(), ms, groupBy)
	}
	args := slices.Concat(where, []any{q.Limit})
	if q.Agg != AggRaw {
		args = slices.Concat([]any{q.Step, q.Step}, args)
	}
	points := []Point{}
	err := r.query(ctx, sql, args, func(rows driver.Rows) error {
		var p Point
		err := rows.Scan((*int64)(&p.Time), &p.Value)
		points = append(points, p)
		return err
	})
	return points, err
}

// Latest returns the newest reading of a page of the cargos of a ship,
// ordered by cargo_id.
func (r *Reader) Latest(ctx context.Context, harborID, shipID string, p Page) ([]CargoValue, error) {
	sql := func(t schema.Table) string {
		ms := t.TimeMillisSQL()
		return fmt.Sprintf(`SELECT cargo_id, max(%[1]s) AS t, argMax(value, %[1]s) AS v
FROM %[2]s FINAL
WHERE harbor_id = ? AND ship_id = ? AND cargo_id > ?
GROUP BY cargo_id
ORDER BY cargo_id
LIMIT ?`, ms, t.FullName())
	}
	values := []CargoValue{}
	err := r.query(ctx, sql, []any{harborID, shipID, p.After, p.Limit}, func(rows driver.Rows) error {
		var v CargoValue
		err := rows.Scan(&v.CargoID, (*int64)(&v.Time), &v.Value)
		values = append(values, v)
		return err
	})
	return values, err
}
