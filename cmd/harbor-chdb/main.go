// Command harbor-chdb serves ClickHouse's HTTP interface from chDB
// (ClickHouse 26 built as a library, libchdb.so) with its data in one
// directory: the current ClickHouse engine for Harbor's tests and for
// `LOCAL_CLICKHOUSE=chdb make run`, where no clickhouse-server of that
// version is installed. pkg/devenv builds and starts it; see
// pkg/devenv/chdbhttp for what it serves.
//
//	harbor-chdb -lib /opt/harbor-chdb/.../libchdb.so -path DIR -listen 127.0.0.1:8123 [-config FILE]
//
// SIGTERM or SIGINT stops it: it closes the engine, which writes what it
// holds to disk.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/chdbhttp"
)

func main() {
	lib := flag.String("lib", os.Getenv("CHDB_LIB_PATH"), "libchdb.so to load (default $CHDB_LIB_PATH)")
	path := flag.String("path", "", "data directory (required)")
	listen := flag.String("listen", "127.0.0.1:8123", "host:port of the HTTP interface")
	config := flag.String("config", "", "ClickHouse server configuration for the engine (ZooKeeper, macros, clusters); none if empty")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := run(*lib, *path, *config, *listen, log); err != nil {
		log.Error("harbor-chdb failed", "err", err)
		os.Exit(1)
	}
}

func run(lib, path, config, listen string, log *slog.Logger) error {
	if lib == "" || path == "" {
		return errors.New("-lib (or CHDB_LIB_PATH) and -path are required")
	}
	engine, err := chdbhttp.Load(lib, path, config)
	if err != nil {
		return err
	}
	defer engine.Close()
	h, err := chdbhttp.NewHandler(engine, log)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Info("serving ClickHouse's HTTP interface from chDB", "addr", l.Addr().String(), "path", path, "lib", lib)
	fmt.Fprintln(os.Stdout, "listening on", l.Addr().String())
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
