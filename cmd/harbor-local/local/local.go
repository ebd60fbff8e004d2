package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	ingest "github.com/harbor-ingest/harbor/services/ingest-api/service"
	writer "github.com/harbor-ingest/harbor/services/writer/service"
)

// Run starts what the configuration does not point elsewhere, runs the API
// and a writer, prints how to use them to out, and stops everything it
// started when ctx ends.
func Run(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) error {
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	if !cfg.ExternalNATS {
		ns, err := devenv.StartNATS(filepath.Join(cfg.DataDir, "nats"), cfg.NATSPort)
		if err != nil {
			return err
		}
		defer ns.Shutdown()
		cfg.Ingest.Stream.URL, cfg.Writer.Stream.URL = ns.ClientURL(), ns.ClientURL()
		log.Info("embedded NATS started", "url", ns.ClientURL())
	}
	if !cfg.ExternalClickHouse {
		ch, err := startClickHouse(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer ch.Stop()
		cfg.Writer.ClickHouse.Addr = ch.Addr
	}
	key := ""
	if !cfg.ExternalKeys {
		var err error
		if key, err = demoKey(cfg.DataDir); err != nil {
			return err
		}
		cfg.Ingest.API.APIKeys = map[string]string{key: cfg.DemoHarbor}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() {
		errs[0] = ingest.Run(ctx, cfg.Ingest, log, func(addr string) { printUsage(out, cfg, addr, key) })
		cancel()
	})
	wg.Go(func() {
		errs[1] = writer.Run(ctx, cfg.Writer, log)
		cancel()
	})
	wg.Wait()
	return errors.Join(errs...)
}

func startClickHouse(ctx context.Context, cfg Config, log *slog.Logger) (*devenv.ClickHouse, error) {
	if _, err := devenv.FindClickHouse(); errors.Is(err, devenv.ErrNoClickHouse) {
		log.Info("no clickhouse-server found: installing Debian's package (apt-get)")
		if err := devenv.InstallClickHouse(ctx); err != nil {
			return nil, err
		}
	}
	ch, err := devenv.StartClickHouse(ctx, filepath.Join(cfg.DataDir, "clickhouse"), cfg.ClickHousePort)
	if err != nil {
		return nil, err
	}
	log.Info("ClickHouse started", "addr", ch.Addr)
	return ch, nil
}

// demoKey returns the key kept in the data directory, making one on the
// first run.
func demoKey(dir string) (string, error) {
	path := filepath.Join(dir, "demo-api-key")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	key := "hb_" + hex.EncodeToString(raw)
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}

func printUsage(out io.Writer, cfg Config, addr, key string) {
	host := addr
	if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") {
		host = "127.0.0.1" + host[strings.LastIndex(host, ":"):]
	}
	if key == "" {
		key = "<a key from API_KEYS>"
	}
	harbor := cfg.DemoHarbor
	fmt.Fprintf(out, `
Harbor is running. Post a reading:

  curl -sS -X POST http://%[1]s/api/v1/ingest/ingest/%[2]s \
    -H 'Content-Type: application/json' -H 'X-API-Key: %[3]s' \
    -d '{"time":"'$(date -u +%%Y-%%m-%%dT%%H:%%M:%%S.%%3NZ)'","ship_id":"ship-1","cargo_id":"temperature","value":21.5}'

and a batch:

  curl -sS -X POST http://%[1]s/api/v1/ingest/ingest/%[2]s/batch \
    -H 'Content-Type: application/json' -H 'X-API-Key: %[3]s' \
    -d '[{"ship_id":"ship-1","cargo_id":"rpm","value":1200},{"ship_id":"ship-2","cargo_id":"rpm","value":900}]'

See them in ClickHouse (about a second later):

  clickhouse-client --port %[4]s -q "SELECT * FROM %[5]s.%[6]s FINAL ORDER BY time DESC LIMIT 10"

Ctrl-C stops everything.
`, host, harbor, key, portOf(cfg.Writer.ClickHouse.Addr), cfg.Writer.ClickHouse.Database, cfg.Writer.ClickHouse.Table)
}

func portOf(addr string) string {
	return addr[strings.LastIndex(addr, ":")+1:]
}
