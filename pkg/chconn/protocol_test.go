package chconn

import (
	"errors"
	"testing"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

func TestProtocolSetting(t *testing.T) {
	for in, want := range map[string]clickhouse.Protocol{"": clickhouse.Native, "native": clickhouse.Native, "http": clickhouse.HTTP} {
		if got, err := (Config{Protocol: in}).protocol(); err != nil || got != want {
			t.Errorf("CLICKHOUSE_PROTOCOL=%q: %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := Open(Config{Protocol: "https"}); err == nil {
		t.Error("CLICKHOUSE_PROTOCOL=https was accepted (HTTPS is http with CLICKHOUSE_TLS)")
	}
}

func TestCheckServerRefusesOnlyWhatRetryingCannotFix(t *testing.T) {
	httpCfg := Config{Addr: "ch:8123", Protocol: ProtocolHTTP}
	old := &driver.ServerVersion{Version: proto.Version{Major: 18, Minor: 16, Patch: 1}}
	current := &driver.ServerVersion{Version: proto.Version{Major: 26, Minor: 7, Patch: 2}}
	for _, c := range []struct {
		name   string
		cfg    Config
		v      *driver.ServerVersion
		err    error
		refuse bool
	}{
		{"current over HTTP", httpCfg, current, nil, false},
		{"old over HTTP", httpCfg, old, nil, true},
		{"old over native", Config{Protocol: ProtocolNative}, old, nil, false},
		{"handshake refused", httpCfg, nil, &clickhouse.HTTPError{StatusCode: 404, Err: errors.New("Unknown setting client_protocol_version")}, true},
		{"a proxy's 503 while ClickHouse is down", httpCfg, nil, &clickhouse.HTTPError{StatusCode: 503, Err: errors.New("no backend")}, false},
		{"unreachable", httpCfg, nil, errors.New("connection refused"), false},
	} {
		err := c.cfg.CheckServer(c.v, c.err)
		if got := errors.Is(err, ErrProtocol); got != c.refuse {
			t.Errorf("%s: %v, want refused %v", c.name, err, c.refuse)
		}
	}
}
