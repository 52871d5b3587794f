-- Picks the app instance for a request: a consistent-hash ring (virtual
-- nodes) keyed by the document id keeps one document's reads on one
-- instance, whose bigcache then holds it; a failing or overloaded instance
-- is skipped for round-robin over the healthy ones until it calms down.
-- Failures (connect errors, 5xx) and in-flight requests are counted per
-- peer in docplat_peers; failure counts expire after fail_timeout, which is
-- the decay that brings hashing back.
--
-- Every proxied request passes here and in log(), so a content read (the
-- common one) keeps to LuaJIT's cheap side: no pattern matching or closures
-- (string.match, gmatch and gsub are not compiled), shared-dict keys built
-- once per worker, ring owners remembered.
local balancer = require("ngx.balancer")
local lrucache = require("resty.lrucache")
local config = require("docplat.config")

local _M = {}

local peers_dict = ngx.shared.docplat_peers
local ngx_var = ngx.var
local tonumber = tonumber

local ring, ring_peer -- sorted hashes and the peer of each
local peers = {}      -- { {addr=, host=, port=, fail_key=, busy_key=} }
local rr = 0          -- this worker's round-robin cursor
-- owners caches the ring's answer per key: the ring never changes in a
-- worker, so an entry never goes stale, and a read of a known document
-- costs one table lookup instead of an MD5 and a binary search.
local owners
local OWNER_CACHE_ITEMS = 20000

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
        peers[i] = { addr = addr, host = host, port = tonumber(port),
                     fail_key = "fail:" .. addr, busy_key = "busy:" .. addr }
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

-- ring_owner is the peer index owning key on the ring.
local function ring_owner(key)
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

local function owner(key)
    local o = owners:get(key)
    if not o then
        o = ring_owner(key)
        owners:set(key, o)
    end
    return o
end

local function healthy(i)
    local p = peers[i]
    if (peers_dict:get(p.fail_key) or 0) >= config.max_fails then
        return false
    end
    if config.max_inflight > 0 and (peers_dict:get(p.busy_key) or 0) >= config.max_inflight then
        return false
    end
    return true
end

-- hash_key is the document id, or the share token, or nil (round-robin).
-- The content location's access phase already captured the id
-- (ctx.docplat_key); other requests match the URI.
local function hash_key(ctx)
    local key = ctx.docplat_key
    if key then
        return key
    end
    local uri = ngx_var.uri
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
    local key = #ctx.docplat_order == 0 and hash_key(ctx)
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
    peers_dict:incr(peers[pick].busy_key, 1, 0)
    local ok, err = balancer.set_current_peer(peers[pick].host, peers[pick].port)
    if not ok then
        ngx.log(ngx.ERR, "docplat: set_current_peer ", peers[pick].addr, ": ", err)
        return ngx.exit(500)
    end
end

-- settle releases the in-flight count of peer i and records a failure when
-- its try got no status (a connect error) or a 5xx.
local function settle(i, status)
    local p = peers[i]
    peers_dict:incr(p.busy_key, -1, 0)
    local s = tonumber(status)
    if not s or s >= 500 then
        peers_dict:incr(p.fail_key, 1, 0, config.fail_timeout)
    end
end

-- log runs in the log phase: it releases the in-flight counts and records a
-- failure for every try that got a connect error or a 5xx.
function _M.log(ctx)
    local order = (ctx or ngx.ctx).docplat_order
    if not order then
        return
    end
    local upstream_status = ngx_var.upstream_status
    if #order == 1 then
        -- One try, the usual case: $upstream_status is that try's status
        -- alone ("502" or "504" when nginx got none); anything else (an
        -- internal redirect's "200 : 404") takes the general path.
        local s = tonumber(upstream_status)
        if s then
            settle(order[1], s)
            return
        end
    end
    local statuses = {}
    for s in (upstream_status or ""):gmatch("[^,%s:]+") do
        statuses[#statuses + 1] = s
    end
    for n, i in ipairs(order) do
        settle(i, statuses[n])
    end
end

function _M.init_worker()
    build()
    owners = assert(lrucache.new(OWNER_CACHE_ITEMS))
end

return _M
