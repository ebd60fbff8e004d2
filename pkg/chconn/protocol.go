package chconn

import (
	"errors"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// The values of CLICKHOUSE_PROTOCOL.
const (
	// ProtocolNative is ClickHouse's native TCP protocol (port 9000, 9440
	// with TLS), which every server version speaks.
	ProtocolNative = "native"
	// ProtocolHTTP is ClickHouse's HTTP interface (port 8123, 8443 with
	// TLS) carrying the same Native blocks: for ClickHouse Cloud, chproxy
	// and load balancers that pass HTTP only. It needs a server of
	// MinHTTPMajor or later.
	ProtocolHTTP = "http"
)

// MinHTTPMajor is the oldest ClickHouse major version Harbor reaches over
// HTTP. clickhouse-go's HTTP transport asks for Native blocks of the
// client's protocol revision (client_protocol_version), which older servers
// ignore, and the modern schema (20.1) is the oldest tested that way; 18.16
// answers it with an error.
const MinHTTPMajor = 20

// protocol is clickhouse-go's name of cfg.Protocol; empty (a Config made
// in code) is native, as the setting's default.
func (cfg Config) protocol() (clickhouse.Protocol, error) {
	switch cfg.Protocol {
	case ProtocolNative, "":
		return clickhouse.Native, nil
	case ProtocolHTTP:
		return clickhouse.HTTP, nil
	}
	return 0, fmt.Errorf("CLICKHOUSE_PROTOCOL is %q: use %q or %q", cfg.Protocol, ProtocolNative, ProtocolHTTP)
}

// ErrProtocol means the server answered but cannot serve Harbor over the
// configured protocol; retrying does not help.
var ErrProtocol = errors.New("ClickHouse cannot be used over this protocol")

// CheckServer tells whether the outcome of asking a server for its version
// (conn.ServerVersion) is final: an error wrapping ErrProtocol when the
// server answered over HTTP but refused the handshake's query (a server too
// old for clickhouse-go's HTTP transport, such as 18.16, answers 4xx) or is
// older than MinHTTPMajor; nil when v is usable or err is worth retrying (an
// unreachable server, a proxy's 5xx while it is down).
func (cfg Config) CheckServer(v *driver.ServerVersion, err error) error {
	if cfg.Protocol != ProtocolHTTP {
		return nil
	}
	var httpErr *clickhouse.HTTPError
	if err != nil && errors.As(err, &httpErr) && httpErr.StatusCode >= 400 && httpErr.StatusCode < 500 {
		return fmt.Errorf("%w: ClickHouse at %s refused the HTTP handshake (%w); CLICKHOUSE_PROTOCOL=http needs ClickHouse %d.1 or later "+
			"and a user it accepts: upgrade it, check CLICKHOUSE_USER, or set CLICKHOUSE_PROTOCOL=native with the native port", ErrProtocol, cfg.Addr, err, MinHTTPMajor)
	}
	if err == nil && v != nil && v.Version.Major < MinHTTPMajor {
		return fmt.Errorf("%w: ClickHouse at %s is %s; CLICKHOUSE_PROTOCOL=http needs %d.1 or later: "+
			"upgrade it or set CLICKHOUSE_PROTOCOL=native with the native port", ErrProtocol, cfg.Addr, v.Version, MinHTTPMajor)
	}
	return nil
}
