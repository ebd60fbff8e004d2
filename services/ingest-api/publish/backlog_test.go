package publish

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/ingest-api/api"
	"github.com/prometheus/client_golang/prometheus"
)

// TestFullStreamIsBacklogFull fills a stream with no writer: every publish
// is either stored and answered, or refused as ErrBacklogFull (by the
// backlog watch or by the stream at STREAM_MAX_BYTES); the stream drops
// nothing it acknowledged.
func TestFullStreamIsBacklogFull(t *testing.T) {
	_, nc, js := devtest.JetStream(t)
	cfg := devtest.ParseEnv[stream.Config](t, map[string]string{
		"STREAM_MAX_BYTES": "200000", "STREAM_MAX_BACKLOG_BYTES": "100000",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := stream.Ensure(ctx, js, cfg); err != nil {
		t.Fatal(err)
	}

	// The stream's own refusal, as JetStream gives it.
	if _, err := js.Publish(ctx, cfg.Subject("h"), make([]byte, 300000)); !errors.Is(publishError(err), ErrBacklogFull) {
		t.Fatalf("a message larger than the stream: %v, want ErrBacklogFull", publishError(err))
	}

	p := New(ctx, nc, js, cfg, CoalesceConfig{}, 5*time.Second, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	readings := make([]schema.Reading, 1000)
	for i := range readings {
		readings[i] = schema.Reading{Time: int64(i), ShipID: "s", CargoID: "c", Value: float64(i)}
	}
	stored := 0
	var err error
	for ; stored < 100; stored++ {
		if err = p.Publish(ctx, "h", readings, api.Idempotency{}); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrBacklogFull) {
		t.Fatalf("after %d batches: %v, want ErrBacklogFull", stored, err)
	}
	info, err := js.Stream(ctx, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st := info.CachedInfo().State; st.Msgs != uint64(stored) || st.FirstSeq != 1 {
		t.Fatalf("%d batches answered, stream holds %d from sequence %d", stored, st.Msgs, st.FirstSeq)
	}
}
