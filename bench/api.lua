-- bench/api.sh's wrk script: the request of one run, chosen by environment, and one
-- machine-readable result line. Requests are formatted once per thread where they do not change.
--   API_MODE   healthz | list | get | create
--   API_TOKEN  the Bearer token (not for healthz)
--   API_ROOM   list, get: the room; API_IDS (get): identities, comma-separated, taken in turn
--   API_TRUNK  create: the outbound trunk id; every request dials into a room of its own
--              (bench-<thread>-<n>, identity "callee"), so no two calls share a room
--   API_PERIOD_MS  > 0: pacing; each thread sends its requests on a fixed schedule, one every
--              API_PERIOD_MS (threads * 1000 / rate), whichever of its connections is free
--              (delay() returns the time to the next slot; a thread more than 250 ms behind
--              skips ahead rather than bursting). Wants LuaJIT's ffi for a wall clock.
-- done() prints: WRK requests=N duration_us=N p50_us=N p99_us=N non2xx=N connect=N read=N
--   write=N timeout=N, and for create a line WRK first_error=STATUS BODY when a request was refused

local mode = os.getenv("API_MODE") or "healthz"
local token = os.getenv("API_TOKEN") or ""
local room = os.getenv("API_ROOM") or ""
local trunk = os.getenv("API_TRUNK") or ""
local period = tonumber(os.getenv("API_PERIOD_MS") or "0") or 0

local threads = {}

function setup(thread)
	table.insert(threads, thread)
	thread:set("tid", #threads)
end

local reqs = {}
local turn = 0
local n = 0

local function post(method, body)
	return wrk.format("POST", "/twirp/" .. method, {
		["Content-Type"] = "application/json",
		["Authorization"] = "Bearer " .. token,
	}, body)
end

function init(args)
	if mode == "healthz" then
		reqs[1] = wrk.format("GET", "/healthz")
	elseif mode == "list" then
		reqs[1] = post("livekit.RoomService/ListParticipants", '{"room":"' .. room .. '"}')
	elseif mode == "get" then
		for id in string.gmatch(os.getenv("API_IDS") or "", "[^,]+") do
			table.insert(reqs, post("livekit.RoomService/GetParticipant",
				'{"room":"' .. room .. '","identity":"' .. id .. '"}'))
		end
	end
end

function request()
	if mode == "create" then
		n = n + 1
		return post("livekit.SIP/CreateSIPParticipant", string.format(
			'{"sip_trunk_id":"%s","sip_call_to":"+15551234","room_name":"bench-%d-%d",' ..
			'"participant_identity":"callee"}', trunk, tid or 0, n))
	end
	turn = turn % #reqs + 1
	return reqs[turn]
end

-- create: keep the first refusal (status and Twirp error) to say why calls were refused.
if mode == "create" then
	first_err = nil
	function response(status, headers, body)
		if status >= 300 and not first_err then
			first_err = status .. " " .. string.sub(string.gsub(body or "", "%s+", " "), 1, 160)
		end
	end
end

if period > 0 then
	local ffi = require("ffi")
	ffi.cdef[[
		typedef struct { long tv_sec; long tv_nsec; } sb_bench_timespec;
		int clock_gettime(int clock, sb_bench_timespec *ts);
	]]
	local ts = ffi.new("sb_bench_timespec")
	local function now_ms()
		ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
		return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
	end
	local slot = nil
	function delay()
		local now = now_ms()
		if not slot or now - slot > 250 then
			slot = now
		end
		local wait = slot - now
		slot = slot + period
		return wait > 0 and math.floor(wait) or 0
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"WRK requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		e.status, e.connect, e.read, e.write, e.timeout))
	for _, t in ipairs(threads) do
		local fe = t:get("first_err")
		if fe then
			io.write("WRK first_error=" .. fe .. "\n")
			break
		end
	end
end
