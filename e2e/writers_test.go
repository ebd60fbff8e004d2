package e2e

import (
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// writerProcess is a writer running as its own process, with its metrics
// on a known port.
type writerProcess struct {
	cmd  *exec.Cmd
	port int
}

func (p *pipeline) startWriterProcess() *writerProcess {
	p.t.Helper()
	port, err := devenv.FreePort()
	if err != nil {
		p.t.Fatal(err)
	}
	environment := with(p.env, "HTTP_ADDR", "127.0.0.1:"+strconv.Itoa(port))
	w := &writerProcess{cmd: startProcess(p.t, "writer", environment), port: port}
	devtest.WaitFor(p.t, time.Minute, "the writer's metrics listener", func() bool { return dialable(port) })
	return w
}

// rowsInserted reads harbor_writer_rows_inserted_total from the writer.
func (w *writerProcess) rowsInserted(t *testing.T) int {
	t.Helper()
	return int(metric(t, "http://127.0.0.1:"+strconv.Itoa(w.port), "harbor_writer_rows_inserted_total"))
}

// stop ends the writer with SIGTERM, letting it flush and acknowledge.
func (w *writerProcess) stop(t *testing.T) {
	t.Helper()
	w.cmd.Process.Signal(syscall.SIGTERM)
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("writer exited with %v after SIGTERM", err)
	}
}

// TestWritersShareTheWork runs three writer processes on the shared
// consumer while readings flow: each inserts a share. Then one is stopped
// and another started mid-stream; the table still holds every reading once.
func TestWritersShareTheWork(t *testing.T) {
	p := startPipeline(t, options{environment: map[string]string{"FLUSH_INTERVAL": "100ms", "FETCH_BYTES": "1048576"}})
	writers := []*writerProcess{p.startWriterProcess(), p.startWriterProcess(), p.startWriterProcess()}

	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	const clients, batches, perBatch = 4, 60, 500
	var posted sync.WaitGroup
	for c := range clients {
		posted.Go(func() {
			for b := range batches {
				ship := "ship-" + strconv.Itoa(c) + "-" + strconv.Itoa(b)
				if status, _, body := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, batchBody(ship, start, perBatch, 0)); status != http.StatusOK {
					t.Errorf("%s: %d %s", ship, status, body)
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	const total = clients * batches * perBatch
	devtest.WaitFor(t, time.Minute, "a quarter of the readings stored", func() bool { return p.count(true, "") >= total/4 })
	shares := make([]int, len(writers))
	for i, w := range writers {
		shares[i] = w.rowsInserted(t)
	}
	// Remove a writer and add another while the clients still post.
	writers[0].stop(t)
	writers = append(writers[1:], p.startWriterProcess())
	posted.Wait()

	p.waitForRows(total, 60*time.Second)
	if n := p.count(false, ""); n != total {
		t.Fatalf("%d rows before deduplication, want %d: a reading was inserted twice", n, total)
	}
	for i, n := range shares {
		if n == 0 {
			t.Fatalf("writer %d had inserted nothing while the others inserted %v", i, shares)
		}
	}
	sum := 0
	for _, w := range writers {
		sum += w.rowsInserted(t)
	}
	if sum == 0 {
		t.Fatal("the writers after the change inserted nothing")
	}
	t.Logf("rows inserted by the first three writers at a quarter: %v; by the last three at the end: %d", shares, sum)
}
