package api

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// serveLimited serves handler on a Listener of maxConns connections, which
// closes connections idle for minIdle for others, with timeouts long enough
// never to close a connection in a test.
func serveLimited(t *testing.T, maxConns int, minIdle time.Duration, handler http.HandlerFunc) (*Listener, chan error) {
	t.Helper()
	ln, err := Listen("127.0.0.1:0", maxConns, "the test's address")
	if err != nil {
		t.Fatal(err)
	}
	ln.minIdle = minIdle
	srv := NewServer(Config{ReadHeaderTimeout: time.Hour, IdleTimeout: time.Hour}, handler, ln)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ln, served
}

// keepAlive is a client connection that sends one request at a time.
type keepAlive struct {
	net.Conn
	r *bufio.Reader
}

func dialKeepAlive(t *testing.T, ln *Listener) *keepAlive {
	t.Helper()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &keepAlive{Conn: c, r: bufio.NewReader(c)}
}

// get sends GET path and returns the answer's status, or the error.
func (k *keepAlive) get(path string) (int, error) {
	k.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(k, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(k.r, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// closedByServer reports whether the server closed the connection (an end
// of file, or a reset when it closed with the request unread), rather than
// leaving it open for 5 s.
func (k *keepAlive) closedByServer() bool {
	k.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := k.r.ReadByte()
	var timeout net.Error
	return err != nil && !(errors.As(err, &timeout) && timeout.Timeout())
}

// answerOK answers every request 200.
func answerOK(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }

// newClientGet gets path on a connection of its own, as a new client does.
func newClientGet(ln *Listener, path string) (int, error) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get("http://" + ln.Addr().String() + path)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestIdleConnectionsMakeRoomForANewClient holds every connection the
// listener serves idle, as a client that opens connections and leaves them
// does: a new client is served once they have been idle for minIdle, not
// after IDLE_TIMEOUT (an hour here), on the room of the connection idle the
// longest, and the others stay open.
func TestIdleConnectionsMakeRoomForANewClient(t *testing.T) {
	ln, _ := serveLimited(t, 3, 100*time.Millisecond, answerOK)
	var idle []*keepAlive
	for range 3 {
		k := dialKeepAlive(t, ln)
		if status, err := k.get("/"); status != http.StatusOK {
			t.Fatalf("first requests: %d, %v", status, err)
		}
		idle = append(idle, k)
		time.Sleep(50 * time.Millisecond) // each idle since a time of its own
	}

	if status, err := newClientGet(ln, "/"); status != http.StatusOK {
		t.Fatalf("a new client while every connection is idle: %d, %v; want 200", status, err)
	}
	if !idle[0].closedByServer() {
		t.Error("the connection idle the longest is still open")
	}
	if n := testutil.ToFloat64(ln.closedForRoom); n != 1 {
		t.Errorf("harbor_http_connections_closed_for_room_total is %v, want 1", n)
	}
	for i, k := range idle[1:] {
		if status, err := k.get("/"); status != http.StatusOK {
			t.Errorf("idle connection %d: %d, %v; want it open and served", i+2, status, err)
		}
	}
}

// TestSilentConnectionsMakeRoomForANewClient holds every connection the
// listener serves with clients that connect and send nothing: a new client
// is served once they have been silent for minIdle, not after
// READ_HEADER_TIMEOUT (an hour here), on the room of the one silent the
// longest.
func TestSilentConnectionsMakeRoomForANewClient(t *testing.T) {
	ln, _ := serveLimited(t, 2, 100*time.Millisecond, answerOK)
	silent := []*keepAlive{dialKeepAlive(t, ln)}
	time.Sleep(50 * time.Millisecond) // each silent since a time of its own
	silent = append(silent, dialKeepAlive(t, ln))
	if status, err := newClientGet(ln, "/"); status != http.StatusOK {
		t.Fatalf("a new client while every connection is silent: %d, %v; want 200", status, err)
	}
	if !silent[0].closedByServer() {
		t.Error("the connection silent the longest is still open")
	}
	if status, err := silent[1].get("/"); status != http.StatusOK {
		t.Errorf("the other silent connection: %d, %v; want it open and served", status, err)
	}
}

// TestJustIdleConnectionsAreNotClosedForANewClient: a connection idle for
// less than minIdle is not closed for a new client (its own next request
// may be on its way), but once it has been idle that long, it is.
func TestJustIdleConnectionsAreNotClosedForANewClient(t *testing.T) {
	ln, _ := serveLimited(t, 1, 3*time.Second, answerOK)
	k := dialKeepAlive(t, ln)
	if status, err := k.get("/"); status != http.StatusOK {
		t.Fatalf("first request: %d, %v", status, err)
	}
	next := make(chan int, 1)
	go func() {
		status, _ := newClientGet(ln, "/")
		next <- status
	}()
	time.Sleep(500 * time.Millisecond)
	if status, err := k.get("/"); status != http.StatusOK {
		t.Fatalf("a connection idle for half a second, while another client waited: %d, %v; want it open and served", status, err)
	}
	select {
	case status := <-next:
		t.Fatalf("the new client was served (%d) on the room of a connection idle for less than minIdle", status)
	default:
	}
	if status := <-next; status != http.StatusOK {
		t.Errorf("the new client, once the connection had been idle for minIdle: %d, want 200", status)
	}
	if !k.closedByServer() {
		t.Error("the connection idle for minIdle is still open")
	}
}

// TestBusyConnectionsAreNotClosedForANewClient fills the listener with
// requests in progress: a new client waits, nothing in progress is cut, and
// the new client is served once a connection is free.
func TestBusyConnectionsAreNotClosedForANewClient(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	ln, _ := serveLimited(t, 2, minIdle, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			entered <- struct{}{}
			<-release
		}
		w.WriteHeader(http.StatusOK)
	})
	slow := make(chan error, 2)
	for range 2 {
		k := dialKeepAlive(t, ln)
		go func() {
			status, err := k.get("/slow")
			if err == nil && status != http.StatusOK {
				err = errors.New(http.StatusText(status))
			}
			slow <- err
		}()
		<-entered
	}

	type answer struct {
		status int
		err    error
	}
	next := make(chan answer, 1)
	go func() {
		status, err := newClientGet(ln, "/")
		next <- answer{status, err}
	}()
	select {
	case a := <-next:
		t.Fatalf("a new client was served (%d, %v) while every connection was busy", a.status, a.err)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	for range 2 {
		if err := <-slow; err != nil {
			t.Errorf("a request in progress: %v; want 200", err)
		}
	}
	if a := <-next; a.status != http.StatusOK {
		t.Errorf("the new client, once a connection was free: %d, %v; want 200", a.status, a.err)
	}
}

// TestCloseEndsAnAcceptWaitingForRoom: shutting the server down while a
// client waits for room returns, and the waiting client is not served.
func TestCloseEndsAnAcceptWaitingForRoom(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	ln, served := serveLimited(t, 1, minIdle, func(w http.ResponseWriter, _ *http.Request) {
		entered <- struct{}{}
		<-release
	})
	k := dialKeepAlive(t, ln)
	go k.get("/")
	<-entered
	waiting := dialKeepAlive(t, ln) // accepted by the kernel, waiting for room
	waiting.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	time.Sleep(50 * time.Millisecond)

	ln.Close()
	select {
	case err := <-served:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve returned %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still waits for room after the listener closed")
	}
	if !waiting.closedByServer() {
		t.Error("the client that waited for room is not closed")
	}
}
