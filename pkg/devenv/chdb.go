package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
)

// ChDBLibraryDir is where scripts/deps.sh installs the npm package
// @chdb/lib-linux-x64-gnu, which ships libchdb.so.
const ChDBLibraryDir = "/opt/harbor-chdb"

// ErrNoChDB means libchdb.so was not found.
var ErrNoChDB = errors.New("no libchdb.so (ClickHouse 26 as chDB): run make deps (scripts/deps.sh installs npm's " +
	"@chdb/lib-linux-x64-gnu into " + ChDBLibraryDir + ") or set CHDB_LIB_PATH to a libchdb.so")

// FindChDB returns the path of libchdb.so: $CHDB_LIB_PATH, or the one
// scripts/deps.sh installed.
func FindChDB() (string, error) {
	path := os.Getenv("CHDB_LIB_PATH")
	if path == "" {
		path = filepath.Join(ChDBLibraryDir, "node_modules", "@chdb", "lib-linux-x64-gnu", "libchdb.so")
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoChDB, err)
	}
	return path, nil
}

// startChDB starts cmd/harbor-chdb, ClickHouse 26 (chDB) serving
// ClickHouse's HTTP interface on 127.0.0.1:port with its data under dir,
// configured as replica r of a cluster unless r is nil, and waits until it
// answers. Starting it again on the same dir finds the same databases. The
// command is built from this repository's source on first use in a process
// (go build, cached by Go).
func startChDB(ctx context.Context, dir string, port int, r *Replica) (*ClickHouse, error) {
	lib, err := FindChDB()
	if err != nil {
		return nil, err
	}
	bin, err := chdbServerBinary(ctx)
	if err != nil {
		return nil, err
	}
	dir, err = serverDir(dir, "log", "data")
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ch := &ClickHouse{
		Addr:     addr,
		Protocol: chconn.ProtocolHTTP,
		HTTPAddr: addr,
		dir:      dir,
		argv:     []string{bin, "-lib", lib, "-path", filepath.Join(dir, "data"), "-listen", addr},
	}
	if r != nil {
		cluster, err := r.xml()
		if err != nil {
			return nil, err
		}
		config := filepath.Join(dir, "config.xml")
		if err := os.WriteFile(config, []byte("<clickhouse>\n"+cluster+"</clickhouse>\n"), 0o644); err != nil {
			return nil, err
		}
		ch.argv = append(ch.argv, "-config", config)
	}
	if err := ch.Start(ctx); err != nil {
		return nil, err
	}
	return ch, nil
}

var chdbBuild struct {
	once sync.Once
	path string
	err  error
}

// chdbServerBinary builds cmd/harbor-chdb once per process into the user's
// cache directory and returns its path.
func chdbServerBinary(ctx context.Context) (string, error) {
	chdbBuild.once.Do(func() { chdbBuild.path, chdbBuild.err = buildChDBServer(ctx) })
	return chdbBuild.path, chdbBuild.err
}

func buildChDBServer(ctx context.Context) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "harbor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	// Built to a name of its own, then renamed: test processes that build
	// at the same time never run a half-written file.
	tmp, err := os.CreateTemp(dir, "harbor-chdb-*")
	if err != nil {
		return "", err
	}
	tmp.Close()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, goBin, "build", "-o", tmp.Name(), "github.com/harbor-ingest/harbor/cmd/harbor-chdb")
	build.Dir = sourceDir()
	if out, err := build.CombinedOutput(); err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("build cmd/harbor-chdb (needs Go and this repository's source): %w\n%s", err, out)
	}
	path := filepath.Join(dir, "harbor-chdb")
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// sourceDir is this package's source directory, inside the module that
// holds cmd/harbor-chdb, or "" (the working directory) when the binary
// was built without it.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return dir
}
