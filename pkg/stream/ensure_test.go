package stream

import (
	"context"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestEnsureCreatesUpdatesAndKeepsMessages(t *testing.T) {
	ns := devenv.TestNATS(t)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	cfg, err := env.ParseAs[Config]()
	if err != nil {
		t.Fatal(err)
	}

	if _, err := Ensure(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, cfg.Subject("h1"), []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := Ensure(ctx, js, cfg); err != nil { // a second service starting
		t.Fatalf("ensure an existing stream: %v", err)
	}
	cfg.MaxAge = 48 * time.Hour
	s, err := Ensure(ctx, js, cfg)
	if err != nil {
		t.Fatalf("ensure with a new max age: %v", err)
	}
	info := s.CachedInfo()
	if info.Config.MaxAge != 48*time.Hour || info.State.Msgs != 1 || info.Config.Discard != jetstream.DiscardOld {
		t.Fatalf("after update: max age %s, %d messages, discard %v", info.Config.MaxAge, info.State.Msgs, info.Config.Discard)
	}
	if _, err := js.Stream(ctx, cfg.DeadLetterName()); err != nil {
		t.Fatalf("dead-letter stream: %v", err)
	}
	if h, ok := cfg.HarborID(cfg.Subject("fleet-1")); !ok || h != "fleet-1" {
		t.Fatalf("HarborID(Subject) = %q, %v", h, ok)
	}
}
