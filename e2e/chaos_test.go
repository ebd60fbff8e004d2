package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// TestChaos posts readings at a steady rate to two API replicas, each
// request with an Idempotency-Key and retried until answered 200, while it
// SIGKILLs and restarts writer processes, ClickHouse and NATS at random,
// cuts the power of NATS (its store loses what was not fsynced), stalls
// every writer (SIGSTOP) past the backlog limit, and restarts an API
// replica with lower or higher stream limits (refused while they are below
// what is unwritten). Then the set of readings answered 200 must equal the
// set stored in ClickHouse.
//
// CHAOS_DURATION sets how long the chaos lasts (make test: 15s; make chaos:
// 3m); CHAOS_SEED repeats a run.
func TestChaos(t *testing.T) {
	duration := 15 * time.Second
	if d, err := time.ParseDuration(os.Getenv("CHAOS_DURATION")); err == nil {
		duration = d
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("CHAOS_SEED"), 10, 64); err == nil {
		seed = s
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("chaos for %s, CHAOS_SEED=%d", duration, seed)

	// NATS as a process of its own, so that it can be killed, with its
	// store on a filesystem whose power can be cut. It syncs always: a power
	// cut must lose nothing it acknowledged.
	nats := startPowerNATS(t, true)
	ch := devtest.ClickHouse(t)
	environment := map[string]string{
		"NATS_URL":        nats.url(),
		"CLICKHOUSE_ADDR": ch.Addr,
		"API_KEYS":        keyA + ":" + harborA,
		"LISTEN_ADDR":     "127.0.0.1:0",
		"HTTP_ADDR":       "127.0.0.1:0",
		"FLUSH_INTERVAL":  "200ms",
		"RETRY_MAX":       "1s",
		"ACK_WAIT":        "3s",
		"PUBLISH_TIMEOUT": "2s",
	}
	p := &pipeline{t: t, env: environment, ingest: parseConfig[ingest.Config](t, environment)}
	apis := []*chaosAPI{startChaosAPI(t, environment, chaosLimits[0]), startChaosAPI(t, environment, chaosLimits[0])}
	var err error
	if p.store, err = store.Open(context.Background(), parseConfig[store.Config](t, environment), testLog); err != nil {
		t.Fatal(err)
	}
	defer p.store.Close()
	writers := []*exec.Cmd{startProcess(t, "writer", environment), startProcess(t, "writer", environment)}

	// Clients: 4 of them, a 20-reading batch every 50 ms each.
	var accepted atomic.Int64
	var requests, retries atomic.Int64
	stop := make(chan struct{})
	var clients sync.WaitGroup
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	for c := range 4 {
		clients.Go(func() {
			for r := 0; ; r++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				id := fmt.Sprintf("c%d-r%d", c, r)
				body := batchBody("ship-"+id, start, 20, float64(r))
				for attempt := 0; ; attempt++ {
					requests.Add(1)
					if apis[(c+r+attempt)%len(apis)].post(body, id) == http.StatusOK {
						accepted.Add(20)
						break
					}
					retries.Add(1)
					time.Sleep(200 * time.Millisecond)
				}
			}
		})
	}

	// Chaos. A stall of the writers and a restart of an API replica come
	// first, so that the short run has them too.
	kills := map[string]int{}
	deadline := time.Now().Add(duration)
	first := []int{3, 4}
	if rng.IntN(2) == 0 {
		first = []int{4, 3}
	}
	for i := 0; time.Now().Before(deadline); i++ {
		time.Sleep(time.Duration(1000+rng.IntN(2000)) * time.Millisecond)
		victim := rng.IntN(6)
		if i < len(first) {
			victim = first[i]
		}
		switch victim {
		case 0:
			i := rng.IntN(len(writers))
			writers[i].Process.Signal(syscall.SIGKILL)
			writers[i].Wait()
			writers[i] = startProcess(t, "writer", environment)
			kills["writer"]++
		case 1:
			ch.Kill()
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
			if err := ch.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			kills["clickhouse"]++
		case 2:
			nats.cmd.Process.Signal(syscall.SIGKILL)
			nats.cmd.Wait()
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
			nats.start(t)
			kills["nats"]++
		case 3:
			for _, w := range writers {
				w.Process.Signal(syscall.SIGSTOP)
			}
			refusedBefore := retries.Load()
			time.Sleep(time.Duration(4000+rng.IntN(2000)) * time.Millisecond)
			for _, w := range writers {
				w.Process.Signal(syscall.SIGCONT)
			}
			kills["writers stalled"]++
			t.Logf("writers stalled: %d requests refused meanwhile", retries.Load()-refusedBefore)
		case 4:
			apis[rng.IntN(len(apis))].restart(t, chaosLimits[rng.IntN(len(chaosLimits))])
			kills["api restarted"]++
		case 5:
			nats.cut(t) // SIGKILL, and what was not fsynced is gone
			time.Sleep(time.Duration(rng.IntN(2000)) * time.Millisecond)
			nats.start(t)
			kills["nats power cut"]++
		}
	}
	close(stop)
	clients.Wait()

	want := accepted.Load()
	t.Logf("kills %v; %d requests, %d refused and retried; %d readings answered 200", kills, requests.Load(), retries.Load(), want)
	for i, api := range apis {
		t.Logf("API replica %d: %d starts refused for limits below the unwritten readings", i, api.refused)
	}
	p.waitForRows(uint64(want), 120*time.Second)
	// The same set, not only the same count: every accepted ship has all its 20 readings.
	if n := p.count(true, "ship_id LIKE 'ship-c%'"); int64(n) != want {
		t.Fatalf("stored %d readings of the accepted ships, want %d", n, want)
	}
	var incomplete uint64
	q := "SELECT count() FROM (SELECT ship_id, count() AS n FROM " + p.store.Table().FullName() + " FINAL GROUP BY ship_id HAVING n != 20)"
	if err := p.store.Conn().QueryRow(context.Background(), q).Scan(&incomplete); err != nil || incomplete != 0 {
		t.Fatalf("%d ships without exactly their 20 readings (%v)", incomplete, err)
	}
	t.Logf("stored: %d readings, equal to the accepted set", want)
}

