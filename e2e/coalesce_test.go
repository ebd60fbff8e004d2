package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCoalescedRequestsAreAnsweredEachOnItsOwn posts single readings of two
// harbors at once, good ones among bad ones, through the group commit: each
// bad one gets its own 400, each good one 200, and ClickHouse holds exactly
// the good readings, each with its harbor.
func TestCoalescedRequestsAreAnsweredEachOnItsOwn(t *testing.T) {
	p := startPipeline(t, options{writers: 1, environment: map[string]string{"PUBLISH_COALESCE_LINGER": "5ms"}})
	const requests = 60
	start := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var want []row
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range requests {
		harbor, key := harborA, keyA
		if i%2 == 1 {
			harbor, key = harborB, keyB
		}
		ship := "ship-" + strconv.Itoa(i)
		at := start.Add(time.Duration(i) * time.Second)
		body := fmt.Sprintf(`{"ship_id":%q,"cargo_id":"c","time":%q,"value":%d}`, ship, at.Format(time.RFC3339Nano), i)
		bad := i%5 == 0
		if bad {
			body = fmt.Sprintf(`{"ship_id":%q,"cargo_id":"c","time":%q}`, ship, at.Format(time.RFC3339Nano)) // no value
		}
		wg.Go(func() {
			status, _, answer := p.post("/api/v1/ingest/ingest/"+harbor, key, []byte(body))
			switch {
			case bad && status != http.StatusBadRequest:
				t.Errorf("request %d without a value: %d %s, want 400", i, status, answer)
			case bad:
				var e struct{ Details []struct{ Loc []string } }
				if json.Unmarshal(answer, &e) != nil || len(e.Details) != 1 || !slices.Equal(e.Details[0].Loc, []string{"value"}) {
					t.Errorf("request %d: error body %s is not its own (the missing value)", i, answer)
				}
			case status != http.StatusOK:
				t.Errorf("request %d: %d %s, want 200", i, status, answer)
			default:
				mu.Lock()
				want = append(want, row{Harbor: harbor, Ship: ship, Cargo: "c", Millis: at.UnixMilli(), Value: float64(i)})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(want) != requests-requests/5 {
		t.Fatalf("%d requests answered 200, want %d", len(want), requests-requests/5)
	}
	p.waitForRows(uint64(len(want)), time.Minute)
	got := p.rows()
	slices.SortFunc(want, func(a, b row) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	slices.SortFunc(got, func(a, b row) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if !slices.Equal(got, want) {
		t.Fatalf("stored rows differ from the readings answered 200:\n got %v\nwant %v", got, want)
	}
	if n := p.streamMessages(); n >= uint64(len(want)) {
		t.Logf("%d readings in %d stream messages: none combined this time", len(want), n)
	}
}

// TestNATSDownFailsEveryWaitingRequest stops NATS while requests wait in the
// group commit (a long linger holds them): each is answered 503 with
// Retry-After, none 200.
func TestNATSDownFailsEveryWaitingRequest(t *testing.T) {
	p := startPipeline(t, options{noCH: true, environment: map[string]string{
		"PUBLISH_COALESCE_LINGER": "1s", "PUBLISH_TIMEOUT": "2s",
	}})
	const requests = 10
	type answer struct {
		status     int
		retryAfter string
	}
	answers := make(chan answer, requests)
	for i := range requests {
		go func() {
			status, header, _ := p.post("/api/v1/ingest/ingest/"+harborA, keyA, fmt.Appendf(nil, `{"ship_id":"s%d","cargo_id":"c","value":1}`, i))
			answers <- answer{status, header.Get("Retry-After")}
		}()
	}
	// Every request is past the connection check and waits for its message.
	for deadline := time.Now().Add(20 * time.Second); metric(t, p.url, "harbor_publish_in_flight") < requests; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %v of %d requests wait for JetStream", metric(t, p.url, "harbor_publish_in_flight"), requests)
		}
	}
	p.stopNATS()
	for range requests {
		select {
		case a := <-answers:
			if a.status != http.StatusServiceUnavailable || a.retryAfter == "" {
				t.Errorf("a request waiting while NATS stopped: %d with Retry-After %q, want 503 with Retry-After", a.status, a.retryAfter)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a request is still unanswered 30 s after NATS stopped")
		}
	}
}
