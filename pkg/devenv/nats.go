package devenv

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartNATS starts an embedded NATS server with JetStream on 127.0.0.1:port,
// keeping its store under dir. Starting it again with the same dir brings
// back the streams and their messages. The server writes each message to
// disk (fsync) before it acknowledges it, unless an option says otherwise
// (WithSyncInterval).
func StartNATS(dir string, port int, options ...NATSOption) (*server.Server, error) {
	return startNATS(natsOptions(dir, port, options))
}

// StartNATSClusterNode starts one server of a JetStream cluster named
// "harbor": clients on port, other servers on clusterPort, routes to the
// cluster ports of the others (all on 127.0.0.1).
func StartNATSClusterNode(dir string, port, clusterPort int, routes []int, options ...NATSOption) (*server.Server, error) {
	opts := natsOptions(dir, port, options)
	opts.Cluster = server.ClusterOpts{Name: "harbor", Host: "127.0.0.1", Port: clusterPort}
	for _, r := range routes {
		opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(r)})
	}
	return startNATS(opts)
}

// natsOptions are the settings of an embedded server: sync always, then
// the options in order.
func natsOptions(dir string, port int, options []NATSOption) *server.Options {
	opts := &server.Options{
		ServerName: fmt.Sprintf("harbor-local-%d", port),
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
		SyncAlways: true,
	}
	for _, o := range options {
		o(opts)
	}
	return opts
}

func startNATS(opts *server.Options) (*server.Server, error) {
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS on port %d did not become ready", opts.Port)
	}
	return ns, nil
}
