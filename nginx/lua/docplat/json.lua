-- Small JSON helpers shared by the admin and serving paths.
-- Debian's lua-cjson (2.1.0) lacks OpenResty's array_mt, so lists are
-- written by items() to keep an empty list a JSON array.
local cjson = require("cjson.safe")

local _M = { encode = cjson.encode, decode = cjson.decode }

-- items encodes {"items":[...]} from a Lua array of objects.
function _M.items(list)
    local parts = {}
    for i, v in ipairs(list) do
        parts[i] = cjson.encode(v)
    end
    return '{"items":[' .. table.concat(parts, ",") .. "]}"
end

-- error_body mirrors server/errors.go: {"error":{"code","message"}} in that
-- order, with the trailing newline that Go's json.Encoder writes.
function _M.error_body(code, message)
    return '{"error":{"code":' .. cjson.encode(code) .. ',"message":' .. cjson.encode(message) .. "}}\n"
end

-- reply ends an admin request with a JSON body.
function _M.reply(status, tbl)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    ngx.print(type(tbl) == "string" and tbl or cjson.encode(tbl), "\n")
    return ngx.exit(ngx.HTTP_OK)
end

function _M.fail(status, code, message)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json; charset=utf-8"
    ngx.print(_M.error_body(code, message))
    return ngx.exit(ngx.HTTP_OK)
end

return _M
