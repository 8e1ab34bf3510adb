#!/usr/bin/env bash
# switchboard.Calls end to end with a real SIP call: `switchboard serve` (dev routing), SIPp
# calls sip:room-demo@ from +15550100 offering PCMU only and streams RTP
# (tests/sip/scenarios/uac-room-held.xml), then with curl:
#   calls-hold-dtmf-stats: GetCallStats (codec PCMU, packets received and sent > 0, the
#                Call-ID, not held); HoldParticipant -> SIPp receives a re-INVITE with
#                a=sendonly and answers a=recvonly; the participant shows sip.hold=local,
#                sip.holdStatus=held, sip.holdSipStatus=200 and GetCallStats says on_hold;
#                SendDTMF while held is refused (failed_precondition); ResumeParticipant ->
#                a re-INVITE with a=sendrecv; SendDTMF "12" -> switchboard sends RFC 4733
#                events (checked in its log: the API call and no error; SIPp does not decode
#                RTP); RemoveParticipant -> BYE, SIPp exits 0.
#   calls-errors: not_found for an unknown participant, invalid_argument for a bad digit,
#                unauthenticated without roomAdmin for the room (a hold while a re-INVITE is
#                pending and a non-SIP participant are covered by the unit tests); then a
#                hold and a resume, and RemoveParticipant.
#
#   calls_e2e.sh SWITCHBOARD TEST | calls_e2e.sh --list
#
# Every case ends with SIGTERM and wants exit 0; every process started here is ended by its
# PID. Needs curl and sipp (Debian packages curl, sip-tester).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(calls-hold-dtmf-stats calls-errors)

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
serve_init sb-calls

# calls NAME METHOD BODY [WANT]: POST /twirp/switchboard.Calls/METHOD with a token granting
# roomAdmin for room demo; body in NAME.body; the HTTP status must be WANT (200).
calls() {
	local name=$1 method=$2 body=$3 want=${4:-200}
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer ${AUTH:-$TOKEN}" -d "$body" \
		"http://$HTTP/twirp/switchboard.Calls/$method") || { fail "$name: curl failed"; STATUS=000; }
	[ "$STATUS" = "$want" ] || fail "$name: HTTP $STATUS, want $want ($(cat "$WORK/$name.body"))"
}

