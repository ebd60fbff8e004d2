package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema/schematest"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/services/writer/replay"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
)

// permanentEnv are the settings of these tests: short retries, and writer
// reports that expire quickly.
var permanentEnv = map[string]string{"RETRY_MIN": "20ms", "RETRY_MAX": "300ms", "WRITER_STATUS_TTL": "2s"}

// startWriterWithProbes starts an in-process writer whose /readyz and
// /metrics listen on a known port, and returns their base URL.
func (p *pipeline) startWriterWithProbes() string {
	p.t.Helper()
	port, err := devenv.FreePort()
	if err != nil {
		p.t.Fatal(err)
	}
	cfg := p.writer
	cfg.HTTPAddr = "127.0.0.1:" + strconv.Itoa(port)
	devtest.RunService(p.t, func(ctx context.Context, listening func(string)) error {
		listening("")
		return writer.Run(ctx, cfg, testLog)
	})
	devtest.WaitFor(p.t, time.Minute, "the writer's probes", func() bool { return dialable(port) })
	return "http://" + cfg.HTTPAddr
}

// postLoad posts batches of perBatch readings, values 0.., from clients at
// once, each a new ship named prefix-client-batch, retrying 503s, until
// stop is called (at the latest when the test ends), which returns the
// readings answered 200.
func (p *pipeline) postLoad(prefix string, clients, perBatch int, start time.Time) (stop func() []row) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var accepted []row
	stopping := make(chan struct{})
	var once sync.Once
	stop = func() []row {
		once.Do(func() { close(stopping); wg.Wait() })
		return accepted
	}
	p.t.Cleanup(func() { stop() })
	for c := range clients {
		wg.Go(func() {
			for b := 0; ; b++ {
				select {
				case <-stopping:
					return
				default:
				}
				ship := fmt.Sprintf("%s-%d-%d", prefix, c, b)
				if !p.postUntilAccepted(ship, batchBody(ship, start, perBatch, 0)) {
					return
				}
				mu.Lock()
				accepted = append(accepted, expectedRows(ship, start, perBatch)...)
				mu.Unlock()
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
	return stop
}

// expectedRows are the rows batchBody(ship, start, n, 0) makes.
func expectedRows(ship string, start time.Time, n int) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{Harbor: harborA, Ship: ship, Cargo: "temp", Millis: start.Add(time.Duration(i) * time.Second).UnixMilli(), Value: float64(i)}
	}
	return rows
}

// sortRows sorts as rows() does.
func sortRows(rs []row) {
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.Harbor != b.Harbor {
			return a.Harbor < b.Harbor
		}
		if a.Ship != b.Ship {
			return a.Ship < b.Ship
		}
		if a.Cargo != b.Cargo {
			return a.Cargo < b.Cargo
		}
		return a.Millis < b.Millis
	})
}

// requireStored fails unless the table holds exactly the rows want.
func (p *pipeline) requireStored(want []row) {
	p.t.Helper()
	sortRows(want)
	p.waitForRows(uint64(len(want)), 60*time.Second)
	if got := p.rows(); !reflect.DeepEqual(got, want) {
		p.t.Fatalf("the table holds %d rows that differ from the %d answered 200", len(got), len(want))
	}
}

