#!/usr/bin/env bash
# HTTP API end to end: `switchboard serve` with --http-listen 127.0.0.1:0, driven with curl.
#
#   run.sh SWITCHBOARD TEST | run.sh --list
#
# healthz: GET /healthz is 200 "ok". twirp-errors: Twirp error JSON (code, msg, status,
# Content-Type exactly application/json) for an unknown method (bad_route), a GET, no token
# and a wrong one (unauthenticated), a missing grant, a body that is not JSON (malformed),
# CreateSIPParticipant without arguments (invalid_argument) and an RPC that passes every
# check but has no handler yet (unimplemented: RoomService/PerformRpc); a body over
# 1 MiB gets 413. bad-input-state: malformed JSON, wrong types, conflicts, unknown ids, no /
# expired token, a missing grant, a huge body, each with its Twirp error, and the trunk and
# rule lists byte for byte as before. sip-trunks, sip-rules: the livekit.SIP trunk and dispatch-rule RPCs
# (create, get, list with filters, update, delete; not_found, invalid_argument, conflicts).
# sip-persist: what the API wrote is there again after a restart on the same --data-dir.
# store-fail: a database that cannot be opened ends serve at start-up with exit 2.
# Tokens come from `switchboard token`. Every case ends with SIGTERM and wants exit 0;
# every process started here is ended by its PID.
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(healthz twirp-errors body-limit bad-input-state sip-trunks sip-rules sip-persist store-fail)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD TEST | --list" >&2; exit 2; }
SB=$1
TEST=$2
command -v curl >/dev/null 2>&1 || { echo "FAIL: curl not found (Debian package curl)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-api-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
HTTP=

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_API_KEEP:-}" ]; then
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
	exit 1
}

