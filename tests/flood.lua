local vsize = tonumber(os.getenv("FLOOD_VALUE") or "1048576")
local value = string.rep("v", vsize)
local n = 0
local statuses = {}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) st = {} end
function request()
	n = n + 1
	return wrk.format("PUT", "/kv/big-" .. (n % 64), nil, value)
end
function response(status, headers, body)
	st[status] = (st[status] or 0) + 1
end
function done(summary, latency, requests)
	local tot = {}
	for _, t in ipairs(threads) do
		local s = t:get("st")
		for k, v in pairs(s) do tot[k] = (tot[k] or 0) + v end
	end
	local out = ""
	for k, v in pairs(tot) do out = out .. k .. " x" .. v .. " " end
	io.write("statuses: " .. out .. " socket errors: connect " .. summary.errors.connect .. " read " .. summary.errors.read .. " write " .. summary.errors.write .. " timeout " .. summary.errors.timeout .. "\n")
end
