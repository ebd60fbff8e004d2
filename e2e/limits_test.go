package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	"github.com/harbor-ingest/harbor/services/writer/replay"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
	"github.com/nats-io/nats.go/jetstream"
)

// The tests of this file are issue 10's cases: a limit of the stream
// (STREAM_MAX_BYTES, STREAM_MAX_BACKLOG_BYTES, STREAM_MAX_AGE) must never
// discard a reading the writers have not written. Each counts the readings
// answered 200 per ship and the rows stored per ship, and fails on any
// difference.

// tally counts the readings answered 200, per ship.
type tally struct {
	mu    sync.Mutex
	ships map[string]int
}

func (a *tally) add(ship string, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ships == nil {
		a.ships = map[string]int{}
	}
	a.ships[ship] += n
}

func (a *tally) total() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, v := range a.ships {
		n += v
	}
	return n
}

// storedPerShip is the deduplicated rows of the table, per ship.
func (p *pipeline) storedPerShip() map[string]int {
	p.t.Helper()
	out := map[string]int{}
	for _, r := range p.rows() {
		out[r.Ship]++
	}
	return out
}

// checkStored waits until the writers have written every message of the
// stream, then fails the test unless the rows stored are, ship by ship, the
// readings answered 200.
func (p *pipeline) checkStored(accepted *tally) {
	p.t.Helper()
	p.waitUntilWritten()
	stored := p.storedPerShip()
	accepted.mu.Lock()
	defer accepted.mu.Unlock()
	var diffs []string
	total := 0
	for _, ship := range slices.Sorted(maps.Keys(accepted.ships)) {
		total += accepted.ships[ship]
		if stored[ship] != accepted.ships[ship] {
			diffs = append(diffs, fmt.Sprintf("%s: %d answered 200, %d stored", ship, accepted.ships[ship], stored[ship]))
		}
	}
	for ship, n := range stored {
		if _, ok := accepted.ships[ship]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: never answered 200, %d stored", ship, n))
		}
	}
	storedTotal := 0
	for _, n := range stored {
		storedTotal += n
	}
	p.t.Logf("readings answered 200: %d; stored: %d", total, storedTotal)
	if len(diffs) > 10 {
		diffs = append(diffs[:10], fmt.Sprintf("... and %d more ships", len(diffs)-10))
	}
	if len(diffs) > 0 {
		p.t.Fatalf("stored readings differ from those answered 200 (%d answered, %d stored):\n%s", total, storedTotal, strings.Join(diffs, "\n"))
	}
}

// checkBacklogFull fails unless an answer is the 503 of a full backlog:
// Retry-After and a JSON error that says so.
func checkBacklogFull(t *testing.T, status int, header http.Header, body []byte) {
	t.Helper()
	var problem struct{ Message string }
	if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || json.Unmarshal(body, &problem) != nil ||
		!strings.Contains(problem.Message, "backlog") {
		t.Fatalf("want 503 with Retry-After and a JSON error about the backlog, got %d, Retry-After %q, %s", status, header.Get("Retry-After"), body)
	}
}

// singleBody is one reading of ship at start+i seconds.
func singleBody(ship string, start time.Time, i int) []byte {
	return fmt.Appendf(nil, `{"time":%q,"ship_id":%q,"cargo_id":"temp","value":%d}`,
		start.Add(time.Duration(i)*time.Second).Format(time.RFC3339Nano), ship, i)
}

