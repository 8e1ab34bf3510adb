#!/usr/bin/env bash
# Media-plane tests against a running `switchboard serve`: SIPp does the signalling, tone_peer
# (tone_peer.c) or SIPp's pcap player the media.
#
#   run.sh SWITCHBOARD TEST TONE_PEER | run.sh --list
#
# room-tones-*: two callers in one room, each sending its own tone (440 Hz, 1 kHz) in the
# given codecs; each must hear the other's frequency and not its own (mix-minus).
# rtp-timeout-*: switchboard hangs up (BYE) when RTP never comes or stops; a call on hold is
# not timed out. dtmf-4733: RFC 4733 digits from SIPp's pcaps are reported once each;
# dtmf-inband: keys sent as tones by a caller without telephone-event, each reported once.
# hold-local-moh: with `--hold-local` HoldParticipant sends no re-INVITE; the held caller
# hears the music-on-hold WAV (a 600 Hz sine made by tone_peer --wav) and not the room, and
# its media keeps running. srtp-*: SDES SRTP both ways (the caller's tone comes back decrypted from an echo room), and
# offers refused with 488 when the media-encryption setting forbids them.
# Everything is bounded in time; every process started here is ended by its PID on exit.
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TESTS=(room-tones-pcmu room-tones-g722 room-tones-opus room-tones-pcma-opus
	srtp-80 srtp-32 srtp-require-refuses-plain srtp-disable-refuses-savp
	rtp-timeout-never rtp-timeout-stops rtp-timeout-hold dtmf-4733 dtmf-inband hold-local-moh)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 3 ] || { echo "usage: $0 SWITCHBOARD TEST TONE_PEER | --list" >&2; exit 2; }
