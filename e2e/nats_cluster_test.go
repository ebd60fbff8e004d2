package e2e

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/nats-io/nats-server/v2/server"
)

// TestNATSClusterLosesNothingWhenAServerDies runs a three-server JetStream
// cluster with the stream replicated three times, ingests, kills one server
// and keeps ingesting: every reading answered 200 is stored.
func TestNATSClusterLosesNothingWhenAServerDies(t *testing.T) {
	nodes := startNATSCluster(t, 3)
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = n.ClientURL()
	}
	p := startPipeline(t, options{writers: 2, natsURL: strings.Join(urls, ","), environment: map[string]string{
		"STREAM_REPLICAS": "3",
	}})
	if r := p.streamInfo().Config.Replicas; r != 3 {
		t.Fatalf("stream has %d replicas, want 3", r)
	}

	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	const clients, batches, perBatch = 3, 40, 100
	wait := p.postConcurrently(clients, batches, perBatch, start, 10*time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	nodes[0].Shutdown() // one of three: the stream keeps a quorum
	wait()
	p.waitForRows(clients*batches*perBatch, 60*time.Second)
}

// startNATSCluster starts n embedded servers forming one JetStream cluster,
// and waits until it elects a leader.
func startNATSCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	ports, clusterPorts := make([]int, n), make([]int, n)
	for i := range n {
		ports[i], _ = devenv.FreePort()
		clusterPorts[i], _ = devenv.FreePort()
	}
	nodes := make([]*server.Server, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ns, err := devenv.StartNATSClusterNode(t.TempDir(), ports[i], clusterPorts[i], clusterPorts)
			if err != nil {
				t.Error(err)
				return
			}
			nodes[i] = ns
		})
	}
	wg.Wait()
	for _, ns := range nodes {
		if ns == nil {
			t.FailNow()
		}
		t.Cleanup(ns.Shutdown)
	}
	nc, js := jetStreamAt(t, nodes[0].ClientURL())
	defer nc.Close()
	devtest.WaitFor(t, time.Minute, "the JetStream cluster to elect a leader", func() bool {
		_, err := js.AccountInfo(context.Background())
		return err == nil
	})
	return nodes
}
