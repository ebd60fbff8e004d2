package schema

import (
	"strings"
	"testing"
)

func TestClusterDDL(t *testing.T) {
	for _, v := range []struct {
		name         string
		major, minor int
		columns      string
		orderBy      string
	}{
		{"legacy", 18, 16, "(harbor_id, ship_id, cargo_id, time, time_ms, value)", "ORDER BY (harbor_id, ship_id, cargo_id, time, time_ms)"},
		{"modern", 24, 8, "(harbor_id, ship_id, cargo_id, time, value)", "ORDER BY (harbor_id, ship_id, cargo_id, time)"},
	} {
		for _, distributed := range []bool{false, true} {
			tb, err := NewClusterTable("harbor", "readings", v.major, v.minor, Cluster{Name: "harbor_cluster", InsertDistributed: distributed})
			if err != nil {
				t.Fatal(err)
			}
			if tb.Legacy != (v.name == "legacy") {
				t.Errorf("%s: legacy %v", v.name, tb.Legacy)
			}
			if got := tb.CreateDatabaseSQL(); got != "CREATE DATABASE IF NOT EXISTS `harbor` ON CLUSTER `harbor_cluster`" {
				t.Errorf("%s: database: %s", v.name, got)
			}

			ddl := tb.CreateTableSQL()
			for _, want := range []string{
				"CREATE TABLE IF NOT EXISTS `harbor`.`readings_local` ON CLUSTER `harbor_cluster` (\n",
				"\n) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/harbor/readings_local', '{replica}')\n" +
					"PARTITION BY toYYYYMM(time)\n" + v.orderBy,
			} {
				if !strings.Contains(ddl, want) {
					t.Errorf("%s: cluster DDL lacks %q:\n%s", v.name, want, ddl)
				}
			}
			if strings.Contains(ddl, "ENGINE = ReplacingMergeTree") {
				t.Errorf("%s: cluster DDL has an unreplicated engine:\n%s", v.name, ddl)
			}
			if v.name == "legacy" {
				for _, banned := range []string{"DateTime64", "CODEC", "LowCardinality"} {
					if strings.Contains(ddl, banned) {
						t.Errorf("legacy cluster DDL uses %s, which 18.16 lacks:\n%s", banned, ddl)
					}
				}
			}

			wantDist := "CREATE TABLE IF NOT EXISTS `harbor`.`readings` ON CLUSTER `harbor_cluster` AS `harbor`.`readings_local`\n" +
				"ENGINE = Distributed(`harbor_cluster`, `harbor`, `readings_local`, cityHash64(harbor_id, ship_id))"
			if got := tb.DistributedTableSQL(); got != wantDist {
				t.Errorf("%s: distributed table:\n%s\nwant\n%s", v.name, got, wantDist)
			}
			if got := tb.SchemaSQL(); len(got) != 3 || got[0] != tb.CreateDatabaseSQL() || got[1] != ddl || got[2] != wantDist {
				t.Errorf("%s: schema statements: %q", v.name, got)
			}

			target := "`harbor`.`readings_local`"
			if distributed {
				target = "`harbor`.`readings`"
			}
			if got, want := tb.InsertSQL(), "INSERT INTO "+target+" "+v.columns; got != want {
				t.Errorf("%s, distributed %v: insert %s, want %s", v.name, distributed, got, want)
			}
			if tb.FullName() != "`harbor`.`readings`" || tb.LocalName() != "readings_local" || tb.LocalFullName() != "`harbor`.`readings_local`" {
				t.Errorf("%s: names %s, %s, %s", v.name, tb.FullName(), tb.LocalName(), tb.LocalFullName())
			}
		}
	}
}

func TestSingleServerHasOneTable(t *testing.T) {
	tb, err := NewClusterTable("harbor", "readings", 24, 8, Cluster{})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := NewTable("harbor", "readings", 24, 8)
	if tb != plain {
		t.Errorf("the zero Cluster gives %+v, NewTable %+v", tb, plain)
	}
	if tb.LocalName() != "readings" || tb.LocalFullName() != tb.FullName() || tb.DistributedTableSQL() != "" {
		t.Errorf("single server: local %s, distributed DDL %q", tb.LocalName(), tb.DistributedTableSQL())
	}
	ddl := tb.SchemaSQL()
	if len(ddl) != 2 || ddl[0] != tb.CreateDatabaseSQL() || ddl[1] != tb.CreateTableSQL() {
		t.Errorf("schema statements: %q", ddl)
	}
	if strings.Contains(strings.Join(ddl, "\n"), "CLUSTER") {
		t.Errorf("single-server DDL mentions a cluster: %q", ddl)
	}
}

func TestNewClusterTableRejects(t *testing.T) {
	for _, c := range []Cluster{
		{Name: "a-b"},
		{Name: "x`; DROP TABLE y"},
		{Name: strings.Repeat("c", 65)},
		{InsertDistributed: true}, // nothing to distribute over
	} {
		if _, err := NewClusterTable("harbor", "readings", 24, 8, c); err == nil {
			t.Errorf("%+v was accepted", c)
		}
	}
	if _, err := NewClusterTable("a.b", "readings", 24, 8, Cluster{Name: "c"}); err == nil {
		t.Error("a bad database name was accepted on a cluster")
	}
}
