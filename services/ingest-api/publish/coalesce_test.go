package publish

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/schema/schematest"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/ingest-api/api"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var quiet = slog.New(slog.DiscardHandler)

// testPublisher opens the stream on an embedded NATS server (syncing each
// message, as Harbor runs it) and returns a Publisher with the coalescer's
// settings.
func testPublisher(t testing.TB, ns *server.Server, coalesce CoalesceConfig, timeout time.Duration) (*Publisher, jetstream.JetStream, stream.Config, *prometheus.Registry) {
	t.Helper()
	cfg := devtest.ParseEnv[stream.Config](t, map[string]string{"NATS_URL": ns.ClientURL()})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	nc, js, err := stream.Open(ctx, cfg, "coalesce-test", quiet, jetstream.WithPublishAsyncTimeout(timeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	reg := prometheus.NewRegistry()
	return New(ctx, nc, js, cfg, coalesce, timeout, reg, quiet), js, cfg, reg
}

// reading i of request r of harbor h: the ship says which, so that each
// reading found in the stream tells where it came from.
func testReading(h, r, i int) schema.Reading {
	return schema.Reading{ShipID: fmt.Sprintf("h%d-r%d-i%d", h, r, i), CargoID: "c", Time: int64(1_700_000_000_000 + r*10 + i), Value: float64(i)}
}

// streamReadings returns every message of the stream, decoded, with its
// harbor.
func streamReadings(t *testing.T, js jetstream.JetStream, cfg stream.Config) (harbors []string, msgs [][]schema.Reading) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, cfg.Name)
	if err != nil {
		t.Fatal(err)
	}
	last := s.CachedInfo().State.LastSeq
	for seq := uint64(1); seq <= last; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		h, ok := cfg.HarborID(m.Subject)
		if !ok {
			t.Fatalf("message %d on subject %s", seq, m.Subject)
		}
		harbors, msgs = append(harbors, h), append(msgs, schematest.Readings(t, m.Data))
	}
	return harbors, msgs
}

