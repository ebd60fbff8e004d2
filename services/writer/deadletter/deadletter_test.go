package deadletter

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go"
)

func TestListAndRepublish(t *testing.T) {
	ns := devtest.NATS(t)
	cfg := devtest.ParseEnv[stream.Config](t, map[string]string{"NATS_URL": ns.ClientURL()})
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	nc, js, err := stream.Open(ctx, cfg, "test", log)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	dead := &nats.Msg{Subject: cfg.DeadLetterSubject("fleet"), Data: []byte{9, 9}, Header: nats.Header{
		stream.DeadReasonHeader:   []string{"bad payload: unknown format version 9"},
		stream.DeadSubjectHeader:  []string{cfg.Subject("fleet")},
		stream.DeadSequenceHeader: []string{"41"},
	}}
	if _, err := js.PublishMsg(ctx, dead); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := Command(ctx, cfg, []string{"list"}, &out, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "unknown format version 9") || !strings.Contains(out.String(), cfg.Subject("fleet")) {
		t.Fatalf("list:\n%s", out.String())
	}
	out.Reset()
	if err := Command(ctx, cfg, []string{"list", "-json"}, &out, log); err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil || len(entries) != 1 || entries[0].Sequence != 1 || entries[0].OriginalSeq != "41" || entries[0].Bytes != 2 {
		t.Fatalf("list -json: %s (%v)", out.String(), err)
	}

	out.Reset()
	if err := Command(ctx, cfg, []string{"republish", "1"}, &out, log); err != nil {
		t.Fatal(err)
	}
	s, _ := js.Stream(ctx, cfg.Name)
	msg, err := s.GetLastMsgForSubject(ctx, cfg.Subject("fleet"))
	if err != nil || !bytes.Equal(msg.Data, []byte{9, 9}) {
		t.Fatalf("republished message: %v, %v", msg, err)
	}
	if entries, err := List(ctx, js, cfg, 10); err != nil || len(entries) != 0 {
		t.Fatalf("after republish the dead-letter stream lists %d (%v)", len(entries), err)
	}
	if err := Command(ctx, cfg, []string{"republish", "7"}, &out, log); err == nil || !strings.Contains(err.Error(), "7") {
		t.Fatalf("republishing a missing sequence: %v", err)
	}
}
