package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
)

// ClickHouse is a ClickHouse server process this package started: a
// clickhouse-server, or the chDB server (StartEngine with EngineChDB).
type ClickHouse struct {
	// Addr is the host:port the services reach it on, over Protocol.
	Addr string
	// Protocol is what Addr speaks, as CLICKHOUSE_PROTOCOL names it:
	// chconn.ProtocolNative for a clickhouse-server, chconn.ProtocolHTTP
	// for the chDB server.
	Protocol string
	// HTTPAddr is the host:port of a clickhouse-server's HTTP interface
	// (Addr for the chDB server).
	HTTPAddr string
	dir      string
	argv     []string
	proc     *process // nil while stopped
	// replica: the server is one of a cluster, and is ready only once it
	// reaches ZooKeeper (ON CLUSTER DDL fails before).
	replica bool
}

// LogDir is the directory of the server's logs (server.log, error.log,
// stdout.log), for a failing test to show.
func (ch *ClickHouse) LogDir() string { return filepath.Join(ch.dir, "log") }

// ErrNoClickHouse means no clickhouse-server binary was found.
var ErrNoClickHouse = errors.New("no clickhouse-server found: install Debian's clickhouse-server package " +
	"(make deps does it), put ClickHouse's binary on PATH, or point CLICKHOUSE_ADDR at a running server")

// FindClickHouse returns the command that runs a ClickHouse server: a
// clickhouse-server binary (Debian's package installs /usr/sbin/clickhouse-server)
// or the official single "clickhouse" binary.
func FindClickHouse() ([]string, error) {
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return []string{p}, nil
	}
	if _, err := os.Stat("/usr/sbin/clickhouse-server"); err == nil {
		return []string{"/usr/sbin/clickhouse-server"}, nil
	}
	if p, err := exec.LookPath("clickhouse"); err == nil {
		return []string{p, "server"}, nil
	}
	return nil, ErrNoClickHouse
}

// InstallClickHouse installs Debian's clickhouse-server package. It needs
// root and apt-get; otherwise it returns ErrNoClickHouse.
func InstallClickHouse(ctx context.Context) error {
	if _, err := exec.LookPath("apt-get"); err != nil || os.Geteuid() != 0 {
		return ErrNoClickHouse
	}
	for _, args := range [][]string{
		{"apt-get", "update", "-q"},
		{"apt-get", "install", "-y", "-q", "--no-install-recommends", "clickhouse-server", "clickhouse-client"},
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %w\n%s", args, err, out)
		}
	}
	return nil
}

// startClickHouse starts a clickhouse-server with its configuration, data
// and logs under dir, listening on 127.0.0.1:port, configured as replica r
// of a cluster unless r is nil, and waits until it answers.
func startClickHouse(ctx context.Context, dir string, port int, r *Replica) (*ClickHouse, error) {
	argv, err := FindClickHouse()
	if err != nil {
		return nil, err
	}
	dir, err = serverDir(dir, "log", "data", "tmp", "user_files", "format_schemas")
	if err != nil {
		return nil, err
	}
	httpPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	if err := writeClickHouseConfig(dir, port, httpPort, r); err != nil {
		return nil, err
	}
	ch := &ClickHouse{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Protocol: chconn.ProtocolNative,
		HTTPAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(httpPort)),
		dir:      dir,
		argv:     append(argv, "--config-file="+filepath.Join(dir, "config.xml")),
		replica:  r != nil,
	}
	if err := ch.Start(ctx); err != nil {
		return nil, err
	}
	return ch, nil
}

// Start starts the server process (again) and waits until it answers.
func (ch *ClickHouse) Start(ctx context.Context) error {
	proc, err := startProcess(ch.argv, ch.dir, filepath.Join(ch.dir, "log", "stdout.log"))
	if err != nil {
		return err
	}
	ch.proc = proc
	if err := proc.waitReady(ctx, ch.Addr, 60*time.Second, ch.ping); err != nil {
		ch.Kill()
		return err
	}
	return nil
}

// ping checks once that the server answers, over its protocol, and that a
// replica reaches its ZooKeeper.
func (ch *ClickHouse) ping(ctx context.Context) error {
	conn, err := chconn.Open(chconn.Config{Addr: ch.Addr, Protocol: ch.Protocol, Username: "default", DialTimeout: time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Ping(ctx); err != nil || !ch.replica {
		return err
	}
	var nodes uint64
	return conn.QueryRow(ctx, "SELECT count() FROM system.zookeeper WHERE path = '/'").Scan(&nodes)
}

// Stop asks the server to shut down (SIGTERM) and waits for it.
func (ch *ClickHouse) Stop() {
	ch.signal(syscall.SIGTERM, 30*time.Second)
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (ch *ClickHouse) Kill() {
	ch.signal(syscall.SIGKILL, 10*time.Second)
}

func (ch *ClickHouse) signal(sig syscall.Signal, wait time.Duration) {
	if ch.proc == nil {
		return
	}
	ch.proc.stop(sig, wait)
	ch.proc = nil
}
