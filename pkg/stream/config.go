package stream

import (
	"strings"
	"time"
)

// Config holds the NATS settings shared by every Harbor service.
type Config struct {
	// URL is the NATS server, or a comma-separated list of the servers of a
	// cluster.
	URL string `env:"NATS_URL" envDefault:"nats://127.0.0.1:4222"`
	// Name of the stream that carries readings.
	Name string `env:"STREAM_NAME" envDefault:"TELEMETRY"`
	// SubjectPrefix: readings of harbor H are published on "<prefix>.H".
	SubjectPrefix string `env:"STREAM_SUBJECT_PREFIX" envDefault:"telemetry"`
	// MaxAge is how long the stream keeps readings, acknowledged or not, so
	// that they can be replayed for a backfill.
	MaxAge time.Duration `env:"STREAM_MAX_AGE" envDefault:"168h"`
	// MaxBytes caps the stream's size on disk. When it is full, new readings
	// are refused (the API answers 503) rather than old ones dropped.
	MaxBytes int64 `env:"STREAM_MAX_BYTES" envDefault:"10737418240"`
	// Replicas is the number of copies of the stream in a NATS cluster.
	Replicas int `env:"STREAM_REPLICAS" envDefault:"1"`
	// DuplicateWindow is how long a message id (from the Idempotency-Key
	// header) is remembered to drop a client's retried request.
	DuplicateWindow time.Duration `env:"STREAM_DUPLICATE_WINDOW" envDefault:"2m"`
}

// Subject is the subject readings of the given harbor are published on.
func (c Config) Subject(harborID string) string {
	return c.SubjectPrefix + "." + harborID
}

// HarborID returns the harbor of a subject made by Subject.
func (c Config) HarborID(subject string) (string, bool) {
	return strings.CutPrefix(subject, c.SubjectPrefix+".")
}

// DeadLetterName is the stream that keeps messages a writer could not decode.
func (c Config) DeadLetterName() string { return c.Name + "_DEAD_LETTER" }

// DeadLetterSubject is the subject of a dead message of the given harbor.
func (c Config) DeadLetterSubject(harborID string) string {
	return c.SubjectPrefix + "_dead_letter." + harborID
}