// postSingles posts n single readings of ship from clients at once, each
// retried while the answer is 503, and returns how many 503s they got.
func (p *pipeline) postSingles(accepted *tally, ship string, start time.Time, n, clients int) (refused int) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := c; i < n; i += clients {
				for attempt := 0; ; attempt++ {
					status, header, body := p.post("/api/v1/ingest/ingest/"+harborA, keyA, singleBody(ship, start, i))
					if status == http.StatusOK {
						accepted.add(ship, 1)
						break
					}
					if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || attempt == 300 {
						p.t.Errorf("reading %d: %d, Retry-After %q, %s", i, status, header.Get("Retry-After"), body)
						return
					}
					mu.Lock()
					refused++
					mu.Unlock()
					time.Sleep(50 * time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	return refused
}

// postCarefully posts batches of perBatch readings, each of its own ship
// prefix-i, as a careful client does (postUntilAccepted), and counts them
// in accepted; it ends the test at the first batch refused for good.
func (p *pipeline) postCarefully(accepted *tally, prefix string, start time.Time, batches, perBatch int) {
	p.t.Helper()
	for i := range batches {
		ship := prefix + "-" + strconv.Itoa(i)
		if !p.postUntilAccepted(ship, batchBody(ship, start, perBatch, 0)) {
			p.t.FailNow()
		}
		accepted.add(ship, perBatch)
	}
}

var limitsEnv = map[string]string{"STREAM_MAX_BYTES": "3000000", "STREAM_MAX_BACKLOG_BYTES": "1500000"}

// TestFullStreamKeepsUnwrittenReadings is issue 10's case 1: after a
// history of small single-reading messages, large batches fill the backlog
// with the writer stopped. The API must answer 503 before the stream drops
// any of them, store every batch it answered 200, and replay must still
// read what the stream kept.
func TestFullStreamKeepsUnwrittenReadings(t *testing.T) {
	p := startPipeline(t, options{environment: limitsEnv})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var accepted tally
	stopWriter := p.startWriter()
	if refused := p.postSingles(&accepted, "singles", start, 3000, 4); refused != 0 {
		t.Errorf("%d of 3000 single readings refused with an empty backlog", refused)
	}
	p.waitUntilWritten()
	stopWriter()

	refused := false
	for i := 0; i < 100 && !refused; i++ {
		ship := "batch-" + strconv.Itoa(i)
		status, header, body := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody(ship, start, 10000, 0))
		if status == http.StatusOK {
			accepted.add(ship, 10000)
			continue
		}
		checkBacklogFull(t, status, header, body)
		refused = true
	}
	if !refused {
		t.Fatal("100 batches of 10,000 readings (24 MB) never filled a 1.5 MB backlog")
	}
	info := p.streamInfo()
	t.Logf("stream when refused: %d messages, %d bytes, first sequence %d; %d readings answered 200",
		info.State.Msgs, info.State.Bytes, info.State.FirstSeq, accepted.total())

	p.startWriter()
	p.checkStored(&accepted)
	// Drained: accepted again.
	status, _, body := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody("after", start, 100, 0))
	for deadline := time.Now().Add(30 * time.Second); status == http.StatusServiceUnavailable && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		status, _, body = p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody("after", start, 100, 0))
	}
	if status != http.StatusOK {
		t.Fatalf("after the writer drained the backlog: %d %s", status, body)
	}
	accepted.add("after", 100)
	p.checkStored(&accepted)

	// Replay reads the history the stream kept: the same rows as live.
	var out bytes.Buffer
	cfg := p.writer
	if err := replay.Command(context.Background(), cfg.Stream, cfg.ClickHouse, cfg.Pipeline,
		[]string{"-from", start.Add(-time.Hour).Format(time.RFC3339), "-table", "backfill"}, &out, testLog); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	live := map[row]bool{}
	for _, r := range p.rows() {
		live[r] = true
	}
	backfill := p.rowsOf("backfill")
	ships := map[string]int{}
	for _, r := range backfill {
		if !live[r] {
			t.Fatalf("replay inserted %v, which live ingestion did not store", r)
		}
		ships[r.Ship]++
	}
	if ships["after"] != 100 {
		t.Fatalf("replay inserted %d readings of the last batch, want 100\n%s", ships["after"], out.String())
	}
	t.Logf("replay of the kept history: %d readings of %d ships", len(backfill), len(ships))
}

// TestNoFalse503WithLargeHistory is issue 10's case 1 the other way round:
// after a history of large batches (written), single readings posted at
// once by several clients must never be refused, as their backlog stays far
// below the cap.
func TestNoFalse503WithLargeHistory(t *testing.T) {
	p := startPipeline(t, options{writers: 1, environment: limitsEnv})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var accepted tally
	p.postCarefully(&accepted, "batch", start, 5, 10000)
	p.waitUntilWritten()
	// 4,000 readings are at most 0.5 MB in the stream: the backlog cannot
	// reach 1.5 MB, so any 503 is a false one.
	refused := p.postSingles(&accepted, "singles", start, 4000, 8)
	p.checkStored(&accepted)
	if refused != 0 {
		t.Fatalf("%d false 503s for 4,000 single readings, while the backlog could not pass a third of the cap", refused)
	}
}

// startAPIWith starts an ingest API replica with the settings, or returns
// the error it failed to start with.
func (p *pipeline) startAPIWith(environment map[string]string) (devtest.Service, error) {
	p.t.Helper()
	cfg := parseConfig[ingest.Config](p.t, environment)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- ingest.Run(ctx, cfg, testLog, func(addr string) { ready <- addr }) }()
	select {
	case addr := <-ready:
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); <-done }) }
		p.t.Cleanup(stop)
		return devtest.Service{Addr: addr, Stop: stop}, nil
	case err := <-done:
		cancel()
		if err == nil {
			p.t.Fatal("the API returned nil before it listened")
		}
		return devtest.Service{}, err
	case <-time.After(60 * time.Second):
		cancel()
		p.t.Fatal("the API neither started nor failed within 60s")
		return devtest.Service{}, nil
	}
}

