package schema

import (
	"fmt"
	"strings"
)

// TableColumn is a column of the readings table: its name, its type as
// ClickHouse reports it in system.columns, and its compression codec (empty
// for the server's default).
type TableColumn struct {
	Name, Type, Codec string
}

// TableColumns is every column of the table's variant, in the order of the
// table and of InsertSQL.
func (t Table) TableColumns() []TableColumn {
	if t.Legacy {
		return []TableColumn{
			{Name: "harbor_id", Type: "String"},
			{Name: "ship_id", Type: "String"},
			{Name: "cargo_id", Type: "String"},
			{Name: "time", Type: "DateTime('UTC')"},
			{Name: "time_ms", Type: "UInt16"},
			{Name: "value", Type: "Float64"},
		}
	}
	return []TableColumn{
		{Name: "harbor_id", Type: "LowCardinality(String)"},
		{Name: "ship_id", Type: "String", Codec: "ZSTD(1)"},
		{Name: "cargo_id", Type: "LowCardinality(String)"},
		{Name: "time", Type: "DateTime64(3, 'UTC')", Codec: "DoubleDelta, ZSTD(1)"},
		{Name: "value", Type: "Float64", Codec: "Gorilla, ZSTD(1)"},
	}
}

// columnsDDL is the column list of CREATE TABLE, one column a line.
func (t Table) columnsDDL() string {
	lines := make([]string, 0, 6)
	for _, c := range t.TableColumns() {
		line := fmt.Sprintf("    %-9s %s", c.Name, c.Type)
		if c.Codec != "" {
			line += " CODEC(" + c.Codec + ")"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, ",\n")
}

// columnNames is the column list of INSERT.
func (t Table) columnNames() string {
	names := make([]string, 0, 6)
	for _, c := range t.TableColumns() {
		names = append(names, c.Name)
	}
	return strings.Join(names, ", ")
}

// CompareColumns says how the columns a server reports for the table
// (name to type, as in system.columns) differ from TableColumns, one
// problem each, such as "column value is String, want Float64". Columns
// the table has besides these do not matter: inserts leave them to their
// defaults. No problems: the table takes the writer's inserts.
func (t Table) CompareColumns(actual map[string]string) []string {
	var problems []string
	for _, c := range t.TableColumns() {
		typ, ok := actual[c.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("column %s is missing, want %s", c.Name, c.Type))
		case typ != c.Type:
			problems = append(problems, fmt.Sprintf("column %s is %s, want %s", c.Name, typ, c.Type))
		}
	}
	return problems
}
