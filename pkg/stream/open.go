package stream

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Open connects to NATS (see Connect), opens JetStream and checks the
// streams (see Check): what the writers and the commands do at start-up.
func Open(ctx context.Context, cfg Config, name string, log *slog.Logger, opts ...jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream, error) {
	return open(ctx, cfg, name, log, func(js jetstream.JetStream) error {
		_, err := Check(ctx, js, cfg, log)
		return err
	}, opts)
}

// OpenAsOwner is Open for the owner of the streams' settings, the ingest
// API: it ensures the streams (see Ensure) instead of checking them.
func OpenAsOwner(ctx context.Context, cfg Config, name string, log *slog.Logger, opts ...jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream, error) {
	return open(ctx, cfg, name, log, func(js jetstream.JetStream) error {
		_, err := Ensure(ctx, js, cfg)
		return err
	}, opts)
}

func open(ctx context.Context, cfg Config, name string, log *slog.Logger, streams func(jetstream.JetStream) error, opts []jetstream.JetStreamOpt) (*nats.Conn, jetstream.JetStream, error) {
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
	if err := streams(js); err != nil {
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
