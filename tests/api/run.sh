#!/usr/bin/env bash
# HTTP API end to end: `switchboard serve` with --http-listen 127.0.0.1:0, driven with curl.
#
#   run.sh SWITCHBOARD TEST | run.sh --list
#
# healthz: GET /healthz is 200 "ok". twirp-errors: Twirp error JSON (code, msg, status,
# Content-Type exactly application/json) for an unknown method (bad_route), a GET, no token
# and a wrong one (unauthenticated), a missing grant, a body that is not JSON (malformed),
# and an RPC that passes every check but has no handler yet (unimplemented); a body over
# 1 MiB gets 413. Tokens come from `switchboard token`. Every case ends with SIGTERM and
# wants exit 0; every process started here is ended by its PID.
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(healthz twirp-errors body-limit)

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
	post unimpl $SIP/ListSIPInboundTrunk -H 'Content-Type: application/json;charset=UTF-8' \
		-H "Authorization: Bearer $admin" -d '{}'
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
	expect_twirp max 501 unimplemented
	# the server still answers afterwards
	post healthz /healthz
	[ "$STATUS" = 200 ] || fail "healthz after 413: HTTP $STATUS"
	stop_switchboard
	;;
*)
	echo "unknown test $TEST" >&2
	exit 2
	;;
esac
finish
