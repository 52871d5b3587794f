-- Hot-tier read counters. Only requests the hot tier answered are counted
-- here (the rest reached the app, which counts them itself), with the app's
-- rules (docs/counts.go via server/content.go): GET only, kind view or
-- download, bytes = the document's size whatever part was sent.
local json = require("docplat.json")

local _M = {}

local counters = ngx.shared.docplat_hits
local state = ngx.shared.docplat_state

-- record runs in the log phase.
function _M.record(id, kind, size)
    local k = id .. "|" .. kind
    local ok, err = counters:incr("n:" .. k, 1, 0)
    if not ok then
        ngx.log(ngx.WARN, "docplat: hit counter lost: ", err)
        return
    end
    counters:incr("b:" .. k, size, 0)
end

-- drain returns the counts and subtracts exactly what it returns, so hits
-- recorded meanwhile stay for the next drain; drains themselves take a lock
-- so two of them never report the same hit. The count and bytes keys are
-- read one after the other: a hit landing between them may be split over
-- two drains, but the sums over drains are exact. Returns nil when another
-- drain held the lock for a whole second.
function _M.drain()
    local locked = false
    for _ = 1, 1000 do
        if state:add("lock:hits", true, 5) then
            locked = true
            break
        end
        ngx.sleep(0.001)
    end
    if not locked then
        return nil
    end
    local items = {}
    for _, key in ipairs(counters:get_keys(0)) do
        local k = key:match("^n:(.*)$")
        local n = k and counters:get(key)
        if n and n > 0 then
            counters:incr(key, -n)
            local b = counters:get("b:" .. k) or 0
            if b > 0 then
                counters:incr("b:" .. k, -b)
            end
            local id, kind = k:match("^(.*)|(%a+)$")
            items[#items + 1] = { document_id = id, kind = kind, count = n, bytes = b }
        end
    end
    state:delete("lock:hits")
    return items
end

return _M
