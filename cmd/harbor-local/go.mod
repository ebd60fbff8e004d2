module github.com/harbor-ingest/harbor/cmd/harbor-local

go 1.26.8
