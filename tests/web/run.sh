#!/usr/bin/env bash
# The web console end to end: starts `switchboard serve` on free ports with a fresh data
# directory and runs one case against it.
#
#   run.sh SWITCHBOARD CASE [TONE_PEER] | run.sh --list
#
#   console-call     a SIPp caller into room demo (tests/sip/scenarios/uac-room-held.xml); the
#                    console in headless chromium (playwright-core, console_call.mjs) shows the
#                    call and its attributes; Hold -> SIPp gets a re-INVITE with a=sendonly and
#                    the page shows held; Resume -> a=sendrecv; Send DTMF; Hang up -> SIPp gets
#                    BYE and exits 0, the participant leaves the page; /console/ws refuses no or
#                    a bad token (1008). Screenshots in the work
#                    directory (kept on failure) and the last one in $SB_WEB_ARTIFACTS.
#   softphone        a SIPp caller into room demo (tests/agents/uac-agent-tone.xml) whose media is
#                    tone_peer (TONE_PEER, default next to SWITCHBOARD: tests/tone_peer) sending
#                    1 kHz; chromium's fake microphone plays a 440 Hz WAV (tone_peer --wav);
#                    the console's "Join as softphone" opens softphone.html, which joins the room
#                    over /agent (softphone.mjs): its probe hears 1 kHz (not 440 Hz), the caller
#                    hears 440 Hz (>= 40 %) and not its own 1 kHz (<= 5 %); Hang up closes the
#                    socket and SIPp gets BYE. Screenshots as for console-call.
#   http-dev         curl: GET / is text/html (and the .js/.css), /api/token in dev mode gives a
#                    token that creates and lists rooms and lists trunks over Twirp.
#   http-keys        curl: with keys configured /api/token is 404 and GET / still served.
#   http-keys-dev    curl: keys configured and `dev: true`: /api/token gives a token of the
#                    first key that the API takes.
#
# playwright-core comes from package-lock.json through `npm ci`, run only when node_modules is
# missing or older than the lock file (one install at a time: flock). Chromium is Debian's
# (`command -v chromium`, or SB_CHROMIUM). Every process started here is ended by its PID.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SCEN=$(cd "$HERE/../sip/scenarios" && pwd)
# shellcheck source=../lib/proc.sh
. "$HERE/../lib/proc.sh"

TESTS=(console-call softphone http-dev http-keys http-keys-dev)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD CASE [TONE_PEER] | --list" >&2; exit 2; }
SB=$1
TEST=$2
PEER=${3:-$(dirname "$SB")/tests/tone_peer}
command -v curl >/dev/null 2>&1 || { echo "FAIL [$TEST]: curl not found (Debian package curl)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-web-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
HTTP=
SIP_PORT=

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_WEB_KEEP:-}" ]; then
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

finish() {
	if [ "$FAILED" = 0 ]; then
		echo "PASS [$TEST]"
		exit 0
	fi
	for f in sb.log uac.out; do
		[ -f "$WORK/$f" ] || continue
		echo "---- $f (last 40 lines) ----"
		tail -n 40 "$WORK/$f" | sed -e 's/^/  | /'
	done
	exit 1
}

