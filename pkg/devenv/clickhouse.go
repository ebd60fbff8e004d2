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

	"github.com/ClickHouse/clickhouse-go/v2"
)

// ClickHouse is a clickhouse-server process this package started.
type ClickHouse struct {
	// Addr is the host:port of its native protocol.
	Addr string
	dir  string
	argv []string
	cmd  *exec.Cmd
	done chan struct{}
}

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

// StartClickHouse starts a clickhouse-server with its configuration, data and
// logs under dir, listening on 127.0.0.1:port, and waits until it answers.
// Starting it again on the same dir finds the same databases.
func StartClickHouse(ctx context.Context, dir string, port int) (*ClickHouse, error) {
	argv, err := FindClickHouse()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := writeClickHouseConfig(dir, port); err != nil {
		return nil, err
	}
	ch := &ClickHouse{
		Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		dir:  dir,
		argv: append(argv, "--config-file="+filepath.Join(dir, "config.xml")),
	}
	if err := ch.Start(ctx); err != nil {
		return nil, err
	}
	return ch, nil
}

// Start starts the server process (again) and waits until it answers.
func (ch *ClickHouse) Start(ctx context.Context) error {
	logFile, err := os.OpenFile(filepath.Join(ch.dir, "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(ch.argv[0], ch.argv[1:]...)
	cmd.Dir = ch.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// The server must not outlive the process that started it (a test killed
	// by its timeout, say).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", ch.argv[0], err)
	}
	ch.cmd, ch.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); logFile.Close(); close(ch.done) }()
	if err := ch.waitReady(ctx, 60*time.Second); err != nil {
		ch.Kill()
		return err
	}
	return nil
}

func (ch *ClickHouse) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{ch.Addr}, DialTimeout: time.Second})
		if err == nil {
			err = conn.Ping(ctx)
			conn.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-ch.done:
			return fmt.Errorf("clickhouse-server exited while starting; see %s", filepath.Join(ch.dir, "log"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("clickhouse-server did not answer on %s within %s: %w", ch.Addr, timeout, err)
		}
	}
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
	if ch.cmd == nil {
		return
	}
	ch.cmd.Process.Signal(sig)
	select {
	case <-ch.done:
	case <-time.After(wait):
		ch.cmd.Process.Kill()
		<-ch.done
	}
	ch.cmd = nil
}
