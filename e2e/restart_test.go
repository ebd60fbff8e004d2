package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
)

// TestServicesRestartOnWhatExists stops the API and the writer and starts
// them again, twice: they reuse the stream, the consumer and the table (no
// message replayed, no row lost) and go on as before.
func TestServicesRestartOnWhatExists(t *testing.T) {
	p := startPipeline(t, options{})
	start := time.Now().Add(-time.Hour)
	post := func(api devtest.Service, ship string) {
		status, _, body := p.postTo("http://"+api.Addr, "/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody(ship, start, 100, 0))
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", ship, status, body)
		}
	}
	for round, ship := range []string{"ship-0", "ship-1", "ship-2"} {
		api := devtest.RunService(t, func(ctx context.Context, listening func(string)) error {
			return ingest.Run(ctx, p.ingest, testLog, listening)
		})
		stopWriter := p.startWriter()
		post(api, ship)
		p.waitForRows(uint64(100*(round+1)), 30*time.Second)
		api.Stop()
		stopWriter()
	}
	info, err := p.consumer().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Delivered.Stream != 3 || info.NumRedelivered != 0 || info.AckFloor.Stream != 3 {
		t.Fatalf("consumer after restarts: delivered %d, redelivered %d, ack floor %d; want 3, 0, 3",
			info.Delivered.Stream, info.NumRedelivered, info.AckFloor.Stream)
	}
	if n := p.count(false, ""); n != 300 {
		t.Fatalf("%d rows, want 300", n)
	}
}
