package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// Cache is an in-memory copy of the bucket, kept up to date by a watch, so
// that checking a key costs no round trip to NATS.
type Cache struct {
	mu      sync.RWMutex
	harbors map[string]Harbor
	keys    map[string]Key
}

// Watch loads the bucket and keeps the returned Cache current until ctx
// ends.
func (s *Store) Watch(ctx context.Context) (*Cache, error) {
	w, err := s.kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch tenants: %w", err)
	}
	c := &Cache{harbors: map[string]Harbor{}, keys: map[string]Key{}}
	loaded := make(chan struct{})
	go func() {
		defer w.Stop()
		for e := range w.Updates() {
			if e == nil {
				close(loaded)
				continue
			}
			c.apply(e)
		}
	}()
	select {
	case <-loaded:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Cache) apply(e jetstream.KeyValueEntry) {
	kind, id, _ := strings.Cut(e.Key(), ".")
	c.mu.Lock()
	defer c.mu.Unlock()
	switch kind {
	case "harbors":
		applyEntry(c.harbors, id, e)
	case "keys":
		applyEntry(c.keys, id, e)
	}
}

// applyEntry stores the value of e, a harbor or a key, in m under id; an
// entry that deletes it, or whose value does not decode, removes it.
func applyEntry[T any](m map[string]T, id string, e jetstream.KeyValueEntry) {
	var v T
	if e.Operation() != jetstream.KeyValuePut || json.Unmarshal(e.Value(), &v) != nil {
		delete(m, id)
		return
	}
	m[id] = v
}

// Authenticate returns the key a secret belongs to.
func (c *Cache) Authenticate(secret string) (Key, bool) {
	id, ok := parseSecret(secret)
	if !ok {
		return Key{}, false
	}
	c.mu.RLock()
	k, ok := c.keys[id]
	c.mu.RUnlock()
	if !ok || !k.matches(secret) {
		return Key{}, false
	}
	return k, true
}

// Harbor returns a harbor by id.
func (c *Cache) Harbor(id string) (Harbor, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	h, ok := c.harbors[id]
	return h, ok
}
