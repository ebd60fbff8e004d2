// Package writerstatus is how writers tell the ingest API whether they can
// write: each writer keeps one key in a NATS key-value bucket, refreshed
// well within the bucket's TTL and deleted when it stops, whose value says
// whether the writer is blocked and why. The API's /readyz fails while a
// live writer reports that it is blocked.
package writerstatus

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go/jetstream"
)

// Config names the bucket; both services read the same settings.
type Config struct {
	// Bucket holds one key per running writer.
	Bucket string `env:"WRITER_STATUS_BUCKET" envDefault:"harbor_writers"`
	// TTL is how long a writer's report counts without being refreshed;
	// writers refresh theirs four times as often.
	TTL time.Duration `env:"WRITER_STATUS_TTL" envDefault:"10s"`
}

// Refresh is how often a writer puts its status when nothing changed.
func (c Config) Refresh() time.Duration { return c.TTL / 4 }

// Status is what a writer reports.
type Status struct {
	// Blocked is why the writer cannot write; empty while it writes.
	Blocked string `json:"blocked,omitempty"`
}

// Encode is the status as a value of the bucket.
func (s Status) Encode() []byte {
	b, _ := json.Marshal(s) // a struct of strings always marshals
	return b
}

// Decode reads a value of the bucket.
func Decode(value []byte) (Status, error) {
	var s Status
	if err := json.Unmarshal(value, &s); err != nil {
		return Status{}, fmt.Errorf("writer status %q: %w", value, err)
	}
	return s, nil
}

// Open creates the bucket when it is missing, in memory: a report outlives
// neither its TTL nor a restart of NATS, and writers put theirs again. An
// existing bucket is used as it is (only the operator may change a
// bucket's settings, see stream.Roles).
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (jetstream.KeyValue, error) {
	if cfg.TTL < 100*time.Millisecond {
		return nil, fmt.Errorf("WRITER_STATUS_TTL is %s: give at least 100ms", cfg.TTL)
	}
	kv, err := stream.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      cfg.Bucket,
		Description: "Harbor writers: one key each, whether it can write, expiring without refreshes",
		TTL:         cfg.TTL,
		Storage:     jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, fmt.Errorf("WRITER_STATUS_BUCKET: %w", err)
	}
	return kv, nil
}
