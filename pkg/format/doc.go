// Package format is where Harbor's body formats meet. Each format has a
// package of its own below this one (json, ttn, ...) with a function of
// the Decoder type: it parses a body into schema.Raw objects and validates
// them with a schema.Validator, so the rules a reading must pass, and the
// error bodies that say why it does not, are the same in every format. The
// ingest API chooses a route's decoder by the request's Content-Type.
package format

import (
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Decoder reads the readings of one body, received at now, by the rules of
// opt. Its errors are schema's: ErrMalformed (wrapped with what is wrong),
// ErrEmptyBatch, *schema.InvalidError and *schema.TooLongError.
type Decoder func(body []byte, now time.Time, opt schema.Options) (schema.Decoded, error)