start_switchboard() { # extra serve options...
	local rtp
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 19))" \
		--data-dir "$WORK/data" --log-level debug "$@" >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for _ in $(seq 1 100); do
		HTTP=$(sed -n 's/.*switchboard ready: .* http \([0-9.]*:[0-9][0-9]*\) .*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$HTTP" ] && return 0
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

token() { # grants [room]
	"$SB" token --grant "$1" ${2:+--room "$2"}
}

# post NAME PATH [curl args...]: the response body in NAME.body, headers in NAME.hdr,
# the status in STATUS.
post() {
	local name=$1 path=$2
	shift 2
	STATUS=$(curl -sS --max-time 10 -o "$WORK/$name.body" -D "$WORK/$name.hdr" -w '%{http_code}' \
		"$@" "http://$HTTP$path") || { fail "$name: curl failed"; STATUS=000; }
}

# expect_twirp NAME STATUS CODE [MSG-REGEX]: a Twirp error JSON answer.
expect_twirp() {
	local name=$1 status=$2 code=$3 msg=${4:-}
	[ "$STATUS" = "$status" ] || fail "$name: HTTP $STATUS, want $status ($(cat "$WORK/$name.body"))"
	grep -qi '^content-type: application/json'$'\r''$' "$WORK/$name.hdr" ||
		fail "$name: Content-Type is not exactly application/json: $(grep -i '^content-type' "$WORK/$name.hdr")"
	grep -q "^{\"code\":\"$code\",\"msg\":\"" "$WORK/$name.body" ||
		fail "$name: body $(cat "$WORK/$name.body") is not a Twirp error with code $code"
	[ -z "$msg" ] || grep -Eq -- "$msg" "$WORK/$name.body" ||
		fail "$name: msg does not match /$msg/: $(cat "$WORK/$name.body")"
}

JSON=(-H 'Content-Type: application/json')

# rpc NAME METHOD BODY: POST /twirp/livekit.SIP/METHOD with the sip.admin token in ADMIN.
rpc() {
	post "$1" "/twirp/livekit.SIP/$2" "${JSON[@]}" -H "Authorization: Bearer $ADMIN" -d "$3"
}

# expect_ok NAME: HTTP 200 with a JSON body.
expect_ok() {
	[ "$STATUS" = 200 ] || fail "$1: HTTP $STATUS, want 200 ($(cat "$WORK/$1.body"))"
	grep -qi '^content-type: application/json'$'\r''$' "$WORK/$1.hdr" ||
		fail "$1: Content-Type is not application/json"
}

# has NAME TEXT...: the body of NAME contains every TEXT (fixed strings; the API's JSON is
# compact, keys in a fixed order).
has() {
	local name=$1 t
	shift
	for t in "$@"; do
		grep -qF -- "$t" "$WORK/$name.body" || fail "$name: no '$t' in $(cat "$WORK/$name.body")"
	done
}

# lacks NAME TEXT...: the body of NAME contains none of them.
lacks() {
	local name=$1 t
	shift
	for t in "$@"; do
		! grep -qF -- "$t" "$WORK/$name.body" || fail "$name: unexpected '$t' in $(cat "$WORK/$name.body")"
	done
}

# field NAME KEY: the first string value of "KEY" in the body.
field() {
	grep -o "\"$2\":\"[^\"]*\"" "$WORK/$1.body" | head -n 1 | sed -e 's/^"[^"]*":"//' -e 's/"$//'
}

# count NAME TEXT: how many times TEXT occurs in the body.
count() {
	grep -oF -- "$2" "$WORK/$1.body" | wc -l | tr -d ' '
}

# want_id NAME PREFIX: prints the body's first id field, which must be PREFIX + 12 characters of
# the shortuuid alphabet.
want_id() {
	local key=sip_trunk_id id
	[ "$2" = SDR_ ] && key=sip_dispatch_rule_id
	id=$(field "$1" "$key")
	[[ "$id" =~ ^$2[2-9A-HJ-NP-Za-km-z]{12}$ ]] || fail "$1: $key '$id' is not $2 + 12 characters"
	echo "$id"
}

case "$TEST" in
healthz)
	start_switchboard
	post healthz /healthz
	[ "$STATUS" = 200 ] || fail "healthz: HTTP $STATUS"
	[ "$(cat "$WORK/healthz.body")" = ok ] || fail "healthz: body '$(cat "$WORK/healthz.body")'"
	post missing /nothing-here
	[ "$STATUS" = 404 ] || fail "unknown path: HTTP $STATUS, want 404"
	stop_switchboard
	;;
twirp-errors)
	start_switchboard --api-key APItest --api-secret 's3cr3t-for-tests'
	admin=$("$SB" token --api-key APItest --api-secret 's3cr3t-for-tests' --grant sip.admin) ||
		fail "switchboard token failed"
	nogrant=$("$SB" token --api-key APItest --api-secret 's3cr3t-for-tests' --grant video.roomList)
	devkey=$("$SB" token --grant sip.admin) # signed with the default devkey/secret
	SIP=/twirp/livekit.SIP
	post unknown $SIP/NoSuchMethod "${JSON[@]}" -H "Authorization: Bearer $admin" -d '{}'
	expect_twirp unknown 404 bad_route 'no handler for path'
	post get $SIP/ListSIPInboundTrunk -X GET -H "Authorization: Bearer $admin"
	expect_twirp get 404 bad_route 'only POST'
	post notoken $SIP/ListSIPInboundTrunk "${JSON[@]}" -d '{}'
	expect_twirp notoken 401 unauthenticated
	post badkey $SIP/ListSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $devkey" -d '{}'
	expect_twirp badkey 401 unauthenticated 'unknown API key'
	post nogrant $SIP/ListSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $nogrant" -d '{}'
	expect_twirp nogrant 401 unauthenticated 'permissions denied'
	post malformed $SIP/ListSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $admin" \
		-d '{"page":'
	expect_twirp malformed 400 malformed
	post ctype $SIP/ListSIPInboundTrunk -H 'Content-Type: text/plain' \
		-H "Authorization: Bearer $admin" -d '{}'
	expect_twirp ctype 404 bad_route 'unexpected Content-Type'
	caller=$("$SB" token --api-key APItest --api-secret 's3cr3t-for-tests' --grant sip.call)
	post noargs $SIP/CreateSIPParticipant -H 'Content-Type: application/json;charset=UTF-8' \
		-H "Authorization: Bearer $caller" -d '{}'
	expect_twirp noargs 400 invalid_argument 'missing sip trunk id'
	roomadmin=$("$SB" token --api-key APItest --api-secret 's3cr3t-for-tests' \
		--grant video.roomAdmin --room r1)
	post unimpl /twirp/livekit.RoomService/PerformRpc -H 'Content-Type: application/json' \
		-H "Authorization: Bearer $roomadmin" -d '{"room":"r1"}'
	expect_twirp unimpl 501 unimplemented 'not implemented yet'
	stop_switchboard
	;;
