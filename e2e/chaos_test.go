package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	"github.com/harbor-ingest/harbor/services/writer/store"
)

// TestChaos posts readings at a steady rate, each request with an
// Idempotency-Key and retried until answered 200, while it SIGKILLs and
// restarts writer processes, ClickHouse and NATS at random, and cuts the
// power of NATS (its store loses what was not fsynced). Then the set of
// readings answered 200 must equal the set stored in ClickHouse.
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
	ch := devenv.TestClickHouse(t)
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
	p.url = "http://" + runService(t, func(ctx context.Context, listening func(string)) error {
		return ingest.Run(ctx, p.ingest, testLog, listening)
	}).addr
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
				for {
					requests.Add(1)
					status, _, _ := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, body, "Idempotency-Key", id)
					if status == http.StatusOK {
						accepted.Add(20)
						break
					}
					retries.Add(1)
					time.Sleep(200 * time.Millisecond)
				}
			}
		})
	}

	// Chaos.
	kills := map[string]int{}
	deadline := time.Now().Add(duration)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(1000+rng.IntN(2000)) * time.Millisecond)
		switch victim := rng.IntN(4); victim {
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

// dialable reports whether something listens on the local port.
func dialable(port int) bool {
	conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
	if err == nil {
		conn.Close()
	}
	return err == nil
}
