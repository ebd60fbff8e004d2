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
	Name     string
	// Legacy selects the variant for servers older than 20.1 (Debian's 18.16
	// among them): no DateTime64, codecs or LowCardinality. Time is then
	// stored as DateTime seconds plus a time_ms column of milliseconds.
	Legacy bool
}

// NewTable returns the table for a server of the given version, or an error
// if a name is not a plain identifier.
func NewTable(database, name string, serverMajor, serverMinor int) (Table, error) {
	for _, id := range []string{database, name} {
		if !identifier.MatchString(id) {
			return Table{}, fmt.Errorf("ClickHouse name %q is not allowed: use letters, digits and _ (at most 64)", id)
		}
	}
	legacy := serverMajor < 20 || (serverMajor == 20 && serverMinor < 1)
	return Table{Database: database, Name: name, Legacy: legacy}, nil
}

// FullName is the quoted database.table name.
func (t Table) FullName() string {
	return fmt.Sprintf("`%s`.`%s`", t.Database, t.Name)
}

// CreateDatabaseSQL creates the database if it does not exist.
func (t Table) CreateDatabaseSQL() string {
	return fmt.Sprintf("CREATE DATABASE IF NOT EXISTS `%s`", t.Database)
}

// CreateTableSQL creates the table if it does not exist. An existing table is
// never altered or dropped.
func (t Table) CreateTableSQL() string {
	if t.Legacy {
		return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
    harbor_id String,
    ship_id   String,
    cargo_id  String,
    time      DateTime('UTC'),
    time_ms   UInt16,
    value     Float64
) ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(time)
ORDER BY (harbor_id, ship_id, cargo_id, time, time_ms)`, t.FullName())
	}
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
    harbor_id LowCardinality(String),
    ship_id   String CODEC(ZSTD(1)),
    cargo_id  LowCardinality(String),
    time      DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1)),
    value     Float64 CODEC(Gorilla, ZSTD(1))
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (harbor_id, ship_id, cargo_id, time)`, t.FullName())
}

// InsertSQL is the INSERT statement for a columnar batch, with the columns
// listed in the order Columns supplies them (old servers require the list).
func (t Table) InsertSQL() string {
	if t.Legacy {
		return "INSERT INTO " + t.FullName() + " (harbor_id, ship_id, cargo_id, time, time_ms, value)"
	}
	return "INSERT INTO " + t.FullName() + " (harbor_id, ship_id, cargo_id, time, value)"
}

// TimeMillisSQL is an expression giving a row's time in Unix milliseconds,
// the same on both variants, for queries that must work on either.
func (t Table) TimeMillisSQL() string {
	if t.Legacy {
		return "(toInt64(time) * 1000 + time_ms)"
	}
	return "toUnixTimestamp64Milli(time)"
}
