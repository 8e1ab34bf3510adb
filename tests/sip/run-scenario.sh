#!/usr/bin/env bash
# SIP flow tests: SIPp against a running switchboard, one test per call.
#
#   run-scenario.sh SWITCHBOARD TEST [RTP_PROBE [SIP_SEND]]
#   run-scenario.sh --list
#
# SWITCHBOARD is the binary (tests.cmake passes $<TARGET_FILE:switchboard>), TEST one of the
# names printed by --list, RTP_PROBE the tests/sip/rtp_probe helper (needed by basic-rtp).
#
# "switchboard answers" tests start `switchboard serve` on 127.0.0.1 port 0, read the port
# from its ready line, run a SIPp UAC scenario (scenarios/uac-*.xml) against it, check SIPp's
# exit code and switchboard's log, then SIGTERM switchboard and require exit 0.
# "switchboard dials" tests start a SIPp UAS scenario (scenarios/uas-*.xml) on a free port
# and run `switchboard dial` at it, checking both exit codes.
#
# Everything is bounded in time; every process started here is ended by its PID on exit.
# Environment: SB_SIP_KEEP=1 keeps the work directory; SB_SIP_LOG_LEVEL (default debug).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCEN=$HERE/scenarios

TESTS=(basic-rtp bye-from-sipp bye-from-switchboard hold-resume info-dtmf options
	unknown-method unknown-dialog cancel-unknown cancel-race malformed loss tcp tcp-rtp
	reject-non-loopback
	dial-answer dial-answer-tcp dial-busy dial-decline dial-noanswer dial-auth)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
