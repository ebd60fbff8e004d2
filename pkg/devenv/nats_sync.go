package devenv

import (
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// WithSyncInterval makes the server write its store to disk (fsync) every
// interval, in the background, instead of before each acknowledgement, which
// is what the embedded servers do by default (nats-server's sync_interval:
// always). An interval of 0 is nats-server's own default, 2 minutes: an
// acknowledged message survives a crash of the process but not one of the
// machine (a power cut) until the next sync.
func WithSyncInterval(interval time.Duration) NATSOption {
	return func(o *server.Options) {
		o.SyncAlways = false
		o.SyncInterval = interval
	}
}
