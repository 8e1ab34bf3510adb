#!/usr/bin/env bash
# Agent protocol tests: `switchboard serve` on free ports, a SIPp caller (tone_peer for its
# media, or SIPp's RFC 4733 pcaps) in room NAME through dev routing (sip:room-NAME@), and
# twilio.mjs as the agent on GET /twilio with a token from `switchboard token`.
#
#   run.sh SWITCHBOARD TEST TONE_PEER | run.sh --list
#
# twilio-call: start/media/marks/clear against a live call; the caller hears the agent's 440 Hz
# and not its own 1 kHz (tone_peer), and gets a BYE when the agent closes its socket.
# twilio-dtmf: the caller's keys reach the agent as dtmf; its BYE ends the stream (stop, close).
# twilio-refuse: sockets refused for a missing or wrong token, no room, no call, unknown path.
# native-call: native.mjs on GET /agent at 16 kHz: as twilio-call with binary PCM frames, error
# events for bad commands, and the hangup command (the caller gets a BYE).
# native-close: GET /agent at 8 kHz; the agent closes its socket: the caller gets a BYE.
# native-events: the caller's key, its hold/resume re-INVITEs and its BYE as native events.
# native-transfer: the transfer command: a REFER the caller accepts and NOTIFYs 200 for.
# twilio-rest: the Twilio-shaped REST resource: POST Status=completed hangs up a /twilio call.
# close-play: agent_close {play: WAV}: the agent (pipecat.mjs close) closes at once; the caller
# hears the WAV's 440 Hz (tone_peer), then gets a BYE.
# close-transfer / close-refer-reject: agent_close {transfer: sip:bob@127.0.0.1}: the caller gets
# a REFER, accepts it (202, NOTIFY 200) and gets the BYE; or declines it (603) and gets a BYE.
# pipecat-hold: pipecat.mjs (Pipecat's serializer and transport): DTMF, media continuity over
# the caller's hold and resume, clear on an interruption, its close -> BYE.
# pipecat-rest: pipecat.mjs hangs up through the REST resource -> stop, close, BYE.
# openai-call: openai.mjs (the OpenAI Agents SDK's Twilio transport): a mark after each delta,
# echo timing within a frame, clear echoing the pending marks, its close -> BYE.
# say-greeter: agent greeter {say: ..., then: hangup} (no url), a dev call to sip:agent-greeter@:
# espeak-ng on the thread pool (the log says so), the caller receives RTP for about the speech's
# length, then a BYE. say-dev: sip:agent-say@ with nothing declared: the built-in sentence.
# dialout-*: agents switchboard dials itself (agents: in the config); see dialout.sh.
# npm `ws` comes from package-lock.json through `npm ci` (only when node_modules is missing or
# older than the lock file; one install at a time: flock). Every process is ended by its PID.
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib/proc.sh
. "$HERE/../lib/proc.sh"
TESTS=(twilio-call twilio-dtmf twilio-refuse twilio-transfer native-call native-close native-events native-transfer native-attended twilio-rest
	close-play close-transfer close-refer-reject pipecat-hold pipecat-rest openai-call
	say-greeter say-dev
	dialout-dev dialout-rule dialout-hangup dialout-echo dialout-play dialout-timeout
	dialout-native dialout-close-play dialout-close-transfer dialout-rest)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 3 ] || { echo "usage: $0 SWITCHBOARD TEST TONE_PEER | --list" >&2; exit 2; }
