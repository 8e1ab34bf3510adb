# Dial-out cases of run.sh (sourced by it for TEST=dialout-*): agent `bot` declared in the config
# (agents:), dialled by switchboard itself; dialout.mjs is the agent's WebSocket server.
#
# dialout-dev: a dev call to sip:agent-bot@: the agent's path, header and customParameters, the
# caller's 1 kHz to the agent, its 440 Hz to the caller (ringback until its first media), its
# close -> the caller's BYE.
# dialout-rule: the same through an inbound trunk and a dispatch rule whose roomConfig.agents
# names bot (created with curl through livekit.SIP).
# dialout-hangup / dialout-echo: a dead agent URL -> on_failure hangup (a BYE at once) or echo
# (the call stays, the caller hears itself) or {play: WAV} (1.5 s of 440 Hz, then a BYE).
# dialout-timeout: an agent that accepts TCP and never
# answers the handshake -> hang up after connect_timeout (1 s).
# dialout-close-play: on_close {play: WAV}: after the agent's 4 s and its close, the caller hears
# the 2 s WAV, then gets the BYE.
# dialout-close-transfer: on_close {transfer: sip:bob@127.0.0.1}: after the agent's close the caller
# gets a REFER, accepts it and gets the BYE (uac-close-transfer.xml).
# dialout-native: the dev call with a `protocol: native` agent: start, binary PCM16LE both ways,
# its hangup command -> the caller's BYE.

# dialout_yaml URL ON_FAILURE RINGBACK [TIMEOUT [PROTOCOL [ON_CLOSE]]]: agent bot in $WORK/sb.yaml,
# passed to serve.
dialout_yaml() {
	cat >"$WORK/sb.yaml" <<EOF
agents:
  bot:
    url: "$1"
    protocol: ${5:-twilio}
    headers: {X-Agent-Key: k123}
    custom_parameters: {lang: fr, tier: 2}
    connect_timeout: ${4:-3s}
    on_failure: $2
    ringback: $3
    on_close: ${6:-hangup}
EOF
	SB_EXTRA=(--config "$WORK/sb.yaml")
}

# Before switchboard starts: the agent's port and the config.
dialout_setup() {
	AGENT_PORT=$(pick_ports 2) || { fail "no free port for the agent"; finish; }
	local url="ws://127.0.0.1:$AGENT_PORT/media?agent=bot"
	case $TEST in
	dialout-dev | dialout-rest) dialout_yaml "$url" hangup true ;;
	dialout-echo) dialout_yaml "$url" echo false ;;
	dialout-native) dialout_yaml "$url" hangup true 3s native ;;
	dialout-close-play)
		"$PEER" --wav "$WORK/bye.wav" 440 2 8000 >/dev/null || { fail "tone_peer --wav failed"; finish; }
		dialout_yaml "$url" hangup false 3s twilio "{play: $WORK/bye.wav}"
		;;
	dialout-close-transfer) dialout_yaml "$url" hangup false 3s twilio '{transfer: "sip:bob@127.0.0.1"}' ;;
	dialout-play)
		# 1.5 s of 440 Hz, 16-bit mono 8 kHz
		"$NODE" -e "
			const n = 12000, b = Buffer.alloc(44 + 2 * n);
			b.write('RIFF', 0); b.writeUInt32LE(36 + 2 * n, 4); b.write('WAVEfmt ', 8);
			b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(1, 22);
			b.writeUInt32LE(8000, 24); b.writeUInt32LE(16000, 28); b.writeUInt16LE(2, 32);
			b.writeUInt16LE(16, 34); b.write('data', 36); b.writeUInt32LE(2 * n, 40);
			for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 440 * i / 8000)), 44 + 2 * i);
			require('fs').writeFileSync('$WORK/sorry.wav', b);"
		dialout_yaml "$url" "{play: $WORK/sorry.wav}" false
		;;
	dialout-timeout)
		dialout_yaml "$url" hangup false 1s
		# accepts TCP, never answers
		"$NODE" -e "require('net').createServer(() => {}).listen($AGENT_PORT, '127.0.0.1', () => console.log('listening'))" \
			>"$WORK/silent.out" 2>&1 &
		PIDS+=("$!")
		for _ in $(seq 1 50); do
			grep -q listening "$WORK/silent.out" && break
			sleep 0.1
		done
		;;
	*) dialout_yaml "$url" hangup false ;;
	esac
}

