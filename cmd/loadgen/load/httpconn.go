package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"
)

// httpConn is one keep-alive HTTP/1.1 connection to the API, used by one
// worker for one request at a time. It does only what loadgen needs (POST a
// body, read the status and the answer) and allocates nothing per request
// once warm: net/http's client costs several times the CPU of the API's
// cheapest request, and loadgen shares the machine with what it measures.
// It dials again after an error or an answer with "Connection: close".
type httpConn struct {
	addr    string        // host:port
	timeout time.Duration // bounds each request; 0: none
	conn    net.Conn      // nil until dialled, and after an error
	r       *bufio.Reader
	out     []byte // the request being written
	answer  []byte // the body of the last answer
}

// requestHead is the part of a request that is the same every time: the
// request line and the headers up to Content-Length's value.
type requestHead []byte

// newRequestHead builds the head of a POST to rawURL (http only) with the
// given header lines ("Name: value").
func newRequestHead(rawURL string, headers ...string) (host string, head requestHead, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, err
	}
	if u.Scheme != "http" {
		return "", nil, fmt.Errorf("%s: loadgen speaks plain HTTP only (put TLS in front of it elsewhere)", rawURL)
	}
	host = u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	h := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n"
	for _, line := range headers {
		h += line + "\r\n"
	}
	return host, requestHead(h + "Content-Length: "), nil
}

// post sends head and body and reads the whole answer: its status and body
// (valid until the next post).
func (c *httpConn) post(head requestHead, body []byte) (status int, answer []byte, err error) {
	if c.conn == nil {
		if err := c.dial(); err != nil {
			return 0, nil, err
		}
	}
	if c.timeout > 0 {
		c.conn.SetDeadline(time.Now().Add(c.timeout))
	}
	c.out = append(c.out[:0], head...)
	c.out = strconv.AppendInt(c.out, int64(len(body)), 10)
	c.out = append(c.out, "\r\n\r\n"...)
	c.out = append(c.out, body...)
	if _, err := c.conn.Write(c.out); err != nil {
		c.close()
		return 0, nil, err
	}
	status, keep, err := c.readAnswer()
	if err != nil {
		c.close()
		return status, nil, err
	}
	if !keep {
		c.close()
	}
	return status, c.answer, nil
}

func (c *httpConn) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn = conn
	if c.r == nil {
		c.r = bufio.NewReaderSize(conn, 64<<10)
	} else {
		c.r.Reset(conn)
	}
	return nil
}

func (c *httpConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// errBadAnswer is an answer that is not HTTP/1.1 as loadgen reads it.
var errBadAnswer = errors.New("malformed HTTP answer")

// readAnswer reads the status line, the headers and the body into
// c.answer; keep says whether the connection may carry another request.
func (c *httpConn) readAnswer() (status int, keep bool, err error) {
	line, err := c.r.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %q", errBadAnswer, bytes.TrimSpace(line))
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, fmt.Errorf("%w: status line %q", errBadAnswer, bytes.TrimSpace(line))
	}
	keep = line[7] == '1' // HTTP/1.0 closes by default
	length, chunked := int64(-1), false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return status, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return status, false, fmt.Errorf("%w: header %q", errBadAnswer, line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.ParseInt(string(value), 10, 64); err != nil || length < 0 {
				return status, false, fmt.Errorf("%w: Content-Length %q", errBadAnswer, value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(value, []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			keep = !bytes.EqualFold(value, []byte("close"))
		}
	}
	c.answer = c.answer[:0]
	switch {
	case status == 204 || status == 304 || status < 200:
	case chunked:
		err = c.readChunks()
	case length >= 0:
		c.answer, err = readN(c.r, c.answer, length)
	default: // the body ends with the connection
		keep = false
		var b bytes.Buffer
		_, err = b.ReadFrom(c.r)
		c.answer = b.Bytes()
	}
	return status, keep, err
}

// readChunks reads a chunked body into c.answer.
func (c *httpConn) readChunks() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%w: chunk size %q", errBadAnswer, size)
		}
		if n > 0 {
			if c.answer, err = readN(c.r, c.answer, n); err != nil {
				return err
			}
		}
		// The chunk's CRLF, or after the last chunk the (empty) trailer.
		for {
			line, err := c.r.ReadSlice('\n')
			if err != nil {
				return err
			}
			if len(bytes.TrimSpace(line)) == 0 || n > 0 {
				break
			}
		}
		if n == 0 {
			return nil
		}
	}
}

// readN appends n bytes of r to dst.
func readN(r io.Reader, dst []byte, n int64) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	_, err := io.ReadFull(r, dst[start:])
	return dst, err
}
