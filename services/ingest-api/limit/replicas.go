package limit

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Replicas counts the live ingest-api replicas: each one puts a heartbeat
// in a key-value bucket whose keys expire after ttl, and counts the keys
// there.
type Replicas struct {
	kv    jetstream.KeyValue
	id    string
	ttl   time.Duration
	count atomic.Int64
}

// JoinReplicas opens the heartbeat bucket and beats until ctx ends.
func JoinReplicas(ctx context.Context, js jetstream.JetStream, bucket string, ttl time.Duration, log *slog.Logger) (*Replicas, error) {
	// Created when missing, never updated: the API may not change a
	// bucket's settings (stream.Roles).
	kv, err := stream.KeyValue(ctx, js, jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "Harbor ingest-api replicas: one key each, expiring without heartbeats",
		TTL:         ttl,
		Storage:     jetstream.MemoryStorage,
	})
	if err != nil {
		return nil, err
	}
	if st, err := kv.Status(ctx); err == nil && st.TTL() != ttl {
		log.Warn("the replicas bucket keeps heartbeats for another time than REPLICA_TTL: replicas may be miscounted until the operator updates the bucket (or deletes it, for the API to create it anew)",
			"bucket", bucket, "bucket_ttl", st.TTL(), "replica_ttl", ttl)
	}
	r := &Replicas{kv: kv, id: nuid.Next(), ttl: ttl}
	r.count.Store(1)
	r.beat(ctx, log)
	go func() {
		t := time.NewTicker(ttl / 4)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				r.kv.Delete(context.Background(), r.id) // leave at once, not after ttl
				return
			case <-t.C:
				r.beat(ctx, log)
			}
		}
	}()
	return r, nil
}

// beat refreshes this replica's key and recounts.
func (r *Replicas) beat(ctx context.Context, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, r.ttl/2)
	defer cancel()
	if _, err := r.kv.Put(ctx, r.id, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		log.Debug("replica heartbeat", "err", err)
		return
	}
	keys, err := r.kv.ListKeys(ctx)
	if err != nil {
		log.Debug("count replicas", "err", err)
		return
	}
	n := int64(0)
	for range keys.Keys() {
		n++
	}
	if n > 0 && n != r.count.Swap(n) {
		log.Info("ingest-api replicas", "count", n)
	}
}

// Count is the number of live replicas, this one included.
func (r *Replicas) Count() int { return int(r.count.Load()) }
