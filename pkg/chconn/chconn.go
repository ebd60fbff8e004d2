// Package chconn is how Harbor's services reach ClickHouse: one set of
// settings, read by the writers and by the read API alike, so that they
// point at the same table.
package chconn

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Config holds the ClickHouse connection settings.
type Config struct {
	// Addr is host:port of ClickHouse's native protocol (of its HTTP
	// interface with Protocol http), or a comma-separated list of them.
	Addr string `env:"CLICKHOUSE_ADDR" envDefault:"127.0.0.1:9000"`
	// Protocol is how the services talk to ClickHouse: ProtocolNative or
	// ProtocolHTTP (see protocol.go).
	Protocol string `env:"CLICKHOUSE_PROTOCOL" envDefault:"native"`
	Database string `env:"CLICKHOUSE_DATABASE" envDefault:"harbor"`
	Table    string `env:"CLICKHOUSE_TABLE" envDefault:"readings"`
	Username string `env:"CLICKHOUSE_USER" envDefault:"default"`
	Password string `env:"CLICKHOUSE_PASSWORD"`
	// TLS connects with TLS (ClickHouse's secure native port, 9440 by
	// default; HTTPS, 8443, with Protocol http); TLSCAFile verifies the server with this CA instead of the
	// system's.
	TLS       bool   `env:"CLICKHOUSE_TLS" envDefault:"false"`
	TLSCAFile string `env:"CLICKHOUSE_TLS_CA_FILE"`
	// DialTimeout bounds each attempt to reach ClickHouse.
	DialTimeout time.Duration `env:"CLICKHOUSE_DIAL_TIMEOUT" envDefault:"5s"`
}

// Open configures a client; it connects on first use. The native protocol
// with LZ4 works with every server version Harbor supports; HTTP (LZ4
// blocks as well) needs a current server (CheckServer). Each tune, if any,
// adjusts the options first (the pool's size, say).
func Open(cfg Config, tune ...func(*clickhouse.Options)) (driver.Conn, error) {
	protocol, err := cfg.protocol()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	opts := &clickhouse.Options{
		Protocol:    protocol,
		Addr:        strings.Split(cfg.Addr, ","),
		Auth:        clickhouse.Auth{Database: "default", Username: cfg.Username, Password: cfg.Password},
		DialTimeout: cfg.DialTimeout,
		Compression: &clickhouse.Compression{Method: clickhouse.CompressionLZ4},
		TLS:         tlsConfig,
	}
	for _, f := range tune {
		f(opts)
	}
	conn, err := clickhouse.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("configure ClickHouse client: %w", err)
	}
	return conn, nil
}

// tlsConfig is the client TLS configuration, or nil without TLS.
func (cfg Config) tlsConfig() (*tls.Config, error) {
	if !cfg.TLS {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSCAFile == "" {
		return c, nil
	}
	pem, err := os.ReadFile(cfg.TLSCAFile)
	if err != nil {
		return nil, fmt.Errorf("read CLICKHOUSE_TLS_CA_FILE: %w", err)
	}
	c.RootCAs = x509.NewCertPool()
	if !c.RootCAs.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CLICKHOUSE_TLS_CA_FILE %s holds no PEM certificate", cfg.TLSCAFile)
	}
	return c, nil
}
