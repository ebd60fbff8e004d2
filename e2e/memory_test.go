package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/nats-io/nats.go/jetstream"
)

// memoryTarget is the resident memory the API process must stay within
// under attack (150 MB).
const memoryTarget = 150_000_000

// TestAPIMemoryUnderAttack runs the ingest API as a process of its own with
// its default bounds and attacks it with a key of harbor A: 800 connections
// that declare 10 MiB bodies and trickle them, then 500 fast 9 MiB bodies;
// then, with no key at all, 800 connections that each send a MiB of
// headers. Through all three, the process's peak resident memory (VmHWM) stays within
// 150 MB, harbor B's clients get 200 for every batch, the probe listener
// answers (no two failures in a row), and the stream holds exactly the requests answered 200.
func TestAPIMemoryUnderAttack(t *testing.T) {
	raiseFileLimit(t, 4096)
	ns := devtest.NATS(t)
	ports, err := devenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	addr, probeAddr := "127.0.0.1:"+strconv.Itoa(ports[0]), "127.0.0.1:"+strconv.Itoa(ports[1])
	cmd := startProcess(t, "ingest-api", map[string]string{
		"NATS_URL":    ns.ClientURL(),
		"API_KEYS":    keyA + ":" + harborA + "," + keyB + ":" + harborB,
		"LISTEN_ADDR": addr,
		"PROBE_ADDR":  probeAddr,
		// One stream message per request answered 200, so that the stream's
		// count checks the answers (the group commit would combine them).
		"PUBLISH_COALESCE": "false",
	})
	base, probes := "http://"+addr, "http://"+probeAddr
	waitForOK(t, probes+"/readyz", 60*time.Second)
	mem := watchMemory(t, cmd.Process.Pid)
	defer mem.stop()
	t.Logf("resident at the start: %d MB", mem.rss()/1e6)

	// Harbor B's clients and the kubelet's probes go on through both attacks.
	ctx, stopClients := context.WithCancel(context.Background())
	normal := startNormalClients(ctx, base, 4)
	probed := startProbes(ctx, probes)
	defer stopClients()

	attack := func(name string, run func(ctx context.Context) map[string]int) {
		mem.resetPeak()
		actx, cancel := context.WithCancel(ctx)
		defer cancel()
		mem.onExceed(cancel) // stop at once past the target: nothing to learn from more
		outcomes := run(actx)
		peak := mem.peak()
		t.Logf("%s: outcomes %v; peak resident %d MB, now %d MB", name, outcomes, peak/1e6, mem.rss()/1e6)
		if peak > memoryTarget {
			t.Errorf("%s: peak resident memory %d MB, more than %d MB", name, peak/1e6, memoryTarget/1_000_000)
		}
	}
	attack("800 trickled 10 MiB bodies", func(ctx context.Context) map[string]int {
		return trickle(ctx, addr, 800, 10<<20, 6*time.Second)
	})
	var acceptedA int
	attack("500 fast 9 MiB bodies", func(ctx context.Context) map[string]int {
		out := fastBodies(ctx, base, 500, 9<<20)
		acceptedA = out["200"]
		for k := range out {
			if k != "200" && k != "429" && k != "503" && k != "connection closed" {
				t.Errorf("a fast body got %s", k)
			}
		}
		return out
	})
	attack("800 headers of 1 MiB, sent over 4 s", func(ctx context.Context) map[string]int {
		return bigHeaders(ctx, addr, 800, 1<<20, 4*time.Second)
	})
	stopClients()
	okB, otherB := normal()
	probeOK, probeFailedInARow := probed()
	t.Logf("harbor B: %d batches answered 200; probes: %d answered, at most %d failed in a row; resident after: %d MB", okB, probeOK, probeFailedInARow, mem.rss()/1e6)
	if otherB != nil {
		t.Errorf("a batch of harbor B was not answered 200: %v", otherB)
	}
	if okB == 0 {
		t.Error("harbor B got no batch through")
	}
	if probeFailedInARow >= 2 {
		t.Errorf("%d probes of one path on PROBE_ADDR failed in a row during the attacks: the kubelet would take the pod out of service", probeFailedInARow)
	}
	if acceptedA == 0 {
		t.Error("no 9 MiB body of harbor A got through: the budget should pass some, a few at a time")
	}
	stored := storedPerHarbor(t, ns.ClientURL())
	if stored[harborB] != uint64(okB) || stored[harborA] != uint64(acceptedA) {
		t.Errorf("stream holds %v messages, want %d of %s and %d of %s (one per request answered 200)",
			stored, acceptedA, harborA, okB, harborB)
	}
}

