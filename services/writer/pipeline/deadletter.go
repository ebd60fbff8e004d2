package pipeline

import (
	"context"
	"strconv"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// deadLetter copies a message that cannot be decoded to the dead-letter
// stream, with the reason, and then terminates it so it is not redelivered.
// If the copy fails, the message is left for redelivery: never dropped.
func (w *Writer) deadLetter(ctx context.Context, msg jetstream.Msg, reason error) {
	if _, err := w.js.PublishMsg(ctx, w.deadLetterMsg(msg, msg.Data(), reason)); err != nil {
		w.log.Error("dead-letter publish failed; message left for redelivery", "subject", msg.Subject(), "err", err)
		msg.NakWithDelay(5 * time.Second)
		return
	}
	w.m.deadLettered.Inc()
	w.log.Error("message dead-lettered", "subject", msg.Subject(), "reason", reason)
	msg.Term()
}

// deadLetterMsg is the dead letter of msg: data (the message's own, or a
// part of its readings) on the dead-letter subject of its harbor, with the
// reason and where it came from in the headers.
func (w *Writer) deadLetterMsg(msg jetstream.Msg, data []byte, reason error) *nats.Msg {
	harborID, _ := w.stream.HarborID(msg.Subject())
	if harborID == "" {
		harborID = "unknown"
	}
	dead := &nats.Msg{
		Subject: w.stream.DeadLetterSubject(harborID),
		Data:    data,
		Header: nats.Header{
			stream.DeadReasonHeader:  []string{reason.Error()},
			stream.DeadSubjectHeader: []string{msg.Subject()},
		},
	}
	if meta, err := msg.Metadata(); err == nil {
		dead.Header.Set(stream.DeadSequenceHeader, strconv.FormatUint(meta.Sequence.Stream, 10))
	}
	return dead
}
