#!/usr/bin/env bash
# Signalling-only call rate: the same SIPp UAC (bench/uac-cps.xml: INVITE without SDP, 200,
# ACK with an answer that declines audio, BYE, 200; -d 0, no media) against switchboard and, in the same run,
# against SIPp's built-in UAS (`sipp -sn uas`). For each target a short ramp finds the highest
# rate with zero failed calls (a failed step is retried once per target: the box is shared),
# then that rate is held longer. Prints both rates, their ratio, and the targets' CPU use
# (from /proc/PID/stat; 100 % = one core) and CPU time per call. A step that is not clean
# prints SIPp's non-zero failure counters and its first error.
#
#   bench/cps.sh SWITCHBOARD
#
# Environment: CPS_SCEN (uac-cps.xml, signalling only; uac-cps-media.xml: switchboard also sets
# up each call's media), CPS_RATES (default "5000 10000 15000 20000 25000"), CPS_STEP_S (10),
# CPS_HOLD_S (30), CPS_TARGETS ("switchboard sipp-uas"), CPS_SB_ARGS (more `serve` options, e.g.
# "--call-records false"), CPS_KEEP=1 keeps the work directory
# (SIPp statistics CSV and error logs). About 3 to 4 minutes with the defaults.
# Every process started here is ended by its PID on exit.
#
# Note: on a 2-core box the generator shares the CPU with the target; a pair of SIPp
# processes tops out between 30 k and 45 k CPS here (shared/research/performance.md 6.2),
# so rates near 25 k say as much about SIPp as about the target: compare the ratio and the
# target's CPU per call, not the bare rate.
set -u

SB=${1:?usage: cps.sh SWITCHBOARD}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/proc.sh
. "$HERE/../tests/lib/proc.sh"
SCEN=$HERE/${CPS_SCEN:-uac-cps.xml}
MEDIA=no
[ "${CPS_SCEN:-uac-cps.xml}" = uac-cps-media.xml ] && MEDIA=yes
RATES=${CPS_RATES:-"5000 10000 15000 20000 25000"}
STEP_S=${CPS_STEP_S:-10}
HOLD_S=${CPS_HOLD_S:-30}
TARGETS=${CPS_TARGETS:-"switchboard sipp-uas"}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