// raiseFileLimit raises the open-files limit of the test (and so of the
// processes it starts) to at least want, failing if the hard limit is lower.
func raiseFileLimit(t *testing.T, want uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= want {
		return
	}
	if lim.Max < want {
		t.Fatalf("the open-files limit is %d at most; this test needs %d (ulimit -Hn)", lim.Max, want)
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
}

// memory samples a process's resident memory.
type memory struct {
	t       *testing.T
	pid     int
	done    chan struct{}
	mu      sync.Mutex
	exceed  func()
	stopped sync.Once
}

// watchMemory samples the resident memory of pid every 20ms, calling the
// onExceed function once it is past memoryTarget.
func watchMemory(t *testing.T, pid int) *memory {
	m := &memory{t: t, pid: pid, done: make(chan struct{})}
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-m.done:
				return
			case <-tick.C:
			}
			if m.rss() > memoryTarget {
				m.mu.Lock()
				if m.exceed != nil {
					m.exceed()
				}
				m.mu.Unlock()
			}
		}
	}()
	return m
}

func (m *memory) stop() { m.stopped.Do(func() { close(m.done) }) }

func (m *memory) onExceed(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exceed = f
}

// status returns a field of /proc/<pid>/status in bytes.
func (m *memory) status(field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(m.pid) + "/status")
	if err != nil {
		return 0 // the process ended; its test fails elsewhere
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (m *memory) rss() int64  { return m.status("VmRSS") }
func (m *memory) peak() int64 { return m.status("VmHWM") }

// resetPeak starts VmHWM again from the present resident memory.
func (m *memory) resetPeak() {
	if err := os.WriteFile("/proc/"+strconv.Itoa(m.pid)+"/clear_refs", []byte("5"), 0); err != nil {
		m.t.Logf("cannot reset VmHWM (%v): the peak is the process's whole life", err)
	}
}

// waitForOK polls url until it answers 200.
func waitForOK(t *testing.T, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %s: %v", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startNormalClients has n clients of harbor B post 100-reading batches
// until ctx ends; the returned function waits for them and gives the count
// of 200s and the first other outcome.
func startNormalClients(ctx context.Context, base string, n int) func() (int, error) {
	var ok atomic.Int64
	var mu sync.Mutex
	var other error
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	start := time.Now().Add(-time.Hour)
	for c := range n {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && i < 10_000; i++ {
				body := batchBody(fmt.Sprintf("ship-%d-%d", c, i), start, 100, 0)
				req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/ingest/ingest/"+harborB+"/batch", bytes.NewReader(body))
				req.Header.Set("X-API-Key", keyB)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
					} else {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					mu.Lock()
					if other == nil {
						other = err
					}
					mu.Unlock()
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	return func() (int, error) {
		wg.Wait()
		return int(ok.Load()), other
	}
}

// startProbes gets /healthz and /readyz as the kubelet does (2s timeout)
// every 200ms until ctx ends; the returned function gives the count of
// answers 200 and the longest run of failures in a row of one path (the
// kubelet acts on 3 for liveness, 2 for readiness).
func startProbes(ctx context.Context, base string) func() (ok, failedInARow int) {
	var okN int
	var worst int
	run := map[string]int{}
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 2 * time.Second}
	wg.Go(func() {
		for i := 0; ctx.Err() == nil && i < 1000; i++ {
			for _, path := range []string{"/healthz", "/readyz"} {
				resp, err := client.Get(base + path)
				if err == nil {
					resp.Body.Close()
				}
				if err == nil && resp.StatusCode == http.StatusOK {
					okN++
					run[path] = 0
				} else if ctx.Err() == nil {
					run[path]++
					worst = max(worst, run[path])
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	return func() (int, int) {
		wg.Wait()
		return okN, worst
	}
}

// trickle holds conns connections to addr for d, each declaring a body of
// declared bytes for harbor A and sending a byte of it every 500ms; a
// connection the server answers or closes is opened again. It returns the
// count of each outcome (status, or "connection closed").
func trickle(ctx context.Context, addr string, conns, declared int, d time.Duration) map[string]int {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var mu sync.Mutex
	outcomes := map[string]int{}
	head := "POST /api/v1/ingest/ingest/" + harborA + "/batch HTTP/1.1\r\nHost: x\r\nX-API-Key: " + keyA +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(declared) + "\r\n\r\n["
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			for ctx.Err() == nil {
				outcome := trickleOnce(ctx, addr, head)
				mu.Lock()
				outcomes[outcome]++
				mu.Unlock()
				select { // a pause before the next connection
				case <-ctx.Done():
				case <-time.After(100 * time.Millisecond):
				}
			}
		})
	}
	wg.Wait()
	return outcomes
}

// trickleOnce sends head on a new connection, then a space every 500ms
// until the server answers or closes it, or ctx ends.
func trickleOnce(ctx context.Context, addr, head string) string {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return "held to the end"
		}
		return "dial error"
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(head)); err != nil {
		return "connection closed"
	}
	r := bufio.NewReader(conn)
	for ctx.Err() == nil {
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		resp, err := http.ReadResponse(r, nil)
		if err == nil {
			resp.Body.Close()
			return strconv.Itoa(resp.StatusCode)
		}
		if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			return "connection closed"
		}
		if _, err := conn.Write([]byte(" ")); err != nil {
			return "connection closed"
		}
	}
	return "held to the end"
}

// bigHeaders opens conns connections to addr, each sending a request whose
// headers grow to size bytes over d, in lines of a KiB, and returns the
// count of each outcome (the answer's status, "connection closed" or "held
// to the end").
func bigHeaders(ctx context.Context, addr string, conns, size int, d time.Duration) map[string]int {
	var mu sync.Mutex
	outcomes := map[string]int{}
	line := "X-Padding: " + strings.Repeat("p", 1010) + "\r\n"
	lines := size / len(line)
	pause := d / time.Duration(lines/16)
	var wg sync.WaitGroup
	for range conns {
		wg.Go(func() {
			outcome := func() string {
				var dialer net.Dialer
				conn, err := dialer.DialContext(ctx, "tcp", addr)
				if err != nil {
					return "dial error"
				}
				defer conn.Close()
				if _, err := conn.Write([]byte("POST /api/v1/ingest/ingest/" + harborA + " HTTP/1.1\r\nHost: x\r\n")); err != nil {
					return "connection closed"
				}
				chunk := []byte(strings.Repeat(line, 16))
				for sent := 0; sent < lines && ctx.Err() == nil; sent += 16 {
					conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
					if _, err := conn.Write(chunk); err != nil {
						break // the server answered or closed: read what it said
					}
					time.Sleep(pause)
				}
				conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					if ctx.Err() != nil {
						return "held to the end"
					}
					return "connection closed"
				}
				resp.Body.Close()
				return strconv.Itoa(resp.StatusCode)
			}()
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return outcomes
}

// fastBodies posts n bodies of about size bytes for harbor A at once (each a
// valid batch of one reading, padded with spaces) and returns the count of
// each outcome.
func fastBodies(ctx context.Context, base string, n, size int) map[string]int {
	one := `{"ship_id":"big","cargo_id":"c","value":1}`
	body := []byte("[" + strings.Repeat(" ", size-len(one)-2) + one + "]")
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/ingest/ingest/"+harborA+"/batch", bytes.NewReader(body))
			req.Header.Set("X-API-Key", keyA)
			req.Header.Set("Content-Type", "application/json")
			outcome := "connection closed"
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				outcome = strconv.Itoa(resp.StatusCode)
			} else if ctx.Err() != nil {
				outcome = "stopped"
			}
			mu.Lock()
			outcomes[outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return outcomes
}

// storedPerHarbor counts the messages of the readings stream by harbor.
func storedPerHarbor(t *testing.T, natsURL string) map[string]uint64 {
	t.Helper()
	nc, js := jetStreamAt(t, natsURL)
	defer nc.Close()
	s, err := js.Stream(context.Background(), "TELEMETRY")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter("telemetry.>"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for subject, n := range info.State.Subjects {
		out[strings.TrimPrefix(subject, "telemetry.")] = n
	}
	return out
}

// TestConnectionsPastMaxConnections holds MAX_CONNECTIONS=2 with three
// kinds of client. Two connections left idle between requests, or silent
// since they opened, do not keep a third client out until IDLE_TIMEOUT or
// READ_HEADER_TIMEOUT (two minutes, one here): once they have been idle
// for a second, the one idle the longest is closed to make room for it.
// Two requests whose bodies never end do: a third client waits until one
// closes, while the probe listener (PROBE_ADDR) answers all along.
func TestConnectionsPastMaxConnections(t *testing.T) {
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	probes := "http://127.0.0.1:" + strconv.Itoa(port)
	p := startPipeline(t, options{noCH: true, environment: map[string]string{
		"MAX_CONNECTIONS":     "2",
		"PROBE_ADDR":          "127.0.0.1:" + strconv.Itoa(port),
		"READ_HEADER_TIMEOUT": "1m",
	}})
	addr := strings.TrimPrefix(p.url, "http://")
	const get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

	// makeRoom checks that a third client is served while held fill the
	// listener, on the room of held[0], the one idle the longest.
	makeRoom := func(held []net.Conn, kind string) {
		third := dial(t, addr)
		third.Write([]byte(get))
		readOK(t, third, "a new client while both connections are "+kind)
		if !closedWithin(held[0], 5*time.Second) {
			t.Errorf("the connection %s the longest is still open", kind)
		}
		third.Close()
		held[1].Close()
	}
	idle := []net.Conn{dial(t, addr), dial(t, addr)}
	for _, c := range idle { // served: each gets an answer, then idles
		c.Write([]byte(get))
		readOK(t, c, "an idle connection's request")
		time.Sleep(50 * time.Millisecond) // each idle since a time of its own
	}
	makeRoom(idle, "idle")
	silent := []net.Conn{dial(t, addr)}
	time.Sleep(50 * time.Millisecond)
	makeRoom(append(silent, dial(t, addr)), "silent")

	unfinished := "POST /api/v1/ingest/ingest/" + harborA + " HTTP/1.1\r\nHost: x\r\nX-API-Key: " + keyA +
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
	busy := []net.Conn{dial(t, addr), dial(t, addr)}
	for _, c := range busy {
		c.Write([]byte(unfinished))
	}
	waiting := dial(t, addr)
	waiting.Write([]byte(get))
	waiting.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := waiting.Read(make([]byte, 1)); err == nil {
		t.Fatal("a third connection was served past MAX_CONNECTIONS=2 while both were in the middle of a request")
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		waitForOK(t, probes+path, 5*time.Second)
	}
	status, _, _ := p.request(http.MethodPost, probes+"/api/v1/ingest/ingest/"+harborA, keyA, []byte(`{"ship_id":"s","cargo_id":"c","value":1}`))
	if status != http.StatusNotFound {
		t.Fatalf("ingest on the probe listener: %d, want 404", status)
	}
	busy[0].Close()
	readOK(t, waiting, "the waiting connection once one closed")
}

// readOK reads an answer from c and fails the test unless it is a 200.
func readOK(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %v", what, err)
	}
	resp.Body.Close()
}
