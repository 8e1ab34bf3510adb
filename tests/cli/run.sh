#!/usr/bin/env bash
# The client commands (`switchboard sip ...`, `switchboard room ...`) end to end: a real
# `switchboard serve` on free ports with a temporary data directory, driven by the same binary
# as a client. Cases:
#   cli-inbound:  inbound trunks: create from flags, from a file and from stdin; list (table and
#                 --json, parsed by node when there is one); get; update by flags (ListUpdate
#                 set) and by file (replace); delete; get after delete -> not_found, exit 1.
#   cli-outbound: outbound trunks: create, list, get, update, delete.
#   cli-dispatch: dispatch rules: direct with a PIN and trunks, individual; list, get (a
#                 filtered list), get of an unknown id -> not_found; update; delete.
#   cli-room-call: a SIPp call in room demo (tests/sip/scenarios/uac-room-held.xml): room list
#                 and room participants show it; participant hold -> SIPp gets a=sendonly;
#                 resume -> a=sendrecv; dtmf; room remove -> SIPp gets a BYE and exits 0.
#   cli-errors:   unknown id (not_found), a URL nobody listens on (a clear connection error),
#                 a wrong secret (unauthenticated), usage errors (exit 2 with the usage text),
#                 participant create/transfer errors shown as "error: CODE: MSG".
#   cli-dial:     real outbound calls to SIPp UASs: outbound create, then participant create
#                 --wait (answered: the participant's lines; SIPp gets a BYE from room
#                 remove), a busy callee (exit 1 with "SIP 486 Busy Here"), and participant
#                 transfer answered by NOTIFY 200 (success, then our BYE).
#   cli-env:      SWITCHBOARD_URL over LIVEKIT_URL, --url over both; SWITCHBOARD_API_KEY /
#                 _SECRET over LIVEKIT_API_KEY / _SECRET against a server with its own key.
#
#   run.sh SWITCHBOARD TEST | run.sh --list
#
# Every case ends with SIGTERM and wants exit 0; every process started here is ended by its
# PID. cli-room-call needs sipp (Debian package sip-tester).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(cli-inbound cli-outbound cli-dispatch cli-room-call cli-dial cli-errors cli-env)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD TEST | --list" >&2; exit 2; }
SB=$1
TEST=$2
SCEN=$(cd "$(dirname "$0")/../sip/scenarios" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-cli-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
HTTP=
SIP_PORT=
# the client must not pick up the caller's settings
unset SWITCHBOARD_URL LIVEKIT_URL SWITCHBOARD_API_KEY SWITCHBOARD_API_SECRET \
	LIVEKIT_API_KEY LIVEKIT_API_SECRET

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_CLI_KEEP:-}" ]; then
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
	echo "---- sb.log (last 40 lines) ----"
	tail -n 40 "$WORK/sb.log" | sed -e 's/^/  | /'
	exit 1
}

