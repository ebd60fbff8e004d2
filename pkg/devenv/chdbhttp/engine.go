package chdbhttp

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unsafe"

	"github.com/ebitengine/purego"
)

// Engine is chDB (ClickHouse built as a library, libchdb.so) loaded into
// this process, with its data under one directory. The functions are those
// of chDB's chdb.h, called with purego (no cgo). chdb-go v1.11 binds only
// part of them (no binary-safe queries, no streaming inserts) and loads the
// library when it is imported, so this package binds what it needs itself.
type Engine struct {
	path string
	args []string    // more options of the engine (--config-file=...)
	base *connection // kept open: closing the last connection stops the engine
}

// The chdb.h functions used, bound by Load.
var (
	chdbSetSignalHandlersEnabled func(enabled int32)
	chdbConnect                  func(argc int32, argv []*byte) unsafe.Pointer
	chdbCloseConn                func(conn unsafe.Pointer)
	chdbQueryN                   func(conn unsafe.Pointer, query *byte, queryLen uintptr, format *byte, formatLen uintptr) unsafe.Pointer
	chdbResultBuffer             func(res unsafe.Pointer) unsafe.Pointer
	chdbResultLength             func(res unsafe.Pointer) uintptr
	chdbResultError              func(res unsafe.Pointer) string
	chdbResultRowsRead           func(res unsafe.Pointer) uint64
	chdbResultBytesRead          func(res unsafe.Pointer) uint64
	chdbResultRowsWritten        func(res unsafe.Pointer) uint64
	chdbResultBytesWritten       func(res unsafe.Pointer) uint64
	chdbResultElapsed            func(res unsafe.Pointer) float64
	chdbDestroyQueryResult       func(res unsafe.Pointer)
	chdbStreamInsertN            func(conn unsafe.Pointer, query *byte, queryLen uintptr, format *byte, formatLen uintptr) unsafe.Pointer
	chdbStreamAppend             func(stream unsafe.Pointer, data *byte, n uintptr) int32
	chdbStreamDone               func(stream unsafe.Pointer) unsafe.Pointer
	chdbStreamInsertError        func(stream unsafe.Pointer) string
	chdbDestroyInsertStream      func(stream unsafe.Pointer)
)

// Load loads libchdb.so from libPath and boots the engine on the data
// directory path (created if missing), with configFile, if not empty, as its
// server configuration (ZooKeeper, macros, clusters). One process holds one
// engine.
func Load(libPath, path, configFile string) (*Engine, error) {
	lib, err := purego.Dlopen(libPath, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("load chDB from %s: %w", libPath, err)
	}
	for name, fn := range map[string]any{
		"chdb_set_signal_handlers_enabled": &chdbSetSignalHandlersEnabled,
		"chdb_connect":                     &chdbConnect,
		"chdb_close_conn":                  &chdbCloseConn,
		"chdb_query_n":                     &chdbQueryN,
		"chdb_result_buffer":               &chdbResultBuffer,
		"chdb_result_length":               &chdbResultLength,
		"chdb_result_error":                &chdbResultError,
		"chdb_result_rows_read":            &chdbResultRowsRead,
		"chdb_result_bytes_read":           &chdbResultBytesRead,
		"chdb_result_rows_written":         &chdbResultRowsWritten,
		"chdb_result_bytes_written":        &chdbResultBytesWritten,
		"chdb_result_elapsed":              &chdbResultElapsed,
		"chdb_destroy_query_result":        &chdbDestroyQueryResult,
		"chdb_stream_insert_n":             &chdbStreamInsertN,
		"chdb_stream_append":               &chdbStreamAppend,
		"chdb_stream_done":                 &chdbStreamDone,
		"chdb_stream_insert_error":         &chdbStreamInsertError,
		"chdb_destroy_insert_stream":       &chdbDestroyInsertStream,
	} {
		if _, err := purego.Dlsym(lib, name); err != nil {
			return nil, fmt.Errorf("%s has no %s: install a chDB of 26.7 or later: %w", libPath, name, err)
		}
		purego.RegisterLibFunc(fn, lib, name)
	}
	// Go's runtime keeps its own signal handlers (SIGTERM stops the server
	// cleanly, SIGSEGV stays Go's).
	chdbSetSignalHandlersEnabled(0)
	e := &Engine{path: path}
	if configFile != "" {
		e.args = append(e.args, "--config-file="+configFile)
	}
	if e.base, err = e.Connect(); err != nil {
		return nil, err
	}
	return e, nil
}

