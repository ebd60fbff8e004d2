package pipeline

import (
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/nats-io/nats.go/jetstream"
)

// batch is rows on their way to one insert, with the messages they came in,
// which are acknowledged once the insert succeeded.
type batch struct {
	cols  schema.Columns
	msgs  []jetstream.Msg
	since time.Time // when the first message came
}

func (b *batch) empty() bool { return len(b.msgs) == 0 }

func (b *batch) add(msg jetstream.Msg) {
	if b.empty() {
		b.since = time.Now()
	}
	b.msgs = append(b.msgs, msg)
}

// reset empties the batch for reuse, keeping its memory.
func (b *batch) reset() {
	b.cols.Reset()
	clear(b.msgs)
	b.msgs = b.msgs[:0]
}