command -v sipp >/dev/null 2>&1 || { echo "cps: sipp not found (Debian package sip-tester)"; exit 1; }
[ -x "$SB" ] || { echo "cps: switchboard binary $SB not executable"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-cps.XXXXXX")
PIDS=()
T_PID=

cleanup() {
	stop_pids 5 "${PIDS[@]}"
	[ -n "${CPS_KEEP:-}" ] && echo "cps: work directory kept: $WORK" || rm -rf "$WORK"
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

# start_target NAME: sets T_PID, T_PORT
start_target() {
	T_PORT=$(pick_ports 2) || { echo "cps: no free port"; exit 1; }
	case $1 in
	switchboard)
		local rtp
		# Each call holds an RTP port until its BYE; calls whose ACK is lost at overload keep
		# theirs for 64*T1 = 32 s, so give the benchmark a wide range.
		rtp=$(pick_ports 16000) || { echo "cps: no free RTP range"; exit 1; }
		mkdir -p "$WORK/data"
		# warn: no per-call log lines; the port is ours, so the ready line is not needed.
		"$SB" serve --sip-listen "127.0.0.1:$T_PORT" --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 15999))" \
			--data-dir "$WORK/data" --log-level warn ${CPS_SB_ARGS:-} >"$WORK/sb.out" 2>"$WORK/sb.log" &
		;;
	sipp-uas)
		local mp
		mp=$(pick_ports 4)
		sipp -sn uas -i 127.0.0.1 -p "$T_PORT" -mp "$mp" -buff_size 4194304 -nostdin \
			>"$WORK/uas.out" 2>&1 &
		;;
	esac
	T_PID=$!
	PIDS+=("$T_PID")
	wait_bound "$T_PORT" 10 || { echo "cps: $1 did not bind port $T_PORT"; tail -5 "$WORK"/*.log; exit 1; }
}
stop_target() {
	kill -TERM "$T_PID" 2>/dev/null
	if ! wait_exit "$T_PID" 10; then
		echo "cps: $1 still running 10 s after SIGTERM"
		kill -KILL "$T_PID"
	elif [ "$1" = switchboard ] && [ "$RC" != 0 ]; then
		echo "cps: switchboard exited $RC after SIGTERM"
	fi
}

csv_col() { # FILE COLUMN-NAME: value in the last row
	awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
		END { if (c) print $c; else print "?" }' "$1"
}

# run_step TARGET RATE SECONDS: one fixed-rate run; sets S_* and returns 0 when clean.
run_step() {
	local target=$1 rate=$2 secs=$3 calls lp mp stat t0 t1 c0 c1 u v uac_pid n
	calls=$((rate * secs))
	lp=$(pick_ports 2)
	mp=$(pick_ports 4)
	STEP_NO=$((${STEP_NO:-0} + 1))
	stat=$WORK/stat-$STEP_NO-$target-$rate-$secs.csv
	if ! is_running "$T_PID"; then
		echo "cps: $target is not running"
		return 2
	fi
	c0=$(cpu_ticks "$T_PID")
	t0=$EPOCHREALTIME
	sipp "127.0.0.1:$T_PORT" -sf "$SCEN" -i 127.0.0.1 -p "$lp" -mp "$mp" -r "$rate" -rp 1000 \
		-m "$calls" -d 0 -l 10000 -buff_size 4194304 -nostdin -timeout $((secs * 2 + 10)) \
		-trace_stat -stf "$stat" -fd 1 -trace_err -error_file "$WORK/err-$STEP_NO.log" -ringbuffer_files 1 -ringbuffer_size 5000000 \
		>"$WORK/uac.out" 2>&1 &
	uac_pid=$!
	PIDS+=("$uac_pid")
	# Wait (bounded), sampling the UAC's CPU while it runs.
	n=$(((secs * 2 + 20) * 10))
	u=0
	while ((n-- > 0)) && is_running "$uac_pid"; do
		v=$(cpu_ticks "$uac_pid")
		[ -n "$v" ] && u=$v
		sleep 0.1
	done
	t1=$EPOCHREALTIME
	c1=$(cpu_ticks "$T_PID")
	if is_running "$uac_pid"; then
		kill -TERM "$uac_pid"
		wait_exit "$uac_pid" 3 || kill -KILL "$uac_pid"
	fi
	wait_exit "$uac_pid" 1
	S_RC=$RC
	S_OK=$(csv_col "$stat" 'SuccessfulCall(C)')
	S_FAIL=$(csv_col "$stat" 'FailedCall(C)')
	S_RETR=$(csv_col "$stat" 'Retransmissions(C)')
	read -r S_WALL S_CPS S_TCPU S_UCPU <<<"$(awk -v t0="$t0" -v t1="$t1" -v c0="${c0:-0}" -v c1="${c1:-0}" \
		-v u="${u:-0}" -v ok="$S_OK" -v hz="$HZ" 'BEGIN {
			w = t1 - t0; if (w <= 0) w = 1
			printf "%.1f %.0f %.0f %.0f\n", w, ok / w, (c1 - c0) / hz / w * 100, u / hz / w * 100 }')"
	S_CLEAN=no
	if [ "$S_RC" = 0 ] && [ "$S_FAIL" = 0 ] && [ "$S_OK" = "$calls" ] &&
		awk -v w="$S_WALL" -v s="$secs" 'BEGIN { exit !(w <= s * 1.15 + 1.5) }'; then
		S_CLEAN=yes
	fi
	printf '  %-12s %6d %4ds %8s %7s %8s %9s %9s %10s  %s\n' "$target" "$rate" "$secs" "$S_OK" \
		"$S_FAIL" "$S_RETR" "$S_CPS" "$S_TCPU%" "$S_UCPU%" \
		"$([ $S_CLEAN = yes ] && echo clean || echo "NOT clean (sipp exit $S_RC)")"
	if [ $S_CLEAN = no ]; then
		# Why: the non-zero failure counters, and the first error SIPp logged.
		awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[i] = $i }
			END { for (i = 1; i <= NF; i++) if (h[i] ~ /^Failed.*\(C\)$/ && h[i] != "FailedCall(C)" && $i != "0") printf "%s=%s ", h[i], $i; print "" }' \
			"$stat" | sed 's/^/      why: /'
		grep -m 1 -v -e '^The following events' -e '^$' -e 'Maximum number of open sockets' "$WORK/err-$STEP_NO.log" 2>/dev/null | cut -c1-200 | sed 's/^/      first error: /'
	fi
	[ $S_CLEAN = yes ]
}

if [ "$MEDIA" = yes ]; then
	echo "== call rate with media set up (INVITE/200/ACK/BYE/200, audio accepted: ports, room and RTP leg per call; no RTP sent; -d 0), UDP on loopback =="
else
	echo "== call rate: signalling only (INVITE/200/ACK/BYE/200, the answer declines audio: no media, -d 0), UDP on loopback =="
fi
echo "   ramp ${RATES// /, } CPS for ${STEP_S} s each, then the best clean rate (or the next lower) held for ${HOLD_S} s"
echo "   CPU: 100 % = one core; $(nproc) cores shared by SIPp (uac) and the target"
printf '  %-12s %6s %5s %8s %7s %8s %9s %10s %10s  %s\n' target rate time calls failed retrans \
	"calls/s" "target-CPU" "sipp-CPU" result

# Per target: RATE = the rate reported (the held rate when the hold was clean, else the best
# clean ramp rate, flagged), with the CPU use and achieved rate of the clean run behind it.
declare -A RATE NOTE CPU CPS
for target in $TARGETS; do
	start_target "$target"
	best=0
	retried=0
	for rate in $RATES; do
		# One retry per target: the box is shared, a single disturbed step should not end the ramp.
		if run_step "$target" "$rate" "$STEP_S" ||
			{ [ $retried = 0 ] && retried=1 && run_step "$target" "$rate" "$STEP_S"; }; then
			best=$rate
			CPU[$target]=$S_TCPU
			CPS[$target]=$S_CPS
		else
			break
		fi
	done
	RATE[$target]=$best
	NOTE[$target]="best clean ramp step (${STEP_S} s), not held clean for ${HOLD_S} s"
	# Hold the best clean rate for HOLD_S on a fresh target; if that is not clean, the next
	# lower clean rate: the figure is the rate sustained HOLD_S with zero failed calls.
	if [ "$best" -gt 0 ] && [ "$HOLD_S" -gt 0 ]; then
		held=0
		for rate in $(echo $RATES | tr ' ' '\n' | sort -rn); do
			[ "$rate" -le "$best" ] || continue
			stop_target "$target"
			start_target "$target"
			if run_step "$target" "$rate" "$HOLD_S"; then
				held=$rate
				CPU[$target]=$S_TCPU
				CPS[$target]=$S_CPS
				break
			fi
		done
		if [ "$held" -gt 0 ]; then
			RATE[$target]=$held
			NOTE[$target]="held clean for ${HOLD_S} s"
		fi
	fi
	stop_target "$target"
done

echo
for target in $TARGETS; do
	printf '  %-12s %6s CPS  %s; achieved %s calls/s at %s%% CPU of one core (%s us CPU per call)\n' \
		"$target" "${RATE[$target]}" "${NOTE[$target]}" "${CPS[$target]:-?}" "${CPU[$target]:-?}" \
		"$(awk -v c="${CPU[$target]:-0}" -v r="${CPS[$target]:-0}" 'BEGIN { if (r > 0) printf "%.1f", c * 10000 / r; else print "?" }')"
done
sbr=${RATE[switchboard]:-0}
uar=${RATE[sipp-uas]:-0}
if [ "$uar" -gt 0 ] && [[ " $TARGETS " == *" switchboard "* ]]; then
	echo "  ratio switchboard / sipp-uas: $(awk -v a="$sbr" -v b="$uar" 'BEGIN { printf "%.2f", a / b }') (call rate)," \
		"$(awk -v a="${CPU[switchboard]:-0}" -v ra="${CPS[switchboard]:-0}" -v b="${CPU[sipp-uas]:-0}" -v rb="${CPS[sipp-uas]:-0}" \
			'BEGIN { if (ra > 0 && rb > 0 && b > 0) printf "%.2f", (a / ra) / (b / rb); else print "?" }') (CPU per call)"
fi
[[ " $TARGETS " != *" switchboard "* ]] || [ "$sbr" -gt 0 ] || exit 1
exit 0
