package e2e

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// TestClickHouseOutageLosesNothing stops ClickHouse while readings are
// posted, starts it again, and finds every accepted reading stored once.
func TestClickHouseOutageLosesNothing(t *testing.T) {
	p := startPipeline(t, options{writers: 2})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	const batches, perBatch = 30, 200

	accepted := 0
	post := func(i int) {
		body := batchBody("ship-"+strconv.Itoa(i), start, perBatch, float64(i*perBatch))
		status, _, b := p.post("/api/v1/ingest/ingest/"+harborA+"/batch", keyA, body)
		if status != http.StatusOK {
			t.Fatalf("batch %d: %d %s", i, status, b)
		}
		accepted += perBatch
	}
	for i := range batches / 3 {
		post(i)
	}
	p.ch.Stop()
	// The API keeps accepting while ClickHouse is down: the stream holds the readings.
	for i := batches / 3; i < 2*batches/3; i++ {
		post(i)
	}
	time.Sleep(time.Second) // let the writers fail and retry
	if err := p.ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := 2 * batches / 3; i < batches; i++ {
		post(i)
	}

	p.waitForRows(uint64(accepted), 60*time.Second)
	// Each ship's values are exactly the ones posted for it.
	var sum uint64
	q := "SELECT sum(value) FROM " + p.store.Table().FullName() + " FINAL"
	var total float64
	if err := p.store.Conn().QueryRow(context.Background(), q).Scan(&total); err != nil {
		t.Fatal(err)
	}
	for i := range accepted {
		sum += uint64(i)
	}
	if uint64(total) != sum {
		t.Fatalf("sum of stored values %v, want %d", total, sum)
	}
}
