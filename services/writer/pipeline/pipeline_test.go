package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// sink is a Sink that records rows and fails while failing is set.
type sink struct {
	mu      sync.Mutex
	rows    []schema.Reading
	harbors []string
	failing bool
	tries   int
}

func (s *sink) Insert(_ context.Context, c *schema.Columns) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if s.failing {
		return errors.New("ClickHouse is down")
	}
	for i := range c.Len() {
		s.rows = append(s.rows, schema.Reading{Time: c.Time[i], ShipID: c.ShipID[i], CargoID: c.CargoID[i], Value: c.Value[i]})
		s.harbors = append(s.harbors, c.HarborID[i])
	}
	return nil
}

func (s *sink) snapshot() (rows int, tries int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows), s.tries
}

func (s *sink) setFailing(f bool) {
	s.mu.Lock()
	s.failing = f
	s.mu.Unlock()
}

type fixture struct {
	js        jetstream.JetStream
	streamCfg stream.Config
	cfg       Config
}

func newFixture(t *testing.T, environment map[string]string) *fixture {
	_, _, js := devtest.JetStream(t)
	f := &fixture{js: js, streamCfg: devtest.ParseEnv[stream.Config](t, environment), cfg: devtest.ParseEnv[Config](t, environment)}
	if _, err := stream.Ensure(context.Background(), js, f.streamCfg); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) publish(t *testing.T, harborID string, payload []byte) {
	t.Helper()
	if _, err := f.js.Publish(context.Background(), f.streamCfg.Subject(harborID), payload); err != nil {
		t.Fatal(err)
	}
}

// run starts a writer and returns a function that stops it and waits.
func (f *fixture) run(t *testing.T, s Sink) (stop func() error) {
	t.Helper()
	_, stop = f.startWriter(t, s)
	return stop
}

// start starts a writer, stopped when the test ends, and returns it.
func (f *fixture) start(t *testing.T, s Sink) *Writer {
	t.Helper()
	w, _ := f.startWriter(t, s)
	return w
}

