#!/usr/bin/env bash
# Starts or stops an nginx rendered by docplat (nginx.Render) on <prefix>,
# never the system nginx: nginx -p <prefix> -c <prefix>/conf/nginx.conf.
#   scripts/nginx.sh start <prefix>    (daemonized; pid in <prefix>/logs/nginx.pid)
#   scripts/nginx.sh stop <prefix>     (graceful, by that pid)
#   scripts/nginx.sh reload <prefix>   (after re-rendering the config)
set -euo pipefail
usage() { echo "usage: $0 start|stop|reload <prefix>" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
prefix=$(cd "$2" && pwd)
conf=$prefix/conf/nginx.conf
pidfile=$prefix/logs/nginx.pid
[ -f "$conf" ] || { echo "no $conf (render it with the nginx package first)" >&2; exit 1; }
case $cmd in
start)
  nginx -p "$prefix/" -c "$conf" -e "$prefix/logs/error.log" -t -q
  nginx -p "$prefix/" -c "$conf" -e "$prefix/logs/error.log"
  echo "nginx started (pid $(cat "$pidfile"))" ;;
stop)
  [ -f "$pidfile" ] || { echo "not running (no $pidfile)" >&2; exit 0; }
  pid=$(cat "$pidfile")
  kill -QUIT "$pid"
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || { echo "nginx stopped"; exit 0; }; sleep 0.1; done
  echo "nginx $pid did not stop in 5s; sending TERM" >&2
  kill -TERM "$pid" ;;
reload)
  kill -HUP "$(cat "$pidfile")" ;;
*) usage ;;
esac
