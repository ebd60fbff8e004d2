// Package chdbhttp serves ClickHouse's HTTP interface from chDB, ClickHouse
// built as a library, for tests against a current engine where no
// clickhouse-server of that version can be installed.
//
// Every statement is executed by the engine: the handler only does what
// ClickHouse's HTTP handler does around it (transport). It reads the query
// from the query parameter and the body, applies the other parameters as the
// request's settings (SET, on a connection of the request's own), streams
// the body of an INSERT ... FORMAT F into the engine as data in format F
// (undoing ClickHouse's block compression for decompress=1, or gzip and
// deflate Content-Encoding), and answers in the format asked for
// (default_format, or the statement's FORMAT), compressed for compress=1,
// with ClickHouse's headers; an exception answers with its code in
// X-ClickHouse-Exception-Code, the HTTP status ClickHouse gives it, and its
// text. Native output is written in the client's protocol revision
// (client_protocol_version), see reframeNative.
//
// Not served: authentication (every request runs as the engine's default
// user), sessions (session_id), query parameters (param_*), external
// tables, progress headers, and KILL QUERY by a client's query_id (the
// engine does not take one from a client). An empty query is run by the
// engine, which answers it with nothing, where a server answers
// SYNTAX_ERROR.
package chdbhttp

import (
	"compress/gzip"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/ch-go/compress"
)

// Handler answers ClickHouse HTTP requests from an Engine.
type Handler struct {
	engine      *Engine
	log         *slog.Logger
	displayName string
	timezone    string
	location    *time.Location
}

// NewHandler asks the engine for its name and time zone (for the headers
// and Native output) and returns the handler.
func NewHandler(e *Engine, log *slog.Logger) (*Handler, error) {
	res, err := e.base.Query("SELECT displayName(), timezone()", "TabSeparated")
	if err != nil {
		return nil, err
	}
	name, tz, ok := strings.Cut(strings.TrimSpace(string(res.Data)), "\t")
	if !ok {
		return nil, fmt.Errorf("unexpected answer of the engine: %q", res.Data)
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, err
	}
	return &Handler{engine: e, log: log, displayName: name, timezone: tz, location: loc}, nil
}

// params are the URL parameters ClickHouse's HTTP interface reads itself;
// every other one is a setting of the query.
var params = []string{"query", "database", "default_format", "compress", "decompress", "client_protocol_version",
	"query_id", "user", "password", "quota_key", "session_id", "session_timeout", "session_check"}

// insertData is an INSERT whose data follow in the body: the statement
// without its FORMAT clause, and the format.
var insertData = regexp.MustCompile(`(?is)^\s*(INSERT\s+INTO\s.*?)\s+FORMAT\s+(\w+)\s*;?\s*$`)

// namedFormat is a statement that names its output format.
var namedFormat = regexp.MustCompile(`(?is)\sFORMAT\s+(\w+)\s*;?\s*$`)

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "":
	case "/ping":
		io.WriteString(w, "Ok.\n")
		return
	default:
		h.fail(w, r, &Error{Code: 1000, Message: "Code: 1000. DB::Exception: no handler for " + r.URL.Path}, http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	compressOut := q.Get("compress") == "1"
	body, err := h.requestBody(r, q.Get("decompress") == "1")
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	conn, err := h.engine.Connect()
	if err != nil {
		h.fail(w, r, &Error{Code: 1000, Message: "Code: 1000. DB::Exception: " + err.Error()}, 0)
		return
	}
	defer conn.Close()
	if err := h.applySettings(conn, q); err != nil {
		h.fail(w, r, err, 0)
		return
	}

	format := q.Get("default_format")
	if format == "" {
		format = "TabSeparated"
	}
	query := q.Get("query")
	var res Result
	if m := insertData.FindStringSubmatch(query); m != nil && r.Method == http.MethodPost {
		format = m[2]
		res, err = conn.Insert(m[1], m[2], body)
	} else {
		rest, readErr := io.ReadAll(body)
		if readErr != nil {
			h.fail(w, r, bodyReadError(readErr), 0)
			return
		}
		if len(rest) > 0 {
			if query != "" {
				query += "\n"
			}
			query += string(rest)
		}
		reframe := true
		if m := namedFormat.FindStringSubmatch(query); m != nil {
			format, reframe = m[1], false
		}
		res, err = conn.Query(query, format)
		if err == nil && reframe && format == "Native" {
			revision, _ := strconv.ParseUint(q.Get("client_protocol_version"), 10, 64)
			if res.Data, err = reframeNative(res.Data, revision, h.location); err != nil {
				err = &Error{Code: 1000, Message: "Code: 1000. DB::Exception: " + err.Error()}
			}
		}
	}
	if err != nil {
		h.fail(w, r, err, 0)
		return
	}
	h.answer(w, q, format, res, compressOut)
}

