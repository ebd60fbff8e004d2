package stream

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// publish puts n messages of size bytes on the readings stream.
func publish(t *testing.T, js jetstream.JetStream, cfg Config, n, size int) {
	t.Helper()
	for range n {
		if _, err := js.Publish(context.Background(), cfg.Subject("h1"), make([]byte, size)); err != nil {
			t.Fatal(err)
		}
	}
}

// writers makes the writers' durable consumer.
func writers(t *testing.T, js jetstream.JetStream, cfg Config) jetstream.Consumer {
	t.Helper()
	c, err := js.CreateOrUpdateConsumer(context.Background(), cfg.Name, jetstream.ConsumerConfig{
		Durable: cfg.Consumer, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ack fetches and acknowledges the next n messages, as a writer that
// wrote them.
func ack(t *testing.T, c jetstream.Consumer, n int) {
	t.Helper()
	batch, err := c.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for msg := range batch.Messages() {
		if err := msg.DoubleAck(context.Background()); err != nil {
			t.Fatal(err)
		}
		got++
	}
	if got != n {
		t.Fatalf("fetched %d messages, want %d", got, n)
	}
}

func streamInfo(t *testing.T, s jetstream.Stream) *jetstream.StreamInfo {
	t.Helper()
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestTrimKeepsHistoryUnderTheLimit: below STREAM_MAX_BACKLOG_BYTES the
// written history stays, for replay.
func TestTrimKeepsHistoryUnderTheLimit(t *testing.T) {
	js, cfg := testJetStream(t)
	cfg.MaxBacklogBytes = 1 << 20
	if _, err := Ensure(context.Background(), js, cfg); err != nil {
		t.Fatal(err)
	}
	publish(t, js, cfg, 50, 1000)
	ack(t, writers(t, js, cfg), 30)
	u, err := NewTrimmer(js, cfg).Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Msgs != 50 || u.AckFloor != 30 || u.History != 30 {
		t.Fatalf("usage %+v, want all 50 messages, 30 of them history", u)
	}
}

// TestTrimMakesTheBacklogExact: after a history of small messages, large
// unwritten ones pass the limit. Trim purges the history, all of it and
// nothing more, and then the stream's bytes are the backlog exactly.
func TestTrimMakesTheBacklogExact(t *testing.T) {
	js, cfg := testJetStream(t)
	cfg.MaxBytes, cfg.MaxBacklogBytes = 1<<20, 100000
	s, err := Ensure(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, cfg, 2000, 10) // history of small messages
	cons := writers(t, js, cfg)
	ack(t, cons, 2000)
	publish(t, js, cfg, 10, 20000) // 200 kB unwritten
	u, err := NewTrimmer(js, cfg).Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info := streamInfo(t, s)
	if u.History != 0 || info.State.FirstSeq != 2001 || info.State.Msgs != 10 || u.Bytes != info.State.Bytes || u.Bytes < 200000 {
		t.Fatalf("usage %+v; stream: first sequence %d, %d messages, %d bytes; want only the 10 unwritten ones", u, info.State.FirstSeq, info.State.Msgs, info.State.Bytes)
	}
}

// TestTrimPurgesOnlyWhatIsNeeded: with history of the same size as new
// messages, Trim brings the stream down to 7/8 of the limit and keeps the
// rest of the history.
func TestTrimPurgesOnlyWhatIsNeeded(t *testing.T) {
	js, cfg := testJetStream(t)
	cfg.MaxBacklogBytes = 80000
	s, err := Ensure(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, cfg, 100, 1000) // about 100 kB
	ack(t, writers(t, js, cfg), 90)
	u, err := NewTrimmer(js, cfg).Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.Bytes > 70000 || u.History == 0 || u.Msgs < 50 {
		t.Fatalf("usage %+v: want at most 70 kB, with history left", u)
	}
	if first := streamInfo(t, s).State.FirstSeq; first > 91 {
		t.Fatalf("purged up to %d, above the ack floor 90", first)
	}
}

// TestTrimByAgeOnlyBelowTheAckFloor: messages older than STREAM_MAX_AGE go
// once written, and only then.
func TestTrimByAgeOnlyBelowTheAckFloor(t *testing.T) {
	js, cfg := testJetStream(t)
	cfg.MaxAge = time.Hour
	s, err := Ensure(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, cfg, 40, 100)
	cons := writers(t, js, cfg)
	ack(t, cons, 25)
	time.Sleep(50 * time.Millisecond)
	cutoff := time.Now()
	publish(t, js, cfg, 10, 100) // sequences 41..50, younger than cutoff
	ack(t, cons, 20)             // the ack floor is 45

	tr := NewTrimmer(js, cfg)
	tr.now = func() time.Time { return cutoff.Add(cfg.MaxAge) } // 1..40 are older than the max age
	u, err := tr.Trim(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info := streamInfo(t, s); info.State.FirstSeq != 41 || u.Msgs != 10 {
		t.Fatalf("first sequence %d, usage %+v: want 1..40 purged by age", info.State.FirstSeq, u)
	}

	tr.now = func() time.Time { return time.Now().Add(2 * cfg.MaxAge) } // all are old; 46..50 unwritten
	if u, err = tr.Trim(context.Background()); err != nil {
		t.Fatal(err)
	}
	if info := streamInfo(t, s); info.State.FirstSeq != 46 || u.Msgs != 5 || u.History != 0 {
		t.Fatalf("first sequence %d, usage %+v: want the 5 unwritten ones kept", info.State.FirstSeq, u)
	}
}

// TestTrimmersSideBySide: trimmers of several API replicas trimming while
// messages arrive and get written never purge an unwritten message.
func TestTrimmersSideBySide(t *testing.T) {
	js, cfg := testJetStream(t)
	cfg.MaxBacklogBytes = 20000
	cfg.MaxAge = 100 * time.Millisecond
	s, err := Ensure(context.Background(), js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cons := writers(t, js, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		tr := NewTrimmer(js, cfg)
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := tr.Trim(ctx); err != nil && ctx.Err() == nil {
					t.Errorf("trim: %v", err)
					return
				}
				tr.lastAged = time.Time{}
			}
		})
	}
	acked := 0
	for range 30 {
		publish(t, js, cfg, 20, 500)
		ack(t, cons, 10)
		acked += 10
		// Every message above the ack floor is still there.
		if info := streamInfo(t, s); info.State.FirstSeq > uint64(acked)+1 {
			t.Fatalf("first sequence %d above the ack floor %d", info.State.FirstSeq, acked)
		}
	}
	cancel()
	wg.Wait()
	info := streamInfo(t, s)
	if info.State.LastSeq != 600 || info.State.FirstSeq > 301 || info.State.Msgs < 300 {
		t.Fatalf("sequences %d..%d, %d messages: want all 300 unwritten ones", info.State.FirstSeq, info.State.LastSeq, info.State.Msgs)
	}
}
