#!/usr/bin/env bash
# Interop with baresip (Debian package baresip-core), headless, on loopback.
#
#   run-baresip.sh SWITCHBOARD baresip-calls-switchboard
#   run-baresip.sh SWITCHBOARD switchboard-calls-baresip
#   run-baresip.sh SWITCHBOARD baresip-plays-into-room TONE_PEER
#
# baresip runs with a generated config: SIP on 127.0.0.1, no sound card (the audio source is
# a generated 8 kHz WAV tone played by the aufile module, the player is an aubridge device
# that nobody reads), commands typed into its stdio console through a FIFO.
#
# baresip-calls-switchboard: `/dial` to switchboard serve, which answers and echoes RTP;
#   proof: baresip logs "Call established" and "incoming rtp for 'audio' established"
#   (the echo came back), switchboard logs the incoming call and its end by BYE (200).
# switchboard-calls-baresip: `switchboard dial` to baresip (auto answer); dial exits 0,
#   received baresip's RTP (count > 0, from its final media figures), baresip logs "Call
#   established", receives RTP (the echo room's) and
#   sees the call closed by switchboard's BYE.
# baresip-plays-into-room: baresip calls room-wav and plays its WAV (a 400 Hz square wave);
#   a second caller (SIPp + tests/media/tone_peer, silent) joins room-wav and must hear that
#   400 Hz in what it receives: baresip's audio crossed the room to another participant.
#
# Bounded (about 20 s); every process started here is ended by its PID on exit.
# SB_INTEROP_KEEP=1 keeps the work directory.
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

