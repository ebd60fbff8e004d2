module github.com/harbor-ingest/harbor/cmd/harborctl

go 1.26.8

replace (
	github.com/harbor-ingest/harbor/pkg/app => ../../pkg/app
	github.com/harbor-ingest/harbor/pkg/devenv => ../../pkg/devenv
	github.com/harbor-ingest/harbor/pkg/stream => ../../pkg/stream
	github.com/harbor-ingest/harbor/pkg/tenant => ../../pkg/tenant
)

require (
	github.com/harbor-ingest/harbor/pkg/app v0.0.0-00010101000000-000000000000
	github.com/harbor-ingest/harbor/pkg/stream v0.0.0-00010101000000-000000000000
	github.com/harbor-ingest/harbor/pkg/tenant v0.0.0-00010101000000-000000000000
)

require (
	github.com/caarlos0/env/v11 v11.4.2 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/nats-io/nats.go v1.55.0 // indirect
	github.com/nats-io/nkeys v0.4.16 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
