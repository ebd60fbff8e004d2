package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/e2e/internal/powerfs"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// TestPowerCutLosesNothingAcknowledged cuts the power of the NATS server,
// whose store is on a filesystem that then loses every write not fsynced,
// with JetStream syncing always. Three cuts: right after a burst of
// readings that no writer has read yet; at a random moment while clients
// post and writers write; and at a random moment that takes ClickHouse down
// as well. After each NATS starts again on what survived; clients retry
// what was refused. Every reading answered 200 must be in ClickHouse, each
// once after FINAL.
func TestPowerCutLosesNothingAcknowledged(t *testing.T) {
	ns := startPowerNATS(t, true)
	p := startPipeline(t, options{natsURL: ns.url(), environment: powerCutSettings})
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	const clients, perBatch = 4, 20

	// A backlog, acknowledged and not read by any writer, then the cut.
	accepted := p.postBatches("burst", clients, 10, perBatch, nil)()
	ns.cut(t)
	ns.start(t)

	// Under load: writers read and insert while clients post.
	startProcess(t, "writer", p.env)
	startProcess(t, "writer", p.env)
	stop := make(chan struct{})
	wait := p.postBatches("load", clients, -1, perBatch, stop)
	for _, withClickHouse := range []bool{false, true} {
		delay := time.Duration(500+rng.IntN(2000)) * time.Millisecond
		time.Sleep(delay)
		t.Logf("power cut after %s (ClickHouse too: %v)", delay, withClickHouse)
		ns.cutAnd(t, func() {
			if withClickHouse {
				p.ch.Kill()
			}
		})
		ns.start(t)
		if withClickHouse {
			if err := p.ch.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Second) // clients catch up
	}
	close(stop)
	accepted += wait()

	t.Logf("%d readings answered 200", accepted)
	p.waitForRows(uint64(accepted), 120*time.Second)
	p.checkShipsComplete(perBatch)
}