# dialout_agent ROOM TO: dialout.mjs listening on $AGENT_PORT (waited for).
dialout_agent() {
	SB_AGENT_PORT=$AGENT_PORT SB_ROOM=$1 SB_TO=$2 SB_AGENT_SECS=4 SB_AGENT_PROTO=${AGENT_PROTO:-} \
		SB_AGENT_END=${AGENT_END:-} SB_HTTP="http://127.0.0.1:$HTTP_PORT" SB_KEY=devkey SB_SECRET=secret \
		timeout 60 "$NODE" \
		"$HERE/dialout.mjs" serve >"$WORK/agent.out" 2>&1 &
	AGENT_PID=$!
	PIDS+=("$AGENT_PID")
	for _ in $(seq 1 100); do
		grep -q '^listening' "$WORK/agent.out" && return 0
		is_running "$AGENT_PID" || break
		sleep 0.1
	done
	fail "the agent server did not start"
	sed -e 's/^/  /' "$WORK/agent.out"
	finish
}

# dialout_call TO SCENARIO EXPECT_HZ ABSENT_HZ [SECS]: the SIPp caller (From user "caller"),
# sending 1 kHz for SECS (4) seconds.
dialout_call() {
	local tp
	tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
	sipp_bg caller "$HERE/$2" -key codec pcmu -key pt 0 -key rtpmap PCMU/8000 \
		-key name caller -key to "$1" -key tone_port "$tp" -key send_hz 1000 \
		-key expect_hz "$3" -key absent_hz "$4" -key secs "${5:-4}"
	CALL_PID=$SIPP_PID
}

# dialout_tones WHAT: tone_peer's figures: 80 % of the packets, EXPECT_HZ in 40 % of the audio,
# ABSENT_HZ in at most 5 %.
dialout_tones() {
	local got sent expect absent
	for _ in $(seq 1 60); do
		[ -s "$WORK/caller.txt" ] && break
		sleep 0.1
	done
	if [ -s "$WORK/caller.txt" ]; then
		echo "  caller (sends 1 kHz, $1): $(cat "$WORK/caller.txt")"
		read -r _ got _ sent _ expect _ absent <"$WORK/caller.txt"
		[ "${got:-0}" -ge $((sent * 8 / 10)) ] || fail "the caller received only $got of $sent packets"
		[ "${expect:-0}" -ge 40 ] || fail "the caller hears what it should at only $expect % of its audio"
		[ "${absent:-100}" -le 5 ] || fail "the caller hears what it should not ($absent %)"
	else
		fail "tone_peer wrote no result"
	fi
}

# dialout_bridged ROOM TO: the agent's checks, the tones both ways, the BYE after its close.
dialout_bridged() {
	dialout_agent "$1" "$2"
	dialout_call "$2" uac-dialout-tone.xml 440 1000
	agent_wait
	sipp_wait caller "$CALL_PID" 30
	dialout_tones "hears the agent"
	grep -q "agent bot connected" "$WORK/sb.log" || fail "no 'agent bot connected' in the log"
	if [ "$TEST" = dialout-native ]; then
		grep -q "agent bot: hangup" "$WORK/sb.log" || fail "no hangup command in the log"
	elif [ "${AGENT_END:-}" = rest ]; then
		: # hung up through the REST API: the caller's BYE is checked by sipp_wait
	else
		grep -q "closed by the agent: hanging up" "$WORK/sb.log" ||
			fail "no hang-up after the agent closed"
	fi
}

dialout_rpc() { # NAME METHOD BODY: livekit.SIP with an admin token, 200 wanted
	local st
	st=$(curl -sS --max-time 10 -o "$WORK/$1.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $ADMIN" -d "$3" \
		"http://127.0.0.1:$HTTP_PORT/twirp/livekit.SIP/$2") || st=000
	[ "$st" = 200 ] || { fail "$2: HTTP $st ($(cat "$WORK/$1.body"))"; finish; }
}