// writersDone waits until the writers acknowledged every message.
func (p *pipeline) writersDone() {
	p.t.Helper()
	consumer := p.consumer()
	devtest.WaitFor(p.t, time.Minute, "the writers to acknowledge every message", func() bool {
		info, err := consumer.Info(context.Background())
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
}

func (p *pipeline) exec(sql string) {
	p.t.Helper()
	if err := p.store.Conn().Exec(context.Background(), sql); err != nil {
		p.t.Fatalf("%s: %v", sql, err)
	}
}

// TestChangedColumnBlocksUntilFixed changes the value column's type under
// load: the writer cannot insert, and both services' /readyz say so with
// the reason while the readings wait in the stream; once the column is
// changed back, every reading answered 200 is stored.
func TestChangedColumnBlocksUntilFixed(t *testing.T) {
	p := startPipeline(t, options{environment: permanentEnv})
	writerURL := p.startWriterWithProbes()
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	stop := p.postLoad("ship", 3, 50, start)
	devtest.WaitFor(t, time.Minute, "rows stored", func() bool { return p.count(false, "") > 0 })

	table := p.store.Table().FullName()
	p.exec("ALTER TABLE " + table + " MODIFY COLUMN value String")
	const reason = "column value is String, want Float64"
	for name, url := range map[string]string{"writer": writerURL, "API": p.url} {
		devtest.WaitFor(t, time.Minute, "the "+name+"'s /readyz to give the reason", func() bool {
			status, body := get(t, url+"/readyz")
			return status == http.StatusServiceUnavailable && strings.Contains(body, reason)
		})
	}
	// While blocked, the writer stores nothing and acknowledges nothing.
	stored := p.count(false, "")
	floor := p.ackFloor()
	time.Sleep(time.Second)
	if n, f := p.count(false, ""), p.ackFloor(); n != stored || f != floor {
		t.Fatalf("while blocked: rows %d -> %d, ack floor %d -> %d", stored, n, floor, f)
	}
	if status, body := get(t, writerURL+"/metrics"); status != http.StatusOK || !strings.Contains(body, "harbor_writer_blocked 1") {
		t.Fatalf("writer metrics while blocked lack harbor_writer_blocked 1")
	}

	p.exec("ALTER TABLE " + table + " MODIFY COLUMN value Float64")
	time.Sleep(500 * time.Millisecond) // load goes on after the fix
	accepted := stop()
	p.requireStored(accepted)
	for name, url := range map[string]string{"writer": writerURL, "API": p.url} {
		devtest.WaitFor(t, time.Minute, "the "+name+"'s /readyz to be ready again", func() bool {
			status, _ := get(t, url+"/readyz")
			return status == http.StatusOK
		})
	}
	t.Logf("%d readings answered 200, all stored", len(accepted))
}

// ackFloor is the stream sequence up to which the writers acknowledged.
func (p *pipeline) ackFloor() uint64 {
	p.t.Helper()
	info, err := p.consumer().Info(context.Background())
	if err != nil {
		p.t.Fatal(err)
	}
	return info.AckFloor.Stream
}

// TestDroppedTableIsCreatedAgain drops the table under load: the writers
// create it again and go on, every reading answered 200 after the drop is
// stored, and a replay of the stream brings back the rows the drop took.
func TestDroppedTableIsCreatedAgain(t *testing.T) {
	p := startPipeline(t, options{writers: 2, environment: permanentEnv})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	stop := p.postLoad("during", 3, 50, start)
	devtest.WaitFor(t, time.Minute, "rows stored", func() bool { return p.count(false, "") > 0 })
	p.exec("DROP TABLE " + p.store.Table().FullName())
	time.Sleep(time.Second) // load goes on
	during := stop()

	// Posted after the drop: all stored, without any replay.
	var afterRows []row
	for b := range 5 {
		ship := "after-" + strconv.Itoa(b)
		if !p.postUntilAccepted(ship, batchBody(ship, start, 50, 0)) {
			t.FailNow()
		}
		afterRows = append(afterRows, expectedRows(ship, start, 50)...)
	}
	p.writersDone()
	var got []row
	for _, r := range p.rows() {
		if strings.HasPrefix(r.Ship, "after-") {
			got = append(got, r)
		}
	}
	sortRows(afterRows)
	if !reflect.DeepEqual(got, afterRows) {
		t.Fatalf("%d rows of the %d readings posted after the drop are stored", len(got), len(afterRows))
	}

	// What the table held when it was dropped comes back from the stream.
	var out bytes.Buffer
	cfg := p.writer
	if err := replay.Command(context.Background(), cfg.Stream, cfg.ClickHouse, cfg.Pipeline,
		[]string{"-from", start.Add(-2 * time.Hour).Format(time.RFC3339)}, &out, testLog); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	p.requireStored(append(during, afterRows...))
	t.Logf("%d readings answered 200 during the drop, %d after; all stored", len(during), len(afterRows))
}

// TestRefusedReadingsAreDeadLettered makes ClickHouse refuse one value (a
// materialized column that throws on it: Debian's 18.16 has no CHECK
// constraints): those readings go to the dead-letter stream with the
// server's message, every other reading is stored, and the writer is not
// blocked.
func TestRefusedReadingsAreDeadLettered(t *testing.T) {
	p := startPipeline(t, options{environment: permanentEnv})
	writerURL := p.startWriterWithProbes()
	p.exec("ALTER TABLE " + p.store.Table().FullName() + " ADD COLUMN refuse_13 UInt8 MATERIALIZED throwIf(value = 13)")
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	const batches, perBatch = 12, 20 // values 0..19: each batch holds one 13
	var want []row
	for b := range batches {
		ship := "ship-" + strconv.Itoa(b)
		if !p.postUntilAccepted(ship, batchBody(ship, start, perBatch, 0)) {
			t.FailNow()
		}
		for _, r := range expectedRows(ship, start, perBatch) {
			if r.Value != 13 {
				want = append(want, r)
			}
		}
	}
	p.requireStored(want)
	p.writersDone()

	nc, js := p.jetStream()
	defer nc.Close()
	dead, err := js.Stream(context.Background(), p.ingest.Stream.DeadLetterName())
	if err != nil {
		t.Fatal(err)
	}
	if n := dead.CachedInfo().State.Msgs; n != batches {
		t.Fatalf("%d dead letters, want %d", n, batches)
	}
	ships := map[string]bool{}
	for seq := uint64(1); seq <= batches; seq++ {
		msg, err := dead.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		rs := schematest.Readings(t, msg.Data)
		if len(rs) != 1 || rs[0].Value != 13 || rs[0].Time != start.Add(13*time.Second).UnixMilli() {
			t.Fatalf("dead letter %d holds %+v, want the one reading of value 13", seq, rs)
		}
		ships[rs[0].ShipID] = true
		if reason := msg.Header.Get(stream.DeadReasonHeader); !strings.Contains(reason, "throwIf") || msg.Header.Get(stream.DeadSubjectHeader) != p.ingest.Stream.Subject(harborA) {
			t.Fatalf("dead letter %d: headers %v", seq, msg.Header)
		}
	}
	if len(ships) != batches {
		t.Fatalf("dead letters of %d ships, want %d", len(ships), batches)
	}
	for name, url := range map[string]string{"writer": writerURL, "API": p.url} {
		if status, body := get(t, url+"/readyz"); status != http.StatusOK {
			t.Fatalf("%s /readyz: %d %s", name, status, body)
		}
	}
}
