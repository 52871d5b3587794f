# docplat: `make run` serves (embedded mode, nothing to install),
# `make test` sets up MariaDB/Redis if needed and runs every test.
GO       ?= go
BIN      := bin/docplat
VERSION  ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X docplat/internal/buildinfo.version=$(VERSION)

.PHONY: all build run test test-unit bench bench-suite bench-go bench-e2e bench-blob jmeter cluster-up cluster-down vet fmt-check clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/docplat
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN)-bench ./cmd/docplat-bench

# Embedded mode by default; set DOCPLAT_MYSQL_DSN (and DOCPLAT_MIGRATE=true) for MariaDB.
run: build
	./$(BIN) serve

# Every test, on the real MariaDB and in embedded mode.
test: vet fmt-check
	./scripts/test-deps.sh
	$(GO) test -count=1 -timeout 15m ./...
	# The e2e cluster again in the scaled-out shape: blobs on MinIO, L2 on a
	# Redis Cluster, reads from a MariaDB replica (the same tests).
	DOCPLAT_E2E_SHAPE=scaled $(GO) test -count=1 -timeout 10m ./e2e

# Without MariaDB: unit tests and the embedded-mode integration tests only.
test-unit:
	DOCPLAT_TEST_SKIP_MYSQL=1 $(GO) test -count=1 ./...

# The benchmark suite (docplat-bench suite, package benchsuite: ~6 min on 2 cores):
# a cluster of its own on free loopback ports, the baselines and docplat's
# paths in one run, the offered-load curves and the reference table; it
# writes bench/results/<time>.{json,txt,md} and bench/plots/*.svg. Then the
# in-process Go benchmarks (~3 min) with their ratios. Loopback only.
# BENCH_ARGS=-quick for a smoke run of under a minute.
BENCH_ARGS ?=
bench: bench-suite bench-go bench-e2e bench-blob

bench-suite:
	./scripts/test-deps.sh
	$(GO) run ./cmd/docplat-bench suite $(BENCH_ARGS)

bench-go:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 3s -count 1 ./cmd/docplat 2>/dev/null | awk -f scripts/bench-ratios.awk
	$(GO) test -run '^$$' -bench HitRatio -benchtime 1x ./cache 2>/dev/null | grep -E '^(Benchmark|ok)'
	$(GO) test -run '^$$' -bench . -benchtime 2s -cpu 1 ./hotspot 2>/dev/null | grep -E '^(Benchmark|ok)'

# Burst-to-hot timing and hot tier vs static with wrk (a cluster of their own).
bench-e2e:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./e2e 2>/dev/null | grep -E '^(Benchmark|ok|FAIL)'

# Blob reads, 10 KB and 10 MB, from the data directory and from MinIO (S3) in
# one run: MB/s and S3's throughput relative to the directory (~30 s).
bench-blob:
	$(GO) test -run '^$$' -bench Read -benchtime 2s -count 1 ./blob/s3blob 2>/dev/null | awk -f scripts/bench-ratios.awk

# The whole system on this machine, each part its own process (see documentation/operations.md, "The local cluster"):
# nginx :8080 -> 3 app instances, stats, 2 detectors, Kafka (kfake), 3 Redis, MariaDB.
cluster-up:
	./scripts/cluster.sh up

cluster-down:
	./scripts/cluster.sh down

# JMeter plan against an embedded server, stepped 100..10,000 users (installs
# Debian's jmeter if missing); e.g. make jmeter JMETER_ARGS='-steps "100 500" -duration 20'.
JMETER_ARGS ?=
jmeter:
	./scripts/jmeter.sh $(JMETER_ARGS)

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
