#!/usr/bin/env bash
# MinIO (S3) for docplat's tests, benchmarks and local cluster: built from the
# Go module proxy once and cached, run on loopback in erasure-coded mode over
# four directories, stopped by PID.
#
#   scripts/minio.sh build          # builds the pinned MinIO if not cached (~6 min on 2 cores)
#   scripts/minio.sh path           # prints the cached binary's path (exit 1 if not built)
#   scripts/minio.sh up DIR PORT    # serves S3 on 127.0.0.1:PORT from DIR/d1..d4; PID in DIR/minio.pid
#   scripts/minio.sh down DIR       # TERM, then KILL after 10 s, by that PID
#   scripts/minio.sh kill DIR       # KILL at once (crash tests)
#
# Credentials are MINIO_ROOT_USER / MINIO_ROOT_PASSWORD from the environment,
# default docplat / docplat-secret-key. The console listens on PORT+1.
# DOCPLAT_MINIO_CACHE moves the cache (default ~/.cache/docplat/minio).
set -euo pipefail

# One pinned version, so that the cache key is stable and every run tests the
# same server; `go list -m github.com/minio/minio@latest` gives a newer one.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
cache=${DOCPLAT_MINIO_CACHE:-$HOME/.cache/docplat/minio}
bin=$cache/$MINIO_VERSION/minio

log() { printf 'minio: %s\n' "$*" >&2; }

build() {
  [ -x "$bin" ] && return 0
  command -v go >/dev/null || { log "go is needed to build MinIO"; exit 1; }
  log "building MinIO $MINIO_VERSION into $cache (once; about 6 minutes on 2 cores)"
  local tmp
  tmp=$(mktemp -d "$cache.build.XXXXXX" 2>/dev/null || { mkdir -p "$(dirname "$cache")"; mktemp -d "$cache.build.XXXXXX"; })
  # The module is built outside any workspace so that docplat's go.mod plays
  # no part; the binary appears under its final name only once complete.
  (cd "$tmp" && GOBIN="$tmp/bin" GOFLAGS=-mod=mod GOWORK=off nice -n 10 go install "github.com/minio/minio@$MINIO_VERSION")
  mkdir -p "$(dirname "$bin")"
  mv "$tmp/bin/minio" "$bin.tmp" && mv "$bin.tmp" "$bin"
  rm -rf "$tmp"
  log "built $bin"
}

up() { # DIR PORT
  local dir=$1 port=$2
  [ -x "$bin" ] || { log "MinIO is not built: scripts/minio.sh build"; exit 1; }
  mkdir -p "$dir/d1" "$dir/d2" "$dir/d3" "$dir/d4"
  if [ -f "$dir/minio.pid" ] && kill -0 "$(cat "$dir/minio.pid")" 2>/dev/null; then
    log "already running in $dir (pid $(cat "$dir/minio.pid"))"; exit 1
  fi
  # MINIO_CI_CD lets MinIO use directories on the root disk, as here; the
  # {1...4} ellipsis is MinIO's own: four drives, one erasure set.
  MINIO_ROOT_USER=${MINIO_ROOT_USER:-docplat} MINIO_ROOT_PASSWORD=${MINIO_ROOT_PASSWORD:-docplat-secret-key} \
    MINIO_CI_CD=1 MINIO_BROWSER=off MINIO_UPDATE=off \
    setsid "$bin" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:$((port + 1))" \
    "$dir/d{1...4}" >>"$dir/minio.log" 2>&1 </dev/null &
  echo $! >"$dir/minio.pid"
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/minio/health/ready" 2>/dev/null && return 0
    kill -0 "$(cat "$dir/minio.pid")" 2>/dev/null || { log "MinIO exited; its log:"; tail -20 "$dir/minio.log" >&2; exit 1; }
    sleep 0.1
  done
  log "MinIO did not become ready on 127.0.0.1:$port in 30 s"; tail -20 "$dir/minio.log" >&2; exit 1
}

stop() { # DIR SIGNAL
  local f=$1/minio.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$2" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "MinIO ($pid) ignored $2 for 10 s: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

case "${1:-}" in
  build) build ;;
  path) [ -x "$bin" ] || { log "not built: scripts/minio.sh build"; exit 1; }; echo "$bin" ;;
  up) [ $# -eq 3 ] || { log "usage: up DIR PORT"; exit 2; }; up "$2" "$3" ;;
  down) [ $# -eq 2 ] || { log "usage: down DIR"; exit 2; }; stop "$2" TERM ;;
  kill) [ $# -eq 2 ] || { log "usage: kill DIR"; exit 2; }; stop "$2" KILL ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
