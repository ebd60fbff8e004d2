package local

import (
	"path/filepath"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/nats-io/nats-server/v2/server"
)

// startNATS starts the embedded NATS server on 127.0.0.1 and points the
// services at it. When this process runs the services, the server knows
// only Harbor's users (stream.Roles) with passwords drawn now and handed
// to the services in memory, never printed nor stored. When it does not
// (LOCAL_RUN_SERVICES=false, for services run as processes of their own),
// it has no users: anything on this machine may connect.
func startNATS(cfg *Config) (*server.Server, error) {
	var opts []devenv.NATSOption
	if !cfg.NATSSyncAlways {
		opts = append(opts, devenv.WithSyncInterval(0))
	}
	passwords := map[string]string{}
	if cfg.RunServices {
		roles := stream.Roles(cfg.Ingest.Stream, stream.Buckets{Tenants: cfg.Ingest.Tenants.Bucket, Replicas: cfg.Ingest.ReplicasBucket, Writers: cfg.Ingest.WriterStatus.Bucket})
		var users []devenv.NATSUser
		for _, r := range roles {
			passwords[r.User] = devenv.NewPassword()
			users = append(users, devenv.NATSUser{Name: r.User, Password: passwords[r.User], Publish: r.Publish(), Subscribe: r.Subscribe()})
		}
		opts = append(opts, devenv.WithUsers(users...))
	}
	ns, err := devenv.StartNATS(filepath.Join(cfg.DataDir, "nats"), cfg.NATSPort, opts...)
	if err != nil {
		return nil, err
	}
	for _, s := range []*stream.Config{&cfg.Ingest.Stream, &cfg.Writer.Stream} {
		s.URL = ns.ClientURL()
	}
	if cfg.RunServices {
		cfg.Ingest.Stream.User, cfg.Ingest.Stream.Password = stream.RoleAPI, passwords[stream.RoleAPI]
		cfg.Writer.Stream.User, cfg.Writer.Stream.Password = stream.RoleWriter, passwords[stream.RoleWriter]
		cfg.Ingest.AdminNATS.User, cfg.Ingest.AdminNATS.Password = stream.RoleAdmin, passwords[stream.RoleAdmin]
	}
	return ns, nil
}
