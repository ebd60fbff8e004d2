package tenant

import (
	"context"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go/jetstream"
)

// Attach returns a Store on the bucket, creating the bucket when it is
// missing but never changing the settings of an existing one: what the
// ingest API, which may read the bucket and not write it
// (stream.RoleAPI), does. Open is for the roles that manage it.
func Attach(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*Store, error) {
	kv, err := stream.KeyValue(ctx, js, bucketConfig(bucket, replicas))
	if err != nil {
		return nil, err
	}
	return &Store{kv: kv}, nil
}

// bucketConfig is the bucket's configuration.
func bucketConfig(bucket string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      bucket,
		Description: "Harbor harbors and API key hashes",
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    replicas,
	}
}
