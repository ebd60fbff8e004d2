// Package api is the HTTP front of Harbor: Echo routes that authenticate the
// API key, read and validate readings, and hand them to a Publisher. It
// answers 200 only after the Publisher says the readings are stored in
// JetStream. With the read API on, keys with the read scope read their
// harbor's readings back through a Reader; openapi.json describes it all.
package api
