package deploy

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// lookup walks nested maps from YAML along path; nil if a step is missing.
func lookup(v any, path ...string) any {
	for _, key := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

// loadValues parses a Helm values file, refusing duplicate keys.
func loadValues(t *testing.T, rel string) map[string]any {
	t.Helper()
	var values map[string]any
	if err := yaml.UnmarshalStrict(readRepoFile(t, rel), &values); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return values
}

// natsMonitorPort is the NATS servers' monitoring port in the chart values.
func natsMonitorPort(t *testing.T) string {
	t.Helper()
	port := lookup(loadValues(t, "deploy/helm/nats-values.yaml"), "config", "monitor", "port")
	if port == nil {
		t.Fatal("deploy/helm/nats-values.yaml sets no config.monitor.port")
	}
	return fmt.Sprint(port)
}

// TestNATSValues checks the three-node JetStream cluster with file storage
// on volumes that the ConfigMap's STREAM_REPLICAS counts on.
func TestNATSValues(t *testing.T) {
	v := loadValues(t, "deploy/helm/nats-values.yaml")
	for path, want := range map[string]any{
		"config.cluster.enabled":                 true,
		"config.jetstream.enabled":               true,
		"config.jetstream.fileStore.enabled":     true,
		"config.jetstream.fileStore.pvc.enabled": true,
		"config.monitor.enabled":                 true,
	} {
		if got := lookup(v, strings.Split(path, ".")...); got != want {
			t.Errorf("nats-values.yaml: %s is %v, want %v", path, got, want)
		}
	}
	if lookup(v, "config", "jetstream", "fileStore", "pvc", "size") == nil {
		t.Error("nats-values.yaml: no size for the JetStream volumes")
	}
	servers, _ := lookup(v, "config", "cluster", "replicas").(float64)
	cm, _ := baseConfig(t, loadManifests(t, "deploy/k8s/base"))
	replicas, err := strconv.Atoi(cm.Data["STREAM_REPLICAS"])
	if err != nil {
		t.Fatalf("STREAM_REPLICAS: %v", err)
	}
	if servers < 3 || float64(replicas) > servers {
		t.Errorf("a %v-server NATS cluster for STREAM_REPLICAS=%d: want at least 3 servers, and no more copies than servers", servers, replicas)
	}
}

// clickhouseDocs returns the documents of clickhouse-installation.yaml by
// kind; the bootstrap ConfigMap is decoded strictly, the operator's kinds
// (not in client-go) as plain maps.
func clickhouseDocs(t *testing.T) (bootstrap *corev1.ConfigMap, byKind map[string]map[string]any) {
	t.Helper()
	const rel = "deploy/helm/clickhouse-installation.yaml"
	docs, err := yamlDocuments(readRepoFile(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	byKind = map[string]map[string]any{}
	for _, doc := range docs {
		var m map[string]any
		if err := yaml.UnmarshalStrict(doc, &m); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		kind, _ := m["kind"].(string)
		byKind[kind] = m
		if kind == "ConfigMap" {
			obj, err := decodeManifest(doc)
			if err != nil {
				t.Fatalf("%s: %v", rel, err)
			}
			bootstrap = obj.(*corev1.ConfigMap)
		}
	}
	for _, kind := range []string{"ConfigMap", "ClickHouseKeeperInstallation", "ClickHouseInstallation"} {
		if byKind[kind] == nil {
			t.Fatalf("%s has no %s", rel, kind)
		}
	}
	return bootstrap, byKind
}

// TestClickHouseInstallation checks the layout (one shard, two replicas,
// three Keeper nodes) and that it matches what Harbor's base expects: the
// service name, the user and its password's Secret.
func TestClickHouseInstallation(t *testing.T) {
	_, docs := clickhouseDocs(t)
	chi, chk := docs["ClickHouseInstallation"], docs["ClickHouseKeeperInstallation"]

	clusters, _ := lookup(chi, "spec", "configuration", "clusters").([]any)
	if len(clusters) != 1 {
		t.Fatalf("the ClickHouseInstallation has %d clusters, want one", len(clusters))
	}
	if s, r := lookup(clusters[0], "layout", "shardsCount"), lookup(clusters[0], "layout", "replicasCount"); s != 1.0 || r != 2.0 {
		t.Errorf("layout %v shard(s) × %v replica(s), want 1 × 2", s, r)
	}
	keepers, _ := lookup(chk, "spec", "configuration", "clusters").([]any)
	if len(keepers) != 1 || lookup(keepers[0], "layout", "replicasCount") != 3.0 {
		t.Error("the ClickHouseKeeperInstallation is not one cluster of three replicas (a quorum that survives a loss)")
	}
	nodes, _ := lookup(chi, "spec", "configuration", "zookeeper", "nodes").([]any)
	keeperService := "keeper-" + fmt.Sprint(lookup(chk, "metadata", "name"))
	if len(nodes) != 1 || lookup(nodes[0], "host") != keeperService {
		t.Errorf("the installation's zookeeper nodes are %v, want the Keeper installation's service %s", nodes, keeperService)
	}

	cm, secret := baseConfig(t, loadManifests(t, "deploy/k8s/base"))
	service := "clickhouse-" + fmt.Sprint(lookup(chi, "metadata", "name")) + "."
	if addr := cm.Data["CLICKHOUSE_ADDR"]; !strings.HasPrefix(addr, service) || !strings.HasSuffix(addr, ":9000") {
		t.Errorf("CLICKHOUSE_ADDR %q is not the installation's service %s...:9000", addr, service)
	}
	user := cm.Data["CLICKHOUSE_USER"]
	wantRef := namespace + "/" + secret.Name + "/CLICKHOUSE_PASSWORD"
	if got := lookup(chi, "spec", "configuration", "users", user+"/k8s_secret_password"); got != wantRef {
		t.Errorf("the installation's user %q takes its password from %v, want %s (the writers' Secret)", user, got, wantRef)
	}
}
