package devenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
)

// ClickHouseCluster is a ClickHouse cluster of one shard on this machine:
// clickhouse-server replicas and the ZooKeeper server they replicate
// through, all on 127.0.0.1.
type ClickHouseCluster struct {
	// Name is the cluster's name in the servers' <remote_servers>, for
	// CLICKHOUSE_CLUSTER and ON CLUSTER.
	Name      string
	ZooKeeper *ZooKeeper
	Replicas  []*ClickHouse
}

// StartClickHouseCluster starts ZooKeeper and n clickhouse-server replicas of
// shard "01" of the cluster name, each with its directory under dir and its
// own free ports, and waits until they all answer. Replica i (from 1) has
// the {replica} macro "replica<i>".
func StartClickHouseCluster(ctx context.Context, dir, name string, n int) (*ClickHouseCluster, error) {
	if n < 1 {
		return nil, errors.New("a ClickHouse cluster needs a replica at least")
	}
	// A ZooKeeper client port, then a native and an interserver port per
	// replica.
	ports, err := FreePorts(1 + 2*n)
	if err != nil {
		return nil, err
	}
	zk, err := StartZooKeeper(ctx, filepath.Join(dir, "zookeeper"), ports[0])
	if err != nil {
		return nil, fmt.Errorf("start ZooKeeper: %w", err)
	}
	c := &ClickHouseCluster{Name: name, ZooKeeper: zk}
	servers := make([]string, n)
	for i := range n {
		servers[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1+2*i]))
	}
	for i := range n {
		r := Replica{
			Cluster:         name,
			ZooKeeper:       zk.Addr,
			Servers:         servers,
			Shard:           "01",
			Name:            "replica" + strconv.Itoa(i+1),
			InterserverPort: ports[2+2*i],
		}
		ch, err := StartReplica(ctx, EngineServer, filepath.Join(dir, r.Name), ports[1+2*i], r)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("start ClickHouse %s: %w", r.Name, err)
		}
		c.Replicas = append(c.Replicas, ch)
	}
	return c, nil
}

// Addr is the native address of every replica, comma-separated, as
// CLICKHOUSE_ADDR takes it.
func (c *ClickHouseCluster) Addr() string {
	addrs := make([]string, len(c.Replicas))
	for i, ch := range c.Replicas {
		addrs[i] = ch.Addr
	}
	return strings.Join(addrs, ",")
}

// Stop stops the replicas, then ZooKeeper: a replica whose ZooKeeper is gone
// hangs in its shutdown.
func (c *ClickHouseCluster) Stop() {
	for _, ch := range c.Replicas {
		ch.Stop()
	}
	c.ZooKeeper.Stop()
}
