package stream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Open connects to NATS (see Connect), opens JetStream and ensures the
// streams (see Ensure): what every service does at start-up.
func Open(ctx context.Context, cfg Config, name string, log *slog.Logger, opts ...jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream, error) {
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	nc, err := Connect(cfg, name, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := JetStream(nc, opts...)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	if _, err := Ensure(ctx, js, cfg); err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// JetStream opens JetStream on a connection.
func JetStream(nc *nats.Conn, opts ...jetstream.JetStreamOpt) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		return nil, fmt.Errorf("open JetStream: %w", err)
	}
	return js, nil
}
