#!/usr/bin/env bash
# The whole of docplat on one machine, each part its own process:
#   nginx (hot tier, consistent hash)  :8080   admin 127.0.0.1:8081
#   3 app instances (docplat serve)    127.0.0.1:8091-8093
#   stats service (docplat stats)      127.0.0.1:8090
#   2 hot-document detectors           metrics 127.0.0.1:9301-9302
#   Kafka (docplat kafka, kfake)       127.0.0.1:9092
#   3 Redis nodes (L2 + hot set on the first; Redlock on all three) 6391-6393
#   MariaDB (the machine's, 127.0.0.1:3306): databases docplat_cluster(_stats)
#     (CLUSTER_MYSQL_PORT=N: a server already running on 127.0.0.1:N instead;
#      CLUSTER_REPLICA=1: a primary 3316 and its read replica 3317 of its own)
#     (CLUSTER_MYSQL_PORT=N: a server already running on 127.0.0.1:N instead)
#   CLUSTER_REDIS_CLUSTER=1: L2 and the hot set on a Redis Cluster instead
#     (scripts/redis-cluster.sh, 3 masters + 3 replicas on 7001-7006, or
#     CLUSTER_BASE+43..48 with buses on +34..39); the 3 Redis nodes above
#     stay the Redlock nodes
#
#   scripts/cluster.sh up | down | status | kill NAME
# Every process is started by this script, its PID kept in
# $CLUSTER_DIR/pids/NAME.pid, and stopped by that PID. CLUSTER_BASE=N moves
# every port to N+offset (tests use it to run beside a cluster on defaults).
# CLUSTER_PPROF_BASE=N gives app i a profiler on 127.0.0.1:N+i (/debug/pprof/).
# CLUSTER_S3=1 keeps the blobs in MinIO (scripts/minio.sh, data in
# $CLUSTER_DIR/minio, S3 on 127.0.0.1:9448 or CLUSTER_BASE+23, its console +1;
# bucket "docplat") instead of $CLUSTER_DIR/data/blobs; the apps' settings
# are in $CLUSTER_DIR/blob.env.
# NGINX_WORKER_CONNECTIONS (default 4096 per worker, 2 workers) sizes nginx
# for many concurrent clients; nginx and the apps inherit `ulimit -n`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dir=${CLUSTER_DIR:-$root/.cluster}
if [ -n "${CLUSTER_BASE:-}" ]; then
  b=$CLUSTER_BASE
  NGINX_PORT=$b; NGINX_ADMIN_PORT=$((b + 1)); STATS_PORT=$((b + 10))
  APP_PORTS="$((b + 11)) $((b + 12)) $((b + 13))"; KAFKA_PORT=$((b + 20))
  REDIS_PORTS="$((b + 31)) $((b + 32)) $((b + 33))"; HOTSPOT_PORTS="$((b + 41)) $((b + 42))"
  S3_PORT=$((b + 23))
  REDIS_CLUSTER_PORTS="$((b + 43)) $((b + 44)) $((b + 45)) $((b + 46)) $((b + 47)) $((b + 48))"
  REDIS_CLUSTER_BUS_PORTS="$((b + 34)) $((b + 35)) $((b + 36)) $((b + 37)) $((b + 38)) $((b + 39))"