body-limit)
	start_switchboard
	admin=$(token sip.admin)
	head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' ' ' >"$WORK/big.json"
	post big /twirp/livekit.SIP/ListSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $admin" \
		-H 'Expect:' --data-binary @"$WORK/big.json"
	[ "$STATUS" = 413 ] || fail "oversized body: HTTP $STATUS, want 413"
	# exactly at the limit is read (and is JSON whitespace around an object)
	{ head -c $((1024 * 1024 - 2)) /dev/zero | tr '\0' ' '; printf '{}'; } >"$WORK/max.json"
	post max /twirp/livekit.SIP/ListSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $admin" \
		-H 'Expect:' --data-binary @"$WORK/max.json"
	expect_ok max
	has max '{"items":[]}'
	# the server still answers afterwards
	post healthz /healthz
	[ "$STATUS" = 200 ] || fail "healthz after 413: HTTP $STATUS"
	stop_switchboard
	;;
bad-input-state)
	# a battery of bad requests, each with its Twirp error; then the state is what it was
	start_switchboard
	ADMIN=$(token sip.admin)
	rpc in CreateSIPInboundTrunk '{"trunk":{"name":"keep","numbers":["+15550001"]}}'
	expect_ok in
	rpc out CreateSIPOutboundTrunk '{"trunk":{"name":"keep-out","address":"sip.example.com","numbers":["+15550002"]}}'
	expect_ok out
	rpc rule CreateSIPDispatchRule '{"rule":{"dispatchRuleDirect":{"roomName":"keep"}}}'
	expect_ok rule
	snapshot() { # NAME: the three lists, as the API shows them
		rpc "$1-in" ListSIPInboundTrunk '{}'
		rpc "$1-out" ListSIPOutboundTrunk '{}'
		rpc "$1-rules" ListSIPDispatchRule '{}'
		cat "$WORK/$1-in.body" "$WORK/$1-out.body" "$WORK/$1-rules.body" >"$WORK/$1.state"
	}
	snapshot before
	rpc b1 CreateSIPInboundTrunk '{"trunk":{"name":"x","numbers":["+1555'
	expect_twirp b1 400 malformed
	rpc b2 CreateSIPInboundTrunk '{"trunk":{"name":"x","numbers":"+15550003"}}'
	expect_twirp b2 400 invalid_argument 'must be an array'
	rpc b3 CreateSIPInboundTrunk '{"trunk":{"name":7,"numbers":["+15550003"]}}'
	expect_twirp b3 400 invalid_argument 'must be a string'
	rpc b4 CreateSIPInboundTrunk '{"trunk":{"name":"dup","numbers":["+15550001"]}}'
	expect_twirp b4 400 invalid_argument 'Conflicting inbound SIP Trunks'
	rpc b5 CreateSIPOutboundTrunk '{"trunk":{"name":"x","address":"sip:a@b","numbers":["1"]}}'
	expect_twirp b5 400 invalid_argument
	rpc b6 CreateSIPDispatchRule '{"rule":{}}'
	expect_twirp b6 400 invalid_argument
	rpc b7 DeleteSIPTrunk '{"sipTrunkId":"ST_doesnotexist"}'
	expect_twirp b7 404 not_found
	rpc b8 UpdateSIPInboundTrunk '{"sipTrunkId":"ST_doesnotexist","update":{"name":"n"}}'
	expect_twirp b8 404 not_found
	rpc b9 DeleteSIPDispatchRule '{"sipDispatchRuleId":"SDR_doesnotexist"}'
	expect_twirp b9 404 not_found
	rpc b10 CreateSIPParticipant '{"sipTrunkId":"ST_doesnotexist","sipCallTo":"+1555","roomName":"r"}'
	expect_twirp b10 401 unauthenticated # sip.admin lacks sip.call
	post b11 /twirp/livekit.SIP/CreateSIPInboundTrunk "${JSON[@]}" \
		-d '{"trunk":{"name":"x","numbers":["+15550004"]}}'
	expect_twirp b11 401 unauthenticated
	# expired two minutes ago (past the 60 s leeway), signed with the dev secret by openssl
	b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
	hdr=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
	exp=$(($(date +%s) - 120))
	pl=$(printf '{"iss":"devkey","sub":"t","nbf":%d,"exp":%d,"sip":{"admin":true}}' \
		$((exp - 600)) "$exp" | b64url)
	sig=$(printf '%s.%s' "$hdr" "$pl" | openssl dgst -sha256 -hmac secret -binary | b64url)
	short="$hdr.$pl.$sig"
	post b12 /twirp/livekit.SIP/CreateSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $short" \
		-d '{"trunk":{"name":"x","numbers":["+15550004"]}}'
	expect_twirp b12 401 unauthenticated expired
	caller=$(token sip.call)
	post b13 /twirp/livekit.SIP/CreateSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $caller" \
		-d '{"trunk":{"name":"x","numbers":["+15550004"]}}'
	expect_twirp b13 401 unauthenticated 'permissions denied'
	head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$WORK/huge.json"
	post b14 /twirp/livekit.SIP/CreateSIPInboundTrunk "${JSON[@]}" -H "Authorization: Bearer $ADMIN" \
		-H 'Expect:' --data-binary @"$WORK/huge.json"
	[ "$STATUS" = 413 ] || fail "b14: huge body: HTTP $STATUS, want 413"
	post b15 /twirp/livekit.SIP/CreateSIPParticipant "${JSON[@]}" -H "Authorization: Bearer $caller" \
		-d '{"sipTrunkId":"ST_doesnotexist","sipCallTo":"+1555","roomName":"r"}'
	expect_twirp b15 404 not_found
	snapshot after
	cmp -s "$WORK/before.state" "$WORK/after.state" ||
		fail "the bad requests changed the state: $(diff "$WORK/before.state" "$WORK/after.state")"
	stop_switchboard
	;;
