#!/usr/bin/env bash
# Real inbound routing end to end: `switchboard serve`, inbound trunks and dispatch rules created
# with curl through livekit.SIP, SIPp calls from 127.0.0.1 (scenarios beside this file), and the
# result read back with livekit.RoomService ListRooms / ListParticipants.
#   direct:     trunk for +15550200 (X- headers, X-Customer -> customer) + direct rule "sales"
#               for that trunk: 200, the participant in sales with every sip.* attribute.
#   individual: default trunk allowing 127.0.0.1/32 + wildcard individual rule "call": a room
#               call_+15550100_<12 random characters>.
#   no-trunk:   only the trunk for +15550200 and a rule for it; a call to +15550999 -> 480.
#   address:    the trunk allows 10.0.0.0/8 only; a call from 127.0.0.1 -> 480.
#   auth:       trunk with auth_username/password: 401 with a challenge, then 200 with the right
#               answer (SKIP, exit 77, while the SIP layer cannot put a challenge in a 401).
#   pin:        direct rule "secret" with PIN 1234: answered, RFC 4733 1 2 3 4 # -> joins
#               secret (sip.callStatus active).
#   pin-wrong:  the same rule, SIP INFO 9 # -> switchboard hangs up (BYE), nobody in secret.
#   config:     trunk ST_yaml for +15550400 and direct rule SDR_yaml -> yaml-room declared in
#               switchboard.yaml (sip:): a call joins yaml-room, ListSIPInboundTrunk shows
#               ST_yaml; a restart with the file changed replaces the records and keeps one made
#               through the API; a file that conflicts with that one: exit 2, nothing started.
#   config-broken: a bad field, a bad enum, a duplicate id, a rule without rule in sip: ->
#               serve exits 2 naming the file, line, entry and field.
#
#   run.sh SWITCHBOARD TEST | run.sh --list
#
# Every case ends with SIGTERM and wants exit 0; every process started here is ended by its PID.
# Needs curl and sipp (Debian packages curl, sip-tester).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(direct individual no-trunk address auth pin pin-wrong config config-broken)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD TEST | --list" >&2; exit 2; }
SB=$1
TEST=$2
HERE=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null 2>&1 || { echo "FAIL: curl not found (Debian package curl)"; exit 1; }
command -v sipp >/dev/null 2>&1 || { echo "FAIL: sipp not found (Debian package sip-tester)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-routing-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
HTTP=
SIP_PORT=
SIPP_PID=

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_ROUTING_KEEP:-}" ]; then
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
	echo "---- sb.log (last 60 lines) ----"
	tail -n 60 "$WORK/sb.log" | sed -e 's/^/  | /'
	for f in "$WORK"/*.out; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 20 lines) ----"
		tail -n 20 "$f" | sed -e 's/^/  | /'
	done
	exit 1
}

start_switchboard() { # [extra serve flags]
	local rtp
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 19))" \
		--data-dir "$WORK/data" --log-level debug "$@" >"$WORK/sb.out" 2>"$WORK/sb.log" &
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

# post NAME URLPATH TOKEN BODY: the body in NAME.body, the status in STATUS (200 wanted).
post() {
	local name=$1 path=$2 token=$3 body=$4
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $token" -d "$body" \
		"http://$HTTP$path") || { fail "$name: curl failed"; STATUS=000; }
	[ "$STATUS" = 200 ] || fail "$name: HTTP $STATUS, want 200 ($(cat "$WORK/$name.body"))"
}

sip_rpc() { post "$1" "/twirp/livekit.SIP/$2" "$ADMIN" "$3"; }

# room_rpc NAME METHOD ROOM BODY: RoomService with a token for ROOM.
room_rpc() {
	local tok
	tok=$("$SB" token --grant roomList,roomAdmin --room "$3") || { fail "token"; finish; }
	post "$1" "/twirp/livekit.RoomService/$2" "$tok" "$4"
}

id_of() { # NAME PREFIX: the first ID with that prefix in NAME.body
	sed -n "s/.*\"\\($2[A-Za-z0-9]*\\)\".*/\\1/p" "$WORK/$1.body" | head -n 1
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

