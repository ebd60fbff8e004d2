package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/harbor-ingest/harbor/pkg/chconn"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/services/ingest-api/reader"
	"github.com/harbor-ingest/harbor/services/writer/store"
	"github.com/labstack/echo/v4"
)

// The harbor of TestReadBoundsOnAMillionShips: ships ship-0000000 to
// ship-0999999, each with a temp reading, every thousandth one with an rpm
// reading too.
const (
	bigShips     = 1_000_000
	rpmEvery     = 1000
	bigHarbor    = "fleet"
	bigShipIDFmt = "ship-%07d"
)

// bigShipTime is ship i's reading time in Unix milliseconds.
func bigShipTime(i int) int64 {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() + int64(i)*1000 + int64(i%1000)
}

// bigShipLastSeen is ship i's last_seen in an answer.
func bigShipLastSeen(i int) string {
	return time.UnixMilli(bigShipTime(i)).UTC().Format(reader.TimeLayout)
}

// insertBigHarbor stores the harbor's readings in one batch with the
// writer's own store.
func insertBigHarbor(t *testing.T, cfg chconn.Config) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Config: cfg}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var c schema.Columns
	add := func(i int, cargo string) {
		c.HarborID = append(c.HarborID, bigHarbor)
		c.ShipID = append(c.ShipID, fmt.Sprintf(bigShipIDFmt, i))
		c.CargoID = append(c.CargoID, cargo)
		c.Time = append(c.Time, bigShipTime(i))
		c.Value = append(c.Value, float64(i))
	}
	for i := range bigShips {
		add(i, "temp")
		if i%rpmEvery == 0 {
			add(i, "rpm")
		}
	}
	if err := st.Insert(ctx, &c); err != nil {
		t.Fatal(err)
	}
}

// readBoundsEnv is the read API on, pages of up to 100,000 ships, rows
// enough for them.
var readBoundsEnv = map[string]string{
	"READ_API_ENABLED": "true", "READ_MAX_LIMIT": "100000", "READ_MAX_RESULT_ROWS": "200000",
}

// withEnv is readBoundsEnv with more settings.
func withEnv(more map[string]string) map[string]string {
	environment := maps.Clone(readBoundsEnv)
	maps.Copy(environment, more)
	return environment
}

// shipsPage is the answer of GET .../ships.
type shipsPage struct {
	Ships []struct {
		ShipID   string `json:"ship_id"`
		LastSeen string `json:"last_seen"`
		Cargos   []struct {
			CargoID string `json:"cargo_id"`
		} `json:"cargos"`
	} `json:"ships"`
	NextCursor string `json:"next_cursor"`
}