sip-trunks)
	start_switchboard
	ADMIN=$(token sip.admin)
	# create inbound: ids, names, numbers, enums and times come back in LK's shape
	rpc in1 CreateSIPInboundTrunk '{"trunk":{"name":"in1","metadata":"m1","numbers":["+15550001111"],"allowedNumbers":["+15559990000"],"allowedAddresses":["10.0.0.0/8"]}}'
	expect_ok in1
	IN1=$(want_id in1 ST_)
	has in1 '"name":"in1","metadata":"m1","numbers":["+15550001111"],"allowed_addresses":["10.0.0.0/8"],"allowed_numbers":["+15559990000"]' \
		'"include_headers":"SIP_NO_HEADERS"' '"media_encryption":"SIP_MEDIA_ENCRYPT_DISABLE"' '"created_at":"20'
	rpc in2 CreateSIPInboundTrunk '{"trunk":{"name":"in2","numbers":["+15550002222"],"authUsername":"u","authPassword":"p","mediaEncryption":"SIP_MEDIA_ENCRYPT_ALLOW"}}'
	expect_ok in2
	IN2=$(want_id in2 ST_)
	has in2 '"auth_username":"u","auth_password":"p"' '"media_encryption":"SIP_MEDIA_ENCRYPT_ALLOW"'
	# the same number written differently and the same (any) caller: a conflict
	rpc conflict CreateSIPInboundTrunk '{"trunk":{"name":"dup","numbers":["+1 555 000-2222"]}}'
	expect_twirp conflict 400 invalid_argument "Conflicting inbound SIP Trunks: \\\\\"$IN2\\\\\""
	rpc insecure CreateSIPInboundTrunk '{"trunk":{"name":"open"}}'
	expect_twirp insecure 400 invalid_argument 'for security'
	rpc withid CreateSIPInboundTrunk '{"trunk":{"sipTrunkId":"ST_mine","numbers":["+1"]}}'
	expect_twirp withid 400 invalid_argument 'trunk ID must be empty'
	rpc badenum CreateSIPInboundTrunk '{"trunk":{"numbers":["+1"],"includeHeaders":"SIP_SOME_HEADERS"}}'
	expect_twirp badenum 400 invalid_argument 'trunk.includeHeaders'
	# outbound
	rpc out1 CreateSIPOutboundTrunk '{"trunk":{"name":"out1","address":"sip.example.com:5080","numbers":["+15550003333"],"transport":"SIP_TRANSPORT_TCP","destinationCountry":"US"}}'
	expect_ok out1
	OUT1=$(want_id out1 ST_)
	has out1 '"name":"out1"' '"address":"sip.example.com:5080","destination_country":"US","transport":"SIP_TRANSPORT_TCP","numbers":["+15550003333"]'
	rpc baduri CreateSIPOutboundTrunk '{"trunk":{"address":"sip:pbx@example.com","numbers":["+1"]}}'
	expect_twirp baduri 400 invalid_argument
	rpc nonum CreateSIPOutboundTrunk '{"trunk":{"address":"example.com"}}'
	expect_twirp nonum 400 invalid_argument
	# get
	rpc get1 GetSIPInboundTrunk "{\"sipTrunkId\":\"$IN1\"}"
	expect_ok get1
	has get1 "{\"trunk\":{\"sip_trunk_id\":\"$IN1\",\"name\":\"in1\""
	rpc getout GetSIPOutboundTrunk "{\"sip_trunk_id\":\"$OUT1\"}"
	expect_ok getout
	has getout "{\"trunk\":{\"sip_trunk_id\":\"$OUT1\",\"name\":\"out1\""
	rpc getwrong GetSIPInboundTrunk "{\"sipTrunkId\":\"$OUT1\"}"
	expect_twirp getwrong 404 not_found '"msg":"requested sip trunk does not exist"'
	rpc getnone GetSIPOutboundTrunk '{}'
	expect_twirp getnone 400 invalid_argument '"msg":"trunk ID is required"'
	# lists and their filters
	rpc list ListSIPInboundTrunk '{}'
	expect_ok list
	has list "\"sip_trunk_id\":\"$IN1\"" "\"sip_trunk_id\":\"$IN2\""
	[ "$(count list '"sip_trunk_id"')" = 2 ] || fail "list: want 2 inbound trunks: $(cat "$WORK/list.body")"
	rpc bynum ListSIPInboundTrunk '{"numbers":["+15550002222"]}'
	expect_ok bynum
	has bynum "\"sip_trunk_id\":\"$IN2\""
	lacks bynum "$IN1"
	rpc byid ListSIPInboundTrunk "{\"trunkIds\":[\"ST_unknown\",\"$IN1\"]}"
	expect_ok byid
	has byid "{\"items\":[{},{\"sip_trunk_id\":\"$IN1\""
	rpc page ListSIPInboundTrunk '{"page":{"limit":1}}'
	expect_ok page
	[ "$(count page '"sip_trunk_id"')" = 1 ] || fail "page: want 1 trunk: $(cat "$WORK/page.body")"
	rpc outs ListSIPOutboundTrunk '{}'
	expect_ok outs
	has outs "\"sip_trunk_id\":\"$OUT1\""
	lacks outs "$IN1" "$IN2"
	rpc legacy ListSIPTrunk '{}'
	expect_ok legacy
	has legacy "\"sip_trunk_id\":\"$IN1\",\"kind\":\"TRUNK_INBOUND\"" \
		"\"sip_trunk_id\":\"$OUT1\",\"kind\":\"TRUNK_OUTBOUND\",\"inbound_addresses\":[],\"outbound_address\":\"sip.example.com:5080\",\"outbound_number\":\"+15550003333\",\"transport\":\"SIP_TRANSPORT_TCP\""
	# update: fields and list operations, then a change that would conflict
	rpc upd UpdateSIPInboundTrunk "{\"sipTrunkId\":\"$IN1\",\"update\":{\"name\":\"in1b\",\"numbers\":{\"add\":[\"+15550004444\"]}}}"
	expect_ok upd
	has upd "\"sip_trunk_id\":\"$IN1\",\"name\":\"in1b\",\"metadata\":\"m1\",\"numbers\":[\"+15550001111\",\"+15550004444\"]"
	rpc updconf UpdateSIPInboundTrunk "{\"sipTrunkId\":\"$IN1\",\"update\":{\"numbers\":{\"add\":[\"+15550002222\"]},\"allowedNumbers\":{\"clear\":true}}}"
	expect_twirp updconf 400 invalid_argument 'Conflicting inbound SIP Trunks'
	rpc repl UpdateSIPInboundTrunk "{\"sipTrunkId\":\"$IN2\",\"replace\":{\"name\":\"in2r\",\"allowedAddresses\":[\"192.0.2.1\"]}}"
	expect_ok repl
	has repl "\"sip_trunk_id\":\"$IN2\",\"name\":\"in2r\",\"metadata\":\"\",\"numbers\":[],\"allowed_addresses\":[\"192.0.2.1\"]"
	rpc updout UpdateSIPOutboundTrunk "{\"sipTrunkId\":\"$OUT1\",\"update\":{\"transport\":\"SIP_TRANSPORT_UDP\",\"address\":\"sip2.example.com\"}}"
	expect_ok updout
	has updout '"address":"sip2.example.com"' '"transport":"SIP_TRANSPORT_UDP"' '"name":"out1"'
	rpc updbad UpdateSIPOutboundTrunk "{\"sipTrunkId\":\"$OUT1\",\"update\":{\"numbers\":{\"clear\":true}}}"
	expect_twirp updbad 400 invalid_argument
	rpc updnone UpdateSIPInboundTrunk '{"sipTrunkId":"ST_unknown","update":{"name":"x"}}'
	expect_twirp updnone 404 not_found 'requested sip trunk does not exist'
	rpc updboth UpdateSIPInboundTrunk "{\"sipTrunkId\":\"$IN1\"}"
	expect_twirp updboth 400 invalid_argument
	# delete: LK's answer is a SIPTrunkInfo with only the id
	rpc del DeleteSIPTrunk "{\"sipTrunkId\":\"$IN2\"}"
	expect_ok del
	has del "{\"sip_trunk_id\":\"$IN2\",\"kind\":\"TRUNK_LEGACY\""
	rpc delagain DeleteSIPTrunk "{\"sipTrunkId\":\"$IN2\"}"
	expect_twirp delagain 404 not_found 'requested sip trunk does not exist'
	rpc delout DeleteSIPTrunk "{\"sipTrunkId\":\"$OUT1\"}"
	expect_ok delout
	rpc after ListSIPTrunk '{}'
	expect_ok after
	has after "\"sip_trunk_id\":\"$IN1\""
	lacks after "$IN2" "$OUT1"
	stop_switchboard
	;;
