package stream

import (
	"fmt"
	"strings"
	"time"
)

// Config holds the NATS settings shared by every Harbor service.
type Config struct {
	// URL is the NATS server, or a comma-separated list of the servers of a
	// cluster.
	URL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// CredsFile is a NATS credentials file (JWT and NKey), for servers
	// with decentralized auth.
	CredsFile string `env:"NATS_CREDS_FILE"`
	// User and Password, for servers with plain user auth.
	User     string `env:"NATS_USER"`
	Password string `env:"NATS_PASSWORD"`
	// Role is the Harbor role (RoleAPI, RoleWriter, ...) the connection
	// acts as, set by each command, not by the environment: its replies come
	// on the role's own inbox (InboxPrefix), which the role's permissions
	// allow. Empty keeps nats.go's default inbox.
	Role string `env:"-"`
	// TLSCAFile verifies the server's certificate (a tls:// URL or a
	// server that requires TLS); TLSCertFile and TLSKeyFile are the client's
	// certificate for servers that verify clients.
	TLSCAFile   string `env:"NATS_TLS_CA_FILE"`
	TLSCertFile string `env:"NATS_TLS_CERT_FILE"`
	TLSKeyFile  string `env:"NATS_TLS_KEY_FILE"`
	// Name of the stream that carries readings.
	Name string `env:"STREAM_NAME" envDefault:"TELEMETRY"`
	// SubjectPrefix: readings of harbor H are published on "<prefix>.H".
	SubjectPrefix string `env:"STREAM_SUBJECT_PREFIX" envDefault:"telemetry"`
	// MaxAge is how long written readings stay in the stream, so that they
	// can be replayed for a backfill. The stream has no age limit of its
	// own: the API's Trimmer purges older readings once they are written.
	MaxAge time.Duration `env:"STREAM_MAX_AGE" envDefault:"168h"`
	// MaxBytes is the stream's hard size cap: a publish that would pass it
	// is refused (DiscardNew), nothing is discarded.
	MaxBytes int64 `env:"STREAM_MAX_BYTES" envDefault:"10737418240"`
	// MaxBacklogBytes caps the readings not yet written by the writers: past
	// it the API answers 503 until the writers catch up. It is also how much
	// the stream holds with its written history: past it the Trimmer purges
	// the oldest written readings. It must be below MaxBytes, by more than
	// the API replicas accept between two measurements.
	MaxBacklogBytes int64 `env:"STREAM_MAX_BACKLOG_BYTES" envDefault:"5368709120"`
	// Replicas is the number of copies of the stream in a NATS cluster.
	Replicas int `env:"STREAM_REPLICAS" envDefault:"1"`
	// DuplicateWindow is how long a message id (from the Idempotency-Key
	// header) is remembered to drop a client's retried request.
	DuplicateWindow time.Duration `env:"STREAM_DUPLICATE_WINDOW" envDefault:"2m"`
	// Consumer is the durable consumer the writers share; the API watches
	// its backlog.
	Consumer string `env:"CONSUMER_NAME" envDefault:"writers"`
}

// Validate reports settings that cannot work together.
func (c Config) Validate() error {
	if c.MaxBytes > 0 && c.MaxBacklogBytes >= c.MaxBytes {
		return fmt.Errorf("STREAM_MAX_BACKLOG_BYTES (%d) must be below STREAM_MAX_BYTES (%d), so that the API answers 503 before the stream is full", c.MaxBacklogBytes, c.MaxBytes)
	}
	return nil
}

// Subject is the subject readings of the given harbor are published on.
func (c Config) Subject(harborID string) string {
	return c.SubjectPrefix + "." + harborID
}

// HarborID returns the harbor of a subject made by Subject.
func (c Config) HarborID(subject string) (string, bool) {
	return strings.CutPrefix(subject, c.SubjectPrefix+".")
}

// Headers of a message in the dead-letter stream: why it is there, and
// where it came from (what `writer dead-letter republish` puts it back on).
const (
	DeadReasonHeader   = "Harbor-Dead-Reason"
	DeadSubjectHeader  = "Harbor-Original-Subject"
	DeadSequenceHeader = "Harbor-Original-Sequence"
)

// DeadLetterName is the stream that keeps messages a writer could not decode.
func (c Config) DeadLetterName() string { return c.Name + "_DEAD_LETTER" }

// DeadLetterSubject is the subject of a dead message of the given harbor.
func (c Config) DeadLetterSubject(harborID string) string {
	return c.SubjectPrefix + "_dead_letter." + harborID
}
