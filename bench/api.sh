#!/usr/bin/env bash
# HTTP API speed, in two parts, each against a baseline run side by side:
#  1. Twirp throughput with a keep-alive client: wrk (bench/api.lua) posts
#     livekit.RoomService/ListParticipants and GetParticipant (JSON, a roomAdmin token) for a
#     room holding real SIP calls (SIPp, bench/uac-room-hold.xml through dev routing), against
#     GET /healthz, the cheapest route of the same HTTP stack, with the same wrk settings.
#     Prints requests/s, wrk's latency p50/p99, the ratio to /healthz and switchboard's CPU;
#     a run with any non-2xx answer or socket error fails.
#  2. Outbound calls through the API: wrk posts livekit.SIP/CreateSIPParticipant (no
#     wait_until_answered, a room of its own per request) through an outbound trunk to a SIPp
#     UAS (bench/uas-answer-bye.xml: 100/180/200 PCMU, ACK, 1 s, BYE), paced at fixed rates
#     (a fixed schedule per wrk thread in bench/api.lua's delay(); the rate achieved is
#     printed) and then unpaced; the baseline is SIPp's UAC
#     (tests/sip/scenarios/uac-wait-bye.xml, the same call flow) calling the same UAS scenario
#     directly at the same rates. Prints requests accepted/s, calls answered/s by the UAS,
#     failed calls and CPU per call; the ratio of CPU per call is what switchboard (HTTP +
#     JSON + store + room + RTP ports + SIP) costs next to SIPp's signalling alone. A paced
#     step with a failed call fails; the unpaced one is an overload by design and only
#     reported (a few UAS-side failures there come from INVITE retransmissions racing the ACK).
#
#   bench/api.sh SWITCHBOARD
#
# Environment: API_THREADS (2), API_CONNS (8), API_SECS (10: each part-1 run),
# API_ROOM_CALLS (5), API_OUT_RATES ("200 500 1000" calls/s; empty: the unpaced step only),
# API_OUT_SECS (5: each part-2 step), API_OUT_HOLD_MS (1000: the UAS's pause before its BYE),
# API_PARTS ("rooms calls"), API_KEEP=1 keeps the work directory. About 90-100 s with the
# defaults.
# Every process started here is ended by its PID on exit. On a 2-core box wrk and SIPp share
# the cores with switchboard: compare ratios and CPU per request or call, not bare rates.
set -u

