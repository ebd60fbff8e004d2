# Harbor: `make run` runs the whole pipeline locally, `make test` runs every test.

# Every module of the workspace, as package patterns.
PACKAGES := $(shell go list -m -f '{{.Dir}}/...')
GOTEST_FLAGS ?= -race -count=1 -timeout 20m

# Fuzz targets (package:target) run by `make test`, each for FUZZTIME. A count of executions
# (Nx), not a duration: Go 1.26's fuzz coordinator can fail a duration-bound
# run with a spurious "context deadline exceeded" when the machine is busy
# (golang/go#75804, fixed in Go 1.27).
FUZZ_TARGETS := ./pkg/format/jsonbody:FuzzDecodeReading ./pkg/format/jsonbody:FuzzDecodeBatch \
	./pkg/format/lineproto:FuzzDecode ./pkg/format/ndjson:FuzzDecode ./pkg/format/csvbody:FuzzDecode \
	./pkg/schema:FuzzDecodePayload ./pkg/schema:FuzzParseTime ./pkg/schema:FuzzParseNumber
FUZZTIME ?= 300000x

.PHONY: run test deps fmt-check vet build fuzz chaos bench

## run: the whole pipeline on this machine (embedded NATS, local ClickHouse, API, writer)
run:
	go run ./cmd/harbor-local

## test: gofmt check, go vet and every test (unit and integration) of every module
test: deps fmt-check vet
	go test $(GOTEST_FLAGS) $(PACKAGES)
	$(MAKE) fuzz

## chaos: 3 minutes of posting while writers, ClickHouse and NATS are killed at random and NATS's power is cut; then accepted == stored
CHAOS_DURATION ?= 3m
chaos: deps
	CHAOS_DURATION=$(CHAOS_DURATION) go test -count=1 -timeout 30m -run '^TestChaos$$' -v ./e2e/

## bench: the standard load scenarios against a fresh local pipeline; appends the table to docs/benchmarks.md
bench: deps
	@command -v jq >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q jq curl; }
	scripts/bench.sh

## fuzz: run each fuzz target for FUZZTIME (seed corpora in each package's testdata/fuzz)
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; f=$${t##*:}; \
		echo "go test -run='^$$' -fuzz=^$$f\$$ -fuzztime=$(FUZZTIME) $$pkg"; \
		go test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	done

## deps: install ClickHouse and ZooKeeper (Debian's packages) and chDB (ClickHouse 26, npm) when they are missing
deps:
	@scripts/deps.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet $(PACKAGES)

## build: binaries of the services into bin/
build:
	go build -o bin/ingest-api ./services/ingest-api
	go build -o bin/writer ./services/writer
	go build -o bin/harbor-local ./cmd/harbor-local
