package load

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestSendSpreadsRequestsOverHarbors(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{} // "path key" -> requests
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path+" "+r.Header.Get("X-API-Key")]++
		mu.Unlock()
		w.Write([]byte(`{"status":"accepted"}`))
	}))
	t.Cleanup(srv.Close)
	cfg := SendConfig{URL: srv.URL, Harbor: "h", Key: "k", Harbors: 3, Single: true, Conns: 2}
	d := mustDataset(t, 2, 2, 30, DefaultStart(time.Now()), 1)
	res, err := Send(context.Background(), d, cfg)
	if err != nil || res.Accepted != 30 {
		t.Fatalf("result %+v, %v", res, err)
	}
	want := map[string]int{
		"/api/v1/ingest/ingest/h-0 k-0": 10,
		"/api/v1/ingest/ingest/h-1 k-1": 10,
		"/api/v1/ingest/ingest/h-2 k-2": 10,
	}
	if len(got) != len(want) {
		t.Fatalf("requests by harbor and key %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("requests by harbor and key %v, want %v", got, want)
			break
		}
	}
	if h := cfg.HarborIDs(); len(h) != 3 || h[2] != "h-2" {
		t.Errorf("harbors %v", h)
	}
	if h := (&SendConfig{Harbor: "h"}).HarborIDs(); len(h) != 1 || h[0] != "h" {
		t.Errorf("one harbor: %v", h)
	}
}
