package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	influxhttp "github.com/influxdata/influxdb-client-go/v2/api/http"
	"github.com/klauspost/compress/zstd"
)

// TestInfluxDBClientsAndTelegraf writes with the official InfluxDB 2
// client (its blocking and its batching write APIs, gzip on), and as
// Telegraf's InfluxDB 1.x output sends (basic auth, gzip), to the real
// pipeline, and compares the rows in ClickHouse with the points written.
func TestInfluxDBClientsAndTelegraf(t *testing.T) {
	p := startPipeline(t, options{writers: 1})
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	client := influxdb2.NewClientWithOptions(p.url, keyA, influxdb2.DefaultOptions().
		SetUseGZip(true).SetPrecision(time.Millisecond).SetBatchSize(50).SetFlushInterval(100).SetLogLevel(0))
	defer client.Close()

	var want []row
	// Blocking, in the precision the client is set to (ms).
	blocking := client.WriteAPIBlocking("any-org", harborA)
	for i := range 20 {
		at := t0.Add(time.Duration(i) * time.Second)
		pt := influxdb2.NewPoint("cpu", map[string]string{"host": "influx-blocking", "cpu": "cpu0"},
			map[string]any{"usage_idle": 90.5 + float64(i), "procs": int64(i), "running": i%2 == 0}, at)
		if err := blocking.WritePoint(ctx, pt); err != nil {
			t.Fatalf("blocking write %d: %v", i, err)
		}
		running := 0.0
		if i%2 == 0 {
			running = 1
		}
		want = append(want,
			row{Harbor: harborA, Ship: "influx-blocking", Cargo: "cpu.usage_idle,cpu=cpu0", Millis: at.UnixMilli(), Value: 90.5 + float64(i)},
			row{Harbor: harborA, Ship: "influx-blocking", Cargo: "cpu.procs,cpu=cpu0", Millis: at.UnixMilli(), Value: float64(i)},
			row{Harbor: harborA, Ship: "influx-blocking", Cargo: "cpu.running,cpu=cpu0", Millis: at.UnixMilli(), Value: running})
	}
	// The error a client shows: InfluxDB's code and message.
	err := blocking.WriteRecord(ctx, "system,host=influx-blocking uptime_format=\"1 day\"")
	var herr *influxhttp.Error
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusBadRequest || herr.Code != "invalid" || !strings.Contains(herr.Message, "1 invalid field") {
		t.Fatalf("a string field: %v (%#v)", err, herr)
	}
	if err := client.WriteAPIBlocking("any-org", "harbor-b").WriteRecord(ctx, "m,host=h f=1"); !errors.As(err, &herr) || herr.StatusCode != http.StatusForbidden || herr.Code != "forbidden" {
		t.Fatalf("another harbor's bucket: %v", err)
	}

	// Batching, with a ship tag and a tag that goes into the cargo.
	batching := client.WriteAPI("any-org", harborA)
	errs := batching.Errors()
	for i := range 500 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		batching.WritePoint(influxdb2.NewPoint("engine", map[string]string{"ship_id": "influx-batching", "host": "gw-1", "side": "port"},
			map[string]any{"rpm": uint64(1000 + i)}, at))
		want = append(want, row{Harbor: harborA, Ship: "influx-batching", Cargo: "engine.rpm,host=gw-1,side=port", Millis: at.UnixMilli(), Value: float64(1000 + i)})
	}
	batching.Flush()
	select {
	case err := <-errs:
		t.Fatalf("batching write: %v", err)
	default:
	}

	// Telegraf's outputs.influxdb: /write?db=, basic auth with the key as the
	// password, gzip, nanoseconds.
	var lp strings.Builder
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Minute)
		fmt.Fprintf(&lp, "mem,host=telegraf-v1 used_percent=%d.25,available=%di %d\n", i, 1000*i, at.UnixNano())
		want = append(want,
			row{Harbor: harborA, Ship: "telegraf-v1", Cargo: "mem.used_percent", Millis: at.UnixMilli(), Value: float64(i) + 0.25},
			row{Harbor: harborA, Ship: "telegraf-v1", Cargo: "mem.available", Millis: at.UnixMilli(), Value: float64(1000 * i)})
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("telegraf:"+keyA))
	status, _, body := p.request(http.MethodPost, p.url+"/write?db="+harborA+"&rp=autogen", "", gzipped([]byte(lp.String())),
		"Authorization", basic, "Content-Encoding", "gzip", "Content-Type", "text/plain; charset=utf-8", "User-Agent", "Telegraf/1.30")
	if status != http.StatusNoContent {
		t.Fatalf("Telegraf v1 write: %d %s", status, body)
	}

	p.waitForRows(uint64(len(want)), 60*time.Second)
	checkRows(t, p.rows(), want)
}

