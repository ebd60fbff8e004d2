package load

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// BenchmarkSendSingle measures loadgen's own cost per single-reading
// request (32 connections), against a server that does as little as an
// HTTP/1.1 server can, so that what is measured is the client. cpu-µs/op is
// the process's CPU (client and that small server) per request.
func BenchmarkSendSingle(b *testing.B) {
	addr := startCheapServer(b)
	d := mustDataset(b, 100, 10, int64(b.N), DefaultStart(time.Now()), 1)
	cfg := SendConfig{URL: "http://" + addr, Harbor: "h", Key: "k", Single: true, Conns: 32, Timeout: 10 * time.Second}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := devtest.ProcessCPU(b)
	res, err := Send(context.Background(), d, cfg)
	b.ReportMetric(float64(devtest.ProcessCPU(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	if err != nil || res.Accepted != d.Readings {
		b.Fatalf("%v: %d of %d accepted: %v", err, res.Accepted, d.Readings, res.ErrorSamples)
	}
}

// startCheapServer serves every request on a loopback port with the same
// 200 answer, reading only the request head and Content-Length bytes.
func startCheapServer(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	answer := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n\r\n{\"status\":\"accepted\"}")
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					n := int64(-1)
					for {
						line, err := r.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(bytes.TrimSpace(line)) == 0 {
							break
						}
						if k, v, ok := bytes.Cut(line, []byte(":")); ok && bytes.EqualFold(k, []byte("Content-Length")) {
							n, _ = strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
						}
					}
					if n < 0 {
						return
					}
					if _, err := io.CopyN(io.Discard, r, n); err != nil {
						return
					}
					if _, err := c.Write(answer); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}
