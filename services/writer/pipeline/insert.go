package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/harbor-ingest/harbor/pkg/retry"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// headerRoom is the part of the server's max payload left for the headers
// of a dead letter.
const headerRoom = 1024

// insert stores the batch's rows, dead-letters the rows ClickHouse refuses
// for good, and only then acknowledges the batch's messages. It retries
// until that is done or ctx ends; then the messages stay unacknowledged and
// JetStream redelivers them.
func (w *Writer) insert(ctx context.Context, b *batch) error {
	refused, err := w.storeRows(ctx, b, 0, b.cols.Len())
	if err != nil {
		return err
	}
	if err := w.deadLetterRows(ctx, b, refused); err != nil {
		return err
	}
	for _, msg := range b.msgs {
		if err := msg.Ack(); err != nil {
			// The rows are stored; a redelivery only makes duplicates that
			// the table collapses.
			w.log.Warn("ack failed; the message will be redelivered", "err", err)
		}
	}
	w.log.Debug("batch inserted", "rows", b.cols.Len(), "refused", len(refused), "messages", len(b.msgs))
	return nil
}

// refusedRow is a row of a batch ClickHouse refuses, and its answer.
type refusedRow struct {
	row    int
	reason error
}

// storeRows inserts rows lo to hi of the batch, retrying transient errors.
// Rows ClickHouse refuses (ErrRowsRefused) are found by bisecting: each
// half is inserted on its own, down to single rows, which it returns; the
// others are stored.
func (w *Writer) storeRows(ctx context.Context, b *batch, lo, hi int) ([]refusedRow, error) {
	b.keepAlive(w.keepAliveEvery())
	rows := b.rows(lo, hi)
	err := retry.Do(ctx, w.retryPolicy(b, w.m.insertRetries, "insert failed, will retry", "rows", hi-lo), func(ctx context.Context) error {
		return w.insertOnce(ctx, rows)
	})
	switch {
	case err == nil:
		return nil, nil
	case !errors.Is(err, ErrRowsRefused):
		return nil, err
	case hi-lo == 1:
		return []refusedRow{{lo, err}}, nil
	}
	w.log.Warn("ClickHouse refuses some rows: inserting halves of the batch to find them", "rows", hi-lo, "err", err)
	mid := lo + (hi-lo)/2
	left, err := w.storeRows(ctx, b, lo, mid)
	if err != nil {
		return nil, err
	}
	right, err := w.storeRows(ctx, b, mid, hi)
	return append(left, right...), err
}

// insertOnce is one insert, with its metrics and the writer's state.
func (w *Writer) insertOnce(ctx context.Context, rows *schema.Columns) error {
	start := time.Now()
	err := w.sink.Insert(ctx, rows)
	switch {
	case err == nil:
		w.m.insertDuration.Observe(time.Since(start).Seconds())
		w.m.batchRows.Observe(float64(rows.Len()))
		w.m.rowsInserted.Add(float64(rows.Len()))
		w.setBlocked(nil)
	case errors.Is(err, ErrCannotWrite):
		w.setBlocked(err)
	}
	return err
}

// retryPolicy is the writer's retry policy for the work on batch b: it
// gives up on refused rows only, counts every retry on retries (if not
// nil), logs it (with what and args), and keeps the batch's messages from
// being redelivered.
func (w *Writer) retryPolicy(b *batch, retries prometheus.Counter, what string, args ...any) retry.Policy {
	return retry.Policy{
		Min: w.cfg.RetryMin, Max: w.cfg.RetryMax,
		GiveUp: func(err error) bool { return errors.Is(err, ErrRowsRefused) },
		OnRetry: func(err error, wait time.Duration) {
			if retries != nil {
				retries.Inc()
			}
			level := slog.LevelWarn
			if errors.Is(err, ErrCannotWrite) {
				level = slog.LevelError
			}
			w.log.Log(context.Background(), level, what, append(args, "err", err, "retry_in", wait)...)
			b.keepAlive(w.keepAliveEvery())
		},
	}
}

// keepAliveEvery is how often messages held longer than expected are
// reported in progress: well within AckWait.
func (w *Writer) keepAliveEvery() time.Duration { return max(w.cfg.AckWait/3, time.Millisecond) }

// deadLetterRows publishes the refused rows to the dead-letter stream,
// retrying until JetStream has them all (or ctx ends). Each message with
// refused rows gets a dead letter per reason: the message itself if all
// its rows are refused, else a payload of only its refused readings. A
// message id per letter makes a second try after a redelivery a duplicate
// the dead-letter stream drops.
func (w *Writer) deadLetterRows(ctx context.Context, b *batch, refused []refusedRow) error {
	letters := w.deadLetters(b, refused)
	for _, letter := range letters {
		err := retry.Do(ctx, w.retryPolicy(b, nil, "dead-letter publish failed, will retry", "subject", letter.Subject), func(ctx context.Context) error {
			_, err := w.js.PublishMsg(ctx, letter)
			return err
		})
		if err != nil {
			return fmt.Errorf("dead-letter refused readings (their messages will be redelivered): %w", err)
		}
		w.m.deadLettered.Inc()
		w.log.Error("readings ClickHouse refuses dead-lettered", "subject", letter.Header.Get(stream.DeadSubjectHeader),
			"stream_sequence", letter.Header.Get(stream.DeadSequenceHeader), "reason", letter.Header.Get(stream.DeadReasonHeader))
	}
	return nil
}

// deadLetters groups the refused rows (in row order) by message and reason.
func (w *Writer) deadLetters(b *batch, refused []refusedRow) []*nats.Msg {
	maxPayload := int(w.js.Conn().MaxPayload()) - headerRoom
	var letters []*nats.Msg
	for i, m := 0, 0; i < len(refused); m++ {
		first := 0
		if m > 0 {
			first = b.ends[m-1]
		}
		// The reasons of this message's refused rows, in order, each with
		// its readings.
		var reasons []error
		readings := map[string][]schema.Reading{}
		for ; i < len(refused) && refused[i].row < b.ends[m]; i++ {
			key := refused[i].reason.Error()
			if _, ok := readings[key]; !ok {
				reasons = append(reasons, refused[i].reason)
			}
			readings[key] = append(readings[key], b.reading(refused[i].row))
		}
		msg := b.msgs[m]
		for r, reason := range reasons {
			rs := readings[reason.Error()]
			payloads := [][]byte{msg.Data()}
			if len(rs) < b.ends[m]-first {
				payloads = schema.EncodePayloads(rs, maxPayload)
			}
			for p, payload := range payloads {
				letter := w.deadLetterMsg(msg, payload, reason)
				if seq := letter.Header.Get(stream.DeadSequenceHeader); seq != "" {
					letter.Header.Set(jetstream.MsgIDHeader, "refused:"+seq+":"+strconv.Itoa(r)+":"+strconv.Itoa(p))
				}
				letters = append(letters, letter)
			}
		}
	}
	return letters
}