sip-rules)
	start_switchboard
	ADMIN=$(token sip.admin)
	rpc trunk CreateSIPInboundTrunk '{"trunk":{"numbers":["+15550001111"]}}'
	expect_ok trunk
	T=$(want_id trunk ST_)
	# the node SDK's form: the deprecated top-level fields
	rpc r1 CreateSIPDispatchRule "{\"rule\":{\"dispatchRuleIndividual\":{\"roomPrefix\":\"call-\"}},\"trunkIds\":[\"$T\"],\"name\":\"r1\",\"attributes\":{\"k\":\"v\"}}"
	expect_ok r1
	R1=$(want_id r1 SDR_)
	has r1 '"rule":{"dispatch_rule_individual":{"pin":"","room_prefix":"call-","no_randomness":false}}' \
		"\"trunk_ids\":[\"$T\"]" '"name":"r1"' '"attributes":{"k":"v"}'
	# the current form
	rpc r2 CreateSIPDispatchRule '{"dispatchRule":{"rule":{"dispatchRuleDirect":{"roomName":"lobby","pin":"1234"}},"name":"r2","numbers":["+15550001111"]}}'
	expect_ok r2
	R2=$(want_id r2 SDR_)
	has r2 '"rule":{"dispatch_rule_direct":{"pin":"1234","room_name":"lobby"}}' '"trunk_ids":[]'
	rpc dup CreateSIPDispatchRule "{\"rule\":{\"dispatchRuleCallee\":{\"roomPrefix\":\"x\"}},\"trunkIds\":[\"$T\"]}"
	expect_twirp dup 400 invalid_argument 'already exists'
	rpc norule CreateSIPDispatchRule '{"name":"none"}'
	expect_twirp norule 400 invalid_argument
	rpc ruleid CreateSIPDispatchRule '{"dispatchRule":{"sipDispatchRuleId":"SDR_x","rule":{"dispatchRuleDirect":{"roomName":"a"}}}}'
	expect_twirp ruleid 400 invalid_argument 'rule id must not be set'
	# lists: a rule without trunks matches any trunk filter; ids keep request order
	rpc all ListSIPDispatchRule '{}'
	expect_ok all
	[ "$(count all '"sip_dispatch_rule_id"')" = 2 ] || fail "all: want 2 rules: $(cat "$WORK/all.body")"
	rpc other ListSIPDispatchRule '{"trunkIds":["ST_other"]}'
	expect_ok other
	has other "\"sip_dispatch_rule_id\":\"$R2\""
	lacks other "$R1"
	rpc ids ListSIPDispatchRule "{\"dispatchRuleIds\":[\"$R2\",\"SDR_unknown\",\"$R1\"]}"
	expect_ok ids
	has ids "{\"items\":[{\"sip_dispatch_rule_id\":\"$R2\"" ",{},{\"sip_dispatch_rule_id\":\"$R1\""
	# update
	rpc upd UpdateSIPDispatchRule "{\"sipDispatchRuleId\":\"$R1\",\"update\":{\"name\":\"r1b\",\"attributes\":{\"k\":\"\",\"k2\":\"v2\"},\"trunkIds\":{\"clear\":true}}}"
	expect_ok upd
	has upd "\"sip_dispatch_rule_id\":\"$R1\"" '"trunk_ids":[]' '"name":"r1b"' '"attributes":{"k2":"v2"}'
	rpc repl UpdateSIPDispatchRule "{\"sipDispatchRuleId\":\"$R2\",\"replace\":{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"lobby2\"}},\"name\":\"r2r\",\"numbers\":[\"+15550001111\"]}}"
	expect_ok repl
	has repl "\"sip_dispatch_rule_id\":\"$R2\"" '{"pin":"","room_name":"lobby2"}' '"name":"r2r"' '"metadata":""'
	# r1 has no PIN, trunks or numbers now: r2 without its numbers would have the same key
	rpc updconf UpdateSIPDispatchRule "{\"sipDispatchRuleId\":\"$R2\",\"replace\":{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"z\"}}}}"
	expect_twirp updconf 400 invalid_argument 'already exists'
	rpc updnone UpdateSIPDispatchRule '{"sipDispatchRuleId":"SDR_unknown","update":{"name":"x"}}'
	expect_twirp updnone 404 not_found '"msg":"requested sip dispatch rule does not exist"'
	# delete answers with the rule
	rpc del DeleteSIPDispatchRule "{\"sipDispatchRuleId\":\"$R1\"}"
	expect_ok del
	has del "\"sip_dispatch_rule_id\":\"$R1\"" '"name":"r1b"'
	rpc delagain DeleteSIPDispatchRule "{\"sipDispatchRuleId\":\"$R1\"}"
	expect_twirp delagain 404 not_found 'requested sip dispatch rule does not exist'
	rpc delnone DeleteSIPDispatchRule '{}'
	expect_twirp delnone 400 invalid_argument '"msg":"dispatch rule ID is required"'
	rpc left ListSIPDispatchRule '{}'
	expect_ok left
	has left "\"sip_dispatch_rule_id\":\"$R2\""
	lacks left "$R1"
	stop_switchboard
	;;
