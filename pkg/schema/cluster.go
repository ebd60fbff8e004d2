package schema

import (
	"errors"
	"fmt"
)

// Cluster places the readings table on a ClickHouse cluster instead of a
// single server.
//
// Every server of the cluster then holds its shard's rows in a local table,
// LocalName (the table name plus "_local"), a ReplicatedReplacingMergeTree
// whose replicas copy each other's inserts through ZooKeeper (or ClickHouse
// Keeper). Readers query the Distributed table under the table's own name,
// which reads every shard. The DDL runs ON CLUSTER, so the first writer to
// start creates the tables on every server. The servers must define the
// cluster in <remote_servers> and the {shard} and {replica} macros.
type Cluster struct {
	// Name is the cluster as the servers' <remote_servers> name it; empty
	// means a single server.
	Name string
	// InsertDistributed sends inserts to the Distributed table, which spreads
	// the rows over the shards by ShardingKey. Otherwise a writer inserts into
	// the local table of the server it is connected to, and replication copies
	// the rows to the other replicas of that server's shard.
	InsertDistributed bool
}

// ShardingKey is the Distributed table's sharding expression. It hashes a
// prefix of the sort key, so every copy of a reading (a redelivery, a replay)
// lands on the same shard, where the ReplacingMergeTree collapses them, and a
// ship's series stays on one shard.
const ShardingKey = "cityHash64(harbor_id, ship_id)"

// localSuffix turns the table name into the name of the local table on a
// cluster.
const localSuffix = "_local"

// NewClusterTable is NewTable for a table spread over the cluster c (the
// zero Cluster is a single server, as NewTable). The cluster name must be a
// plain identifier as well.
func NewClusterTable(database, name string, serverMajor, serverMinor int, c Cluster) (Table, error) {
	t, err := NewTable(database, name, serverMajor, serverMinor)
	if err != nil {
		return Table{}, err
	}
	if c.Name == "" {
		if c.InsertDistributed {
			return Table{}, errors.New("inserts into a Distributed table need a ClickHouse cluster")
		}
		return t, nil
	}
	if err := checkIdentifier(c.Name); err != nil {
		return Table{}, err
	}
	t.Cluster = c
	return t, nil
}

// LocalName is the table that holds the rows on each server: on a cluster
// the name plus "_local", else the name itself.
func (t Table) LocalName() string {
	if t.Cluster.Name == "" {
		return t.Name
	}
	return t.Name + localSuffix
}

// LocalFullName is the quoted database.table name of LocalName: the table
// inserts go to unless Cluster.InsertDistributed, and the one to query for a
// single server's own rows.
func (t Table) LocalFullName() string {
	return fmt.Sprintf("`%s`.`%s`", t.Database, t.LocalName())
}

// DistributedTableSQL creates the Distributed table readers query on every
// server of the cluster, with the local table's columns, if it does not
// exist. It is empty for a single server.
func (t Table) DistributedTableSQL() string {
	if t.Cluster.Name == "" {
		return ""
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s%s AS %s\nENGINE = Distributed(`%s`, `%s`, `%s`, %s)",
		t.FullName(), t.onCluster(), t.LocalFullName(), t.Cluster.Name, t.Database, t.LocalName(), ShardingKey)
}

// onCluster is the ON CLUSTER clause of the DDL, empty for a single server.
func (t Table) onCluster() string {
	if t.Cluster.Name == "" {
		return ""
	}
	return " ON CLUSTER `" + t.Cluster.Name + "`"
}

// engine is the table engine: plain on a single server, replicated on a
// cluster, with one ZooKeeper path per shard and table and one replica per
// server, from the servers' {shard} and {replica} macros. Debian's 18.16
// and current servers take the same form.
func (t Table) engine(plain string) string {
	if t.Cluster.Name == "" {
		return plain
	}
	return fmt.Sprintf("ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/%s/%s', '{replica}')", t.Database, t.LocalName())
}
