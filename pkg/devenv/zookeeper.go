package devenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ZooKeeper is a standalone ZooKeeper server process this package started,
// for ClickHouse replicas to coordinate through.
type ZooKeeper struct {
	// Addr is the host:port of its client port.
	Addr string
	proc *process
}

// ErrNoZooKeeper means no ZooKeeper server (or no java to run it) was found.
var ErrNoZooKeeper = errors.New("no ZooKeeper found: install Debian's libzookeeper-java (or zookeeper) package " +
	"and a Java runtime, default-jre-headless (make deps does it)")

// Where Debian's libzookeeper-java package (a dependency of the zookeeper
// package) puts the server. The jar's manifest names the libraries it
// needs; slf4j-simple (a dependency too) makes its log messages visible.
const (
	zooKeeperJar   = "/usr/share/java/zookeeper.jar"
	slf4jSimpleJar = "/usr/share/java/slf4j-simple.jar"
)

// zooCfg configures one standalone server: loopback only, no admin HTTP
// server (it would take port 8080 on every interface), and the "srvr"
// command for the readiness check.
const zooCfg = `tickTime=2000
dataDir=%s
clientPortAddress=127.0.0.1
clientPort=%d
admin.enableServer=false
4lw.commands.whitelist=srvr
`

// FindZooKeeper returns the command that runs a standalone ZooKeeper server
// (Debian's package, run by java), but for its configuration file.
func FindZooKeeper() ([]string, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, ErrNoZooKeeper
	}
	if _, err := os.Stat(zooKeeperJar); err != nil {
		return nil, ErrNoZooKeeper
	}
	return []string{java,
		// A small, quick-starting JVM: a test server, not a production one.
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
		"-cp", zooKeeperJar + string(os.PathListSeparator) + slf4jSimpleJar,
		"org.apache.zookeeper.server.ZooKeeperServerMain",
	}, nil
}

// StartZooKeeper starts a standalone ZooKeeper server with its
// configuration, data and log under dir, listening on 127.0.0.1:port, and
// waits until it answers.
func StartZooKeeper(ctx context.Context, dir string, port int) (*ZooKeeper, error) {
	argv, err := FindZooKeeper()
	if err != nil {
		return nil, err
	}
	dir, err = serverDir(dir, "data")
	if err != nil {
		return nil, err
	}
	cfg := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, zooCfg, filepath.Join(dir, "data"), port), 0o644); err != nil {
		return nil, fmt.Errorf("write ZooKeeper configuration: %w", err)
	}
	proc, err := startProcess(append(argv, cfg), dir, filepath.Join(dir, "zookeeper.log"))
	if err != nil {
		return nil, err
	}
	zk := &ZooKeeper{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), proc: proc}
	if err := proc.waitReady(ctx, zk.Addr, 60*time.Second, zk.Serving); err != nil {
		zk.Stop()
		return nil, err
	}
	return zk, nil
}

// Serving asks the server, with ZooKeeper's four-letter command "srvr",
// whether it serves clients. ("ruok" is answered before it does, and a
// ClickHouse that cannot open its first session is left crippled.)
func (zk *ZooKeeper) Serving(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", zk.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := io.WriteString(conn, "srvr"); err != nil {
		return err
	}
	answer, err := io.ReadAll(conn)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(string(answer), "Zookeeper version:") {
		return fmt.Errorf("ZooKeeper is not serving yet: %q", answer)
	}
	return nil
}

// Stop asks the server to shut down (SIGTERM) and waits for it.
func (zk *ZooKeeper) Stop() {
	zk.proc.stop(syscall.SIGTERM, 10*time.Second)
}
