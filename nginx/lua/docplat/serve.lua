-- GET/HEAD /api/v1/documents/{id}/content from a hot entry, answered the way
-- server/content.go (http.ServeContent behind it) would answer. Only cases
-- whose answer is certain are handled here; anything else (multiple ranges,
-- If-Range, If-Match, If-Modified-Since alone, a range spelled unusually, a
-- missing or failing token) falls through to the app, so the client gets
-- the app's answer by construction.
local hot = require("docplat.hot")
local hits = require("docplat.hits")
local token = require("docplat.token")
local shares = require("docplat.shares")

local _M = {}

-- The app's 416 body, byte for byte (Go's json.Encoder keeps field order
-- and ends with a newline; cjson would not keep the order).
local RANGE_BODY = '{"error":{"code":"bad_request","message":"the Range header does not fit the content (see Content-Range for its size)"}}\n'

-- scan_etag is net/http's scanETag: an entity tag at the start of s and the
-- rest, or nil.
local function scan_etag(s)
    s = s:gsub("^[ \t]+", "")
    local start = 1
    if s:sub(1, 2) == "W/" then
        start = 3
    end
    if #s - start + 1 < 2 or s:sub(start, start) ~= '"' then
        return nil
    end
    for i = start + 1, #s do
        local c = s:byte(i)
        if c == 0x22 then
            return s:sub(1, i), s:sub(i + 1)
        elseif not (c == 0x21 or (c >= 0x23 and c <= 0x7e) or c >= 0x80) then
            return nil
        end
    end
    return nil
end

local function opaque(etag)
    return (etag:gsub("^W/", ""))
end

-- none_match is net/http's checkIfNoneMatch: true when the header matches
-- (the answer is 304).
local function none_match(inm, etag)
    local buf = inm
    while true do
        buf = buf:gsub("^[ \t]+", ""):gsub("[ \t]+$", "")
        if buf == "" then
            return false
        end
        local c = buf:sub(1, 1)
        if c == "," then
            buf = buf:sub(2)
        elseif c == "*" then
            return true
        else
            local tag, rest = scan_etag(buf)
            if not tag then
                return false
            end
            if opaque(tag) == opaque(etag) then
                return true
            end
            buf = rest
        end
    end
end

-- range returns "full", or "partial" with first and last byte, or
-- "unsatisfiable", or nil for "let the app decide". It mirrors
-- net/http's parseRange for one plainly written range.
local function range(header, size)
    if not header then
        return "full"
    end
    if size == 0 then
        return nil
    end
    local first, last = header:match("^bytes=(%d+)%-(%d*)$")
    if first then
        if #first > 15 or #last > 15 then
            return nil
        end
        first = tonumber(first)
        if first >= size then
            return "unsatisfiable"
        end
        if last == "" then
            return "partial", first, size - 1
        end
        last = tonumber(last)
        if last < first then
            -- parseRange's "invalid range": a malformed header, rare
            -- enough to let the app give its 416.
            return nil
        end
        if last >= size then
            last = size - 1
        end
        return "partial", first, last
    end
    local suffix = header:match("^bytes=%-(%d+)$")
    if suffix and #suffix <= 15 then
        suffix = tonumber(suffix)
        if suffix == 0 then
            return nil
        end
        if suffix > size then
            suffix = size
        end
        return "partial", size - suffix, size - 1
    end
    return nil
end

local function authorized(id, meta)
    if meta.visibility == "public" then
        return true
    end
    local t = ngx.var.arg_token
    if t then
        t = ngx.unescape_uri(t)
    else
        t = ngx.var.http_x_docplat_read_token
    end
    if not t then
        return false
    end
    local user, why = token.verify(t, id, meta.rev, ngx.time())
    if not user then
        ngx.log(ngx.INFO, "docplat: read token refused (", why, "), asking the app")
        return false
    end
    return true
end

