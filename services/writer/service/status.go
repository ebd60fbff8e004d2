package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/harbor-ingest/harbor/pkg/writerstatus"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// statusPoll is how often the writer looks whether its state changed, to
// report a change at once rather than at the next refresh.
const statusPoll = 250 * time.Millisecond

// reportStatus keeps this writer's key in the status bucket until ctx
// ends, then deletes it: whether it is blocked (blocked returns why) is put
// when it changes and refreshed every cfg.Refresh().
func reportStatus(ctx context.Context, kv jetstream.KeyValue, cfg writerstatus.Config, blocked func() error, log *slog.Logger) {
	id := nuid.Next()
	var last writerstatus.Status
	var lastPut time.Time
	t := time.NewTicker(min(statusPoll, cfg.Refresh()))
	defer t.Stop()
	for {
		var now writerstatus.Status
		if err := blocked(); err != nil {
			now.Blocked = err.Error()
		}
		if now != last || time.Since(lastPut) >= cfg.Refresh() {
			putCtx, cancel := context.WithTimeout(ctx, cfg.Refresh())
			if _, err := kv.Put(putCtx, id, now.Encode()); err != nil {
				log.Debug("report writer status", "err", err) // NATS down: the API's /readyz says so itself
			} else {
				last, lastPut = now, time.Now()
			}
			cancel()
		}
		select {
		case <-ctx.Done():
			delCtx, cancel := context.WithTimeout(context.Background(), time.Second)
			kv.Delete(delCtx, id) // gone at once, not after the TTL
			cancel()
			return
		case <-t.C:
		}
	}
}