# room NAME METHOD BODY: POST /twirp/livekit.RoomService/METHOD (same token).
room() {
	local name=$1 method=$2 body=$3
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -w '%{http_code}' \
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

# json_num NAME KEY: a number or int64 string field of NAME.body.
json_num() {
	sed -n "s/.*\"$2\":\"\{0,1\}\([0-9-]*\).*/\1/p" "$WORK/$1.body" | head -n 1
}

# call_in: SIPp calls room-demo, streams PCMU and follows hold / resume; PID in SIPP_PID,
# the participant's identity in ID.
call_in() {
	local lp mp
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	# 2 s of PCMU silence (0xff), looped by rtp_stream
	head -c 16000 /dev/zero | tr '\0' '\377' >"$WORK/ulaw.raw"
	sipp -sf "$SCEN/uac-room-held.xml" -s room-demo -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 \
		-nostdin -timeout 60 -timeout_error -trace_err -trace_msg -trace_logs \
		-message_file "$WORK/uac.msg" -error_file "$WORK/uac.err" -log_file "$WORK/uac.log" \
		"127.0.0.1:$SIP_PORT" >"$WORK/uac.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
	wait_for "$WORK/uac.msg" '^ACK ' 10 || { fail "call not set up within 10 s"; finish; }
	wait_for "$WORK/sb.log" 'joined room demo' 5 || { fail "the call did not join room demo within 5 s"; finish; }
	room parts ListParticipants '{"room":"demo"}'
	ID=$(sed -n 's/.*"identity":"\([^"]*\)".*/\1/p' "$WORK/parts.body")
	[ -n "$ID" ] || { fail "no identity in $(cat "$WORK/parts.body")"; finish; }
}

# sipp_done: SIPp went through its scenario (hold, resume, our BYE) and exited 0.
sipp_done() {
	if ! wait_exit "$SIPP_PID" 15; then
		fail "SIPp still running 15 s after the hang-up"
		kill -KILL "$SIPP_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC (0 = held, resumed and hung up by us)"
	fi
}

start_switchboard
TOKEN=$("$SB" token --grant roomAdmin --room demo) || { fail "token"; finish; }

case $TEST in
calls-hold-dtmf-stats)
	call_in
	who="{\"room\":\"demo\",\"identity\":\"$ID\"}"
	sleep 2.5 # RTP both ways; the worker reports the leg's figures once a second
	calls stats GetCallStats "$who"
	has stats '"codec":"PCMU"' '"payload_type":0' '"dtmf":"RFC4733"' '"direction":"INBOUND"' \
		'"on_hold":false' '"call_id":"SCL_' '"sip_call_id":"'
	rx=$(json_num stats packets_received)
	tx=$(json_num stats packets_sent)
	[ "${rx:-0}" -gt 0 ] || fail "stats: packets_received ${rx:-none}, want > 0"
	[ "${tx:-0}" -gt 0 ] || fail "stats: packets_sent ${tx:-none}, want > 0"
	[ "$(json_num stats answered_seconds)" -ge 2 ] || fail "stats: answered_seconds < 2"

	calls hold HoldParticipant "$who"
	has hold '"hold_status":"holding"'
	wait_for "$WORK/uac.log" 'hold re-INVITE: a=sendonly' 5 || fail "SIPp saw no re-INVITE with a=sendonly"
	wait_for "$WORK/sb.log" 'hold re-INVITE answered 200: held' 5 || fail "the hold was not answered 200"
	room held GetParticipant "$who"
	has held '"sip.hold":"local"' '"sip.holdStatus":"held"' '"sip.holdSipStatus":"200"'
	calls stats2 GetCallStats "$who"
	has stats2 '"on_hold":true' '"local_hold":true' '"hold_status":"held"' '"hold_sip_status":200'
	calls dtmf_held SendDTMF "{\"room\":\"demo\",\"identity\":\"$ID\",\"digits\":\"1\"}" 412
	has dtmf_held '"code":"failed_precondition"'

	calls resume ResumeParticipant "$who"
	has resume '"hold_status":"resuming"'
	wait_for "$WORK/uac.log" 'resume re-INVITE: a=sendrecv' 5 || fail "SIPp saw no re-INVITE with a=sendrecv"
	wait_for "$WORK/sb.log" 'resume re-INVITE answered 200: resumed' 5 || fail "the resume was not answered 200"
	room resumed GetParticipant "$who"
	has resumed '"sip.holdStatus":"resumed"'
	lacks resumed '"sip.hold":'
	calls stats3 GetCallStats "$who"
	has stats3 '"on_hold":false' '"hold_status":"resumed"'
	[ "$(json_num stats3 held_seconds)" -le "$(json_num stats3 answered_seconds)" ] || fail "held > answered"

	calls dtmf SendDTMF "{\"room\":\"demo\",\"identity\":\"$ID\",\"digits\":\"12\"}"
	has dtmf '{}'
	grep -q "SendDTMF '12' to $ID in demo" "$WORK/sb.log" || fail "no SendDTMF in the log"
	sleep 1.2 # two 250 ms events and their gaps go out before the BYE
	room remove RemoveParticipant "$who"
	sipp_done
	;;
calls-errors)
	call_in
	calls nf_room HoldParticipant '{"room":"nope","identity":"x"}' 401 # the token is for demo
	calls nf_part HoldParticipant '{"room":"demo","identity":"nobody"}' 404
	has nf_part '"code":"not_found"' 'participant does not exist'
	calls bad_dtmf SendDTMF "{\"room\":\"demo\",\"identity\":\"$ID\",\"digits\":\"9x\"}" 400
	has bad_dtmf '"code":"invalid_argument"'
	AUTH=$("$SB" token --grant roomList) || { fail "token"; finish; }
	calls noperm GetCallStats "{\"room\":\"demo\",\"identity\":\"$ID\"}" 401
	has noperm '"code":"unauthenticated"'
	AUTH=
	# the scenario wants a hold and a resume before the BYE
	calls hold HoldParticipant "{\"room\":\"demo\",\"identity\":\"$ID\"}"
	wait_for "$WORK/sb.log" 'answered 200: held' 5 || fail "the hold was not answered 200"
	calls resume ResumeParticipant "{\"room\":\"demo\",\"identity\":\"$ID\"}"
	wait_for "$WORK/sb.log" 'answered 200: resumed' 5 || fail "the resume was not answered 200"
	room remove RemoveParticipant "{\"room\":\"demo\",\"identity\":\"$ID\"}"
	sipp_done
	;;
*)
	fail "unknown test $TEST"
	;;
esac
stop_switchboard
finish