fi
S3_PORT=${S3_PORT:-9448}
NGINX_PORT=${NGINX_PORT:-8080}
NGINX_ADMIN_PORT=${NGINX_ADMIN_PORT:-8081}
STATS_PORT=${STATS_PORT:-8090}
APP_PORTS=${APP_PORTS:-"8091 8092 8093"}
KAFKA_PORT=${KAFKA_PORT:-9092}
REDIS_PORTS=${REDIS_PORTS:-"6391 6392 6393"}
HOTSPOT_PORTS=${HOTSPOT_PORTS:-"9301 9302"}
DB=${CLUSTER_DB:-docplat_cluster}
MYSQL_PORT=${CLUSTER_MYSQL_PORT:-3306}
# CLUSTER_REPLICA=1: the cluster's MariaDB is a primary and a replica of its
# own (scripts/mariadb-pair.sh, in $dir/mariadb-pair, on CLUSTER_BASE+21 and
# +22, or 3316 and 3317), and the apps read from the replica
# (DOCPLAT_MYSQL_REPLICA_DSNS).
if [ "${CLUSTER_REPLICA:-}" = 1 ]; then
  [ -n "${CLUSTER_BASE:-}" ] && PAIR_PRIMARY_PORT=$((CLUSTER_BASE + 21)) PAIR_REPLICA_PORT=$((CLUSTER_BASE + 22))
  export PAIR_DIR=$dir/mariadb-pair PAIR_PRIMARY_PORT=${PAIR_PRIMARY_PORT:-3316} PAIR_REPLICA_PORT=${PAIR_REPLICA_PORT:-3317}
  MYSQL_PORT=$PAIR_PRIMARY_PORT
fi
ADMIN_PASSWORD=${CLUSTER_ADMIN_PASSWORD:-docplat-admin-pw}
BIN=$dir/docplat

log() { printf 'cluster: %s\n' "$*" >&2; }

# start NAME CMD...: runs CMD in its own session, logs to logs/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 < /dev/null &
  echo $! >"$dir/pids/$name.pid"
}

alive() { [ -f "$dir/pids/$1.pid" ] && kill -0 "$(cat "$dir/pids/$1.pid")" 2>/dev/null; }

wait_http() { # URL NAME
  for _ in $(seq 1 150); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    alive "$2" || { log "$2 exited; its log:"; tail -20 "$dir/logs/$2.log" >&2; return 1; }
    sleep 0.2
  done
  log "$2 did not answer $1 in 30s"; tail -20 "$dir/logs/$2.log" >&2; return 1
}

wait_port() { # PORT NAME
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    alive "$2" || { log "$2 exited; its log:"; tail -20 "$dir/logs/$2.log" >&2; return 1; }
    sleep 0.2
  done
  log "$2 did not listen on $1 in 30s"; return 1
}

