package deploy

import (
	"encoding/json"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// grafanaDatasources is the part of Grafana's data source provisioning file
// we use; anything else fails the strict decoding.
type grafanaDatasources struct {
	APIVersion  int `json:"apiVersion"`
	Datasources []struct {
		Name           string            `json:"name"`
		UID            string            `json:"uid"`
		Type           string            `json:"type"`
		Access         string            `json:"access"`
		URL            string            `json:"url"`
		IsDefault      bool              `json:"isDefault"`
		JSONData       map[string]any    `json:"jsonData"`
		SecureJSONData map[string]string `json:"secureJsonData"`
	} `json:"datasources"`
}

// dashboard is the part of a Grafana dashboard model the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string     `json:"name"`
			Query      string     `json:"query"`
			Datasource datasource `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	Type       string     `json:"type"`
	Title      string     `json:"title"`
	Datasource datasource `json:"datasource"`
	Targets    []struct {
		Datasource datasource `json:"datasource"`
		Expr       string     `json:"expr"`
		RawSQL     string     `json:"rawSql"`
	} `json:"targets"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// loadDashboards parses every dashboard under compose/grafana/dashboards,
// by title.
func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	dir := filepath.Join(repoRoot, "deploy/compose/grafana/dashboards")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in %s (%v)", dir, err)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatalf("%s: not JSON: %v", f, err)
		}
		if d.Title == "" || d.UID == "" {
			t.Errorf("%s: no title or uid", f)
		}
		out[d.Title] = d
	}
	return out
}

// TestGrafanaDatasourcesAndDashboards checks the provisioned data sources
// (ClickHouse through its plugin over the native protocol, Prometheus) and
// that every query of every dashboard names one of them.
func TestGrafanaDatasourcesAndDashboards(t *testing.T) {
	var ds grafanaDatasources
	if err := decodeStrict(readRepoFile(t, "deploy/compose/grafana/provisioning/datasources/datasources.yml"), &ds); err != nil {
		t.Fatalf("datasources.yml: %v", err)
	}
	uids := map[string]string{}
	for _, d := range ds.Datasources {
		uids[d.UID] = d.Type
		if d.Type == "grafana-clickhouse-datasource" {
			if d.JSONData["host"] != "clickhouse" || d.JSONData["port"] != 9000.0 || d.JSONData["protocol"] != "native" {
				t.Errorf("ClickHouse data source %s does not reach clickhouse:9000 natively: %v", d.Name, d.JSONData)
			}
		}
	}
	for _, typ := range []string{"grafana-clickhouse-datasource", "prometheus"} {
		if !slices.Contains(slices.Collect(maps.Values(uids)), typ) {
			t.Errorf("no %s data source is provisioned", typ)
		}
	}
	grafana := composeService(t, loadCompose(t), "grafana")
	if p := grafana.Environment["GF_PLUGINS_PREINSTALL_SYNC"]; p == nil || !strings.Contains(*p, "grafana-clickhouse-datasource") {
		t.Error("the grafana service does not install grafana-clickhouse-datasource")
	}

	for title, d := range loadDashboards(t) {
		for _, p := range d.Panels {
			for _, target := range p.Targets {
				if _, ok := uids[target.Datasource.UID]; !ok {
					t.Errorf("%s / %s: data source uid %q is not provisioned", title, p.Title, target.Datasource.UID)
				}
			}
		}
	}
}

// TestFleetDashboard: readings by harbor, ship and cargo, each counted once
// (FINAL collapses the copies at-least-once delivery may store).
func TestFleetDashboard(t *testing.T) {
	d, ok := loadDashboards(t)["Harbor fleet"]
	if !ok {
		t.Fatal("no dashboard titled \"Harbor fleet\"")
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	for _, name := range []string{"harbor", "ship", "cargo"} {
		if !slices.Contains(vars, name) {
			t.Errorf("no template variable %q (have %v)", name, vars)
		}
	}
	queries := 0
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			queries++
			sql := target.RawSQL
			if !strings.Contains(sql, "FROM harbor.readings FINAL") {
				t.Errorf("panel %q does not read harbor.readings with FINAL", p.Title)
			}
			for _, v := range []string{"${harbor:singlequote}", "${ship:singlequote}", "${cargo:singlequote}", "$__timeFilter(time)"} {
				if !strings.Contains(sql, v) {
					t.Errorf("panel %q does not filter on %s", p.Title, v)
				}
			}
		}
	}
	if queries == 0 {
		t.Error("the fleet dashboard has no queries")
	}
}

// metricDefinition matches where the services name a Prometheus metric:
// prometheus.CounterOpts{Name: "harbor_..."}, prometheus.NewDesc("harbor_..." and
// pkg/metric's metric.Counter(reg, "harbor_...", ...) (and Gauge, Histogram).
var metricDefinition = regexp.MustCompile(`(?:Name:\s*|NewDesc\(\s*|metric\.(?:Counter|Gauge|Histogram)\(\s*\w+,\s*)"(harbor_[a-z0-9_]+)"`)

// exportedMetrics returns the metrics the services define, read from their
// source (tests excluded); histograms are named without _bucket, _sum and
// _count.
func exportedMetrics(t *testing.T) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(filepath.Join(repoRoot, "services"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range metricDefinition.FindAllSubmatch(src, -1) {
			names = append(names, string(m[1]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The API and the writer define a dozen; far fewer means the services
	// define metrics some other way now and this reader misses them.
	if len(names) < 10 {
		t.Fatalf("found only %d metric definitions in services/: %v", len(names), names)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

var (
	harborMetric = regexp.MustCompile(`\bharbor_[a-z_]+`)
	// labelLists are the parts of a PromQL expression that name labels (such
	// as harbor_id) rather than metrics: by (...), without (...) and
	// {...} matchers.
	labelLists = regexp.MustCompile(`(\bby|\bwithout)\s*\([^)]*\)|\{[^}]*\}`)
)

// TestPipelineDashboard checks that the pipeline dashboard charts every
// metric the services define and queries no other (a misspelt metric shows
// as an empty panel, not an error).
func TestPipelineDashboard(t *testing.T) {
	d, ok := loadDashboards(t)["Harbor pipeline"]
	if !ok {
		t.Fatal("no dashboard titled \"Harbor pipeline\"")
	}
	pipelineMetrics := exportedMetrics(t)
	charted := map[string]bool{}
	for _, p := range d.Panels {
		for _, target := range p.Targets {
			for _, m := range harborMetric.FindAllString(labelLists.ReplaceAllString(target.Expr, ""), -1) {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, ok := strings.CutSuffix(m, suffix); ok && slices.Contains(pipelineMetrics, base) {
						m = base
					}
				}
				if !slices.Contains(pipelineMetrics, m) {
					t.Errorf("panel %q queries %s, which the services do not export", p.Title, m)
				}
				charted[m] = true
			}
		}
	}
	for _, m := range pipelineMetrics {
		if !charted[m] {
			t.Errorf("no panel charts %s", m)
		}
	}
}
