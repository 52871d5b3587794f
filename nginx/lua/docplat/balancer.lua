-- Picks the app instance for a request: a consistent-hash ring (virtual
-- nodes) keyed by the document id keeps one document's reads on one
-- instance, whose bigcache then holds it; a failing or overloaded instance
-- is skipped for round-robin over the healthy ones until it calms down.
-- Failures (connect errors, 5xx) and in-flight requests are counted per
-- peer in docplat_peers; failure counts expire after fail_timeout, which is
-- the decay that brings hashing back.
local balancer = require("ngx.balancer")
local config = require("docplat.config")

local _M = {}

local peers_dict = ngx.shared.docplat_peers

local ring, ring_peer -- sorted hashes and the peer of each
local peers = {}      -- { {addr=, host=, port=} }
local rr = 0          -- this worker's round-robin cursor

-- point hashes with MD5: CRC32 is linear, so similar strings (ports, ids
-- with counters) land in clumps and one instance can own almost nothing.
local function point(s)
    local b1, b2, b3, b4 = ngx.md5_bin(s):byte(1, 4)
    return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
end

local function build()
    local points = {}
    for i, addr in ipairs(config.upstreams) do
        local host, port = addr:match("^(.+):(%d+)$")
        peers[i] = { addr = addr, host = host, port = tonumber(port) }
        for v = 1, config.virtual_nodes do
            points[#points + 1] = { point(addr .. "#" .. v), i }
        end
    end
    table.sort(points, function(a, b) return a[1] < b[1] end)
    ring, ring_peer = {}, {}
    for i, p in ipairs(points) do
        ring[i], ring_peer[i] = p[1], p[2]
    end
end

-- owner is the peer index owning key on the ring.
local function owner(key)
    local h = point(key)
    local lo, hi = 1, #ring
    if h > ring[hi] then
        return ring_peer[1]
    end
    while lo < hi do
        local mid = math.floor((lo + hi) / 2)
        if ring[mid] < h then
            lo = mid + 1
        else
            hi = mid
        end
    end
    return ring_peer[lo]
end

local function healthy(i)
    local addr = peers[i].addr
    if (peers_dict:get("fail:" .. addr) or 0) >= config.max_fails then
        return false
    end
    if config.max_inflight > 0 and (peers_dict:get("busy:" .. addr) or 0) >= config.max_inflight then
        return false
    end
    return true
end

-- hash_key is the document id, or the share token, or nil (round-robin).
local function hash_key(uri)
    return uri:match("^/api/v1/documents/([^/]+)") or uri:match("^/s/([^/]+)")
end

local function round_robin(tried, want_healthy)
    local n = #peers
    for _ = 1, n do
        rr = rr % n + 1
        if not tried[rr] and (not want_healthy or healthy(rr)) then
            return rr
        end
    end
    return nil
end

function _M.balance()
    local ctx = ngx.ctx
    local tried = ctx.docplat_tried
    if not tried then
        tried = {}
        ctx.docplat_tried = tried
        ctx.docplat_order = {}
        if #peers > 1 then
            balancer.set_more_tries(#peers - 1)
        end
    end
    local pick
    local key = #ctx.docplat_order == 0 and hash_key(ngx.var.uri)
    if key then
        local o = owner(key)
        if healthy(o) then
            pick = o
        end
    end
    pick = pick or round_robin(tried, true) or round_robin(tried, false)
    if not pick then
        return ngx.exit(502)
    end
    tried[pick] = true
    local order = ctx.docplat_order
    order[#order + 1] = pick
    peers_dict:incr("busy:" .. peers[pick].addr, 1, 0)
    local ok, err = balancer.set_current_peer(peers[pick].host, peers[pick].port)
    if not ok then
        ngx.log(ngx.ERR, "docplat: set_current_peer ", peers[pick].addr, ": ", err)
        return ngx.exit(500)
    end
end

-- log runs in the log phase: it releases the in-flight counts and records a
-- failure for every try that got a connect error or a 5xx.
function _M.log()
    local order = ngx.ctx.docplat_order
    if not order then
        return
    end
    local statuses = {}
    for s in (ngx.var.upstream_status or ""):gmatch("[^,%s:]+") do
        statuses[#statuses + 1] = s
    end
    for n, i in ipairs(order) do
        local addr = peers[i].addr
        peers_dict:incr("busy:" .. addr, -1, 0)
        local s = tonumber(statuses[n])
        if not s or s >= 500 then
            peers_dict:incr("fail:" .. addr, 1, 0, config.fail_timeout)
        end
    end
end

function _M.init_worker()
    build()
end

return _M