// TestNDJSONCSVAndZstdBodies sends the batch formats other than JSON, and
// zstd bodies, to the real pipeline and checks the rows.
func TestNDJSONCSVAndZstdBodies(t *testing.T) {
	p := startPipeline(t, options{writers: 1})
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	at := func(s int) string { return t0.Add(time.Duration(s) * time.Second).Format(time.RFC3339) }
	ms := func(s int) int64 { return t0.Add(time.Duration(s) * time.Second).UnixMilli() }
	ndjson := `{"time":"` + at(0) + `","ship_id":"ndjson","cargo_id":"temp","value":21.5}` + "\n" +
		`{"time":"` + at(1) + `","ship_id":"ndjson","lat":41.1,"lon":"29"}` + "\n"
	csv := "ship_id,time,cargo_id,value\n" + "csv," + at(0) + ",rpm,900\n" + "csv," + at(1) + ",on,true\n"
	flatCSV := "time,ship_id,depth,speed\n" + at(0) + ",csv-flat,12.5,3\n"
	for _, c := range []struct {
		name, contentType, encoding, body string
	}{
		{"ndjson", "application/x-ndjson", "", ndjson},
		{"csv", "text/csv", "zstd", csv},
		{"csv-flat", "text/csv; charset=utf-8", "gzip", flatCSV},
	} {
		body := []byte(c.body)
		headers := []string{"Content-Type", c.contentType}
		switch c.encoding {
		case "zstd":
			body = zstdBytes(t, c.body)
			headers = append(headers, "Content-Encoding", "zstd")
		case "gzip":
			body = gzipped([]byte(c.body))
			headers = append(headers, "Content-Encoding", "gzip")
		}
		if status, _, answer := p.request(http.MethodPost, p.url+"/api/v2/ingest/"+harborA+"/batch", keyA, body, headers...); status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.name, status, answer)
		}
	}
	// Line protocol in zstd too; and a CSV row error, located by line.
	lp := fmt.Sprintf("nav,ship_id=lp-zstd heading=270 %d\n", t0.Unix())
	if status, _, answer := p.request(http.MethodPost, p.url+"/api/v2/write?bucket="+harborA+"&precision=s", "", zstdBytes(t, lp),
		"Authorization", "Token "+keyA, "Content-Encoding", "zstd"); status != http.StatusNoContent {
		t.Fatalf("line protocol in zstd: %d %s", status, answer)
	}
	status, _, answer := p.request(http.MethodPost, p.url+"/api/v2/ingest/"+harborA+"/batch", keyA, []byte("ship_id,cargo_id,value\nbad,c,x\n"), "Content-Type", "text/csv")
	if status != http.StatusBadRequest || !strings.Contains(string(answer), `"line 2","value"`) {
		t.Fatalf("bad CSV row: %d %s", status, answer)
	}
	want := []row{
		{harborA, "csv", "on", ms(1), 1}, {harborA, "csv", "rpm", ms(0), 900},
		{harborA, "csv-flat", "depth", ms(0), 12.5}, {harborA, "csv-flat", "speed", ms(0), 3},
		{harborA, "lp-zstd", "nav.heading", ms(0), 270},
		{harborA, "ndjson", "lat", ms(1), 41.1}, {harborA, "ndjson", "lon", ms(1), 29}, {harborA, "ndjson", "temp", ms(0), 21.5},
	}
	p.waitForRows(uint64(len(want)), 60*time.Second)
	checkRows(t, p.rows(), want)
}

// checkRows compares the stored rows with the rows wanted, in any order.
func checkRows(t *testing.T, got, want []row) {
	t.Helper()
	sortRows(got)
	sortRows(want)
	if !reflect.DeepEqual(got, want) {
		for i := 0; i < len(got) && i < len(want); i++ {
			if got[i] != want[i] {
				t.Fatalf("%d rows stored, %d wanted; first difference at %d: %+v, want %+v", len(got), len(want), i, got[i], want[i])
			}
		}
		t.Fatalf("%d rows stored, %d wanted", len(got), len(want))
	}
}

func zstdBytes(t *testing.T, s string) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll([]byte(s), nil)
}
