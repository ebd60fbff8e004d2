package api

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// readBody reads a request body of at most max bytes, after decompression
// when it is gzip-encoded, so neither a large body nor a gzip bomb can make
// the server hold more than max bytes of it.
func readBody(c echo.Context, max int64) ([]byte, error) {
	req := c.Request()
	if ct := req.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, problem(http.StatusUnsupportedMediaType, "Content-Type must be application/json, not "+ct)
		}
	}
	if req.ContentLength > max {
		return nil, tooLarge(max)
	}
	var src io.Reader = req.Body
	switch enc := strings.ToLower(req.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(io.LimitReader(req.Body, max+1))
		if err != nil {
			return nil, problem(http.StatusBadRequest, "the body is not valid gzip: "+err.Error())
		}
		defer zr.Close()
		src = zr
	default:
		return nil, problem(http.StatusUnsupportedMediaType, "Content-Encoding "+enc+" is not supported: send gzip or no encoding")
	}
	var buf bytes.Buffer
	if req.ContentLength > 0 {
		buf.Grow(int(req.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(src, max+1))
	switch {
	case n > max:
		return nil, tooLarge(max)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, problem(http.StatusBadRequest, "the gzip body is corrupt or truncated: "+err.Error())
	case err != nil:
		return nil, problem(http.StatusBadRequest, "could not read the body: "+err.Error())
	}
	return buf.Bytes(), nil
}

func tooLarge(max int64) error {
	return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes (MAX_BODY_BYTES): split it into smaller batches", max))
}
