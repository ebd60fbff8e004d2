package api

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Idempotency makes a retried request a no-op: the client's Idempotency-Key
// and a fingerprint of the request, which tells a retry from another request
// that reuses the key.
type Idempotency struct {
	// Key is the Idempotency-Key header; "" for none.
	Key string
	// Fingerprint is a hash of the endpoint and the body as sent
	// (decompressed), not of the decoded readings, whose server-filled
	// times differ between retries. Empty when Key is.
	Fingerprint string
}

// IdempotencyConflictError is Publish's answer when the Idempotency-Key was
// used, within the stream's duplicate window, for a request with another
// fingerprint: nothing of this request is stored.
type IdempotencyConflictError struct {
	Key    string
	Window time.Duration // STREAM_DUPLICATE_WINDOW
}

func (e *IdempotencyConflictError) Error() string {
	return fmt.Sprintf("Idempotency-Key %q was used for a different request within the last %s; use a new key for a new request (nothing of this one was stored)", e.Key, e.Window)
}

// maxIdempotencyKey is the longest Idempotency-Key accepted.
const maxIdempotencyKey = 128

// checkIdempotencyKey refuses an Idempotency-Key header no key can be, before
// anything of the body is read.
func checkIdempotencyKey(req *http.Request) error {
	if key := req.Header.Get("Idempotency-Key"); len(key) > maxIdempotencyKey || !printableASCII(key) {
		return problem(http.StatusBadRequest, fmt.Sprintf("Idempotency-Key must be at most %d printable ASCII characters", maxIdempotencyKey))
	}
	return nil
}

// idempotency is the request's Idempotency-Key (checked by
// checkIdempotencyKey) and, when there is one, the fingerprint of the
// request: the kind of request (bodyFormat.name: "one", "batch", ... the
// same on v1 and v2) and its body.
func idempotency(c echo.Context, endpoint string, body []byte) Idempotency {
	key := c.Request().Header.Get("Idempotency-Key")
	if key == "" {
		return Idempotency{}
	}
	h := sha256.New()
	h.Write([]byte(endpoint))
	h.Write([]byte{0})
	h.Write(body)
	return Idempotency{Key: key, Fingerprint: base64.RawStdEncoding.EncodeToString(h.Sum(nil))}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
