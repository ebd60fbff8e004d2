package chdbhttp_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// TestServesClickHouseHTTPAsTheServerDoes sends requests as other HTTP
// clients than clickhouse-go do (curl, a gzip-compressing client, a client
// with settings in the URL) to the chDB server and checks the answers a
// ClickHouse server gives: output in the format asked for, exceptions with
// their code, status and text from the engine, settings checked by it.
func TestServesClickHouseHTTPAsTheServerDoes(t *testing.T) {
	ch := devtest.ClickHouseOn(t, devenv.EngineChDB)
	url := "http://" + ch.Addr + "/"
	do := func(query, body string, headers ...string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url+query, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	expect := func(query, body string, status int, code, text string, headers ...string) {
		t.Helper()
		got, h, b := do(query, body, headers...)
		if got != status || h.Get("X-ClickHouse-Exception-Code") != code || !strings.Contains(b, text) {
			t.Errorf("%s %q: %d, code %q, %q; want %d, code %q, containing %q", query, body, got, h.Get("X-ClickHouse-Exception-Code"), b, status, code, text)
		}
	}

	expect("", "SELECT version()", http.StatusOK, "", "26.")
	expect("?default_format=JSONEachRow", "SELECT 1 AS x", http.StatusOK, "", `{"x":1}`)
	expect("?default_format=JSONEachRow", "SELECT 2 AS x FORMAT CSV", http.StatusOK, "", "2\n") // the statement's FORMAT wins
	expect("?query=SELECT%203", "", http.StatusOK, "", "3\n")
	expect("", "SELECT * FROM no_such_table", http.StatusNotFound, "60", "UNKNOWN_TABLE")
	expect("", "SELEC 1", http.StatusBadRequest, "62", "SYNTAX_ERROR")
	expect("?no_such_setting=1", "SELECT 1", http.StatusNotFound, "115", "UNKNOWN_SETTING")
	expect("?max_result_rows=1&result_overflow_mode=throw", "SELECT number FROM numbers(10)", http.StatusInternalServerError, "396", "TOO_MANY_ROWS_OR_BYTES")
	expect("?database=no_such_db", "SELECT 1", http.StatusNotFound, "81", "UNKNOWN_DATABASE")

	// An INSERT with its data in the body, gzip-compressed, into a
	// database named in the URL.
	expect("", "CREATE DATABASE IF NOT EXISTS d", http.StatusOK, "", "")
	expect("?database=d", "CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a", http.StatusOK, "", "")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "1,one\n2,two\n")
	zw.Close()
	expect("?database=d&query=INSERT%20INTO%20t%20FORMAT%20CSV", gz.String(), http.StatusOK, "", "", "Content-Encoding", "gzip")
	expect("?database=d&query=INSERT%20INTO%20t%20FORMAT%20CSV", "3,three,extra\n", http.StatusBadRequest, "117", "INCORRECT_DATA")
	expect("?database=d", "SELECT count(), sum(a) FROM t", http.StatusOK, "", "2\t3\n") // the bad insert stored nothing
}
