package load

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSendKeepsConnectionsAlive checks that each worker reuses its one
// connection: Conns connections for many requests.
func TestSendKeepsConnectionsAlive(t *testing.T) {
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"accepted"}`))
	})
	cfg := SendConfig{URL: srv.URL, Harbor: "h", Key: "k", Single: true, Conns: 3}
	d := mustDataset(t, 2, 2, 300, DefaultStart(time.Now()), 1)
	res, err := Send(context.Background(), d, cfg)
	if err != nil || res.Accepted != 300 {
		t.Fatalf("%v: %+v", err, res)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("%d connections for 300 requests over 3 workers, want 3", n)
	}
}

// countingServer serves handler and counts the connections made to it.
func countingServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestSendReadsEveryKindOfAnswer: chunked bodies (whose text lands in the
// error samples), "Connection: close" (the worker dials again) and answers
// without a body all leave the connection in a state for the next request.
func TestSendReadsEveryKindOfAnswer(t *testing.T) {
	var calls atomic.Int64
	srv, conns := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) % 4 {
		case 0: // chunked: no Content-Length, flushed in parts
			w.WriteHeader(http.StatusTooManyRequests)
			w.Write([]byte(`{"error":"slow `))
			w.(http.Flusher).Flush()
			w.Write([]byte(`down"}`))
		case 1:
			w.Header().Set("Connection", "close")
			w.Write([]byte(`{"status":"accepted"}`))
		case 2:
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Write([]byte(`{"status":"accepted"}`))
		}
	})
	cfg := SendConfig{URL: srv.URL, Harbor: "h", Key: "k", Single: true, Conns: 1}
	d := mustDataset(t, 2, 2, 40, DefaultStart(time.Now()), 1)
	res, err := Send(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 || res.Statuses[200] != 20 || res.Statuses[204] != 10 || res.Statuses[429] != 10 || res.Accepted != 20 {
		t.Fatalf("result %+v", res)
	}
	if len(res.ErrorSamples) != 1 || res.ErrorSamples[0] != `HTTP 429: {"error":"slow down"}` {
		t.Fatalf("error samples %q", res.ErrorSamples)
	}
	if n := conns.Load(); n != 11 {
		t.Fatalf("%d connections, want 11 (the first, and one after each Connection: close)", n)
	}
}

// TestSendTimesOut: a server that does not answer within Timeout costs
// each request an error, not the run.
func TestSendTimesOut(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	cfg := SendConfig{URL: srv.URL, Harbor: "h", Key: "k", Single: true, Conns: 2, Timeout: 100 * time.Millisecond}
	d := mustDataset(t, 2, 2, 4, DefaultStart(time.Now()), 1)
	res, err := Send(context.Background(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 4 || res.Accepted != 0 || len(res.ErrorSamples) == 0 || !strings.Contains(res.ErrorSamples[0], "timeout") {
		t.Fatalf("result %+v", res)
	}
}

// TestSendRefusesHTTPS: loadgen speaks plain HTTP; it says so instead of
// sending plain text to a TLS port.
func TestSendRefusesHTTPS(t *testing.T) {
	d := mustDataset(t, 2, 2, 4, DefaultStart(time.Now()), 1)
	_, err := Send(context.Background(), d, SendConfig{URL: "https://127.0.0.1:1", Harbor: "h", Key: "k", Single: true, Conns: 1})
	if err == nil || !strings.Contains(err.Error(), "plain HTTP") {
		t.Fatalf("err = %v", err)
	}
}
