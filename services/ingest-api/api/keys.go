package api

import (
	"crypto/sha256"
	"crypto/subtle"
)

// Keys knows which harbor each API key opens. It keeps only SHA-256 hashes of
// the keys: a lookup hashes the presented key and finds the hash, so the time
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

// Harbor returns the harbor the key opens, and false for an unknown key.
func (k *Keys) Harbor(key string) (string, bool) {
	h := sha256.Sum256([]byte(key))
	e, ok := k.byHash[h]
	if !ok || subtle.ConstantTimeCompare(e.hash[:], h[:]) != 1 {
		return "", false
	}
	return e.harborID, true
}
