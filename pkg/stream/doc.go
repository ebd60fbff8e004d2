// Package stream is how Harbor's services reach NATS JetStream: the
// connection settings, the TELEMETRY stream that carries readings from the
// ingest API to the writers, the dead-letter stream beside it, and the NATS
// users each part connects as, with their permissions (Roles).
//
// Either service may start first, so both call Ensure at start-up; it creates
// the streams or brings their settings up to date, and never deletes data.
package stream
