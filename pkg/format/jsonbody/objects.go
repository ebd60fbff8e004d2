package jsonbody

import (
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Objects reads reading objects (readings and flat readings, as in a
// batch) one at a time with the batch's scanner, for the formats whose
// units are JSON objects, such as NDJSON. It reuses its buffers from
// object to object; its zero value is ready to use.
type Objects struct{ s scanner }

// Read parses b, which must hold one JSON object and nothing else but
// white space, into raw. What raw refers to is valid until the next Read.
// Its errors wrap schema.ErrMalformed and say what is wrong and at which
// byte of b.
func (o *Objects) Read(b []byte, raw *schema.Raw) error {
	o.s.b, o.s.i = b, 0
	*raw = schema.Raw{}
	if o.s.peek() != '{' {
		return o.s.malformed("expected a JSON object")
	}
	if err := o.s.object(raw); err != nil {
		return err
	}
	return o.s.end()
}
