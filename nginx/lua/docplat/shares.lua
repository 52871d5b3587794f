-- Share links the hot tier may answer: the app pushes each link without
-- password and without download limit when it is created (the SHA-1 of its
-- token, the document id and the expiry) and drops it when it is revoked.
-- Entries live in the shared dict docplat_shares, which every worker reads
-- directly (no per-worker copy), so a drop takes effect on the next request;
-- expiry is checked here and by the dict's TTL. A link that is not here,
-- or whose document is not hot, is the app's to answer.
local _M = {}

local dict = ngx.shared.docplat_shares

local function hex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- key is what the app pushes for a token (shares.EdgeKey).
function _M.key(token)
    return hex(ngx.sha1_bin(token))
end

-- put stores a link until expires (unix seconds); a second put of the link
-- replaces its key.
function _M.put(link_id, key, doc_id, expires)
    local ttl = expires - ngx.now()
    if ttl <= 0 then
        return true
    end
    local old = dict:get("l:" .. link_id)
    if old and old ~= key then
        dict:delete("k:" .. old)
    end
    -- set may evict another link when the dict is full: that link's
    -- requests then go to the app, which is always right.
    local ok, err = dict:set("k:" .. key, doc_id .. "|" .. expires, ttl)
    if not ok then
        return nil, err
    end
    dict:set("l:" .. link_id, key, ttl)
    return true
end

function _M.drop(link_id)
    local key = dict:get("l:" .. link_id)
    if key then
        dict:delete("k:" .. key)
    end
    dict:delete("l:" .. link_id)
end

-- resolve returns the document id of a usable pushed link, or nil.
function _M.resolve(token)
    if #token ~= 43 or not token:find("^[%w_-]+$") then
        return nil
    end
    local v = dict:get("k:" .. _M.key(token))
    if not v then
        return nil
    end
    local doc, expires = v:match("^([^|]+)|(%d+)$")
    if not doc or tonumber(expires) <= ngx.now() then
        return nil
    end
    return doc
end

return _M
