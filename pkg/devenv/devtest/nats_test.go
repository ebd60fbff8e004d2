package devtest

import (
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
)

// TestNATSSyncsBeforeAcknowledging checks that an embedded server writes
// each message to disk before acknowledging it (a 200 of the API then
// survives a power cut), and that WithSyncInterval gives the background
// sync back, for tests that compare the two.
func TestNATSSyncsBeforeAcknowledging(t *testing.T) {
	if cfg := NATS(t).JetStreamConfig(); cfg == nil || !cfg.SyncAlways {
		t.Fatalf("the embedded NATS does not sync before acknowledging: JetStream config %+v", cfg)
	}
	for interval, want := range map[time.Duration]time.Duration{0: 2 * time.Minute, 10 * time.Second: 10 * time.Second} {
		cfg := NATS(t, devenv.WithSyncInterval(interval)).JetStreamConfig()
		if cfg == nil || cfg.SyncAlways || cfg.SyncInterval != want {
			t.Errorf("devenv.WithSyncInterval(%v): JetStream config %+v, want no sync always and an interval of %v", interval, cfg, want)
		}
	}
}
