#!/usr/bin/env bash
# livekit.RoomService end to end with a real SIP call: `switchboard serve` (dev routing),
# SIPp calls sip:room-demo@ from +15550100 (tests/sip/scenarios/uac-room-wait-bye.xml),
# then with curl:
#   room-sip:    ListRooms shows demo with 1 participant; ListParticipants shows the SIP
#                participant (kind SIP, state ACTIVE, an audio track, the sip.* attributes);
#                GetParticipant agrees; RemoveParticipant -> SIPp receives a BYE and answers
#                200 (SIPp exits 0), the participant is gone, the room closes after it.
#   room-delete: DeleteRoom with the call in it -> SIPp receives a BYE; ListRooms is empty.
#
#   room_e2e.sh SWITCHBOARD TEST | room_e2e.sh --list
#
# Every case ends with SIGTERM and wants exit 0; every process started here is ended by its
# PID. Needs curl and sipp (Debian packages curl, sip-tester).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(room-sip room-delete)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD TEST | --list" >&2; exit 2; }
SB=$1
TEST=$2
SCEN=$(cd "$(dirname "$0")/../sip/scenarios" && pwd)
command -v curl >/dev/null 2>&1 || { echo "FAIL: curl not found (Debian package curl)"; exit 1; }
command -v sipp >/dev/null 2>&1 || { echo "FAIL: sipp not found (Debian package sip-tester)"; exit 1; }

# shellcheck source=../lib/serve.sh
. "$(dirname "$0")/../lib/serve.sh"
serve_init sb-room

# room NAME METHOD BODY: POST /twirp/livekit.RoomService/METHOD with a token granting
# roomCreate, roomList and roomAdmin for room demo; body in NAME.body, status in STATUS.
room() {
	local name=$1 method=$2 body=$3
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -D "$WORK/$name.hdr" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" -d "$body" \
		"http://$HTTP/twirp/livekit.RoomService/$method") || { fail "$name: curl failed"; STATUS=000; }
	[ "$STATUS" = 200 ] || fail "$name: HTTP $STATUS, want 200 ($(cat "$WORK/$name.body"))"
}

has() { # NAME TEXT...: the body contains every TEXT (the API's JSON is compact)
	local name=$1 t
	shift
	for t in "$@"; do
		grep -qF -- "$t" "$WORK/$name.body" || fail "$name: no '$t' in $(cat "$WORK/$name.body")"
	done
}

lacks() { # NAME TEXT...
	local name=$1 t
	shift
	for t in "$@"; do
		! grep -qF -- "$t" "$WORK/$name.body" || fail "$name: '$t' in $(cat "$WORK/$name.body")"
	done
}

wait_for() { # FILE REGEX SECONDS
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# call_in: SIPp calls room-demo and waits for a BYE; its PID in SIPP_PID.
call_in() {
	local lp mp
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	sipp -sf "$SCEN/uac-room-wait-bye.xml" -s room-demo -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 \
		-nostdin -timeout 40 -timeout_error -trace_err -trace_msg \
		-message_file "$WORK/uac.msg" -error_file "$WORK/uac.err" \
		"127.0.0.1:$SIP_PORT" >"$WORK/uac.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
	wait_for "$WORK/uac.msg" '^ACK ' 10 || { fail "call not set up within 10 s"; finish; }
	# the participant joins when the media starts, right after the answer
	for _ in $(seq 1 50); do
		grep -q 'joined room demo' "$WORK/sb.log" && return 0
		sleep 0.1
	done
	fail "the call did not join room demo within 5 s"
}

# sipp_done: SIPp got its BYE, answered it and exited 0.
sipp_done() {
	if ! wait_exit "$SIPP_PID" 15; then
		fail "SIPp still running 15 s after the hang-up (no BYE?)"
		kill -KILL "$SIPP_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC (0 = the call ended with our BYE)"
	fi
	grep -q '^BYE ' "$WORK/uac.msg" || fail "SIPp never received a BYE"
}

start_switchboard
TOKEN=$("$SB" token --grant roomCreate,roomList,roomAdmin --room demo) || { fail "token"; finish; }

case $TEST in
room-sip)
	call_in
	room rooms ListRooms '{}'
	has rooms '"name":"demo"' '"num_participants":1' '"sid":"RM_'
	room parts ListParticipants '{"room":"demo"}'
	has parts '"kind":"SIP"' '"state":"ACTIVE"' '"type":"AUDIO"' '"sid":"PA_' \
		'"sip.callID":"SCL_' '"sip.callIDFull":"' '"sip.phoneNumber":"+15550100"' \
		'"sip.trunkPhoneNumber":"room-demo"' '"sip.callStatus":"active"' '"name":"Phone +15550100"'
	id=$(sed -n 's/.*"identity":"\([^"]*\)".*/\1/p' "$WORK/parts.body")
	[ -n "$id" ] || fail "no identity in $(cat "$WORK/parts.body")"
	room get GetParticipant "{\"room\":\"demo\",\"identity\":\"$id\"}"
	has get "\"identity\":\"$id\"" '"kind":"SIP"'
	room remove RemoveParticipant "{\"room\":\"demo\",\"identity\":\"$id\"}"
	has remove '{}'
	sipp_done
	room after ListParticipants '{"room":"demo"}'
	has after '{"participants":[]}'
	;;
room-delete)
	call_in
	room del DeleteRoom '{"room":"demo"}'
	has del '{}'
	sipp_done
	room rooms ListRooms '{}'
	has rooms '{"rooms":[]}'
	;;
*)
	fail "unknown test $TEST"
	;;
esac
stop_switchboard
finish