# start_switchboard [FLAGS...]
start_switchboard() {
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

# raw NAME WANT ARGS...: run the client; stdout in NAME.out, stderr in NAME.err; the exit code
# must be WANT.
raw() {
	local name=$1 want=$2
	shift 2
	timeout 30 "$SB" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" </dev/null
	CODE=$?
	[ "$CODE" = "$want" ] || fail "$name: exit $CODE, want $want: $* ($(cat "$WORK/$name.err"))"
}

# cli NAME WANT ARGS...: raw against this test's server.
cli() {
	local name=$1 want=$2
	shift 2
	raw "$name" "$want" "$@" --url "http://$HTTP"
}

has() { # NAME.out or NAME.err (FILE is out|err) TEXT...: the file contains every TEXT
	local f=$WORK/$1 t
	shift
	for t in "$@"; do
		grep -qF -- "$t" "$f" || fail "$(basename "$f"): no '$t' in: $(cat "$f")"
	done
}

lacks() {
	local f=$WORK/$1 t
	shift
	for t in "$@"; do
		! grep -qF -- "$t" "$f" || fail "$(basename "$f"): '$t' in: $(cat "$f")"
	done
}

# field NAME LABEL: the value of "LABEL: value" in NAME.out
field() {
	sed -n "s/^$2: *//p" "$WORK/$1.out" | head -n 1
}

# json_ok NAME: NAME.out is one JSON value (node when there is one, else a shape check)
json_ok() {
	if command -v node >/dev/null 2>&1; then
		node -e 'JSON.parse(require("fs").readFileSync(0, "utf8"))' <"$WORK/$1.out" ||
			fail "$1: not JSON: $(cat "$WORK/$1.out")"
	else
		grep -q '^{.*}$' "$WORK/$1.out" || fail "$1: not a JSON object: $(cat "$WORK/$1.out")"
	fi
}

wait_for() { # FILE REGEX SECONDS
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

case_inbound() {
	cli create 0 sip inbound create --name "Main line" --numbers "+15550100,+15550101" \
		--allowed-addresses 127.0.0.1,10.0.0.0/8 --auth-user alice --auth-pass pw
	has create.out "Name:              Main line" "Numbers:           +15550100, +15550101" \
		"Allowed addresses: 127.0.0.1, 10.0.0.0/8" "Auth user:         alice"
	local id
	id=$(field create ID)
	[[ $id == ST_* ]] || { fail "create: no trunk ID in $(cat "$WORK/create.out")"; return; }
	printf '{"trunk":{"name":"From file","numbers":["+15550200"]}}\n' >"$WORK/trunk.json"
	cli file 0 sip inbound create "$WORK/trunk.json"
	has file.out "Name:              From file"
	printf '{"name":"From stdin","allowedNumbers":["+15550999"]}\n' |
		"$SB" sip inbound create - --numbers +15550300 --url "http://$HTTP" --json >"$WORK/stdin.out" 2>"$WORK/stdin.err" ||
		fail "create from stdin: $(cat "$WORK/stdin.err")"
	json_ok stdin
	has stdin.out '"name":"From stdin"' '"numbers":["+15550300"]' '"allowed_numbers":["+15550999"]'

	cli list 0 sip inbound list
	has list.out "ID" "NAME" "NUMBERS" "ALLOWED ADDRESSES" "$id" "Main line" "+15550100, +15550101" \
		"From file" "From stdin" "alice"
	[ "$(wc -l <"$WORK/list.out")" = 4 ] || fail "list: want a header and 3 rows: $(cat "$WORK/list.out")"
	cli listj 0 --json sip inbound list
	json_ok listj
	has listj.out "\"sip_trunk_id\":\"$id\"" '"items":['

	cli get 0 sip inbound get "$id"
	has get.out "ID:                $id" "Main line"
	cli upd 0 sip inbound update "$id" --name Renamed --numbers +15550111
	has upd.out "Name:              Renamed" "Numbers:           +15550111" "Auth user:         alice"
	printf '{"name":"Replaced","numbers":["+15550112"]}\n' >"$WORK/replace.json"
	cli repl 0 sip inbound update --id "$id" "$WORK/replace.json"
	has repl.out "Name:              Replaced" "Numbers:           +15550112"
	lacks repl.out "alice"
	cli filter 0 sip inbound list --numbers +15550112
	has filter.out "$id"
	lacks filter.out "From file"

	cli del 0 sip inbound delete "$id"
	has del.out "deleted $id"
	cli gone 1 sip inbound get "$id"
	has gone.err "error: not_found: requested sip trunk does not exist"
	cli list2 0 sip inbound list
	lacks list2.out "$id"
}

case_outbound() {
	cli create 0 sip outbound create --name Carrier --address sip.example.com:5061 \
		--transport tls --numbers +15550500 --auth-user bob --auth-pass pw
	has create.out "Address:           sip.example.com:5061" "Transport:         tls" \
		"Numbers:           +15550500"
	local id
	id=$(field create ID)
	[[ $id == ST_* ]] || { fail "create: no trunk ID"; return; }
	cli list 0 sip outbound list
	has list.out "ADDRESS" "TRANSPORT" "$id" "Carrier" "sip.example.com:5061" "tls" "bob"
	cli listj 0 sip outbound list --json
	json_ok listj
	cli get 0 sip outbound get --id "$id"
	has get.out "Name:              Carrier"
	cli upd 0 sip outbound update "$id" --transport udp --address 127.0.0.1:5080
	has upd.out "Transport:         udp" "Address:           127.0.0.1:5080" "Name:              Carrier"
	cli del 0 sip outbound delete "$id"
	has del.out "deleted $id"
	cli gone 1 sip outbound get "$id"
	has gone.err "error: not_found:"
	cli empty 0 sip outbound list
	has empty.out "no outbound trunks"
}

case_dispatch() {
	cli trunk 0 sip inbound create --name T --numbers +15550600
	local tid id id2
	tid=$(field trunk ID)
	cli create 0 sip dispatch create --name Direct --room demo --pin 1234 --trunks "$tid"
	has create.out "Type:              direct" "Room:              demo" "PIN:               1234" \
		"Trunks:            $tid"
	id=$(field create ID)
	[[ $id == SDR_* ]] || { fail "create: no rule ID in $(cat "$WORK/create.out")"; return; }
	printf '{"dispatchRule":{"name":"PerCaller","rule":{"dispatchRuleIndividual":{"roomPrefix":"call-"}}}}\n' \
		>"$WORK/rule.json"
	cli indiv 0 sip dispatch create "$WORK/rule.json"
	has indiv.out "Type:              individual" "Room prefix:       call-" "Trunks:            (all)"
	id2=$(field indiv ID)
	cli list 0 sip dispatch list
	has list.out "TRUNKS" "TYPE" "$id" "$id2" "direct" "individual" "demo" "call-" "1234"
	cli listj 0 sip dispatch list --json
	json_ok listj
	cli get 0 sip dispatch get "$id"
	has get.out "ID:                $id" "Name:              Direct"
	lacks get.out "$id2"
	cli getj 0 sip dispatch get "$id2" --json
	json_ok getj
	has getj.out "\"sip_dispatch_rule_id\":\"$id2\""
	cli nf 1 sip dispatch get SDR_nothere
	has nf.err "error: not_found: requested sip dispatch rule does not exist"
	cli upd 0 sip dispatch update "$id" --room lobby --name Lobby
	has upd.out "Room:              lobby" "Name:              Lobby"
	cli del 0 sip dispatch delete "$id"
	has del.out "deleted $id"
	cli list2 0 sip dispatch list
	lacks list2.out "$id"
	has list2.out "$id2"
	cli del2 1 sip dispatch delete "$id"
	has del2.err "error: not_found:"
}

# A SIPp call in room demo that streams PCMU, follows hold and resume, then waits for a BYE.
# uas NAME SCENARIO ARGS...: a SIPp UAS for one call on a free port (UAS_PORT, UAS_PID)
uas() {
	local name=$1 scen=$2
	shift 2
	UAS_PORT=$(pick_ports 2) || { fail "no free SIP port"; return 1; }
	sipp -sf "$scen" -i 127.0.0.1 -p "$UAS_PORT" -m 1 -nostdin -timeout 30 -timeout_error \
		-trace_err -error_file "$WORK/$name.err" "$@" >"$WORK/$name.sipp" 2>&1 &
	UAS_PID=$!
	PIDS+=("$UAS_PID")
	sleep 0.3
}

uas_done() { # NAME: the UAS exits 0 within 15 s
	if ! wait_exit "$UAS_PID" 15; then
		fail "$1: SIPp still running after 15 s"
	elif [ "$RC" != 0 ]; then
		fail "$1: SIPp exited $RC: $(cat "$WORK/$1.err" 2>/dev/null)"
	fi
}

case_dial() {
	command -v sipp >/dev/null 2>&1 || { fail "sipp not found (Debian package sip-tester)"; return; }
	local trunk e2e
	e2e=$(cd "$SCEN/../../e2e" && pwd)

	uas ans "$SCEN/uas-answer.xml" || return
	cli trunk 0 sip outbound create --name sipp --address "127.0.0.1:$UAS_PORT" --numbers +15550100
	trunk=$(grep -o 'ST_[A-Za-z0-9]*' "$WORK/trunk.out" | head -n 1)
	[ -n "$trunk" ] || { fail "no trunk id in $(cat "$WORK/trunk.out")"; return; }
	cli dial 0 sip participant create --trunk "$trunk" --call +15551234 --room out \
		--identity callee --wait
	has dial.out "callee" "out" "SCL_"
	cli parts 0 room participants out
	has parts.out "callee" "active"
	cli remove 0 room remove out callee
	uas_done ans

	uas busy "$SCEN/uas-busy.xml" || return
	cli trunk2 0 sip outbound update "$trunk" --address "127.0.0.1:$UAS_PORT"
	cli busy 1 sip participant create --trunk "$trunk" --call +15551234 --room busy --wait
	has busy.err "error: resource_exhausted:" "SIP 486 Busy Here"
	uas_done busy

	uas xfer "$e2e/uas_refer.xml" -key final "200 OK" || return
	cli trunk3 0 sip outbound update "$trunk" --address "127.0.0.1:$UAS_PORT"
	cli dial2 0 sip participant create --trunk "$trunk" --call callee --room xfer \
		--identity x --wait
	cli xfer 0 sip participant transfer --room xfer --identity x \
		--to sip:transfer-target@127.0.0.1
	uas_done xfer
}

case_room_call() {
	command -v sipp >/dev/null 2>&1 || { fail "sipp not found (Debian package sip-tester)"; return; }
	local lp mp sipp_pid id
	lp=$(pick_ports 2) || { fail "no free SIP port"; return; }
	mp=$(pick_ports 4) || { fail "no free media port"; return; }
	head -c 16000 /dev/zero | tr '\0' '\377' >"$WORK/ulaw.raw"
	sipp -sf "$SCEN/uac-room-held.xml" -s room-demo -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 \
		-nostdin -timeout 60 -timeout_error -trace_err -trace_msg -trace_logs \
		-message_file "$WORK/uac.msg" -error_file "$WORK/uac.err" -log_file "$WORK/uac.log" \
		"127.0.0.1:$SIP_PORT" >"$WORK/uac.out" 2>&1 &
	sipp_pid=$!
	PIDS+=("$sipp_pid")
	wait_for "$WORK/uac.msg" '^ACK ' 10 || { fail "call not set up within 10 s"; return; }
	wait_for "$WORK/sb.log" 'joined room demo' 5 || { fail "the call did not join room demo"; return; }

	cli rooms 0 room list
	has rooms.out "NAME" "PARTICIPANTS" "demo" "RM_"
	grep -Eq '^demo +RM_[^ ]+ +1 ' "$WORK/rooms.out" || fail "rooms: demo with 1 participant: $(cat "$WORK/rooms.out")"
	cli roomsj 0 room list --json
	json_ok roomsj
	cli parts 0 room participants demo
	has parts.out "IDENTITY" "SIP" "ACTIVE" "+15550100" "active"
	id=$(awk 'NR == 2 { print $1 }' "$WORK/parts.out")
	[ -n "$id" ] || { fail "no identity in $(cat "$WORK/parts.out")"; return; }

	cli hold 0 sip participant hold --room demo --identity "$id"
	has hold.out "hold status: holding"
	wait_for "$WORK/uac.log" 'hold re-INVITE: a=sendonly' 5 || fail "SIPp saw no re-INVITE with a=sendonly"
	wait_for "$WORK/sb.log" 'answered 200: held' 5 || fail "the hold was not answered 200"
	cli parts2 0 room participants demo
	has parts2.out "held"
	cli resume 0 sip participant resume --room demo --identity "$id" --json
	json_ok resume
	has resume.out '"hold_status":"resuming"'
	wait_for "$WORK/uac.log" 'resume re-INVITE: a=sendrecv' 5 || fail "SIPp saw no re-INVITE with a=sendrecv"
	wait_for "$WORK/sb.log" 'answered 200: resumed' 5 || fail "the resume was not answered 200"
	cli dtmf 0 sip participant dtmf --room demo --identity "$id" --digits 12
	has dtmf.out "OK"
	grep -q "SendDTMF '12' to $id in demo" "$WORK/sb.log" || fail "no SendDTMF in the log"
	cli nobody 1 sip participant hold --room demo --identity nobody
	has nobody.err "error: not_found:"
	sleep 1.2 # the digits go out before the BYE

	cli remove 0 room remove demo "$id"
	has remove.out "OK"
	if ! wait_exit "$sipp_pid" 15; then
		fail "SIPp still running 15 s after room remove (no BYE?)"
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC (0 = held, resumed and hung up by us)"
	fi
	grep -q '^BYE ' "$WORK/uac.msg" || fail "SIPp never received a BYE"
	cli after 0 room participants demo
	lacks after.out "$id"
}

case_errors() {
	cli nf 1 sip inbound get ST_nothere
	has nf.err "error: not_found: requested sip trunk does not exist"
	local dead
	dead=$(pick_ports 1) || { fail "no free port"; return; }
	raw conn 1 room list --url "http://127.0.0.1:$dead"
	has conn.err "error: cannot reach http://127.0.0.1:$dead:"
	grep -qi "connect" "$WORK/conn.err" || fail "conn: no connection reason in $(cat "$WORK/conn.err")"
	cli secret 1 sip inbound list --api-secret wrong
	has secret.err "error: unauthenticated:"
	cli key 1 room list --api-key nokey
	has key.err "error: unauthenticated:"
	raw badurl 2 room list --url ftp://example.com
	has badurl.err "bad URL"
	cli usage1 2 sip inbound create --bogus x
	has usage1.err "unknown option --bogus" "usage:" "switchboard sip inbound create"
	cli usage2 2 sip participant create --trunk ST_x --room demo
	has usage2.err "--call is required" "switchboard sip participant create"
	cli usage3 2 sip nothing list
	has usage3.err "unknown command 'sip nothing'"
	cli usage4 2 room
	has usage4.err "switchboard room list"
	cli help 0 room --help
	has help.out "switchboard room participants ROOM"
	cli badfile 2 sip dispatch create /dev/null
	has badfile.err "/dev/null:"
	cli nofile 2 sip inbound create "$WORK/nothere.json"
	has nofile.err "nothere.json"
	cli badtrunk 1 sip dispatch create --room demo --trunks ST_a --pin 12x
	has badtrunk.err "error: invalid_argument:"
	# CreateSIPParticipant / TransferSIPParticipant: whatever the server answers is shown as
	# "error: CODE: MSG" (not_found for the unknown trunk, or unimplemented)
	cli call 1 sip participant create --trunk ST_nothere --call +15550100 --room demo --wait \
		--ringing-timeout 5s
	grep -Eq '^error: [a-z_]+: ' "$WORK/call.err" || fail "call: $(cat "$WORK/call.err")"
	cli xfer 1 sip participant transfer --room demo --identity nobody --to tel:+15550100
	grep -Eq '^error: [a-z_]+: ' "$WORK/xfer.err" || fail "xfer: $(cat "$WORK/xfer.err")"
}

case_env() {
	# the server has a key of its own: the built-in devkey/secret is refused
	raw dflt 1 room list --url "http://$HTTP"
	has dflt.err "error: unauthenticated:"
	export LIVEKIT_API_KEY=mykey LIVEKIT_API_SECRET=mysecret
	export LIVEKIT_URL="http://$HTTP"
	raw lk 0 room list
	has lk.out "no rooms"
	raw ws 0 room list --url "ws://$HTTP" # lk users' wss:// URLs are http(s) for Twirp
	local dead
	dead=$(pick_ports 1) || { fail "no free port"; return; }
	export SWITCHBOARD_URL="http://127.0.0.1:$dead"
	raw sburl 1 room list
	has sburl.err "error: cannot reach http://127.0.0.1:$dead:"
	raw flag 0 room list --url "http://$HTTP"
	export SWITCHBOARD_URL="http://$HTTP" LIVEKIT_URL="http://127.0.0.1:$dead"
	raw sburl2 0 room list
	export SWITCHBOARD_API_SECRET=wrong
	raw sbsecret 1 sip inbound list
	has sbsecret.err "error: unauthenticated:"
	raw flagsecret 0 sip inbound list --api-secret mysecret
	export SWITCHBOARD_API_KEY=mykey SWITCHBOARD_API_SECRET=mysecret LIVEKIT_API_SECRET=wrong
	raw sbkey 0 sip inbound list
	has sbkey.out "no inbound trunks"
	unset SWITCHBOARD_API_KEY SWITCHBOARD_API_SECRET LIVEKIT_API_KEY LIVEKIT_API_SECRET \
		SWITCHBOARD_URL LIVEKIT_URL
}

case $TEST in
cli-env) start_switchboard --api-key mykey --api-secret mysecret ;;
*) start_switchboard ;;
esac
case $TEST in
cli-inbound) case_inbound ;;
cli-outbound) case_outbound ;;
cli-dispatch) case_dispatch ;;
cli-room-call) case_room_call ;;
cli-dial) case_dial ;;
cli-errors) case_errors ;;
cli-env) case_env ;;
*) fail "unknown test $TEST" ;;
esac
stop_switchboard
finish