SB=$1
TEST=$2
PEER=$3
NODE=${SB_NODE:-node}
for tool in "$NODE" npm sipp; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "FAIL [$TEST]: $tool not found (Debian packages nodejs npm sip-tester)"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-agents-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_AGENTS_KEEP:-}" ]; then
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
	for f in "$WORK"/*.err "$WORK"/*.out; do
		[ -e "$f" ] && show "$f" 40
	done
	exit 1
}

install_ws() {
	exec 9<"$HERE/package-lock.json"
	flock 9
	local stamp="$HERE/node_modules/.package-lock.json"
	if [ ! -f "$stamp" ] || [ "$HERE/package-lock.json" -nt "$stamp" ] ||
		[ "$HERE/package.json" -nt "$stamp" ]; then
		echo "npm ci in $HERE"
		if ! (cd "$HERE" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1; then
			fail "npm ci failed:"
			sed -e 's/^/  | /' "$WORK/npm.log" | tail -n 30
			finish
		fi
	fi
	exec 9<&-
}

start_switchboard() {
	local rtp n
	rtp=$(pick_ports 40) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 39))" \
		--data-dir "$WORK/data" --log-level debug ${SB_EXTRA[@]+"${SB_EXTRA[@]}"} \
		>"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for n in $(seq 1 100); do
		SB_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		HTTP_PORT=$(sed -n 's/.*switchboard ready: .* http [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$SB_PORT" ] && [ -n "$HTTP_PORT" ] && return 0
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

# sipp_bg NAME SCENARIO [sipp args...]: SIPp in the background, PID in SIPP_PID.
sipp_bg() {
	local name=$1 scen=$2
	shift 2
	SB_TONE_PEER=$PEER SB_WORK=$WORK sipp_spawn "$WORK/$name.err" "$WORK/$name.out" -sf "$scen" \
		-nostdin -timeout 40 -timeout_error -trace_err -m 1 "$@" "127.0.0.1:$SB_PORT" ||
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

agent() { # MODE [SCRIPT]: twilio.mjs (or native.mjs), output in agent.out
	SB_WS="ws://127.0.0.1:$HTTP_PORT" SB_HTTP="http://127.0.0.1:$HTTP_PORT" SB_ROOM=$ROOM \
		SB_TOKEN=$TOKEN SB_TOKEN_OTHER=$TOKEN_OTHER SB_KEY=devkey SB_SECRET=secret \
		SB_FROM=$FROM SB_TO="room-$ROOM" timeout 60 "$NODE" "$HERE/${2:-twilio.mjs}" "$1" \
		>"$WORK/agent.out" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
}

agent_wait() {
	if ! wait_exit "$AGENT_PID" 60; then
		fail "the agent still running after 60 s"
	elif [ "$RC" != 0 ]; then
		fail "the agent failed (exit $RC)"
	fi
	sed -e 's/^/  /' "$WORK/agent.out"
}

# close_wav FILE: 2 s of 440 Hz, 16-bit mono 8 kHz (tone_peer --wav)
close_wav() {
	"$PEER" --wav "$1" 440 2 8000 >/dev/null || { fail "tone_peer --wav failed"; finish; }
}

# the caller's tone_peer figures in $WORK/$FROM.txt: at least 80 % of the packets, EXPECT in 40 %
# of the audio, ABSENT in at most 5 %
caller_tones() {
	local got sent expect absent
	for _ in $(seq 1 60); do
		[ -s "$WORK/$FROM.txt" ] && break
		sleep 0.1
	done
	if [ -s "$WORK/$FROM.txt" ]; then
		echo "  caller ($1): $(cat "$WORK/$FROM.txt")"
		read -r _ got _ sent _ expect _ absent <"$WORK/$FROM.txt"
		[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "the caller received only $got of $sent packets"
		[ "${expect:-0}" -ge 40 ] || fail "the caller hears what it should at only $expect % of its audio"
		[ "${absent:-100}" -le 5 ] || fail "the caller hears what it should not ($absent %)"
	else
		fail "tone_peer wrote no result"
	fi
}

install_ws
case $TEST in
close-play)
	close_wav "$WORK/bye.wav"
	printf 'agent_close: {play: %s}\n' "$WORK/bye.wav" >"$WORK/sb.yaml"
	SB_EXTRA=(--config "$WORK/sb.yaml")
	;;
close-transfer | close-refer-reject)
	printf 'agent_close:\n  transfer: "sip:bob@127.0.0.1"\n' >"$WORK/sb.yaml"
	SB_EXTRA=(--config "$WORK/sb.yaml")
	;;
say-greeter)
	printf 'agents:\n  greeter: {say: "Welcome to switchboard. Your call is important to us.", voice: en, then: hangup}\n' >"$WORK/sb.yaml"
	SB_EXTRA=(--config "$WORK/sb.yaml")
	;;
dialout-*)
	# shellcheck source=dialout.sh
	. "$HERE/dialout.sh"
	dialout_setup
	;;
esac
start_switchboard
ROOM=agent$RANDOM
FROM=caller
TOKEN=$("$SB" token --grant roomJoin --room "$ROOM") || { fail "switchboard token failed"; finish; }
TOKEN_OTHER=$("$SB" token --grant roomJoin --room "other$ROOM") || { fail "switchboard token failed"; finish; }

case $TEST in
twilio-call)
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	sipp_bg caller "$HERE/uac-agent-tone.xml" -key codec pcmu -key pt 0 -key rtpmap PCMU/8000 \
		-key name "$FROM" -key room "$ROOM" -key tone_port "$tp" -key send_hz 1000 \
		-key expect_hz 440 -key absent_hz 1000 -key secs 4
	sip=$SIPP_PID
	agent call
	agent_wait
	sipp_wait caller "$sip" 30
	for _ in $(seq 1 50); do # tone_peer ends SECONDS + 1.5 s after the answer at the latest
		[ -s "$WORK/$FROM.txt" ] && break
		sleep 0.1
	done
	if [ -s "$WORK/$FROM.txt" ]; then
		echo "  caller (sends 1 kHz, hears the agent): $(cat "$WORK/$FROM.txt")"
		read -r _ got _ sent _ expect _ absent <"$WORK/$FROM.txt"
		[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "the caller received only $got of $sent packets"
		[ "${expect:-0}" -ge 40 ] || fail "the caller hears the agent's 440 Hz at only $expect % of its audio"
		[ "${absent:-100}" -le 5 ] || fail "the caller hears its own 1 kHz ($absent %)"
	else
		fail "tone_peer wrote no result"
	fi
	grep -q "closed by the agent: hanging up" "$WORK/sb.log" || fail "no hang-up after the agent closed"
	stop_switchboard
	;;
twilio-dtmf)
	FROM=sipp # the scenario's From user
	sipp_bg caller "$HERE/uac-agent-dtmf.xml" -key room "$ROOM"
	sip=$SIPP_PID
	agent dtmf
	agent_wait
	sipp_wait caller "$sip" 30
	stop_switchboard
	;;
twilio-refuse)
	agent refuse
	agent_wait
	stop_switchboard
	;;
native-call | native-close | twilio-rest)
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	secs=4
	[ "$TEST" = native-call ] || secs=2
	sipp_bg caller "$HERE/uac-agent-tone.xml" -key codec pcmu -key pt 0 -key rtpmap PCMU/8000 \
		-key name "$FROM" -key room "$ROOM" -key tone_port "$tp" -key send_hz 1000 \
		-key expect_hz 440 -key absent_hz 1000 -key secs "$secs"
	sip=$SIPP_PID
	case $TEST in
	native-call) agent call native.mjs ;;
	native-close) agent close native.mjs ;;
	twilio-rest) agent rest native.mjs ;;
	esac
	agent_wait
	sipp_wait caller "$sip" 30 # its BYE came (the scenario waits for it)
	case $TEST in
	native-call)
		for _ in $(seq 1 50); do
			[ -s "$WORK/$FROM.txt" ] && break
			sleep 0.1
		done
		if [ -s "$WORK/$FROM.txt" ]; then
			echo "  caller (sends 1 kHz, hears the agent): $(cat "$WORK/$FROM.txt")"
			read -r _ got _ sent _ expect _ absent <"$WORK/$FROM.txt"
			[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "the caller received only $got of $sent packets"
			[ "${expect:-0}" -ge 40 ] || fail "the caller hears the agent's 440 Hz at only $expect % of its audio"
			[ "${absent:-100}" -le 5 ] || fail "the caller hears its own 1 kHz ($absent %)"
		else
			fail "tone_peer wrote no result"
		fi
		grep -q "the agent's hangup command ends" "$WORK/sb.log" || fail "no hangup command in the log"
		;;
	native-close)
		grep -q "closed by the agent: hanging up" "$WORK/sb.log" || fail "no hang-up after the agent closed"
		;;
	twilio-rest)
		grep -q "REST: Status=completed" "$WORK/sb.log" || fail "no REST hang-up in the log"
		;;
	esac
	stop_switchboard
	;;
native-attended)
	# the room's first call (the agent's caller) accepts a REFER with Replaces naming the
	# second call; the second waits for the BYE that switchboard's shutdown sends
	FROM=sipp
	sipp_bg caller "$HERE/uac-agent-attended.xml" -key room "$ROOM"
	sip=$SIPP_PID
	for _ in $(seq 1 50); do grep -q "joins room $ROOM" "$WORK/sb.log" && break; sleep 0.1; done
	agent attended native.mjs
	sleep 0.5
	sipp_bg other "$HERE/../sip/scenarios/uac-room-wait-bye.xml" -s "room-$ROOM"
	other=$SIPP_PID
	agent_wait
	sipp_wait caller "$sip" 30
	stop_switchboard
	sipp_wait other "$other" 10
	;;
native-events | native-transfer | twilio-transfer)
	FROM=sipp # the scenario's From user
	if [ "$TEST" = native-events ]; then
		sipp_bg caller "$HERE/uac-agent-hold.xml" -key room "$ROOM"
	else
		sipp_bg caller "$HERE/uac-agent-transfer.xml" -key room "$ROOM"
	fi
	sip=$SIPP_PID
	if [ "$TEST" = twilio-transfer ]; then
		agent transfer twilio.mjs
	else
		agent "${TEST#native-}" native.mjs
	fi
	agent_wait
	sipp_wait caller "$sip" 30
	stop_switchboard
	;;
close-play)
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	t0=$(date +%s%N)
	sipp_bg caller "$HERE/uac-agent-tone.xml" -key codec pcmu -key pt 0 -key rtpmap PCMU/8000 \
		-key name "$FROM" -key room "$ROOM" -key tone_port "$tp" -key send_hz 1000 \
		-key expect_hz 440 -key absent_hz 1000 -key secs 2
	sip=$SIPP_PID
	agent close pipecat.mjs
	agent_wait
	sipp_wait caller "$sip" 30 # the BYE came after the WAV
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "  the call lasted $ms ms (INVITE to the BYE's answer; the WAV is 2 s)"
	[ "$ms" -ge 2000 ] || fail "the BYE came after $ms ms, before the 2 s WAV could play"
	caller_tones "sends 1 kHz, hears the close WAV"
	grep -q "agent closed: on close play" "$WORK/sb.log" || fail "no close play in the log"
	grep -q "announcement played: hanging up" "$WORK/sb.log" || fail "no hang-up after the WAV"
	stop_switchboard
	;;
close-transfer | close-refer-reject)
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	scen=uac-close-transfer.xml
	[ "$TEST" = close-refer-reject ] && scen=uac-close-refer-reject.xml
	sipp_bg caller "$HERE/$scen" -key name "$FROM" -key to "room-$ROOM" -key tone_port "$tp" \
		-key send_hz 1000 -key secs 2
	sip=$SIPP_PID
	agent close pipecat.mjs
	agent_wait
	sipp_wait caller "$sip" 30
	grep -q "agent closed: on close transfer to sip:bob@127.0.0.1" "$WORK/sb.log" ||
		fail "no close transfer in the log"
	if [ "$TEST" = close-transfer ]; then
		grep -q "transferred after the agent closed" "$WORK/sb.log" || fail "no transfer success logged"
	else
		grep -q "transfer failed (603 [^)]*): hanging up" "$WORK/sb.log" || fail "no hang-up after the failed transfer"
	fi
	stop_switchboard
	;;
pipecat-hold)
	FROM=sipp # the scenario's From user
	sipp_bg caller "$HERE/uac-framework-hold.xml" -key room "$ROOM"
	sip=$SIPP_PID
	agent hold pipecat.mjs
	agent_wait
	sipp_wait caller "$sip" 30 # the BYE after the agent's close
	grep -q "closed by the agent: hanging up" "$WORK/sb.log" || fail "no hang-up after the agent closed"
	stop_switchboard
	;;
pipecat-rest | openai-call)
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	secs=5
	[ "$TEST" = pipecat-rest ] && secs=2
	sipp_bg caller "$HERE/uac-agent-tone.xml" -key codec pcmu -key pt 0 -key rtpmap PCMU/8000 \
		-key name "$FROM" -key room "$ROOM" -key tone_port "$tp" -key send_hz 1000 \
		-key expect_hz 440 -key absent_hz 1000 -key secs "$secs"
	sip=$SIPP_PID
	if [ "$TEST" = pipecat-rest ]; then agent rest pipecat.mjs; else agent call openai.mjs; fi
	agent_wait
	sipp_wait caller "$sip" 30 # the BYE came
	caller_tones "sends 1 kHz, hears the agent's 440 Hz"
	if [ "$TEST" = pipecat-rest ]; then
		grep -q "REST: Status=completed" "$WORK/sb.log" || fail "no REST hang-up in the log"
	else
		grep -q "closed by the agent: hanging up" "$WORK/sb.log" || fail "no hang-up after the agent closed"
	fi
	stop_switchboard
	;;
say-greeter | say-dev)
	name=greeter
	[ "$TEST" = say-dev ] && name=say
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	t0=$(date +%s%N)
	sipp_bg caller "$HERE/uac-dialout-tone.xml" -key codec pcmu -key pt 0 -key rtpmap PCMU/8000 \
		-key name caller -key to "agent-$name" -key tone_port "$tp" -key send_hz 1000 \
		-key expect_hz 0 -key absent_hz 0 -key secs 8
	sipp_wait caller "$SIPP_PID" 30 # the BYE came
	ms=$((($(date +%s%N) - t0) / 1000000))
	FROM=caller
	for _ in $(seq 1 100); do
		[ -s "$WORK/$FROM.txt" ] && break
		sleep 0.1
	done
	speech=$(sed -nE "s/.*agent $name: synthesised ([0-9]+) ms of speech in [0-9]+ ms on the thread pool \(off the control loop: yes\).*/\1/p" "$WORK/sb.log" | head -n 1)
	got=$(sed -nE 's/^received ([0-9]+) .*/\1/p' "$WORK/$FROM.txt" 2>/dev/null)
	echo "  speech ${speech:-?} ms; the call lasted $ms ms; the caller received ${got:-?} RTP packets"
	if [ -z "$speech" ]; then
		fail "no synthesis on the thread pool in the log"
	else
		[ "$speech" -ge 1000 ] || fail "only $speech ms of speech"
		[ "$ms" -ge "$speech" ] && [ "$ms" -le $((speech + 2500)) ] ||
			fail "the BYE came $ms ms after the INVITE (speech $speech ms)"
		[ "${got:-0}" -ge $((speech / 20 * 8 / 10)) ] && [ "${got:-0}" -le $((speech / 20 + 100)) ] ||
			fail "the caller received ${got:-0} RTP packets for $speech ms of speech"
	fi
	grep -q "agent $name says \"" "$WORK/sb.log" || fail "no say in the log"
	grep -q "announcement played: hanging up" "$WORK/sb.log" || fail "no hang-up after the speech"
	grep -q "echo joined room" "$WORK/sb.log" && fail "an echo participant joined"
	stop_switchboard
	;;
dialout-*)
	dialout_run
	;;
*)
	echo "unknown test $TEST" >&2
	exit 2
	;;
esac
finish
