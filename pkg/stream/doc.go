// Package stream is how Harbor's services reach NATS JetStream: the
// connection settings, the TELEMETRY stream that carries readings from the
// ingest API to the writers, the dead-letter stream beside it, and the NATS
// users each part connects as, with their permissions (Roles).
//
// # Who owns the streams' settings
//
// The ingest API does. At start-up it creates the streams, or updates those
// whose settings differ from its own (Ensure, through OpenAsOwner); every
// other service (writers, writer replay, writer dead-letter) creates a
// missing stream so that any of them may start first, but never changes one
// that exists: it logs the settings that differ (Check, through Open). Run
// every API replica with the same STREAM_* settings.
//
// # Limits never discard unwritten readings
//
// The readings stream discards nothing by itself: it has DiscardNew, so a
// publish that would take it past STREAM_MAX_BYTES is refused (the API
// answers 503), and no MaxAge of its own. What it holds beyond the writers'
// backlog is written history, kept for `writer replay`. Each API replica runs
// a Trimmer that purges that history, and only it (the messages at or below
// the writers' ack floor): when it is older than STREAM_MAX_AGE, and from the
// oldest on while the stream holds more than STREAM_MAX_BACKLOG_BYTES. Past
// that, no history is left and the stream's size is exactly the backlog, so
// the API refuses readings (503) when the backlog itself is over the limit,
// never on a guess. An API started with a STREAM_MAX_BYTES below what the
// writers have not written refuses to start; one above it trims history to
// fit.
package stream
