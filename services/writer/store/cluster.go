package store

import (
	"context"
	"fmt"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// The values of CLICKHOUSE_INSERT_TABLE.
const (
	// InsertLocal inserts into the local table of the server the writer is
	// connected to; replication copies the rows to the other replicas of
	// its shard.
	InsertLocal = "local"
	// InsertDistributed inserts into the Distributed table, which spreads
	// the rows over the shards by schema.ShardingKey.
	InsertDistributed = "distributed"
)

// cluster is the table placement the settings ask for.
func (cfg Config) cluster() (schema.Cluster, error) {
	c := schema.Cluster{Name: cfg.Cluster}
	switch cfg.InsertTable {
	case InsertLocal, "":
	case InsertDistributed:
		if cfg.Cluster == "" {
			return schema.Cluster{}, fmt.Errorf("CLICKHOUSE_INSERT_TABLE=%s needs CLICKHOUSE_CLUSTER", InsertDistributed)
		}
		c.InsertDistributed = true
	default:
		return schema.Cluster{}, fmt.Errorf("CLICKHOUSE_INSERT_TABLE is %q: use %s or %s", cfg.InsertTable, InsertLocal, InsertDistributed)
	}
	return c, nil
}

// distributedInsert makes an insert into a Distributed table return only
// once every row is in a replica of its shard (insert_distributed_sync, an
// alias of distributed_foreground_insert on current servers), not when the
// server the writer talks to has queued it for sending later: a writer
// acknowledges messages after the insert, so they must be stored by then.
func distributedInsert(ctx context.Context) context.Context {
	return clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"insert_distributed_sync": 1}))
}