SB=${1:?usage: api.sh SWITCHBOARD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/proc.sh
. "$HERE/../tests/lib/proc.sh"
LUA=$HERE/api.lua
THREADS=${API_THREADS:-2}
CONNS=${API_CONNS:-8}
SECS=${API_SECS:-10}
ROOM_CALLS=${API_ROOM_CALLS:-5}
OUT_RATES=${API_OUT_RATES-"200 500 1000"}
OUT_SECS=${API_OUT_SECS:-5}
HOLD_MS=${API_OUT_HOLD_MS:-1000}
PARTS=${API_PARTS:-"rooms calls"}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

for t in wrk sipp curl; do
	command -v $t >/dev/null 2>&1 || { echo "api: $t not found (Debian packages wrk, sip-tester, curl)"; exit 1; }
done
[ -x "$SB" ] || { echo "api: switchboard binary $SB not executable"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-api.XXXXXX")
PIDS=()
SB_PID=
status=0

cleanup() {
	stop_pids 5 "${PIDS[@]}"
	[ -n "${API_KEEP:-}" ] && echo "api: work directory kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cpu_ticks() { # PID: utime + stime, in clock ticks
	sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
wait_bound() { # PORT SECONDS
	local n=$(($2 * 10))
	while ((n-- > 0)); do
		port_in_use "$1" && return 0
		sleep 0.1
	done
	return 1
}
two_ports() { # prints two distinct free ports
	local a b
	a=$(pick_ports 2) || return 1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		b=$(pick_ports 2) || return 1
		[ "$b" != "$a" ] && { echo "$a $b"; return 0; }
	done
	return 1
}

# pick_range N: an even port P with P .. P+N-1 all free on UDP (RTP), from 40000 up as
# pick_ports does for RTP ranges, in one pass over /proc/net: pick_ports samples a large range
# with processes per port, which takes many seconds on a busy box. TCP is left out: the
# kernel's ephemeral ports (wrk's connections among them) lie in the same range.
pick_range() {
	awk -v n="$1" -v seed="$RANDOM" '
		function hex(s, i, v) {
			v = 0
			for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789ABCDEF", toupper(substr(s, i, 1))) - 1
			return v
		}
		FNR > 1 { k = split($2, a, ":"); used[hex(a[k])] = 1 }
		END {
			srand(seed)
			n += 0
			for (t = 0; t < 200; t++) {
				p = 40000 + int(rand() * int((19000 - n) / 2)) * 2
				for (i = 0; i < n && !((p + i) in used); i++);
				if (i == n) { print p; exit 0 }
			}
			exit 1
		}' /proc/net/udp /proc/net/udp6 2>/dev/null
}

# start_sb RTP-PORTS: a fresh switchboard with up to that many RTP ports; SB_PID, SB_SIP,
# SB_HTTP, SB_RTP (the number of ports). Rooms close 1 s after their last participant leaves
# (every outbound call has a room of its own); the calls held in part 1 send no RTP, so the
# no-RTP hang-up is pushed past the run.
start_sb() {
	local ports rtp=
	ports=$(two_ports) || { echo "api: no free port"; exit 1; }
	read -r SB_SIP SB_HTTP <<<"$ports"
	# Other tests on the box hold small ranges here and there: a smaller free range then, and
	# pick_ports' sampling (slow, and blind between its samples) only as the last resort.
	for SB_RTP in "$1" $(($1 * 3 / 4)) $(($1 / 2)); do
		rtp=$(pick_range "$SB_RTP") && break
	done
	[ -n "$rtp" ] || rtp=$(pick_ports "$SB_RTP") || { echo "api: no free range of $SB_RTP RTP ports"; exit 1; }
	rm -rf "$WORK/data"
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen "127.0.0.1:$SB_SIP" --http-listen "127.0.0.1:$SB_HTTP" \
		--rtp-ports "$rtp-$((rtp + SB_RTP - 1))" --data-dir "$WORK/data" --log-level warn \
		--room-empty-timeout 1 --room-departure-timeout 1 --media-timeout-initial 600 --media-timeout 600 \
		>"$WORK/sb.out" 2>>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	wait_bound "$SB_HTTP" 10 && wait_bound "$SB_SIP" 5 ||
		{ echo "api: switchboard did not bind its ports"; tail -5 "$WORK/sb.log"; exit 1; }
}
stop_sb() {
	kill -TERM "$SB_PID" 2>/dev/null
	if ! wait_exit "$SB_PID" 10; then
		echo "api: switchboard still running 10 s after SIGTERM"
		kill -KILL "$SB_PID"
		status=1
	elif [ "$RC" != 0 ]; then
		echo "api: switchboard exited $RC after SIGTERM"
		status=1
	fi
}

# api NAME TOKEN METHOD BODY: POST /twirp/METHOD; the body in NAME.json, the status printed.
api() {
	curl -sS --max-time 10 -o "$WORK/$1.json" -w '%{http_code}' -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $2" -d "$4" "http://127.0.0.1:$SB_HTTP/twirp/$3" 2>>"$WORK/curl.err" ||
		echo 000
}

# run_wrk NAME SECONDS CONNECTIONS [RATE]: one wrk run against switchboard, paced at RATE
# requests/s when given (API_MODE and the rest exported by the caller). Sets W_REQ, W_DUR (s), W_RPS, W_P50, W_P99 (ms), W_NON2XX,
# W_SOCK (socket errors), W_ERR (first refusal), and W_C0/W_T0: switchboard's CPU ticks and the
# time at the start, W_CPU: switchboard's CPU % of one core during the run.
run_wrk() {
	local name=$1 secs=$2 conns=$3 line t1 c1 period
	period=$(awk -v r="${4:-0}" -v t="$THREADS" 'BEGIN { if (r > 0) printf "%.4f", t * 1000 / r; else print 0 }')
	W_C0=$(cpu_ticks "$SB_PID")
	W_T0=$EPOCHREALTIME
	# In the background so that a signal reaches the trap at once (cleanup ends wrk by its PID).
	API_PERIOD_MS=$period timeout -k 5 $((secs + 30)) wrk -t "$THREADS" -c "$conns" -d "${secs}s" \
		--timeout 5s -s "$LUA" "http://127.0.0.1:$SB_HTTP" >"$WORK/wrk-$name.out" 2>&1 &
	PIDS+=($!)
	wait $!
	t1=$EPOCHREALTIME
	c1=$(cpu_ticks "$SB_PID")
	line=$(grep -m 1 '^WRK requests=' "$WORK/wrk-$name.out")
	W_ERR=$(sed -n 's/^WRK first_error=//p' "$WORK/wrk-$name.out" | head -n 1)
	read -r W_REQ W_DUR W_RPS W_P50 W_P99 W_NON2XX W_SOCK W_CPU <<<"$(awk -v l="$line" -v t0="$W_T0" \
		-v t1="$t1" -v c0="${W_C0:-0}" -v c1="${c1:-0}" -v hz="$HZ" 'BEGIN {
		n = split(l, f, /[ =]/); for (i = 2; i < n; i += 2) v[f[i]] = f[i + 1]
		if (!("requests" in v)) { print "0 0 0 ? ? ? ? 0"; exit }
		d = v["duration_us"] / 1e6; if (d <= 0) d = 1
		w = t1 - t0; if (w <= 0) w = 1
		printf "%d %.2f %.0f %.2f %.2f %d %d %.0f\n", v["requests"], d, v["requests"] / d,
			v["p50_us"] / 1000, v["p99_us"] / 1000, v["status"] + v["non2xx"],
			v["connect"] + v["read"] + v["write"] + v["timeout"], (c1 - c0) / hz / w * 100 }')"
}

csv_col() { # FILE COLUMN-NAME: value in the last row (0 before the first row)
	awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
		END { if (c && NR > 1) print $c; else print 0 }' "$1" 2>/dev/null || echo 0
}

# ---------------------------------------------------------------------------------------------
# Part 1: RoomService throughput against /healthz.
part_rooms() {
	local lp mp uac_pid token ids n route base ok
	echo "== API throughput: wrk keep-alive, $THREADS threads, $CONNS connections, ${SECS} s per route;" \
		"room R holds $ROOM_CALLS SIP calls (SIPp) =="
	start_sb 100
	lp=$(pick_ports 2)
	mp=$(pick_ports 4)
	sipp -sf "$HERE/uac-room-hold.xml" -s room-R -i 127.0.0.1 -p "$lp" -mp "$mp" -m "$ROOM_CALLS" \
		-r 20 -l "$ROOM_CALLS" -nostdin -timeout 900 -trace_err -error_file "$WORK/room-uac.err" \
		"127.0.0.1:$SB_SIP" >"$WORK/room-uac.out" 2>&1 &
	uac_pid=$!
	PIDS+=("$uac_pid")
	token=$("$SB" token --grant video.roomAdmin --room R --ttl 3600) || { echo "api: token failed"; exit 1; }
	ids=
	for _ in $(seq 1 100); do
		if [ "$(api parts "$token" livekit.RoomService/ListParticipants '{"room":"R"}')" = 200 ]; then
			ids=$(grep -o '"identity":"[^"]*"' "$WORK/parts.json" | sed 's/^"identity":"//; s/"$//' | paste -sd, -)
			n=$(grep -o '"state":"ACTIVE"' "$WORK/parts.json" | wc -l)
			[ "$n" -ge "$ROOM_CALLS" ] && break
		fi
		sleep 0.1
	done
	if [ "${n:-0}" -lt "$ROOM_CALLS" ]; then
		echo "api: room R has ${n:-0} active participants of $ROOM_CALLS after 10 s"
		status=1
		stop_sb
		return
	fi
	echo "   ListParticipants answers $(wc -c <"$WORK/parts.json") bytes of JSON; GetParticipant asks for" \
		"each participant in turn (about $(($(wc -c <"$WORK/parts.json") / ROOM_CALLS)) bytes)"
	echo "   CPU: 100 % = one core; $(nproc) cores shared by wrk, SIPp and switchboard"
	printf '  %-24s %9s %8s %8s %10s %7s %9s %8s  %s\n' route "req/s" "p50" "p99" "vs-healthz" "sb-CPU" \
		"CPU/req" "non-2xx" result
	export API_TOKEN=$token API_ROOM=R API_IDS=$ids
	base=0
	for route in healthz list get; do
		case $route in
		healthz) label="GET /healthz (baseline)" ;;
		list) label="ListParticipants ($ROOM_CALLS)" ;;
		get) label="GetParticipant" ;;
		esac
		API_MODE=$route run_wrk "$route" "$SECS" "$CONNS"
		[ "$route" = healthz ] && base=$W_RPS
		ok=yes
		[ "$W_REQ" -gt 0 ] && [ "$W_NON2XX" = 0 ] && [ "$W_SOCK" = 0 ] || ok=no
		printf '  %-24s %9s %6sms %6sms %10s %6s%% %6sus %8s  %s\n' "$label" "$W_RPS" "$W_P50" "$W_P99" \
			"$(awk -v a="$W_RPS" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')" \
			"$W_CPU" "$(awk -v c="$W_CPU" -v r="$W_RPS" 'BEGIN { if (r > 0) printf "%.1f", c * 10000 / r; else print "?" }')" \
			"$W_NON2XX" "$([ $ok = yes ] && echo ok || echo "FAILED (socket errors $W_SOCK; $WORK/wrk-$route.out)")"
		[ $ok = yes ] || status=1
		SUM_RPS[$route]=$W_RPS
		SUM_CPU[$route]=$W_CPU
		SUM_P99[$route]=$W_P99
	done
	unset API_TOKEN API_ROOM API_IDS
	# SIGTERM hangs up the held calls: SIPp answers the BYEs and exits 0.
	stop_sb
	wait_exit "$uac_pid" 10 || { kill -KILL "$uac_pid"; wait_exit "$uac_pid" 1; }
	[ "$RC" = 0 ] || echo "api: the room's SIPp UAC exited $RC ($(head -c 200 "$WORK/room-uac.err" 2>/dev/null))"
	echo
}

