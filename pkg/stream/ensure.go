package stream

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamConfig is the JetStream configuration of the readings stream.
func (c Config) StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        c.Name,
		Description: "Harbor readings from the ingest API to the writers",
		Subjects:    []string{c.SubjectPrefix + ".*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      c.MaxAge,
		MaxBytes:    c.MaxBytes,
		Replicas:    c.Replicas,
		Duplicates:  c.DuplicateWindow,
	}
}

// DeadLetterConfig is the JetStream configuration of the dead-letter stream.
func (c Config) DeadLetterConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        c.DeadLetterName(),
		Description: "Harbor messages a writer could not decode, with the reason in a header",
		Subjects:    []string{c.SubjectPrefix + "_dead_letter.*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      4 * c.MaxAge,
		Replicas:    c.Replicas,
	}
}

// Ensure creates the readings and dead-letter streams, or updates the
// settings of streams that exist with other settings. Existing messages are
// kept. A stream that already has these settings is left alone, so services
// starting side by side do not update it over and over.
func Ensure(ctx context.Context, js jetstream.JetStream, c Config) (jetstream.Stream, error) {
	if _, err := ensure(ctx, js, c.DeadLetterConfig()); err != nil {
		return nil, err
	}
	return ensure(ctx, js, c.StreamConfig())
}

func ensure(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateStream(ctx, cfg) // succeeds as well when it exists as configured
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("create or update stream %s: %w", cfg.Name, err)
	}
	return s, nil
}
