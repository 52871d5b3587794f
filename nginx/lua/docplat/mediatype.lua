-- Content-Disposition exactly as Go's mime.FormatMediaType(disposition,
-- {"filename": name}) writes it (server/content.go), so that a hot answer
-- and the app's answer carry the same header byte for byte.
local _M = {}

local byte, format = string.byte, string.format

local tspecials = {}
for c in ("()<>@,;:\\\"/[]?="):gmatch(".") do
    tspecials[byte(c)] = true
end

local function token_char(b)
    return b > 0x20 and b < 0x7f and not tspecials[b]
end

local function is_token(s)
    if s == "" then
        return false
    end
    for i = 1, #s do
        if not token_char(byte(s, i)) then
            return false
        end
    end
    return true
end

local function needs_encoding(s)
    for i = 1, #s do
        local b = byte(s, i)
        if (b < 0x20 or b > 0x7e) and b ~= 0x09 then
            return true
        end
    end
    return false
end

function _M.disposition(kind, filename)
    if needs_encoding(filename) then
        -- RFC 2231: attribute-char is a token char other than * ' %.
        local enc = filename:gsub(".", function(c)
            local b = byte(c)
            if b <= 0x20 or b >= 0x7f or c == "*" or c == "'" or c == "%" or tspecials[b] then
                return format("%%%02X", b)
            end
            return c
        end)
        return kind .. "; filename*=utf-8''" .. enc
    end
    if is_token(filename) then
        return kind .. "; filename=" .. filename
    end
    return kind .. '; filename="' .. filename:gsub('([\\"])', "\\%1") .. '"'
end

return _M
