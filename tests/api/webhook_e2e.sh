#!/usr/bin/env bash
# Webhooks end to end: `switchboard serve` with a switchboard.yaml whose webhook.urls point at
# a tiny node HTTP receiver (one JSON line per request: method, headers, body; answers 200).
#   webhook-call: SIPp calls sip:room-hooks@ (tests/sip/scenarios/uac-hold-resume.xml: answer,
#                 hold, resume, BYE); the receiver gets room_started, participant_joined,
#                 x-switchboard-hold, x-switchboard-resume, participant_left, room_finished in
#                 that order, each a POST with Content-Type application/webhook+json and an
#                 Authorization JWT (HS256 with the configured secret, iss = the webhook key,
#                 claim sha256 = base64(SHA-256(body)), not expired), room name hooks.
#   webhook-dead: one webhook URL refuses connections, the other accepts them and never
#                 answers; calls still go through at once (three calls in a row, each over
#                 within 2 s), the failed attempts are retried, and serve stops on SIGTERM
#                 (exit 0 within 5 s) with a request in flight.
#
#   webhook_e2e.sh SWITCHBOARD TEST | webhook_e2e.sh --list
#
# Every process started here is ended by its PID. Needs node and sipp (Debian package
# sip-tester).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(webhook-call webhook-dead)

if [ "${1:-}" = --list ]; then
	printf '%s\n' "${TESTS[@]}"
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD TEST | --list" >&2; exit 2; }
SB=$1
TEST=$2
SCEN=$(cd "$(dirname "$0")/../sip/scenarios" && pwd)
command -v node >/dev/null 2>&1 || { echo "FAIL: node not found (scripts/install-deps)"; exit 1; }
command -v sipp >/dev/null 2>&1 || { echo "FAIL: sipp not found (Debian package sip-tester)"; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-hook-$TEST.XXXXXX")
cd "$WORK" || exit 1
PIDS=()
FAILED=0
SB_PID=
SIP_PORT=
HOOK_PID=
HOOK_PORT=
KEY=APIhookKey
SECRET=hook-secret-for-the-e2e-test

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

wait_for() { # FILE REGEX SECONDS
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_receiver [hang]: listens on a free port of 127.0.0.1, writes it to hook.port, appends
# one JSON line per request to hooks.jsonl and answers 200 (with hang: never answers).
start_receiver() {
	cat >"$WORK/receiver.js" <<'JS'
const http = require('http');
const fs = require('fs');
const [out, portFile, mode] = process.argv.slice(2);
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const line = JSON.stringify({ method: req.method, url: req.url, headers: req.headers,
                                  body: Buffer.concat(chunks).toString('utf8') });
    fs.appendFileSync(out, line + '\n');
    if (mode === 'hang')
      return;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
  });
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portFile, String(server.address().port)));
process.on('SIGTERM', () => process.exit(0));
JS
	node "$WORK/receiver.js" "$WORK/hooks.jsonl" "$WORK/hook.port" "${1:-}" >"$WORK/receiver.log" 2>&1 &
	HOOK_PID=$!
	PIDS+=("$HOOK_PID")
	for _ in $(seq 1 100); do
		HOOK_PORT=$(cat "$WORK/hook.port" 2>/dev/null)
		[ -n "$HOOK_PORT" ] && return 0
		is_running "$HOOK_PID" || { fail "the receiver exited: $(cat "$WORK/receiver.log")"; finish; }
		sleep 0.1
	done
	fail "the receiver did not start within 10 s"
	finish
}

start_switchboard() { # WEBHOOK_URL...
	local rtp
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	mkdir -p "$WORK/data"
	cat >"$WORK/switchboard.yaml" <<YAML
keys:
  devkey: secret
  $KEY: $SECRET
webhook:
  api_key: $KEY
  urls:
$(printf '    - %s\n' "$@")
room_departure_timeout: 1s
YAML
	"$SB" serve --config "$WORK/switchboard.yaml" --sip-listen 127.0.0.1:0 \
		--http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 19))" --data-dir "$WORK/data" \
		--log-level debug >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for _ in $(seq 1 100); do
		SIP_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		[ -n "$SIP_PORT" ] && return 0
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

# call NAME SCENARIO: SIPp calls sip:room-hooks@ (dev routing: room hooks) and runs the scenario to its end (15 s at
# most); sets SIPP_RC.
call() {
	local name=$1 scen=$2 lp mp pid
	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	# the scenarios call sip:echo@; the same with the request user from -s
	sed -e 's/sip:echo@/sip:[service]@/g' "$SCEN/$scen" >"$WORK/$scen"
	sipp -sf "$WORK/$scen" -s room-hooks -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 -d 300 \
		-nostdin -timeout 15 -timeout_error -trace_err -trace_msg \
		-message_file "$WORK/$name.msg" -error_file "$WORK/$name.err" \
		"127.0.0.1:$SIP_PORT" >"$WORK/$name.out" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_exit "$pid" 20; then
		fail "$name: SIPp still running after 20 s"
		kill -KILL "$pid" 2>/dev/null
		SIPP_RC=124
		return
	fi
	SIPP_RC=$RC
	[ "$SIPP_RC" = 0 ] || fail "$name: SIPp exited $SIPP_RC ($(tail -n 5 "$WORK/$name.err" 2>/dev/null))"
}

