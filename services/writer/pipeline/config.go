package pipeline

import "time"

// Config holds the settings of the consume-batch-insert loop.
type Config struct {
	// BatchRows: a batch is inserted once it holds this many rows...
	BatchRows int `env:"BATCH_ROWS" envDefault:"100000"`
	// FlushInterval: ...or once its oldest message is this old.
	FlushInterval time.Duration `env:"FLUSH_INTERVAL" envDefault:"1s"`
	// FetchMessages is how many messages one pull asks for.
	FetchMessages int `env:"FETCH_MESSAGES" envDefault:"64"`
	// MaxAckPending caps the messages handed out to all writers and not yet
	// acknowledged: the backpressure that keeps a slow ClickHouse from
	// filling the writers' memory.
	MaxAckPending int `env:"MAX_ACK_PENDING" envDefault:"1000"`
	// AckWait is how long a message may stay unacknowledged before it is
	// redelivered, to another writer if this one died. A writer that is
	// still retrying its insert extends it.
	AckWait time.Duration `env:"ACK_WAIT" envDefault:"30s"`
	// RetryMin and RetryMax bound the backoff between failed inserts.
	RetryMin time.Duration `env:"RETRY_MIN" envDefault:"200ms"`
	RetryMax time.Duration `env:"RETRY_MAX" envDefault:"10s"`
	// ShutdownTimeout bounds the last flush on SIGTERM.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
}
