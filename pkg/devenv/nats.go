package devenv

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// StartNATS starts an embedded NATS server with JetStream on 127.0.0.1:port,
// keeping its store under dir. Starting it again with the same dir brings
// back the streams and their messages.
func StartNATS(dir string, port int) (*server.Server, error) {
	ns, err := server.NewServer(&server.Options{
		ServerName: fmt.Sprintf("harbor-local-%d", port),
		Host:       "127.0.0.1",
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoSigs:     true,
	})
	if err != nil {
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded NATS on port %d did not become ready", port)
	}
	return ns, nil
}
