package schema

import (
	"fmt"
	"regexp"
)

// identifier is what a database or table name from configuration may be. The
// names are quoted in SQL as well, but refusing anything else keeps the DDL
// readable and free of surprises.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)

// Table describes the ClickHouse table readings land in, in the variant the
// server supports.
//
// The table is a ReplacingMergeTree ordered by (harbor_id, ship_id, cargo_id,
// time): a reading stored twice (a redelivered message, a replay, a client's
// retry) collapses into one row when parts merge, and reads with FINAL see
// one row at once. That is what makes at-least-once delivery from the stream
// safe.
type Table struct {
	Database string
	// Name is the table readers query. On a cluster it is the Distributed
	// table, and the rows are in LocalName on every server.
	Name string
	// Legacy selects the variant for servers older than 20.1 (Debian's 18.16
	// among them): no DateTime64, codecs or LowCardinality. Time is then
	// stored as DateTime seconds plus a time_ms column of milliseconds.
	Legacy bool
	// Cluster spreads the table over a ClickHouse cluster; the zero value is
	// a single server.
	Cluster Cluster
}

// NewTable returns the table for a server of the given version, or an error
// if a name is not a plain identifier.
func NewTable(database, name string, serverMajor, serverMinor int) (Table, error) {
	for _, id := range []string{database, name} {
		if err := checkIdentifier(id); err != nil {
			return Table{}, err
		}
	}
	legacy := serverMajor < 20 || (serverMajor == 20 && serverMinor < 1)
	return Table{Database: database, Name: name, Legacy: legacy}, nil
}

// checkIdentifier refuses a database, table or cluster name that is not a
// plain identifier.
func checkIdentifier(id string) error {
	if !identifier.MatchString(id) {
		return fmt.Errorf("ClickHouse name %q is not allowed: use letters, digits and _ (at most 64)", id)
	}
	return nil
}

// FullName is the quoted database.table name of the table readers query.
func (t Table) FullName() string {
	return fmt.Sprintf("`%s`.`%s`", t.Database, t.Name)
}

// SchemaSQL is every statement that creates the database and the tables, in
// order, each idempotent: CreateDatabaseSQL, CreateTableSQL and, on a
// cluster, DistributedTableSQL.
func (t Table) SchemaSQL() []string {
	ddl := []string{t.CreateDatabaseSQL(), t.CreateTableSQL()}
	if t.Cluster.Name != "" {
		ddl = append(ddl, t.DistributedTableSQL())
	}
	return ddl
}

// CreateDatabaseSQL creates the database if it does not exist.
func (t Table) CreateDatabaseSQL() string {
	return fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`%s", t.Database, t.onCluster())
}

// CreateTableSQL creates the table that holds the rows if it does not exist
// (on a cluster, the replicated LocalName on every server). An existing table
// is never altered or dropped.
func (t Table) CreateTableSQL() string {
	if t.Legacy {
		return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
%s
) ENGINE = %s
PARTITION BY toYYYYMM(time)
ORDER BY (harbor_id, ship_id, cargo_id, time, time_ms)`, t.LocalFullName(), t.onCluster(), t.columnsDDL(), t.engine("ReplacingMergeTree()"))
	}
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s (
%s
) ENGINE = %s
PARTITION BY toYYYYMM(time)
ORDER BY (harbor_id, ship_id, cargo_id, time)`, t.LocalFullName(), t.onCluster(), t.columnsDDL(), t.engine("ReplacingMergeTree"))
}

// InsertSQL is the INSERT statement for a columnar batch, with the columns
// listed in the order Columns supplies them (old servers require the list).
// On a cluster it inserts into the table Cluster.InsertDistributed chooses.
func (t Table) InsertSQL() string {
	target := t.LocalFullName()
	if t.Cluster.InsertDistributed {
		target = t.FullName()
	}
	return "INSERT INTO " + target + " (" + t.columnNames() + ")"
}

// TimeMillisSQL is an expression giving a row's time in Unix milliseconds,
// the same on both variants, for queries that must work on either.
func (t Table) TimeMillisSQL() string {
	if t.Legacy {
		return "(toInt64(time) * 1000 + time_ms)"
	}
	return "toUnixTimestamp64Milli(time)"
}
