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
	"time"

	"github.com/harbor-ingest/harbor/pkg/chconn"
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
		ch, err := startClickHouse(ctx, cfg, log, out)
		if err != nil {
			return err
		}
		defer ch.Stop()
		cfg.Writer.ClickHouse.Addr, cfg.Ingest.ClickHouse.Addr = ch.Addr, ch.Addr
		cfg.Writer.ClickHouse.Protocol, cfg.Ingest.ClickHouse.Protocol = ch.Protocol, ch.Protocol
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

// startClickHouse starts the configured engine and prints which it is,
// with its version.
func startClickHouse(ctx context.Context, cfg Config, log *slog.Logger, out io.Writer) (*devenv.ClickHouse, error) {
	engine, err := devenv.ParseEngine(cfg.ClickHouse)
	if err != nil {
		return nil, fmt.Errorf("LOCAL_CLICKHOUSE: %w", err)
	}
	if _, err := devenv.FindClickHouse(); engine == devenv.EngineServer && errors.Is(err, devenv.ErrNoClickHouse) {
		log.Info("no clickhouse-server found: installing Debian's package (apt-get)")
		if err := devenv.InstallClickHouse(ctx); err != nil {
			return nil, err
		}
	}
	// Each engine its own data: chDB's directory is no clickhouse-server's.
	dir := "clickhouse"
	if engine == devenv.EngineChDB {
		dir = "chdb"
	}
	ch, err := devenv.StartEngine(ctx, engine, filepath.Join(cfg.DataDir, dir), cfg.ClickHousePort)
	if err != nil {
		return nil, err
	}
	conn, err := chconn.Open(chconn.Config{Addr: ch.Addr, Protocol: ch.Protocol, Username: "default", DialTimeout: 5 * time.Second})
	if err != nil {
		ch.Stop()
		return nil, err
	}
	defer conn.Close()
	v, err := conn.ServerVersion()
	if err != nil {
		ch.Stop()
		return nil, fmt.Errorf("ask the local ClickHouse its version: %w", err)
	}
	log.Info("ClickHouse started", "engine", engine, "version", v.Version.String(), "addr", ch.Addr, "protocol", ch.Protocol)
	fmt.Fprintf(out, "ClickHouse %s (LOCAL_CLICKHOUSE=%s) on %s, protocol %s\n", v.Version, engine, ch.Addr, ch.Protocol)
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

  %[4]s

or through the read API:

  curl -sS http://%[1]s/api/v1/harbors/%[2]s/ships/ship-1/latest -H 'X-API-Key: %[3]s'

Ctrl-C stops everything.
`, host, harbor, key, clickHouseExample(cfg.Writer.ClickHouse.Config))
}

// clickHouseExample is a command that shows the latest rows, for the
// protocol the services use.
func clickHouseExample(c chconn.Config) string {
	q := fmt.Sprintf("SELECT * FROM %s.%s FINAL ORDER BY time DESC LIMIT 10", c.Database, c.Table)
	if c.Protocol == chconn.ProtocolHTTP {
		return fmt.Sprintf("curl -sS 'http://%s/' --data-binary %q", c.Addr, q)
	}
	return fmt.Sprintf("clickhouse-client --port %s -q %q", c.Addr[strings.LastIndex(c.Addr, ":")+1:], q)
}
