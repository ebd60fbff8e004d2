package api

import (
	"encoding/base64"
	"fmt"
	"strconv"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/labstack/echo/v4"
)

// cursorKind is what a page's cursor points after: a ship or a cargo id.
type cursorKind string

// The cursors' kinds, which start their encoded text: a ship's cursor is
// refused where a cargo's is wanted.
const (
	shipCursor  cursorKind = "s"
	cargoCursor cursorKind = "c"
)

// page reads limit (default READ_DEFAULT_LIMIT, at most READ_MAX_LIMIT) and
// cursor (the next_cursor of an earlier answer, absent for the first page).
// The reader is asked for one item more than limit: that one tells whether
// more remain.
func (rd *reads) page(c echo.Context, kind cursorKind) (reader.Page, []schema.FieldError) {
	limit := rd.cfg.Read.DefaultLimit
	var problems []schema.FieldError
	if s := c.QueryParam("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > rd.cfg.Read.MaxLimit {
			problems = fieldProblem("limit", errTypeValue, fmt.Sprintf("limit must be a whole number from 1 to %d (READ_MAX_LIMIT)", rd.cfg.Read.MaxLimit))
		}
		limit = n
	}
	after, ok := decodeCursor(c.QueryParam("cursor"), kind, rd.cfg.Limits)
	if !ok {
		problems = append(problems, fieldProblem("cursor", errTypeValue, "cursor must be the next_cursor of an earlier answer of this route, unchanged")...)
	}
	return reader.Page{After: after, Limit: limit + 1}, problems
}

// nextPage cuts the items the reader returned for p to the page asked for,
// and returns the cursor of the next page, "" if none remain.
func nextPage[T any](items []T, p reader.Page, kind cursorKind, id func(T) string) ([]T, string) {
	limit := p.Limit - 1
	if len(items) <= limit {
		return items, ""
	}
	items = items[:limit]
	return items, encodeCursor(kind, id(items[limit-1]))
}

// encodeCursor is the opaque cursor of the page after the id: its kind and
// the id, base64url-encoded. Clients must not rely on its form.
func encodeCursor(kind cursorKind, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(string(kind) + id))
}

// decodeCursor returns the id a cursor of kind points after ("" for no
// cursor); ok is false for a cursor the API cannot have given, of another
// kind or with an id no reading can have.
func decodeCursor(cursor string, kind cursorKind, lim schema.Limits) (id string, ok bool) {
	if cursor == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) < len(kind) || string(b[:len(kind)]) != string(kind) {
		return "", false
	}
	id = string(b[len(kind):])
	return id, len(checkIDs(lim, id, anyCargo)) == 0
}
