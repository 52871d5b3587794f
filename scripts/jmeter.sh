#!/usr/bin/env bash
# Runs the JMeter plan loadtest/jmeter/docplat.jmx headless against docplat,
# once per concurrency step, and summarizes each results file with
# `docplat-bench jtl summary`. Fails (non-zero, with a message) when JMeter
# wrote no results or a results file has no samples: Debian's JMeter 2.13
# exits 0 even when it could not load the plan.
#
#   scripts/jmeter.sh                      # embedded server, steps 100 500 1000 5000 10000
#   scripts/jmeter.sh -steps "100 500" -duration 20 -ramp 5
#   scripts/jmeter.sh -host 10.0.0.5 -port 8080 -user admin -password secret
#
# Options: -host/-port (a running server; default: start one in embedded mode
# on a free port with a temp data dir), -user/-password (default admin and the
# embedded server's password), -steps "users ...", -duration s, -ramp s,
# -docs n, -corpus dir, -plan file.jmx, -out dir (default .tmp/jmeter/<time>).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
host="" port="" user=admin password="" steps="100 500 1000 5000 10000"
duration=30 ramp=10 docs=200 corpus=/work/shared/corpus
plan="$repo/loadtest/jmeter/docplat.jmx" out=""
heap=${JMETER_HEAP:-1g}

die() { printf 'jmeter.sh: FAIL: %s\n' "$*" >&2; exit 1; }
log() { printf 'jmeter.sh: %s\n' "$*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    -host) host=$2; shift 2 ;;
    -port) port=$2; shift 2 ;;
    -user) user=$2; shift 2 ;;
    -password) password=$2; shift 2 ;;
    -steps) steps=$2; shift 2 ;;
    -duration) duration=$2; shift 2 ;;
    -ramp) ramp=$2; shift 2 ;;
    -docs) docs=$2; shift 2 ;;
    -corpus) corpus=$2; shift 2 ;;
    -plan) plan=$2; shift 2 ;;
    -out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see -h)" ;;
  esac
done
[ -f "$plan" ] || die "no plan at $plan"
for s in $steps; do [[ "$s" =~ ^[1-9][0-9]*$ ]] || die "-steps: '$s' is not a number of users"; done
[ -d "$corpus" ] || corpus=""

# JMeter itself (Debian's 2.13 with Java 17).
if [ ! -d /usr/share/jmeter/lib/ext ] || ! command -v javac >/dev/null; then
  log "installing jmeter (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq jmeter default-jdk-headless >/dev/null
fi

out=${out:-"$repo/.tmp/jmeter/$(date +%Y%m%d-%H%M%S)"}
mkdir -p "$out"
out=$(cd "$out" && pwd)
build="$repo/.tmp/jmeter-build"
mkdir -p "$build"

# The XStream workaround: a launcher compiled here, never committed.
jars=/usr/share/jmeter/bin/ApacheJMeter.jar
for j in /usr/share/jmeter/lib/*.jar /usr/share/jmeter/lib/ext/*.jar; do jars="$jars:$j"; done
src="$repo/loadtest/jmeter/launcher/XStreamFixLauncher.java"
if [ ! -f "$build/XStreamFixLauncher.class" ] || [ "$src" -nt "$build/XStreamFixLauncher.class" ]; then
  javac -nowarn -d "$build" -cp "$jars" "$src" || die "could not compile the JMeter launcher"
fi

log "building docplat and docplat-bench"
(cd "$repo" && go build -o "$build/docplat" ./cmd/docplat && go build -o "$build/docplat-bench" ./cmd/docplat-bench) ||
  die "go build failed"
docplat="$build/docplat" tools="$build/docplat-bench"

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -n "${datadir:-}" ]; then rm -rf "$datadir"; fi
}
trap cleanup EXIT

if [ -z "$host" ]; then
  datadir=$(mktemp -d)
  password=${password:-jmeter-admin-$RANDOM$RANDOM}
  # A free port: one nothing answers on (the server's log level stays at
  # warn, so it never prints its address and never logs each request).
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  host=127.0.0.1
  DOCPLAT_ADMIN_PASSWORD=$password DOCPLAT_LOG_LEVEL=warn \
    "$docplat" serve --addr "$host:$port" --data-dir "$datadir" >"$out/server.log" 2>&1 &
  server_pid=$!
  up=""
  for _ in $(seq 1 150); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then up=1; break; fi
    kill -0 "$server_pid" 2>/dev/null || die "docplat did not start: $(tail -5 "$out/server.log")"
    sleep 0.2
  done
  [ -n "$up" ] || die "docplat did not listen on $host:$port within 30 s (see $out/server.log)"
  log "embedded docplat on $host:$port (pid $server_pid, data $datadir)"
fi
[ -n "$port" ] || die "-host needs -port"
[ -n "$password" ] || die "-user needs -password for a running server"

log "seeding $docs documents"
"$tools" loadgen -url "http://$host:$port" -user "$user" -password "$password" -docs "$docs" -reuse \
  ${corpus:+-corpus "$corpus"} -seed-only -ids-csv "$out/ids.csv" -words-csv "$out/words.csv" \
  -token-out "$out/token" || die "seeding failed"
printf 'docplat JMeter upload\nuploaded by loadtest/jmeter/docplat.jmx\n' >"$out/upload.txt"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
status=0
for threads in $steps; do
  jtl="$out/step-$threads.jtl"
  log "step: $threads users, ramp ${ramp}s, ${duration}s -> $jtl"
  java -Xmx"$heap" -Xss256k -Djmeter.home=/usr/share/jmeter -cp "$build:$jars" XStreamFixLauncher \
    -n -t "$plan" -l "$jtl" -j "$out/jmeter-$threads.log" \
    -Jhost="$host" -Jport="$port" -Jtoken="$(cat "$out/token")" \
    -Jthreads="$threads" -Jramp="$ramp" -Jduration="$duration" \
    -Jids="$out/ids.csv" -Jwords="$out/words.csv" -Jupload_file="$out/upload.txt" \
    -Jjmeter.save.saveservice.output_format=csv -Jjmeter.save.saveservice.print_field_names=true \
    -Jsampleresult.timestamp.start=true >"$out/jmeter-$threads.out" 2>&1 || true
  if grep -q 'ForbiddenClassException' "$out/jmeter-$threads.out" "$out/jmeter-$threads.log" 2>/dev/null; then
    die "JMeter refused the plan (XStream ForbiddenClassException) despite the launcher; see $out/jmeter-$threads.out"
  fi
  [ -s "$jtl" ] || die "JMeter wrote no results for $threads users (see $out/jmeter-$threads.out and .log)"
  echo "== $threads users =="
  "$tools" jtl summary -json "$out/step-$threads.json" "$jtl" || { log "step $threads users: no usable results"; status=1; }
done
[ $status -eq 0 ] || die "at least one step recorded no successful samples"
log "results in $out"
