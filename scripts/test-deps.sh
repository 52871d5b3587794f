#!/usr/bin/env bash
# Makes sure what docplat's tests talk to is installed and running, and does
# nothing when it already is: MariaDB with the Mroonga engine (full-text
# search) and Redis, and the tools docplat runs (poppler-utils for PDF
# previews, LibreOffice for Office previews), and the checkers of deploy/
# (systemd-analyze, promtool). Safe to run again and again; needs root for apt-get.
set -euo pipefail

log() { printf 'test-deps: %s\n' "$*" >&2; }

need_apt=()
command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
[ -f /usr/lib/mysql/plugin/ha_mroonga.so ] || need_apt+=(mariadb-plugin-mroonga)
# JMeter (Debian's 2.13) and a JDK for scripts/jmeter.sh's launcher: the
# JMeter smoke test in cmd/docplat-bench must run when CI is set.
[ -d /usr/share/jmeter/lib/ext ] || need_apt+=(jmeter)
command -v javac >/dev/null 2>&1 || need_apt+=(default-jdk-headless)
# The browser tests (TestBrowser in cmd/docplat): Debian's chromium, CJK
# fonts for readable screenshots of Chinese pages, node and npm for playwright-core.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || need_apt+=(fonts-noto-cjk)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# poppler-utils renders PDF previews (pdfinfo, pdftoppm) and reads their
# text for search (pdftotext); the preview and extract tests need it.
{ command -v pdftoppm && command -v pdfinfo && command -v pdftotext; } >/dev/null 2>&1 || need_apt+=(poppler-utils)
# LibreOffice headless (without the GUI) converts Office files to PDF for
# their previews; qpdf encrypts the password-protected PDFs the preview and
# extraction tests refuse.
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-core-nogui libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui)
command -v qpdf >/dev/null 2>&1 || need_apt+=(qpdf)
# systemd-analyze verifies deploy/systemd's units (package deploy).
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

mysql_ok() { mariadb -uroot -h127.0.0.1 -e 'SELECT 1' >/dev/null 2>&1; }
if ! mysql_ok; then
  log "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do mysql_ok && break; sleep 0.5; done
  mysql_ok || { log "MariaDB did not come up"; exit 1; }
fi
if ! mariadb -uroot -h127.0.0.1 -N -e "SELECT SUPPORT FROM information_schema.ENGINES WHERE ENGINE='Mroonga'" | grep -qE 'YES|DEFAULT'; then
  log "enabling the Mroonga engine"
  mariadb -uroot -h127.0.0.1 < /usr/share/mysql/mroonga/install.sql
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
# playwright-core, pinned by web/e2e/package-lock.json, into web/e2e/node_modules (git-ignored).
e2e="$(dirname "$0")/../web/e2e"
pinned() { (cd "$e2e" && node -p "require('./package.json').dependencies['playwright-core']"); }
installed() { (cd "$e2e" && node -p "require('./node_modules/playwright-core/package.json').version" 2>/dev/null); }
if [ "$(installed)" != "$(pinned)" ]; then
  log "installing playwright-core for the browser tests"
  (cd "$e2e" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# promtool checks deploy/prometheus (package deploy): only that binary,
# taken out of Debian's prometheus package into ~/.cache/docplat/promtool,
# so that installing it starts no Prometheus server.
promtool_dir="${HOME}/.cache/docplat/promtool"
if ! command -v promtool >/dev/null 2>&1 && [ ! -x "$promtool_dir/promtool" ]; then
  log "extracting promtool from Debian's prometheus package"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq prometheus >/dev/null 2>&1) || { apt-get update -qq >/dev/null; (cd "$tmp" && apt-get download -qq prometheus >/dev/null); }
  mkdir -p "$promtool_dir"
  dpkg-deb --fsys-tarfile "$tmp"/prometheus_*.deb | tar -x -O ./usr/bin/promtool > "$promtool_dir/promtool.tmp"
  chmod 0755 "$promtool_dir/promtool.tmp" && mv "$promtool_dir/promtool.tmp" "$promtool_dir/promtool"
  rm -rf "$tmp"
fi
"$(dirname "$0")/nginx-install.sh"
# MinIO for the S3 blob-store tests: built once from the Go module proxy and
# cached (scripts/minio.sh; about 6 minutes the first time on 2 cores).
"$(dirname "$0")/minio.sh" build
log "MariaDB (with Mroonga), Redis, nginx with Lua and MinIO are ready"
