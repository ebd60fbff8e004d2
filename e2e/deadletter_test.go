package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/services/writer/deadletter"
)

// TestUndecodableMessageIsDeadLettered puts a message no writer can decode
// into the readings stream between accepted batches: the writer sets it
// aside as a dead letter (listed by `writer dead-letter list`) and stores
// exactly the accepted readings around it.
func TestUndecodableMessageIsDeadLettered(t *testing.T) {
	devtest.OnEachEngine(t, testUndecodableMessageIsDeadLettered)
}

func testUndecodableMessageIsDeadLettered(t *testing.T, engine devenv.Engine) {
	p := startPipeline(t, options{writers: 1, engine: engine})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	p.postBatch(harborA, keyA, batchBody("before", start, 10, 0))
	nc, _ := p.jetStream()
	defer nc.Close()
	if err := nc.Publish(p.ingest.Stream.Subject(harborA), []byte("not a payload")); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	p.postBatch(harborA, keyA, batchBody("after", start, 10, 0))

	var entries []deadletter.Entry
	devtest.WaitFor(t, time.Minute, "the dead letter", func() bool {
		var out bytes.Buffer
		if err := deadletter.Command(context.Background(), p.writer.Stream, []string{"list", "-json"}, &out, testLog); err != nil {
			t.Fatalf("writer dead-letter list: %v", err)
		}
		entries = nil
		return json.Unmarshal(out.Bytes(), &entries) == nil && len(entries) == 1
	})
	if entries[0].Subject != p.ingest.Stream.Subject(harborA) || entries[0].Reason == "" || entries[0].Bytes != len("not a payload") {
		t.Fatalf("dead letter %+v", entries[0])
	}
	p.waitForRows(20, 30*time.Second)
	for _, r := range p.rows() {
		if r.Ship != "after" && r.Ship != "before" {
			t.Fatalf("unexpected row %+v", r)
		}
	}
}
