package api

import (
	"errors"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
)

// Config holds the HTTP API's settings, read from the environment.
type Config struct {
	// ListenAddr is the address the API listens on.
	ListenAddr string `env:"LISTEN_ADDR" envDefault:":8080"`
	// TLSCertFile and TLSKeyFile, when both are set, make the API serve
	// HTTPS only.
	TLSCertFile string `env:"TLS_CERT_FILE"`
	TLSKeyFile  string `env:"TLS_KEY_FILE"`
	// APIKeys maps each API key to the harbor it opens: "key1:harbor-a,key2:harbor-b".
	APIKeys map[string]string `env:"API_KEYS"`
	// MaxBodyBytes caps a request body, after gzip decompression too (413 past it).
	MaxBodyBytes int64 `env:"MAX_BODY_BYTES" envDefault:"10485760"`
	// Bodies bound the memory of the bodies in flight and each harbor's
	// requests in flight.
	Bodies BodyConfig
	// MaxConnections caps the connections the API serves at once; a client
	// past it gets the room of the connection idle the longest (Listener),
	// or waits in the listen backlog.
	MaxConnections int `env:"MAX_CONNECTIONS" envDefault:"1024"`
	// MaxHeaderBytes caps a request's headers (431 past it): each
	// connection may hold that much while it reads them.
	MaxHeaderBytes int `env:"MAX_HEADER_BYTES" envDefault:"32768"`
	// ProbeAddr, when set, is a second address that serves only /healthz,
	// /readyz and /metrics, outside MaxConnections, for the kubelet and
	// Prometheus to reach while the main listener is full.
	ProbeAddr string `env:"PROBE_ADDR"`
	// MaxBatchLen caps the readings of one batch request (413 past it).
	MaxBatchLen int `env:"MAX_BATCH_LEN" envDefault:"10000"`
	// PublishTimeout is how long a request waits for JetStream's
	// acknowledgement before it answers 503.
	PublishTimeout time.Duration `env:"PUBLISH_TIMEOUT" envDefault:"5s"`
	// RetryAfter is the Retry-After a 503 answer suggests.
	RetryAfter time.Duration `env:"RETRY_AFTER" envDefault:"1s"`
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout bound slow clients.
	ReadHeaderTimeout time.Duration `env:"READ_HEADER_TIMEOUT" envDefault:"5s"`
	ReadTimeout       time.Duration `env:"READ_TIMEOUT" envDefault:"30s"`
	WriteTimeout      time.Duration `env:"WRITE_TIMEOUT" envDefault:"30s"`
	IdleTimeout       time.Duration `env:"IDLE_TIMEOUT" envDefault:"120s"`
	// DefaultReadingsPerSecond and DefaultRequestsPerSecond limit each
	// harbor that has no limits of its own (0: no limit), across all
	// replicas together.
	DefaultReadingsPerSecond float64 `env:"DEFAULT_READINGS_PER_SECOND" envDefault:"0"`
	DefaultRequestsPerSecond float64 `env:"DEFAULT_REQUESTS_PER_SECOND" envDefault:"0"`
	// RateBurst is how many seconds of its rate a harbor may send at once.
	RateBurst time.Duration `env:"RATE_BURST" envDefault:"1s"`
	// CORSAllowOrigins are the origins browsers may send readings from (and
	// read them from): "*" for any; never with credentials, since the key
	// travels in a header.
	CORSAllowOrigins []string `env:"CORS_ALLOW_ORIGINS" envDefault:"*" envSeparator:","`
	// AdminToken turns on the admin API (/api/v1/admin/...), which wants it
	// as "Authorization: Bearer <token>". Empty: no admin API.
	AdminToken string `env:"ADMIN_TOKEN"`
	// LineProtocolShipTags name the tags of a line protocol point that give
	// its ship_id, the first one present winning.
	LineProtocolShipTags []string `env:"LINE_PROTOCOL_SHIP_TAGS" envDefault:"ship_id,host" envSeparator:","`
	// Limits are the validation rules of a reading.
	Limits schema.Limits
	// Read are the settings of the read API.
	Read ReadConfig
}

// ReadConfig holds the settings of the read API (/api/v1/harbors/...).
type ReadConfig struct {
	// Enabled turns the read API on; it reads ClickHouse with the
	// CLICKHOUSE_* settings. Off, its routes answer 404.
	Enabled bool `env:"READ_API_ENABLED" envDefault:"false"`
	// MaxPoints caps the points of one answer: a step that would give more
	// is raised, and raw readings past it are cut off.
	MaxPoints int `env:"READ_MAX_POINTS" envDefault:"10000"`
	// MaxRange caps the time range (to - from) of one request.
	MaxRange time.Duration `env:"READ_MAX_RANGE" envDefault:"744h"`
	// DefaultLimit and MaxLimit are the page size of a request without a
	// limit and the largest limit one may ask for (ships, or a ship's
	// latest values).
	DefaultLimit int `env:"READ_DEFAULT_LIMIT" envDefault:"100"`
	MaxLimit     int `env:"READ_MAX_LIMIT" envDefault:"1000"`
	// Query bounds each ClickHouse query: time, memory, rows, concurrency.
	Query reader.Limits
}

// Check refuses settings the read API cannot work with.
func (c ReadConfig) Check() error {
	switch {
	case c.MaxPoints < 2:
		return errors.New("READ_MAX_POINTS must be at least 2")
	case c.MaxRange < time.Second:
		return errors.New("READ_MAX_RANGE must be at least 1s")
	case c.MaxLimit < 1:
		return errors.New("READ_MAX_LIMIT must be at least 1")
	case c.DefaultLimit < 1 || c.DefaultLimit > c.MaxLimit:
		return errors.New("READ_DEFAULT_LIMIT must be from 1 to READ_MAX_LIMIT")
	case c.Query.MaxResultRows <= max(c.MaxPoints, c.MaxLimit):
		// A page of latest values or of points reads one row more than it
		// answers, to tell whether more remain.
		return errors.New("READ_MAX_RESULT_ROWS must be more than READ_MAX_POINTS and READ_MAX_LIMIT")
	}
	return c.Query.Check()
}
