package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Config names the key-value bucket of harbors and keys, the same for every
// command that reads or manages them.
type Config struct {
	Bucket string `env:"TENANTS_BUCKET" envDefault:"harbor_tenants"`
}

// Errors of the store.
var (
	ErrHarborExists   = errors.New("harbor exists already")
	ErrHarborNotFound = errors.New("no such harbor")
	ErrKeyNotFound    = errors.New("no such key")
	// ErrInvalid wraps the errors of a harbor or key that cannot be stored.
	ErrInvalid = errors.New("invalid")
)

// Store reads and writes harbors and keys in the bucket. Harbor H is at
// "harbors.H", key K at "keys.K".
type Store struct {
	kv jetstream.KeyValue
}

// Open creates the bucket if need be and returns a Store on it.
func Open(ctx context.Context, js jetstream.JetStream, bucket string, replicas int) (*Store, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, bucketConfig(bucket, replicas))
	if err != nil {
		return nil, fmt.Errorf("open key-value bucket %s: %w", bucket, err)
	}
	return &Store{kv: kv}, nil
}

// CreateHarbor stores a new harbor; its CreatedAt is set now. The id of a
// deleted harbor is refused with ErrHarborDeleted.
func (s *Store) CreateHarbor(ctx context.Context, h Harbor) (Harbor, error) {
	if err := CheckHarborID(h.ID); err != nil {
		return Harbor{}, err
	}
	if h.Limits.ReadingsPerSecond < 0 || h.Limits.RequestsPerSecond < 0 || h.Limits.MaxBatchLen < 0 {
		return Harbor{}, fmt.Errorf("%w limits: they cannot be negative (0 means the default)", ErrInvalid)
	}
	if h.Name == "" {
		h.Name = h.ID
	}
	h.CreatedAt = time.Now().UTC().Truncate(time.Second)
	b, _ := json.Marshal(h)
	rev, err := s.kv.Create(ctx, "harbors."+h.ID, b)
	if errors.Is(err, jetstream.ErrKeyExists) {
		return Harbor{}, fmt.Errorf("%w: %s", ErrHarborExists, h.ID)
	} else if err != nil {
		return Harbor{}, fmt.Errorf("store harbor %s: %w", h.ID, err)
	}
	// Checked after the harbor is stored: a deletion of the id running at
	// the same time left its tombstone before it removed the harbor.
	if err := s.checkNotDeleted(ctx, h.ID); err != nil {
		if derr := s.kv.Delete(ctx, "harbors."+h.ID, jetstream.LastRevision(rev)); derr != nil {
			return Harbor{}, fmt.Errorf("%w (and removing harbor %s again failed: %w)", err, h.ID, derr)
		}
		return Harbor{}, err
	}
	return h, nil
}

// Harbor returns one harbor.
func (s *Store) Harbor(ctx context.Context, id string) (Harbor, error) {
	var h Harbor
	return h, s.get(ctx, "harbors."+id, &h, ErrHarborNotFound)
}

// Harbors returns every harbor, sorted by id.
func (s *Store) Harbors(ctx context.Context) ([]Harbor, error) {
	var hs []Harbor
	err := s.each(ctx, "harbors.*", func(b []byte) error {
		var h Harbor
		err := json.Unmarshal(b, &h)
		hs = append(hs, h)
		return err
	})
	sort.Slice(hs, func(i, j int) bool { return hs[i].ID < hs[j].ID })
	return hs, err
}

// DeleteHarbor removes a harbor and revokes its keys. Its readings stay, and
// so its id stays reserved: it leaves a Tombstone.
func (s *Store) DeleteHarbor(ctx context.Context, id string) error {
	h, err := s.Harbor(ctx, id)
	if err != nil {
		return err
	}
	if err := s.bury(ctx, h); err != nil {
		return err
	}
	keys, err := s.Keys(ctx, id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.RevokeKey(ctx, k.ID); err != nil {
			return err
		}
	}
	return s.kv.Delete(ctx, "harbors."+id)
}

// CreateKey makes a key for a harbor and returns its secret, which is not
// stored and cannot be shown again.
func (s *Store) CreateKey(ctx context.Context, harborID string, scopes []string) (string, Key, error) {
	if err := checkScopes(scopes); err != nil {
		return "", Key{}, fmt.Errorf("%w key: %w", ErrInvalid, err)
	}
	if _, err := s.Harbor(ctx, harborID); err != nil {
		return "", Key{}, err
	}
	for {
		id, secret, err := newSecret()
		if err != nil {
			return "", Key{}, err
		}
		k := Key{ID: id, HarborID: harborID, Scopes: scopes, Hash: hashSecret(secret), CreatedAt: time.Now().UTC().Truncate(time.Second)}
		b, _ := json.Marshal(k)
		_, err = s.kv.Create(ctx, "keys."+id, b)
		if errors.Is(err, jetstream.ErrKeyExists) {
			continue // an id taken already: draw again
		}
		if err != nil {
			return "", Key{}, fmt.Errorf("store key: %w", err)
		}
		return secret, k, nil
	}
}

// Keys returns the keys of a harbor, or of all harbors for "", sorted by id.
func (s *Store) Keys(ctx context.Context, harborID string) ([]Key, error) {
	var ks []Key
	err := s.each(ctx, "keys.*", func(b []byte) error {
		var k Key
		if err := json.Unmarshal(b, &k); err != nil {
			return err
		}
		if harborID == "" || k.HarborID == harborID {
			ks = append(ks, k)
		}
		return nil
	})
	sort.Slice(ks, func(i, j int) bool { return ks[i].ID < ks[j].ID })
	return ks, err
}

// KeyOf returns the stored key a secret belongs to, if it is stored.
func (s *Store) KeyOf(ctx context.Context, secret string) (Key, error) {
	id, ok := parseSecret(secret)
	var k Key
	if !ok {
		return k, fmt.Errorf("%w: not a Harbor key", ErrKeyNotFound)
	}
	if err := s.get(ctx, "keys."+id, &k, ErrKeyNotFound); err != nil {
		return k, err
	}
	if !k.matches(secret) {
		return Key{}, fmt.Errorf("%w: %s", ErrKeyNotFound, id)
	}
	return k, nil
}

// RevokeKey deletes a key, given its id or its prefix ("hb_<id>").
func (s *Store) RevokeKey(ctx context.Context, id string) error {
	id = strings.TrimPrefix(id, "hb_")
	var k Key
	if err := s.get(ctx, "keys."+id, &k, ErrKeyNotFound); err != nil {
		return err
	}
	return s.kv.Delete(ctx, "keys."+id)
}

func (s *Store) get(ctx context.Context, key string, v any, notFound error) error {
	e, err := s.kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return fmt.Errorf("%w: %s", notFound, key[strings.IndexByte(key, '.')+1:])
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	return json.Unmarshal(e.Value(), v)
}

// each calls fn with the value of every key matching filter.
func (s *Store) each(ctx context.Context, filter string, fn func([]byte) error) error {
	w, err := s.kv.Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return fmt.Errorf("list %s: %w", filter, err)
	}
	defer w.Stop()
	for e := range w.Updates() {
		if e == nil {
			return nil // the current values are all delivered
		}
		if err := fn(e.Value()); err != nil {
			return fmt.Errorf("decode %s: %w", e.Key(), err)
		}
	}
	return ctx.Err()
}
