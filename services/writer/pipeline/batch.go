package pipeline

import (
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/nats-io/nats.go/jetstream"
)

// batch is rows on their way to one insert, with the messages they came in,
// which are acknowledged once the rows are stored (or dead-lettered).
type batch struct {
	cols     schema.Columns
	msgs     []jetstream.Msg
	ends     []int     // ends[i]: the row after the last one of msgs[i]
	since    time.Time // when the first message came
	progress time.Time // when JetStream last heard that the messages are being worked on
}

func (b *batch) empty() bool { return len(b.msgs) == 0 }

// add records a message whose rows were just appended to cols.
func (b *batch) add(msg jetstream.Msg) {
	if b.empty() {
		b.since = time.Now()
		b.progress = b.since
	}
	b.msgs = append(b.msgs, msg)
	b.ends = append(b.ends, b.cols.Len())
}

// keepAlive tells JetStream that the messages are still being worked on,
// so that it does not redeliver them, if it last did more than every ago.
func (b *batch) keepAlive(every time.Duration) {
	if b.empty() || time.Since(b.progress) < every {
		return
	}
	for _, msg := range b.msgs {
		msg.InProgress()
	}
	b.progress = time.Now()
}

// rows is rows lo to hi of the batch, sharing its memory.
func (b *batch) rows(lo, hi int) *schema.Columns {
	c := &b.cols
	if lo == 0 && hi == c.Len() {
		return c
	}
	return &schema.Columns{HarborID: c.HarborID[lo:hi], ShipID: c.ShipID[lo:hi], CargoID: c.CargoID[lo:hi], Time: c.Time[lo:hi], Value: c.Value[lo:hi]}
}

// reading is row i as a Reading (without its harbor).
func (b *batch) reading(i int) schema.Reading {
	c := &b.cols
	return schema.Reading{Time: c.Time[i], ShipID: c.ShipID[i], CargoID: c.CargoID[i], Value: c.Value[i]}
}

// reset empties the batch for reuse, keeping its memory.
func (b *batch) reset() {
	b.cols.Reset()
	clear(b.msgs)
	b.msgs = b.msgs[:0]
	b.ends = b.ends[:0]
}
