package devenv

import (
	"context"
	"fmt"
)

// Engine names a ClickHouse engine this package can start.
type Engine string

// The engines: the installed clickhouse-server (Debian's 18.16 here), or
// ClickHouse 26 as chDB behind cmd/harbor-chdb's HTTP interface.
const (
	EngineServer Engine = "server"
	EngineChDB   Engine = "chdb"
)

// ParseEngine reads an engine's name (LOCAL_CLICKHOUSE, say).
func ParseEngine(s string) (Engine, error) {
	switch e := Engine(s); e {
	case EngineServer, EngineChDB:
		return e, nil
	}
	return "", fmt.Errorf("ClickHouse engine %q: use %q (the installed clickhouse-server) or %q (ClickHouse 26 from chDB)", s, EngineServer, EngineChDB)
}

// StartEngine starts a ClickHouse of the engine e with its configuration,
// data and logs under dir, listening on 127.0.0.1:port (the native port of
// a clickhouse-server, the HTTP interface of chDB), and waits until it
// answers. Starting it again on the same dir finds the same databases.
func StartEngine(ctx context.Context, e Engine, dir string, port int) (*ClickHouse, error) {
	if e == EngineChDB {
		return startChDB(ctx, dir, port, nil)
	}
	return startClickHouse(ctx, dir, port, nil)
}

// StartReplica is StartEngine for an engine configured as one replica of a
// cluster (see Replica): ZooKeeper, the {shard} and {replica} macros and the
// cluster's servers, for replicated tables. chDB runs no server beside its
// HTTP interface: no interserver port (other replicas cannot fetch its
// parts) and no distributed DDL queue (ON CLUSTER statements wait for
// nothing to run them).
func StartReplica(ctx context.Context, e Engine, dir string, port int, r Replica) (*ClickHouse, error) {
	if e == EngineChDB {
		return startChDB(ctx, dir, port, &r)
	}
	return startClickHouse(ctx, dir, port, &r)
}
