package api

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Listener is the API's listener: it serves at most a given number of
// connections at once. When all are taken and another client connects, it
// closes the connection that has been idle the longest, once that one has
// been idle for a second (minIdle). Idle means without a request in
// progress: between requests, or new and still without a whole request.
// So clients that open connections and leave them idle or silent cannot
// keep others out until IDLE_TIMEOUT or READ_HEADER_TIMEOUT. A connection
// in the middle of a request is never closed for another; when none has
// been idle long enough, the new client waits until one has, or until one
// closes.
//
// It knows which connections are idle from its server's ConnState hook,
// which NewServer sets.
type Listener struct {
	net.Listener
	// slots holds a token for each connection being served; nil: no limit.
	slots chan struct{}
	// becameIdle is signalled when a connection goes idle, for an Accept
	// that waits for a slot.
	becameIdle chan struct{}
	closed     chan struct{}
	closeOnce  sync.Once

	// minIdle is how long a connection must have been idle before it is
	// closed for another client: one that just got its answer is likely
	// sending its next request, which closing the connection would cut.
	minIdle time.Duration
	// closedForRoom counts the idle connections closed for other clients.
	closedForRoom prometheus.Counter

	mu   sync.Mutex
	idle map[*limitedConn]time.Time // since when each idle connection is
}

// minIdle is Listener.minIdle.
const minIdle = time.Second

// Listen listens on addr and serves at most maxConns connections at once
// (none: no limit), as Listener says. what names the setting of addr in
// the error.
func Listen(addr string, maxConns int, what string) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, what, err)
	}
	l := &Listener{
		Listener: ln, closed: make(chan struct{}), minIdle: minIdle,
		closedForRoom: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "harbor_http_connections_closed_for_room_total",
			Help: "Idle connections closed to make room for another client past MAX_CONNECTIONS.",
		}),
	}
	if maxConns > 0 {
		l.slots = make(chan struct{}, maxConns)
		l.becameIdle = make(chan struct{}, 1)
		l.idle = map[*limitedConn]time.Time{}
	}
	return l, nil
}

// Register registers the listener's metrics on reg: the connections it
// serves, and the idle ones it closed to make room for others.
func (l *Listener) Register(reg prometheus.Registerer) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "harbor_http_connections",
		Help: "Connections the API serves at once, out of MAX_CONNECTIONS.",
	}, func() float64 { return float64(len(l.slots)) }), l.closedForRoom)
}

// Accept waits for a connection and for a slot to serve it in.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil || l.slots == nil {
		return c, err
	}
	if err := l.acquire(); err != nil {
		c.Close()
		return nil, err
	}
	return &limitedConn{Conn: c, l: l}, nil
}

// acquire takes a slot, closing idle connections to free one.
func (l *Listener) acquire() error {
	for {
		select {
		case l.slots <- struct{}{}:
			return nil
		default:
		}
		c, wait := l.longestIdle(time.Now())
		if c != nil {
			c.Close() // gives its slot back
			l.closedForRoom.Inc()
			continue
		}
		var eligible <-chan time.Time // when the longest idle may be closed
		if wait > 0 {
			eligible = time.After(wait)
		}
		select {
		case l.slots <- struct{}{}:
			return nil
		case <-l.becameIdle:
		case <-eligible:
		case <-l.closed:
			return net.ErrClosed
		}
	}
}

// longestIdle removes from the idle set, and returns, the connection idle
// the longest if it has been idle for minIdle at now. Otherwise it returns
// how long until it has (0 when none is idle).
func (l *Listener) longestIdle(now time.Time) (*limitedConn, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var oldest *limitedConn
	for c, since := range l.idle {
		if oldest == nil || since.Before(l.idle[oldest]) {
			oldest = c
		}
	}
	if oldest == nil {
		return nil, 0
	}
	if wait := l.idle[oldest].Add(l.minIdle).Sub(now); wait > 0 {
		return nil, wait
	}
	delete(l.idle, oldest)
	return oldest, 0
}

// ConnState follows the server's connections: a new or idle one may be
// closed for a client that waits, one in the middle of a request may not.
func (l *Listener) ConnState(nc net.Conn, state http.ConnState) {
	if l.slots == nil {
		return
	}
	if t, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS
		nc = t.NetConn()
	}
	c, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if (state != http.StateNew && state != http.StateIdle) || c.closed {
		delete(l.idle, c)
		return
	}
	l.idle[c] = time.Now()
	select {
	case l.becameIdle <- struct{}{}:
	default:
	}
}

// Close stops the listener; an Accept waiting for a slot returns.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// limitedConn gives its slot back when it closes.
type limitedConn struct {
	net.Conn
	l      *Listener
	closed bool // guarded by l.mu
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.l.mu.Lock()
	first := !c.closed
	c.closed = true
	delete(c.l.idle, c)
	c.l.mu.Unlock()
	if first {
		<-c.l.slots
	}
	return err
}
