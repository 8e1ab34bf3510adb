# Shared by the test and benchmark scripts (sourced): process and port helpers that need
# neither python nor ss, only /proc.

is_running() { # PID: true while it runs (a zombie counts as ended)
	local st
	st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$st" ] && [ "$st" != Z ]
}

# wait_exit PID SECONDS: sets RC to the exit code; returns 1 if still running after SECONDS.
wait_exit() {
	local pid=$1 n=$(($2 * 10))
	while ((n-- > 0)); do
		if ! is_running "$pid"; then
			wait "$pid" 2>/dev/null
			RC=$?
			return 0
		fi
		sleep 0.1
	done
	RC=124
	return 1
}

port_in_use() { # PORT: bound on UDP or TCP, IPv4 or IPv6
	local hex
	hex=$(printf '%04X' "$1")
	awk 'NR > 1 { print $2 }' /proc/net/udp /proc/net/tcp /proc/net/udp6 /proc/net/tcp6 2>/dev/null |
		grep -q ":$hex\$"
}

# pick_ports N: prints an even port P such that P .. P+N-1 look free (large ranges sampled).
pick_ports() {
	local n=$1 p i ok
	for _ in $(seq 1 500); do
		# RTP ranges (N >= 20) from 40000 up, single ports from 20000-31999 (below the
		# kernel's ephemeral range): the two never overlap.
		if ((n >= 20)); then
			p=$((40000 + (RANDOM % ((19000 - n) / 2)) * 2))
		else
			p=$((20000 + (RANDOM % 6000) * 2))
		fi
		ok=1
		for ((i = 0; i < n; i += (n > 64 ? 37 : 1))); do
			port_in_use $((p + i)) && { ok=0; break; }
		done
		[ $ok = 1 ] && { echo "$p"; return 0; }
	done
	return 1
}

# stop_pids SECONDS PID...: SIGTERM each still running, then SIGKILL what has not exited
# within SECONDS.
stop_pids() {
	local grace=$1 p
	shift
	for p in "$@"; do
		is_running "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in "$@"; do
		wait_exit "$p" "$grace" || { kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; }
	done
}

# sipp_spawn ERRFILE OUTFILE SIPP-ARGS...: SIPp in the background (its PID in SIPP_PID) with
# -p and -mp on ports that look free. A test running beside this one may take them before
# SIPp binds them; SIPp then stops at once with "Unable to bind", and new ones are picked (three
# tries). Returns 1 when no free ports were found.
sipp_spawn() {
	local err=$1 out=$2 lp mp _try
	shift 2
	for _try in 1 2 3; do
		lp=$(pick_ports 2) || return 1
		mp=$(pick_ports 4) || return 1
		rm -f "$err"
		sipp -i 127.0.0.1 -p "$lp" -mp "$mp" -error_file "$err" "$@" >"$out" 2>&1 &
		SIPP_PID=$!
		sleep 0.2
		if ! is_running "$SIPP_PID" && grep -q "Unable to bind" "$err" 2>/dev/null; then
			wait "$SIPP_PID" 2>/dev/null
			continue
		fi
		return 0
	done
	return 0
}
