package deploy

import (
	"slices"
	"testing"
)

// prometheusConfig is the part of Prometheus' configuration file
// compose/prometheus.yml may use; anything else fails the strict decoding.
type prometheusConfig struct {
	Global struct {
		ScrapeInterval     string `json:"scrape_interval"`
		EvaluationInterval string `json:"evaluation_interval"`
	} `json:"global"`
	ScrapeConfigs []struct {
		JobName      string `json:"job_name"`
		MetricsPath  string `json:"metrics_path"`
		DNSSDConfigs []struct {
			Names           []string `json:"names"`
			Type            string   `json:"type"`
			Port            int      `json:"port"`
			RefreshInterval string   `json:"refresh_interval"`
		} `json:"dns_sd_configs"`
	} `json:"scrape_configs"`
}

// TestPrometheusScrapesEveryReplica checks that Prometheus finds the API and
// every writer replica through Docker's DNS (one A record per container) on
// the ports their images expose.
func TestPrometheusScrapesEveryReplica(t *testing.T) {
	var cfg prometheusConfig
	if err := decodeStrict(readRepoFile(t, "deploy/compose/prometheus.yml"), &cfg); err != nil {
		t.Fatalf("deploy/compose/prometheus.yml: %v", err)
	}
	p := loadCompose(t)
	for service, port := range map[string]int{"ingest-api": 8080, "writer": 8081} {
		composeService(t, p, service) // the name Docker's DNS answers
		found := false
		for _, sc := range cfg.ScrapeConfigs {
			for _, sd := range sc.DNSSDConfigs {
				if slices.Contains(sd.Names, service) && sd.Type == "A" && sd.Port == port && sc.MetricsPath == "/metrics" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("no scrape config finds %s by DNS (type A) on port %d at /metrics", service, port)
		}
	}
}
