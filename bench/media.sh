#!/usr/bin/env bash
# Concurrent calls with media: N calls held at once, each with 50 RTP packets/s both ways, echoed
# by switchboard (a call to a user other than room-* joins a fresh room with an echo participant:
# jitter buffer, decode, the room's mix-minus, encode, every 20 ms; a room of narrowband
# participants mixes at 8 kHz, a G.722 or Opus 16 kHz one at 16 kHz).
# The offers carry telephone-event, as carriers' do; a trunk without it adds in-band DTMF
# detection to every call.
#
#   bench/media.sh SWITCHBOARD [BENCH_RTPGEN]
#
# SIPp (bench/uac-media.xml) does the signalling only: its SDP offer points every call at one UDP
# port of bench_rtpgen (bench/rtpgen.c), which answers each new source (switchboard's legs) with
# its own paced stream in the codec under test and counts the sequence gaps of what comes back.
# Per codec: ramp to N calls, settle, then measure over a mid-run window: switchboard's CPU
# (utime+stime of all threads from /proc/PID/stat; 100 % = one core), its RSS over the idle RSS
# (memory per call), packets lost both ways (generator's gaps + kernel drops at switchboard's
# sockets), packets per second per call coming back, how many echoed frames carry audio (the
# generator decodes a few streams), the generator's and SIPp's CPU.
# A run is "clean" with no loss, 50 +- 0.5 packets/s per call, >= 97 % audible echo frames, every
# call held, and the target below 95 % of the CPU it may use; otherwise it is "degraded" and the
# codec is measured again at a lower N estimated from the first run, for a sound CPU-per-call
# figure (a saturated target shows a per-call CPU that is only a lower bound).
# Baseline: the same generator against SIPp's own RTP echo (`sipp -sn uas -rtp_echo`, one thread,
# PCMU, no decoding): its CPU per call next to switchboard's; halved until clean if it is not.
#
# Pinning (default): the target (switchboard with --media-workers 1, or SIPp's echo) alone on
# CPU 1, the generator and the SIPp UAC on CPU 0, so "% of one core" is exactly that and the
# load generators never steal the target's CPU. BENCH_MEDIA_PIN=0 runs unpinned (switchboard with
# one media worker per CPU, everything sharing both cores: the box's capacity).
#
# Environment: BENCH_MEDIA_SECONDS (window, 30), BENCH_MEDIA_PCMU_N (2000), BENCH_MEDIA_G722_N
# (800), BENCH_MEDIA_OPUS_N (400), BENCH_MEDIA_OPUS_CX (switchboard's Opus encoder complexity,
# 5; the generator's stays 5), BENCH_MEDIA_ECHO_N (the PCMU N), BENCH_MEDIA_RUNS ("pcmu g722
# opus sipp-echo"), BENCH_MEDIA_RATE (calls/s during the ramp, 500), BENCH_MEDIA_SETTLE (s, 3),
# BENCH_MEDIA_RETRY (1: measure a degraded codec again at a lower N; 0: no), BENCH_MEDIA_PIN,
# BENCH_MEDIA_WORKERS (switchboard --media-workers), BENCH_MEDIA_SB_ARGS (more switchboard flags,
# e.g. "--rtp-uring false" to compare system calls), BENCH_MEDIA_KEEP=1 keeps the work directory.
# Quick check: BENCH_MEDIA_SECONDS=5 BENCH_MEDIA_PCMU_N=200 BENCH_MEDIA_G722_N=100
# BENCH_MEDIA_OPUS_N=40 (about 1.5 minutes). About 5 to 6 minutes with the defaults.
# Every process started here is ended by its PID on exit.
set -u