# check_hooks EVENT...: the received requests are exactly these events in this order, each
# signed and well-formed for room hooks.
check_hooks() {
	cat >"$WORK/check.js" <<'JS'
const fs = require('fs');
const crypto = require('crypto');
const [file, key, secret, ...want] = process.argv.slice(2);
const errs = [];
const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l);
const got = [];
const b64url = (b) => b.toString('base64').replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
for (const [i, l] of lines.entries()) {
  const r = JSON.parse(l);
  let ev;
  try { ev = JSON.parse(r.body); } catch (e) { errs.push(`#${i}: body is not JSON: ${r.body}`); continue; }
  got.push(ev.event);
  const at = `#${i} ${ev.event}`;
  if (r.method !== 'POST') errs.push(`${at}: method ${r.method}`);
  if (r.headers['content-type'] !== 'application/webhook+json')
    errs.push(`${at}: Content-Type ${r.headers['content-type']}`);
  const jwt = r.headers['authorization'] || '';
  const parts = jwt.split('.');
  if (parts.length !== 3) { errs.push(`${at}: Authorization is not a JWT: '${jwt}'`); continue; }
  const head = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
  const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  if (head.alg !== 'HS256') errs.push(`${at}: alg ${head.alg}`);
  const sig = b64url(crypto.createHmac('sha256', secret).update(parts[0] + '.' + parts[1]).digest());
  if (sig !== parts[2]) errs.push(`${at}: bad signature`);
  if (claims.iss !== key) errs.push(`${at}: iss ${claims.iss}`);
  const sha = crypto.createHash('sha256').update(Buffer.from(r.body, 'utf8')).digest('base64');
  if (claims.sha256 !== sha) errs.push(`${at}: sha256 claim ${claims.sha256}, body's ${sha}`);
  const now = Date.now() / 1000;
  if (!(claims.exp > now)) errs.push(`${at}: expired (exp ${claims.exp})`);
  if (!/^EV_/.test(ev.id || '')) errs.push(`${at}: id ${ev.id}`);
  if (!/^[0-9]+$/.test(ev.createdAt || '')) errs.push(`${at}: createdAt ${ev.createdAt}`);
  if (!ev.room || ev.room.name !== 'hooks' || !/^RM_/.test(ev.room.sid || ''))
    errs.push(`${at}: room ${JSON.stringify(ev.room)}`);
  const isPart = ev.event !== 'room_started' && ev.event !== 'room_finished';
  if (isPart) {
    const p = ev.participant || {};
    if (!/^PA_/.test(p.sid || '') || !p.identity || p.kind !== 'SIP')
      errs.push(`${at}: participant ${JSON.stringify(p)}`);
    if (ev.event === 'participant_joined' && p.state !== 'ACTIVE') errs.push(`${at}: state ${p.state}`);
    if (ev.event === 'participant_left' && p.state !== 'DISCONNECTED') errs.push(`${at}: state ${p.state}`);
  } else if (ev.participant) {
    errs.push(`${at}: a participant in a room event`);
  }
  if (ev.event === 'x-switchboard-hold' || ev.event === 'x-switchboard-resume') {
    const s = ev.switchboard || {};
    if (s.held !== (ev.event === 'x-switchboard-hold') || s.initiator !== 'remote')
      errs.push(`${at}: switchboard ${JSON.stringify(s)}`);
  }
}
if (got.join(',') !== want.join(',')) errs.push(`events ${got.join(',')}, want ${want.join(',')}`);
for (const e of errs) console.log(e);
process.exit(errs.length ? 1 : 0);
JS
	local out
	out=$(node "$WORK/check.js" "$WORK/hooks.jsonl" "$KEY" "$SECRET" "$@" 2>&1) || fail "webhooks: $out"
}

case $TEST in
webhook-call)
	start_receiver
	start_switchboard "http://127.0.0.1:$HOOK_PORT/hooks"
	call call uac-hold-resume.xml
	# the room closes 1 s (room_departure_timeout) after the call left
	wait_for "$WORK/hooks.jsonl" '"room_finished' 10 || fail "no room_finished within 10 s"
	sleep 0.5 # nothing after room_finished
	check_hooks room_started participant_joined x-switchboard-hold x-switchboard-resume \
		participant_left room_finished
	stop_switchboard
	;;
webhook-dead)
	start_receiver hang
	dead=$(pick_ports 2) || { fail "no free port"; finish; }
	start_switchboard "http://127.0.0.1:$dead/hooks" "http://127.0.0.1:$HOOK_PORT/hang"
	for i in 1 2 3; do
		t0=$(date +%s%N)
		call "call$i" uac-basic.xml
		ms=$((($(date +%s%N) - t0) / 1000000))
		# 300 ms in the call plus set-up and BYE: anything near a webhook timeout is a failure
		((ms < 2000)) || fail "call $i took $ms ms with a dead webhook URL"
	done
	grep -q "127.0.0.1:$dead/hooks: attempt 2 failed" "$WORK/sb.log" ||
		fail "the refused webhooks were not retried"
	[ -s "$WORK/hooks.jsonl" ] || fail "the hanging receiver got no request"
	stop_switchboard
	;;
*)
	fail "unknown test $TEST"
	;;
esac
finish
