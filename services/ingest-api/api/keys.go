package api

import (
	"crypto/sha256"
	"fmt"

	"github.com/harbor-ingest/harbor/pkg/tenant"
)

// Authenticator finds the key a secret belongs to.
type Authenticator interface {
	Authenticate(secret string) (tenant.Key, bool)
}

// AnyOf authenticates with the first of its authenticators that knows the
// secret: static keys from configuration, then the managed ones.
type AnyOf []Authenticator

// Authenticate implements Authenticator.
func (a AnyOf) Authenticate(secret string) (tenant.Key, bool) {
	for _, auth := range a {
		if k, ok := auth.Authenticate(secret); ok {
			return k, true
		}
	}
	return tenant.Key{}, false
}

// Keys are the static keys of the API_KEYS setting, each opening one harbor
// with both scopes. It keeps only SHA-256 hashes of the keys: a lookup
// hashes the presented key and finds the hash, so the time it takes says
// nothing about how much of a key was right.
type Keys struct {
	harborByHash map[[sha256.Size]byte]string
}

// NewKeys builds a Keys from a map of key to harbor (API_KEYS), refusing a
// harbor id that no harbor can have.
func NewKeys(keyToHarbor map[string]string) (*Keys, error) {
	k := &Keys{harborByHash: make(map[[sha256.Size]byte]string, len(keyToHarbor))}
	for key, harbor := range keyToHarbor {
		if err := tenant.CheckHarborID(harbor); err != nil {
			return nil, fmt.Errorf("API_KEYS: %w", err)
		}
		k.harborByHash[sha256.Sum256([]byte(key))] = harbor
	}
	return k, nil
}

// Authenticate implements Authenticator.
func (k *Keys) Authenticate(key string) (tenant.Key, bool) {
	harbor, ok := k.harborByHash[sha256.Sum256([]byte(key))]
	if !ok {
		return tenant.Key{}, false
	}
	return tenant.Key{ID: "static", HarborID: harbor, Scopes: []string{tenant.ScopeWrite, tenant.ScopeRead}}, true
}
