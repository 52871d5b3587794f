#!/usr/bin/env bash
# A Redis Cluster on this machine for docplat's L2 cache: 3 masters and 3
# replicas of /usr/bin/redis-server on 127.0.0.1, joined by
# `redis-cli --cluster create --cluster-replicas 1`.
#
#   scripts/redis-cluster.sh up | down | status | kill PORT | addrs
#
# REDIS_CLUSTER_DIR   where nodes, logs and PIDs live (default .redis-cluster)
# REDIS_CLUSTER_PORTS the 6 client ports (default "7001 7002 7003 7004 7005 7006")
# REDIS_CLUSTER_BUS_PORTS their cluster bus ports, in the same order (default:
#                     each port + 10000)
# REDIS_CLUSTER_REPLICAS replicas per master (default 1; ports = masters x (1+replicas))
# Every process is started by this script, its PID kept in
# $REDIS_CLUSTER_DIR/pids/redis-PORT.pid and stopped by that PID. No
# persistence (the cache is rebuilt from the database): `down` removes the
# nodes' state, `up` creates a new cluster. `up` prints the seed list for
# DOCPLAT_REDIS_CLUSTER_ADDRS on stdout; `addrs` prints it again.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

dir=${REDIS_CLUSTER_DIR:-$root/.redis-cluster}
PORTS=${REDIS_CLUSTER_PORTS:-"7001 7002 7003 7004 7005 7006"}
BUS_PORTS=${REDIS_CLUSTER_BUS_PORTS:-}
REPLICAS=${REDIS_CLUSTER_REPLICAS:-1}
NODE_TIMEOUT=${REDIS_CLUSTER_NODE_TIMEOUT:-2000}

log() { printf 'redis-cluster: %s\n' "$*" >&2; }

alive() { [ -f "$dir/pids/redis-$1.pid" ] && kill -0 "$(cat "$dir/pids/redis-$1.pid")" 2>/dev/null; }

addrs() {
  local out="" p
  for p in $PORTS; do out="$out,127.0.0.1:$p"; done
  echo "${out#,}"
}

stop_pid() { # PORT
  local f=$dir/pids/redis-$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "redis $1 ($pid) ignored TERM for 5s: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

up() {
  if ls "$dir"/pids/*.pid >/dev/null 2>&1; then
    log "already up in $dir (scripts/redis-cluster.sh down first)"; exit 1
  fi
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { log "redis-server and redis-cli are needed (apt-get install redis-server)"; exit 1; }
  mkdir -p "$dir/pids" "$dir/logs"
  local p bus=($BUS_PORTS) i=0
  for p in $PORTS; do
    rm -rf "$dir/nodes/$p"; mkdir -p "$dir/nodes/$p"
    # Partial coverage: while one shard fails over the others answer.
    # No diskless-sync delay: a rejoining replica syncs at once.
    setsid redis-server --port "$p" --bind 127.0.0.1 --dir "$dir/nodes/$p" --save "" --appendonly no \
      --cluster-enabled yes --cluster-port "${bus[$i]:-$((p + 10000))}" --cluster-config-file nodes.conf \
      --cluster-node-timeout "$NODE_TIMEOUT" \
      --cluster-require-full-coverage no --repl-diskless-sync-delay 0 \
      >"$dir/logs/redis-$p.log" 2>&1 </dev/null &
    echo $! >"$dir/pids/redis-$p.pid"
    i=$((i + 1))
  done
  for p in $PORTS; do
    for _ in $(seq 1 100); do
      redis-cli -p "$p" ping >/dev/null 2>&1 && break
      alive "$p" || { log "redis $p exited; its log:"; tail -20 "$dir/logs/redis-$p.log" >&2; exit 1; }
      sleep 0.1
    done
  done
  # shellcheck disable=SC2046
  redis-cli --cluster create $(addrs | tr ',' ' ') --cluster-replicas "$REPLICAS" --cluster-yes >"$dir/logs/create.log" 2>&1 ||
    { log "redis-cli --cluster create failed:"; tail -20 "$dir/logs/create.log" >&2; exit 1; }
  for p in $PORTS; do
    for i in $(seq 1 200); do
      redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' && break
      [ "$i" = 200 ] && { log "redis $p: cluster_state not ok after 20s"; exit 1; }
      sleep 0.1
    done
  done
  log "up: $(echo $PORTS | wc -w) nodes, $REPLICAS replica(s) per master; logs in $dir/logs"
  addrs
}

down() {
  local p
  for p in $PORTS; do stop_pid "$p"; done
  for f in "$dir"/pids/*.pid; do [ -f "$f" ] && stop_pid "$(basename "$f" .pid | sed 's/^redis-//')"; done
  rm -rf "$dir/nodes"
  log "down"
}

status() {
  local p role
  for p in $PORTS; do
    if alive "$p"; then
      role=$(redis-cli -p "$p" role 2>/dev/null | head -1)
      echo "redis $p up (pid $(cat "$dir/pids/redis-$p.pid"), $role)"
    else
      echo "redis $p DOWN"
    fi
  done
  for p in $PORTS; do
    alive "$p" && { redis-cli -p "$p" cluster info | grep -E '^cluster_(state|slots_ok|known_nodes|size):'; break; }
  done
  return 0
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
addrs) addrs ;;
kill) [ -n "${2:-}" ] || { echo "usage: $0 kill PORT" >&2; exit 2; }
  kill -KILL "$(cat "$dir/pids/redis-$2.pid")"; rm -f "$dir/pids/redis-$2.pid"; log "killed redis $2 (-9)" ;;
*) echo "usage: $0 up|down|status|addrs|kill PORT" >&2; exit 2 ;;
esac