# sipp_bg NAME SCENARIO CALLED: SIPp calls CALLED from +15550100 in the background.
sipp_bg() {
	local name=$1 scen=$2 called=$3 lp mp
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	# -auth_uri: SIPp's digest would otherwise use sip:HOST:PORT, not the Request-URI, which
	# the server checks the digest-uri against (RFC 2617 3.2.2.5)
	sipp -sf "$HERE/$scen" -s "$called" -key caller +15550100 -i 127.0.0.1 -p "$lp" -mp "$mp" \
		-auth_uri "$called@127.0.0.1:$SIP_PORT" \
		-m 1 -nostdin -timeout 40 -timeout_error -trace_err -trace_msg \
		-message_file "$WORK/$name.msg" -error_file "$WORK/$name.err" \
		"127.0.0.1:$SIP_PORT" >"$WORK/$name.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
}

sipp_wait() { # NAME SECONDS: SIPp ended as scripted
	if ! wait_exit "$SIPP_PID" "$2"; then
		fail "SIPp ($1) still running after $2 s"
		kill -KILL "$SIPP_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp ($1) exited $RC (0 = the call went as scripted)"
	fi
}

wait_log() { # REGEX SECONDS
	local n=$(($2 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$1" "$WORK/sb.log" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# the trunk every case but individual uses, and a direct rule on it
main_trunk() { # extra trunk JSON fields
	sip_rpc trunk CreateSIPInboundTrunk "{\"trunk\":{\"name\":\"main\",\"numbers\":[\"+15550200\"]$1}}"
	TRUNK=$(id_of trunk ST_)
	[ -n "$TRUNK" ] || { fail "no trunk id"; finish; }
}

direct_rule() { # ROOM [PIN]
	local pin=${2:+,\"pin\":\"$2\"}
	sip_rpc rule CreateSIPDispatchRule "{\"dispatchRule\":{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"$1\"$pin}},\"trunkIds\":[\"$TRUNK\"],\"name\":\"r\",\"metadata\":\"rule-meta\",\"attributes\":{\"team\":\"blue\"}}}"
	RULE=$(id_of rule SDR_)
	[ -n "$RULE" ] || { fail "no rule id"; finish; }
}

# wait_joined ROOM: the call's participant joined ROOM within 10 s
wait_joined() {
	wait_log "joined room $1\$" 10 || { fail "nobody joined room $1 within 10 s"; finish; }
}

# serve_fails NAME YAML MESSAGE: serve with that file exits 2 at once and says MESSAGE.
serve_fails() {
	local name=$1 pid
	printf '%s' "$2" >"$WORK/$name.yaml"
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --data-dir "$WORK/data" \
		--config "$WORK/$name.yaml" >"$WORK/$name.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_exit "$pid" 10; then
		fail "$name: serve still running 10 s after start (want exit 2)"
		kill -KILL "$pid" 2>/dev/null
		return
	fi
	[ "$RC" = 2 ] || fail "$name: serve exited $RC, want 2"
	grep -qF -- "$3" "$WORK/$name.out" || fail "$name: no '$3' in: $(cat "$WORK/$name.out")"
	! grep -q 'switchboard ready' "$WORK/$name.out" || fail "$name: serve got ready"
}

case $TEST in
config*) ;; # these start switchboard with their own files
*) start_switchboard ;;
esac
ADMIN=$("$SB" token --grant sip.admin) || { fail "token"; finish; }

case $TEST in
direct)
	main_trunk ',"includeHeaders":"SIP_X_HEADERS","headersToAttributes":{"X-Customer":"customer"}'
	direct_rule sales
	sipp_bg uac uac-call-wait-bye.xml +15550200
	wait_joined sales
	room_rpc parts ListParticipants sales '{"room":"sales"}'
	has parts '"identity":"sip_+15550100"' '"name":"Phone +15550100"' '"metadata":"rule-meta"' \
		'"kind":"SIP"' '"sip.callID":"SCL_' '"sip.callIDFull":"' '"sip.callTag":"' \
		"\"sip.trunkID\":\"$TRUNK\"" "\"sip.ruleID\":\"$RULE\"" '"sip.phoneNumber":"+15550100"' \
		'"sip.trunkPhoneNumber":"+15550200"' '"sip.hostname":"127.0.0.1"' \
		'"sip.callStatus":"active"' '"sip.h.x-customer":"42"' '"customer":"42"' '"team":"blue"'
	lacks parts '"sip.h.subject"'
	stop_switchboard
	sipp_wait uac 10
	;;
individual)
	sip_rpc trunk CreateSIPInboundTrunk '{"trunk":{"name":"any","allowedAddresses":["127.0.0.1/32"]}}'
	sip_rpc rule CreateSIPDispatchRule '{"dispatchRule":{"rule":{"dispatchRuleIndividual":{"roomPrefix":"call"}}}}'
	sipp_bg uac uac-call-wait-bye.xml +15550200
	wait_log 'joined room call_\+15550100_[0-9a-z]{12}$' 10 || fail "no room call_+15550100_<random>"
	room=$(sed -n 's/.*joined room \(call_+15550100_[0-9a-z]*\)$/\1/p' "$WORK/sb.log" | head -n 1)
	room_rpc parts ListParticipants "$room" "{\"room\":\"$room\"}"
	has parts '"identity":"sip_+15550100"' '"sip.trunkID":"ST_' '"sip.ruleID":"SDR_'
	stop_switchboard
	sipp_wait uac 10
	;;