// TestReadBoundsOnAMillionShips reads a harbor of a million ships from a
// real clickhouse-server: the pages walk every ship once, requests that
// end leave no query running, the concurrency bound answers 503, and the
// memory and result limits answer clear errors at once.
func TestReadBoundsOnAMillionShips(t *testing.T) {
	ch := devtest.ClickHouse(t)
	chCfg := chconn.Config{Addr: ch.Addr, Database: "harbor", Table: "readings", Username: "default", DialTimeout: 5 * time.Second}
	start := time.Now()
	insertBigHarbor(t, chCfg)
	t.Logf("stored %d ships in %v", bigShips, time.Since(start).Round(time.Millisecond))
	conn, err := chconn.Open(chCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// newAPI is the API on a Reader of the ClickHouse with the settings of
	// environment.
	newAPI := func(t *testing.T, environment map[string]string) *echo.Echo {
		t.Helper()
		cfg := devtest.ParseEnv[Config](t, environment)
		if err := cfg.Read.Check(); err != nil {
			t.Fatal(err)
		}
		r, err := reader.Open(chCfg, cfg.Read.Query, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return newTestAPIWith(cfg, r)
	}
	const ships = "/api/v1/harbors/" + bigHarbor + "/ships"

	t.Run("pages walk every ship once", func(t *testing.T) {
		e := newAPI(t, readBoundsEnv)
		start := time.Now()
		status, _, body := get(e, ships, "r")
		if status != http.StatusOK {
			t.Fatalf("first page: %d %.300s", status, body)
		}
		t.Logf("the first page (default limit) took %v and %d bytes", time.Since(start).Round(time.Millisecond), len(body))
		seen, pages, cursor := 0, 0, ""
		for {
			var page shipsPage
			status, _, body := get(e, ships+"?limit=100000&cursor="+cursor, "r")
			if err := json.Unmarshal([]byte(body), &page); err != nil || status != http.StatusOK {
				t.Fatalf("page %d: %d %.300s", pages, status, body)
			}
			pages++
			for _, s := range page.Ships {
				wantCargos := 1
				if seen%rpmEvery == 0 {
					wantCargos = 2
				}
				want := fmt.Sprintf(bigShipIDFmt, seen)
				if s.ShipID != want || len(s.Cargos) != wantCargos || s.LastSeen != bigShipLastSeen(seen) {
					t.Fatalf("page %d: ship %d is %+v, want %s with %d cargos, last seen %s", pages, seen, s, want, wantCargos, bigShipLastSeen(seen))
				}
				seen++
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if seen != bigShips || pages != bigShips/100000 {
			t.Errorf("%d pages held %d ships, want %d pages of %d ships", pages, seen, bigShips/100000, bigShips)
		}
		// A small page deep in the harbor.
		var page shipsPage
		_, _, body = get(e, ships+"?limit=3&cursor="+encodeCursor(shipCursor, "ship-0999997"), "r")
		if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Ships) != 2 || page.Ships[1].ShipID != "ship-0999999" || page.NextCursor != "" {
			t.Errorf("the last page: %.300s", body)
		}
	})

	t.Run("requests that end leave no query behind", func(t *testing.T) {
		// READ_QUERY_TIMEOUT is long: the end of the request, not
		// ClickHouse's max_execution_time, must stop each query.
		srv := httptest.NewServer(newAPI(t, withEnv(map[string]string{"READ_MAX_CONCURRENT_QUERIES": "20", "READ_QUERY_TIMEOUT": "60s"})))
		defer srv.Close()
		client := &http.Client{Timeout: 200 * time.Millisecond}
		var wg sync.WaitGroup
		var mu sync.Mutex
		gaveUp := 0
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest(http.MethodGet, srv.URL+ships+"?limit=100000", nil)
				req.Header.Set("X-API-Key", "r")
				resp, err := client.Do(req)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					mu.Lock()
					gaveUp++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		ended := time.Now()
		if gaveUp == 0 {
			t.Fatal("every request finished within the client's 200ms: nothing was cancelled")
		}
		waitUntilNoReads(t, conn, 20*time.Second)
		t.Logf("%d of 20 clients gave up after 200ms; ClickHouse ran no read query %v after the last", gaveUp, time.Since(ended).Round(time.Millisecond))
		// Every slot is free again.
		if status, _, body := get(srvHandler(srv), ships+"?limit=1", "r"); status != http.StatusOK {
			t.Errorf("after the cancelled requests: %d %s", status, body)
		}
	})

	t.Run("past the concurrency bound: 503", func(t *testing.T) {
		e := newAPI(t, withEnv(map[string]string{"READ_MAX_CONCURRENT_QUERIES": "1", "READ_QUEUE_TIMEOUT": "0s"}))
		statuses := concurrentGets(t, e, ships+"?limit=100000", 10)
		if statuses[http.StatusServiceUnavailable] == 0 || statuses[http.StatusOK] == 0 || len(statuses) != 2 {
			t.Errorf("10 requests at once, 1 query at a time: %v, want some 200 and some 503", statuses)
		}
		// A queue long enough lets them all wait their turn.
		e = newAPI(t, withEnv(map[string]string{"READ_MAX_CONCURRENT_QUERIES": "1", "READ_QUEUE_TIMEOUT": "60s"}))
		if statuses := concurrentGets(t, e, ships+"?limit=1000", 5); statuses[http.StatusOK] != 5 {
			t.Errorf("5 requests at once, 1 query at a time, queue of 60s: %v, want 5 200", statuses)
		}
	})

	t.Run("memory limit", func(t *testing.T) {
		e := newAPI(t, withEnv(map[string]string{"READ_MAX_MEMORY_BYTES": "1048576"}))
		status, header, body := get(e, ships, "r")
		if status != http.StatusServiceUnavailable || header.Get("Retry-After") == "" || !strings.Contains(body, "READ_MAX_MEMORY_BYTES") {
			t.Errorf("a query past max_memory_usage: %d %s", status, body)
		}
	})

	t.Run("result rows limit", func(t *testing.T) {
		// 1,001 ships (the page and the one that tells more remain), two of
		// them with two cargos: 1,003 rows.
		e := newAPI(t, withEnv(map[string]string{"READ_MAX_POINTS": "100", "READ_MAX_LIMIT": "1000", "READ_MAX_RESULT_ROWS": "1001"}))
		status, _, body := get(e, ships+"?limit=1000", "r")
		if status != http.StatusBadRequest || !strings.Contains(body, "READ_MAX_RESULT_ROWS") || !strings.Contains(body, "smaller limit") {
			t.Errorf("a page past max_result_rows: %d %s", status, body)
		}
		if status, _, body := get(e, ships+"?limit=998", "r"); status != http.StatusOK {
			t.Errorf("a page of 1,000 rows: %d %.300s", status, body)
		}
	})
}

// srvHandler is the handler a test server serves.
func srvHandler(srv *httptest.Server) *echo.Echo { return srv.Config.Handler.(*echo.Echo) }

// concurrentGets sends n GETs at once and counts the answers by status. A
// 503 must say why, with a Retry-After.
func concurrentGets(t *testing.T, e *echo.Echo, target string, n int) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, header, body := get(e, target, "r")
			if status == http.StatusServiceUnavailable && (header.Get("Retry-After") == "" || !strings.Contains(body, "READ_MAX_CONCURRENT_QUERIES")) {
				t.Errorf("a 503 past the bound: Retry-After %q, %s", header.Get("Retry-After"), body)
			}
			mu.Lock()
			statuses[status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return statuses
}

// waitUntilNoReads polls system.processes until ClickHouse runs no read
// query, failing the test after timeout.
func waitUntilNoReads(t *testing.T, conn driver.Conn, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var running uint64
		if err := conn.QueryRow(context.Background(), "SELECT count() FROM system.processes WHERE startsWith(query_id, ?)", reader.QueryIDPrefix).Scan(&running); err != nil {
			t.Fatal(err)
		}
		if running == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ClickHouse still runs %d read queries %v after their requests ended", running, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
