# zkgo: Apache ZooKeeper rebuilt in Go.

GO ?= go

.PHONY: run build test test-short bench fmt vet

# Run a standalone server on 127.0.0.1:2181 with its data in ./data.
run:
	$(GO) run ./cmd/zkserver start-foreground

# Build the three commands (zkserver, zkcli, zkbench) into ./bin.
build:
	$(GO) build -o bin/ ./cmd/...

# Every test, with the race detector and without the test cache (several
# suites start server binaries the cache cannot see); then the client and recipes suites once more
# against Apache ZooKeeper, so both servers pass the same suite. Interop and differential tests need the
# Debian packages that .ci/run installs; without them they skip (unless
# ZKGO_INTEROP_REQUIRED=1, as in CI).
test:
	$(GO) test -race -count=1 -timeout 18m ./...
	ZKGO_TEST_TARGET=apache $(GO) test -race -count=1 -timeout 8m ./client/ ./recipes/...

test-short:
	$(GO) test -short ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -l -w .

vet:
	$(GO) vet ./...