no-trunk)
	main_trunk ''
	direct_rule sales
	sipp_bg uac uac-reject-480.xml +15550999
	sipp_wait uac 10
	grep -q 'no dispatch rule matches: 480' "$WORK/sb.log" || fail "no 'no dispatch rule matches: 480' in the log"
	stop_switchboard
	;;
address)
	main_trunk ',"allowedAddresses":["10.0.0.0/8"]'
	direct_rule sales
	sipp_bg uac uac-reject-480.xml +15550200
	sipp_wait uac 10
	grep -q 'no trunk accepts the call: 480' "$WORK/sb.log" || fail "no 'no trunk accepts the call: 480' in the log"
	stop_switchboard
	;;
auth)
	main_trunk ',"authUsername":"alice","authPassword":"wonderland"'
	direct_rule sales
	sipp_bg uac uac-auth.xml +15550200
	if ! wait_log 'joined room sales$' 10; then
		fail "the authenticated call did not join sales"
		finish
	fi
	grep -q '^SIP/2.0 401' "$WORK/uac.msg" || fail "no 401 before the 200"
	grep -qi '^WWW-Authenticate: Digest' "$WORK/uac.msg" || fail "the 401 carries no challenge"
	room_rpc parts ListParticipants sales '{"room":"sales"}'
	has parts "\"sip.trunkID\":\"$TRUNK\""
	stop_switchboard
	sipp_wait uac 10
	;;
pin)
	main_trunk ''
	direct_rule secret 1234
	sipp_bg uac uac-pin-4733.xml +15550200
	wait_log 'wants a PIN' 10 || fail "the rule did not ask for a PIN"
	wait_log 'PIN accepted' 15 || { fail "PIN not accepted within 15 s"; finish; }
	wait_joined secret
	room_rpc parts ListParticipants secret '{"room":"secret"}'
	has parts '"identity":"sip_+15550100"' "\"sip.ruleID\":\"$RULE\"" '"sip.callStatus":"active"'
	for d in 1 2 3 4; do
		grep -q "DTMF digit $d (RFC 4733" "$WORK/sb.log" || fail "digit $d not seen"
	done
	stop_switchboard
	sipp_wait uac 10
	;;
pin-wrong)
	main_trunk ''
	direct_rule secret 1234
	sipp_bg uac uac-pin-info.xml +15550200
	sipp_wait uac 15
	grep -q 'PIN wrong' "$WORK/sb.log" || fail "no 'PIN wrong' in the log"
	! grep -q 'joined room secret$' "$WORK/sb.log" || fail "the caller joined secret with a wrong PIN"
	stop_switchboard
	;;
config)
	cat >"$WORK/sb.yaml" <<'EOF'
sip:
  inbound_trunks:
    - id: ST_yaml
      name: yaml trunk
      numbers: ["+15550400"]
  dispatch_rules:
    - id: SDR_yaml
      rule: {dispatch_rule_direct: {room_name: yaml-room}}
      trunk_ids: [ST_yaml]