if [ $# -lt 2 ]; then
	echo "usage: $0 SWITCHBOARD baresip-calls-switchboard|switchboard-calls-baresip" >&2
	exit 2
fi
SB=$1
TEST=$2
PEER=${3:-}
command -v baresip >/dev/null 2>&1 || { echo "FAIL: baresip not found (Debian package baresip-core)"; exit 1; }
[ -x "$SB" ] || { echo "FAIL: switchboard binary $SB not executable"; exit 1; }
MODDIR=
for d in /usr/lib/baresip/modules /usr/lib/*/baresip/modules /usr/local/lib/baresip/modules; do
	[ -e "$d/g711.so" ] && MODDIR=$d && break
done
[ -n "$MODDIR" ] || { echo "FAIL: baresip modules (g711.so) not found"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-interop-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0

cleanup() {
	exec 3>&- 2>/dev/null
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_INTEROP_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "work directory kept: $WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	FAILED=1
	echo "FAIL [$TEST]: $*"
}
show() {
	[ -s "$1" ] || return 0
	echo "---- $(basename "$1") (last ${2:-60} lines) ----"
	tail -n "${2:-60}" "$1" | sed -e 's/^/  | /'
}
finish() {
	if [ "$FAILED" = 0 ]; then
		echo "PASS [$TEST]"
		exit 0
	fi
	show "$WORK/sb.log" 60
	show "$WORK/dial.log" 60
	show "$WORK/baresip.log" 80
	exit 1
}
expect() { # FILE REGEX WHAT
	grep -Eq -- "$2" "$1" || fail "$3 (no line matching /$2/ in $(basename "$1"))"
}
wait_for() { # FILE REGEX SECONDS
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}


# A 400 Hz square wave, 8 kHz mono 16-bit WAV, $2 seconds.
make_wav() {
	local out=$1 secs=$2 bytes=$((16000 * $2)) period='' sec='' i
	le32() {
		printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))"
		printf "\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 24) & 255)))"
	}
	for ((i = 0; i < 10; i++)); do period+='\x40\x1f'; done # +8000
	for ((i = 0; i < 10; i++)); do period+='\xc0\xe0'; done # -8000
	for ((i = 0; i < 400; i++)); do sec+=$period; done
	{
		printf 'RIFF'; le32 $((36 + bytes)); printf 'WAVEfmt '; le32 16
		printf '\x01\x00\x01\x00'; le32 8000; le32 16000; printf '\x02\x00\x10\x00'
		printf 'data'; le32 "$bytes"
		for ((i = 0; i < secs; i++)); do printf "$sec"; done
	} >"$out"
}

# ---- baresip ----

BS_PORT=
start_baresip() {
	local rtp
	BS_PORT=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	rtp=$(pick_ports 20) || { fail "no free RTP ports"; finish; }
	make_wav "$WORK/tone.wav" 10
	mkdir -p "$WORK/conf"
	cat >"$WORK/conf/config" <<EOF
poll_method		epoll
sip_listen		127.0.0.1:$BS_PORT
sip_trans_def		udp
net_interface		127.0.0.1
audio_player		aubridge,nil
audio_source		aufile,$WORK/tone.wav
audio_alert		aubridge,nil
rtp_ports		$rtp-$((rtp + 19))
module_path		$MODDIR
module			stdio.so
module			g711.so
module			aufile.so
module			aubridge.so
module_app		account.so
module_app		menu.so
EOF
	# No registration; answer incoming calls at once; G.711 only.
	echo "<sip:baresip@127.0.0.1:$BS_PORT>;regint=0;answermode=auto;audio_codecs=PCMU,PCMA" \
		>"$WORK/conf/accounts"
	: >"$WORK/conf/contacts"
	mkfifo "$WORK/console"
	exec 3<>"$WORK/console" # read-write: never blocks, never SIGPIPE
	baresip -f "$WORK/conf" <"$WORK/console" >"$WORK/baresip.raw" 2>&1 &
	BS_PID=$!
	PIDS+=("$BS_PID")
	if ! wait_for "$WORK/baresip.raw" 'baresip is ready' 10; then
		fail "baresip not ready within 10 s"
		clean_bs_log
		finish
	fi
}
bs_cmd() { printf '%s\n' "$1" >&3; }
stop_baresip() {
	bs_cmd "/quit"
	if ! wait_exit "$BS_PID" 5; then
		fail "baresip did not quit within 5 s"
		kill -TERM "$BS_PID"
	fi
	clean_bs_log
}
# The console echoes every typed character and redraws a status line: keep the log lines.
clean_bs_log() {
	sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$WORK/baresip.raw" | tr '\r' '\n' |
		grep -v -e '^/' -e '^\[[0-9:]*\] audio=' -e '^ *$' >"$WORK/baresip.log"
}

# ---- switchboard ----

SB_PID=
SB_PORT=
start_switchboard() {
	local rtp n
	rtp=$(pick_ports 40) || { fail "no free RTP ports"; finish; }
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 39))" --data-dir "$WORK/data" \
		--log-level info >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for n in $(seq 1 100); do
		SB_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$SB_PORT" ] && return 0
		is_running "$SB_PID" || { fail "switchboard exited before it was ready"; finish; }
		sleep 0.1
	done
	fail "switchboard not ready within 10 s"
	finish
}
stop_switchboard() {
	kill -TERM "$SB_PID"
	if ! wait_exit "$SB_PID" 5; then
		fail "switchboard still running 5 s after SIGTERM"
	elif [ "$RC" != 0 ]; then
		fail "switchboard exited $RC after SIGTERM (want 0)"
	fi
}

case "$TEST" in
baresip-calls-switchboard)
	start_switchboard
	start_baresip
	bs_cmd "/dial sip:echo@127.0.0.1:$SB_PORT"
	wait_for "$WORK/baresip.raw" 'Call established' 10 || fail "baresip: call not established within 10 s"
	# Let the tone run through switchboard's echo for a while.
	wait_for "$WORK/baresip.raw" "incoming rtp for 'audio' established" 5 ||
		fail "baresip received no RTP back from switchboard"
	sleep 2
	bs_cmd "/hangup"
	wait_for "$WORK/sb.log" 'ended: 200' 5 || fail "switchboard did not see the call end by BYE"
	stop_baresip
	stop_switchboard
	expect "$WORK/sb.log" 'incoming call from baresip' "switchboard did not log the incoming call"
	expect "$WORK/sb.log" 'media: PCM[UA]' "switchboard did not set up G.711 media"
	expect "$WORK/baresip.log" 'terminated|closed' "baresip did not log the call's end"
	;;
switchboard-calls-baresip)
	start_baresip
	rtp=$(pick_ports 20)
	"$SB" dial "sip:baresip@127.0.0.1:$BS_PORT" --duration 3 --rtp-ports "$rtp-$((rtp + 19))" \
		--log-level info >"$WORK/dial.out" 2>"$WORK/dial.log" &
	dial_pid=$!
	PIDS+=("$dial_pid")
	if ! wait_exit "$dial_pid" 20; then
		fail "switchboard dial still running after 20 s"
	elif [ "$RC" != 0 ]; then
		fail "switchboard dial exited $RC (want 0: answered)"
	fi
	sleep 0.5
	stop_baresip
	expect "$WORK/dial.log" 'call answered' "dial: call not answered"
	expect "$WORK/dial.log" 'ended: 200' "dial: call did not end by BYE/200"
	expect "$WORK/dial.log" 'media: received [1-9][0-9]* RTP packets' "dial received no RTP from baresip"
	expect "$WORK/baresip.log" 'Call established' "baresip did not establish the call"
	expect "$WORK/baresip.log" "incoming rtp for 'audio' established" "baresip received no RTP from switchboard"
	expect "$WORK/baresip.log" 'terminated|closed' "baresip did not see the call end"
	grep -E 'media: received|ended' "$WORK/dial.log" | sed 's/^/  /'
	;;
baresip-plays-into-room)
	[ -x "$PEER" ] || { fail "tone_peer not given"; finish; }
	command -v sipp >/dev/null 2>&1 || { fail "sipp not found (Debian package sip-tester)"; finish; }
	start_switchboard
	start_baresip
	bs_cmd "/dial sip:room-wav@127.0.0.1:$SB_PORT"
	wait_for "$WORK/baresip.raw" 'Call established' 10 || fail "baresip: call not established within 10 s"
	lp=$(pick_ports 2) && tp=$(pick_ports 2) && mp=$(pick_ports 4) || { fail "no free ports"; finish; }
	SB_TONE_PEER=$PEER SB_WORK=$WORK sipp -sf "$(dirname "$0")/../media/uac-tone.xml" -i 127.0.0.1 \
		-p "$lp" -mp "$mp" -nostdin -timeout 30 -timeout_error -m 1 \
		-key codec pcmu -key pt 0 -key rtpmap PCMU/8000 -key name listener -key room wav \
		-key tone_port "$tp" -key send_hz 0 -key expect_hz 400 -key absent_hz 0 -key secs 3 \
		"127.0.0.1:$SB_PORT" >"$WORK/sipp.out" 2>&1 &
	sipp_pid=$!
	PIDS+=("$sipp_pid")
	if ! wait_exit "$sipp_pid" 20; then
		fail "SIPp still running after 20 s"
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC"
	fi
	bs_cmd "/hangup"
	wait_for "$WORK/sb.log" 'ended: 200' 5 || fail "switchboard did not see baresip's BYE"
	stop_baresip
	stop_switchboard
	if [ -s "$WORK/listener.txt" ]; then
		echo "listener: $(cat "$WORK/listener.txt")"
		read -r _ got _ sent _ expect _ <"$WORK/listener.txt"
		[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "the listener received only $got packets"
		[ "${expect:-0}" -ge 40 ] || fail "baresip's 400 Hz is only $expect % of what the listener hears"
	else
		fail "tone_peer wrote no result"
	fi
	expect "$WORK/sb.log" 'joins room wav' "the callers did not meet in room wav"
	;;
*)
	echo "unknown test $TEST" >&2
	exit 2
	;;
esac
finish
