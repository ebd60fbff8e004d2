package deploy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/schema"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// replicatedEngine is the engine clause the bootstrap uses instead of the
// writer's plain ReplacingMergeTree: one ZooKeeper path per shard, one
// replica per server (macros the operator defines).
const replicatedEngine = "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/%s/%s', '{replica}')"

// TestClickHouseBootstrapMatchesSchema checks that the table every replica
// creates at start is the writer's own table (pkg/schema, for the image's
// server version), replicated: same database and table as the ConfigMap's,
// same columns, codecs, partitioning and sort key. If pkg/schema changes its
// DDL, this fails until the bootstrap follows.
func TestClickHouseBootstrapMatchesSchema(t *testing.T) {
	bootstrap, docs := clickhouseDocs(t)
	cm, _ := baseConfig(t, loadManifests(t, "deploy/k8s/base"))
	major, minor := clickhouseImageVersion(t, docs["ClickHouseInstallation"])

	table, err := schema.NewTable(cm.Data["CLICKHOUSE_DATABASE"], cm.Data["CLICKHOUSE_TABLE"], major, minor)
	if err != nil {
		t.Fatal(err)
	}
	writerDDL := table.CreateTableSQL()
	const plain = "ENGINE = ReplacingMergeTree"
	if strings.Count(writerDDL, plain) != 1 {
		t.Fatalf("pkg/schema's CREATE TABLE no longer has %q once; update the bootstrap in deploy/helm/clickhouse-installation.yaml and this test:\n%s", plain, writerDDL)
	}
	want := []string{
		normalizeSpace(table.CreateDatabaseSQL()),
		normalizeSpace(strings.Replace(writerDDL, plain, fmt.Sprintf(replicatedEngine, table.Database, table.Name), 1)),
	}

	if len(bootstrap.Data) != 1 {
		t.Fatalf("bootstrap ConfigMap %s has %d files, want one", bootstrap.Name, len(bootstrap.Data))
	}
	for file, sql := range bootstrap.Data {
		if got := sqlStatements(sql); !slices.Equal(got, want) {
			t.Errorf("%s runs\n%s\nwant\n%s", file, strings.Join(got, ";\n"), strings.Join(want, ";\n"))
		}
	}
}

// TestClickHouseBootstrapRuns checks that the installation's server pods run
// the bootstrap: mounted where the image's entrypoint runs scripts from, on
// every start.
func TestClickHouseBootstrapRuns(t *testing.T) {
	bootstrap, docs := clickhouseDocs(t)
	chi := docs["ClickHouseInstallation"]
	pod := clickhousePodSpec(t, chi)
	volume := ""
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && v.ConfigMap.Name == bootstrap.Name {
			volume = v.Name
		}
	}
	if volume == "" {
		t.Fatalf("the pod template has no volume of ConfigMap %s", bootstrap.Name)
	}
	c := pod.Containers[0]
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
		return m.Name == volume && m.MountPath == "/docker-entrypoint-initdb.d"
	}) {
		t.Errorf("container %s does not mount %s at /docker-entrypoint-initdb.d", c.Name, volume)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "CLICKHOUSE_ALWAYS_RUN_INITDB_SCRIPTS" && e.Value != ""
	}) {
		t.Errorf("container %s runs the bootstrap only on its first start: a failed first run would never be retried", c.Name)
	}
}

// sqlStatements splits a script on ";" and normalizes each statement's
// white space.
func sqlStatements(script string) []string {
	var out []string
	for _, s := range strings.Split(script, ";") {
		if s = normalizeSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// normalizeSpace collapses every run of white space to one space.
func normalizeSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// clickhouseImageVersion returns the server version of the installation's
// image tag, such as 25.3.
func clickhouseImageVersion(t *testing.T, chi map[string]any) (major, minor int) {
	t.Helper()
	image := clickhousePodSpec(t, chi).Containers[0].Image
	_, tag, ok := strings.Cut(image, ":")
	parts := strings.Split(tag, ".")
	if !ok || len(parts) < 2 {
		t.Fatalf("image %q has no version tag such as :25.3", image)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		t.Fatalf("image %q: tag is not a version", image)
	}
	return major, minor
}

// clickhousePodSpec strictly decodes the installation's pod template (the
// operator uses a Kubernetes PodSpec as is) and checks it runs one container.
func clickhousePodSpec(t *testing.T, chi map[string]any) corev1.PodSpec {
	t.Helper()
	templates, _ := lookup(chi, "spec", "templates", "podTemplates").([]any)
	if len(templates) != 1 {
		t.Fatalf("the ClickHouseInstallation has %d pod templates, want one", len(templates))
	}
	doc, err := yaml.Marshal(lookup(templates[0], "spec"))
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.PodSpec
	if err := decodeStrict(doc, &pod); err != nil {
		t.Fatalf("the ClickHouseInstallation's pod template: %v", err)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("the ClickHouseInstallation's pod template has %d containers, want one", len(pod.Containers))
	}
	return pod
}
