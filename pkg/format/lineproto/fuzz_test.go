package lineproto

import (
	"reflect"
	"testing"

	"github.com/harbor-ingest/harbor/pkg/format/formattest"
	"github.com/harbor-ingest/harbor/pkg/schema"
)

// FuzzDecode: whatever the body, the decoder answers valid readings or a
// documented error; what the whole policy accepts, the partial policy
// accepts alike, with nothing skipped.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"cpu,cpu=cpu0,host=h usage=1.5,n=2i,u=3u,ok=t 1795600000000000000\n",
		"m,ship_id=s,host=h f=1\nm,host=h f=\"x\"\n# c\n\n",
		`we\ ather\,x,lo\=c=a\,b,host=h\ 1 te\ mp=1,q="a \"q\" \\" 1795600000000000000`,
		"m,host=h f=1 -1\nm f=1\nm,host=h f=1e400\nm,host=h f=99999999999999999999i",
		"m,host=h,host=g f=1\r\nm,host=h a=1,a=2",
	} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, prec uint8) {
		p := []Precision{Nanosecond, Microsecond, Millisecond, Second}[prec%4]
		decode := Decoder(Options{Precision: p})
		d, ok := formattest.CheckFuzzed(t, decode, body, formattest.Options(50, schema.Whole))
		if !ok {
			return
		}
		again, err := decode(body, formattest.Now, formattest.Options(50, schema.Partial))
		if err != nil || again.Skipped != nil || !reflect.DeepEqual(again.Readings, d.Readings) {
			t.Fatalf("partial policy: %+v, %v; whole: %+v", again, err, d.Readings)
		}
	})
}
