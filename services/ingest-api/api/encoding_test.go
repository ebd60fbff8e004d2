package api

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// gzipString is s compressed with gzip.
func gzipString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// zstdString is s compressed with zstd.
func zstdString(t *testing.T, s string) string {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return string(zw.EncodeAll([]byte(s), nil))
}

func TestZstdBodies(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{"MAX_BODY_BYTES": "2000000"})
	batch := `[{"ship_id":"s","cargo_id":"c","value":1},{"ship_id":"s","cargo_id":"d","value":2}]`
	rec := send(e, http.MethodPost, "/api/v2/ingest/fleet/batch", zstdString(t, batch), "X-API-Key", "w", "Content-Encoding", "zstd")
	if rec.Code != http.StatusOK || len(pub.take("fleet")) != 2 {
		t.Fatalf("zstd batch: %d %s", rec.Code, rec.Body)
	}
	rec = send(e, http.MethodPost, "/api/v2/write", zstdString(t, "m,host=h a=1\n"), "Authorization", "Token w", "Content-Encoding", "ZSTD")
	if rec.Code != http.StatusNoContent || len(pub.take("fleet")) != 1 {
		t.Fatalf("zstd line protocol: %d %s", rec.Code, rec.Body)
	}
	// Bombs: 30 MB of spaces in a few kilobytes, in one frame that says its
	// size and in a stream of frames that do not; and a frame that asks for
	// a 1 GiB window. 413, without a large allocation.
	big := "[" + strings.Repeat(" ", 30<<20) + "]"
	var stream bytes.Buffer
	zw, _ := zstd.NewWriter(&stream)
	zw.Write([]byte(big))
	zw.Close()
	hugeWindow := "\x28\xb5\x2f\xfd\x00\xa0\x09\x00\x00x" // magic, no content size, window 2^30, one raw block
	bombs := map[string]string{"sized frame": zstdString(t, big), "stream": stream.String(), "huge window": hugeWindow}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for name, body := range bombs {
		if len(body) > 100<<10 {
			t.Fatalf("%s: the bomb is %d bytes", name, len(body))
		}
		rec = send(e, http.MethodPost, "/api/v2/ingest/fleet/batch", body, "X-API-Key", "w", "Content-Encoding", "zstd")
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 100<<20 {
		t.Errorf("zstd bombs allocated %d MB", grew>>20)
	}
	// Corrupt, truncated, not zstd: 400.
	good := zstdString(t, batch)
	for name, body := range map[string]string{
		"corrupt": good[:8] + strings.Repeat("\xff", len(good)-8), "truncated": good[:len(good)/2], "not zstd": batch,
	} {
		rec := send(e, http.MethodPost, "/api/v2/ingest/fleet/batch", body, "X-API-Key", "w", "Content-Encoding", "zstd")
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "zstd") {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
	if len(pub.take("fleet")) != 0 {
		t.Fatal("a refused body stored readings")
	}
}
