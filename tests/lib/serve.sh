# The life of one end-to-end case against `switchboard serve` (sourced after proc.sh): its work
# directory (removed unless the case failed or SB_API_KEEP is set), every process it starts
# ended by PID, PASS/FAIL, and the server started on free ports and stopped with SIGTERM
# (exit 0 wanted). Sets WORK, PIDS, FAILED, SB_PID, HTTP (host:port), SIP_PORT.

# serve_init PREFIX: a fresh work directory "PREFIX-TEST.*" (TEST: the case) and the traps.
serve_init() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/$1-$TEST.XXXXXX")
	cd "$WORK" || exit 1
	PIDS=()
	FAILED=0
	SB_PID=
	HTTP=
	SIP_PORT=
	trap cleanup EXIT
	trap 'exit 130' INT TERM
}

cleanup() {
	stop_pids 3 "${PIDS[@]}"
	cd /
	if [ "$FAILED" = 0 ] && [ -z "${SB_API_KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "work directory kept: $WORK"
	fi
}

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

start_switchboard() { # extra serve arguments
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
