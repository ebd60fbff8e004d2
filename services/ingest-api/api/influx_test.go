package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// TestInfluxWriteCredentialsAndHarbors: every way InfluxDB clients send
// their key, on both write endpoints, and the harbor each names.
func TestInfluxWriteCredentialsAndHarbors(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{})
	ts := strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 10)
	body := "cpu,host=ship-1,cpu=cpu0 usage=1.5,n=2i " + ts + "\n"
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("anyone:w"))
	for _, c := range []struct {
		target  string
		headers []string
	}{
		{"/api/v2/write?org=ignored&bucket=fleet&precision=s", []string{"Authorization", "Token w"}},
		{"/api/v2/write?bucket=fleet&precision=s", []string{"X-API-Key", "w"}},
		{"/api/v2/write?precision=s", []string{"Authorization", "Token w"}}, // the key's harbor
		{"/write?db=fleet&precision=s", []string{"Authorization", basic}},
		{"/write?db=fleet&precision=s&u=x&p=w", nil},
		{"/write?db=fleet&precision=s", []string{"Authorization", "Token w"}},
		{"/write?precision=s", []string{"X-API-Key", "w"}},
	} {
		rec := send(e, http.MethodPost, c.target, body, c.headers...)
		if rec.Code != http.StatusNoContent || rec.Body.Len() != 0 {
			t.Errorf("POST %s: %d %s", c.target, rec.Code, rec.Body)
			continue
		}
		rs := pub.take("fleet")
		if len(rs) != 2 || rs[0].ShipID != "ship-1" || rs[0].CargoID != "cpu.usage,cpu=cpu0" || rs[1].CargoID != "cpu.n,cpu=cpu0" || rs[1].Value != 2 {
			t.Errorf("POST %s stored %+v", c.target, rs)
		}
	}
	for _, c := range []struct {
		target  string
		headers []string
		status  int
		code    string
	}{
		{"/api/v2/write?bucket=fleet", nil, http.StatusUnauthorized, "unauthorized"},
		{"/api/v2/write?bucket=fleet", []string{"Authorization", "Token nope"}, http.StatusUnauthorized, "unauthorized"},
		{"/api/v2/write?bucket=other", []string{"Authorization", "Token w"}, http.StatusForbidden, "forbidden"},
		{"/write?db=fleet&p=r", nil, http.StatusForbidden, "forbidden"},
		{"/api/v2/write?bucket=fleet&precision=d", []string{"Authorization", "Token w"}, http.StatusBadRequest, "invalid"},
		{"/api/v2/write?bucket=a%20b", []string{"Authorization", "Token w"}, http.StatusBadRequest, "invalid"},
	} {
		rec := send(e, http.MethodPost, c.target, body, c.headers...)
		var ie InfluxError
		if err := json.Unmarshal(rec.Body.Bytes(), &ie); err != nil || rec.Code != c.status || ie.Code != c.code || ie.Message == "" || ie.Error != ie.Message ||
			rec.Header().Get("X-Influxdb-Error") != ie.Message {
			t.Errorf("POST %s: %d %s, want %d %q", c.target, rec.Code, rec.Body, c.status, c.code)
		}
	}
	if rs := pub.take("fleet"); len(rs) != 0 {
		t.Fatalf("refused requests stored %+v", rs)
	}
}

