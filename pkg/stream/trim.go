package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ageTrimInterval is how often a Trimmer looks for readings older than
// STREAM_MAX_AGE.
const ageTrimInterval = time.Second

// Usage is what the readings stream holds.
type Usage struct {
	// Msgs and Bytes are the stream's own counts.
	Msgs, Bytes uint64
	// AckFloor is the writers' ack floor: every message up to this stream
	// sequence is in ClickHouse. 0 when no writer ever ran.
	AckFloor uint64
	// History is the number of written messages (at or below AckFloor)
	// still kept for replay. When it is 0, Bytes is exactly the bytes of the
	// readings the writers have not written (as of AckFloor).
	History uint64
}

// Trimmer removes written history from the readings stream, and nothing
// else: only messages at or below the writers' ack floor, never one they
// have not written. Purging a prefix of sequences is idempotent, so any
// number of Trimmers (one per API replica) may trim the same stream at once.
type Trimmer struct {
	js       jetstream.JetStream
	cfg      Config
	now      func() time.Time
	lastAged time.Time
}

// NewTrimmer returns a Trimmer of the readings stream of cfg.
func NewTrimmer(js jetstream.JetStream, cfg Config) *Trimmer {
	return &Trimmer{js: js, cfg: cfg, now: time.Now}
}

// Trim purges written history older than STREAM_MAX_AGE (looked for once a
// second at most), and written history from the oldest on while the stream
// holds more than STREAM_MAX_BACKLOG_BYTES, down to 7/8 of it. It returns
// what the stream holds then: when Bytes is still above
// STREAM_MAX_BACKLOG_BYTES, no written history is left, so Bytes is exactly
// the writers' backlog.
func (t *Trimmer) Trim(ctx context.Context) (Usage, error) {
	s, err := t.js.Stream(ctx, t.cfg.Name)
	if err != nil {
		return Usage{}, fmt.Errorf("stream info of %s: %w", t.cfg.Name, err)
	}
	af, err := ackFloor(ctx, s, t.cfg.Consumer)
	if err != nil {
		return Usage{}, err
	}
	u := usage(s.CachedInfo().State, af)
	if now := t.now(); t.cfg.MaxAge > 0 && u.History > 0 && now.Sub(t.lastAged) >= ageTrimInterval {
		t.lastAged = now
		if u, err = trimAge(ctx, s, t.cfg, u, now.Add(-t.cfg.MaxAge)); err != nil {
			return Usage{}, err
		}
	}
	if limit := uint64(max(t.cfg.MaxBacklogBytes, 0)); u.Bytes > limit && u.History > 0 {
		return trimBytes(ctx, s, u.AckFloor, limit-limit/8)
	}
	return u, nil
}

// trimBytes purges written history (at or below ackFloor), oldest first,
// until the stream holds at most target bytes or no written history is
// left. JetStream does not tell the size of a range of messages, so it
// guesses from the average size, purges, looks again, and guesses twice as
// far each time; after a few rounds it purges all the written history.
func trimBytes(ctx context.Context, s jetstream.Stream, ackFloor, target uint64) (Usage, error) {
	var step uint64
	for attempt := 0; ; attempt++ {
		if err := refresh(ctx, s); err != nil {
			return Usage{}, err
		}
		state := s.CachedInfo().State
		u := usage(state, ackFloor)
		if u.Bytes <= target || u.History == 0 {
			return u, nil
		}
		avg := max(u.Bytes/u.Msgs, 1)
		step = max(2*step, (u.Bytes-target+avg-1)/avg)
		keep := min(state.FirstSeq+step, ackFloor+1) // the first message to keep
		if attempt >= 8 {
			keep = ackFloor + 1
		}
		if err := purgeBelow(ctx, s, keep); err != nil {
			return Usage{}, err
		}
	}
}

// trimAge purges the written messages stored before cutoff. Messages are
// stored in order of time, so it finds the first one to keep by bisection.
func trimAge(ctx context.Context, s jetstream.Stream, cfg Config, u Usage, cutoff time.Time) (Usage, error) {
	state := s.CachedInfo().State
	// The first message at or after seq, if it is at or below the ack floor
	// and older than cutoff.
	expired := func(seq uint64) (bool, error) {
		m, err := s.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(cfg.SubjectPrefix+".*"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("read message %d of stream %s: %w", seq, cfg.Name, err)
		}
		return m.Sequence <= u.AckFloor && m.Time.Before(cutoff), nil
	}
	lo, hi := state.FirstSeq, min(u.AckFloor, state.LastSeq)+1
	if old, err := expired(lo); err != nil || !old {
		return u, err
	}
	for lo++; lo < hi; { // the first message to keep is in [lo, hi]
		mid := lo + (hi-lo)/2
		old, err := expired(mid)
		if err != nil {
			return Usage{}, err
		}
		if old {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if err := purgeBelow(ctx, s, lo); err != nil {
		return Usage{}, err
	}
	if err := refresh(ctx, s); err != nil {
		return Usage{}, err
	}
	return usage(s.CachedInfo().State, u.AckFloor), nil
}

// usage is what a stream in state holds, given the writers' ack floor.
func usage(state jetstream.StreamState, ackFloor uint64) Usage {
	u := Usage{Msgs: state.Msgs, Bytes: state.Bytes, AckFloor: ackFloor}
	if state.Msgs > 0 && ackFloor >= state.FirstSeq {
		u.History = min(ackFloor, state.LastSeq) - state.FirstSeq + 1
	}
	return u
}

// ackFloor is the stream sequence up to which the consumer acknowledged
// every message; 0 when it does not exist (yet).
func ackFloor(ctx context.Context, s jetstream.Stream, consumer string) (uint64, error) {
	c, err := s.Consumer(ctx, consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("consumer info of %s: %w", consumer, err)
	}
	return c.CachedInfo().AckFloor.Stream, nil
}

// purgeBelow purges the messages before sequence keep.
func purgeBelow(ctx context.Context, s jetstream.Stream, keep uint64) error {
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(keep)); err != nil {
		return fmt.Errorf("purge stream %s below sequence %d: %w", s.CachedInfo().Config.Name, keep, err)
	}
	return nil
}

// refresh reads the stream's info again.
func refresh(ctx context.Context, s jetstream.Stream) error {
	if _, err := s.Info(ctx); err != nil {
		return fmt.Errorf("stream info of %s: %w", s.CachedInfo().Config.Name, err)
	}
	return nil
}
