package schema

import (
	"strings"
	"testing"
)

func TestNewTableChoosesVariantByVersion(t *testing.T) {
	for _, c := range []struct {
		major, minor int
		legacy       bool
	}{{18, 16, true}, {19, 17, true}, {20, 1, false}, {24, 8, false}, {25, 3, false}} {
		tb, err := NewTable("harbor", "readings", c.major, c.minor)
		if err != nil {
			t.Fatal(err)
		}
		if tb.Legacy != c.legacy {
			t.Errorf("%d.%d: legacy %v, want %v", c.major, c.minor, tb.Legacy, c.legacy)
		}
	}
}

func TestNewTableRejectsUnsafeNames(t *testing.T) {
	for _, name := range []string{"", "a.b", "x`; DROP TABLE y", "1abc", strings.Repeat("a", 65)} {
		if _, err := NewTable(name, "readings", 24, 1); err == nil {
			t.Errorf("database %q was accepted", name)
		}
		if _, err := NewTable("harbor", name, 24, 1); err == nil {
			t.Errorf("table %q was accepted", name)
		}
	}
}

func TestModernDDL(t *testing.T) {
	tb, _ := NewTable("harbor", "readings", 24, 8)
	ddl := tb.CreateTableSQL()
	for _, want := range []string{
		"CREATE TABLE IF NOT EXISTS `harbor`.`readings`",
		"harbor_id LowCardinality(String)",
		"cargo_id  LowCardinality(String)",
		"time      DateTime64(3, 'UTC') CODEC(DoubleDelta, ZSTD(1))",
		"value     Float64 CODEC(Gorilla, ZSTD(1))",
		"ENGINE = ReplacingMergeTree",
		"PARTITION BY toYYYYMM(time)",
		"ORDER BY (harbor_id, ship_id, cargo_id, time)",
	} {
		if !strings.Contains(ddl, want) {
			t.Errorf("modern DDL lacks %q:\n%s", want, ddl)
		}
	}
	if got := tb.InsertSQL(); got != "INSERT INTO `harbor`.`readings` (harbor_id, ship_id, cargo_id, time, value)" {
		t.Errorf("insert: %s", got)
	}
}

func TestLegacyDDL(t *testing.T) {
	tb, _ := NewTable("harbor", "readings", 18, 16)
	ddl := tb.CreateTableSQL()
	for _, banned := range []string{"DateTime64", "CODEC", "LowCardinality"} {
		if strings.Contains(ddl, banned) {
			t.Errorf("legacy DDL uses %s, which 18.16 lacks:\n%s", banned, ddl)
		}
	}
	for _, want := range []string{"time      DateTime('UTC')", "time_ms   UInt16", "ORDER BY (harbor_id, ship_id, cargo_id, time, time_ms)", "ENGINE = ReplacingMergeTree()"} {
		if !strings.Contains(ddl, want) {
			t.Errorf("legacy DDL lacks %q:\n%s", want, ddl)
		}
	}
	if got := tb.InsertSQL(); got != "INSERT INTO `harbor`.`readings` (harbor_id, ship_id, cargo_id, time, time_ms, value)" {
		t.Errorf("insert: %s", got)
	}
}