// connection is one chDB connection: a session of its own (current
// database, settings) on the shared engine. It runs one statement at a time.
type connection struct {
	handle unsafe.Pointer // chdb_connection *, as chdb_connect returned it
	conn   unsafe.Pointer // chdb_connection, what the queries take
}

// Connect opens a new connection on the engine's data directory.
func (e *Engine) Connect() (*connection, error) {
	argv := []*byte{cString("clickhouse"), cString("--path=" + e.path)}
	for _, a := range e.args {
		argv = append(argv, cString(a))
	}
	h := chdbConnect(int32(len(argv)), argv)
	if h == nil {
		return nil, fmt.Errorf("chDB refused a connection on %s", e.path)
	}
	return &connection{handle: h, conn: *(*unsafe.Pointer)(h)}, nil
}

// Close closes the engine's last connection, which stops it.
func (e *Engine) Close() { e.base.Close() }

// Close closes the connection.
func (c *connection) Close() { chdbCloseConn(c.handle) }

// Result is what a statement returned: its output in the format asked for,
// and the engine's counters.
type Result struct {
	Data                                           []byte
	RowsRead, BytesRead, RowsWritten, BytesWritten uint64
	ElapsedSeconds                                 float64
}

// Query runs one statement and returns its output in format (the
// statement's own FORMAT clause wins).
func (c *connection) Query(query, format string) (Result, error) {
	q, f := []byte(query+"\x00"), []byte(format+"\x00")
	res := chdbQueryN(c.conn, &q[0], uintptr(len(query)), &f[0], uintptr(len(format)))
	return takeResult(res)
}

// Insert runs an INSERT statement without its FORMAT clause (INSERT INTO t
// (a, b)) with the data that r holds in format.
func (c *connection) Insert(query, format string, r io.Reader) (Result, error) {
	q, f := []byte(query+"\x00"), []byte(format+"\x00")
	stream := chdbStreamInsertN(c.conn, &q[0], uintptr(len(query)), &f[0], uintptr(len(format)))
	defer chdbDestroyInsertStream(stream)
	if msg := chdbStreamInsertError(stream); msg != "" {
		return Result{}, parseError(msg)
	}
	buf := make([]byte, 1<<20)
	for {
		n, err := r.Read(buf)
		if n > 0 && chdbStreamAppend(stream, &buf[0], uintptr(n)) != 0 {
			break // the stream failed: chdb_stream_done tells why
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Cancelled without committing: destroying the stream does it.
			return Result{}, bodyReadError(err)
		}
	}
	return takeResult(chdbStreamDone(stream))
}

// takeResult copies a chdb_result and destroys it.
func takeResult(res unsafe.Pointer) (Result, error) {
	if res == nil {
		return Result{}, nil
	}
	defer chdbDestroyQueryResult(res)
	if msg := chdbResultError(res); msg != "" {
		return Result{}, parseError(msg)
	}
	r := Result{
		RowsRead: chdbResultRowsRead(res), BytesRead: chdbResultBytesRead(res),
		RowsWritten: chdbResultRowsWritten(res), BytesWritten: chdbResultBytesWritten(res),
		ElapsedSeconds: chdbResultElapsed(res),
	}
	if n := chdbResultLength(res); n > 0 {
		r.Data = append([]byte(nil), unsafe.Slice((*byte)(chdbResultBuffer(res)), n)...)
	}
	return r, nil
}

// Error is an exception of the engine: its code and its message as
// ClickHouse writes it ("Code: 60. DB::Exception: ... (UNKNOWN_TABLE)").
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

// bodyReadError is the exception for a request body that could not be
// read (a client gone, a corrupt compressed block): ClickHouse's
// CANNOT_READ_ALL_DATA.
func bodyReadError(err error) *Error {
	return &Error{Code: 33, Message: fmt.Sprintf("Code: 33. DB::Exception: Cannot read the request body: %v. (CANNOT_READ_ALL_DATA)", err)}
}

var codePrefix = regexp.MustCompile(`^Code: (\d+)\.`)

// parseError reads the code from an engine's message; a message without
// one (chDB's own, say) has code 1000 (POCO_EXCEPTION, ClickHouse's code
// for errors from outside the engine proper).
func parseError(msg string) *Error {
	if m := codePrefix.FindStringSubmatch(msg); m != nil {
		code, _ := strconv.Atoi(m[1])
		return &Error{Code: code, Message: msg}
	}
	return &Error{Code: 1000, Message: "Code: 1000. DB::Exception: " + msg}
}

func cString(s string) *byte {
	b := append([]byte(s), 0)
	return &b[0]
}
