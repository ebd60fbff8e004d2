package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/writer/pipeline"
)

// rowErrorCodes are the ClickHouse exceptions about the values of rows
// (what a materialized column's throwIf, a constraint or a conversion
// refuses): the same rows are refused again, other rows are not.
var rowErrorCodes = map[int32]string{
	6:   "CANNOT_PARSE_TEXT",
	27:  "CANNOT_PARSE_INPUT_ASSERTION_FAILED",
	38:  "CANNOT_PARSE_DATE",
	41:  "CANNOT_PARSE_DATETIME",
	69:  "ARGUMENT_OUT_OF_BOUND",
	70:  "CANNOT_CONVERT_TYPE",
	72:  "CANNOT_PARSE_NUMBER",
	117: "INCORRECT_DATA",
	131: "TOO_LARGE_STRING_SIZE",
	153: "ILLEGAL_DIVISION",
	321: "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE",
	349: "CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN",
	395: "FUNCTION_THROW_IF_VALUE_IS_NON_ZERO",
	407: "DECIMAL_OVERFLOW",
	469: "VIOLATED_CONSTRAINT",
}

// blockingCodes are the ClickHouse exceptions that refuse every insert
// until an operator acts on the server, the user or the table.
var blockingCodes = map[int32]string{
	164: "READONLY",
	192: "UNKNOWN_USER",
	193: "WRONG_PASSWORD",
	242: "TABLE_IS_READ_ONLY",
	243: "NOT_ENOUGH_SPACE",
	497: "ACCESS_DENIED",
	516: "AUTHENTICATION_FAILED",
}

// refusal reports whether err is ClickHouse's (or the client's) refusal of
// the insert rather than a connection problem, and returns the refusal.
func refusal(err error) (error, bool) {
	var ex *proto.Exception
	if errors.As(err, &ex) {
		return ex, true
	}
	var conv *column.ColumnConverterError
	var colErr *column.Error
	var unsupported *column.UnsupportedColumnTypeError
	for _, target := range []any{&conv, &colErr, &unsupported} {
		if errors.As(err, target) {
			return err, true
		}
	}
	return nil, false
}

// explain classifies a failed insert for the pipeline (see pipeline.Sink).
// A refusal makes it look at the table: a missing table (or database) is
// created again and retry is true; columns that no longer match the schema
// wrap pipeline.ErrCannotWrite with what differs; an exception about the
// values wraps pipeline.ErrRowsRefused with the server's message. Anything
// else, or a table it cannot look at, is returned as it is: transient.
func (s *Store) explain(ctx context.Context, err error, mayCreate bool) (_ error, retry bool) {
	refused, ok := refusal(err)
	if !ok {
		return err, false
	}
	var ex *proto.Exception
	isException := errors.As(refused, &ex)
	if isException {
		if name, ok := blockingCodes[ex.Code]; ok {
			return fmt.Errorf("%w: ClickHouse refuses every insert (%s): %w; fix the server's user or table, the writer retries", pipeline.ErrCannotWrite, name, err), false
		}
	}
	actual, cerr := s.columns(ctx)
	if cerr != nil {
		return err, false // ClickHouse does not answer: try again later
	}
	target := s.insertTarget()
	if len(actual) == 0 && mayCreate {
		if cerr := s.createSchema(ctx); cerr != nil {
			return fmt.Errorf("%w; table %s is missing and creating it failed: %w", err, target.FullName(), cerr), false
		}
		s.log.Warn("table was missing: created it again", "table", target.FullName(), "insert_error", err)
		return err, true
	}
	if problems := target.CompareColumns(actual); len(problems) > 0 {
		return fmt.Errorf("%w: table %s does not match the writer's schema: %s; ALTER it back (or drop it to have it created again) and the writer resumes by itself (insert error: %w)",
			pipeline.ErrCannotWrite, target.FullName(), strings.Join(problems, "; "), err), false
	}
	if isException {
		if _, ok := rowErrorCodes[ex.Code]; !ok {
			return err, false
		}
	}
	// With the table as it should be, a client-side conversion error is
	// about the values too.
	return fmt.Errorf("%w: %w", pipeline.ErrRowsRefused, refused), false
}

// insertTarget is the table inserts go to, as a Table of its own, with
// Name the table that holds the columns inserts name.
func (s *Store) insertTarget() schema.Table {
	t := s.table
	if !t.Cluster.InsertDistributed {
		t.Name = t.LocalName()
	}
	t.Cluster = schema.Cluster{}
	return t
}

// columns reads the insert target's columns and types (see ColumnTypes).
func (s *Store) columns(ctx context.Context) (map[string]string, error) {
	return ColumnTypes(ctx, s.conn, s.insertTarget())
}

// ColumnTypes reads the columns of table t and their types from
// system.columns, by name; none if the table (or its database) does not
// exist.
func ColumnTypes(ctx context.Context, conn driver.Conn, t schema.Table) (map[string]string, error) {
	rows, err := conn.Query(ctx, "SELECT name, type FROM system.columns WHERE database = ? AND table = ?", t.Database, t.Name)
	if err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", t.FullName(), err)
	}
	defer rows.Close()
	types := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("read the columns of %s: %w", t.FullName(), err)
		}
		types[name] = typ
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the columns of %s: %w", t.FullName(), err)
	}
	return types, nil
}