# ---------------------------------------------------------------------------------------------
# Part 2: outbound calls through CreateSIPParticipant against SIPp's UAC.

# start_uas NAME: a SIPp UAS on bench/uas-answer-bye.xml; UAS_PID, UAS_PORT, UAS_CSV.
start_uas() {
	local mp
	UAS_PORT=$(pick_ports 2)
	mp=$(pick_ports 4)
	UAS_CSV=$WORK/uas-$1.csv
	sipp -sf "$HERE/uas-answer-bye.xml" -i 127.0.0.1 -p "$UAS_PORT" -mp "$mp" -d "$HOLD_MS" \
		-buff_size 4194304 -nostdin -trace_stat -stf "$UAS_CSV" -fd 1 \
		-trace_err -error_file "$WORK/uas-$1.err" -ringbuffer_files 1 -ringbuffer_size 5000000 \
		>"$WORK/uas-$1.out" 2>&1 &
	UAS_PID=$!
	PIDS+=("$UAS_PID")
	wait_bound "$UAS_PORT" 10 || { echo "api: SIPp UAS did not bind port $UAS_PORT"; exit 1; }
}
stop_uas() {
	kill -TERM "$UAS_PID" 2>/dev/null
	wait_exit "$UAS_PID" 5 || { kill -KILL "$UAS_PID"; wait_exit "$UAS_PID" 1; }
}

