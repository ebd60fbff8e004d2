package csvbody

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

func TestColumnsInAnyOrder(t *testing.T) {
	body := "\ufeffvalue, ship_id ,time,cargo_id\r\n" +
		"21.5,s1,2026-11-25T11:00:00Z,temp\r\n" +
		"true,\"s,2\",,on\n"
	d, err := Decode([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	want := []schema.Reading{
		{Time: time.Date(2026, 11, 25, 11, 0, 0, 0, time.UTC).UnixMilli(), ShipID: "s1", CargoID: "temp", Value: 21.5},
		{Time: formattest.Now.UnixMilli(), ShipID: "s,2", CargoID: "on", Value: 1},
	}
	if !reflect.DeepEqual(d.Readings, want) {
		t.Fatalf("%+v", d.Readings)
	}
}

func TestCargoColumnsAreFlatReadings(t *testing.T) {
	body := "time,ship_id,lat,lon,unit,alarm\n" +
		"2026-11-25T11:00:00Z,s1,41.1,29,deg,false\n" +
		"2026-11-25T11:00:01Z,s1,41.2,,deg,\n"
	d, err := Decode([]byte(body), formattest.Now, formattest.Options(10, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range d.Readings {
		got = append(got, r.CargoID+"="+strconv.FormatFloat(r.Value, 'g', -1, 64))
	}
	if want := []string{"lat=41.1", "lon=29", "alarm=0", "lat=41.2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("%q", got)
	}
}

func TestRowErrorsHaveTheirLine(t *testing.T) {
	body := "ship_id,cargo_id,value\n" +
		"s,c,1\n" +
		"s,c,ok\n" +
		"s,c\n" +
		"\"s\nwith a newline\",c,2\n" +
		",c,3\n"
	formattest.CheckPolicies(t, Decode, body, 1, "line 3.value: type_error", "line 4: syntax", "line 5.ship_id: characters", "line 7.ship_id: missing")
}

func TestBadHeadersAndBodies(t *testing.T) {
	for _, body := range []string{
		"cargo_id,value\nc,1\n", "ship_id,cargo_id\ns,c\n", "ship_id,time\ns,\n", "ship_id,a,a\ns,1,2\n",
		"ship_id,,a\ns,1,2\n", "ship_id,value,cargo_id\ns,\"1,c\n", "ship_id,a\n\xff,1\n",
	} {
		if _, err := Decode([]byte(body), formattest.Now, formattest.Options(10, schema.Whole)); !errors.Is(err, schema.ErrMalformed) {
			t.Errorf("%q: %v, want malformed", body, err)
		}
	}
	for _, body := range []string{"", "ship_id,a\n"} {
		if _, err := Decode([]byte(body), formattest.Now, formattest.Options(10, schema.Whole)); !errors.Is(err, schema.ErrEmptyBatch) {
			t.Errorf("%q: %v, want empty", body, err)
		}
	}
	var long *schema.TooLongError
	if _, err := Decode([]byte("ship_id,a\n"+strings.Repeat("s,1\n", 5)), formattest.Now, formattest.Options(3, schema.Whole)); !errors.As(err, &long) || long.Len != 5 {
		t.Fatalf("5 over 3: %v", err)
	}
}

// FuzzDecode: valid readings or a documented error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"time,ship_id,cargo_id,value\n2026-11-25T11:00:00Z,s,c,1\n", "ship_id,a,b\ns,1,x\n\"t\",,true\n",
		"ship_id,cargo_id,value\ns,c\n", "\ufeffship_id,value,cargo_id\n\"s\"\"\",1e400,c",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		formattest.CheckFuzzed(t, Decode, body, formattest.Options(50, schema.Whole))
	})
}

func BenchmarkDecode5000(b *testing.B) {
	formattest.BenchmarkDecode(b, Decode, formattest.BatchCSV(5000), 5000)
}

// TestHostileBodies: long, wide or binary bodies answer an error, without panics.
func TestHostileBodies(t *testing.T) {
	wide := make([]string, 1<<14)
	for i := range wide {
		wide[i] = "c" + strconv.Itoa(i)
	}
	formattest.CheckRefused(t, Decode, map[string]string{
		"wide":         "ship_id," + strings.Join(wide, ",") + "\ns" + strings.Repeat(",1", len(wide)) + "\n",
		"long cell":    "ship_id,cargo_id,value\n\"" + strings.Repeat("a", 1<<20) + "\",c,1\n",
		"open quote":   "ship_id,cargo_id,value\n\"" + strings.Repeat("a,\n", 1<<16),
		"many rows":    "ship_id,cargo_id,value\n" + strings.Repeat("s,c\n", 1<<16),
		"binary":       "ship_id,a\n\x00\x01,\xfe",
		"empty header": strings.Repeat(",", 1<<16) + "\n",
	})
}
