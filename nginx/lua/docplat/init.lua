-- Entry points named in nginx.conf, so the config stays free of logic.
local _M = {}

function _M.init_worker()
    require("docplat.hot").init_worker()
    require("docplat.balancer").init_worker()
end

function _M.log()
    require("docplat.serve").log()
    require("docplat.balancer").log()
end

return _M