# drain WANT: wait (up to the call length + 8 s) until the UAS has ended WANT calls more than
# at the step's start (U_OK0, U_FAIL0) and holds none; sets D_OK, D_FAIL (the step's counts).
drain() {
	local n=$(((HOLD_MS / 1000 + 8) * 4)) ok fail cur
	while ((n-- > 0)); do
		sleep 0.25
		ok=$(csv_col "$UAS_CSV" 'SuccessfulCall(C)')
		fail=$(csv_col "$UAS_CSV" 'FailedCall(C)')
		cur=$(csv_col "$UAS_CSV" 'CurrentCall')
		[ $((ok + fail - U_OK0 - U_FAIL0)) -ge "$1" ] && [ "$cur" = 0 ] && break
	done
	D_OK=$((ok - U_OK0))
	D_FAIL=$((fail - U_FAIL0))
}

# out_row TARGET OFFERED SECS REQUESTS ACCEPTED/S ANSWERED FAILED P99 TARGET-CPU-TICKS WALL UAS-TICKS
out_row() {
	awk -v tg="$1" -v off="$2" -v s="$3" -v rq="$4" -v acc="$5" -v ans="$6" -v fl="$7" -v p99="$8" \
		-v tt="$9" -v w="${10}" -v ut="${11}" -v hz="$HZ" -v secs="$3" 'BEGIN {
		calls = ans + fl; if (calls <= 0) calls = 1; if (w <= 0) w = 1
		printf "  %-12s %7s %4ss %8s %9s %8s %10.0f %6s %7s %8.0f%% %7.1fus %7.1fus\n", tg, off, s, rq, acc,
			ans, ans / secs, fl, p99, tt / hz / w * 100, tt / hz / calls * 1e6, ut / hz / calls * 1e6 }'
}

