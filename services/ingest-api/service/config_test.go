package service

import (
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

func TestConfigFromEnvironment(t *testing.T) {
	cfg := devtest.ParseEnv[Config](t, map[string]string{
		"API_KEYS":      "k1:harbor-a,k2:harbor-b",
		"NATS_URL":      "nats://a:4222,nats://b:4222",
		"MAX_FUTURE":    "1h",
		"MAX_BATCH_LEN": "500",
	})
	if cfg.API.APIKeys["k1"] != "harbor-a" || cfg.API.APIKeys["k2"] != "harbor-b" || len(cfg.API.APIKeys) != 2 {
		t.Errorf("API_KEYS: %v", cfg.API.APIKeys)
	}
	if cfg.Stream.URL != "nats://a:4222,nats://b:4222" || cfg.API.Limits.MaxFuture != time.Hour || cfg.API.MaxBatchLen != 500 {
		t.Errorf("settings not read: %+v", cfg)
	}
	// Defaults stand where nothing is set.
	if cfg.API.MaxBodyBytes != 10<<20 || cfg.API.Limits.MaxIDLength != 100 || cfg.Stream.Name != "TELEMETRY" ||
		cfg.Stream.MaxAge != 7*24*time.Hour || cfg.API.ReadHeaderTimeout != 5*time.Second {
		t.Errorf("defaults: %+v", cfg)
	}
	// The read API is off, and shares the writer's ClickHouse settings.
	if cfg.API.Read.Enabled || cfg.API.Read.MaxPoints != 10000 || cfg.API.Read.MaxRange != 31*24*time.Hour ||
		cfg.ClickHouse.Addr != "127.0.0.1:9000" || cfg.ClickHouse.Table != "readings" || cfg.API.Read.Check() != nil {
		t.Errorf("read API defaults: %+v %+v", cfg.API.Read, cfg.ClickHouse)
	}
}