// TestPowerCutWithoutSyncLosesReadings shows that the power cut bites:
// with JetStream's default sync interval (2 minutes) a cut right after a
// burst of acknowledged readings, not yet read by a writer, loses them,
// while what was on the disk before the burst is kept.
func TestPowerCutWithoutSyncLosesReadings(t *testing.T) {
	ns := startPowerNATS(t, false)
	p := startPipeline(t, options{natsURL: ns.url(), environment: powerCutSettings})
	synced := p.postBatches("synced", 4, 2, 20, nil)()
	// As JetStream's periodic sync would: the stream and these readings
	// are on the disk.
	if err := ns.disk.Sync(); err != nil {
		t.Fatal(err)
	}
	accepted := synced + p.postBatches("burst", 4, 10, 20, nil)()
	ns.cut(t)
	ns.start(t)

	startProcess(t, "writer", p.env)
	nc, js := p.jetStream()
	defer nc.Close()
	devtest.WaitFor(t, time.Minute, "the writer to drain what survived", func() bool {
		cons, err := js.Consumer(context.Background(), p.ingest.Stream.Name, p.ingest.Stream.Consumer)
		if err != nil {
			return false // the writer has not made it yet
		}
		info, err := cons.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	stored := p.count(true, "")
	t.Logf("%d readings answered 200, %d of them on the disk before the burst; %d stored after the cut", accepted, synced, stored)
	if stored >= uint64(accepted) {
		t.Fatalf("stored %d of %d acknowledged readings: the cut lost nothing without sync, so the test cannot tell", stored, accepted)
	}
	if n := p.count(true, "ship_id LIKE 'ship-synced-%'"); n != uint64(synced) {
		t.Fatalf("%d of the %d readings synced before the burst stored: the cut lost more than what was not synced", n, synced)
	}
}

// powerCutSettings are the pipeline's settings for the power-cut tests:
// quick retries, so that clients and writers catch up soon after a cut.
var powerCutSettings = map[string]string{
	"PUBLISH_TIMEOUT": "2s",
	"ACK_WAIT":        "3s",
}

// powerNATS is a nats-server process with its JetStream store on a powerfs,
// whose power can be cut.
type powerNATS struct {
	port int
	conf string
	disk *powerfs.FS
	cmd  *exec.Cmd
}

// startPowerNATS starts a nats-server process on a powerfs; syncAlways
// makes JetStream fsync every write (sync_interval: always), else it keeps
// its default interval.
func startPowerNATS(t *testing.T, syncAlways bool) *powerNATS {
	t.Helper()
	disk, err := powerfs.Mount(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// After the process is killed: cleanups run last registered first.
		if err := disk.Unmount(); err != nil {
			t.Error(err)
		}
	})
	port, err := devenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	n := &powerNATS{port: port, disk: disk, conf: filepath.Join(t.TempDir(), "nats-server.conf")}
	sync := ""
	if syncAlways {
		sync = "sync_interval: always"
	}
	conf := fmt.Sprintf("server_name: power-%d\nlisten: \"127.0.0.1:%d\"\nlog_file: %q\njetstream {\n  store_dir: %q\n  %s\n}\n",
		port, port, filepath.Join(filepath.Dir(n.conf), "nats-server.log"), disk.Dir(), sync)
	if err := os.WriteFile(n.conf, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n.start(t)
	return n
}

func (n *powerNATS) url() string { return "nats://127.0.0.1:" + strconv.Itoa(n.port) }

// start starts the server (again) on what its store holds.
func (n *powerNATS) start(t *testing.T) {
	t.Helper()
	n.cmd = startProcess(t, "nats-server", nil, "-c", n.conf)
	devtest.WaitFor(t, time.Minute, "nats-server to listen", func() bool { return dialable(n.port) })
}

// cut cuts the power: the server is SIGKILLed and its store keeps only
// what was fsynced. Start it again with start.
func (n *powerNATS) cut(t *testing.T) {
	t.Helper()
	n.cutAnd(t, func() {})
}

// cutAnd is cut, with also the other work of the machine stopped at the
// cut.
func (n *powerNATS) cutAnd(t *testing.T, alsoKill func()) {
	t.Helper()
	loss, err := n.disk.Cut(func() {
		n.cmd.Process.Signal(syscall.SIGKILL)
		n.cmd.Wait()
		alsoKill()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("power cut: %d files lost unsynced changes (%d bytes written), %d names lost", loss.Files, loss.Bytes, loss.Names)
}

// postBatches has clients post batches of perBatch readings, each batch a
// ship of its own named after prefix, as careful clients
// (postUntilAccepted). Each client posts batches batches, or, with batches
// < 0, until stop is closed. The returned wait returns the readings answered
// 200.
func (p *pipeline) postBatches(prefix string, clients, batches, perBatch int, stop <-chan struct{}) (wait func() int64) {
	var accepted atomic.Int64
	var wg sync.WaitGroup
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	for c := range clients {
		wg.Go(func() {
			for b := 0; batches < 0 || b < batches; b++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%s-c%d-b%d", prefix, c, b)
				if !p.postUntilAccepted(id, batchBody("ship-"+id, start, perBatch, float64(b))) {
					return
				}
				accepted.Add(int64(perBatch))
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	return func() int64 {
		wg.Wait()
		return accepted.Load()
	}
}

// checkShipsComplete fails unless every ship stored has exactly perBatch
// readings after FINAL: one batch each, stored whole and once.
func (p *pipeline) checkShipsComplete(perBatch int) {
	p.t.Helper()
	var incomplete uint64
	q := fmt.Sprintf("SELECT count() FROM (SELECT ship_id, count() AS n FROM %s FINAL GROUP BY ship_id HAVING n != %d)", p.store.Table().FullName(), perBatch)
	if err := p.store.Conn().QueryRow(context.Background(), q).Scan(&incomplete); err != nil {
		p.t.Fatal(err)
	}
	if incomplete != 0 {
		p.t.Fatalf("%d ships without exactly their %d readings", incomplete, perBatch)
	}
}
