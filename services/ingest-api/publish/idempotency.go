package publish

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/harbor-ingest/harbor/services/ingest-api/api"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// HeaderFingerprint carries, on every message of a request with an
// Idempotency-Key, the request's fingerprint (api.Idempotency).
const HeaderFingerprint = "Harbor-Request-Fingerprint"

// idempotencyHeader is the header of chunk i of an idempotent request. Its
// message id is "<harbor>:<key>:<i>", so that keys of different harbors
// never collide in the stream's duplicate window.
func idempotencyHeader(harborID string, idem api.Idempotency, i int) nats.Header {
	return nats.Header{
		jetstream.MsgIDHeader: []string{harborID + ":" + idem.Key + ":" + strconv.Itoa(i)},
		HeaderFingerprint:     []string{idem.Fingerprint},
	}
}

// checkDuplicate looks at the acknowledgement of an idempotent request's
// message. A duplicate (the message id was seen within the duplicate window)
// carries the sequence of the message first stored with that id: when that
// message's fingerprint differs, the key was reused for a different request,
// and the answer is *api.IdempotencyConflictError. When it is the same, or
// cannot be told (the message is gone from the stream already, or came from
// a version without fingerprints), the request is a retry: stored already.
func (p *Publisher) checkDuplicate(ctx context.Context, ack *jetstream.PubAck, idem api.Idempotency) error {
	if !ack.Duplicate {
		return nil
	}
	s, err := p.js.Stream(ctx, p.cfg.Name)
	if err != nil {
		return fmt.Errorf("stream %s, to compare a request with the one that used its Idempotency-Key: %w", p.cfg.Name, err)
	}
	first, err := s.GetMsg(ctx, ack.Sequence)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read message %d, to compare a request with the one that used its Idempotency-Key: %w", ack.Sequence, err)
	}
	if fp := first.Header.Get(HeaderFingerprint); fp != "" && fp != idem.Fingerprint {
		return &api.IdempotencyConflictError{Key: idem.Key, Window: p.cfg.DuplicateWindow}
	}
	return nil
}
