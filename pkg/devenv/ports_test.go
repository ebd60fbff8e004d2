package devenv

import (
	"net"
	"strconv"
	"testing"
)

// TestFreePortsNeverRepeatAndStayOutOfTheEphemeralRange checks what keeps a
// server's port free between choosing it and the server binding it: the
// kernel does not hand it out on its own, and this process does not hand it
// out twice.
func TestFreePortsNeverRepeatAndStayOutOfTheEphemeralRange(t *testing.T) {
	lo, hi, apart := choosablePorts()
	seen := map[int]bool{}
	for range 50 {
		ports, err := FreePorts(4)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ports {
			if seen[p] {
				t.Fatalf("port %d handed out twice", p)
			}
			seen[p] = true
			if p < lo || p >= hi {
				t.Fatalf("port %d outside [%d, %d)", p, lo, hi)
			}
		}
	}
	// A port the kernel chose for a listener on port 0 is in its ephemeral
	// range, which choosablePorts leaves out (unless that range leaves no
	// room: then FreePorts can only check that a port is free).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if p := l.Addr().(*net.TCPAddr).Port; apart && p >= lo && p < hi {
		t.Fatalf("the kernel chose port %d, inside the choosable range [%d, %d)", p, lo, hi)
	}
	// And the port is free: a server can listen on it.
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	busy, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("listen on the free port %d: %v", port, err)
	}
	busy.Close()
}
