package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/harbor-ingest/harbor/pkg/writerstatus"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrWritersBlocked means a writer reports that it cannot write: the
// readings it holds, and those behind them, wait in the stream.
var ErrWritersBlocked = errors.New("readings are not being written")

// Writers follows the writers' reports in the status bucket (see package
// writerstatus). A report counts until the bucket's TTL passes after it
// arrived here, so a writer that died stops counting even if its key has
// not expired yet.
type Writers struct {
	ttl     time.Duration
	mu      sync.Mutex
	reports map[string]report
}

type report struct {
	status   writerstatus.Status
	received time.Time
}

// WatchWriters opens the status bucket and follows it until ctx ends.
func WatchWriters(ctx context.Context, js jetstream.JetStream, cfg writerstatus.Config, log *slog.Logger) (*Writers, error) {
	kv, err := writerstatus.Open(ctx, js, cfg)
	if err != nil {
		return nil, err
	}
	watcher, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch key-value bucket %s: %w", cfg.Bucket, err)
	}
	w := &Writers{ttl: cfg.TTL, reports: map[string]report{}}
	go func() {
		defer watcher.Stop()
		for entry := range watcher.Updates() {
			if entry != nil { // nil marks the end of the initial values
				w.update(entry, log)
			}
		}
	}()
	return w, nil
}

func (w *Writers) update(entry jetstream.KeyValueEntry, log *slog.Logger) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if entry.Operation() != jetstream.KeyValuePut {
		delete(w.reports, entry.Key())
		return
	}
	s, err := writerstatus.Decode(entry.Value())
	if err != nil {
		log.Warn("unreadable writer status", "writer", entry.Key(), "err", err)
		return
	}
	if was, ok := w.reports[entry.Key()]; !ok || was.status != s {
		log.Info("writer status", "writer", entry.Key(), "blocked", s.Blocked)
	}
	w.reports[entry.Key()] = report{status: s, received: time.Now()}
}

// Blocked returns an error wrapping ErrWritersBlocked, with every reason,
// while a live writer reports that it cannot write; nil otherwise.
func (w *Writers) Blocked() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	var reasons []string
	for id, r := range w.reports {
		if time.Since(r.received) > w.ttl {
			delete(w.reports, id)
			continue
		}
		if r.status.Blocked != "" {
			reasons = append(reasons, "writer "+id+": "+r.status.Blocked)
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	sort.Strings(reasons)
	return fmt.Errorf("%w: %s", ErrWritersBlocked, strings.Join(reasons, "; "))
}

// WritersReady is a Publisher whose Ready fails, besides its own reasons,
// while the writers report that they cannot write.
type WritersReady struct {
	*Publisher
	Writers *Writers
}

// Ready implements api.Publisher.
func (p WritersReady) Ready(ctx context.Context) error {
	if err := p.Publisher.Ready(ctx); err != nil {
		return err
	}
	return p.Writers.Blocked()
}
