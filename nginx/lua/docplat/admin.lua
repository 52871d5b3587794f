-- The admin listener (loopback or a private address, every request signed
-- with the internal secret: authenticate below): the app
-- pushes hot entries, purges them, lists them and drains the hit counters.
-- Each document's writes are serialized by a short shm lock so the revision
-- fence (entry rev, tombstone rev) is checked and set atomically.
local config = require("docplat.config")
local hot = require("docplat.hot")
local hits = require("docplat.hits")
local json = require("docplat.json")
local serve = require("docplat.serve")
local token = require("docplat.token")
local shares = require("docplat.shares")

local _M = {}

local entries = ngx.shared.docplat_hot
local state = ngx.shared.docplat_state

local visibilities = { public = true, department = true, private = true }

local function lock(id)
    local key = "lock:" .. id
    for _ = 1, 1000 do
        -- The TTL frees the lock if a handler dies holding it.
        if state:add(key, true, 2) then
            return key
        end
        ngx.sleep(0.001)
    end
    return nil
end

local function rev_of(s)
    if not s or not s:find("^%d+$") or #s > 15 then
        return nil
    end
    return tonumber(s)
end

local nonces = ngx.shared.docplat_nonces

-- sha1 digests a body: with libcrypto's SHA1, which nginx is linked with,
-- when LuaJIT's FFI finds it; ngx.sha1_bin (nginx's own SHA-1) hashed about
-- 90 MB/s here, 12 ms of a worker per 1 MiB push. Same digest either way.
local sha1 = ngx.sha1_bin
do
    local ffi = require("ffi")
    local ok = pcall(ffi.cdef, "unsigned char *SHA1(const char *d, size_t n, unsigned char *md);")
    if ok and pcall(function() return ffi.C.SHA1 end) then
        local out = ffi.new("unsigned char[20]")
        sha1 = function(s)
            ffi.C.SHA1(s, #s, out)
            return ffi.string(out, 20)
        end
    end
end

local function unhex(s)
    return (s:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
end

local function hex(s)
    return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- equal compares every byte so timing says nothing about the expected MAC.
local function equal(a, b)
    if #a ~= #b then
        return false
    end
    local diff = 0
    for i = 1, #a do
        diff = bit.bor(diff, bit.bxor(a:byte(i), b:byte(i)))
    end
    return diff == 0
end

-- authenticate checks X-Docplat-Signature, the twin of Go's
-- internalapi.Signature (see there for the format and what it covers; the
-- headers are config.signed_headers, nginx.signedHeaders in Go): nil when the request is
-- signed with the admin secret, within the window and not seen before;
-- else the status and why. 401: not signed, stale or replayed; 403: signed
-- with another secret. Every listener, loopback or not, requires it: the
-- secret itself is never accepted, so it never has to travel.
local function authenticate(body)
    local sig = ngx.var.http_x_docplat_signature
    if not sig then
        return 401, "X-Docplat-Signature is missing (the admin API takes signed requests only)"
    end
    local t, nonce, mac = sig:match("^v1%.(%d+)%.(%x+)%.(%x+)$")
    if not t or #t > 12 or #nonce ~= 16 or #mac ~= 40 then
        return 401, "X-Docplat-Signature is malformed"
    end
    ngx.update_time()
    local now, window = ngx.time(), config.signature_window
    local skew = tonumber(t) - now
    if skew > window or skew < -window then
        return 401, "the signature's time is " .. skew .. "s off this edge's clock (allowed: " .. window
            .. "s either way): a replay, or clocks out of sync"
    end
    local signed = { "docplat-v1", ngx.req.get_method(), ngx.var.request_uri, t, nonce, hex(sha1(body)) }
    local h = ngx.req.get_headers()
    for _, name in ipairs(config.signed_headers) do
        local v = h[name]
        if type(v) == "table" then
            return 401, "header " .. name .. " is repeated"
        end
        signed[#signed + 1] = name .. ":" .. (v or "")
    end
    local want = ngx.hmac_sha1(config.admin_secret, table.concat(signed, "\n"))
    if not equal(unhex(mac), want) then
        return 403, "X-Docplat-Signature does not match (another secret, or the request was altered)"
    end
    -- Kept while the signature's time is inside the window, so a captured
    -- request cannot be sent again; safe_add never evicts a nonce that is
    -- still needed to make room.
    local ok, err = nonces:safe_add(nonce, true, tonumber(t) + window - now + 1)
    if not ok then
        if err == "exists" then
            return 401, "this signature was used already (a replay)"
        end
        return 503, "the nonce table is full; retry"
    end
    return nil
end

-- push stores body (read and checked against the signature by handle).
local function push(id, body)
    local h = ngx.req.get_headers()
    local rev = rev_of(h["x-doc-rev"])
    local vis = h["x-doc-visibility"]
    local pushed = type(h["x-doc-headers"]) == "string" and json.decode(h["x-doc-headers"])
    if not rev or not visibilities[vis] or type(pushed) ~= "table" then
        return json.fail(400, "bad_request",
            "need X-Doc-Rev (integer), X-Doc-Visibility (public|department|private) and X-Doc-Headers (JSON: view, download)")
    end
    local prepared, why = serve.prepare(pushed.view, pushed.download)
    if not prepared then
        return json.fail(400, "bad_request", "X-Doc-Headers: " .. why)
    end
    if #body > config.max_entry_bytes then
        return json.fail(413, "too_large", "the entry exceeds the hot tier's size limit")
    end
    local not_before = h["x-doc-not-before"]
    if not_before ~= nil then
        not_before = rev_of(not_before)
        if not not_before then
            return json.fail(400, "bad_request", "X-Doc-Not-Before must be unix seconds")
        end
    end
    local meta = {
        rev = rev,
        not_before = not_before,
        version = tonumber(h["x-doc-version"]) or 0,
        etag = prepared.etag,
        visibility = vis,
        size = #body,
        stored_at = ngx.now(),
        view = prepared.view,
        view_304 = prepared.view_304,
        download = prepared.download,
        download_304 = prepared.download_304,
        refused = prepared.refused,
    }
    local key = lock(id)
    if not key then
        return json.fail(503, "unavailable", "the document's entry is busy; retry")
    end
    local tomb = state:get("tomb:" .. id)
    local cur = state:get("rev:" .. id)
    if (tomb and tomb > rev) or (cur and cur > rev) then
        state:delete(key)
        return json.fail(409, "conflict", "a newer revision was pushed or purged")
    end
    -- safe_set never evicts another hot entry to make room: a full dict
    -- refuses (507) and the app keeps serving the document itself.
    local ok, err = entries:safe_set("e:" .. id, hot.encode(meta, body))
    if not ok then
        state:delete(key)
        if err == "no memory" then
            return json.fail(507, "insufficient_storage", "the hot tier is full")
        end
        return json.fail(500, "internal", "storing the entry: " .. tostring(err))
    end
    state:set("rev:" .. id, rev)
    state:delete(key)
    -- Workers may hold an older copy in their LRU.
    hot.announce(id)
    return json.reply(cur and 200 or 201, { id = id, rev = rev, size = #body })
end

local function purge(id)
    local rev = rev_of(ngx.var.arg_rev)
    if not rev then
        return json.fail(400, "bad_request", "need ?rev=<integer>")
    end
    local key = lock(id)
    if not key then
        return json.fail(503, "unavailable", "the document's entry is busy; retry")
    end
    local tomb = state:get("tomb:" .. id)
    if not tomb or tomb < rev then
        tomb = rev
    end
    state:set("tomb:" .. id, tomb, config.tombstone_ttl)
    local cur = state:get("rev:" .. id)
    local deleted = false
    if cur and cur <= rev then
        entries:delete("e:" .. id)
        state:delete("rev:" .. id)
        deleted = true
    end
    local seq, err = hot.announce(id)
    state:delete(key)
    if not seq then
        return json.fail(500, "internal", "announcing the purge: " .. tostring(err))
    end
    -- Only once every worker dropped its copy may the app consider the old
    -- bytes gone.
    local deadline = ngx.now() + config.purge_wait
    while not hot.acked(seq) do
        if ngx.now() >= deadline then
            return json.fail(504, "timeout", "not every nginx worker confirmed the purge in time")
        end
        ngx.sleep(0.005)
        ngx.update_time()
    end
    return json.reply(200, { id = id, rev = tomb, deleted = deleted })
end

local function list()
    local items = {}
    for _, k in ipairs(entries:get_keys(0)) do
        local id = k:match("^e:(.*)$")
        local v = id and entries:get(k)
        local m = v and hot.decode_meta(v)
        -- An entry of the format before header lists is left out, so the
        -- promoter pushes it again (serve.lua leaves it to the app).
        if m and m.view then
            items[#items + 1] = { id = id, rev = m.rev, version = m.version, size = m.size,
                visibility = m.visibility, stored_at = m.stored_at, not_before = m.not_before }
        end
    end
    table.sort(items, function(a, b) return a.id < b.id end)
    return json.reply(200, json.items(items))
end

-- revoke_user: PUT /_hot/users/<id>/revoke?until=<unix>, pushed by the
-- app when the user's rights change. Serialized per user like a document's
-- writes so that a lower cutoff never overwrites a higher one.
local function revoke_user(user)
    local upto = rev_of(ngx.var.arg_until)
    if not upto then
        return json.fail(400, "bad_request", "need ?until=<unix seconds>")
    end
    local key = lock("user:" .. user)
    if not key then
        return json.fail(503, "unavailable", "the user's revocation is busy; retry")
    end
    local ok, err = token.revoke(user, upto, ngx.time())
    state:delete(key)
    if not ok then
        if err == "no memory" then
            return json.fail(507, "insufficient_storage", "the revocation table is full")
        end
        return json.fail(500, "internal", "storing the revocation: " .. tostring(err))
    end
    return json.reply(200, { user_id = user, ["until"] = upto })
end

function _M.handle()
    -- The body is part of the signature. Bodies past client_max_body_size
    -- were refused by nginx already and client_body_buffer_size is as
    -- large, so a body is always in memory.
    ngx.req.read_body()
    if ngx.req.get_body_file() then
        return json.fail(413, "too_large", "the entry exceeds the hot tier's size limit")
    end
    local body = ngx.req.get_body_data() or ""
    local status, why = authenticate(body)
    if status then
        local codes = { [401] = "unauthorized", [403] = "forbidden", [503] = "unavailable" }
        return json.fail(status, codes[status], why)
    end
    local method, uri = ngx.req.get_method(), ngx.var.uri
    local id = uri:match("^/_hot/docs/([%w_-]+)$")
    if id and #id <= 128 then
        if method == "PUT" then
            return push(id, body)
        elseif method == "DELETE" then
            return purge(id)
        end
        return json.fail(405, "method_not_allowed", "PUT or DELETE")
    end
    local user = uri:match("^/_hot/users/([%w_-]+)/revoke$")
    if user and #user <= 128 then
        if method == "PUT" then
            return revoke_user(user)
        end
        return json.fail(405, "method_not_allowed", "PUT")
    end
    local link = uri:match("^/_hot/shares/([%w_-]+)$")
    if link and #link <= 128 then
        if method == "PUT" then
            local h = ngx.req.get_headers()
            local key, doc, expires = h["x-share-key"], h["x-doc-id"], rev_of(h["x-share-expires"])
            if type(key) ~= "string" or not key:find("^%x+$") or #key ~= 40 or type(doc) ~= "string"
                or not doc:find("^[%w_-]+$") or #doc > 128 or not expires then
                return json.fail(400, "bad_request", "need X-Share-Key (40 hex digits), X-Doc-Id and X-Share-Expires (unix seconds)")
            end
            local ok, err = shares.put(link, key, doc, expires)
            if not ok then
                return json.fail(500, "internal", "storing the link: " .. tostring(err))
            end
            return json.reply(200, { id = link })
        elseif method == "DELETE" then
            shares.drop(link)
            return json.reply(200, { id = link })
        end
        return json.fail(405, "method_not_allowed", "PUT or DELETE")
    end
    if uri == "/_hot/docs" and method == "GET" then
        return list()
    end
    if uri == "/_hot/hits" and method == "GET" then
        local items = hits.drain()
        if not items then
            return json.fail(503, "unavailable", "another drain is running; retry")
        end
        return json.reply(200, json.items(items))
    end
    return json.fail(404, "not_found", "no such admin endpoint")
end

return _M
