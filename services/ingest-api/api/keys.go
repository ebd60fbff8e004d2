package api

import (
	"crypto/sha256"
	"crypto/subtle"

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
// with both scopes. It keeps only SHA-256 hashes of the keys: a lookup hashes the presented key and finds the hash, so the time
// it takes says nothing about how much of a key was right, and the final
// comparison is constant-time as well.
type Keys struct {
	byHash map[[sha256.Size]byte]keyEntry
}

type keyEntry struct {
	hash     [sha256.Size]byte
	harborID string
}

// NewKeys builds a Keys from a map of key to harbor.
func NewKeys(keyToHarbor map[string]string) *Keys {
	k := &Keys{byHash: make(map[[sha256.Size]byte]keyEntry, len(keyToHarbor))}
	for key, harbor := range keyToHarbor {
		h := sha256.Sum256([]byte(key))
		k.byHash[h] = keyEntry{hash: h, harborID: harbor}
	}
	return k
}

// Authenticate implements Authenticator.
func (k *Keys) Authenticate(key string) (tenant.Key, bool) {
	h := sha256.Sum256([]byte(key))
	e, ok := k.byHash[h]
	if !ok || subtle.ConstantTimeCompare(e.hash[:], h[:]) != 1 {
		return tenant.Key{}, false
	}
	return tenant.Key{ID: "static", HarborID: e.harborID, Scopes: []string{tenant.ScopeWrite, tenant.ScopeRead}}, true
}
