-- Hot entries: the bytes and headers of the documents the app pushed, in the
-- shared dict docplat_hot (one key per document, so an entry is replaced
-- atomically), with a per-worker LRU in front of it. Every worker reading
-- one shm key serializes on the dict's lock (lua-nginx-module #2393), so the
-- hottest entries are served from worker memory; purges reach those copies
-- through a purge sequence in docplat_state that every worker applies from a
-- timer and acknowledges, which is what lets a purge wait until no worker
-- can still serve the old bytes.
local config = require("docplat.config")
local json = require("docplat.json")
local lrucache = require("resty.lrucache")

local _M = {}

local hot = ngx.shared.docplat_hot
local state = ngx.shared.docplat_state

local lru
local applied = 0 -- the last purge sequence number this worker applied

-- An entry is stored as 8 hex digits (the metadata's length), the metadata
-- as JSON, then the body: one value, so readers never see a mix of two
-- pushes.
function _M.encode(meta, body)
    local m = json.encode(meta)
    return string.format("%08x", #m) .. m .. body
end

local function decode(v, with_body)
    local n = tonumber(v:sub(1, 8), 16)
    local meta = json.decode(v:sub(9, 8 + n))
    if not meta then
        return nil
    end
    if not with_body then
        return meta
    end
    return { meta = meta, body = v:sub(9 + n) }
end

_M.decode_meta = function(v) return decode(v, false) end

-- get returns {meta=..., body=...} or nil.
function _M.get(id)
    local e = lru:get(id)
    if e then
        return e
    end
    local v = hot:get("e:" .. id)
    if not v then
        return nil
    end
    e = decode(v, true)
    if e then
        -- No yield between the shm read and this set, so a purge applied by
        -- this worker's timer is either before both or after both.
        lru:set(id, e, config.lru_ttl)
    end
    return e
end

-- announce queues id for every worker to drop from its LRU and returns the
-- sequence number to wait for.
function _M.announce(id)
    local seq, err = state:incr("purge_seq", 1, 0)
    if not seq then
        return nil, err
    end
    -- Outlives any plausible timer delay; a worker that finds the id gone
    -- flushes its whole LRU instead.
    state:set("purge:" .. seq, id, 60)
    return seq
end

local function apply()
    local seq = state:get("purge_seq") or 0
    if seq > applied then
        for s = applied + 1, seq do
            local id = state:get("purge:" .. s)
            if not id then
                lru:flush_all()
                break
            end
            lru:delete(id)
        end
        applied = seq
    end
    state:set("ack:" .. ngx.worker.id(), applied)
end

-- acked reports whether every worker has applied purge sequence seq.
function _M.acked(seq)
    for w = 0, ngx.worker.count() - 1 do
        local a = state:get("ack:" .. w)
        if not a or a < seq then
            return false
        end
    end
    return true
end

function _M.init_worker()
    lru = assert(lrucache.new(config.lru_items))
    -- A (re)started worker's LRU is empty: it has nothing old to drop.
    applied = state:get("purge_seq") or 0
    state:set("ack:" .. ngx.worker.id(), applied)
    local ok, err = ngx.timer.every(config.purge_interval, function(premature)
        if not premature then
            apply()
        end
    end)
    if not ok then
        ngx.log(ngx.ERR, "docplat: cannot start the purge timer: ", err)
    end
end

return _M
