package pipeline

import (
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
)

// Config holds the settings of the consume-batch-insert loop.
type Config struct {
	// BatchRows: a batch is inserted once it holds this many rows...
	BatchRows int `env:"BATCH_ROWS" envDefault:"100000"`
	// FlushInterval: ...or once its oldest message is this old.
	FlushInterval time.Duration `env:"FLUSH_INTERVAL" envDefault:"1s"`
	// FetchBytes is how many bytes of messages one pull asks for (at least
	// the server's max payload, 1 MiB by default).
	FetchBytes int `env:"FETCH_BYTES" envDefault:"8388608"`
	// MaxAckPending caps the messages handed out to all writers and not yet
	// acknowledged. A batch holds its messages until it is inserted, so this
	// must exceed what the writers' batches hold together: with one reading
	// per request, BATCH_ROWS messages per writer.
	MaxAckPending int `env:"MAX_ACK_PENDING" envDefault:"250000"`
	// AckWait is how long a message may stay unacknowledged before it is
	// redelivered, to another writer if this one died. A writer that is
	// still retrying its insert extends it.
	AckWait time.Duration `env:"ACK_WAIT" envDefault:"30s"`
	// RetryMin and RetryMax bound the backoff (see package retry) between
	// failed inserts, fetches and dead-letter publishes.
	RetryMin time.Duration `env:"RETRY_MIN" envDefault:"200ms"`
	RetryMax time.Duration `env:"RETRY_MAX" envDefault:"10s"`
	// ShutdownTimeout bounds the last flush on SIGTERM.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	// Limits are the API's validation rules (MAX_ID_LENGTH, MAX_FUTURE,
	// MAX_PAST), which the writers check again on what they decode: give
	// them the API's values.
	Limits schema.Limits
	// ClockSkew widens MAX_FUTURE and MAX_PAST around a message's publish
	// time, for the difference between the API's clock and the NATS
	// server's (which stamps the message) and the time between the two.
	ClockSkew time.Duration `env:"MAX_CLOCK_SKEW" envDefault:"5m"`
}
