package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads ../docker-compose.yml as `docker compose` would, with
// an empty environment (so that every ${VAR:-default} takes its default) and
// no .env file.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot),
		cli.WithEnv(nil),
	)
	if err != nil {
		t.Fatalf("compose options: %v", err)
	}
	project, err := cli.ProjectFromOptions(t.Context(), opts)
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return project
}

// composeService returns the named service or fails.
func composeService(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return s
}

func TestComposeHasEveryService(t *testing.T) {
	p := loadCompose(t)
	want := []string{"nats", "clickhouse", "ingest-api", "writer", "prometheus", "grafana"}
	got := p.ServiceNames()
	for _, name := range want {
		if !slices.Contains(got, name) {
			t.Errorf("docker-compose.yml has no service %q (it has %v)", name, got)
		}
	}
}

func TestComposeHealthchecks(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"nats", "clickhouse", "ingest-api", "writer"} {
		hc := composeService(t, p, name).HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) < 2 {
			t.Errorf("service %s has no healthcheck: depends_on service_healthy would never pass", name)
		}
	}
}

// TestComposeWriterScales checks what `docker compose up --scale writer=3`
// needs: no fixed container name and no host port, and a start that waits
// for NATS and ClickHouse to be healthy.
func TestComposeWriterScales(t *testing.T) {
	w := composeService(t, loadCompose(t), "writer")
	if w.ContainerName != "" {
		t.Errorf("writer has container_name %q: a second replica could not start", w.ContainerName)
	}
	if len(w.Ports) > 0 {
		t.Errorf("writer publishes ports %v: a second replica would collide on the host port", w.Ports)
	}
	for _, dep := range []string{"nats", "clickhouse"} {
		d, ok := w.DependsOn[dep]
		if !ok {
			t.Errorf("writer does not depend on %s", dep)
			continue
		}
		if d.Condition != types.ServiceConditionHealthy {
			t.Errorf("writer depends on %s with condition %q, want %q", dep, d.Condition, types.ServiceConditionHealthy)
		}
	}
}

func TestComposeIngestAPI(t *testing.T) {
	api := composeService(t, loadCompose(t), "ingest-api")
	published := false
	for _, port := range api.Ports {
		if port.Target == 8080 && port.Published == "8080" {
			published = true
		}
	}
	if !published {
		t.Errorf("ingest-api does not publish 8080:8080 (ports %v)", api.Ports)
	}
	if d := api.DependsOn["nats"]; d.Condition != types.ServiceConditionHealthy {
		t.Errorf("ingest-api depends on nats with condition %q, want %q", d.Condition, types.ServiceConditionHealthy)
	}
	if keys := api.Environment["API_KEYS"]; keys == nil || *keys == "" {
		t.Error("ingest-api has no API_KEYS default: the API would refuse every request")
	}
}

// TestComposeBuildsFromRepoRoot checks that the service images build with the
// repository root as context (where the product's go.mod is)
// from Dockerfiles that exist.
func TestComposeBuildsFromRepoRoot(t *testing.T) {
	p := loadCompose(t)
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ingest-api", "writer"} {
		b := composeService(t, p, name).Build
		if b == nil {
			t.Errorf("service %s has no build section", name)
			continue
		}
		if filepath.Clean(b.Context) != root {
			t.Errorf("service %s builds with context %s, want the repository root %s", name, b.Context, root)
		}
		want := filepath.Join("services", name, "Dockerfile")
		if b.Dockerfile != want {
			t.Errorf("service %s builds %s, want %s", name, b.Dockerfile, want)
		}
		if _, err := os.Stat(filepath.Join(root, b.Dockerfile)); err != nil {
			t.Errorf("service %s: %v", name, err)
		}
	}
}

func TestComposeVolumes(t *testing.T) {
	p := loadCompose(t)
	for service, target := range map[string]string{"nats": "/data", "clickhouse": "/var/lib/clickhouse"} {
		found := false
		for _, v := range composeService(t, p, service).Volumes {
			if v.Target != target {
				continue
			}
			found = true
			if v.Type != types.VolumeTypeVolume {
				t.Errorf("%s stores %s on a %s, want a named volume", service, target, v.Type)
			} else if _, ok := p.Volumes[v.Source]; !ok {
				t.Errorf("%s uses volume %q, which the top-level volumes do not declare", service, v.Source)
			}
		}
		if !found {
			t.Errorf("%s keeps %s in the container: its data would not outlive it", service, target)
		}
	}
}

// TestComposeEnvironmentDocumented checks that the compose file sets only
// settings the services read, as the README lists them.
func TestComposeEnvironmentDocumented(t *testing.T) {
	p := loadCompose(t)
	for _, name := range []string{"ingest-api", "writer"} {
		var keys []string
		for k := range composeService(t, p, name).Environment {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		checkDocumented(t, "docker-compose.yml service "+name, keys)
	}
}
