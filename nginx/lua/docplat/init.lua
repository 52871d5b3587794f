-- Entry points named in nginx.conf, so the config stays free of logic.
local _M = {}

function _M.init_worker()
    require("docplat.hot").init_worker()
    require("docplat.balancer").init_worker()
end

local serve = require("docplat.serve")
local balancer = require("docplat.balancer")

-- log is the content location's log phase: the hot tier's hit count, then
-- the balancer's bookkeeping, sharing one ngx.ctx lookup.
function _M.log()
    local ctx = ngx.ctx
    serve.log(ctx)
    balancer.log(ctx)
end

return _M