// chaosLimits are the stream limits an API replica of the chaos starts
// with: a stall of the writers passes the backlog limits.
var chaosLimits = []map[string]string{
	{"STREAM_MAX_BYTES": "500000", "STREAM_MAX_BACKLOG_BYTES": "100000", "STREAM_MAX_AGE": "168h"},
	{"STREAM_MAX_BYTES": "200000", "STREAM_MAX_BACKLOG_BYTES": "40000", "STREAM_MAX_AGE": "5s"},
}

// chaosAPI is an API replica of the chaos test, on a port of its own that
// stays the same across restarts.
type chaosAPI struct {
	url         string
	environment map[string]string
	limits      map[string]string
	svc         devtest.Service
	refused     int // starts refused
}

// startChaosAPI starts a replica with the limits.
func startChaosAPI(t *testing.T, environment, limits map[string]string) *chaosAPI {
	t.Helper()
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	a := &chaosAPI{url: "http://127.0.0.1:" + strconv.Itoa(port), environment: with(environment, "LISTEN_ADDR", "127.0.0.1:"+strconv.Itoa(port))}
	a.start(t, limits)
	return a
}

// restart stops the replica and starts it with the limits.
func (a *chaosAPI) restart(t *testing.T, limits map[string]string) {
	a.svc.Stop()
	a.start(t, limits)
}

// start starts the replica with the limits, or, when they are refused (below
// what is unwritten) or NATS is down, tries its previous limits and then
// again, for up to a minute.
func (a *chaosAPI) start(t *testing.T, limits map[string]string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for try := 0; ; try++ {
		l := limits
		if try%2 == 1 && a.limits != nil {
			l = a.limits
		}
		env := maps.Clone(a.environment)
		maps.Copy(env, l)
		p := &pipeline{t: t}
		svc, err := p.startAPIWith(env)
		if err == nil {
			a.svc, a.limits = svc, l
			return
		}
		if strings.Contains(err.Error(), "STREAM_MAX_BYTES") {
			a.refused++
		}
		if time.Now().After(deadline) {
			t.Fatalf("API replica did not start within a minute: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// post posts a batch with its Idempotency-Key and returns the status; 0 when
// the request failed (a replica restarting), to be retried like a 503.
func (a *chaosAPI) post(body []byte, id string) int {
	req, err := http.NewRequest(http.MethodPost, a.url+"/api/v1/ingest/ingest/"+harborA+"/batch", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", keyA)
	req.Header.Set("Idempotency-Key", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// dialable reports whether something listens on the local port.
func dialable(port int) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}