// requestBody is the body as the engine is to read it.
func (h *Handler) requestBody(r *http.Request, decompress bool) (io.Reader, error) {
	var body io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, bodyError(err)
		}
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, bodyError(err)
		}
		body = zr
	default:
		return nil, &Error{Code: 48, Message: fmt.Sprintf("Code: 48. DB::Exception: Content-Encoding %q is not served by this test server. (NOT_IMPLEMENTED)", enc)}
	}
	if decompress {
		body = compress.NewReader(body)
	}
	return body, nil
}

func bodyError(err error) *Error {
	return &Error{Code: 432, Message: fmt.Sprintf("Code: 432. DB::Exception: cannot decompress the request body: %v. (UNKNOWN_CODEC)", err)}
}

// applySettings sets the request's settings on its connection, in the
// order of their names, so the engine checks each name and value.
func (h *Handler) applySettings(conn *connection, q map[string][]string) error {
	names := make([]string, 0, len(q))
	for name := range q {
		if !slices.Contains(params, name) && !strings.HasPrefix(name, "param_") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if db := firstValue(q, "database"); db != "" {
		if _, err := conn.Query("USE "+quoteIdentifier(db), "TabSeparated"); err != nil {
			return err
		}
	}
	for _, name := range names {
		if _, err := conn.Query("SET "+quoteIdentifier(name)+" = "+quoteString(firstValue(q, name)), "TabSeparated"); err != nil {
			return err
		}
	}
	return nil
}

func firstValue(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// quoteIdentifier quotes a name for ClickHouse's SQL.
func quoteIdentifier(s string) string {
	return "`" + strings.NewReplacer(`\`, `\\`, "`", "\\`").Replace(s) + "`"
}

// quoteString quotes a value for ClickHouse's SQL; SET converts the string
// to the setting's type as a URL parameter would be.
func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// answer writes a successful result.
func (h *Handler) answer(w http.ResponseWriter, q map[string][]string, format string, res Result, compressOut bool) {
	h.headers(w, q)
	w.Header().Set("X-ClickHouse-Format", format)
	w.Header().Set("Content-Type", contentType(format))
	summary, _ := json.Marshal(map[string]string{
		"read_rows": strconv.FormatUint(res.RowsRead, 10), "read_bytes": strconv.FormatUint(res.BytesRead, 10),
		"written_rows": strconv.FormatUint(res.RowsWritten, 10), "written_bytes": strconv.FormatUint(res.BytesWritten, 10),
		"result_rows": "0", "elapsed_ns": strconv.FormatInt(int64(res.ElapsedSeconds*1e9), 10),
	})
	w.Header().Set("X-ClickHouse-Summary", string(summary))
	data := res.Data
	if compressOut && len(data) > 0 {
		var err error
		if data, err = compressBlocks(data, firstValue(q, "network_compression_method")); err != nil {
			h.fail(w, nil, &Error{Code: 1000, Message: "Code: 1000. DB::Exception: " + err.Error()}, 0)
			return
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	w.Write(data)
}

func (h *Handler) headers(w http.ResponseWriter, q map[string][]string) {
	w.Header().Set("X-ClickHouse-Server-Display-Name", h.displayName)
	w.Header().Set("X-ClickHouse-Timezone", h.timezone)
	if id := firstValue(q, "query_id"); id != "" {
		w.Header().Set("X-ClickHouse-Query-Id", id)
	}
}

// fail answers an exception as ClickHouse does: its code in a header, the
// status for its code (or status, if not 0) and its text.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error, status int) {
	e, ok := err.(*Error)
	if !ok {
		e = &Error{Code: 1000, Message: "Code: 1000. DB::Exception: " + err.Error()}
	}
	if status == 0 {
		status = httpStatus(e)
	}
	if r != nil {
		h.headers(w, r.URL.Query())
	}
	h.log.Debug("exception", "code", e.Code, "status", status, "err", e.Message)
	w.Header().Set("X-ClickHouse-Exception-Code", strconv.Itoa(e.Code))
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.WriteHeader(status)
	io.WriteString(w, e.Message+"\n")
}

// compressBlocks compresses data into ClickHouse's compressed blocks (of at
// most 1 MiB each, as the server writes them) with method (LZ4 when empty).
func compressBlocks(data []byte, method string) ([]byte, error) {
	m := compress.LZ4
	if method != "" {
		var err error
		if m, err = compress.MethodString(strings.ToUpper(method)); err != nil {
			return nil, fmt.Errorf("network_compression_method %q: %w", method, err)
		}
	}
	cw := compress.NewWriter(compress.LevelZero, m)
	var out []byte
	for len(data) > 0 {
		n := min(len(data), 1<<20)
		if err := cw.Compress(data[:n]); err != nil {
			return nil, err
		}
		out = append(out, cw.Data...)
		data = data[n:]
	}
	return out, nil
}

// contentType is the Content-Type ClickHouse gives a format's output.
func contentType(format string) string {
	switch format {
	case "Native", "RowBinary", "RowBinaryWithNamesAndTypes", "Parquet", "Arrow", "ArrowStream":
		return "application/octet-stream"
	case "TabSeparated", "TSV", "TabSeparatedWithNames", "TSVWithNames":
		return "text/tab-separated-values; charset=UTF-8"
	case "JSON", "JSONCompact", "JSONEachRow":
		return "application/json; charset=UTF-8"
	case "CSV", "CSVWithNames":
		return "text/csv; charset=UTF-8"
	}
	return "text/plain; charset=UTF-8"
}

// statusByName is the status ClickHouse's HTTP interface answers an
// exception with, by the exception's name (as exceptionCodeToHTTPStatus.cpp
// of ClickHouse 26 has it); any other exception is a 500.
var statusByName = map[string]int{
	"REQUIRED_PASSWORD": http.StatusUnauthorized,

	"UNKNOWN_USER": http.StatusForbidden, "WRONG_PASSWORD": http.StatusForbidden, "AUTHENTICATION_FAILED": http.StatusForbidden,
	"SET_NON_GRANTED_ROLE": http.StatusForbidden, "ACCESS_DENIED": http.StatusForbidden,

	"BAD_ARGUMENTS": http.StatusBadRequest, "CANNOT_COMPILE_REGEXP": http.StatusBadRequest, "CANNOT_PARSE_TEXT": http.StatusBadRequest,
	"CANNOT_PARSE_ESCAPE_SEQUENCE": http.StatusBadRequest, "CANNOT_PARSE_QUOTED_STRING": http.StatusBadRequest,
	"CANNOT_PARSE_DATE": http.StatusBadRequest, "CANNOT_PARSE_DATETIME": http.StatusBadRequest, "CANNOT_PARSE_NUMBER": http.StatusBadRequest,
	"CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING": http.StatusBadRequest, "CANNOT_PARSE_IPV4": http.StatusBadRequest,
	"CANNOT_PARSE_IPV6": http.StatusBadRequest, "CANNOT_PARSE_INPUT_ASSERTION_FAILED": http.StatusBadRequest,
	"CANNOT_PARSE_UUID": http.StatusBadRequest, "DUPLICATE_COLUMN": http.StatusBadRequest, "ILLEGAL_COLUMN": http.StatusBadRequest,
	"UNKNOWN_ELEMENT_IN_AST": http.StatusBadRequest, "UNKNOWN_TYPE_OF_AST_NODE": http.StatusBadRequest,
	"THERE_IS_NO_COLUMN": http.StatusBadRequest, "TOO_DEEP_AST": http.StatusBadRequest, "TOO_BIG_AST": http.StatusBadRequest,
	"UNEXPECTED_AST_STRUCTURE": http.StatusBadRequest, "SYNTAX_ERROR": http.StatusBadRequest, "INCORRECT_DATA": http.StatusBadRequest,
	"TYPE_MISMATCH": http.StatusBadRequest, "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE": http.StatusBadRequest,

	"UNKNOWN_TABLE": http.StatusNotFound, "UNKNOWN_FUNCTION": http.StatusNotFound, "UNKNOWN_IDENTIFIER": http.StatusNotFound,
	"UNKNOWN_TYPE": http.StatusNotFound, "UNKNOWN_STORAGE": http.StatusNotFound, "UNKNOWN_DATABASE": http.StatusNotFound,
	"UNKNOWN_SETTING": http.StatusNotFound, "UNKNOWN_DIRECTION_OF_SORTING": http.StatusNotFound,
	"UNKNOWN_AGGREGATE_FUNCTION": http.StatusNotFound, "UNKNOWN_FORMAT": http.StatusNotFound,
	"UNKNOWN_DATABASE_ENGINE": http.StatusNotFound, "UNKNOWN_TYPE_OF_QUERY": http.StatusNotFound, "UNKNOWN_ROLE": http.StatusNotFound,

	"QUERY_IS_TOO_LARGE":     http.StatusRequestEntityTooLarge,
	"NOT_IMPLEMENTED":        http.StatusNotImplemented,
	"SOCKET_TIMEOUT":         http.StatusServiceUnavailable,
	"CANNOT_OPEN_FILE":       http.StatusServiceUnavailable,
	"CANNOT_SCHEDULE_TASK":   http.StatusServiceUnavailable,
	"HTTP_LENGTH_REQUIRED":   http.StatusLengthRequired,
	"TIMEOUT_EXCEEDED":       http.StatusRequestTimeout,
	"UNSUPPORTED_MEDIA_TYPE": http.StatusUnsupportedMediaType,
}

// exceptionName is the name ClickHouse ends an exception's text with
// ("... (UNKNOWN_TABLE)"), before the version it may add.
var exceptionName = regexp.MustCompile(`\(([A-Z][A-Z0-9_]+)\)`)

// httpStatus is the status for an exception.
func httpStatus(e *Error) int {
	names := exceptionName.FindAllStringSubmatch(e.Message, -1)
	if len(names) == 0 {
		return http.StatusInternalServerError
	}
	if status, ok := statusByName[names[len(names)-1][1]]; ok {
		return status
	}
	return http.StatusInternalServerError
}