func TestInfluxWriteErrorsAndPartialWrites(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{"MAX_BATCH_LEN": "3"})
	body := "m,host=h a=1,s=\"text\"\nm,host=h b=2\nbad line\n"
	rec := send(e, http.MethodPost, "/api/v2/write?bucket=fleet", body, "Authorization", "Token w")
	var ie InfluxError
	if err := json.Unmarshal(rec.Body.Bytes(), &ie); err != nil || rec.Code != http.StatusBadRequest || ie.Code != "invalid" || len(ie.Details) != 2 {
		t.Fatalf("whole policy: %d %s", rec.Code, rec.Body)
	}
	if strings.Join(ie.Details[0].Loc, ".") != "line 1.m.s" || ie.Details[1].Type != schema.TypeSyntax || len(pub.take("fleet")) != 0 {
		t.Fatalf("details %+v", ie.Details)
	}
	// Partial: the valid readings are stored, and the answer is InfluxDB's partial write.
	rec = send(e, http.MethodPost, "/api/v2/write", body, "Authorization", "Token lenient")
	if err := json.Unmarshal(rec.Body.Bytes(), &ie); err != nil || rec.Code != http.StatusBadRequest || !strings.HasPrefix(ie.Message, "partial write: 2 readings stored") {
		t.Fatalf("partial policy: %d %s", rec.Code, rec.Body)
	}
	if rs := pub.take("lenient"); len(rs) != 2 {
		t.Fatalf("partial policy stored %+v", rs)
	}
	// Too many readings: 413, which Telegraf answers by splitting the batch.
	rec = send(e, http.MethodPost, "/api/v2/write", "m,host=h a=1,b=2,c=3,d=4", "Authorization", "Token w")
	if err := json.Unmarshal(rec.Body.Bytes(), &ie); err != nil || rec.Code != http.StatusRequestEntityTooLarge || ie.Code != "request too large" {
		t.Fatalf("too long: %d %s", rec.Code, rec.Body)
	}
	// gzip, as clients send it.
	rec = send(e, http.MethodPost, "/api/v2/write", gzipString(t, "m,host=h a=1\n"), "Authorization", "Token w", "Content-Encoding", "gzip")
	if rec.Code != http.StatusNoContent || len(pub.take("fleet")) != 1 {
		t.Fatalf("gzip: %d %s", rec.Code, rec.Body)
	}
}

// TestBatchFormatsByContentType: the batch routes take NDJSON and CSV by
// their Content-Type, with per-line error locations.
func TestBatchFormatsByContentType(t *testing.T) {
	e, pub := newRecordingAPI(t, map[string]string{})
	for _, c := range []struct {
		contentType, body string
		readings          int
	}{
		{"application/x-ndjson", `{"ship_id":"s","cargo_id":"a","value":1}` + "\n" + `{"ship_id":"s","b":2}` + "\n", 2},
		{"text/csv; charset=utf-8", "ship_id,cargo_id,value\ns,a,1\n", 1},
		{"text/csv", "ship_id,a,b\ns,1,2\n", 2},
	} {
		rec := send(e, http.MethodPost, "/api/v2/ingest/fleet/batch", c.body, "X-API-Key", "w", "Content-Type", c.contentType)
		if got := len(pub.take("fleet")); rec.Code != http.StatusOK || got != c.readings {
			t.Errorf("%s: %d %s, %d readings stored", c.contentType, rec.Code, rec.Body, got)
		}
	}
	rec := send(e, http.MethodPost, "/api/v2/ingest/batch", "ship_id,cargo_id,value\ns,a,x\n", "X-API-Key", "w", "Content-Type", "text/csv")
	var eb ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || rec.Code != http.StatusBadRequest || strings.Join(eb.Details[0].Loc, ".") != "line 2.value" {
		t.Fatalf("csv error: %d %s", rec.Code, rec.Body)
	}
	rec = send(e, http.MethodPost, "/api/v2/ingest/batch", "x", "X-API-Key", "w", "Content-Type", "text/plain")
	if rec.Code != http.StatusUnsupportedMediaType || !strings.Contains(rec.Body.String(), "application/x-ndjson or text/csv") {
		t.Fatalf("text/plain: %d %s", rec.Code, rec.Body)
	}
}

// TestInfluxWriteRetryAnswers: 429 and 503 carry Retry-After, which
// InfluxDB clients and Telegraf wait for before they retry.
func TestInfluxWriteRetryAnswers(t *testing.T) {
	e, _ := newRecordingAPI(t, map[string]string{"DEFAULT_READINGS_PER_SECOND": "1"})
	rec := send(e, http.MethodPost, "/api/v2/write", "m,host=h a=1,b=2,c=3", "Authorization", "Token w")
	var ie InfluxError
	if err := json.Unmarshal(rec.Body.Bytes(), &ie); err != nil || rec.Code != http.StatusTooManyRequests || ie.Code != "too many requests" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("over the rate: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	cfg := devtest.ParseEnv[Config](t, map[string]string{"RETRY_AFTER": "3s"})
	e = New(cfg, testDeps(testKeys, partialHarbors{}, failingPublisher{}))
	rec = send(e, http.MethodPost, "/write?db=fleet&p=w", "m,host=h a=1")
	if err := json.Unmarshal(rec.Body.Bytes(), &ie); err != nil || rec.Code != http.StatusServiceUnavailable || ie.Code != "unavailable" ||
		rec.Header().Get("Retry-After") != "3" || !strings.Contains(ie.Error, "retry later") {
		t.Fatalf("publish failing: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
}
