package chdbhttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	chproto "github.com/ClickHouse/ch-go/proto"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// reframeNative turns the Native output of the engine into Native blocks of
// a client's protocol revision, as ClickHouse's HTTP interface writes them
// for ?client_protocol_version=N: each block gains the BlockInfo header and
// each column its "no custom serialization" flag. chDB's library interface
// has no client revision and writes revision 0 (no BlockInfo), which
// clickhouse-go cannot read. Only the framing changes: the columns' data
// are decoded and encoded again unchanged (with clickhouse-go's own column
// codecs, so a type it cannot encode fails here rather than in the client).
func reframeNative(data []byte, revision uint64, tz *time.Location) ([]byte, error) {
	if revision == 0 || len(data) == 0 {
		return data, nil
	}
	r := chproto.NewReader(bytes.NewReader(data))
	out := new(chproto.Buffer)
	for {
		b := proto.Block{ServerContext: &column.ServerContext{Timezone: tz}}
		if err := b.Decode(r, 0); err != nil {
			if errors.Is(err, io.EOF) {
				return out.Buf, nil
			}
			return nil, fmt.Errorf("decode a Native block of the engine: %w", err)
		}
		if err := b.Encode(out, revision); err != nil {
			return nil, fmt.Errorf("encode a Native block for revision %d: %w", revision, err)
		}
	}
}
