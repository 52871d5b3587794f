-- Read tokens, the Lua twin of the Go package readtoken (see its doc for the
-- format). A token that fails any check only means "ask the app".
local config = require("docplat.config")

local _M = {}

-- Revocations by user: "u:<user id>" holds a cutoff (unix seconds) below
-- which that user's tokens are refused; "started_at" is when this nginx
-- started (kept across reloads, which keep the dict). Nothing but these
-- writes goes into the dict, so no revocation is ever evicted to make room.
local revoked = ngx.shared.docplat_revoked

-- init runs once per start, in the master (init_by_lua): add keeps the
-- first start's time across reloads.
function _M.init()
    revoked:add("started_at", ngx.now())
end

-- cutoff is the cutoff for user: a token of that user expiring at or
-- before it may have been issued before a change of the user's rights
-- (revoke) or before this nginx started, when revocations pushed to the
-- previous process were lost with its memory. readtoken.Expiry rounds
-- down to the second, so a token issued in an earlier second than the
-- start expires at or before floor(start) + ttl - 1. Tokens of the start's
-- own second pass: refusing them would refuse those issued just after the
-- start as well, for their whole life.
local function cutoff(user)
    local c = math.floor(revoked:get("started_at") or 0) + config.token_ttl - 1
    local u = revoked:get("u:" .. user)
    if u and u > c then
        return u
    end
    return c
end

-- revoke refuses user's tokens expiring at or before upto (never lowering
-- an earlier, later cutoff); the entry lives until those tokens expired
-- anyway. nil, err: the dict is full (nothing was evicted).
function _M.revoke(user, upto, now)
    local cur = revoked:get("u:" .. user)
    if cur and cur >= upto then
        return true
    end
    local ttl = upto - now + 1
    if ttl < 1 then
        return true -- every such token has expired already
    end
    return revoked:safe_set("u:" .. user, upto, ttl)
end

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
    if exp <= cutoff(user) then
        return nil, "revoked"
    end
    return user
end

return _M
