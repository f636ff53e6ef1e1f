# Every developer and CI command. `make run` starts Vega; `make test` runs every test.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
GO ?= go
GOTESTFLAGS ?= -count=1 -timeout 20m

.PHONY: all build build-go ui run aws-rehearsal test test-go test-ui test-e2e lint bench fuzz chaos docs check-docs deploy-check clean

all: build

## ui: build the dashboard into ui/dist (kept out of git; ui/dist/.keep stays)
ui: ui/node_modules/.package-lock.json
	rm -rf ui/dist/assets ui/dist/index.html
	cd ui && npm run build

ui/node_modules/.package-lock.json: ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund

## build: bin/vega with the dashboard embedded
build: ui build-go

## build-go: bin/vega from whatever ui/dist holds (a build hint page when empty); the flags
## (static, -trimpath, version stamp) live in scripts/build-vega.sh, shared with deploy/Dockerfile
build-go:
	VERSION='$(VERSION)' GO='$(GO)' ./scripts/build-vega.sh bin/vega

## run: build and start on http://127.0.0.1:8000 (sign in: debug@example.com / vega-debug-password)
run: build
	./bin/vega serve

## aws-rehearsal: the AWS runtime on this machine, no account (docs/deploy-aws.md, "Local rehearsal"):
## Postgres (VEGA_DATABASE_URL or a fresh vega_rehearsal database on the local server), the AWS
## emulator with a local Fargate, and serve + 2 workers + llm-proxy; prints where to sign in; Ctrl-C stops all
aws-rehearsal: build
	$(GO) run ./testutil/awsemu/cmd/rehearsal -vega bin/vega

## test: lint, Go tests (store contract on bolt and Postgres, API, engines…), UI unit tests, browser e2e
test: lint build test-go test-ui test-e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(MAKE) --no-print-directory check-docs

test-go:
	$(GO) test $(GOTESTFLAGS) ./...
	# The API suite again, on Postgres (needs VEGA_TEST_DATABASE_URL; .ci/postgres.sh sets it).
	VEGA_TEST_STORE=postgres $(GO) test $(GOTESTFLAGS) ./app/server/ ./app/api/
	# And with files in S3 (the in-process AWS emulator; no account needed).
	VEGA_TEST_BLOBS=s3 $(GO) test $(GOTESTFLAGS) ./app/server/ ./app/api/

test-ui: ui/node_modules/.package-lock.json
	cd ui && npm test

test-e2e: build
	cd ui && VEGA_BIN=$(CURDIR)/bin/vega npm run e2e

## deploy-check: the AWS deployment (deploy/aws, docs/deploy-aws.md): synthesize the CDK stack with
## cdk-nag's AWS Solutions rules (any unacknowledged finding fails), then its infrastructure tests,
## including each role's environment against bin/vega's configuration checks. Offline but for npm.
deploy-check: build-go deploy/aws/node_modules/.package-lock.json
	cd deploy/aws && VEGA_BIN=$(CURDIR)/bin/vega npm test

deploy/aws/node_modules/.package-lock.json: deploy/aws/package-lock.json
	cd deploy/aws && npm ci --no-audit --no-fund

## bench: the benchmarks behind the bars in docs/benchmarks.md (needs VEGA_TEST_DATABASE_URL;
## the 20,000-file ones take several minutes each; BENCH_SMALL=1 shrinks them)
bench: build-go
	./scripts/bench-startup.sh bin/vega
	./scripts/bench-upload.sh bin/vega 1024
	./scripts/bench-upload.sh bin/vega 1024 s3
	VEGA_BENCH_SMALL=$(BENCH_SMALL) $(GO) test -run '^$$' -bench FileView20k -benchtime 300x -timeout 60m ./app/server/
	$(GO) test -run '^$$' -bench . -benchtime 2s ./store/bolt/ ./store/postgres/
	$(GO) test -run '^$$' -bench FindingsList10k -benchtime 50x -timeout 30m ./app/findings/
	$(GO) test -run '^$$' -bench BulkTriage10k -benchtime 5x -timeout 30m ./app/findings/
	$(GO) test -run '^$$' -bench Overhead -benchtime 5000x -count 3 ./app/llmproxy/
	VEGA_BENCH_SMALL=$(BENCH_SMALL) $(GO) test -run '^$$' -bench IngestVsUnzip -benchtime 1x -timeout 60m ./app/ingest/
	$(GO) test -run '^$$' -bench 'BenchmarkSecrets$$' -benchtime 1x -timeout 60m ./app/engine/secrets/
	$(GO) test -run '^$$' -bench BenchmarkSecretsRepo -benchtime 1x -timeout 60m ./app/engine/secrets/
	$(GO) test -run '^$$' -bench BenchmarkScanRepo -benchtime 2x -timeout 60m ./app/runner/
	$(GO) test -run '^$$' -bench BenchmarkScan20k -benchtime 1x -timeout 60m ./app/runner/
	VEGA_BENCH_SMALL=$(BENCH_SMALL) $(GO) test -run '^$$' -bench BenchmarkScanCLI20k -benchtime 2x -timeout 90m ./app/cli/scan/
	$(GO) test -run '^$$' -bench EnqueueToRunning -benchtime 20x -timeout 20m ./dispatch/

## chaos: the chaos rounds (cmd/vega/chaos_test.go: kill -9 of `vega serve` on bolt and of
## `vega worker` on Postgres at random moments, then the invariants) with CHAOS_ROUNDS rounds each
## (default 30; test-go runs 5). Needs VEGA_TEST_DATABASE_URL; VEGA_CHAOS_SEED replays a run.
CHAOS_ROUNDS ?= 30
chaos:
	VEGA_CHAOS_ROUNDS=$(CHAOS_ROUNDS) $(GO) test -count=1 -timeout 90m -run '^TestChaos' -v ./cmd/vega/ 2>&1 | grep -E '^(=== RUN|--- |\s+chaos_test|ok|FAIL|PASS)'

## fuzz: every fuzz target for FUZZTIME (10s) each; a crasher lands in the package's
## testdata/fuzz/<Target>/ to be committed (scripts/fuzz.sh)
FUZZTIME ?= 10s
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

## docs: regenerate the environment variable table in README.md
docs:
	$(GO) run ./scripts/envdocs -write README.md

check-docs:
	$(GO) run ./scripts/envdocs -check README.md

clean:
	rm -rf bin ui/dist/assets ui/dist/index.html ui/dist/config.json deploy/aws/dist deploy/aws/cdk.out
