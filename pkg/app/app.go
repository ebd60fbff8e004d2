// Package app is what every Harbor command does before and after its own
// work: read its settings from the environment, set up logging, and run
// until SIGINT or SIGTERM.
package app

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/caarlos0/env/v11"
)

// LogConfig chooses how logs are written.
type LogConfig struct {
	// Format is "text" or "json"; "auto" picks text on a terminal and JSON
	// elsewhere (containers, files).
	Format string `env:"LOG_FORMAT" envDefault:"auto"`
	// Level is debug, info, warn or error.
	Level slog.Level `env:"LOG_LEVEL" envDefault:"info"`
}

// Main parses the settings C from the environment and calls run with a
// context that ends on SIGINT or SIGTERM. It exits with 2 on bad settings
// and 1 when run fails.
func Main[C any](name string, run func(ctx context.Context, cfg C, log *slog.Logger) error) {
	logCfg, err := env.ParseAs[LogConfig]()
	log := NewLogger(logCfg)
	if err != nil {
		log.Error("bad log settings", "err", err)
		os.Exit(2)
	}
	cfg, err := env.ParseAs[C]()
	if err != nil {
		log.Error("bad configuration", "err", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log.With("service", name)); err != nil {
		log.Error(name+" failed", "err", err)
		stop()
		os.Exit(1)
	}
}

// NewLogger returns the logger the settings ask for, writing to stderr.
func NewLogger(cfg LogConfig) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Level}
	format := cfg.Format
	if format == "auto" {
		format = "json"
		if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