SB=${1:?usage: media.sh SWITCHBOARD [BENCH_RTPGEN]}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN=${2:-$(dirname "$SB")/bench/bench_rtpgen}
# shellcheck source=../tests/lib/proc.sh
. "$HERE/../tests/lib/proc.sh"
SCEN=$HERE/uac-media.xml
WIN=${BENCH_MEDIA_SECONDS:-30}
RATE=${BENCH_MEDIA_RATE:-500}
SETTLE=${BENCH_MEDIA_SETTLE:-3}
RETRY=${BENCH_MEDIA_RETRY:-1}
RUNS=${BENCH_MEDIA_RUNS:-"pcmu g722 opus sipp-echo"}
OPUS_CX=${BENCH_MEDIA_OPUS_CX:-5}
PIN=${BENCH_MEDIA_PIN:-1}
declare -A N=([pcmu]=${BENCH_MEDIA_PCMU_N:-2000} [g722]=${BENCH_MEDIA_G722_N:-800}
	[opus]=${BENCH_MEDIA_OPUS_N:-400})
N[sipp-echo]=${BENCH_MEDIA_ECHO_N:-${N[pcmu]}}
declare -A TARGET_N=([pcmu]=2000 [g722]=800 [opus]=400)
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

command -v sipp >/dev/null 2>&1 || { echo "media: sipp not found (Debian package sip-tester)"; exit 1; }
[ -x "$SB" ] || { echo "media: switchboard binary $SB not executable"; exit 1; }
[ -x "$GEN" ] || { echo "media: generator $GEN not found (build target bench_rtpgen)"; exit 1; }
if [ "$PIN" = 1 ] && { ! command -v taskset >/dev/null 2>&1 || [ "$(nproc)" -lt 2 ]; }; then
	echo "media: taskset or a second CPU missing: running unpinned"
	PIN=0
fi
if [ "$PIN" = 1 ]; then
	WORKERS=${BENCH_MEDIA_WORKERS:-1}
	AVAIL=100 # CPU the target may use, % of one core
else
	WORKERS=${BENCH_MEDIA_WORKERS:-0}
	AVAIL=$(($(nproc) * 100))
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge 8192 ] || echo "media: warning: only $(ulimit -n) file descriptors per process"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-media.XXXXXX")
PIDS=()

cleanup() {
	stop_pids 5 "${PIDS[@]}"
	[ -n "${BENCH_MEDIA_KEEP:-}" ] && echo "media: work directory kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Background as `on_target CMD... &`: exec keeps $! the PID of CMD itself (taskset execs too), so
# CPU, RSS and signals reach the real process.
on_target() { if [ "$PIN" = 1 ]; then exec taskset -c 1 "$@"; else exec "$@"; fi; }
on_load() { if [ "$PIN" = 1 ]; then exec taskset -c 0 "$@"; else exec "$@"; fi; }

cpu_ticks() { # PID: utime + stime of every thread, in clock ticks
	sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
main_ticks() { # PID: the main (control) thread alone
	sed -e 's/^.*) //' "/proc/$1/task/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
udp_rcvbuf_errors() { awk '/^Udp:/ { if (h) { print $6; exit } h = 1 }' /proc/net/snmp; }
# socket_drops LO HI: sum of the drop counters of the UDP sockets bound on ports LO..HI
socket_drops() {
	awk -v lo="$1" -v hi="$2" 'function hex(s,  i, n) { n = 0
			for (i = 1; i <= length(s); i++) n = n * 16 + index("0123456789ABCDEF", substr(s, i, 1)) - 1
			return n }
		NR > 1 { split($2, a, ":"); p = hex(a[2]); if (p >= lo && p <= hi) d += $NF }
		END { print d + 0 }' /proc/net/udp
}
wait_bound() { # PORT SECONDS
	local n=$(($2 * 10))
	while ((n-- > 0)); do
		port_in_use "$1" && return 0
		sleep 0.1
	done
	return 1
}
csv_col() { # FILE COLUMN-NAME: value in the last row
	awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
		END { if (c) print $c; else print "?" }' "$1" 2>/dev/null
}
# gen_snap PID FILE: ask the generator for its running totals; prints its new "snap" line
gen_snap() {
	local before after n=40
	before=$(grep -c 'rtpgen: snap' "$2")
	kill -USR1 "$1" 2>/dev/null || return 1
	while ((n-- > 0)); do
		after=$(grep -c 'rtpgen: snap' "$2")
		[ "$after" -gt "$before" ] && { grep 'rtpgen: snap' "$2" | tail -n 1; return 0; }
		sleep 0.05
	done
	return 1
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; } # LINE KEY: value of KEY=value
minus() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" ? 0 : a) - (b == "" ? 0 : b) }'; }

codec_of() { # RUN: generator codec, payload type, rtpmap of the offer, telephone-event clock
	case $1 in
	pcmu | sipp-echo) echo "pcmu 0 PCMU/8000 8000" ;;
	g722) echo "g722 9 G722/8000 8000" ;;
	opus) echo "opus 111 opus/48000/2 48000" ;;
	esac
}

