package api

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// buffers are reused for request bodies: nothing decoded from a body keeps
// a reference to it, so a buffer goes back to the pool after the request.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// withBody reads the request body (see readBody) and calls use with it; the
// body's memory is reused once use returns.
func withBody(c echo.Context, max int64, use func(body []byte) error) error {
	buf := buffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // keep the pool from holding large buffers
			buf.Reset()
			buffers.Put(buf)
		}
	}()
	if err := readBody(c, max, buf); err != nil {
		return err
	}
	return use(buf.Bytes())
}

// readBody reads a request body of at most max bytes into buf, after
// decompression when it is gzip-encoded, so neither a large body nor a gzip
// bomb can make the server hold more than max bytes of it.
func readBody(c echo.Context, max int64, buf *bytes.Buffer) error {
	req := c.Request()
	if req.ContentLength > max {
		return tooLarge(max)
	}
	var src io.Reader = req.Body
	switch enc := strings.ToLower(req.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(io.LimitReader(req.Body, max+1))
		if err != nil {
			return problem(http.StatusBadRequest, "the body is not valid gzip: "+err.Error())
		}
		defer zr.Close()
		src = zr
	case "zstd":
		zr, err := newZstdReader(io.LimitReader(req.Body, max+1), max)
		if err != nil {
			return err
		}
		defer zr.Close()
		src = zr
	default:
		return problem(http.StatusUnsupportedMediaType, "Content-Encoding "+enc+" is not supported: send gzip, zstd or no encoding")
	}
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength) + bytes.MinRead)
	}
	n, err := buf.ReadFrom(io.LimitReader(src, max+1))
	switch {
	case n > max, errors.Is(err, errDecodedTooLarge):
		return tooLarge(max)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF):
		return problem(http.StatusBadRequest, "the gzip body is corrupt or truncated: "+err.Error())
	case err != nil:
		return problem(http.StatusBadRequest, "could not read the body: "+err.Error())
	}
	return nil
}

func tooLarge(max int64) error {
	return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes (MAX_BODY_BYTES): split it into smaller batches", max))
}