if [ $# -lt 2 ]; then
	echo "usage: $0 SWITCHBOARD TEST [RTP_PROBE [SIP_SEND]] | --list" >&2
	exit 2
fi
SB=$1
TEST=$2
PROBE=${3:-}
SEND=${4:-}
LOG_LEVEL=${SB_SIP_LOG_LEVEL:-debug}

command -v sipp >/dev/null 2>&1 || { echo "FAIL: sipp not found (Debian package sip-tester)"; exit 1; }
[ -x "$SB" ] || { echo "FAIL: switchboard binary $SB not executable"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-sip-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
SB_PORT=

# ---- processes ----

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_SIP_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "work directory kept: $WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- reporting ----

show() { # FILE [LINES]: the tail of a log, indented
	[ -s "$1" ] || return 0
	echo "---- $(basename "$1") (last ${2:-60} lines) ----"
	tail -n "${2:-60}" "$1" | sed -e 's/\r$//' -e 's/^/  | /'
}

fail() {
	FAILED=1
	echo "FAIL [$TEST]: $*"
}

finish() {
	local f
	if [ "$FAILED" = 0 ]; then
		echo "PASS [$TEST]"
		exit 0
	fi
	show "$WORK/sb.log" 80
	show "$WORK/dial.log" 60
	for f in "$WORK"/*.err "$WORK"/*.msg "$WORK"/*.slog; do
		[ -e "$f" ] && show "$f" 120
	done
	exit 1
}

# ---- ports ----



# ---- switchboard ----

start_switchboard() { # extra serve options...
	local rtp n
	rtp=$(pick_ports 40) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 39))" --data-dir "$WORK/data" \
		--log-level "$LOG_LEVEL" --t1 100 --t2 400 --t4 500 "$@" >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for n in $(seq 1 100); do # 10 s
		SB_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$SB_PORT" ] && return 0
		if ! is_running "$SB_PID"; then
			wait_exit "$SB_PID" 1
			fail "switchboard exited ($RC) before it was ready"
			finish
		fi
		sleep 0.1
	done
	fail "switchboard not ready within 10 s"
	finish
}

# stop_switchboard: SIGTERM, then it must exit 0 within 5 s.
stop_switchboard() {
	[ -n "$SB_PID" ] || return 0
	if ! is_running "$SB_PID"; then
		wait_exit "$SB_PID" 1
		fail "switchboard died during the test (exit $RC)"
		SB_PID=
		return
	fi
	kill -TERM "$SB_PID"
	if ! wait_exit "$SB_PID" 5; then
		fail "switchboard still running 5 s after SIGTERM"
		kill -KILL "$SB_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "switchboard exited $RC after SIGTERM (want 0)"
	fi
	SB_PID=
}

expect_log() { # FILE REGEX WHAT
	grep -Eq -- "$2" "$1" || fail "$3 (no line matching /$2/ in $(basename "$1"))"
}

# ---- SIPp ----

SIPP_COMMON=(-nostdin -timeout 30 -timeout_error -trace_err -trace_msg -trace_logs)

# sipp_bg NAME SCENARIO [sipp args...]: start SIPp in the background; its PID in SIPP_PID,
# traces in NAME.msg (messages), NAME.err (errors), NAME.slog (<log> actions), NAME.out.
sipp_bg() {
	local name=$1 scen=$2
	shift 2
	local mp
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	SB_RTP_PROBE=$PROBE SB_WORK=$WORK sipp -sf "$SCEN/$scen" -i "${SIPP_IP:-127.0.0.1}" "${SIPP_COMMON[@]}" -mp "$mp" \
		-message_file "$WORK/$name.msg" -error_file "$WORK/$name.err" -log_file "$WORK/$name.slog" \
		"$@" >"$WORK/$name.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
}

# sipp_wait NAME PID [SECONDS]: SIPp must exit 0 (every call successful).
sipp_wait() {
	if ! wait_exit "$2" "${3:-40}"; then
		fail "SIPp ($1) still running after ${3:-40} s"
		kill -KILL "$2" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp ($1) exited $RC (0 = all calls successful)"
		grep -E 'Successful call|Failed call' "$WORK/$1.out" | tail -n 2 | sed 's/^/  /'
	fi
}

# sipp_uac NAME SCENARIO [sipp args...]: run a UAC scenario against switchboard, to the end.
sipp_uac() {
	local name=$1 scen=$2 lp
	shift 2
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	sipp_bg "$name" "$scen" "${SB_HOST:-127.0.0.1}:$SB_PORT" -p "$lp" "$@"
	sipp_wait "$name" "$SIPP_PID" 45
}

# wait_for FILE REGEX SECONDS: poll until a line matches.
wait_for() {
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---- switchboard dial against a SIPp UAS ----

# dial_test SCENARIO EXPECTED_DIAL_EXIT [dial options...]
dial_test() {
	local scen=$1 want=$2 sp rtp uas_pid dial_pid t=udp
	shift 2
	for a in "$@"; do [ "$a" = tcp ] && t=tcp; done
	sp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	local targs=()
	[ $t = tcp ] && targs=(-t t1)
	sipp_bg uas "$scen" -p "$sp" -m 1 "${targs[@]}"
	uas_pid=$SIPP_PID
	# SIPp is listening once its socket shows up.
	local n=50
	while ((n-- > 0)) && ! port_in_use "$sp"; do sleep 0.1; done
	"$SB" dial "sip:uas@127.0.0.1:$sp" --rtp-ports "$rtp-$((rtp + 19))" --log-level "$LOG_LEVEL" \
		--t1 100 --t2 400 --t4 500 "$@" >"$WORK/dial.out" 2>"$WORK/dial.log" &
	dial_pid=$!
	PIDS+=("$dial_pid")
	if ! wait_exit "$dial_pid" 25; then
		fail "switchboard dial still running after 25 s"
		kill -TERM "$dial_pid"
		wait_exit "$dial_pid" 3 || kill -KILL "$dial_pid"
	elif [ "$RC" != "$want" ]; then
		fail "switchboard dial exited $RC (want $want)"
	fi
	sipp_wait uas "$uas_pid" 15
}

# ---- the tests ----

case "$TEST" in
basic-rtp | tcp-rtp)
	[ -x "$PROBE" ] || { fail "RTP probe helper not given"; finish; }
	start_switchboard
	targs=()
	[ "$TEST" = tcp-rtp ] && targs=(-t t1)
	pp=$(pick_ports 2) || { fail "no free RTP port for the probe"; finish; }
	sipp_uac uac uac-rtp.xml -m 1 -key probe_port "$pp" "${targs[@]}"
	stop_switchboard
	if [ -s "$WORK/rtp.txt" ]; then
		echo "rtp: $(cat "$WORK/rtp.txt")"
		read -r _ sent _ got _ tone <"$WORK/rtp.txt"
		[ "${got:-0}" -ge 40 ] || fail "RTP echo: only ${got:-0} of ${sent:-?} probe packets came back"
		[ "${tone:-0}" -ge 50 ] || fail "RTP echo: the probe's 1 kHz tone is only ${tone:-0} % of what came back"
	else
		fail "RTP probe wrote no result (rtp.txt)"
	fi
	expect_log "$WORK/sb.log" 'media: PCMA pt 8' "switchboard did not pick PCMA (first in the offer)"
	;;
bye-from-sipp)
	start_switchboard
	sipp_uac uac uac-basic.xml -m 1 -d 1000
	stop_switchboard
	expect_log "$WORK/sb.log" 'ended: 200' "switchboard did not log the call's end"
	;;
bye-from-switchboard)
	start_switchboard
	lp=$(pick_ports 2)
	sipp_bg uac uac-wait-bye.xml "127.0.0.1:$SB_PORT" -p "$lp" -m 1
	uac_pid=$SIPP_PID
	wait_for "$WORK/uac.msg" '^ACK ' 10 || fail "call not set up within 10 s"
	sleep 0.3
	stop_switchboard # SIGTERM: switchboard sends BYE, SIPp answers 200, switchboard exits 0
	sipp_wait uac "$uac_pid" 15
	grep -q '^BYE ' "$WORK/uac.msg" || fail "SIPp never received a BYE"
	;;
hold-resume)
	start_switchboard
	sipp_uac uac uac-hold-resume.xml -m 1
	stop_switchboard
	expect_log "$WORK/sb.log" 'call held by remote' "switchboard did not report the hold"
	expect_log "$WORK/sb.log" 'call resumed by remote' "switchboard did not report the resume"
	;;
info-dtmf)
	start_switchboard
	sipp_uac uac uac-info-dtmf.xml -m 1
	stop_switchboard
	expect_log "$WORK/sb.log" 'DTMF digit 5' "switchboard did not log DTMF digit 5"
	expect_log "$WORK/sb.log" 'DTMF digit #' "switchboard did not log DTMF digit #"
	;;
options | unknown-method | unknown-dialog | cancel-unknown | cancel-race)
	start_switchboard
	sipp_uac uac "uac-$TEST.xml" -m 1
	stop_switchboard
	;;
malformed)
	start_switchboard
	# A normal call stays up meanwhile and must complete.
	lp=$(pick_ports 2)
	sipp_bg call uac-basic.xml "127.0.0.1:$SB_PORT" -p "$lp" -m 1 -d 8000
	call_pid=$SIPP_PID
	wait_for "$WORK/call.msg" '^ACK ' 10 || fail "parallel call not set up within 10 s"
	# Raw malformed requests (tests/sip/malformed/<code>-<why>.sip): SIPp cannot send most of
	# them, so a small UDP sender does, and checks each answer (400/505/... with a reason).
	[ -x "$SEND" ] || { fail "sip_send helper not given"; finish; }
	if ! "$SEND" 127.0.0.1 "$SB_PORT" "$(dirname "$0")/malformed" 1000 >"$WORK/send.out" 2>&1; then
		fail "malformed requests not answered as expected:"
		grep FAIL "$WORK/send.out" | sed 's/^/  /'
	fi
	sed 's/^/  /' "$WORK/send.out"
	sipp_wait call "$call_pid" 20
	stop_switchboard
	;;
loss)
	# SIPp retransmits with T1 = 500 ms (retrans="500"), so switchboard must run with the same
	# T1: its Timer J (64*T1) has to outlast SIPp's last BYE retransmission (7.5 s after the
	# first), or a late retransmission finds the dialog gone and gets 481.
	start_switchboard --t1 500 --t2 4000 --t4 5000
	# 10 % of SIPp's sent and received packets dropped; retransmissions must save every call.
	sipp_uac uac uac-basic.xml -m 20 -r 5 -l 10 -d 200 -lost 10
	grep -A 12 "Messages  Retrans" "$WORK/uac.out" | tail -n 13 | sed "s/^/  /"
	stop_switchboard
	;;
tcp)
	start_switchboard
	sipp_uac uac uac-basic.xml -m 3 -d 300 -t t1
	stop_switchboard
	;;
reject-non-loopback)
	# Needs an address of this host that is not loopback; skipped (77) without one.
	ip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ sub(/\/.*/, "", $4); print $4; exit }')
	[ -n "$ip" ] || ip=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | grep -v '^127\.' | head -n 1)
	if [ -z "$ip" ]; then
		echo "SKIP [$TEST]: no non-loopback IPv4 address on this host"
		exit 77
	fi
	SB_HOST=$ip
	SIPP_IP=$ip
	start_switchboard --sip-listen "$ip:0"
	sipp_uac uac uac-rejected.xml -m 1
	stop_switchboard
	expect_log "$WORK/sb.log" "incoming call from sipp" "switchboard did not log the incoming call"
	grep -q '^SIP/2.0 480' "$WORK/uac.msg" 2>/dev/null || fail "no 480 for a caller from $ip"
	;;
