// Package tenant is who may send what: harbors (a tenant's data set, with
// its own limits) and the API keys that open them. Both live in a NATS
// JetStream key-value bucket, so every ingest-api replica sees the same set
// and learns of a change within moments, and harborctl manages them.
//
// Only a SHA-256 hash of each key is stored; the secret is shown once, when
// the key is created.
package tenant

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Scopes a key can carry.
const (
	ScopeWrite = "write" // ingest readings
	ScopeRead  = "read"  // read them back
)

// HarborIDPattern is what a harbor id may be: it becomes a NATS subject
// token and a ClickHouse value.
var HarborIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ReservedHarborIDs are words of the ingest paths that a harbor id cannot
// be: /api/v2/ingest/batch is the batch endpoint of the key's own harbor,
// never harbor "batch".
var ReservedHarborIDs = []string{"batch", "ttn", "gps", "ingest"}

// CheckHarborID says what is wrong with a harbor id, or nil.
func CheckHarborID(id string) error {
	if !HarborIDPattern.MatchString(id) {
		return fmt.Errorf("%w harbor id %q: use 1 to 64 letters, digits, '-' or '_'", ErrInvalid, id)
	}
	if slices.Contains(ReservedHarborIDs, id) {
		return fmt.Errorf("%w harbor id %q: %s are reserved words of the ingest paths", ErrInvalid, id, strings.Join(ReservedHarborIDs, ", "))
	}
	return nil
}

// Limits are a harbor's own limits; a zero field takes the configured
// default.
type Limits struct {
	ReadingsPerSecond float64 `json:"readings_per_second,omitempty"`
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	MaxBatchLen       int     `json:"max_batch_len,omitempty"`
}

// Harbor is one tenant's data set.
type Harbor struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Limits    Limits    `json:"limits"`
	// Partial is the harbor's policy for a body with invalid readings:
	// false refuses the whole body (400, nothing stored); true stores the
	// valid readings and lists the others as skipped in the 200 answer.
	Partial bool `json:"partial,omitempty"`
}

// Key is an API key as stored: its id (the visible prefix of the secret),
// the harbor it opens, its scopes and the hash of its secret.
type Key struct {
	ID        string    `json:"id"`
	HarborID  string    `json:"harbor_id"`
	Scopes    []string  `json:"scopes"`
	Hash      string    `json:"hash"` // hex SHA-256 of the whole secret
	CreatedAt time.Time `json:"created_at"`
}

// Has reports whether the key carries the scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Prefix is the part of the secret that identifies the key and may be shown.
func (k Key) Prefix() string { return "hb_" + k.ID }

// newSecret makes a key's secret: "hb_<id>_<64 hex digits>". The id is 8 hex
// digits, the rest 256 random bits.
func newSecret() (id, secret string, err error) {
	b := make([]byte, 36)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random key: %w", err)
	}
	id = hex.EncodeToString(b[:4])
	return id, "hb_" + id + "_" + hex.EncodeToString(b[4:]), nil
}

// parseSecret returns the id of a secret of the form newSecret makes.
func parseSecret(secret string) (string, bool) {
	rest, ok := strings.CutPrefix(secret, "hb_")
	id, _, ok2 := strings.Cut(rest, "_")
	return id, ok && ok2 && len(id) == 8
}

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// matches compares a secret with the key's hash in constant time.
func (k Key) matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.Hash)) == 1
}

// checkScopes refuses unknown scopes and an empty list.
func checkScopes(scopes []string) error {
	if len(scopes) == 0 {
		return fmt.Errorf("a key needs at least one scope (%s, %s)", ScopeWrite, ScopeRead)
	}
	for _, s := range scopes {
		if s != ScopeWrite && s != ScopeRead {
			return fmt.Errorf("unknown scope %q: use %s or %s", s, ScopeWrite, ScopeRead)
		}
	}
	return nil
}
