#!/usr/bin/env bash
# API compatibility with the real npm livekit-server-sdk: starts `switchboard serve` on free
# ports with a fresh data directory and runs one node script of this folder against it.
#
#   run.sh SWITCHBOARD SCRIPT.mjs | run.sh --list
#
# The SDK comes from package-lock.json through `npm ci`, run only when node_modules is missing
# or older than the lock file (one install at a time: flock). Without node or npm the test
# fails (CI installs them: Debian packages nodejs npm). The script gets LIVEKIT_URL,
# LIVEKIT_API_KEY, LIVEKIT_API_SECRET, SB_SIP_PORT (switchboard's SIP UDP port on 127.0.0.1)
# and WEBHOOK_PORT (switchboard's webhooks go to http://127.0.0.1:WEBHOOK_PORT/hooks);
# switchboard must then exit 0 on SIGTERM. Every
# process started here is ended by its PID. SB_NODE names another node binary to run.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib/proc.sh
. "$HERE/../lib/proc.sh"

if [ "${1:-}" = --list ]; then
	(cd "$HERE" && ls -- *.mjs)
	exit 0
fi
[ $# -ge 2 ] || { echo "usage: $0 SWITCHBOARD SCRIPT.mjs | --list" >&2; exit 2; }
SB=$1
SCRIPT=$2
TEST=${SCRIPT%.mjs}
[ -f "$HERE/$SCRIPT" ] || { echo "FAIL [$TEST]: no $HERE/$SCRIPT"; exit 1; }
NODE=${SB_NODE:-node}
for tool in "$NODE" npm; do
	command -v "$tool" >/dev/null 2>&1 ||
		{ echo "FAIL [$TEST]: $tool not found (Debian packages nodejs npm)"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-compat-$TEST.XXXXXX")
PIDS=()
FAILED=0
SB_PID=

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_COMPAT_KEEP:-}" ]; then
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
	if [ -f "$WORK/sb.log" ]; then
		echo "---- sb.log (last 40 lines) ----"
		tail -n 40 "$WORK/sb.log" | sed -e 's/^/  | /'
	fi
	exit 1
}

# npm ci when node_modules is missing or stale (npm writes node_modules/.package-lock.json).
install_sdk() {
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
	local rtp http
	rtp=$(pick_ports 20) || { fail "no free RTP port range"; finish; }
	WEBHOOK_PORT=$(pick_ports 1) || { fail "no free port for the webhook receiver"; finish; }
	mkdir -p "$WORK/data"
	# webhooks go to WEBHOOK_PORT, where a script that checks them listens (for the others
	# the deliveries fail and are retried in the background, harmlessly)
	cat >"$WORK/switchboard.yaml" <<YAML
keys:
  devkey: secret
webhook:
  api_key: devkey
  urls:
    - http://127.0.0.1:$WEBHOOK_PORT/hooks
YAML
	"$SB" serve --config "$WORK/switchboard.yaml" --sip-listen 127.0.0.1:0 \
		--http-listen 127.0.0.1:0 --rtp-ports "$rtp-$((rtp + 19))" \
		--data-dir "$WORK/data" --log-level debug >"$WORK/sb.out" 2>"$WORK/sb.log" &
	SB_PID=$!
	PIDS+=("$SB_PID")
	for _ in $(seq 1 100); do
		http=$(sed -n 's/.*switchboard ready: .* http \([0-9.]*:[0-9][0-9]*\) .*/\1/p' "$WORK/sb.log" | head -n 1)
		SB_SIP_PORT=$(sed -n 's/.*switchboard ready: sip udp+tcp [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/sb.log" | head -n 1)
		if [ -n "$http" ] && [ -n "$SB_SIP_PORT" ]; then
			LIVEKIT_URL="http://$http"
			return 0
		fi
		is_running "$SB_PID" || { fail "switchboard exited before it was ready"; finish; }
		sleep 0.1
	done
	fail "switchboard not ready within 10 s"
	finish
}

stop_switchboard() {
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
}

install_sdk
start_switchboard
LIVEKIT_URL=$LIVEKIT_URL LIVEKIT_API_KEY=devkey LIVEKIT_API_SECRET=secret WEBHOOK_PORT=$WEBHOOK_PORT SB_SIP_PORT=$SB_SIP_PORT \
	timeout 120 "$NODE" "$HERE/$SCRIPT" 2>&1 | tee "$WORK/node.log"
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "node $SCRIPT exited $rc"
stop_switchboard
finish
