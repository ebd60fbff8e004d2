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
// back the streams and their messages.
func StartNATS(dir string, port int, opts ...NATSOption) (*server.Server, error) {
	return startNATS(natsOptions(dir, port, opts))
}

// StartNATSClusterNode starts one server of a JetStream cluster named
// "harbor": clients on port, other servers on clusterPort, routes to the
// cluster ports of the others (all on 127.0.0.1).
func StartNATSClusterNode(dir string, port, clusterPort int, routes []int, opts ...NATSOption) (*server.Server, error) {
	o := natsOptions(dir, port, opts)
	o.Cluster = server.ClusterOpts{Name: "harbor", Host: "127.0.0.1", Port: clusterPort}
	for _, r := range routes {
		o.Routes = append(o.Routes, &url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(r)})
	}
	return startNATS(o)
}

func natsOptions(dir string, port int, opts []NATSOption) *server.Options {
	o := &server.Options{
		ServerName: fmt.Sprintf("harbor-local-%d", port),
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
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
