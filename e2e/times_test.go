package e2e

import (
	"context"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
)

// TestServicesRefuseTimeLimitsTheTableCannotHold: a MAX_FUTURE or MAX_PAST
// that reaches past what the table's DateTime column holds stops the API
// and the writer at start, with an error naming the setting and the limit.
func TestServicesRefuseTimeLimitsTheTableCannotHold(t *testing.T) {
	for setting, limit := range map[string]string{"MAX_FUTURE": "2106-02-07T06:28:15", "MAX_PAST": "1970-01-01T00:00:00Z"} {
		environment := map[string]string{"NATS_URL": "nats://127.0.0.1:1", setting: "1000000h", "LISTEN_ADDR": "127.0.0.1:0", "HTTP_ADDR": "127.0.0.1:0"}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		apiErr := ingest.Run(ctx, parseConfig[ingest.Config](t, environment), testLog, nil)
		writerErr := writer.Run(ctx, parseConfig[writer.Config](t, environment), testLog)
		cancel()
		for name, err := range map[string]error{"API": apiErr, "writer": writerErr} {
			if err == nil || !strings.Contains(err.Error(), setting+"=1000000h") || !strings.Contains(err.Error(), limit) {
				t.Errorf("%s with %s=1000000h: %v, want a refusal naming the setting and the table's limit", name, setting, err)
			}
		}
	}
}

// TestWriterDeadLettersWhatTheAPIWouldRefuse publishes payloads straight on
// the stream, past the API: readings with times the table cannot hold or the
// API would have refused when they were published, and bad ids, are
// dead-lettered, never stored (a year-2200 time is not stored as 2063); a
// good reading published after them is stored.
func TestWriterDeadLettersWhatTheAPIWouldRefuse(t *testing.T) {
	p := startPipeline(t, options{writers: 1})
	nc, js := p.jetStream()
	defer nc.Close()
	ctx := context.Background()
	now := time.Now()
	ok := schema.Reading{Time: now.Add(-time.Hour).UnixMilli(), ShipID: "ship-1", CargoID: "temp", Value: 1.5}
	with := func(change func(*schema.Reading)) schema.Reading { r := ok; change(&r); return r }
	bad := map[string]schema.Reading{
		"year 2200":           with(func(r *schema.Reading) { r.Time = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() }),
		"past the table":      with(func(r *schema.Reading) { r.Time = 4_294_967_296_000 }),
		"before 1970":         with(func(r *schema.Reading) { r.Time = -1000 }),
		"beyond MAX_FUTURE":   with(func(r *schema.Reading) { r.Time = now.Add(48 * time.Hour).UnixMilli() }),
		"beyond MAX_PAST":     with(func(r *schema.Reading) { r.Time = now.Add(-6 * 8760 * time.Hour).UnixMilli() }),
		"control character":   with(func(r *schema.Reading) { r.ShipID = "ship\x00-1" }),
		"empty cargo":         with(func(r *schema.Reading) { r.CargoID = "" }),
		"id too long":         with(func(r *schema.Reading) { r.ShipID = strings.Repeat("s", 101) }),
		"invalid UTF-8 cargo": with(func(r *schema.Reading) { r.CargoID = "temp\xff" }),
	}
	for name, r := range bad {
		// A good reading first in the payload: all of it is refused anyway.
		payload := schema.EncodePayloads([]schema.Reading{ok, r}, 1<<20)[0]
		if _, err := js.Publish(ctx, p.ingest.Stream.Subject(harborA), payload); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	edge := with(func(r *schema.Reading) {
		r.ShipID, r.Time = strings.Repeat("é", 100), now.Add(23*time.Hour).UnixMilli()
	})
	if _, err := js.Publish(ctx, p.ingest.Stream.Subject(harborA), schema.EncodePayloads([]schema.Reading{edge}, 1<<20)[0]); err != nil {
		t.Fatal(err)
	}
	p.waitForRows(1, 30*time.Second)
	dead, err := js.Stream(ctx, p.ingest.Stream.DeadLetterName())
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); dead.CachedInfo().State.Msgs != uint64(len(bad)); {
		if time.Now().After(deadline) {
			t.Fatalf("dead-letter stream holds %d messages, want %d", dead.CachedInfo().State.Msgs, len(bad))
		}
		time.Sleep(100 * time.Millisecond)
		if _, err := dead.Info(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := []row{{Harbor: harborA, Ship: edge.ShipID, Cargo: edge.CargoID, Millis: edge.Time, Value: edge.Value}}
	if got := p.rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored rows %+v, want only %+v", got, want)
	}
	// The reason says what was wrong.
	m, err := dead.GetLastMsgForSubject(ctx, p.ingest.Stream.DeadLetterSubject(harborA))
	if err != nil {
		t.Fatal(err)
	}
	if reason := m.Header.Get("Harbor-Dead-Reason"); !strings.Contains(reason, "reading [1]") {
		t.Errorf("dead-letter reason %q does not name the reading", reason)
	}
	// What the API refuses the same way.
	status, _, body := p.post("/api/v1/ingest/ingest/"+harborA, keyA, []byte(`{"time":"2200-01-01T00:00:00Z","ship_id":"s","cargo_id":"c","value":1}`))
	if status != http.StatusBadRequest || !strings.Contains(string(body), "time_range") {
		t.Errorf("year 2200 through the API: %d %s", status, body)
	}
}
