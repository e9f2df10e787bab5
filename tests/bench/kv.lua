-- wrk script for `make bench`: the same load against raftkv and etcd.
--   BENCH_SYSTEM  raftkv | etcd
--   BENCH_OP      write | read      (reads are linearizable on both)
--   BENCH_KEYS    keys drawn uniformly from bench-0 .. bench-(N-1)
--   BENCH_VALUE   value size in bytes
-- Each system gets its own native HTTP API: raftkv PUT /kv/{key} with the raw
-- value, GET /kv/{key}?consistency=linearizable; etcd's v3 JSON gateway
-- POST /v3/kv/put and /v3/kv/range (linearizable is etcd's default) with
-- base64 keys and values. done() prints one JSON line for tests/bench.sh;
-- ops_per_s counts only 2xx answers (non-2xx are in errors).
local system = os.getenv("BENCH_SYSTEM") or "raftkv"
local op = os.getenv("BENCH_OP") or "write"
local nkeys = tonumber(os.getenv("BENCH_KEYS") or "100")
local vsize = tonumber(os.getenv("BENCH_VALUE") or "16")

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
	return ((s:gsub(".", function(x)
		local r, b = "", x:byte()
		for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
		return r
	end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
		if #x < 6 then return "" end
		local c = 0
		for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
		return b64chars:sub(c + 1, c + 1)
	end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local value = string.rep("v", vsize)
local reqs = {}

function init(args)
	math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
	for i = 0, nkeys - 1 do
		local key = "bench-" .. i
		if system == "etcd" then
			local hdr = { ["Content-Type"] = "application/json" }
			if op == "write" then
				reqs[i + 1] = wrk.format("POST", "/v3/kv/put", hdr,
					'{"key":"' .. b64(key) .. '","value":"' .. b64(value) .. '"}')
			else
				reqs[i + 1] = wrk.format("POST", "/v3/kv/range", hdr, '{"key":"' .. b64(key) .. '"}')
			end
		else
			if op == "write" then
				reqs[i + 1] = wrk.format("PUT", "/kv/" .. key, nil, value)
			else
				reqs[i + 1] = wrk.format("GET", "/kv/" .. key .. "?consistency=linearizable")
			end
		end
	end
end

function request()
	return reqs[math.random(nkeys)]
end

function done(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	io.write(string.format('{"requests":%d,"seconds":%.3f,"ops_per_s":%.1f,"p50_ms":%.3f,' ..
		'"p99_ms":%.3f,"errors":%d}\n', summary.requests, secs, (summary.requests - e.status) / secs,
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		e.connect + e.read + e.write + e.status + e.timeout))
end
