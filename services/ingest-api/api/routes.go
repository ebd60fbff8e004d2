package api

import (
	"mime"
	"net/http"
	"strings"

	"github.com/harbor-ingest/harbor/pkg/format"
	"github.com/harbor-ingest/harbor/pkg/format/csvbody"
	"github.com/harbor-ingest/harbor/pkg/format/jsonbody"
	"github.com/harbor-ingest/harbor/pkg/format/ndjson"
	"github.com/harbor-ingest/harbor/pkg/format/ttn"
)

// ingestRoute is one path readings come in by, and the body formats it
// takes.
type ingestRoute struct {
	path    string
	formats []bodyFormat
}

// bodyFormat is a body a route takes: its media type and its decoder. The
// first of a route's formats is also what a request without Content-Type
// gets. name tells the kinds of request apart for an Idempotency-Key: the
// same body sent as another kind is another request.
type bodyFormat struct {
	name      string
	mediaType string
	decode    format.Decoder
}

// The body formats of the ingest routes.
var (
	// One JSON object: a reading or a flat reading.
	oneReading = []bodyFormat{{"one", "application/json", jsonbody.DecodeReading}}
	// A JSON array of readings and flat readings; or the same objects one
	// per line (NDJSON); or CSV rows under a header.
	readingBatch = []bodyFormat{
		{"batch", "application/json", jsonbody.DecodeBatch},
		{"ndjson", "application/x-ndjson", ndjson.Decode},
		{"csv", "text/csv", csvbody.Decode},
	}
	// The Things Network's uplink webhook message.
	ttnUplink = []bodyFormat{{"ttn", "application/json", ttn.Decode}}
)

// ingestRoutes are every path Telemetry Harbor's clients send readings to:
// its SDKs and agents (Python, JS, C++, Lighthouse), its cloud docs current
// and older, and its open-source server, whose paths name no harbor (the
// key's own harbor is meant). A trailing slash is accepted on each. gps is
// the path of Lighthouse's GPS collector, one flat object.
var ingestRoutes = []ingestRoute{
	{"/api/v1/ingest/ingest/:harbor_id", oneReading},
	{"/api/v1/ingest/ingest/:harbor_id/batch", readingBatch},
	{"/api/v1/ingest/:harbor_id", oneReading},
	{"/api/v1/ingest/:harbor_id/batch", readingBatch},
	{"/api/v2/ingest/:harbor_id", oneReading},
	{"/api/v2/ingest/:harbor_id/batch", readingBatch},
	{"/api/v2/ingest/:harbor_id/ttn", ttnUplink},
	{"/api/v2/ingest/:harbor_id/gps", oneReading},
	{"/api/v2/ingest/ingest/:harbor_id", oneReading},
	{"/api/v2/ingest/ingest/:harbor_id/batch", readingBatch},
	// The harbor the key opens.
	{"/api/v2/ingest", oneReading},
	{"/api/v2/ingest/batch", readingBatch},
	{"/api/v2/ingest/ttn", ttnUplink},
	{"/api/v2/ingest/gps", oneReading},
}

// formatOf is the format a request's Content-Type names (a "+json" suffix
// is JSON), or the 415 that lists what the route takes.
func formatOf(formats []bodyFormat, contentType string) (bodyFormat, error) {
	if contentType == "" {
		return formats[0], nil
	}
	for _, f := range formats { // the common case, without parsing
		if contentType == f.mediaType {
			return f, nil
		}
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && strings.HasSuffix(mt, "+json") {
		mt = "application/json"
	}
	names := make([]string, len(formats))
	for i, f := range formats {
		if err == nil && mt == f.mediaType {
			return f, nil
		}
		names[i] = f.mediaType
	}
	return bodyFormat{}, problem(http.StatusUnsupportedMediaType, "Content-Type must be "+strings.Join(names, " or ")+", not "+contentType)
}