dial-answer | dial-answer-tcp)
	targs=()
	[ "$TEST" = dial-answer-tcp ] && targs=(--transport tcp)
	dial_test uas-answer.xml 0 --duration 2 "${targs[@]}"
	expect_log "$WORK/dial.log" 'ended: 200' "dial did not log the call's end with 200"
	expect_log "$WORK/dial.log" 'media: received [1-9][0-9]* RTP packets' "dial received no RTP from SIPp's pcap"
	;;
dial-busy)
	dial_test uas-busy.xml 1 --duration 1
	expect_log "$WORK/dial.log" 'ended: 486' "dial did not report 486"
	;;
dial-decline)
	dial_test uas-decline.xml 1 --duration 1
	expect_log "$WORK/dial.log" 'ended: 603' "dial did not report 603"
	;;
dial-noanswer)
	# SIPp rings forever; dial must CANCEL after --ring-timeout and exit 1.
	dial_test uas-noanswer.xml 1 --ring-timeout 2
	grep -q '^CANCEL ' "$WORK/uas.msg" 2>/dev/null || fail "SIPp never received a CANCEL"
	;;
dial-auth)
	dial_test uas-auth.xml 0 --duration 1 --auth-user sbuser --auth-password sbsecret
	grep -q 'digest verified' "$WORK/uas.slog" 2>/dev/null || fail "SIPp did not verify the digest"
	;;
*)
	echo "unknown test $TEST; known: ${TESTS[*]}" >&2
	exit 2
	;;
esac
finish