func TestCoalescerCombinesConcurrentRequestsOfAHarbor(t *testing.T) {
	const harbors, requests, maxReadings = 3, 60, 16
	coalesce := CoalesceConfig{Enabled: true, Linger: 2 * time.Millisecond, MaxReadings: maxReadings, MaxBytes: 1 << 20}
	p, js, cfg, reg := testPublisher(t, devtest.NATS(t), coalesce, 10*time.Second)

	// Every request of every harbor at once: 1 to 3 readings each.
	want := map[string]string{} // ship -> harbor
	var wg sync.WaitGroup
	errs := make(chan error, harbors*requests)
	for h := range harbors {
		for r := range requests {
			readings := make([]schema.Reading, 1+r%3)
			for i := range readings {
				readings[i] = testReading(h, r, i)
				want[readings[i].ShipID] = "harbor-" + strconv.Itoa(h)
			}
			wg.Go(func() {
				if err := p.Publish(context.Background(), "harbor-"+strconv.Itoa(h), readings, api.Idempotency{}); err != nil {
					errs <- err
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("publish: %v", err)
	}

	subjects, msgs := streamReadings(t, js, cfg)
	if len(msgs) >= harbors*requests {
		t.Errorf("%d requests made %d messages: none were combined", harbors*requests, len(msgs))
	}
	seen := map[string]int{}
	for i, rs := range msgs {
		if len(rs) > maxReadings {
			t.Errorf("message %d has %d readings, over PUBLISH_COALESCE_MAX_READINGS=%d", i+1, len(rs), maxReadings)
		}
		for _, r := range rs {
			seen[r.ShipID]++
			if h := want[r.ShipID]; h != subjects[i] {
				t.Errorf("reading %s of %q is in a message of harbor %q", r.ShipID, h, subjects[i])
			}
		}
	}
	for ship := range want {
		if seen[ship] != 1 {
			t.Errorf("reading %s is in the stream %d times, want once", ship, seen[ship])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("the stream holds %d distinct readings, want %d", len(seen), len(want))
	}
	p.coalescer.mu.Lock()
	if n := len(p.coalescer.queues); n != 0 {
		t.Errorf("%d harbor queues left after every request was answered", n)
	}
	p.coalescer.mu.Unlock()
	if n := testutil.CollectAndCount(reg, "harbor_publish_coalesced_requests", "harbor_publish_coalesced_readings", "harbor_publish_coalesce_wait_seconds"); n != 3 {
		t.Errorf("%d of the coalescer's 3 metrics registered", n)
	}
	t.Logf("%d requests of %d harbors in %d messages", harbors*requests, harbors, len(msgs))
}

func TestCoalescerKeepsIdempotentAndLargeRequestsApart(t *testing.T) {
	coalesce := CoalesceConfig{Enabled: true, Linger: time.Millisecond, MaxReadings: 4, MaxBytes: 1 << 20}
	p, js, cfg, _ := testPublisher(t, devtest.NATS(t), coalesce, 10*time.Second)
	large := []schema.Reading{testReading(0, 0, 0), testReading(0, 0, 1), testReading(0, 0, 2), testReading(0, 0, 3), testReading(0, 0, 4)}
	keyed := []schema.Reading{testReading(0, 1, 0)}
	var wg sync.WaitGroup
	for _, c := range []struct {
		readings []schema.Reading
		idem     api.Idempotency
	}{{large, api.Idempotency{}}, {keyed, api.Idempotency{Key: "key-1", Fingerprint: "f1"}}, {keyed, api.Idempotency{Key: "key-1", Fingerprint: "f1"}}} {
		wg.Go(func() {
			if err := p.Publish(context.Background(), "h", c.readings, c.idem); err != nil {
				t.Errorf("publish: %v", err)
			}
		})
	}
	wg.Wait()
	_, msgs := streamReadings(t, js, cfg)
	// The large request alone (over MaxReadings), the keyed one once: its
	// retry is a duplicate of the same message id.
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2: %v", len(msgs), msgs)
	}
	for _, rs := range msgs {
		if len(rs) != len(large) && len(rs) != len(keyed) {
			t.Errorf("a message of %d readings mixes the requests", len(rs))
		}
	}
}

func TestCoalescerFailsEveryWaitingRequestWhenNATSIsDown(t *testing.T) {
	ns := devtest.NATS(t)
	// A long linger keeps the requests waiting in the coalescer until NATS
	// is gone.
	coalesce := CoalesceConfig{Enabled: true, Linger: 300 * time.Millisecond, MaxReadings: 10000, MaxBytes: 1 << 20}
	p, _, _, _ := testPublisher(t, ns, coalesce, 2*time.Second)
	const requests = 20
	errs := make(chan error, requests)
	for r := range requests {
		go func() {
			errs <- p.Publish(context.Background(), "h", []schema.Reading{testReading(0, r, 0)}, api.Idempotency{})
		}()
	}
	waiting := func() int {
		p.coalescer.mu.Lock()
		defer p.coalescer.mu.Unlock()
		if q := p.coalescer.queues["h"]; q != nil {
			return len(q.waiting)
		}
		return 0
	}
	for deadline := time.Now().Add(10 * time.Second); waiting() < requests; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d requests reached the coalescer", waiting(), requests)
		}
	}
	ns.Shutdown()
	for range requests {
		select {
		case err := <-errs:
			if err == nil {
				t.Error("a request waiting while NATS went down was answered as stored")
			} else if !strings.Contains(err.Error(), "publish to") && !strings.Contains(err.Error(), "acknowledgement") {
				t.Errorf("unexpected error: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a request still waits 30 s after NATS went down")
		}
	}
}

func TestCoalesceConfigCheck(t *testing.T) {
	good, err := env.ParseAs[CoalesceConfig]()
	if err != nil {
		t.Fatal(err)
	}
	if err := good.Check(); err != nil || !good.Enabled || good.Linger != 500*time.Microsecond || good.MaxReadings != 1000 || good.MaxBytes != 1<<20 {
		t.Fatalf("defaults %+v: %v", good, err)
	}
	for _, bad := range []func(*CoalesceConfig){
		func(c *CoalesceConfig) { c.Linger = -time.Millisecond },
		func(c *CoalesceConfig) { c.MaxReadings = 0 },
		func(c *CoalesceConfig) { c.MaxBytes = 100 },
	} {
		c := good
		bad(&c)
		if c.Check() == nil {
			t.Errorf("%+v passes the check", c)
		}
	}
}
