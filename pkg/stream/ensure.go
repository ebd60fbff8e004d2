package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamConfig is the JetStream configuration of the readings stream.
//
// It discards nothing on its own: a publish that would take it past
// MaxBytes is refused (DiscardNew), and it has no MaxAge of its own. The
// Trimmer removes old readings instead, only those the writers have written.
func (c Config) StreamConfig() jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        c.Name,
		Description: "Harbor readings from the ingest API to the writers",
		Subjects:    []string{c.SubjectPrefix + ".*"},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardNew,
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

// Ensure is what the owner of the streams' settings, the ingest API, does
// at start-up: it creates the readings and dead-letter streams, or updates
// those whose settings differ. A stream that has these settings is not
// updated (an update racing a writer's consumer create is best avoided).
// Existing messages are kept: a STREAM_MAX_BYTES below what the stream holds
// first trims written history (below the writers' ack floor), and is refused
// with an error when what the writers have not written does not fit.
func Ensure(ctx context.Context, js jetstream.JetStream, c Config) (jetstream.Stream, error) {
	if _, err := ensure(ctx, js, c.DeadLetterConfig(), nil); err != nil {
		return nil, err
	}
	return ensure(ctx, js, c.StreamConfig(), func(s jetstream.Stream) error { return fitMaxBytes(ctx, s, c) })
}

// Check is what every other service does at start-up: it creates the
// streams when they are missing (so that any service may start first) and
// otherwise leaves them as they are, logging each setting that differs from
// its own; the ingest API owns them.
func Check(ctx context.Context, js jetstream.JetStream, c Config, log *slog.Logger) (jetstream.Stream, error) {
	var s jetstream.Stream
	for _, want := range []jetstream.StreamConfig{c.DeadLetterConfig(), c.StreamConfig()} {
		var err error
		if s, err = createOrGet(ctx, js, want); err != nil {
			return nil, err
		}
		if diffs := differences(s.CachedInfo().Config, want); len(diffs) > 0 {
			log.Warn("the stream's settings differ from this service's; the ingest API owns them, so they stay as they are",
				"stream", want.Name, "differences", diffs)
		}
	}
	return s, nil
}

// ensure creates the stream, or updates it when its settings differ from
// want, after fit (if not nil) made room for the update.
func ensure(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig, fit func(jetstream.Stream) error) (jetstream.Stream, error) {
	s, err := createOrGet(ctx, js, want)
	if err != nil {
		return nil, err
	}
	have := s.CachedInfo().Config
	if len(differences(have, want)) == 0 {
		return s, nil
	}
	if fit != nil {
		if err := fit(s); err != nil {
			return nil, err
		}
	}
	// Only the settings Harbor owns change; the server's others stay.
	cfg := have
	cfg.Description, cfg.Subjects, cfg.Storage, cfg.Retention, cfg.Discard = want.Description, want.Subjects, want.Storage, want.Retention, want.Discard
	cfg.MaxAge, cfg.MaxBytes, cfg.Replicas = want.MaxAge, unlimited(want.MaxBytes), want.Replicas
	if want.Duplicates != 0 {
		cfg.Duplicates = want.Duplicates
	}
	if s, err = js.UpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("update the settings of stream %s (%s): %w; with NATS users, only %s may change them: "+
			"run `harborctl stream apply` with its credentials and these settings, or start with the stream's settings",
			want.Name, strings.Join(differences(have, want), "; "), err, RoleOperator)
	}
	return s, nil
}

// createOrGet creates the stream, or returns it as it is when it exists.
func createOrGet(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = js.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // another service was quicker
			s, err = js.Stream(ctx, want.Name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create or open stream %s: %w", want.Name, err)
	}
	return s, nil
}

// fitMaxBytes makes a stream that holds more than STREAM_MAX_BYTES fit it
// by trimming written history, or says why it cannot.
func fitMaxBytes(ctx context.Context, s jetstream.Stream, c Config) error {
	if c.MaxBytes <= 0 || s.CachedInfo().State.Bytes <= uint64(c.MaxBytes) {
		return nil
	}
	af, err := ackFloor(ctx, s, c.Consumer)
	if err != nil {
		return err
	}
	u, err := trimBytes(ctx, s, af, uint64(c.MaxBytes))
	if err != nil {
		return err
	}
	if u.Bytes > uint64(c.MaxBytes) {
		return fmt.Errorf("STREAM_MAX_BYTES=%d is below the %d bytes of readings in stream %s that the writers have not written yet: "+
			"start with STREAM_MAX_BYTES above that, or let the writers drain the stream first (the settings are unchanged; only written history was trimmed)", c.MaxBytes, u.Bytes, c.Name)
	}
	return nil
}

// differences lists the settings Harbor owns that differ between the
// stream's (have) and the wanted ones, as "setting: have, want".
func differences(have, want jetstream.StreamConfig) []string {
	var out []string
	diff := func(name string, h, w any) {
		if h != w {
			out = append(out, fmt.Sprintf("%s: %v, want %v", name, h, w))
		}
	}
	if !slices.Equal(have.Subjects, want.Subjects) {
		diff("subjects", fmt.Sprint(have.Subjects), fmt.Sprint(want.Subjects))
	}
	diff("storage", have.Storage, want.Storage)
	diff("retention", have.Retention, want.Retention)
	diff("discard", have.Discard, want.Discard)
	diff("max age (STREAM_MAX_AGE)", have.MaxAge, want.MaxAge)
	diff("max bytes (STREAM_MAX_BYTES)", unlimited(have.MaxBytes), unlimited(want.MaxBytes))
	diff("replicas (STREAM_REPLICAS)", max(have.Replicas, 1), max(want.Replicas, 1))
	if want.Duplicates != 0 {
		diff("duplicate window (STREAM_DUPLICATE_WINDOW)", have.Duplicates, want.Duplicates)
	}
	return out
}

// unlimited is JetStream's -1 for any limit of 0 or less.
func unlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}