dialout_run() {
	local t0 ms want
	case $TEST in
	dialout-rest)
		# the dialled agent hangs up through the Twilio-shaped REST API
		AGENT_END=rest dialout_bridged "" agent-bot
		grep -q "REST: Status=completed" "$WORK/sb.log" || fail "no REST hang-up in the log"
		;;
	dialout-dev)
		dialout_bridged "" agent-bot
		grep -q "room call-[^ ]*: dialling agent bot at ws://127.0.0.1:$AGENT_PORT/media?agent=bot" \
			"$WORK/sb.log" || fail "no dial of agent bot into a fresh room"
		grep -q "ringback on" "$WORK/sb.log" || fail "no ringback while the agent connected"
		grep -q "ringback off" "$WORK/sb.log" || fail "ringback not stopped by the agent's media"
		grep -q "echo joined room" "$WORK/sb.log" && fail "an echo participant joined"
		;;
	dialout-close-play)
		t0=$(date +%s%N)
		dialout_bridged "" agent-bot
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "  the call lasted $ms ms (the agent's 4 s, then the 2 s WAV)"
		[ "$ms" -ge 6000 ] || fail "the BYE came after $ms ms, before the WAV could play"
		grep -q "agent closed: on close play" "$WORK/sb.log" || fail "no close play in the log"
		grep -q "announcement played: hanging up" "$WORK/sb.log" || fail "no hang-up after the WAV"
		;;
	dialout-close-transfer)
		dialout_agent "" agent-bot
		tp=$(pick_ports 2) || { fail "no free port for tone_peer"; finish; }
		sipp_bg caller "$HERE/uac-close-transfer.xml" -key name caller -key to agent-bot \
			-key tone_port "$tp" -key send_hz 1000 -key secs 4
		agent_wait
		sipp_wait caller "$SIPP_PID" 30
		grep -q "agent closed: on close transfer to sip:bob@127.0.0.1" "$WORK/sb.log" ||
			fail "no close transfer in the log"
		grep -q "transferred after the agent closed" "$WORK/sb.log" || fail "no transfer success logged"
		;;
	dialout-native)
		AGENT_PROTO=native dialout_bridged "" agent-bot
		grep -q "ringback off" "$WORK/sb.log" || fail "ringback not stopped by the agent's audio"
		;;
	dialout-rule)
		command -v curl >/dev/null 2>&1 || { fail "curl not found (Debian package curl)"; finish; }
		ADMIN=$("$SB" token --grant sip.admin) || { fail "token"; finish; }
		dialout_rpc trunk CreateSIPInboundTrunk \
			'{"trunk":{"name":"local","allowedAddresses":["127.0.0.1/32"]}}'
		dialout_rpc rule CreateSIPDispatchRule "{\"dispatchRule\":{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"$ROOM\"}},\"name\":\"to-bot\",\"roomConfig\":{\"agents\":[{\"agentName\":\"bot\"}]}}}"
		dialout_bridged "$ROOM" 15550100
		grep -q "room $ROOM: dialling agent bot" "$WORK/sb.log" ||
			fail "no dial of agent bot into room $ROOM"
		;;
	dialout-hangup | dialout-timeout)
		t0=$(date +%s%N)
		dialout_call agent-bot uac-dialout-bye.xml 440 1000
		sipp_wait caller "$CALL_PID" 30
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "  the call lasted $ms ms (INVITE to the BYE's answer)"
		want=2500
		[ "$TEST" = dialout-timeout ] && want=4000
		[ "$ms" -le "$want" ] || fail "the BYE came after $ms ms (want at most $want)"
		grep -q "agent bot (ws://[^ ]*) failed: " "$WORK/sb.log" || fail "no failure logged"
		grep -q "hanging up (on_failure: hangup)" "$WORK/sb.log" || fail "no hang-up fallback"
		if [ "$TEST" = dialout-timeout ]; then
			grep -q "failed: no answer within 1000 ms" "$WORK/sb.log" || fail "no timeout logged"
		fi
		;;
	dialout-play)
		t0=$(date +%s%N)
		dialout_call agent-bot uac-dialout-tone.xml 440 1000 1
		sipp_wait caller "$CALL_PID" 30
		ms=$((($(date +%s%N) - t0) / 1000000))
		echo "  the call lasted $ms ms (INVITE to the BYE's answer)"
		[ "$ms" -ge 1400 ] && [ "$ms" -le 4000 ] ||
			fail "the BYE came after $ms ms (want the 1.5 s announcement, then the BYE)"
		dialout_tones "hears the announcement"
		grep -q "fallback play" "$WORK/sb.log" || fail "no play fallback"
		grep -q "announcement played: hanging up" "$WORK/sb.log" || fail "no hang-up after it"
		;;
	dialout-echo)
		dialout_call agent-bot uac-dialout-echo.xml 1000 440
		sipp_wait caller "$CALL_PID" 30
		dialout_tones "hears itself"
		grep -q "fallback echo" "$WORK/sb.log" || fail "no echo fallback"
		;;
	esac
	stop_switchboard
}
