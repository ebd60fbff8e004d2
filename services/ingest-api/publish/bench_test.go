package publish

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/harbor-ingest/harbor/services/ingest-api/api"
	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/prometheus/client_golang/prometheus"
)

// noHarbors has no managed harbors: every harbor gets the defaults.
type noHarbors struct{}

func (noHarbors) Harbor(string) (tenant.Harbor, bool) { return tenant.Harbor{}, false }

// benchClients is how many keep-alive connections post at once, as in
// scenario 3 of scripts/bench.sh.
const benchClients = 32

// BenchmarkServeSingle is scenario 3 of scripts/bench.sh in one process:
// one-reading POSTs to one harbor over benchClients keep-alive connections,
// through the real HTTP server and Echo router, the Publisher with the
// default group commit, and an embedded NATS server that syncs each
// message. Its cpu-µs/req is the process's CPU time (API, NATS server and
// the clients) per request; req/msg is how many requests the group commit
// put in one stream message, on which NATS's share depends.
func BenchmarkServeSingle(b *testing.B) {
	coalesce := devtest.ParseEnv[CoalesceConfig](b, map[string]string{})
	cfg := devtest.ParseEnv[api.Config](b, map[string]string{})
	pub, _, _, reg := testPublisher(b, devtest.NATS(b), coalesce, cfg.PublishTimeout)
	keys, err := api.NewKeys(map[string]string{"k": "fleet"})
	if err != nil {
		b.Fatal(err)
	}
	router := api.New(cfg, api.Deps{
		Auth: keys, Harbors: noHarbors{}, Limiter: limit.New(cfg.RateBurst, func() int { return 1 }),
		Publisher: pub, Registry: reg, Gatherer: reg, Log: quiet,
	})
	ln, err := api.Listen("127.0.0.1:0", cfg.MaxConnections, "the benchmark's address")
	if err != nil {
		b.Fatal(err)
	}
	srv := api.NewServer(cfg, router, ln)
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown(context.Background()) })

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	url := "http://" + ln.Addr().String() + "/api/v1/ingest/ingest/fleet"
	body := []byte(`{"time":"2026-11-25T10:00:00.123Z","ship_id":"ship-1","cargo_id":"temperature","value":21.5}`)
	post := func() error {
		req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("X-API-Key", "k")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		answer, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			b.Errorf("%d %s", resp.StatusCode, answer)
		}
		return err
	}
	for range benchClients { // open the connections before measuring
		if err := post(); err != nil {
			b.Fatal(err)
		}
	}
	msgs0, reqs0 := coalesced(b, reg)

	cpu0 := devtest.ProcessCPU(b)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range benchClients {
		wg.Go(func() {
			for range next {
				if err := post(); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	cpu := devtest.ProcessCPU(b) - cpu0
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	msgs, reqs := coalesced(b, reg)
	b.ReportMetric((reqs-reqs0)/(msgs-msgs0), "req/msg")
}

// coalesced returns how many messages the group commit sent, and how many
// requests they carried, from its metric.
func coalesced(b *testing.B, reg *prometheus.Registry) (msgs, requests float64) {
	families, err := reg.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "harbor_publish_coalesced_requests" {
			h := f.GetMetric()[0].GetHistogram()
			return float64(h.GetSampleCount()), h.GetSampleSum()
		}
	}
	b.Fatal("no harbor_publish_coalesced_requests metric")
	return 0, 0
}
