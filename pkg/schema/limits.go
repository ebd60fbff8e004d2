package schema

import "time"

// Limits are the validation rules a reading must pass. Each is a documented
// setting; the env tags name the variables (after the service's prefix).
type Limits struct {
	// MaxIDLength is the most characters (runes) a ship_id or cargo_id may have.
	MaxIDLength int `env:"MAX_ID_LENGTH" envDefault:"100"`
	// MaxFuture is how far ahead of the server's clock a reading's time may be.
	MaxFuture time.Duration `env:"MAX_FUTURE" envDefault:"24h"`
	// MaxPast is how far behind the server's clock a reading's time may be.
	// The default (5 years) keeps a batch within ClickHouse's limit of 100
	// monthly partitions per insert.
	MaxPast time.Duration `env:"MAX_PAST" envDefault:"43800h"`
}
