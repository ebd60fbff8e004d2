package devenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort() (int, error) {
	ports, err := FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}

// FreePorts returns n different TCP ports on 127.0.0.1 that nothing listens
// on now and that this process has not handed out before.
//
// A server started later binds the port itself, so the port must stay free
// in between. Ports the kernel hands out on its own (to a listener on port 0,
// or as the local end of an outgoing connection, like a server's connection
// to ZooKeeper) come from its ephemeral range, so the ports come from below
// that range, where only an explicit bind takes one.
func FreePorts(n int) ([]int, error) {
	handed.Lock()
	defer handed.Unlock()
	if handed.ports == nil {
		handed.ports = make(map[int]bool)
		handed.lo, handed.hi, _ = choosablePorts()
	}
	lo, hi := handed.lo, handed.hi
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("find a free port: none free among 1000 tried in %d-%d", lo, hi)
		}
		port := lo + rand.IntN(hi-lo)
		if handed.ports[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // taken
		}
		l.Close()
		handed.ports[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// handed holds the ports FreePorts has returned in this process, and the
// range it chooses them from (read once).
var handed struct {
	sync.Mutex
	ports  map[int]bool
	lo, hi int
}

// firstChoosablePort is the lowest port FreePorts returns: above the ports
// servers use by default (ClickHouse's 9000 and 8123, NATS's 4222, ...).
const firstChoosablePort = 15000

// choosablePorts is the range [lo, hi) FreePorts chooses from: from
// firstChoosablePort to the start of the kernel's ephemeral range
// (net.ipv4.ip_local_port_range, 32768-60999 by default), or above that
// range when it starts lower; apart is false when the ephemeral range
// leaves no room for either.
func choosablePorts() (lo, hi int, apart bool) {
	first, last := 32768, 60999
	if text, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(text)); len(f) == 2 {
			from, errFrom := strconv.Atoi(f[0])
			to, errTo := strconv.Atoi(f[1])
			if errFrom == nil && errTo == nil {
				first, last = from, to
			}
		}
	}
	switch {
	case first >= firstChoosablePort+1000:
		return firstChoosablePort, first, true
	case last <= 65535-1000:
		return last + 1, 65536, true
	default: // the whole range is ephemeral: choose in it
		return firstChoosablePort, 65536, false
	}
}
