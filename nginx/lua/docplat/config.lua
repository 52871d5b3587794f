-- Settings rendered by the Go package (nginx/render.go) into init_by_lua.
-- Secrets arrive hex-encoded so that no byte of them can break the config's
-- syntax; they are decoded once here, in the master, before the fork.
local _M = {}

local function unhex(s)
    return (s:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end))
end

function _M.init(c)
    for k, v in pairs(c) do
        _M[k] = v
    end
    _M.admin_secret = unhex(c.admin_secret_hex)
    _M.token_secret = unhex(c.token_secret_hex)
    _M.admin_secret_hex, _M.token_secret_hex = nil, nil
end

return _M