SB=$1
TEST=$2
PEER=$3
command -v sipp >/dev/null 2>&1 || { echo "FAIL: sipp not found (Debian package sip-tester)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-media-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
SB_PORT=

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

fail() {
	FAILED=1
	echo "FAIL [$TEST]: $*"
}

show() {
	[ -s "$1" ] || return 0
	echo "---- $(basename "$1") (last ${2:-60} lines) ----"
	tail -n "${2:-60}" "$1" | sed -e 's/\r$//' -e 's/^/  | /'
}

finish() {
	local f
	if [ "$FAILED" = 0 ]; then
		echo "PASS [$TEST]"
		exit 0
	fi
	show "$WORK/sb.log" 80
	for f in "$WORK"/*.err "$WORK"/*.peer.log "$WORK"/*.out; do
		[ -e "$f" ] && show "$f" 40
	done
	exit 1
}

start_switchboard() { # extra serve options...
	local rtp n
	rtp=$(pick_ports 40) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 39))" --data-dir "$WORK/data" \
		--log-level debug "$@" >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for n in $(seq 1 100); do
		SB_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$SB_PORT" ] && return 0
		is_running "$SB_PID" || { fail "switchboard exited before it was ready"; finish; }
		sleep 0.1
	done
	fail "switchboard not ready within 10 s"
	finish
}

stop_switchboard() {
	[ -n "$SB_PID" ] || return 0
	if ! is_running "$SB_PID"; then
		fail "switchboard died during the test"
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

# sipp_bg NAME SCENARIO [sipp args...]: SIPp in the background, PID in SIPP_PID.
sipp_bg() {
	local name=$1 scen=$2
	shift 2
	SB_TONE_PEER=$PEER SB_WORK=$WORK sipp_spawn "$WORK/$name.err" "$WORK/$name.out" -sf "$scen" \
		-nostdin -timeout 30 -timeout_error -trace_err -m 1 "$@" "127.0.0.1:$SB_PORT" ||
		{ fail "no free port for SIPp"; finish; }
	PIDS+=("$SIPP_PID")
}

sipp_wait() { # NAME PID SECONDS
	if ! wait_exit "$2" "$3"; then
		fail "SIPp ($1) still running after $3 s"
		kill -KILL "$2" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp ($1) exited $RC (0 = the call went as scripted)"
	fi
}

codec_keys() { # CODEC -> SIPp -key arguments for the offer
	case $1 in
	pcmu) echo "-key codec pcmu -key pt 0 -key rtpmap PCMU/8000" ;;
	pcma) echo "-key codec pcma -key pt 8 -key rtpmap PCMA/8000" ;;
	g722) echo "-key codec g722 -key pt 9 -key rtpmap G722/8000" ;;
	opus) echo "-key codec opus -key pt 111 -key rtpmap opus/48000/2" ;;
	esac
}

# caller NAME CODEC SEND_HZ EXPECT_HZ ABSENT_HZ SECS: a tone caller into room "tones"
caller() {
	local tp
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	# shellcheck disable=SC2046
	sipp_bg "$1" "$HERE/uac-tone.xml" $(codec_keys "$2") -key name "$1" -key room tones \
		-key tone_port "$tp" -key send_hz "$3" -key expect_hz "$4" -key absent_hz "$5" \
		-key secs "$6"
}

room_tones() { # CODEC_A CODEC_B
	start_switchboard
	caller a "$1" 440 1000 440 4
	local a=$SIPP_PID
	sleep 0.3
	caller b "$2" 1000 440 1000 4
	local b=$SIPP_PID
	sipp_wait a "$a" 20
	sipp_wait b "$b" 20
	stop_switchboard
	for n in a b; do
		if [ -s "$WORK/$n.txt" ]; then
			echo "caller $n ($([ $n = a ] && echo "$1, sends 440 Hz" || echo "$2, sends 1 kHz")): $(cat "$WORK/$n.txt")"
			read -r _ got _ sent _ expect _ absent <"$WORK/$n.txt"
			[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "caller $n received only $got of $sent packets"
			[ "${expect:-0}" -ge 40 ] || fail "caller $n hears the other's tone at only $expect % of its audio"
			[ "${absent:-100}" -le 5 ] || fail "caller $n hears its own tone ($absent % of its audio): not mix-minus"
		else
			fail "tone_peer of caller $n wrote no result"
		fi
	done
	expect_log "$WORK/sb.log" "joins room tones" "the callers did not join room tones"
}

case $TEST in
hold-local-moh)
	"$PEER" --wav "$WORK/moh.wav" 600 2 16000 || fail "tone_peer could not write moh.wav"
	start_switchboard --hold-local true --music-on-hold "$WORK/moh.wav"
	http=$(sed -n 's/.*switchboard ready: .* http \([0-9.]*:[0-9][0-9]*\) .*/\1/p' "$WORK/sb.log" | head -n 1)
	caller m pcmu 1000 600 1000 4
	m_pid=$SIPP_PID
	# the caller alone in room tones hears nothing until it is held; then only the music
	for _ in $(seq 1 50); do grep -q "joins room tones" "$WORK/sb.log" && break; sleep 0.1; done
	id=$(sed -nE 's/.* joins room tones as ([^ ]+) .*/\1/p' "$WORK/sb.log" | head -n 1)
	tok=$("$SB" token --grant video.roomAdmin --room tones)
	curl -sS --max-time 5 -o "$WORK/hold.json" -H "Authorization: Bearer $tok" \
		-H 'Content-Type: application/json' -d "{\"room\":\"tones\",\"identity\":\"$id\"}" \
		"http://$http/twirp/switchboard.Calls/HoldParticipant" || fail "HoldParticipant failed"
	grep -q '"hold_status":"held"' "$WORK/hold.json" || fail "hold: $(cat "$WORK/hold.json")"
	sipp_wait m "$m_pid" 20
	stop_switchboard
	read -r _ got _ sent _ expect _ absent <"$WORK/m.txt" || fail "tone_peer wrote no result"
	echo "held caller: $(cat "$WORK/m.txt" 2>/dev/null)"
	[ "${expect:-0}" -ge 40 ] || fail "the held caller hears the music at only $expect % of its audio"
	[ "${absent:-100}" -le 5 ] || fail "the held caller hears its own tone ($absent %)"
	expect_log "$WORK/sb.log" "holding locally \(music on hold, no re-INVITE\)" "no local hold"
	! grep -q "re-INVITE sendonly" "$WORK/sb.log" || fail "a re-INVITE was sent"
	;;
room-tones-pcmu) room_tones pcmu pcmu ;;
room-tones-g722) room_tones g722 g722 ;;
room-tones-opus) room_tones opus opus ;;
room-tones-pcma-opus) room_tones pcma opus ;;
srtp-80 | srtp-32)
	start_switchboard --media-encryption allow
	tp=$(pick_ports 2) || { fail "no free port"; finish; }
	key=inline:$(head -c 30 /dev/urandom | base64 -w0)
	bits=${TEST#srtp-}
	# shellcheck disable=SC2046
	sipp_bg uac "$HERE/uac-tone-srtp.xml" $(codec_keys pcmu) -key name uac -key room echo \
		-key tone_port "$tp" -key send_hz 1000 -key expect_hz 1000 -key absent_hz 0 \
		-key secs 3 -key bits "$bits" -key key "${key#inline:}"
	sipp_wait uac "$SIPP_PID" 20
	stop_switchboard
	if [ -s "$WORK/uac.txt" ]; then
		echo "srtp caller: $(cat "$WORK/uac.txt")"
		read -r _ got _ sent _ expect _ <"$WORK/uac.txt"
		[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "received only $got of $sent SRTP packets"
		[ "${expect:-0}" -ge 40 ] || fail "the tone came back at only $expect % (decryption or echo failed)"
	else
		fail "tone_peer wrote no result"
	fi
	expect_log "$WORK/sb.log" "SRTP AES_CM_128_HMAC_SHA1_$bits" "the call did not use SRTP $bits"
	;;
srtp-require-refuses-plain)
	start_switchboard --media-encryption require
	sipp_bg uac "$HERE/uac-srtp-488.xml" -key proto RTP/AVP
	sipp_wait uac "$SIPP_PID" 15
	stop_switchboard
	;;
srtp-disable-refuses-savp)
	start_switchboard --media-encryption disable
	sipp_bg uac "$HERE/uac-srtp-488.xml" -key proto RTP/SAVP
	sipp_wait uac "$SIPP_PID" 15
	stop_switchboard
	;;