# run_one RUN N WINDOW: one measured run. Fills the associative array R; prints one line.
# Returns 0 when it produced figures.
declare -A R
run_one() {
	local run=$1 n=$2 win=$3 codec pt rtpmap te_rate tport gport lp mp t_pid g_pid u_pid hold ramp
	local idle c0 c1 g0 g1 u0 u1 m0 m1 t0 t1 s0 s1 d0 d1 k0 k1 cur0 cur1 rss rlo rhi out n_try
	read -r codec pt rtpmap te_rate <<<"$(codec_of "$run")"
	RUN_NO=$((${RUN_NO:-0} + 1))
	out=$WORK/$RUN_NO-$run-$n
	mkdir -p "$out/data"
	R=([run]=$run [codec]=$codec [n]=$n [note]= [ok]=0)
	tport=$(pick_ports 2) && gport=$(pick_ports 2) && lp=$(pick_ports 2) && mp=$(pick_ports 4) ||
		{ R[note]="no free port"; return 1; }
	ramp=$(((n + RATE - 1) / RATE))
	# Every call holds past the window; the last one starts ~ramp s after the first.
	hold=$(((ramp + SETTLE + win + 4) * 1000))

	if [ "$run" = sipp-echo ]; then
		rlo=$(pick_ports 4) || { R[note]="no free port"; return 1; }
		rhi=$rlo
		on_target sipp -sn uas -i 127.0.0.1 -p "$tport" -mp "$rlo" -rtp_echo -buff_size 8388608 \
			-nostdin >"$out/uas.out" 2>&1 &
		t_pid=$!
		PIDS+=("$t_pid")
		wait_bound "$tport" 10 || { R[note]="sipp uas did not bind"; return 1; }
		# SIPp's echo only echoes, so the generator calls it: N streams to its media port, ramped
		# with the calls, told apart by SSRC.
		on_load "$GEN" --port "$gport" --codec "$codec" --pt "$pt" --to "127.0.0.1:$rlo" \
			--streams "$n" --rate "$RATE" >"$out/gen.out" 2>&1 &
	else
		# 2 ports per call (RTP, RTCP) and a margin for ports taken by others
		rlo=$(pick_ports $((2 * n + 2000))) || { R[note]="no free RTP range"; return 1; }
		rhi=$((rlo + 2 * n + 1999))
		on_target "$SB" serve --sip-listen "127.0.0.1:$tport" --http-listen 127.0.0.1:0 --rtp-ports "$rlo-$rhi" \
			--rtp-ip 127.0.0.1 --codecs PCMU,PCMA,G722,opus --opus-rate 16000 \
			--opus-complexity "$OPUS_CX" --media-workers "$WORKERS" --max-calls $((n + 100)) \
			--log-level warn --data-dir "$out/data" ${BENCH_MEDIA_SB_ARGS:-} >"$out/sb.out" 2>"$out/sb.log" &
		t_pid=$!
		PIDS+=("$t_pid")
		wait_bound "$tport" 10 || { R[note]="switchboard did not bind"; tail -3 "$out/sb.log"; return 1; }
		on_load "$GEN" --port "$gport" --codec "$codec" --pt "$pt" --opus-rate 16000 \
			--opus-complexity 5 >"$out/gen.out" 2>&1 &
	fi
	g_pid=$!
	PIDS+=("$g_pid")
	n_try=50
	until grep -q 'rtpgen: ready' "$out/gen.out" 2>/dev/null; do
		((n_try-- > 0)) && is_running "$g_pid" ||
			{ R[note]="generator did not start: $(tail -1 "$out/gen.out")"; return 1; }
		sleep 0.1
	done
	sleep 1
	idle=$(rss_kb "$t_pid")

	on_load sipp "127.0.0.1:$tport" -sf "$SCEN" -i 127.0.0.1 -p "$lp" -mp "$mp" \
		-key gen_port "$gport" -key pt "$pt" -key rtpmap "$rtpmap" -key te_rate "$te_rate" \
		-r "$RATE" -rp 1000 -l "$n" -m "$n" -d "$hold" -buff_size 8388608 \
		-timeout $((hold / 1000 + ramp + 60)) -nostdin -trace_stat -stf "$out/stat.csv" -fd 1 \
		-trace_err -error_file "$out/err.log" >"$out/uac.out" 2>&1 &
	u_pid=$!
	PIDS+=("$u_pid")

	# Ramp (bounded): until SIPp holds n calls and the generator has n streams.
	local snap active cur deadline=$((SECONDS + ramp + 20))
	while :; do
		sleep 1
		is_running "$t_pid" || { R[note]="target died during the ramp"; break; }
		snap=$(gen_snap "$g_pid" "$out/gen.out")
		active=$(field "$snap" active)
		cur=$(csv_col "$out/stat.csv" CurrentCall)
		[ "${active:-0}" -ge "$n" ] && [ "${cur:-0}" = "$n" ] && break
		if [ $SECONDS -ge $deadline ]; then
			R[note]="ramp incomplete: SIPp $cur calls, generator ${active:-?} streams"
			break
		fi
	done
	sleep "$SETTLE"

	# The window.
	s0=$(gen_snap "$g_pid" "$out/gen.out")
	c0=$(cpu_ticks "$t_pid") m0=$(main_ticks "$t_pid") g0=$(cpu_ticks "$g_pid") u0=$(cpu_ticks "$u_pid")
	d0=$(socket_drops "$rlo" "$rhi") k0=$(udp_rcvbuf_errors)
	cur0=$(csv_col "$out/stat.csv" CurrentCall)
	t0=$EPOCHREALTIME
	sleep "$win"
	t1=$EPOCHREALTIME
	c1=$(cpu_ticks "$t_pid") m1=$(main_ticks "$t_pid") g1=$(cpu_ticks "$g_pid") u1=$(cpu_ticks "$u_pid")
	d1=$(socket_drops "$rlo" "$rhi") k1=$(udp_rcvbuf_errors)
	s1=$(gen_snap "$g_pid" "$out/gen.out")
	cur1=$(csv_col "$out/stat.csv" CurrentCall)
	rss=$(rss_kb "$t_pid")
	is_running "$t_pid" || R[note]="${R[note]:+${R[note]}; }target died"

	# Tear-down: SIPp sends the BYEs and exits; then the generator and the target.
	wait_exit "$u_pid" $((hold / 1000 + ramp + 30)) ||
		{ kill -TERM "$u_pid"; wait_exit "$u_pid" 3 || kill -KILL "$u_pid"; }
	sleep 2
	R[after]=$(rss_kb "$t_pid")
	kill -TERM "$g_pid" 2>/dev/null
	wait_exit "$g_pid" 5 || kill -KILL "$g_pid"
	kill -TERM "$t_pid" 2>/dev/null
	if ! wait_exit "$t_pid" 15; then
		R[note]="${R[note]:+${R[note]}; }target still running 15 s after SIGTERM"
		kill -KILL "$t_pid"
	elif [ "$RC" != 0 ]; then
		R[note]="${R[note]:+${R[note]}; }target exited $RC"
	fi

	local rx lost sent gw pf pa
	gw=$(minus "$(field "$s1" t)" "$(field "$s0" t)")
	rx=$(minus "$(field "$s1" received)" "$(field "$s0" received)")
	lost=$(minus "$(field "$s1" lost)" "$(field "$s0" lost)")
	sent=$(minus "$(field "$s1" sent)" "$(field "$s0" sent)")
	pf=$(minus "$(field "$s1" probe_frames)" "$(field "$s0" probe_frames)")
	pa=$(minus "$(field "$s1" probe_audible)" "$(field "$s0" probe_audible)")
	R[held]="$cur0/$cur1"
	R[streams]="$(field "$s0" active)/$(field "$s1" active)"
	R[completed]=$(csv_col "$out/stat.csv" 'SuccessfulCall(C)')
	R[failed]=$(csv_col "$out/stat.csv" 'FailedCall(C)')
	R[gaps]=$lost
	R[drops]=$(minus "$d1" "$d0")
	R[boxdrops]=$(minus "$k1" "$k0")
	R[txerr]=$(minus "$(field "$s1" tx_errors)" "$(field "$s0" tx_errors)")
	R[stalls]=$(minus "$(field "$s1" stalls)" "$(field "$s0" stalls)")
	R[idle]=$idle R[rss]=$rss
	local v
	v=$(awk -v w="$(minus "$t1" "$t0")" -v gw="$gw" -v hz="$HZ" -v n="$n" -v rx="$rx" \
		-v lost="$lost" -v sent="$sent" -v drops="${R[drops]}" -v txerr="${R[txerr]}" \
		-v c="$(minus "$c1" "$c0")" -v m="$(minus "$m1" "$m0")" -v g="$(minus "$g1" "$g0")" \
		-v u="$(minus "$u1" "$u0")" -v rss="${rss:-0}" -v idle="${idle:-0}" -v pf="$pf" -v pa="$pa" \
		-v echo="$([ "$run" = sipp-echo ] && echo 1 || echo 0)" 'BEGIN {
		# sipp-echo: the echoed streams carry our own sequence numbers, so their gaps cover both
		# directions; for switchboard the generator only sees its direction: add the kernel drops
		# at switchboard sockets and our own failed sends. (No comparisons inside printf
		# arguments: awk reads ">" there as a redirection.)
		l = lost + txerr + (echo ? 0 : drops)
		tot = rx + lost + (echo ? 0 : sent)
		pct = tot ? 100 * l / tot : 0
		rate = 0; if (n && gw > 0) rate = rx / gw / n
		aud = "-"; if (pf > 0) aud = sprintf("%.1f", 100 * pa / pf)
		cpu = c / hz / w * 100
		printf "%d %.4f %.2f %.1f %.4f %.1f %.1f %.1f %.1f %s\n", l, pct, rate, cpu, n ? cpu / n : 0,
			m / hz / w * 100, n ? (rss - idle) / n : 0, g / hz / w * 100, u / hz / w * 100, aud }')
	read -r R[lost] R[loss] R[rxrate] R[cpu] R[cpucall] R[ctl] R[mem] R[gcpu] R[ucpu] R[audible] <<<"$v"

	# Verdict.
	local why=()
	[ "${R[lost]}" = 0 ] || why+=("loss")
	awk -v r="${R[rxrate]}" 'BEGIN { exit !(r >= 49.5 && r <= 50.5) }' || why+=("${R[rxrate]} pkt/s")
	[ "${R[audible]}" = - ] || awk -v a="${R[audible]}" 'BEGIN { exit !(a >= 97) }' || why+=("echo ${R[audible]} % audible")
	[ "$cur0" = "$n" ] && [ "$cur1" = "$n" ] && [ "$(field "$s0" active)" = "$n" ] &&
		[ "$(field "$s1" active)" = "$n" ] || why+=("calls not all held")
	# saturated: the target near all the CPU it may use (unpinned: the whole box, shared with
	# the generator and SIPp)
	awk -v c="${R[cpu]}" -v o="$([ "$PIN" = 1 ] && echo 0 || awk -v g="${R[gcpu]}" -v u="${R[ucpu]}" 'BEGIN { print g + u }')" \
		-v a="$AVAIL" 'BEGIN { exit !(c + o < 0.95 * a) }' || why+=("$([ "$PIN" = 1 ] && echo target || echo box) saturated")
	[ "${R[failed]}" = 0 ] || why+=("${R[failed]} calls failed")
	[ -z "${R[note]}" ] || why+=("${R[note]}")
	if [ ${#why[@]} = 0 ]; then
		R[verdict]=clean
	else
		R[verdict]="degraded: $(IFS=,; echo "${why[*]}" | sed 's/,/, /g')"
	fi
	R[ok]=1
	printf '  %-9s N=%-5s held %-11s streams %-11s lost %-6s (%s %%) rx %s pkt/s/call, target %s %% (%s %%/call), mem %s kB/call, gen %s %%, sipp %s %%: %s\n' \
		"$run" "$n" "${R[held]}" "${R[streams]}" "${R[lost]}" "${R[loss]}" "${R[rxrate]}" \
		"${R[cpu]}" "${R[cpucall]}" "${R[mem]}" "${R[gcpu]}" "${R[ucpu]}" "${R[verdict]}"
	if [ "${R[lost]}" != 0 ] || [ "${R[boxdrops]}" != 0 ] || [ "${R[stalls]}" != 0 ]; then
		echo "      detail: generator seq gaps ${R[gaps]}, target socket drops ${R[drops]}, generator send errors ${R[txerr]}, box UDP RcvbufErrors ${R[boxdrops]}, generator stalls ${R[stalls]}"
	fi
	if [ "${R[failed]}" != 0 ]; then
		grep -m 1 -v -e '^The following events' -e '^$' "$out/err.log" 2>/dev/null | cut -c1-200 |
			sed 's/^/      first SIPp error: /'
	fi
	if [ "$run" != sipp-echo ] && grep -q -e warn -e error "$out/sb.log" 2>/dev/null; then
		echo "      switchboard log: $(grep -c -e warn -e error "$out/sb.log") warnings/errors, first: $(grep -m 1 -e warn -e error "$out/sb.log" | cut -c1-160)"
	fi
	return 0
}

# Results: one associative array per run (RES_1, RES_2, ...), in RESULTS order.
RESULTS=()
save() {
	local k=RES_${#RESULTS[@]}
	declare -gA "$k"
	local key
	for key in "${!R[@]}"; do
		eval "$k[\$key]=\${R[\$key]}"
	done
	RESULTS+=("$k")
}
# retry_n N: a lower N for a degraded run, from its CPU per delivered call-tick; the per-call
# cost rises at lower load (fewer packets per wake-up), hence the margin (55 % of what is left).
retry_n() {
	awk -v n="$1" -v cpu="${R[cpu]}" -v rate="${R[rxrate]}" -v a="$AVAIL" \
		-v other="$([ "$PIN" = 1 ] && echo 0 || awk -v g="${R[gcpu]}" -v u="${R[ucpu]}" 'BEGIN { print g + u }')" 'BEGIN {
		f = rate / 50; if (f > 1) f = 1; if (f < 0.1) f = 0.1
		c = cpu / (n * f); m = 0.55 * (a - other) / (c > 0 ? c : 1)
		if (m > 0.8 * n) m = 0.8 * n
		m = int(m / 10) * 10; if (m < 10) m = 10
		print m }'
}

echo "== concurrent calls with media: SIPp signalling, bench_rtpgen media (50 pkt/s each way per call), UDP on loopback =="
echo "   ramp at $RATE calls/s, ${SETTLE} s settle, ${WIN} s window; CPU: 100 % = one core; $(nproc) cores"
if [ "$PIN" = 1 ]; then
	echo "   pinned: target (switchboard --media-workers $WORKERS, or SIPp's echo) alone on CPU 1; generator and SIPp UAC on CPU 0"
else
	echo "   unpinned (switchboard --media-workers $WORKERS = one per CPU); target, generator and SIPp share all CPUs"
fi

for run in $RUNS; do
	n=${N[$run]:-}
	[ -n "$n" ] || { echo "media: unknown run '$run'"; continue; }
	win=$WIN
	tries=0
	while :; do
		tries=$((tries + 1))
		if ! run_one "$run" "$n" "$win"; then
			echo "  $run N=$n: ${R[note]}"
			break
		fi
		save
		[ "${R[verdict]}" = clean ] && break
		# switchboard: one more measurement; SIPp's echo: halve until clean (at most twice)
		[ "$RETRY" = 1 ] && [ "$n" -gt 10 ] && { [ "$tries" -lt 2 ] ||
			{ [ "$run" = sipp-echo ] && [ "$tries" -lt 3 ]; }; } || break
		if [ "$run" = sipp-echo ]; then
			n=$((n / 2)) # a cheap target: halve
		else
			n=$(retry_n "$n")
		fi
		# a shorter window for the second measurement keeps the whole run within ~6 minutes
		win=$(((WIN + 1) / 2))
		[ "$win" -ge 5 ] || win=5
		echo "  $run: measuring again at N=$n (${win} s window)"
	done
done

echo
echo "== results =="
printf '  %-9s %-5s %5s %11s %11s %6s %7s %9s %6s %9s %7s %8s %5s %5s  %s\n' run codec calls \
	"held(sipp)" "streams" lost "loss%" "rx/s/call" "cpu%" "cpu%/call" "kB/call" "echo-aud%" \
	"gen%" "sipp%" verdict
for k in "${RESULTS[@]}"; do
	declare -n X=$k
	printf '  %-9s %-5s %5s %11s %11s %6s %7s %9s %6s %9s %7s %8s %5s %5s  %s\n' "${X[run]}" \
		"${X[codec]}" "${X[n]}" "${X[held]}" "${X[streams]}" "${X[lost]}" "${X[loss]}" \
		"${X[rxrate]}" "${X[cpu]}" "${X[cpucall]}" "${X[mem]}" "${X[audible]}" "${X[gcpu]}" \
		"${X[ucpu]}" "${X[verdict]}"
	unset -n X
done

echo
echo "== against the targets (printed, not enforced) =="
echo "   >= 2000 G.711 calls with no loss at <= 0.03 % of a core per call; >= 800 G.722; >= 400 Opus 16 kHz (complexity $OPUS_CX); <= 32 kB per call"
# best[run]: the clean run with the most calls; first[run]: the run at the requested N
declare -A best first
for k in "${RESULTS[@]}"; do
	declare -n X=$k
	[ -n "${first[${X[run]}]:-}" ] || first[${X[run]}]=$k
	if [ "${X[verdict]}" = clean ]; then
		if [ -z "${best[${X[run]}]:-}" ]; then
			best[${X[run]}]=$k
		else
			declare -n B=${best[${X[run]}]}
			[ "${X[n]}" -le "${B[n]}" ] || best[${X[run]}]=$k
			unset -n B
		fi
	fi
	unset -n X
done
for run in pcmu g722 opus; do
	[ -n "${first[$run]:-}" ] || continue
	declare -n F=${first[$run]}
	t=${TARGET_N[$run]}
	if [ "${F[verdict]}" = clean ] && [ "${F[n]}" -ge "$t" ]; then
		calls="met: ${F[n]} calls clean"
	elif [ "${F[verdict]}" = clean ]; then
		calls="not measured: ${F[n]} calls clean (N below the target)"
	elif [ -n "${best[$run]:-}" ]; then
		declare -n B=${best[$run]}
		calls="NOT met: ${F[n]} calls ${F[verdict]}; clean at ${B[n]}"
		unset -n B
	else
		calls="NOT met: ${F[n]} calls ${F[verdict]}; no clean run"
	fi
	printf '  %-5s calls (target %s): %s\n' "$run" "$t" "$calls"
	sound=${best[$run]:-${first[$run]}}
	declare -n S=$sound
	printf '        CPU %s %% of a core per call at N=%s (%s)%s; memory %s kB per call (target 32: %s)\n' \
		"${S[cpucall]}" "${S[n]}" "$([ "${S[verdict]}" = clean ] && awk -v c="${S[cpucall]}" -v a="$AVAIL" \
			'BEGIN { printf "clean run; at that cost %d calls would fill %d %% of the CPU the target may use", 0.95 * a / c, 95 }' ||
			echo "a lower bound: degraded run")" \
		"$([ "$run" = pcmu ] && awk -v c="${S[cpucall]}" 'BEGIN { printf " (target 0.03: %s, %.1fx)", c <= 0.03 ? "met" : "NOT met", c / 0.03 }')" \
		"${F[mem]}" "$(awk -v m="${F[mem]}" 'BEGIN { print m <= 32 ? "met" : "NOT met" }')"
	echo "        switchboard RSS: idle ${F[idle]} kB, ${F[rss]} kB with ${F[n]} calls, ${F[after]} kB 2 s after they ended; SIPp: ${F[completed]} calls completed, ${F[failed]} failed"
	unset -n F S
done

if [ -n "${first[pcmu]:-}" ] && [ -n "${first[sipp-echo]:-}" ]; then
	echo
	echo "== baseline: SIPp's own RTP echo (sipp -sn uas -rtp_echo: one thread, returns each packet as is), same generator, PCMU =="
	declare -n E=${best[sipp-echo]:-${first[sipp-echo]}} E0=${first[sipp-echo]}
	if [ "${E0[verdict]}" != clean ]; then
		echo "   SIPp's echo did not take N=${E0[n]} cleanly (${E0[verdict]}); below: the largest N it handled${best[sipp-echo]:+ (${E[n]})}"
	fi
	runs=${first[pcmu]}
	[ -z "${best[pcmu]:-}" ] || [ "${best[pcmu]}" = "${first[pcmu]}" ] || runs="$runs ${best[pcmu]}"
	for k in $runs; do
		declare -n P=$k
		printf '   CPU per call: switchboard %s %% (N=%s, %s) vs SIPp echo %s %% (N=%s, %s): ratio %s\n' \
			"${P[cpucall]}" "${P[n]}" "${P[verdict]}" "${E[cpucall]}" "${E[n]}" "${E[verdict]}" \
			"$(awk -v x="${P[cpucall]}" -v y="${E[cpucall]}" 'BEGIN { if (y > 0) printf "%.1f", x / y; else print "?" }')"
		unset -n P
	done
	echo "   (switchboard also runs a jitter buffer, decodes, mixes through the call's room and encodes each packet)"
	unset -n E E0
fi
echo
echo "   notes: loss = generator sequence gaps (switchboard -> generator) + kernel drops at switchboard's sockets (generator ->"
echo "   switchboard); the generator never sleeps on its socket, so switchboard's sends do not pay for waking it; on loopback each"
echo "   send still runs the receiver's softirq, so each side's CPU includes the other's kernel receive path."
exit 0
