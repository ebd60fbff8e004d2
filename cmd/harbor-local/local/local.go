package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/tenant"
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
		ns, err := startNATS(&cfg)
		if err != nil {
			return err
		}
		defer ns.Shutdown()
		log.Info("embedded NATS started", "url", ns.ClientURL(), "sync_always", cfg.NATSSyncAlways)
	}
	if !cfg.ExternalClickHouse {
		ch, err := startClickHouse(ctx, cfg, log)
		if err != nil {
			return err
		}
		defer ch.Stop()
		cfg.Writer.ClickHouse.Addr, cfg.Ingest.ClickHouse.Addr = ch.Addr, ch.Addr
	}
	key := ""
	if !cfg.ExternalKeys {
		var err error
		if key, err = demoKey(ctx, cfg, log); err != nil {
			return err
		}
	}

	if !cfg.RunServices {
		fmt.Fprintf(out, "NATS at %s and ClickHouse at %s are running. Ctrl-C stops them.\n", cfg.Ingest.Stream.URL, cfg.Writer.ClickHouse.Addr)
		<-ctx.Done()
		return nil
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

// demoKey returns the secret of the demo harbor's key, kept in the data
// directory, making the harbor and the key on the first run (as the admin
// user when the embedded NATS has users).
func demoKey(ctx context.Context, cfg Config, log *slog.Logger) (string, error) {
	sc := cfg.Ingest.Stream
	if cfg.Ingest.AdminNATS.User != "" {
		sc.User, sc.Password, sc.CredsFile = cfg.Ingest.AdminNATS.User, cfg.Ingest.AdminNATS.Password, cfg.Ingest.AdminNATS.CredsFile
	}
	sc.Role = stream.RoleAdmin
	nc, err := stream.Connect(sc, "harbor-local", log)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	js, err := stream.JetStream(nc)
	if err != nil {
		return "", err
	}
	store, err := tenant.Open(ctx, js, cfg.Ingest.Tenants.Bucket, cfg.Ingest.Stream.Replicas)
	if err != nil {
		return "", err
	}
	path := filepath.Join(cfg.DataDir, "demo-api-key")
	if b, err := os.ReadFile(path); err == nil {
		secret := strings.TrimSpace(string(b))
		if _, err := store.KeyOf(ctx, secret); err == nil {
			return secret, nil
		}
	}
	if _, err := store.CreateHarbor(ctx, tenant.Harbor{ID: cfg.DemoHarbor, Name: "Demo fleet"}); err != nil && !errors.Is(err, tenant.ErrHarborExists) {
		return "", err
	}
	secret, _, err := store.CreateKey(ctx, cfg.DemoHarbor, []string{tenant.ScopeWrite, tenant.ScopeRead})
	if err != nil {
		return "", err
	}
	log.Info("demo harbor and key created", "harbor_id", cfg.DemoHarbor, "key_file", path)
	return secret, os.WriteFile(path, []byte(secret+"\n"), 0o600)
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

or through the read API:

  curl -sS http://%[1]s/api/v1/harbors/%[2]s/ships/ship-1/latest -H 'X-API-Key: %[3]s'

Ctrl-C stops everything.
`, host, harbor, key, portOf(cfg.Writer.ClickHouse.Addr), cfg.Writer.ClickHouse.Database, cfg.Writer.ClickHouse.Table)
}

func portOf(addr string) string {
	return addr[strings.LastIndex(addr, ":")+1:]
}
