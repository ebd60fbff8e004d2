package store

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/devenv"
	"github.com/harbor-ingest/harbor/pkg/devenv/devtest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// TestInsertStoresEveryColumnAsGiven: the columns filled in ClickHouse's
// native format (nativeColumns) store every id, time and value exactly,
// with ids of every length (a length of 128 bytes and more takes two bytes
// on the wire), and a second batch reusing the buffers a bigger one left
// stores only its own rows. The legacy table of the installed server has
// String, DateTime and UInt16 columns; a current server's table has
// LowCardinality(String) ids, whose dictionaries take one, two and four
// bytes a key (2, 301 and 70,001 distinct cargo ids), and a DateTime64(3)
// time.
func TestInsertStoresEveryColumnAsGiven(t *testing.T) {
	devtest.OnEachEngine(t, testInsertStoresEveryColumnAsGiven)
}

func testInsertStoresEveryColumnAsGiven(t *testing.T, engine devenv.Engine) {
	ctx := context.Background()
	st := openTestStore(t, devtest.ClickHouseOn(t, engine))

	first := &schema.Columns{}
	for i := range 300 {
		first.HarborID = append(first.HarborID, "harbor-"+strconv.Itoa(i%2))
		first.ShipID = append(first.ShipID, strings.Repeat("s", 1+i%200)) // 1 to 200 bytes
		first.CargoID = append(first.CargoID, "cargo-ü-"+strconv.Itoa(i))
		first.Time = append(first.Time, 1_700_000_000_000+int64(i)*997) // every millisecond part
		first.Value = append(first.Value, float64(i)*-0.5)
	}
	first.Value[1] = math.MaxFloat64
	first.Value[2] = math.SmallestNonzeroFloat64
	second := &schema.Columns{
		HarborID: []string{"harbor-2", "harbor-2"},
		ShipID:   []string{"x", strings.Repeat("y", 300)},
		CargoID:  []string{"c", "d"},
		Time:     []int64{1_700_000_000_999, 1_700_000_001_000},
		Value:    []float64{7, 8},
	}
	batches := []*schema.Columns{first, second}
	if engine == devenv.EngineChDB {
		third := &schema.Columns{}
		for i := range 70_000 {
			third.HarborID = append(third.HarborID, "harbor-3")
			third.ShipID = append(third.ShipID, "ship")
			third.CargoID = append(third.CargoID, "many-"+strconv.Itoa(i))
			third.Time = append(third.Time, 1_600_000_000_000+int64(i))
			third.Value = append(third.Value, float64(i))
		}
		batches = append(batches, third)
	}
	for _, c := range batches {
		if err := st.Insert(ctx, c); err != nil {
			t.Fatal(err)
		}
	}

	want := map[string]schema.Reading{}
	for _, c := range batches {
		for i := range c.Len() {
			want[c.HarborID[i]+"/"+c.CargoID[i]] = schema.Reading{ShipID: c.ShipID[i], CargoID: c.CargoID[i], Time: c.Time[i], Value: c.Value[i]}
		}
	}
	rows, err := st.Conn().Query(ctx, "SELECT harbor_id, ship_id, cargo_id, "+st.Table().TimeMillisSQL()+", value FROM "+st.Table().FullName())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for ; rows.Next(); n++ {
		var harbor string
		var got schema.Reading
		if err := rows.Scan(&harbor, &got.ShipID, &got.CargoID, &got.Time, &got.Value); err != nil {
			t.Fatal(err)
		}
		if w, ok := want[harbor+"/"+got.CargoID]; !ok || got != w {
			t.Fatalf("stored %s %+v, want %+v", harbor, got, w)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(want) {
		t.Fatalf("%d rows stored, want %d", n, len(want))
	}
}
