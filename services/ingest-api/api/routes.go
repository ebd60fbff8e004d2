package api

import "github.com/harbor-ingest/harbor/pkg/schema"

// ingestRoute is one path readings come in by, and the decoder of its body.
type ingestRoute struct {
	path   string
	decode decoder
}

// ingestRoutes are every path Telemetry Harbor's clients send readings to:
// its SDKs and agents (Python, JS, C++, Lighthouse), its cloud docs current
// and older, and its open-source server, whose paths name no harbor (the
// key's own harbor is meant). A trailing slash is accepted on each.
//
// A single-reading path takes one JSON object, a reading or a flat reading;
// a batch path takes an array of them (schema.DecodeBatch); a ttn path
// takes The Things Network's uplink webhook (schema.DecodeTTN). gps is the
// path of Lighthouse's GPS collector, one flat object.
var ingestRoutes = []ingestRoute{
	{"/api/v1/ingest/ingest/:harbor_id", schema.DecodeReading},
	{"/api/v1/ingest/ingest/:harbor_id/batch", schema.DecodeBatch},
	{"/api/v1/ingest/:harbor_id", schema.DecodeReading},
	{"/api/v1/ingest/:harbor_id/batch", schema.DecodeBatch},
	{"/api/v2/ingest/:harbor_id", schema.DecodeReading},
	{"/api/v2/ingest/:harbor_id/batch", schema.DecodeBatch},
	{"/api/v2/ingest/:harbor_id/ttn", schema.DecodeTTN},
	{"/api/v2/ingest/:harbor_id/gps", schema.DecodeReading},
	{"/api/v2/ingest/ingest/:harbor_id", schema.DecodeReading},
	{"/api/v2/ingest/ingest/:harbor_id/batch", schema.DecodeBatch},
	// The harbor the key opens.
	{"/api/v2/ingest", schema.DecodeReading},
	{"/api/v2/ingest/batch", schema.DecodeBatch},
	{"/api/v2/ingest/ttn", schema.DecodeTTN},
	{"/api/v2/ingest/gps", schema.DecodeReading},
}