wait_for() { # FILE REGEX SECONDS
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# npm ci when node_modules is missing or stale (npm writes node_modules/.package-lock.json).
install_playwright() {
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

# start_switchboard [CONFIG]: serve on free ports; HTTP and SIP_PORT when ready.
start_switchboard() {
	local rtp cfg=()
	[ -n "${1:-}" ] && cfg=(--config "$1")
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	"$SB" serve "${cfg[@]}" --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
		--rtp-ports "$rtp-$((rtp + 19))" --data-dir "$WORK/data" --log-level debug \
		>"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for _ in $(seq 1 100); do
		HTTP=$(sed -n 's/.*switchboard ready: .* http \([0-9.]*:[0-9][0-9]*\) .*/\1/p' "$WORK/sb.log" | head -n 1)
		SIP_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$HTTP" ] && [ -n "$SIP_PORT" ] && return 0
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

# get NAME PATH [WANT]: GET http://HTTP/PATH into NAME.body (headers NAME.hdr); the status
# must be WANT (200).
get() {
	local name=$1 path=$2 want=${3:-200}
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -D "$WORK/$name.hdr" -w '%{http_code}' \
		"http://$HTTP$path") || { fail "$name: curl failed"; STATUS=000; }
	[ "$STATUS" = "$want" ] || fail "$name: HTTP $STATUS, want $want ($(head -c 300 "$WORK/$name.body"))"
}

has() { # NAME TEXT...: NAME.body contains every TEXT
	local name=$1 t
	shift
	for t in "$@"; do
		grep -qF -- "$t" "$WORK/$name.body" || fail "$name: no '$t' in $(head -c 300 "$WORK/$name.body")"
	done
}

content_type() { # NAME TYPE: NAME's Content-Type starts with TYPE
	grep -iq "^content-type: $2" "$WORK/$1.hdr" ||
		fail "$1: Content-Type $(grep -i '^content-type' "$WORK/$1.hdr" | tr -d '\r'), want $2"
}

# twirp NAME SERVICE/METHOD BODY TOKEN [WANT]
twirp() {
	local name=$1 rpc=$2 body=$3 tok=$4 want=${5:-200}
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $tok" -d "$body" \
		"http://$HTTP/twirp/$rpc") || { fail "$name: curl failed"; STATUS=000; }
	[ "$STATUS" = "$want" ] || fail "$name: HTTP $STATUS, want $want ($(cat "$WORK/$name.body"))"
}

pages() { # the console's files are served
	get page / && content_type page text/html && has page '<title>switchboard console</title>' '/console.js'
	get js /console.js && content_type js text/javascript && has js "/console/ws"
	get css /console.css && content_type css text/css
}

case $TEST in
http-dev)
	start_switchboard
	pages
	get token '/api/token?room=demo&identity=alice'
	content_type token application/json
	has token '"token":"' '"url":"ws://'
	TOK=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$WORK/token.body")
	[ -n "$TOK" ] || { fail "no token in $(cat "$WORK/token.body")"; finish; }
	twirp rooms livekit.RoomService/CreateRoom '{"name":"demo"}' "$TOK"
	twirp list livekit.RoomService/ListRooms '{}' "$TOK"
	has list '"name":"demo"'
	twirp parts livekit.RoomService/ListParticipants '{"room":"demo"}' "$TOK" # roomAdmin of demo
	twirp other livekit.RoomService/ListParticipants '{"room":"other"}' "$TOK" 401
	twirp trunks livekit.SIP/ListSIPOutboundTrunk '{}' "$TOK"
	twirp bad livekit.RoomService/ListRooms '{}' "x.y.z" 401
	stop_switchboard
	;;
http-keys)
	printf 'keys:\n  prodkey: a-long-production-secret-0123456789\n' >"$WORK/switchboard.yaml"
	start_switchboard "$WORK/switchboard.yaml"
	pages
	get token '/api/token?room=demo' 404
	stop_switchboard
	;;
http-keys-dev)
	printf 'dev: true\nkeys:\n  prodkey: a-long-production-secret-0123456789\n' >"$WORK/switchboard.yaml"
	start_switchboard "$WORK/switchboard.yaml"
	get token '/api/token?room=demo'
	TOK=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' "$WORK/token.body")
	[ -n "$TOK" ] || { fail "no token in $(cat "$WORK/token.body")"; finish; }
	twirp list livekit.RoomService/ListRooms '{}' "$TOK"
	stop_switchboard
	;;
