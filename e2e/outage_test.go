package e2e

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
)

// TestClickHouseOutageLosesNothing stops ClickHouse while readings are
// posted, starts it again, and finds every accepted reading stored once.
func TestClickHouseOutageLosesNothing(t *testing.T) {
	devtest.OnEachEngine(t, testClickHouseOutageLosesNothing)
}

func testClickHouseOutageLosesNothing(t *testing.T, engine devenv.Engine) {
	p := startPipeline(t, options{writers: 2, engine: engine})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	const batches, perBatch = 30, 200

	accepted := 0
	post := func(i int) {
		p.postBatch(harborA, keyA, batchBody("ship-"+strconv.Itoa(i), start, perBatch, float64(i*perBatch)))
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

// TestClickHouseKilledUnderLoad kills ClickHouse (SIGKILL, as a crash) while
// clients post, starts it again on its data, and finds exactly the accepted
// readings stored.
func TestClickHouseKilledUnderLoad(t *testing.T) {
	devtest.OnEachEngine(t, testClickHouseKilledUnderLoad)
}

func testClickHouseKilledUnderLoad(t *testing.T, engine devenv.Engine) {
	p := startPipeline(t, options{writers: 2, engine: engine})
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	const clients, batches, perBatch = 4, 20, 50
	wait := p.postConcurrently(clients, batches, perBatch, start, 20*time.Millisecond)
	// Kill it once rows are arriving, so that inserts are in flight.
	devtest.WaitFor(t, time.Minute, "the first rows", func() bool { return p.count(false, "") > 0 })
	p.ch.Kill()
	time.Sleep(500 * time.Millisecond) // clients post on; the writers fail and retry
	if err := p.ch.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	wait()
	if t.Failed() {
		t.FailNow()
	}

	var want []row
	for c := range clients {
		for b := range batches {
			for i := range perBatch {
				want = append(want, row{harborA, "ship-c" + strconv.Itoa(c) + "-b" + strconv.Itoa(b), "temp",
					start.Add(time.Duration(i) * time.Second).UnixMilli(), float64(i)})
			}
		}
	}
	slices.SortStableFunc(want, func(a, b row) int { return cmp.Compare(a.Ship, b.Ship) })
	p.waitForRows(uint64(len(want)), 60*time.Second)
	if got := p.rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("stored %d rows, not the %d accepted", len(got), len(want))
	}
}
