// Command writer moves readings from NATS JetStream into ClickHouse. Run as
// many as you like: they share one durable consumer. Settings come from the
// environment; see the README for the list.
package main

import (
	"github.com/harbor-ingest/harbor/pkg/app"
	"github.com/harbor-ingest/harbor/services/writer/service"
)

func main() {
	app.Main("writer", service.Run)
}
