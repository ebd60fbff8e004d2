// Package deadletter lists the dead letters, messages writers could not
// decode and readings ClickHouse refused, and puts them back on the
// readings stream once the cause is fixed (a writer that reads a newer
// payload format, a table that takes the values, say).
package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Entry is one dead-lettered message.
type Entry struct {
	Sequence    uint64    `json:"sequence"`
	Time        time.Time `json:"time"`
	Subject     string    `json:"original_subject"`
	OriginalSeq string    `json:"original_sequence"`
	Reason      string    `json:"reason"`
	Bytes       int       `json:"bytes"`
}

// List returns the dead-lettered messages, oldest first, at most limit.
func List(ctx context.Context, js jetstream.JetStream, cfg stream.Config, limit int) ([]Entry, error) {
	s, err := js.Stream(ctx, cfg.DeadLetterName())
	if err != nil {
		return nil, fmt.Errorf("dead-letter stream %s: %w", cfg.DeadLetterName(), err)
	}
	state := s.CachedInfo().State
	var entries []Entry
	for seq := state.FirstSeq; seq <= state.LastSeq && len(entries) < limit && state.Msgs > 0; seq++ {
		msg, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted after a republish
		}
		if err != nil {
			return nil, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		entries = append(entries, Entry{
			Sequence:    seq,
			Time:        msg.Time,
			Subject:     msg.Header.Get(stream.DeadSubjectHeader),
			OriginalSeq: msg.Header.Get(stream.DeadSequenceHeader),
			Reason:      msg.Header.Get(stream.DeadReasonHeader),
			Bytes:       len(msg.Data),
		})
	}
	return entries, nil
}

// Republish publishes dead letter seq again on its original subject, where
// the writers pick it up, and then deletes it from the dead-letter stream.
func Republish(ctx context.Context, js jetstream.JetStream, cfg stream.Config, seq uint64) error {
	s, err := js.Stream(ctx, cfg.DeadLetterName())
	if err != nil {
		return fmt.Errorf("dead-letter stream %s: %w", cfg.DeadLetterName(), err)
	}
	msg, err := s.GetMsg(ctx, seq)
	if err != nil {
		return fmt.Errorf("read dead letter %d: %w", seq, err)
	}
	subject := msg.Header.Get(stream.DeadSubjectHeader)
	if _, ok := cfg.HarborID(subject); !ok {
		return fmt.Errorf("dead letter %d has no readings subject (%q) to go back to", seq, subject)
	}
	out := &nats.Msg{Subject: subject, Data: msg.Data, Header: nats.Header{
		jetstream.MsgIDHeader: []string{"dead-letter-" + strconv.FormatUint(seq, 10)},
	}}
	if _, err := js.PublishMsg(ctx, out, jetstream.WithExpectStream(cfg.Name)); err != nil {
		return fmt.Errorf("republish dead letter %d to %s: %w", seq, subject, err)
	}
	if err := s.DeleteMsg(ctx, seq); err != nil {
		return fmt.Errorf("republished dead letter %d, but could not delete it: %w", seq, err)
	}
	return nil
}
