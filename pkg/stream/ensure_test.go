package stream

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/nats-io/nats.go/jetstream"
)

// testJetStream starts an embedded NATS server for the test and returns
// JetStream on it and the default settings.
func testJetStream(t *testing.T) (jetstream.JetStream, Config) {
	t.Helper()
	_, _, js := devtest.JetStream(t)
	cfg := devtest.ParseEnv[Config](t, map[string]string{})
	return js, cfg
}

func TestEnsureCreatesUpdatesAndKeepsMessages(t *testing.T) {
	js, cfg := testJetStream(t)
	ctx := context.Background()
	if _, err := Ensure(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, cfg.Subject("h1"), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(ctx, js, cfg); err != nil { // a second replica starting
		t.Fatalf("ensure an existing stream: %v", err)
	}
	cfg.MaxBytes = 1 << 20
	s, err := Ensure(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure with a new max bytes: %v", err)
	}
	info := s.CachedInfo()
	if info.Config.MaxBytes != 1<<20 || info.State.Msgs != 1 || info.Config.Discard != jetstream.DiscardNew || info.Config.MaxAge != 0 {
		t.Fatalf("after update: max bytes %d, %d messages, discard %v, max age %s", info.Config.MaxBytes, info.State.Msgs, info.Config.Discard, info.Config.MaxAge)
	}
	if _, err := js.Stream(ctx, cfg.DeadLetterName()); err != nil {
		t.Fatalf("dead-letter stream: %v", err)
	}
	if h, ok := cfg.HarborID(cfg.Subject("fleet-1")); !ok || h != "fleet-1" {
		t.Fatalf("HarborID(Subject) = %q, %v", h, ok)
	}
}

// TestEnsureMovesAnOldStreamToDiscardNew: a stream made by an earlier
// Harbor (DiscardOld, a MaxAge of its own) is updated to discard nothing,
// and keeps its messages.
func TestEnsureMovesAnOldStreamToDiscardNew(t *testing.T) {
	js, cfg := testJetStream(t)
	ctx := context.Background()
	old := cfg.StreamConfig()
	old.Discard, old.MaxAge = jetstream.DiscardOld, time.Hour
	if _, err := js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	publish(t, js, cfg, 3, 100)
	s, err := Ensure(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if info := s.CachedInfo(); info.Config.Discard != jetstream.DiscardNew || info.Config.MaxAge != 0 || info.State.Msgs != 3 {
		t.Fatalf("discard %v, max age %s, %d messages", info.Config.Discard, info.Config.MaxAge, info.State.Msgs)
	}
}

// TestCheckNeverChangesTheStream: a service that does not own the settings
// creates a missing stream, but leaves an existing one as it is and logs
// what differs.
func TestCheckNeverChangesTheStream(t *testing.T) {
	js, cfg := testJetStream(t)
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if _, err := Check(ctx, js, cfg, log); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Fatalf("logged on a stream it created: %s", logs.String())
	}
	owner := cfg
	owner.MaxBytes, owner.MaxBacklogBytes = 3000000, 1500000
	if _, err := Ensure(ctx, js, owner); err != nil {
		t.Fatal(err)
	}
	s, err := Check(ctx, js, cfg, log) // a writer with the default 10 GiB
	if err != nil {
		t.Fatal(err)
	}
	if got := s.CachedInfo().Config.MaxBytes; got != 3000000 {
		t.Fatalf("Check changed max bytes to %d", got)
	}
	if !strings.Contains(logs.String(), "max bytes (STREAM_MAX_BYTES): 3000000, want 10737418240") {
		t.Fatalf("the difference was not logged: %s", logs.String())
	}
}

// TestEnsureRefusesAMaxBytesBelowTheBacklog: lowering STREAM_MAX_BYTES below
// what the writers have not written is refused, with the settings and the
// unwritten messages unchanged (measuring the backlog trimmed the written
// history); above it, written history is trimmed to fit.
func TestEnsureRefusesAMaxBytesBelowTheBacklog(t *testing.T) {
	js, cfg := testJetStream(t)
	ctx := context.Background()
	s, err := Ensure(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, cfg, 100, 1000) // about 100 kB
	cons := writers(t, js, cfg)
	ack(t, cons, 60)
	lowered := cfg
	lowered.MaxBytes, lowered.MaxBacklogBytes = 20000, 10000 // the 40 unwritten are about 40 kB
	if _, err := Ensure(ctx, js, lowered); err == nil || !strings.Contains(err.Error(), "STREAM_MAX_BYTES=20000 is below the") {
		t.Fatalf("lowered below the backlog: %v", err)
	}
	info := streamInfo(t, s)
	if info.State.FirstSeq != 61 || info.State.LastSeq != 100 || info.Config.MaxBytes != cfg.MaxBytes {
		t.Fatalf("after the refusal: sequences %d..%d, max bytes %d; want 61..100 and %d", info.State.FirstSeq, info.State.LastSeq, info.Config.MaxBytes, cfg.MaxBytes)
	}
	ack(t, cons, 10) // 10 more written: history again
	lowered.MaxBytes, lowered.MaxBacklogBytes = 40000, 30000
	if _, err := Ensure(ctx, js, lowered); err != nil {
		t.Fatalf("lowered above the backlog: %v", err)
	}
	info = streamInfo(t, s)
	if info.Config.MaxBytes != 40000 || info.State.Bytes > 40000 || info.State.FirstSeq > 71 || info.State.LastSeq != 100 {
		t.Fatalf("after lowering: max bytes %d, %d bytes, sequences %d..%d", info.Config.MaxBytes, info.State.Bytes, info.State.FirstSeq, info.State.LastSeq)
	}
}