EOF
	start_switchboard --config "$WORK/sb.yaml"
	grep -q 'sip.inbound_trunks\[0\]: inbound trunk ST_yaml created' "$WORK/sb.log" ||
		fail "no 'inbound trunk ST_yaml created' in the log"
	sipp_bg uac uac-call-wait-bye.xml +15550400
	wait_joined yaml-room
	room_rpc parts ListParticipants yaml-room '{"room":"yaml-room"}'
	has parts '"identity":"sip_+15550100"' '"sip.trunkID":"ST_yaml"' '"sip.ruleID":"SDR_yaml"' \
		'"sip.trunkPhoneNumber":"+15550400"'
	sip_rpc list ListSIPInboundTrunk '{}'
	has list '"sip_trunk_id":"ST_yaml"' '"name":"yaml trunk"' '"+15550400"'
	sip_rpc rules ListSIPDispatchRule '{}'
	has rules '"sip_dispatch_rule_id":"SDR_yaml"' '"room_name":"yaml-room"'
	# one made through the API, left alone by the file
	sip_rpc api CreateSIPInboundTrunk '{"trunk":{"name":"api","numbers":["+15550500"]}}'
	API_TRUNK=$(id_of api ST_)
	stop_switchboard
	sipp_wait uac 10
	[ "$FAILED" = 0 ] || finish

	# the file changed: the declared records are replaced, the API's trunk stays
	sed -i -e 's/name: yaml trunk/name: yaml trunk v2/' -e 's/+15550400/+15550401/' \
		-e 's/room_name: yaml-room/room_name: yaml-room2/' "$WORK/sb.yaml"
	start_switchboard --config "$WORK/sb.yaml"
	grep -q 'inbound trunk ST_yaml replaced' "$WORK/sb.log" || fail "no 'ST_yaml replaced' in the log"
	sip_rpc list2 ListSIPInboundTrunk '{}'
	has list2 '"sip_trunk_id":"ST_yaml"' '"name":"yaml trunk v2"' '"+15550401"' \
		"\"sip_trunk_id\":\"$API_TRUNK\""
	lacks list2 '"+15550400"'
	[ "$(grep -o '"sip_trunk_id":"ST_yaml"' "$WORK/list2.body" | wc -l)" = 1 ] ||
		fail "ST_yaml listed more than once"
	sip_rpc rules2 ListSIPDispatchRule '{}'
	has rules2 '"sip_dispatch_rule_id":"SDR_yaml"' '"room_name":"yaml-room2"'
	lacks rules2 '"room_name":"yaml-room"'
	stop_switchboard

	# a declared trunk that conflicts with the API's: exit 2, the entry and the API's message
	serve_fails conflict 'sip:
  inbound_trunks:
    - {id: ST_yaml, numbers: ["+15550500"]}
' "sip.inbound_trunks[0]: Conflicting inbound SIP Trunks: \"$API_TRUNK\" and \"ST_yaml\""
	;;
config-broken)
	serve_fails field 'sip:
  inbound_trunks:
    - {id: ST_a, numbers: ["+15550400"]}
    - name: b
      numbers:
        - {x: 1}
' 'field.yaml:6: sip.inbound_trunks[1].numbers[0]: must be a string'
	serve_fails enum 'sip:
  outbound_trunks:
    - {name: o, address: sip.example.com, numbers: ["+1"], transport: carrier-pigeon}
' 'enum.yaml:3: sip.outbound_trunks[0].transport: unknown SIPTransport value'
	serve_fails dup 'sip:
  dispatch_rules:
    - {id: SDR_a, rule: {dispatch_rule_direct: {room_name: a}}, trunk_ids: [ST_1]}
    - {id: SDR_a, rule: {dispatch_rule_direct: {room_name: b}}, trunk_ids: [ST_2]}
' 'dup.yaml:4: sip.dispatch_rules[1]: id SDR_a is already declared at'
	serve_fails rule 'sip:
  dispatch_rules:
    - {id: SDR_a}
' 'rule.yaml:3: sip.dispatch_rules[0]: rule is required'
	;;
*)
	fail "unknown test $TEST"
	;;
esac
finish
