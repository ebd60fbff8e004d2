package e2e

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// TestKilledWriterMessagesGoToAnotherWriter SIGKILLs a writer process that
// holds a batch it has not inserted yet. Its messages are redelivered to
// another writer process and every accepted reading is stored exactly once.
func TestKilledWriterMessagesGoToAnotherWriter(t *testing.T) {
	p := startPipeline(t, options{writers: 0})
	environment := with(p.env, "FLUSH_INTERVAL", "30s", "ACK_WAIT", "2s") // hold the batch until killed
	first := startProcess(t, "writer", environment)

	start := time.Now().Add(-time.Hour)
	const batches, perBatch = 20, 500
	for i := range batches {
		p.postBatch(harborA, keyA, batchBody("ship-"+strconv.Itoa(i), start, perBatch, 0))
	}
	cons := p.consumer()
	devtest.WaitFor(t, time.Minute, "the first writer to hold every message", func() bool {
		info, err := cons.Info(context.Background())
		return err == nil && info.NumAckPending == batches
	})
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	if n := p.count(false, ""); n != 0 {
		t.Fatalf("%d rows stored before the kill, want 0 (the batch was held)", n)
	}

	startProcess(t, "writer", with(environment, "FLUSH_INTERVAL", "200ms"))
	p.waitForRows(batches*perBatch, 60*time.Second)
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered == 0 && info.Delivered.Consumer <= batches {
		t.Fatalf("no redelivery seen: %+v", info)
	}
	// Stored exactly once: no duplicate even before merges.
	if n := p.count(false, ""); n != batches*perBatch {
		t.Fatalf("%d rows without FINAL, want %d", n, batches*perBatch)
	}
}
