package pipeline

import (
	"fmt"
	"time"

	"github.com/harbor-ingest/harbor/pkg/schema"
	"github.com/harbor-ingest/harbor/pkg/stream"
	"github.com/harbor-ingest/harbor/pkg/tenant"
	"github.com/nats-io/nats.go/jetstream"
)

// AppendMessage decodes a message of the readings stream onto cols. The
// stream is trusted with nothing the API would have refused: the subject
// must name a valid harbor, and every reading must pass lim around the time
// the message was published, widened by skew (MAX_CLOCK_SKEW), so a
// payload published past the API, or by an API with wider limits, is
// refused, and history replayed long after is judged by when it came. On
// error cols are left as they were and the message is to be dead-lettered.
func AppendMessage(cols *schema.Columns, streamCfg stream.Config, lim schema.Limits, skew time.Duration, msg jetstream.Msg) error {
	harborID, ok := streamCfg.HarborID(msg.Subject())
	if !ok || !tenant.HarborIDPattern.MatchString(harborID) {
		return fmt.Errorf("subject %q does not name a harbor (%s.<1 to 64 letters, digits, - or _>)", msg.Subject(), streamCfg.SubjectPrefix)
	}
	meta, err := msg.Metadata()
	if err != nil {
		return fmt.Errorf("message without stream metadata: %w", err)
	}
	return cols.AppendPayload(harborID, msg.Data(), lim.Published(meta.Timestamp, skew))
}
