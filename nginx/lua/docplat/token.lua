-- Read tokens, the Lua twin of the Go package readtoken (see its doc for the
-- format). A token that fails any check only means "ask the app".
local config = require("docplat.config")

local _M = {}

local byte, tonumber, tostring = string.byte, tonumber, tostring

local function unhex(s)
    return (s:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
end

-- equal compares without stopping at the first difference.
local function equal(a, b)
    if #a ~= #b then
        return false
    end
    local diff = 0
    for i = 1, #a do
        diff = bit.bor(diff, bit.bxor(byte(a, i), byte(b, i)))
    end
    return diff == 0
end

-- canonical_int accepts the decimal spellings Go's strconv round-trips.
local function canonical_int(s)
    if not s:find("^%d+$") or #s > 15 then
        return nil
    end
    local n = tonumber(s)
    if tostring(n) ~= s then
        return nil
    end
    return n
end

-- verify returns the user id, or nil and why.
function _M.verify(token, doc_id, rev, now)
    if not token or #token > 512 then
        return nil, "malformed"
    end
    local v, e, user, r, sig = token:match("^([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)%.([^.]*)$")
    if v ~= "v1" or user == "" then
        return nil, "malformed"
    end
    local exp, trev = canonical_int(e), canonical_int(r)
    if not exp or not trev or not sig:find("^%x+$") or #sig ~= 40 then
        return nil, "malformed"
    end
    local want = ngx.hmac_sha1(config.token_secret, "v1|" .. doc_id .. "|" .. user .. "|" .. r .. "|" .. e)
    if not equal(unhex(sig), want) then
        return nil, "bad signature"
    end
    if exp <= now then
        return nil, "expired"
    end
    if trev ~= rev then
        return nil, "stale revision"
    end
    return user
end

return _M