func (f *fixture) startWriter(t *testing.T, s Sink) (*Writer, func() error) {
	t.Helper()
	w, err := New(context.Background(), f.js, f.streamCfg, f.cfg, s, prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error { once.Do(func() { cancel(); runErr = <-done }); return runErr }
	t.Cleanup(func() { stop() })
	return w, stop
}

func (f *fixture) consumerInfo(t *testing.T) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := f.js.Consumer(context.Background(), f.streamCfg.Name, f.streamCfg.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func readings(n int, ship string) []schema.Reading {
	rs := make([]schema.Reading, n)
	for i := range rs {
		rs[i] = schema.Reading{Time: 1_700_000_000_000 + int64(i), ShipID: ship, CargoID: "c", Value: float64(i)}
	}
	return rs
}

func TestWriterInsertsAndAcksAfterInsert(t *testing.T) {
	f := newFixture(t, map[string]string{"FLUSH_INTERVAL": "50ms", "RETRY_MIN": "10ms", "RETRY_MAX": "20ms"})
	s := &sink{failing: true}
	f.run(t, s)
	for i := range 5 {
		f.publish(t, "h"+string(rune('0'+i)), schema.EncodePayloads(readings(100, "ship"), 1<<20)[0])
	}
	// While inserts fail nothing is acknowledged.
	devtest.WaitFor(t, 20*time.Second, "failed insert attempts", func() bool { _, tries := s.snapshot(); return tries >= 3 })
	if info := f.consumerInfo(t); info.NumAckPending != 5 || info.AckFloor.Stream != 0 {
		t.Fatalf("while failing: ack pending %d, ack floor %d; want 5 and 0", info.NumAckPending, info.AckFloor.Stream)
	}
	s.setFailing(false)
	devtest.WaitFor(t, 20*time.Second, "all rows inserted", func() bool { rows, _ := s.snapshot(); return rows == 500 })
	devtest.WaitFor(t, 20*time.Second, "all messages acknowledged", func() bool {
		info := f.consumerInfo(t)
		return info.NumAckPending == 0 && info.AckFloor.Stream == 5
	})
	if s.harbors[0] != "h0" || s.harbors[499] != "h4" {
		t.Fatalf("harbors from subjects: %s ... %s", s.harbors[0], s.harbors[499])
	}
}

func TestWriterFlushesOnShutdown(t *testing.T) {
	f := newFixture(t, map[string]string{"FLUSH_INTERVAL": "1h", "BATCH_ROWS": "1000000"})
	s := &sink{}
	stop := f.run(t, s)
	f.publish(t, "h", schema.EncodePayloads(readings(10, "ship"), 1<<20)[0])
	devtest.WaitFor(t, 20*time.Second, "the message to be held", func() bool { return f.consumerInfo(t).NumAckPending == 1 })
	if rows, _ := s.snapshot(); rows != 0 {
		t.Fatalf("%d rows inserted before the batch was due", rows)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if rows, _ := s.snapshot(); rows != 10 {
		t.Fatalf("%d rows inserted on shutdown, want 10", rows)
	}
	if info := f.consumerInfo(t); info.NumAckPending != 0 || info.AckFloor.Stream != 1 {
		t.Fatalf("after shutdown: ack pending %d, ack floor %d", info.NumAckPending, info.AckFloor.Stream)
	}
}

func TestWriterDeadLettersUndecodableMessages(t *testing.T) {
	f := newFixture(t, map[string]string{"FLUSH_INTERVAL": "50ms"})
	s := &sink{}
	f.run(t, s)
	f.publish(t, "h", []byte{schema.PayloadV1, 0, 200, 'x'}) // corrupt
	f.publish(t, "h", schema.EncodePayloads(readings(3, "ship"), 1<<20)[0])

	devtest.WaitFor(t, 20*time.Second, "the good message inserted", func() bool { rows, _ := s.snapshot(); return rows == 3 })
	dead, err := f.js.Stream(context.Background(), f.streamCfg.DeadLetterName())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := dead.GetMsg(context.Background(), 1)
	if err != nil {
		t.Fatalf("no dead letter: %v", err)
	}
	if msg.Subject != f.streamCfg.DeadLetterSubject("h") || msg.Header.Get(stream.DeadReasonHeader) == "" ||
		msg.Header.Get(stream.DeadSubjectHeader) != f.streamCfg.Subject("h") || msg.Header.Get(stream.DeadSequenceHeader) != "1" {
		t.Fatalf("dead letter %s with headers %v", msg.Subject, msg.Header)
	}
	devtest.WaitFor(t, 20*time.Second, "both messages done", func() bool {
		info := f.consumerInfo(t)
		return info.NumAckPending == 0 && info.AckFloor.Stream == 2
	})
}

// slowSink takes its time over every insert, as an overloaded ClickHouse.
type slowSink struct {
	sink
	delay   time.Duration
	maxRows int
}

func (s *slowSink) Insert(ctx context.Context, c *schema.Columns) error {
	time.Sleep(s.delay)
	s.mu.Lock()
	s.maxRows = max(s.maxRows, c.Len())
	s.mu.Unlock()
	return s.sink.Insert(ctx, c)
}

// TestSlowClickHouseIsBackpressuredByMaxAckPending: with a slow sink the
// writer holds no more than MAX_ACK_PENDING messages; the rest waits in the
// stream instead of in the writer's memory.
func TestSlowClickHouseIsBackpressuredByMaxAckPending(t *testing.T) {
	f := newFixture(t, map[string]string{"MAX_ACK_PENDING": "4", "FLUSH_INTERVAL": "20ms", "BATCH_ROWS": "100000"})
	s := &slowSink{delay: 50 * time.Millisecond}
	f.run(t, s)
	const messages, rows = 40, 100
	for i := range messages {
		f.publish(t, "h", schema.EncodePayloads(readings(rows, "ship-"+string(rune('a'+i%26))), 1<<20)[0])
	}
	maxAckPending := 0
	devtest.WaitFor(t, 20*time.Second, "every row inserted", func() bool {
		info := f.consumerInfo(t)
		maxAckPending = max(maxAckPending, info.NumAckPending)
		n, _ := s.snapshot()
		return n == messages*rows
	})
	if maxAckPending > 4 {
		t.Fatalf("%d messages were unacknowledged at once, more than MAX_ACK_PENDING 4", maxAckPending)
	}
	if s.maxRows > 4*rows {
		t.Fatalf("an insert of %d rows: the writer held more than 4 messages", s.maxRows)
	}
}
