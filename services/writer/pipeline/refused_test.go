package pipeline

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/schema/schematest"
	"github.com/harbor-ingest/harbor/pkg/stream"
)

// judgingSink is a sink that refuses a whole insert while it holds a row
// with the value refused, and every insert while cannotWrite is set, as
// ClickHouse does with a materialized throwIf column and a changed table.
type judgingSink struct {
	sink
	refused     float64
	cannotWrite bool
}

func (s *judgingSink) Insert(ctx context.Context, c *schema.Columns) error {
	s.mu.Lock()
	cannot := s.cannotWrite
	if cannot {
		s.tries++
	}
	s.mu.Unlock()
	if cannot {
		return fmt.Errorf("%w: column value is String, want Float64", ErrCannotWrite)
	}
	for _, v := range c.Value {
		if v == s.refused {
			return fmt.Errorf("%w: code: 395, message: Value passed to 'throwIf' function is non zero", ErrRowsRefused)
		}
	}
	return s.sink.Insert(ctx, c)
}

func (s *judgingSink) setCannotWrite(b bool) {
	s.mu.Lock()
	s.cannotWrite = b
	s.mu.Unlock()
}

// TestWriterDeadLettersOnlyRefusedRows: the rows the sink refuses go to
// the dead-letter stream (a message's own data when all its readings are
// refused, else only the refused readings), the others are stored, and
// every message is acknowledged.
func TestWriterDeadLettersOnlyRefusedRows(t *testing.T) {
	f := newFixture(t, map[string]string{"FLUSH_INTERVAL": "200ms", "RETRY_MIN": "10ms", "RETRY_MAX": "20ms"})
	s := &judgingSink{refused: 13}
	whole := schema.EncodePayloads([]schema.Reading{{Time: 1_700_000_000_000, ShipID: "s", CargoID: "c", Value: 13}}, 1<<20)[0]
	f.publish(t, "h", schema.EncodePayloads(readings(40, "a"), 1<<20)[0]) // one of 40 refused
	f.publish(t, "h", schema.EncodePayloads(readings(5, "b"), 1<<20)[0])  // none refused
	f.publish(t, "h", whole)                                              // all refused
	f.run(t, s)

	devtest.WaitFor(t, 20*time.Second, "every message acknowledged", func() bool {
		info := f.consumerInfo(t)
		return info.NumAckPending == 0 && info.AckFloor.Stream == 3
	})
	if rows, _ := s.snapshot(); rows != 39+5 {
		t.Fatalf("%d rows stored, want 44", rows)
	}
	for _, r := range s.rows {
		if r.Value == 13 {
			t.Fatalf("a refused row was stored: %+v", r)
		}
	}
	dead, err := f.js.Stream(context.Background(), f.streamCfg.DeadLetterName())
	if err != nil {
		t.Fatal(err)
	}
	if n := dead.CachedInfo().State.Msgs; n != 2 {
		t.Fatalf("%d dead letters, want 2", n)
	}
	for seq, want := range map[uint64]struct {
		origin   string
		readings []schema.Reading
	}{
		1: {"1", []schema.Reading{readings(40, "a")[13]}},
		2: {"3", []schema.Reading{{Time: 1_700_000_000_000, ShipID: "s", CargoID: "c", Value: 13}}},
	} {
		msg, err := dead.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		if got := schematest.Readings(t, msg.Data); !reflect.DeepEqual(got, want.readings) {
			t.Errorf("dead letter %d holds %+v, want %+v", seq, got, want.readings)
		}
		if msg.Header.Get(stream.DeadSequenceHeader) != want.origin || !strings.Contains(msg.Header.Get(stream.DeadReasonHeader), "throwIf") ||
			msg.Header.Get(stream.DeadSubjectHeader) != f.streamCfg.Subject("h") {
			t.Errorf("dead letter %d headers: %v", seq, msg.Header)
		}
	}
	if m, _ := dead.GetMsg(context.Background(), 2); string(m.Data) != string(whole) {
		t.Errorf("a message refused whole is not dead-lettered as it was")
	}
}

// TestWriterBlockedWhileTableRefusesEveryInsert: while every insert fails
// with ErrCannotWrite, the writer says so, acknowledges nothing and keeps
// its messages from being redelivered; once inserts work it stores them
// all and is no longer blocked.
func TestWriterBlockedWhileTableRefusesEveryInsert(t *testing.T) {
	f := newFixture(t, map[string]string{"FLUSH_INTERVAL": "50ms", "RETRY_MIN": "10ms", "RETRY_MAX": "50ms", "ACK_WAIT": "600ms"})
	s := &judgingSink{refused: -1, cannotWrite: true}
	w := f.start(t, s)
	for i := range 4 {
		f.publish(t, "h", schema.EncodePayloads(readings(10, fmt.Sprint("ship-", i)), 1<<20)[0])
	}
	devtest.WaitFor(t, 20*time.Second, "the writer to say it is blocked", func() bool { return errors.Is(w.Blocked(), ErrCannotWrite) })
	if !strings.Contains(w.Blocked().Error(), "column value is String, want Float64") {
		t.Fatalf("blocked for %v", w.Blocked())
	}
	// Several AckWaits pass: nothing is acknowledged, nothing redelivered.
	devtest.WaitFor(t, 20*time.Second, "tries over two seconds", func() bool { _, tries := s.snapshot(); return tries >= 40 })
	info := f.consumerInfo(t)
	if info.AckFloor.Stream != 0 || info.NumRedelivered != 0 || info.NumAckPending != 4 {
		t.Fatalf("while blocked: ack floor %d, redelivered %d, ack pending %d; want 0, 0, 4", info.AckFloor.Stream, info.NumRedelivered, info.NumAckPending)
	}
	s.setCannotWrite(false)
	devtest.WaitFor(t, 20*time.Second, "every row stored", func() bool { rows, _ := s.snapshot(); return rows == 40 })
	devtest.WaitFor(t, 20*time.Second, "every message acknowledged", func() bool { return f.consumerInfo(t).AckFloor.Stream == 4 })
	if err := w.Blocked(); err != nil {
		t.Fatalf("still blocked after inserts work again: %v", err)
	}
}