console-call)
	NODE=${SB_NODE:-node}
	for tool in "$NODE" npm sipp; do
		command -v "$tool" >/dev/null 2>&1 ||
			{ fail "$tool not found (Debian packages nodejs npm sip-tester)"; finish; }
	done
	CHROMIUM=${SB_CHROMIUM:-$(command -v chromium || true)}
	[ -n "$CHROMIUM" ] || { fail "chromium not found (Debian package chromium)"; finish; }
	install_playwright
	start_switchboard
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	head -c 16000 /dev/zero | tr '\0' '\377' >"$WORK/ulaw.raw" # 2 s of PCMU silence
	sipp -sf "$SCEN/uac-room-held.xml" -s room-demo -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 \
		-nostdin -timeout 90 -timeout_error -trace_err -trace_msg -trace_logs \
		-message_file "$WORK/uac.msg" -error_file "$WORK/uac.err" -log_file "$WORK/uac.log" \
		"127.0.0.1:$SIP_PORT" >"$WORK/uac.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
	wait_for "$WORK/uac.msg" '^ACK ' 10 || { fail "call not set up within 10 s"; finish; }
	mkdir -p "$WORK/shots"
	SB_URL="http://$HTTP" CHROMIUM="$CHROMIUM" SHOTS="$WORK/shots" SIPP_LOG="$WORK/uac.log" \
		timeout 120 "$NODE" "$HERE/console_call.mjs" 2>&1 | tee "$WORK/node.log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || fail "console_call.mjs exited $rc"
	if [ -n "${SB_WEB_ARTIFACTS:-}" ] && mkdir -p "$SB_WEB_ARTIFACTS" 2>/dev/null; then
		last=$(ls "$WORK/shots"/*.png 2>/dev/null | tail -n 1)
		[ -n "$last" ] && cp "$last" "$SB_WEB_ARTIFACTS/$TEST.png" &&
			echo "screenshot: $SB_WEB_ARTIFACTS/$TEST.png"
	fi
	# SIPp: held (a=sendonly), resumed (a=sendrecv), then our BYE, exit 0
	grep -q 'hold re-INVITE: a=sendonly' "$WORK/uac.log" 2>/dev/null || fail "SIPp saw no re-INVITE with a=sendonly"
	grep -q 'resume re-INVITE: a=sendrecv' "$WORK/uac.log" 2>/dev/null || fail "SIPp saw no re-INVITE with a=sendrecv"
	if ! wait_exit "$SIPP_PID" 15; then
		fail "SIPp still running 15 s after the hang-up"
		kill -KILL "$SIPP_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC (0 = held, resumed and hung up by the console)"
	fi
	grep -q '^BYE ' "$WORK/uac.msg" || fail "SIPp received no BYE"
	stop_switchboard
	;;
softphone)
	NODE=${SB_NODE:-node}
	for tool in "$NODE" npm sipp; do
		command -v "$tool" >/dev/null 2>&1 ||
			{ fail "$tool not found (Debian packages nodejs npm sip-tester)"; finish; }
	done
	CHROMIUM=${SB_CHROMIUM:-$(command -v chromium || true)}
	[ -n "$CHROMIUM" ] || { fail "chromium not found (Debian package chromium)"; finish; }
	[ -x "$PEER" ] || { fail "tone_peer not found at $PEER (third argument)"; finish; }
	install_playwright
	"$PEER" --wav "$WORK/mic440.wav" 440 2 48000 || { fail "tone_peer --wav failed"; finish; }
	start_switchboard
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	# the caller sends 1 kHz for 8 s from the answer and measures what it hears; the scenario
	# then waits (20 s from the answer) for the BYE that the softphone's hang-up causes
	SB_TONE_PEER=$PEER SB_WORK=$WORK sipp -sf "$HERE/../agents/uac-agent-tone.xml" \
		-key codec pcmu -key pt 0 -key rtpmap PCMU/8000 -key name caller -key room demo \
		-key tone_port "$tp" -key send_hz 1000 -key expect_hz 440 -key absent_hz 1000 \
		-key secs 8 -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 -nostdin -timeout 60 -timeout_error \
		-trace_err -trace_msg -message_file "$WORK/uac.msg" -error_file "$WORK/uac.err" \
		"127.0.0.1:$SIP_PORT" >"$WORK/uac.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
	wait_for "$WORK/uac.msg" '^ACK ' 10 || { fail "call not set up within 10 s"; finish; }
	mkdir -p "$WORK/shots"
	SB_URL="http://$HTTP" CHROMIUM="$CHROMIUM" SHOTS="$WORK/shots" WAV="$WORK/mic440.wav" \
		TONE_RESULT="$WORK/caller.txt" ROOM=demo \
		timeout 120 "$NODE" "$HERE/softphone.mjs" 2>&1 | tee "$WORK/node.log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || fail "softphone.mjs exited $rc"
	if [ -n "${SB_WEB_ARTIFACTS:-}" ] && mkdir -p "$SB_WEB_ARTIFACTS" 2>/dev/null; then
		for f in "$WORK/shots"/*softphone-in-call.png "$WORK/shots"/*softphone-hung-up.png; do
			[ -f "$f" ] || continue
			b=$(basename "$f" .png)
			cp "$f" "$SB_WEB_ARTIFACTS/$TEST-${b#*-softphone-}.png" &&
				echo "screenshot: $SB_WEB_ARTIFACTS/$TEST-${b#*-softphone-}.png"
		done
	fi
	if [ -s "$WORK/caller.txt" ]; then
		echo "  caller (sends 1 kHz, hears the softphone): $(cat "$WORK/caller.txt")"
		read -r _ got _ sent _ expect _ absent <"$WORK/caller.txt"
		[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "the caller received only $got of $sent packets"
		[ "${expect:-0}" -ge 40 ] || fail "the caller hears the softphone's 440 Hz at only $expect % of its audio"
		[ "${absent:-100}" -le 5 ] || fail "the caller hears its own 1 kHz ($absent %)"
	else
		fail "tone_peer wrote no result"
	fi
	if ! wait_exit "$SIPP_PID" 15; then
		fail "SIPp still running 15 s after the hang-up"
		kill -KILL "$SIPP_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC (0 = answered, then BYE from the softphone's hang-up)"
	fi
	grep -q "closed by the agent: hanging up" "$WORK/sb.log" || fail "no hang-up after the softphone closed"
	stop_switchboard
	;;
*)
	fail "no such case"
	;;
esac
finish
