package local

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/nats-io/nats.go"
)

// TestRunServesTheWholePipeline runs the local mode as `make run` does, on
// free ports, posts the README's reading with the printed key, and finds it
// in the ClickHouse the local mode started.
func TestRunServesTheWholePipeline(t *testing.T) {
	testRun(t, devenv.EngineServer, chconn.ProtocolNative)
}

// TestRunServesTheWholePipelineModern is TestRunServesTheWholePipeline with
// LOCAL_CLICKHOUSE=chdb: ClickHouse 26, reached over HTTP.
func TestRunServesTheWholePipelineModern(t *testing.T) {
	testRun(t, devenv.EngineChDB, chconn.ProtocolHTTP)
}

func testRun(t *testing.T, engine devenv.Engine, protocol string) {
	ports := make([]int, 3)
	for i := range ports {
		p, err := devenv.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	dir := t.TempDir()
	cfg := devtest.ParseEnv[Config](t, map[string]string{
		"HARBOR_DATA_DIR":       dir,
		"LOCAL_NATS_PORT":       itoa(ports[0]),
		"LOCAL_CLICKHOUSE_PORT": itoa(ports[1]),
		"LISTEN_ADDR":           "127.0.0.1:" + itoa(ports[2]),
		"FLUSH_INTERVAL":        "100ms",
		"HTTP_ADDR":             "127.0.0.1:0",
		"READ_API_ENABLED":      "true",
		"LOCAL_CLICKHOUSE":      string(engine),
	})
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, slog.New(slog.DiscardHandler), &out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "Ctrl-C") {
		if time.Now().After(deadline) {
			t.Fatalf("no usage printed; output so far:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	key, err := os.ReadFile(filepath.Join(dir, "demo-api-key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "X-API-Key: "+strings.TrimSpace(string(key))) {
		t.Fatalf("the printed curl lacks the demo key:\n%s", out.String())
	}

	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:"+itoa(ports[2])+"/api/v1/ingest/ingest/demo",
		strings.NewReader(`{"ship_id":"ship-1","cargo_id":"temperature","value":21.5}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", strings.TrimSpace(string(key)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST: %d", resp.StatusCode)
	}

	if !strings.Contains(out.String(), "(LOCAL_CLICKHOUSE="+string(engine)+")") {
		t.Fatalf("the engine is not printed:\n%s", out.String())
	}
	conn, err := chconn.Open(chconn.Config{Addr: "127.0.0.1:" + itoa(ports[1]), Protocol: protocol, Username: "default", DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if v, err := conn.ServerVersion(); err == nil {
		t.Logf("ClickHouse %s", v.Version)
	}
	for {
		var value float64
		err := conn.QueryRow(context.Background(), "SELECT value FROM harbor.readings FINAL WHERE harbor_id = 'demo' AND ship_id = 'ship-1'").Scan(&value)
		if err == nil && value == 21.5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reading not in ClickHouse: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The printed read-API example works too.
	req, _ = http.NewRequest(http.MethodGet, "http://127.0.0.1:"+itoa(ports[2])+"/api/v1/harbors/demo/ships/ship-1/latest", nil)
	req.Header.Set("X-API-Key", strings.TrimSpace(string(key)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "21.5") || !strings.Contains(out.String(), "/ships/ship-1/latest") {
		t.Fatalf("read API: %d %s", resp.StatusCode, body)
	}
	// The embedded NATS knows only the services' users.
	if nc, err := nats.Connect("nats://127.0.0.1:" + itoa(ports[0])); err == nil {
		nc.Close()
		t.Error("a client without credentials connected to the embedded NATS")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