part_calls() {
	local token trunk rate conns st failed u0 t1 c1 u1 accepted lp mp uac_pid calls uacu v n clean maxacc
	# Each call holds an RTP/RTCP pair for its ${HOLD_MS} ms and its teardown: 8,000 pairs cover
	# more than 5,000 calls/s.
	start_sb 16000
	echo "== outbound calls through the API: CreateSIPParticipant (no wait) -> SIPp UAS" \
		"(bench/uas-answer-bye.xml: 100/180/200 PCMU, ACK, ${HOLD_MS} ms, BYE), UDP on loopback =="
	echo "   switchboard: wrk, $THREADS threads, paced to the offered rate, then unpaced with $CONNS connections (max);" \
		"each call a room of its own and an RTP port pair ($SB_RTP ports), no RTP sent"
	echo "   sipp-uac: SIPp's UAC (tests/sip/scenarios/uac-wait-bye.xml) calls the same UAS scenario at the same rates"
	echo "   failed: refused by the API, failed at the UAS, or never ended there; wrk does not count the requests in flight" \
		"when its time is up, so answered may exceed requests by up to one per connection"
	echo "   CPU/call: the target's CPU (switchboard, or the SIPp UAC) per call over the step and its drain; uas/call: the UAS's"
	printf '  %-12s %7s %5s %8s %9s %8s %10s %6s %7s %9s %9s %9s\n' target offered time requests \
		"accepted/s" answered "answered/s" failed "p99" "tgt-CPU" "CPU/call" "uas/call"
	start_uas sb
	token=$("$SB" token --grant sip.admin,sip.call --ttl 3600) || { echo "api: token failed"; exit 1; }
	st=$(api trunk "$token" livekit.SIP/CreateSIPOutboundTrunk \
		"{\"trunk\":{\"name\":\"bench\",\"address\":\"127.0.0.1:$UAS_PORT\",\"numbers\":[\"+15550100\"]}}")
	trunk=$(sed -n 's/.*"sip_trunk_id":"\([^"]*\)".*/\1/p' "$WORK/trunk.json")
	if [ "$st" != 200 ] || [ -z "$trunk" ]; then
		echo "api: CreateSIPOutboundTrunk: HTTP $st $(head -c 200 "$WORK/trunk.json")"
		status=1
		stop_uas
		stop_sb
		return
	fi
	export API_MODE=create API_TOKEN=$token API_TRUNK=$trunk
	maxacc=0
	for rate in $OUT_RATES max; do
		U_OK0=$(csv_col "$UAS_CSV" 'SuccessfulCall(C)')
		U_FAIL0=$(csv_col "$UAS_CSV" 'FailedCall(C)')
		u0=$(cpu_ticks "$UAS_PID")
		if [ "$rate" = max ]; then
			run_wrk "create-max" "$OUT_SECS" "$CONNS"
		else
			# Paced: enough connections that a slow answer does not hold up the schedule.
			conns=$(((rate + 19) / 20))
			((conns < THREADS)) && conns=$THREADS
			((conns > 100)) && conns=100
			run_wrk "create-$rate" "$OUT_SECS" "$conns" "$rate"
		fi
		accepted=$((W_REQ - W_NON2XX))
		drain "$accepted"
		t1=$EPOCHREALTIME
		c1=$(cpu_ticks "$SB_PID")
		u1=$(cpu_ticks "$UAS_PID")
		# wrk does not count the requests still in flight when its time is up (at most one per
		# connection), yet switchboard places those calls too: answered may exceed accepted.
		failed=$((W_NON2XX + D_FAIL + (accepted > D_OK + D_FAIL ? accepted - D_OK - D_FAIL : 0)))
		out_row switchboard "$rate" "$OUT_SECS" "$W_REQ" \
			"$(awk -v a="$accepted" -v d="$W_DUR" 'BEGIN { printf "%.0f", a / d }')" "$D_OK" \
			"$failed" "${W_P99}ms" $((c1 - W_C0)) "$(awk -v a="$W_T0" -v b="$t1" 'BEGIN { print b - a }')" \
			$((u1 - u0))
		clean=yes
		[ "$failed" = 0 ] && [ "$W_SOCK" = 0 ] && [ "$W_REQ" -gt 0 ] || clean=no
		if [ $clean = no ]; then
			echo "      not clean: $W_NON2XX refused, $W_SOCK socket errors, $D_FAIL failed at the UAS," \
				"$((accepted > D_OK + D_FAIL ? accepted - D_OK - D_FAIL : 0)) not ended${W_ERR:+; first refusal: $W_ERR}"
			[ "$D_FAIL" = 0 ] || grep -E '^[0-9]{4}-[0-9]{2}-[0-9]{2}' "$WORK/uas-sb.err" 2>/dev/null |
				tail -n 1 | cut -f 3- | cut -c1-200 | sed 's/^/      last UAS error: /'
			[ "$rate" = max ] || status=1
		fi
		SUM_SB[$rate]="$(awk -v a="$accepted" -v d="$W_DUR" 'BEGIN { printf "%.0f", a / d }') $D_OK $failed $(awk -v c=$((c1 - W_C0)) -v hz="$HZ" -v n=$((D_OK + failed)) 'BEGIN { if (n > 0) printf "%.1f", c / hz / n * 1e6; else print "?" }')"
		[ "$rate" = max ] && maxacc=$(awk -v a="$accepted" -v d="$W_DUR" 'BEGIN { printf "%d", a / d / 100 + 0.5 }')
	done
	unset API_MODE API_TOKEN API_TRUNK
	stop_uas
	stop_sb

	# Baseline: a fresh UAS on the same scenario, SIPp's UAC at the same rates (and at the rate
	# switchboard accepted unpaced, rounded to 100).
	start_uas sipp
	[[ " $OUT_RATES " == *" $((maxacc * 100)) "* ]] && maxacc=0
	for rate in $OUT_RATES $((maxacc * 100)); do
		[ "$rate" -gt 0 ] || continue
		U_OK0=$(csv_col "$UAS_CSV" 'SuccessfulCall(C)')
		U_FAIL0=$(csv_col "$UAS_CSV" 'FailedCall(C)')
		u0=$(cpu_ticks "$UAS_PID")
		calls=$((rate * OUT_SECS))
		lp=$(pick_ports 2)
		mp=$(pick_ports 4)
		t0=$EPOCHREALTIME
		sipp "127.0.0.1:$UAS_PORT" -sf "$HERE/../tests/sip/scenarios/uac-wait-bye.xml" -i 127.0.0.1 -p "$lp" \
			-mp "$mp" -r "$rate" -rp 1000 -m "$calls" -l 100000 -buff_size 4194304 -nostdin \
			-timeout $((OUT_SECS * 2 + HOLD_MS / 1000 + 20)) -trace_stat -stf "$WORK/uac-$rate.csv" -fd 1 \
			-trace_err -error_file "$WORK/uac-$rate.err" -ringbuffer_files 1 -ringbuffer_size 5000000 \
			>"$WORK/uac-$rate.out" 2>&1 &
		uac_pid=$!
		PIDS+=("$uac_pid")
		# Wait (bounded), sampling the UAC's CPU while it runs (it ends once its calls have).
		n=$(((OUT_SECS * 2 + HOLD_MS / 1000 + 25) * 10))
		uacu=0
		while ((n-- > 0)) && is_running "$uac_pid"; do
			v=$(cpu_ticks "$uac_pid")
			[ -n "$v" ] && uacu=$v
			sleep 0.1
		done
		if is_running "$uac_pid"; then
			kill -TERM "$uac_pid"
			wait_exit "$uac_pid" 3 || kill -KILL "$uac_pid"
		fi
		wait_exit "$uac_pid" 1
		drain "$calls"
		t1=$EPOCHREALTIME
		u1=$(cpu_ticks "$UAS_PID")
		out_row sipp-uac "$rate" "$OUT_SECS" "$calls" "$rate" "$D_OK" $((calls - D_OK)) "-" "$uacu" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" $((u1 - u0))
		[ "$D_OK" = "$calls" ] || echo "      not clean: $D_FAIL failed at the UAS, SIPp UAC exit $RC ($(grep -m 1 -v -e '^$' -e '^The following' "$WORK/uac-$rate.err" 2>/dev/null | cut -c1-160))"
		SUM_UAC[$rate]=$(awk -v c="$uacu" -v hz="$HZ" -v n="$D_OK" 'BEGIN { if (n > 0) printf "%.1f", c / hz / n * 1e6; else print "?" }')
	done
	stop_uas
	SUM_MAXRATE=$((maxacc * 100))
	echo
}

