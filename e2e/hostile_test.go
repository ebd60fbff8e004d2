package e2e

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestHostileInputs sends inputs meant to break parsers and servers; each
// gets its documented answer and the API keeps serving.
func TestHostileInputs(t *testing.T) {
	p := startPipeline(t, options{noCH: true, environment: map[string]string{
		"READ_HEADER_TIMEOUT": "500ms",
		"READ_TIMEOUT":        "1s",
		"IDLE_TIMEOUT":        "1s",
	}})
	single := "/api/v1/ingest/ingest/" + harborA
	batch := single + "/batch"
	one := `{"ship_id":"s","cargo_id":"c","value":1}`
	cases := []struct {
		name, path, body string
		status           int
	}{
		{"duplicate keys: the last one counts", single, `{"ship_id":"a","ship_id":"b","cargo_id":"c","value":1,"value":2}`, 200},
		{"negative zero", single, `{"ship_id":"s","cargo_id":"c","value":-0}`, 200},
		{"huge exponent", single, `{"ship_id":"s","cargo_id":"c","value":1e400}`, 400},
		{"tiny exponent rounds to zero", single, `{"ship_id":"s","cargo_id":"c","value":1e-400}`, 200},
		{"NaN", single, `{"ship_id":"s","cargo_id":"c","value":NaN}`, 400},
		{"deeply nested unknown field", single, `{"ship_id":"s","cargo_id":"c","value":1,"x":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, 400},
		{"100,000-element array", batch, "[" + strings.Repeat(one+",", 99999) + one + "]", 413},
		{"time without a zone", single, `{"time":"2026-01-01T00:00:00","ship_id":"s","cargo_id":"c","value":1}`, 400},
		{"time far in the past", single, `{"time":"1900-01-01T00:00:00Z","ship_id":"s","cargo_id":"c","value":1}`, 400},
		{"time far in the future", single, `{"time":"2999-01-01T00:00:00Z","ship_id":"s","cargo_id":"c","value":1}`, 400},
		{"escaped control character", single, `{"ship_id":"a\u001bb","cargo_id":"c","value":1}`, 400},
		{"lone surrogate escape", single, `{"ship_id":"\ud800","cargo_id":"c","value":1}`, 400},
	}
	accepted := uint64(0)
	for _, c := range cases {
		status, _, body := p.post(c.path, keyA, []byte(c.body))
		if status != c.status {
			t.Errorf("%s: %d, want %d: %.200s", c.name, status, c.status, body)
		}
		if status == http.StatusOK {
			accepted++
		}
	}
	if n := p.streamMessages(); n != accepted {
		t.Errorf("stream holds %d messages, want %d", n, accepted)
	}

	addr := strings.TrimPrefix(p.url, "http://")
	t.Run("Content-Length larger than the body", func(t *testing.T) {
		status := rawRequest(t, addr, "POST "+single+" HTTP/1.1\r\nHost: x\r\nX-API-Key: "+keyA+
			"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"+one)
		if status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400 once the read timeout ends the wait", status)
		}
	})
	t.Run("Content-Length smaller than the body", func(t *testing.T) {
		status := rawRequest(t, addr, "POST "+single+" HTTP/1.1\r\nHost: x\r\nX-API-Key: "+keyA+
			"\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"+one)
		if status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400 for the cut body", status)
		}
	})
	t.Run("slow headers are cut off", func(t *testing.T) {
		conn := dial(t, addr)
		conn.Write([]byte("POST " + single + " HTTP/1.1\r\nHost: x\r\n"))
		if !closedWithin(conn, 3*time.Second) {
			t.Fatal("a client that never finished its headers kept the connection")
		}
	})
	t.Run("idle connections are closed", func(t *testing.T) {
		conn := dial(t, addr)
		conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("healthz: %v", err)
		}
		io.Copy(io.Discard, resp.Body)
		if !closedWithin(conn, 4*time.Second) {
			t.Fatal("an idle keep-alive connection stayed open")
		}
	})
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// rawRequest writes a request as it is and returns the answer's status.
func rawRequest(t *testing.T, addr, request string) int {
	t.Helper()
	conn := dial(t, addr)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// closedWithin reports whether the server closes conn within d.
func closedWithin(conn net.Conn, d time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	return err == nil // EOF: closed by the server; a timeout is an error
}