stop_pid() { # NAME
  local f=$dir/pids/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$1 ($pid) ignored TERM for 10s: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

up() {
  if ls "$dir"/pids/*.pid >/dev/null 2>&1; then
    log "already up in $dir (scripts/cluster.sh down first)"; exit 1
  fi
  mkdir -p "$dir/pids" "$dir/logs" "$dir/data"
  "$root/scripts/nginx-install.sh"
  if [ "${CLUSTER_REPLICA:-}" = 1 ]; then "$root/scripts/mariadb-pair.sh" up; fi
  mariadb -uroot -h127.0.0.1 -P"$MYSQL_PORT" -e 'SELECT 1' >/dev/null 2>&1 || [ "$MYSQL_PORT" != 3306 ] || {
    log "starting MariaDB"; start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    for _ in $(seq 1 60); do mariadb -uroot -h127.0.0.1 -e 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done
  }
  log "building docplat"
  go build -o "$BIN" ./cmd/docplat
  if [ ! -f "$dir/secrets.env" ]; then
    { echo "DOCPLAT_INTERNAL_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
      echo "DOCPLAT_READ_TOKEN_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"; } >"$dir/secrets.env"
    chmod 600 "$dir/secrets.env"
  fi
  set -a; . "$dir/secrets.env"; set +a

  local i=0 p
  for p in $REDIS_PORTS; do
    i=$((i + 1))
    start "redis$i" redis-server --bind 127.0.0.1 --port "$p" --save "" --appendonly no
  done
  for p in $REDIS_PORTS; do wait_port "$p" "redis1"; done
  start kafka "$BIN" kafka --kafka-addr "127.0.0.1:$KAFKA_PORT" --log-format text
  wait_port "$KAFKA_PORT" kafka

  mariadb -uroot -h127.0.0.1 -P"$MYSQL_PORT" -e "CREATE DATABASE IF NOT EXISTS \`$DB\`; CREATE DATABASE IF NOT EXISTS \`${DB}_stats\`"
  local redis=($REDIS_PORTS) apps=($APP_PORTS) hs=($HOTSPOT_PORTS)
  export DOCPLAT_MYSQL_DSN="root@tcp(127.0.0.1:$MYSQL_PORT)/$DB"
  export DOCPLAT_STATS_MYSQL_DSN="root@tcp(127.0.0.1:$MYSQL_PORT)/${DB}_stats"
  export DOCPLAT_DATA_DIR="$dir/data"
  if [ "${CLUSTER_REPLICA:-}" = 1 ]; then export DOCPLAT_MYSQL_REPLICA_DSNS="root@tcp(127.0.0.1:$PAIR_REPLICA_PORT)/$DB"; fi
  export DOCPLAT_REDIS_ADDR="127.0.0.1:${redis[0]}"
  if [ "${CLUSTER_REDIS_CLUSTER:-}" = 1 ]; then
    log "starting a Redis Cluster for L2"
    unset DOCPLAT_REDIS_ADDR
    DOCPLAT_REDIS_CLUSTER_ADDRS=$(REDIS_CLUSTER_DIR="$dir/redis-cluster" REDIS_CLUSTER_PORTS="${REDIS_CLUSTER_PORTS:-7001 7002 7003 7004 7005 7006}" \
      REDIS_CLUSTER_BUS_PORTS="${REDIS_CLUSTER_BUS_PORTS:-}" "$root/scripts/redis-cluster.sh" up)
    export DOCPLAT_REDIS_CLUSTER_ADDRS
  fi
  export DOCPLAT_LOCK_REDIS_ADDRS="127.0.0.1:${redis[0]},127.0.0.1:${redis[1]},127.0.0.1:${redis[2]}"
  export DOCPLAT_KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT"
  export DOCPLAT_NGINX_ADMIN="http://127.0.0.1:$NGINX_ADMIN_PORT"
  export DOCPLAT_TRUSTED_PROXIES=127.0.0.1
  export DOCPLAT_LOG_FORMAT=text
  "$BIN" migrate >/dev/null
  "$BIN" user create --username admin --password "$ADMIN_PASSWORD" --role admin >/dev/null 2>&1 || true

  if [ "${CLUSTER_S3:-}" = 1 ]; then up_s3; fi
  start stats "$BIN" stats --stats-addr "127.0.0.1:$STATS_PORT" --coordinator-url "http://127.0.0.1:${apps[0]}"
  export DOCPLAT_STATS_URL="http://127.0.0.1:$STATS_PORT"
  local upstreams=""
  i=0
  for p in "${apps[@]}"; do
    i=$((i + 1))
    # CLUSTER_PPROF_BASE=N: app i serves Go's profiler on 127.0.0.1:N+i.
    DOCPLAT_HOTSPOT_DETECTOR=false DOCPLAT_DEBUG_ADDR=${CLUSTER_PPROF_BASE:+127.0.0.1:$((${CLUSTER_PPROF_BASE:-0} + i))} \
      start "app$i" "$BIN" serve --addr "127.0.0.1:$p"
    upstreams="$upstreams,127.0.0.1:$p"
  done
  i=0
  for p in "${hs[@]}"; do
    i=$((i + 1))
    start "hotspot$i" "$BIN" hotspot --hotspot-addr "127.0.0.1:$p"
  done
  start nginx "$BIN" nginx --prefix "$dir/nginx" --listen "127.0.0.1:$NGINX_PORT" \
    --admin-listen "127.0.0.1:$NGINX_ADMIN_PORT" --upstreams "${upstreams#,}" --workers 2 \
    --worker-connections "${NGINX_WORKER_CONNECTIONS:-4096}"

  wait_http "http://127.0.0.1:$STATS_PORT/healthz" stats
  i=0
  for p in "${apps[@]}"; do i=$((i + 1)); wait_http "http://127.0.0.1:$p/readyz" "app$i"; done
  i=0
  for p in "${hs[@]}"; do i=$((i + 1)); wait_http "http://127.0.0.1:$p/healthz" "hotspot$i"; done
  wait_http "http://127.0.0.1:$NGINX_PORT/healthz" nginx
  log "up: http://127.0.0.1:$NGINX_PORT (admin / $ADMIN_PASSWORD); logs in $dir/logs; scripts/cluster.sh down stops it"
}

# up_s3 starts MinIO and writes the apps' blob settings to blob.env (which
# localcluster's extra apps read too).
up_s3() {
  "$root/scripts/minio.sh" build
  "$root/scripts/minio.sh" up "$dir/minio" "$S3_PORT"
  # /minio/health/ready answers before the object layer does.
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$S3_PORT/minio/health/cluster" 2>/dev/null && break
    sleep 0.1
  done
  { echo "DOCPLAT_BLOB_S3_ENDPOINT=127.0.0.1:$S3_PORT"; echo "DOCPLAT_BLOB_S3_BUCKET=docplat"
    echo "DOCPLAT_BLOB_S3_ACCESS_KEY=${MINIO_ROOT_USER:-docplat}"; echo "DOCPLAT_BLOB_S3_SECRET_KEY=${MINIO_ROOT_PASSWORD:-docplat-secret-key}"
    echo "DOCPLAT_BLOB_S3_TLS=false"; echo "DOCPLAT_BLOB_S3_CREATE_BUCKET=true"; } >"$dir/blob.env"
  chmod 600 "$dir/blob.env"
  set -a; . "$dir/blob.env"; set +a
}

down() {
  local n
  # Front to back: nginx first, the stores last.
  for n in nginx app1 app2 app3 hotspot1 hotspot2 stats kafka redis1 redis2 redis3; do stop_pid "$n"; done
  for f in "$dir"/pids/*.pid; do [ -f "$f" ] && stop_pid "$(basename "$f" .pid)"; done
  if [ -f "$dir/minio/minio.pid" ]; then "$root/scripts/minio.sh" down "$dir/minio" || true; rm -f "$dir/minio/minio.pid" "$dir/blob.env"; fi
  if [ -d "$dir/mariadb-pair/pids" ]; then PAIR_DIR=$dir/mariadb-pair "$root/scripts/mariadb-pair.sh" down; fi
  if [ -d "$dir/redis-cluster/pids" ]; then
    REDIS_CLUSTER_DIR="$dir/redis-cluster" REDIS_CLUSTER_PORTS="${REDIS_CLUSTER_PORTS:-7001 7002 7003 7004 7005 7006}" \
      "$root/scripts/redis-cluster.sh" down
  fi
  log "down"
}

status() {
  local f n
  for f in "$dir"/pids/*.pid; do
    [ -f "$f" ] || continue
    n=$(basename "$f" .pid)
    if alive "$n"; then echo "$n up (pid $(cat "$f"))"; else echo "$n DOWN"; fi
  done
  if [ -f "$dir/minio/minio.pid" ]; then
    if kill -0 "$(cat "$dir/minio/minio.pid")" 2>/dev/null; then echo "minio up (pid $(cat "$dir/minio/minio.pid"))"; else echo "minio DOWN"; fi
  fi
  if [ -d "$dir/mariadb-pair/pids" ]; then PAIR_DIR=$dir/mariadb-pair "$root/scripts/mariadb-pair.sh" status; fi
  if ls "$dir"/redis-cluster/pids/*.pid >/dev/null 2>&1; then
    REDIS_CLUSTER_DIR="$dir/redis-cluster" REDIS_CLUSTER_PORTS="${REDIS_CLUSTER_PORTS:-7001 7002 7003 7004 7005 7006}" \
      "$root/scripts/redis-cluster.sh" status
  fi
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
kill) [ -n "${2:-}" ] || { echo "usage: $0 kill NAME" >&2; exit 2; }
  kill -KILL "$(cat "$dir/pids/$2.pid")"; rm -f "$dir/pids/$2.pid"; log "killed $2 (-9)" ;;
*) echo "usage: $0 up|down|status|kill NAME" >&2; exit 2 ;;
esac
