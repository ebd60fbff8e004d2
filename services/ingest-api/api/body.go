package api

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/harbor-ingest/harbor/services/ingest-api/limit"
	"github.com/labstack/echo/v4"
)

const (
	// firstGrowth is how far ahead of what has arrived a body's buffer may
	// be sized: it starts at this (or the declared length, if smaller) and
	// doubles as the body fills it.
	firstGrowth = 32 << 10
	// At most poolBuffers buffers of at most poolBufferBytes each are kept
	// for the next requests (at most 16 MiB), so a burst of large bodies
	// leaves no memory behind once it is over.
	poolBuffers     = 16
	poolBufferBytes = 1 << 20
)

// buffers are reused for request bodies: nothing decoded from a body keeps
// a reference to it, so a buffer goes back to the pool after the request.
var buffers = make(chan []byte, poolBuffers)

func getBuffer() []byte {
	select {
	case b := <-buffers:
		return b
	default:
		return nil
	}
}

func putBuffer(b []byte) {
	if cap(b) == 0 || cap(b) > poolBufferBytes {
		return
	}
	select {
	case buffers <- b[:0]:
	default:
	}
}

// withBody reads the request body of the authorized harbor, once its
// headers passed the cheap checks, within the rate limit and the body
// budget (see readBody), and calls use with it; the body's memory is given
// back and reused once use returns.
func (h *handlers) withBody(c echo.Context, harborID string, rates limit.Rates, use func(body []byte) error) error {
	req := c.Request()
	max := h.cfg.MaxBodyBytes
	encoding, err := checkBodyHeaders(req, max)
	if err != nil {
		return err
	}
	if err := checkIdempotencyKey(req); err != nil {
		return err
	}
	if err := h.admit(c, harborID, rates); err != nil {
		return err
	}
	// A plain body is held to its declared length (net/http reads no more),
	// so it is charged that, plus the byte that sees its end, from the
	// start; any other grows within max+1 and is charged as it grows.
	hint, charge := max+1, int64(firstGrowth)
	if encoding == "" && req.ContentLength >= 0 {
		hint = req.ContentLength + 1
		charge = hint
	}
	ctx := req.Context()
	g, err := h.budget.enter(ctx, harborID, min(charge, hint))
	if err != nil {
		return h.refusal(c, err, harborID)
	}
	defer g.release()
	buf := getBuffer()
	defer func() { putBuffer(buf) }()
	buf, err = readBody(ctx, req.Body, encoding, hint, max, &g, buf)
	switch {
	case errors.Is(err, errBodyMemory), errors.Is(err, errHarborMemory):
		return h.refusal(c, err, harborID)
	case err != nil:
		return err
	}
	return use(buf)
}

// checkBodyHeaders checks a body's Content-Length and Content-Encoding
// before anything of it is read (its Content-Type is the route's, see
// formatOf), and returns its encoding: "" (none), "gzip" or "zstd".
func checkBodyHeaders(req *http.Request, max int64) (encoding string, err error) {
	if req.ContentLength > max {
		return "", tooLarge(max)
	}
	switch enc := strings.ToLower(req.Header.Get("Content-Encoding")); enc {
	case "", "identity":
		return "", nil
	case "gzip", "zstd":
		return enc, nil
	default:
		return "", problem(http.StatusUnsupportedMediaType, "Content-Encoding "+enc+" is not supported: send gzip, zstd or no encoding")
	}
}

// readBody reads a body of at most max bytes, after decompression when it
// is gzip or zstd-encoded, into buf (which may be reused), so neither a
// large body nor a compression bomb can make the server hold more than max
// bytes of it. The buffer
// grows with what arrives, never past hint, and the grant is charged for
// each growth first: a body that finds no room in the budget is refused
// (errBodyMemory, errHarborMemory) before it takes the memory. It returns
// the buffer, filled, also on error.
func readBody(ctx context.Context, body io.Reader, encoding string, hint, max int64, g *grant, buf []byte) ([]byte, error) {
	limit := max + 1
	src := io.LimitReader(body, limit)
	switch encoding {
	case "gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return buf, problem(http.StatusBadRequest, "the body is not valid gzip: "+err.Error())
		}
		defer zr.Close()
		src = io.LimitReader(zr, limit)
	case "zstd":
		zr, err := newZstdReader(src, max)
		if err != nil {
			return buf, err
		}
		defer zr.Close()
		src = io.LimitReader(zr, limit)
	}
	gzipped := encoding == "gzip"
	buf = buf[:0]
	size := min(hint, firstGrowth)
	for {
		if int64(len(buf)) == size {
			if size >= limit {
				return buf, tooLarge(max)
			}
			if size >= hint { // more than declared: cannot happen with net/http
				hint = limit
			}
			size = min(2*size, hint)
		}
		if err := g.growTo(ctx, size); err != nil {
			return buf, err
		}
		if int64(cap(buf)) < size {
			grown := make([]byte, len(buf), size)
			copy(grown, buf)
			buf = grown
		}
		n, err := src.Read(buf[len(buf):size])
		buf = buf[:len(buf)+n]
		switch {
		case err == io.EOF:
			return buf, nil
		case errors.Is(err, errDecodedTooLarge):
			return buf, tooLarge(max)
		case gzipped && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)):
			return buf, problem(http.StatusBadRequest, "the gzip body is corrupt or truncated: "+err.Error())
		case err != nil:
			return buf, problem(http.StatusBadRequest, "could not read the body: "+err.Error())
		}
	}
}

func tooLarge(max int64) error {
	return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d bytes (MAX_BODY_BYTES): split it into smaller batches", max))
}
