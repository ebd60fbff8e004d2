package service

import (
	"context"
	"log/slog"

	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/tenant"
)

// AdminNATS are the credentials of the admin API's NATS connection, a user
// with the permissions of stream.RoleAdmin. With none set, the admin API
// uses the API's own connection, whose user must then be allowed to write
// the tenants bucket.
type AdminNATS struct {
	CredsFile string `env:"NATS_ADMIN_CREDS_FILE"`
	User      string `env:"NATS_ADMIN_USER"`
	Password  string `env:"NATS_ADMIN_PASSWORD"`
}

func (a AdminNATS) set() bool { return a.CredsFile != "" || a.User != "" }

// openAdminStore returns the store the admin API writes: nil when the admin
// API is off, on a connection of its own when AdminNATS is set, else
// tenants (on the API's connection). closeConn closes what it opened.
func openAdminStore(ctx context.Context, cfg Config, tenants *tenant.Store, log *slog.Logger) (_ *tenant.Store, closeConn func(), _ error) {
	switch {
	case cfg.API.AdminToken == "":
		return nil, func() {}, nil
	case !cfg.AdminNATS.set():
		return tenants, func() {}, nil
	}
	sc := cfg.Stream
	sc.CredsFile, sc.User, sc.Password = cfg.AdminNATS.CredsFile, cfg.AdminNATS.User, cfg.AdminNATS.Password
	sc.Role = stream.RoleAdmin
	nc, err := stream.Connect(sc, "harbor-ingest-api-admin", log)
	if err != nil {
		return nil, nil, err
	}
	js, err := stream.JetStream(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	store, err := tenant.Open(ctx, js, cfg.Tenants.Bucket, sc.Replicas)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return store, nc.Close, nil
}
