package devenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// process is a server process this package started.
type process struct {
	name    string // the program, for messages
	logFile string // its standard output and error
	cmd     *exec.Cmd
	done    chan struct{} // closed once it has exited
}

// serverDir returns dir, a server's directory, as an absolute path, with the
// subdirectories subs made in it.
func serverDir(dir string, subs ...string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for _, sub := range subs {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", err
		}
	}
	return dir, nil
}

// startProcess starts argv in dir with its output appended to logFile. The
// process is killed when the one that started it dies (a test killed by its
// timeout, say), so it never outlives it.
func startProcess(argv []string, dir, logFile string) (*process, error) {
	out, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	p := &process{name: argv[0], logFile: logFile, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); out.Close(); close(p.done) }()
	return p, nil
}

// waitReady calls ready every 100ms until it succeeds, and fails when the
// process exits, ctx ends or timeout passes first. addr names the server in
// messages.
func (p *process) waitReady(ctx context.Context, addr string, timeout time.Duration, ready func(context.Context) error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited while starting; see %s and the logs beside it", p.name, p.logFile)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer on %s within %s: %w", p.name, addr, timeout, err)
		}
	}
}

// stop sends sig and waits up to wait for the process to exit, then kills
// it.
func (p *process) stop(sig syscall.Signal, wait time.Duration) {
	p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(wait):
		p.cmd.Process.Kill()
		<-p.done
	}
}
