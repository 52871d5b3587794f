#!/usr/bin/env bash
# A MariaDB primary and one replica on this machine, each its own mariadbd
# with its own datadir, for the read replicas (DOCPLAT_MYSQL_REPLICA_DSNS):
#   primary  127.0.0.1:$PAIR_PRIMARY_PORT (default 3316)  server_id 1, binlog (ROW), GTID
#   replica  127.0.0.1:$PAIR_REPLICA_PORT (default 3317)  server_id 2, read_only,
#            CHANGE MASTER TO ... MASTER_USE_GTID=slave_pos
# Both run as root on 127.0.0.1 without a password (like the test server) and
# with Mroonga and its functions installed (without binlogging: each server
# installs its own). Small buffer pools (PAIR_BUFFER_POOL, default 32M) keep
# them light; PAIR_MAX_CONNECTIONS (default 300) bounds each.
#
#   scripts/mariadb-pair.sh up | down | status
# PAIR_DIR (default ./.mariadb-pair) holds the datadirs, sockets, logs and
# pids/NAME.pid; down stops each server by that PID (TERM, KILL after 30 s)
# and removes nothing (rm -rf $PAIR_DIR to start afresh).
# internal/testmariadb runs it on free ports for a test package;
# cluster.sh (CLUSTER_REPLICA=1) runs it for the cluster's database.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dir=${PAIR_DIR:-$root/.mariadb-pair}
PRIMARY_PORT=${PAIR_PRIMARY_PORT:-3316}
REPLICA_PORT=${PAIR_REPLICA_PORT:-3317}
POOL=${PAIR_BUFFER_POOL:-32M}
MAXCONN=${PAIR_MAX_CONNECTIONS:-300}
MARIADBD=${MARIADBD:-/usr/sbin/mariadbd}

log() { printf 'mariadb-pair: %s\n' "$*" >&2; }

alive() { [ -f "$dir/pids/$1.pid" ] && kill -0 "$(cat "$dir/pids/$1.pid")" 2>/dev/null; }

sql() { # NAME SQL...: runs SQL as root over the server's socket
  local name=$1; shift
  mariadb --no-defaults -uroot --socket="$dir/$name.sock" -e "$*"
}

# start NAME PORT SERVER_ID EXTRA...: a fresh datadir on first use, then mariadbd.
start() {
  local name=$1 port=$2 id=$3; shift 3
  local data=$dir/$name
  if [ ! -d "$data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$data" --user="$(id -un)" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/logs/$name-install.log" 2>&1 ||
      { log "mariadb-install-db for $name failed:"; tail -20 "$dir/logs/$name-install.log" >&2; return 1; }
  fi
  local user=()
  [ "$(id -u)" = 0 ] && user=(--user=root)
  setsid "$MARIADBD" --no-defaults --datadir="$data" --socket="$dir/$name.sock" --port="$port" \
    --bind-address=127.0.0.1 "${user[@]}" --skip-name-resolve --pid-file="$dir/$name.mariadbd.pid" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --server-id="$id" --log-bin=mariadb-bin --binlog-format=ROW --gtid-strict-mode=1 \
    --innodb-buffer-pool-size="$POOL" --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=2 \
    --sync-binlog=0 --performance-schema=OFF --max-connections="$MAXCONN" \
    "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
  for _ in $(seq 1 240); do
    sql "$name" 'SELECT 1' >/dev/null 2>&1 && break
    alive "$name" || { log "$name exited; its log:"; tail -20 "$dir/logs/$name.log" >&2; return 1; }
    sleep 0.25
  done
  sql "$name" 'SELECT 1' >/dev/null || { log "$name not ready in 60s"; return 1; }
  # Each server installs Mroonga (the engine, once: install.sql records it
  # in mysql.plugin, and its functions) itself: nothing of it is binlogged.
  local mroonga=""
  [ -f /usr/share/mysql/mroonga/install.sql ] && mroonga=$(cat /usr/share/mysql/mroonga/install.sql)
  sql "$name" "SET sql_log_bin=0; CREATE USER IF NOT EXISTS root@'127.0.0.1'; GRANT ALL ON *.* TO root@'127.0.0.1' WITH GRANT OPTION; $mroonga"
}

up() {
  mkdir -p "$dir/pids" "$dir/logs"
  if alive primary; then log "primary already up (pid $(cat "$dir/pids/primary.pid"))"; else
    start primary "$PRIMARY_PORT" 1
  fi
  if alive replica; then log "replica already up (pid $(cat "$dir/pids/replica.pid"))"; return 0; fi
  start replica "$REPLICA_PORT" 2 --read-only=1 --relay-log=mariadb-relay
  local configured
  configured=$(sql replica "SHOW SLAVE STATUS" | wc -l)
  if [ "$configured" = 0 ]; then
    # The primary's binlog holds everything since its install (nothing
    # before: install.sql ran unlogged), so the replica starts at the
    # beginning of it.
    sql replica "SET GLOBAL gtid_slave_pos=''; CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$PRIMARY_PORT,
      MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE"
  fi
  for _ in $(seq 1 120); do
    if sql replica "SHOW SLAVE STATUS\G" | grep -q 'Slave_SQL_Running: Yes' &&
      sql replica "SHOW SLAVE STATUS\G" | grep -q 'Slave_IO_Running: Yes'; then
      log "up: primary 127.0.0.1:$PRIMARY_PORT, replica 127.0.0.1:$REPLICA_PORT (root, no password); $dir"
      return 0
    fi
    sleep 0.25
  done
  log "the replica does not replicate:"; sql replica "SHOW SLAVE STATUS\G" >&2; return 1
}

stop_pid() { # NAME
  local f=$dir/pids/$1.pid pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { log "$1 ($pid) ignored TERM for 30s: KILL"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$f"
}

down() {
  stop_pid replica
  stop_pid primary
  log "down"
}

status() {
  local n
  for n in primary replica; do
    [ -f "$dir/pids/$n.pid" ] || continue
    if alive "$n"; then echo "$n up (pid $(cat "$dir/pids/$n.pid"))"; else echo "$n DOWN"; fi
  done
  if alive replica; then
    sql replica "SHOW SLAVE STATUS\G" | grep -E 'Slave_(IO|SQL)_Running:|Seconds_Behind_Master|Gtid_IO_Pos' || true
  fi
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
