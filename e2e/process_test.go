package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// binary builds the named service once per test run and returns its path.
func binary(t *testing.T, name string) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "harbor-e2e-bin")
		if binErr != nil {
			return
		}
		for name, pkg := range map[string]string{
			"writer":      "github.com/harbor-ingest/harbor/services/writer",
			"ingest-api":  "github.com/harbor-ingest/harbor/services/ingest-api",
			"nats-server": "github.com/nats-io/nats-server/v2",
		} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), pkg)
			if out, err := cmd.CombinedOutput(); err != nil {
				binErr = &buildError{name, err, out}
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, name)
}

type buildError struct {
	name string
	err  error
	out  []byte
}

func (e *buildError) Error() string {
	return "build " + e.name + ": " + e.err.Error() + "\n" + string(e.out)
}

// startProcess runs a binary with the given settings and arguments; it is
// killed when the test ends if it still runs.
func startProcess(t *testing.T, name string, environment map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary(t, name), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LOG_FORMAT=text", "LOG_LEVEL=warn"}
	for k, v := range environment {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}
