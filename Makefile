# docplat: `make run` serves (embedded mode, nothing to install),
# `make test` sets up MariaDB/Redis if needed and runs every test.
GO       ?= go
BIN      := bin/docplat
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: all build run test test-unit bench vet fmt-check clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/docplat

# Embedded mode by default; set DOCPLAT_MYSQL_DSN (and DOCPLAT_MIGRATE=true) for MariaDB.
run: build
	./$(BIN) serve

# Every test, on the real MariaDB and in embedded mode.
test: vet fmt-check
	./scripts/test-deps.sh
	$(GO) test -count=1 -timeout 15m ./...

# Without MariaDB: unit tests and the embedded-mode integration tests only.
test-unit:
	DOCPLAT_TEST_SKIP_MYSQL=1 $(GO) test -count=1 ./...

# Benchmarks that back the figures in README (MariaDB must be up: see make test).
bench:
	./scripts/test-deps.sh
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s -count 1 ./cmd/docplat 2>/dev/null | awk -f scripts/bench-ratios.awk
	$(GO) test -run '^$$' -bench HitRatio -benchtime 1x ./cache 2>/dev/null | grep -E '^(Benchmark|ok)'

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