// TestLoweredMaxBytesNeverTruncates is issue 10's case 2: an API restarted
// with a STREAM_MAX_BYTES below what the writers have not written refuses
// to start and leaves the stream as it is; a writer started with other
// settings does not change the stream's settings either; once the writers
// wrote the backlog, the lower limit starts and trims only written history.
func TestLoweredMaxBytesNeverTruncates(t *testing.T) {
	environment := map[string]string{"STREAM_MAX_BYTES": "4000000", "STREAM_MAX_BACKLOG_BYTES": "3000000"}
	p := startPipeline(t, options{environment: environment})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var accepted tally
	p.postCarefully(&accepted, "batch", start, 6, 10000) // about 1.5 MB, no writer running
	before := p.streamInfo()

	lowered := with(p.env, "STREAM_MAX_BYTES", "1000000", "STREAM_MAX_BACKLOG_BYTES", "500000")
	if api, err := p.startAPIWith(lowered); err == nil {
		api.Stop()
		t.Error("an API with STREAM_MAX_BYTES=1000000 started over 1.5 MB of unwritten readings")
	} else if !strings.Contains(err.Error(), "STREAM_MAX_BYTES") {
		t.Errorf("refused with an error that does not name STREAM_MAX_BYTES: %v", err)
	} else {
		t.Logf("refused as it should: %v", err)
	}
	if after := p.streamInfo(); after.State.Msgs != before.State.Msgs || after.Config.MaxBytes != 4000000 {
		t.Errorf("after the refused start: %d messages (want %d), max bytes %d (want 4000000)", after.State.Msgs, before.State.Msgs, after.Config.MaxBytes)
	}

	// A writer with the default limits (10 GiB) leaves the stream's alone.
	defaults := parseConfig[writer.Config](t, with(p.env, "STREAM_MAX_BYTES", "", "STREAM_MAX_BACKLOG_BYTES", "", "STREAM_MAX_AGE", "24h"))
	devtest.RunService(t, func(ctx context.Context, listening func(string)) error {
		listening("")
		return writer.Run(ctx, defaults, testLog)
	})
	p.checkStored(&accepted)
	if cfg := p.streamInfo().Config; cfg.MaxBytes != 4000000 || cfg.Discard != jetstream.DiscardNew || cfg.MaxAge != 0 {
		t.Fatalf("a writer with other settings changed the stream: max bytes %d, discard %v, max age %s", cfg.MaxBytes, cfg.Discard, cfg.MaxAge)
	}

	// Everything written: the lower limit starts, and what it trims is history.
	api, err := p.startAPIWith(lowered)
	if err != nil {
		t.Fatalf("the lower limit with nothing left unwritten: %v", err)
	}
	if info := p.streamInfo(); info.Config.MaxBytes != 1000000 || info.State.Bytes > 1000000 {
		t.Fatalf("after the lowered start: max bytes %d, %d bytes in the stream", info.Config.MaxBytes, info.State.Bytes)
	}
	status, _, body := p.postTo("http://"+api.Addr, "/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody("after", start, 1000, 0))
	if status != http.StatusOK {
		t.Fatalf("post to the restarted API: %d %s", status, body)
	}
	accepted.add("after", 1000)
	p.checkStored(&accepted)
}

// TestMaxAgeKeepsUnwrittenReadings is issue 10's case 3: readings older
// than STREAM_MAX_AGE that no writer has written stay in the stream until
// one does; only then does the age limit trim them.
func TestMaxAgeKeepsUnwrittenReadings(t *testing.T) {
	p := startPipeline(t, options{environment: map[string]string{"STREAM_MAX_AGE": "2s", "STREAM_DUPLICATE_WINDOW": "1s"}})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	var accepted tally
	p.postCarefully(&accepted, "ship", start, 50, 10)
	time.Sleep(5 * time.Second) // the writers' outage outlasts the max age
	if n := p.streamMessages(); n != 50 {
		t.Errorf("%d messages in the stream after 5 s of a 2 s max age, want the 50 unwritten ones", n)
	}
	p.startWriter()
	p.checkStored(&accepted)
	// Written, they may go now.
	devtest.WaitFor(t, time.Minute, "the written readings to pass the max age and be trimmed", func() bool { return p.streamMessages() == 0 })
}
