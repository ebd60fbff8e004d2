package lineproto

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

var t0 = formattest.Now.Add(-time.Hour) // a time readings may have

func decodeBody(t *testing.T, body string, o Options, so schema.Options) (schema.Decoded, error) {
	t.Helper()
	return Decoder(o)([]byte(body), formattest.Now, so)
}

func TestTelegrafPointsBecomeReadings(t *testing.T) {
	ns := itoa(t0.UnixNano())
	body := "cpu,cpu=cpu0,host=ship-1 usage_idle=99.5,usage_user=0.25 " + ns + "\n" +
		"mem,host=ship-1 used=123456i,free=42u,swapped=false\n" +
		"# a comment\n\n" +
		"disk,path=/,host=ship-2,device=sda1 used_percent=12 " + ns + "\r\n"
	d, err := decodeBody(t, body, Options{}, formattest.Options(100, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	ms := t0.UnixMilli()
	now := formattest.Now.UnixMilli()
	want := []schema.Reading{
		{Time: ms, ShipID: "ship-1", CargoID: "cpu.usage_idle,cpu=cpu0", Value: 99.5},
		{Time: ms, ShipID: "ship-1", CargoID: "cpu.usage_user,cpu=cpu0", Value: 0.25},
		{Time: now, ShipID: "ship-1", CargoID: "mem.used", Value: 123456},
		{Time: now, ShipID: "ship-1", CargoID: "mem.free", Value: 42},
		{Time: now, ShipID: "ship-1", CargoID: "mem.swapped", Value: 0},
		{Time: ms, ShipID: "ship-2", CargoID: "disk.used_percent,device=sda1,path=/", Value: 12},
	}
	if !reflect.DeepEqual(d.Readings, want) || d.Skipped != nil {
		t.Fatalf("readings\n%+v\nwant\n%+v", d.Readings, want)
	}
}

func TestShipTagsInOrder(t *testing.T) {
	body := "m,host=h,ship_id=s f=1\nm,host=h f=2\nm,vessel=v,host=h f=3\n"
	d, err := decodeBody(t, body, Options{}, formattest.Options(100, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	got := [][2]string{}
	for _, r := range d.Readings {
		got = append(got, [2]string{r.ShipID, r.CargoID})
	}
	want := [][2]string{{"s", "m.f,host=h"}, {"h", "m.f"}, {"h", "m.f,vessel=v"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	d, err = decodeBody(t, body, Options{ShipTags: []string{"vessel", "host"}}, formattest.Options(100, schema.Whole))
	if err != nil || d.Readings[2].ShipID != "v" || d.Readings[2].CargoID != "m.f,host=h" || d.Readings[0].CargoID != "m.f,ship_id=s" {
		t.Fatalf("ship tags vessel,host: %+v %v", d.Readings, err)
	}
	_, err = decodeBody(t, "m,region=eu f=1\n", Options{}, formattest.Options(100, schema.Whole))
	formattest.CheckProblems(t, err, "line 1.ship_id: missing")
}

func TestPrecisions(t *testing.T) {
	at := time.Date(2026, 11, 25, 11, 0, 0, 123456789, time.UTC)
	for _, c := range []struct {
		precision string
		ts        int64
		want      int64
	}{
		{"ns", at.UnixNano(), at.UnixMilli()},
		{"", at.UnixNano(), at.UnixMilli()},
		{"us", at.UnixMicro(), at.UnixMilli()},
		{"u", at.UnixMicro(), at.UnixMilli()},
		{"ms", at.UnixMilli(), at.UnixMilli()},
		{"s", at.Unix(), at.Truncate(time.Second).UnixMilli()},
		{"m", at.Unix() / 60, at.Truncate(time.Minute).UnixMilli()},
		{"h", at.Unix() / 3600, at.Truncate(time.Hour).UnixMilli()},
	} {
		p, err := ParsePrecision(c.precision)
		if err != nil {
			t.Fatal(err)
		}
		d, err := decodeBody(t, "m,host=h f=1 "+itoa(c.ts), Options{Precision: p}, formattest.Options(10, schema.Whole))
		if err != nil || d.Readings[0].Time != c.want {
			t.Errorf("precision %q: %+v %v, want time %d", c.precision, d.Readings, err, c.want)
		}
	}
	if _, err := ParsePrecision("x"); err == nil {
		t.Fatal("precision x accepted")
	}
	// Out of the range of int64 nanoseconds, and before 1970 or too far ahead.
	_, err := decodeBody(t, "m,host=h f=1 9223372036854776\n", Options{Precision: Second}, formattest.Options(10, schema.Whole))
	formattest.CheckProblems(t, err, "line 1.time: time_range")
	_, err = decodeBody(t, "m,host=h f=1 -1\nm,host=h f=1 "+itoa(formattest.Now.Add(48*time.Hour).UnixNano())+"\n", Options{}, formattest.Options(10, schema.Whole))
	formattest.CheckProblems(t, err, "line 1.time: time_range", "line 2.time: time_range")
}

func TestEscapes(t *testing.T) {
	body := `we\ ather\,x,lo\=c\ a=a\,b\ c\=d,host=h\ 1 te\ mp\=x=1,q="a \"quoted\" \\ string, with = and spaces" ` + itoa(t0.Unix()) + "\n" +
		`back\slash,host=h f\\=2` + "\n" +
		`app.requests,host=h count=3,a.b=4` + "\n"
	d, err := decodeBody(t, body, Options{Precision: Second}, formattest.Options(10, schema.Partial))
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, r := range d.Readings {
		got = append(got, r.ShipID+" "+r.CargoID)
	}
	want := []string{
		`h 1 we ather,x.te mp=x,lo\=c a=a\,b c=d`,
		`h back\\slash.f\\`,
		`h app\.requests.count`,
		`h app\.requests.a.b`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if d.Skipped == nil || d.Skipped.Count != 1 || strings.Join(d.Skipped.Details[0].Loc, ".") != `line 1.we ather,x.q,lo\=c a=a\,b c=d` {
		t.Fatalf("skipped %+v", d.Skipped)
	}
}

// TestSeriesNeverCollapse: points that differ in a tag, or whose parts
// split differently, never share a cargo_id.
func TestSeriesNeverCollapse(t *testing.T) {
	body := "a.b,host=h c=1\n" + // measurement a.b, field c
		"a,host=h b.c=2\n" + // measurement a, field b.c
		"m,host=h,k=v\\,x=y f=3\n" + // one tag k = "v,x=y"
		"m,host=h,k=v,x=y f=4\n" + // two tags
		"m,host=h f\\,k\\=v=5\n" // field "f,k=v"
	d, err := decodeBody(t, body, Options{}, formattest.Options(10, schema.Whole))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range d.Readings {
		if seen[r.CargoID] {
			t.Fatalf("two series in cargo %q: %+v", r.CargoID, d.Readings)
		}
		seen[r.CargoID] = true
	}
	if len(seen) != 5 {
		t.Fatalf("%d cargos: %v", len(seen), seen)
	}
}

func TestStringFieldsRefusedOrSkipped(t *testing.T) {
	body := "system,host=h load1=0.5,uptime_format=\" 1 day\"\nsystem,host=h n_users=2i\n"
	formattest.CheckPolicies(t, Decoder(Options{}), body, 2, "line 1.system.uptime_format: type_error")
	// Only strings: nothing to store, and the error says why.
	_, err := decodeBody(t, "s,host=h a=\"x\"\n", Options{}, formattest.Options(10, schema.Partial))
	formattest.CheckProblems(t, err, "line 1.s.a: type_error")
}

func TestSyntaxErrorsHaveTheirLine(t *testing.T) {
	lines := []string{
		"good,host=h f=1",
		"nofields,host=h",
		"m,host=h f=",
		"m,host=h f=1x",
		"m,host=h f=tru",
		"m,host=h f=\"open",
		"m,host= f=1",
		"m,=h f=1",
		",host=h f=1",
		"m,host=h f=1 12ab",
		"m,host=h f=1 1 2",
		"m,host=h,host=g f=1",
		"m,host=h f=99999999999999999999i",
		"m,host=h f=-1u",
		"m,host=h f=1e",
		"m,host=h f=NaN",
		"m,host=h f=1,",
		"m,host=h =1",
	}
	_, err := decodeBody(t, strings.Join(lines, "\n"), Options{}, formattest.Options(100, schema.Whole))
	var want []string
	for i := 2; i <= len(lines); i++ {
		want = append(want, "line "+itoa(int64(i))+": syntax")
	}
	formattest.CheckProblems(t, err, want...)
	// Under the partial policy the good line is stored, the others skipped.
	d, err := decodeBody(t, strings.Join(lines, "\n"), Options{}, formattest.Options(100, schema.Partial))
	if err != nil || len(d.Readings) != 1 || d.Skipped.Count != len(lines)-1 {
		t.Fatalf("partial: %+v %v", d, err)
	}
}

func TestEmptyAndTooLong(t *testing.T) {
	for _, body := range []string{"", "\n\n", "# only a comment\n"} {
		if _, err := decodeBody(t, body, Options{}, formattest.Options(10, schema.Whole)); !errors.Is(err, schema.ErrEmptyBatch) {
			t.Errorf("%q: %v, want ErrEmptyBatch", body, err)
		}
	}
	body := strings.Repeat("m,host=h a=1,b=2\n", 10)
	var long *schema.TooLongError
	if _, err := decodeBody(t, body, Options{}, formattest.Options(15, schema.Whole)); !errors.As(err, &long) || long.Len != 20 || long.Max != 15 {
		t.Fatalf("20 readings over 15: %v", err)
	}
	if d, err := decodeBody(t, body, Options{}, formattest.Options(20, schema.Whole)); err != nil || len(d.Readings) != 20 {
		t.Fatalf("20 readings of 20: %v", err)
	}
}

// TestHostileBodies: bodies that are long, deep or binary decode to an
// error, without panics.
func TestHostileBodies(t *testing.T) {
	formattest.CheckRefused(t, Decoder(Options{}), map[string]string{
		"long measurement": strings.Repeat("m", 1<<20) + ",host=h f=1",
		"many tags":        "m,host=h" + strings.Repeat(",t=v", 1<<15) + " f=1",
		"many fields":      "m,host=h " + manyFields(1<<15),
		"many backslashes": "m,host=h " + strings.Repeat(`\`, 1<<20) + "=1",
		"binary":           "m,host=\xff\xfe f=1\n\x00\x01\x02",
		"long string":      "m,host=h s=\"" + strings.Repeat(`\"`, 1<<19) + "\"",
		"many lines":       strings.Repeat("m,host=h f=1\n", 1<<16),
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// manyFields is n fields of distinct keys.
func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("f" + strconv.Itoa(i) + "=1")
	}
	return b.String()
}