rtp-timeout-never)
	# answered, but not one RTP packet: the call fails with no_rtp_after_answer and a BYE
	start_switchboard --rtp-first-timeout 2 --rtp-timeout 2
	sipp_bg uac "$HERE/uac-no-rtp-bye.xml"
	sipp_wait uac "$SIPP_PID" 15
	stop_switchboard
	expect_log "$WORK/sb.log" "no RTP after answer" "no media timeout was reported"
	expect_log "$WORK/sb.log" "failed: no_rtp_after_answer" "the call did not end as failed (no_rtp_after_answer)"
	;;
rtp-timeout-stops)
	# RTP for 1 s, then silence: BYE from switchboard after the timeout
	start_switchboard --rtp-first-timeout 10 --rtp-timeout 2
	tp=$(pick_ports 2) || { fail "no free port"; finish; }
	# shellcheck disable=SC2046
	sipp_bg uac "$HERE/uac-tone-wait-bye.xml" $(codec_keys pcmu) -key name uac -key room stops \
		-key tone_port "$tp" -key send_hz 440 -key secs 1
	sipp_wait uac "$SIPP_PID" 15
	stop_switchboard
	expect_log "$WORK/sb.log" "RTP stopped: hanging up" "the stopped RTP was not noticed"
	;;
rtp-timeout-hold)
	# no RTP at all, but the caller holds at once for 4 s (timeout 2 s): no BYE while held;
	# after the resume the timeout runs again and ends the call
	start_switchboard --rtp-first-timeout 2 --rtp-timeout 2
	sipp_bg uac "$HERE/uac-hold-no-rtp-bye.xml"
	sipp_wait uac "$SIPP_PID" 20
	stop_switchboard
	expect_log "$WORK/sb.log" "call held by remote" "the hold was not seen"
	expect_log "$WORK/sb.log" "call resumed by remote" "the resume was not seen"
	expect_log "$WORK/sb.log" "no RTP after answer" "no timeout after the resume"
	;;
dtmf-4733)
	start_switchboard
	sipp_bg uac "$HERE/uac-dtmf-pcap.xml"
	sipp_wait uac "$SIPP_PID" 20
	stop_switchboard
	for d in 1 9 '#'; do
		n=$(grep -c "DTMF digit $d (RFC 4733" "$WORK/sb.log")
		[ "$n" = 1 ] || fail "digit $d reported $n times (want once)"
	done
	grep "DTMF digit" "$WORK/sb.log" | sed 's/^/  /'
	;;
dtmf-inband)
	start_switchboard
	tp=$(pick_ports 2) || { fail "no free port"; finish; }
	# shellcheck disable=SC2046
	sipp_bg uac "$HERE/uac-tone-inband.xml" $(codec_keys pcmu) -key name uac -key room echo \
		-key tone_port "$tp" -key send_hz "dtmf:159#" -key expect_hz 0 -key absent_hz 0 \
		-key secs 2
	sipp_wait uac "$SIPP_PID" 20
	stop_switchboard
	expect_log "$WORK/sb.log" "in-band DTMF" "the call did not fall back to in-band DTMF"
	for d in 1 5 9 '#'; do
		n=$(grep -c "DTMF digit $d (in-band" "$WORK/sb.log")
		[ "$n" = 1 ] || fail "in-band digit $d reported $n times (want once)"
	done
	grep "DTMF digit" "$WORK/sb.log" | sed 's/^/  /'
	;;
*)
	echo "unknown test $TEST" >&2
	exit 2
	;;
esac
finish
