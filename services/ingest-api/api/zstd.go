package api

import (
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// minZstdWindow is the smallest decoding window allowed, whatever
// MAX_BODY_BYTES: 1 MiB, what zstd's default levels use on small inputs.
const minZstdWindow = 1 << 20

// newZstdReader decompresses a zstd body of at most
// maxBytes (the caller still limits what it reads). The decoder runs in the calling
// goroutine, and its memory is bounded by maxBytes: a frame that asks for a
// window, or declares a size, larger than maxBytes (and 1 MiB) is refused before
// anything of that size is allocated.
func newZstdReader(r io.Reader, maxBytes int64) (io.ReadCloser, error) {
	limit := uint64(max(maxBytes, minZstdWindow))
	zr, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(limit), zstd.WithDecoderMaxMemory(limit))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return zstdBody{zr}, nil
}

// errDecodedTooLarge is a compressed body that would decode to more than
// MAX_BODY_BYTES: a zstd frame that declares such a size, or asks for such
// a window.
var errDecodedTooLarge = errors.New("the body decodes to more than MAX_BODY_BYTES")

// zstdBody says, in the errors of the decoder, that the body is at fault.
type zstdBody struct{ d *zstd.Decoder }

func (z zstdBody) Read(p []byte) (int, error) {
	n, err := z.d.Read(p)
	switch {
	case err == nil, errors.Is(err, io.EOF):
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		err = fmt.Errorf("%w: %w", errDecodedTooLarge, err)
	default:
		err = fmt.Errorf("the zstd body is corrupt or truncated: %w", err)
	}
	return n, err
}

func (z zstdBody) Close() error {
	z.d.Close()
	return nil
}
