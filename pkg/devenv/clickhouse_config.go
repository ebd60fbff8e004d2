package devenv

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// configXML is a minimal server configuration: loopback only, the native
// protocol and the HTTP interface, everything under one directory, small
// caches. Both
// Debian's 18.16 and current releases read the <yandex> root element. The
// third argument adds to it (replicaXML, or nothing).
const configXML = `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>%[1]s/log/server.log</log>
    <errorlog>%[1]s/log/error.log</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[4]d</http_port>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <timezone>UTC</timezone>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
%[3]s</yandex>
`

// replicaXML makes the server one replica of a cluster of one shard:
// ZooKeeper, for replication and for ON CLUSTER DDL (distributed_ddl), the
// cluster's servers, this server's {shard} and {replica} macros, and the
// interserver HTTP port (on loopback) other replicas fetch parts from.
// internal_replication: a Distributed table writes each row to one replica
// and lets replication copy it.
const replicaXML = `  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>%[1]d</interserver_http_port>
  <zookeeper><node><host>%[2]s</host><port>%[3]s</port></node></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
  <remote_servers><%[4]s><shard><internal_replication>true</internal_replication>
%[5]s  </shard></%[4]s></remote_servers>
  <macros><shard>%[6]s</shard><replica>%[7]s</replica></macros>
`

// Replica makes a ClickHouse one replica of a cluster of one shard
// (StartReplica). Every replica of the cluster is given the same
// Cluster, ZooKeeper, Servers and Shard, and its own Name and
// InterserverPort.
type Replica struct {
	// Cluster is the cluster's name in <remote_servers>.
	Cluster string
	// ZooKeeper is host:port of the ZooKeeper server.
	ZooKeeper string
	// Servers is host:port of every replica's native protocol, this one's
	// included.
	Servers []string
	// Shard and Name are this server's {shard} and {replica} macros.
	Shard, Name string
	// InterserverPort serves the parts other replicas fetch.
	InterserverPort int
}

// xml is the replica's part of the server configuration.
func (r Replica) xml() (string, error) {
	zkHost, zkPort, err := net.SplitHostPort(r.ZooKeeper)
	if err != nil {
		return "", fmt.Errorf("ZooKeeper address %q: %w", r.ZooKeeper, err)
	}
	var servers strings.Builder
	for _, s := range r.Servers {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			return "", fmt.Errorf("replica address %q: %w", s, err)
		}
		fmt.Fprintf(&servers, "    <replica><host>%s</host><port>%s</port></replica>\n", host, port)
	}
	return fmt.Sprintf(replicaXML, r.InterserverPort, zkHost, zkPort, r.Cluster, servers.String(), r.Shard, r.Name), nil
}

const usersXML = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default></default></quotas>
</yandex>
`

// writeClickHouseConfig writes the configuration of a server under dir, one
// replica of a cluster when r is not nil.
func writeClickHouseConfig(dir string, port, httpPort int, r *Replica) error {
	cluster := ""
	if r != nil {
		var err error
		if cluster, err = r.xml(); err != nil {
			return err
		}
	}
	files := map[string]string{
		"config.xml": fmt.Sprintf(configXML, dir, port, cluster, httpPort),
		"users.xml":  usersXML,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("write ClickHouse %s: %w", name, err)
		}
	}
	return nil
}
