package publish

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/writerstatus"
)

func TestWritersFollowsReports(t *testing.T) {
	_, _, js := devtest.JetStream(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := writerstatus.Config{Bucket: "writers_test", TTL: time.Second}
	w, err := WatchWriters(ctx, js, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := writerstatus.Open(ctx, js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	put := func(id string, s writerstatus.Status) {
		t.Helper()
		if _, err := kv.Put(ctx, id, s.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	until := func(what string, cond func(error) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond(w.Blocked()) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; Blocked: %v", what, w.Blocked())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	blocked := func(err error) bool {
		return errors.Is(err, ErrWritersBlocked) && strings.Contains(err.Error(), "writer w1: column value is String")
	}

	put("w1", writerstatus.Status{})
	put("w2", writerstatus.Status{})
	if err := w.Blocked(); err != nil {
		t.Fatalf("writers that can write: %v", err)
	}
	put("w1", writerstatus.Status{Blocked: "column value is String, want Float64"})
	until("the blocked report", blocked)
	put("w1", writerstatus.Status{})
	until("the writer to be unblocked", func(err error) bool { return err == nil })
	put("w1", writerstatus.Status{Blocked: "column value is String, want Float64"})
	until("the blocked report again", blocked)
	if err := kv.Delete(ctx, "w1"); err != nil { // the writer stopped
		t.Fatal(err)
	}
	until("the stopped writer to no longer count", func(err error) bool { return err == nil })
	put("w3", writerstatus.Status{Blocked: "gone"})
	until("w3's report", func(err error) bool { return err != nil })
	// A writer that dies without deleting its key stops counting after the TTL.
	until("the report to expire", func(err error) bool { return err == nil })
}