declare -A SUM_RPS SUM_CPU SUM_P99 SUM_SB SUM_UAC
SUM_MAXRATE=0
[[ " $PARTS " == *" rooms "* ]] && part_rooms
[[ " $PARTS " == *" calls "* ]] && part_calls

if [ -n "${SUM_RPS[healthz]:-}" ]; then
	for r in list get; do
		[ -n "${SUM_RPS[$r]:-}" ] || continue
		printf '  %-16s %6s req/s (%s of /healthz'"'"'s %s), p99 %s ms, %s us of switchboard CPU per request\n' \
			"$([ $r = list ] && echo ListParticipants || echo GetParticipant)" "${SUM_RPS[$r]}" \
			"$(awk -v a="${SUM_RPS[$r]}" -v b="${SUM_RPS[healthz]}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "?" }')" \
			"${SUM_RPS[healthz]}" "${SUM_P99[$r]}" \
			"$(awk -v c="${SUM_CPU[$r]}" -v r="${SUM_RPS[$r]}" 'BEGIN { if (r > 0) printf "%.1f", c * 10000 / r; else print "?" }')"
	done
fi
if [ -n "${SUM_SB[max]:-}" ]; then
	read -r acc ok fl cpc <<<"${SUM_SB[max]}"
	echo "  CreateSIPParticipant unpaced: $acc calls/s accepted," \
		"$ok answered, $fl failed or refused in ${OUT_SECS} s; $cpc us of switchboard CPU per call"
	for rate in $OUT_RATES $SUM_MAXRATE; do
		[ -n "${SUM_UAC[$rate]:-}" ] || continue
		if [ -n "${SUM_SB[$rate]:-}" ]; then
			read -r acc ok fl cpc <<<"${SUM_SB[$rate]}"
		else
			cpc=${SUM_SB[max]##* }
		fi
		echo "  at $rate calls/s$([ -n "${SUM_SB[$rate]:-}" ] || echo " (switchboard unpaced)"): switchboard $cpc us CPU per call, SIPp UAC ${SUM_UAC[$rate]} us;" \
			"ratio $(awk -v a="$cpc" -v b="${SUM_UAC[$rate]}" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "?" }')"
	done
fi
echo "  (api.sh took ${SECONDS} s)"
exit $status