sip-persist)
	start_switchboard
	ADMIN=$(token sip.admin)
	rpc in1 CreateSIPInboundTrunk '{"trunk":{"name":"keep","numbers":["+15550001111"]}}'
	expect_ok in1
	IN1=$(want_id in1 ST_)
	rpc in2 CreateSIPInboundTrunk '{"trunk":{"name":"gone","numbers":["+15550002222"]}}'
	IN2=$(want_id in2 ST_)
	rpc out1 CreateSIPOutboundTrunk '{"trunk":{"name":"out","address":"example.com","numbers":["+15550003333"],"transport":"SIP_TRANSPORT_TLS"}}'
	OUT1=$(want_id out1 ST_)
	rpc r1 CreateSIPDispatchRule "{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"room1\"}},\"trunkIds\":[\"$IN1\"]}"
	R1=$(want_id r1 SDR_)
	rpc upd UpdateSIPInboundTrunk "{\"sipTrunkId\":\"$IN1\",\"update\":{\"name\":\"kept\"}}"
	expect_ok upd
	rpc del DeleteSIPTrunk "{\"sipTrunkId\":\"$IN2\"}"
	expect_ok del
	stop_switchboard
	start_switchboard
	rpc list ListSIPInboundTrunk '{}'
	expect_ok list
	has list "\"sip_trunk_id\":\"$IN1\",\"name\":\"kept\",\"metadata\":\"\",\"numbers\":[\"+15550001111\"]"
	lacks list "$IN2"
	rpc outs ListSIPOutboundTrunk '{}'
	expect_ok outs
	has outs "\"sip_trunk_id\":\"$OUT1\"" '"transport":"SIP_TRANSPORT_TLS"'
	rpc rules ListSIPDispatchRule '{}'
	expect_ok rules
	has rules "\"sip_dispatch_rule_id\":\"$R1\"" '"room_name":"room1"' "\"trunk_ids\":[\"$IN1\"]"
	[ -s "$WORK/data/switchboard.db" ] || fail "no database in the data directory"
	stop_switchboard
	;;
store-fail)
	mkdir -p "$WORK/data"
	head -c 4096 /dev/urandom >"$WORK/data/switchboard.db"
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	"$SB" serve --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 19))" \
		--data-dir "$WORK/data" >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	if ! wait_exit "$SB_PID" 10; then
		fail "serve still running with a broken database"
	elif [ "$RC" != 2 ]; then
		fail "serve exited $RC with a broken database (want 2)"
	fi
	grep -q "cannot open the store in $WORK/data" "$WORK/sb.log" ||
		fail "no clear message about the store in the log"
	! grep -q 'switchboard ready' "$WORK/sb.log" || fail "ready with a broken database"
	SB_PID=
	;;
*)
	echo "unknown test $TEST" >&2
	exit 2
	;;
esac
finish