-- The headers of an entry are the app's, decided once in Go
-- (contentpolicy) for a full answer to a view and to a download; the app
-- pushes them and they are replayed verbatim. Which of them a 304 or a 416
-- keeps is net/http's decision, mirrored here once at push time:
-- writeNotModified drops the body's headers, and Last-Modified when there
-- is an ETag (there always is); serveError drops the validators and
-- caching headers, and the app's contract error drops what described the
-- body.
local drop_not_modified = { ["content-type"] = true, ["content-length"] = true, ["content-encoding"] = true,
    ["last-modified"] = true }
local drop_refused = { ["cache-control"] = true, ["content-encoding"] = true, ["etag"] = true,
    ["last-modified"] = true, ["content-length"] = true, ["content-disposition"] = true, ["content-type"] = true }

-- pairs_of turns a decoded Go http.Header ({Name = {values}}) into a list
-- of {name, value} (a string, or a list for a repeated header) without
-- the names in drop, sorted so an entry is stored the same way each time.
local function pairs_of(header, drop)
    local out = {}
    for name, values in pairs(header) do
        if type(name) ~= "string" or type(values) ~= "table" or #values == 0 then
            return nil
        end
        for _, v in ipairs(values) do
            if type(v) ~= "string" then
                return nil
            end
        end
        if not (drop and drop[name:lower()]) then
            out[#out + 1] = { name, #values == 1 and values[1] or values }
        end
    end
    table.sort(out, function(a, b) return a[1] < b[1] end)
    return out
end

local function header_value(header, wanted)
    for name, values in pairs(header) do
        if type(name) == "string" and name:lower() == wanted and type(values) == "table" then
            return values[1]
        end
    end
    return nil
end

-- prepare checks the headers pushed for an entry (the view's and the
-- download's, both with a quoted ETag, the same one, and a Content-Type)
-- and returns what serving needs: the ETag to match If-None-Match against
-- and the header lists of each answer. nil, why: they are unusable.
function _M.prepare(view, download)
    if type(view) ~= "table" or type(download) ~= "table" then
        return nil, "need the view's and the download's headers"
    end
    local etag = header_value(view, "etag")
    if type(etag) ~= "string" or not etag:find('^"[^"]*"$') or header_value(download, "etag") ~= etag then
        return nil, "need one quoted ETag in both header sets"
    end
    if type(header_value(view, "content-type")) ~= "string" or type(header_value(download, "content-type")) ~= "string" then
        return nil, "need a Content-Type in both header sets"
    end
    local p = {
        etag = etag,
        view = pairs_of(view), view_304 = pairs_of(view, drop_not_modified),
        download = pairs_of(download), download_304 = pairs_of(download, drop_not_modified),
        refused = pairs_of(view, drop_refused),
    }
    for _, k in ipairs({ "view", "view_304", "download", "download_304", "refused" }) do
        if not p[k] then
            return nil, "header names must map to lists of strings"
        end
    end
    return p
end

-- shared_headers are what the app's /s/ answers add: a link's answer is
-- the link's, never cached by the URL.
local function shared_headers()
    if ngx.ctx.docplat_shared then
        ngx.header["Cache-Control"] = "private, no-cache"
    end
end

local function replay(list)
    local h = ngx.header
    for i = 1, #list do
        local kv = list[i]
        h[kv[1]] = kv[2]
    end
end

-- content runs in the access phase: it either answers and finishes the
-- request or returns and lets proxy_pass take it to the app. shared: the
-- request came through a share link, which is its permission.
function _M.content(id, shared)
    local ctx = ngx.ctx
    ctx.docplat_key = id -- the balancer hashes on it (no second URI match)
    local method = ngx.req.get_method()
    if method ~= "GET" and method ~= "HEAD" then
        return
    end
    local var = ngx.var
    if var.http_if_match or var.http_if_unmodified_since or var.http_if_range
        or (var.http_if_modified_since and not var.http_if_none_match) then
        return
    end
    local e = hot.get(id)
    if not e then
        return
    end
    local meta = e.meta
    -- An entry pushed before a reload into this code has no header lists
    -- (the dict outlives a reload): the app answers until it is re-pushed.
    if not meta.view then
        return
    end
    -- A document scheduled for publication is held ahead of time and
    -- served from its not_before on; before, the app answers (404 to all
    -- but its managers). ngx.now() is the cached time of this event loop
    -- iteration, never ahead of the clock; when it says "before", the
    -- clock is read afresh (a syscall, on this path only), so that the
    -- first request after the second is nginx's.
    if meta.not_before and ngx.now() < meta.not_before then
        ngx.update_time()
        if ngx.now() < meta.not_before then
            return
        end
    end
    if not shared and not authorized(id, meta) then
        return
    end
    local size = meta.size
    local inm = var.http_if_none_match
    local not_modified = inm and none_match(inm, meta.etag)
    local how, first, last
    if not not_modified then
        how, first, last = range(var.http_range, size)
        if not how then
            return
        end
    end

    local kind = var.arg_download == "1" and "download" or "view"
    var.docplat_cache = "HOT"
    if method == "GET" then
        ctx.docplat_hit = { id = id, kind = kind, size = size }
    end
    local h = ngx.header

    if shared then
        ctx.docplat_shared = true
    end
    if not_modified then
        replay(kind == "download" and meta.download_304 or meta.view_304)
        shared_headers()
        ngx.status = ngx.HTTP_NOT_MODIFIED
        ngx.send_headers()
        return ngx.exit(ngx.HTTP_OK)
    end
    if how == "unsatisfiable" then
        local body = RANGE_BODY
        ngx.status = 416
        replay(meta.refused)
        h["Content-Type"] = "application/json; charset=utf-8"
        h["X-Content-Type-Options"] = "nosniff" -- http.Error sets it
        h["Content-Range"] = "bytes */" .. size
        h["Content-Length"] = #body
        if method == "GET" then
            ngx.print(body)
        end
        return ngx.exit(ngx.HTTP_OK)
    end

    replay(kind == "download" and meta.download or meta.view)
    shared_headers()
    h["Accept-Ranges"] = "bytes"
    local body = e.body
    if how == "partial" then
        ngx.status = 206
        h["Content-Range"] = "bytes " .. first .. "-" .. last .. "/" .. size
        if first ~= 0 or last ~= size - 1 then
            body = body:sub(first + 1, last + 1)
        end
    else
        ngx.status = 200
    end
    h["Content-Length"] = #body
    if method == "GET" then
        ngx.print(body)
    end
    return ngx.exit(ngx.HTTP_OK)
end

-- wants_html is the app's wantsHTML: a browser's navigation gets the app's
-- landing page.
local function wants_html(accept)
    if not accept then
        return false
    end
    if type(accept) == "table" then
        accept = table.concat(accept, ",")
    end
    for part in accept:gmatch("[^,]+") do
        local mt = part:match("^%s*([^;%s]+)")
        if mt == "text/html" or mt == "application/xhtml+xml" then
            return true
        end
    end
    return false
end

-- share answers GET/HEAD /s/{token} for a pushed link (no password, no
-- limit: nothing to check or count) to a hot document; anything else, a
-- browser's landing page included, goes to the app.
function _M.share(tok)
    local var = ngx.var
    if var.arg_download ~= "1" and wants_html(ngx.req.get_headers()["accept"]) then
        return
    end
    if var.arg_password or var.http_x_share_password then
        return
    end
    local id = shares.resolve(tok)
    if not id then
        return
    end
    return _M.content(id, true)
end

-- log counts what the hot tier answered (the app counts the rest).
function _M.log(ctx)
    local hit = (ctx or ngx.ctx).docplat_hit
    if hit then
        hits.record(hit.id, hit.kind, hit.size)
    end
end

return _M
