#!/usr/bin/env bash
# Installs what the nginx hot tier (nginx/) and its tests need: nginx with
# lua-nginx-module, resty.core, lua-resty-lrucache, and wrk for the
# benchmark. Does nothing when they are already there. Needs root.
# apt does not start the system nginx service here, and docplat never uses
# it: nginx/ renders its own config and runs `nginx -p <prefix>`.
set -euo pipefail

log() { printf 'nginx-install: %s\n' "$*" >&2; }

need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
[ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] || need+=(libnginx-mod-http-lua)
[ -f /usr/share/lua/5.1/resty/core.lua ] || need+=(lua-resty-core)
[ -f /usr/share/lua/5.1/resty/lrucache.lua ] || need+=(lua-resty-lrucache)
[ -n "$(find /usr/lib -path "*lua/5.1/cjson.so" -print -quit 2>/dev/null)" ] || need+=(lua-cjson)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
if [ ${#need[@]} -eq 0 ]; then
  log "already installed"
  exit 0
fi
log "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian enables the site config and may try to start the service; this
# project never uses either, so make sure nothing of ours depends on it.
log "done"
