#!/usr/bin/env bash
# GET /metrics end to end: `switchboard serve`, scraped with curl; every scrape must be
# well-formed Prometheus text (format 0.0.4: every line a HELP, a TYPE or a sample whose labels
# and value parse, every sample's metric TYPEd once before it, the right Content-Type).
#   metrics-call:    GET /healthz answers 200 "ok"; an idle scrape shows no calls; SIPp calls
#                    sip:room-demo@ and streams PCMU (tests/sip/scenarios/uac-room-rtp-wait-bye.xml):
#                    the scrape shows one active inbound call, calls_total 1, INVITE received,
#                    200 sent, one room with one SIP participant, RTP packets received growing
#                    from one scrape to the next; RemoveParticipant ends the call (SIPp exits 0)
#                    and the calls gauge goes back to 0 with calls_ended_total{answered="true"}
#                    1, the room closes (departure timeout 1 s), and the RTP counters do not go
#                    backwards.
#   metrics-webhook: a webhook URL that refuses connections; CreateRoom posts room_started,
#                    the failed attempts and then the event given up (after its retries) show
#                    in webhook_attempts_failed_total and webhooks_failed_total; nothing is
#                    delivered.
#   metrics-off:     --metrics-enabled false: GET /metrics is 404, /healthz still 200.
#
#   metrics_e2e.sh SWITCHBOARD TEST | metrics_e2e.sh --list
#
# Every case ends with SIGTERM and wants exit 0; every process started here is ended by its
# PID. Needs curl and sipp (Debian packages curl, sip-tester).
set -u
# shellcheck source=../lib/proc.sh
. "$(dirname "$0")/../lib/proc.sh"

TESTS=(metrics-call metrics-webhook metrics-off)

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
serve_init sb-metrics

wait_for() { # FILE REGEX SECONDS
	local n=$(($3 * 10))
	while ((n-- > 0)); do
		grep -Eq -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wellformed FILE: the exposition format, line by line (prints what is wrong).
wellformed() {
	awk '
	BEGIN { bad = 0; n = 0 }
	/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { next }
	/^# TYPE / {
		if (NF != 4 || $3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ || ($4 != "counter" && $4 != "gauge")) {
			print "bad TYPE line " NR ": " $0; bad = 1; next
		}
		if ($3 in typed) { print "second TYPE for " $3 " at line " NR; bad = 1 }
		typed[$3] = 1; next
	}
	/^#/ { print "bad comment line " NR ": " $0; bad = 1; next }
	{
		line = $0
		if (!match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*/)) { print "bad sample line " NR ": " $0; bad = 1; next }
		name = substr(line, 1, RLENGTH); rest = substr(line, RLENGTH + 1)
		if (!(name in typed)) { print "sample of " name " without a TYPE before it (line " NR ")"; bad = 1 }
		if (name !~ /^switchboard_/) { print "metric " name " lacks the switchboard_ prefix"; bad = 1 }
		if (substr(rest, 1, 1) == "{") {
			lab = "^\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\[\\\\\"n])*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|\\\\[\\\\\"n])*\")*\\}"
			if (!match(rest, lab)) { print "bad labels line " NR ": " $0; bad = 1; next }
			rest = substr(rest, RLENGTH + 1)
		}
		if (rest !~ /^ ([-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$/) {
			print "bad value line " NR ": " $0; bad = 1; next
		}
		n++
	}
	END { if (n == 0) { print "no samples"; bad = 1 } exit bad }' "$1"
}

# scrape NAME: GET /metrics into NAME.prom, checked.
scrape() {
	local name=$1 st ct
	st=$(curl -sS --max-time 10 -o "$WORK/$name.prom" -D "$WORK/$name.hdr" -w '%{http_code}' \
		"http://$HTTP/metrics") || { fail "$name: curl failed"; return; }
	[ "$st" = 200 ] || fail "$name: HTTP $st, want 200"
	ct=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\(.*\)\r$/\1/p' "$WORK/$name.hdr")
	[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] || fail "$name: Content-Type '$ct'"
	local why
	why=$(wellformed "$WORK/$name.prom") || fail "$name: not well-formed: $why"
}

# val NAME SERIES: the value of SERIES (name with labels, as printed) in NAME.prom, "" if absent.
val() {
	awk -v k="$2" 'index($0, k " ") == 1 { print substr($0, length(k) + 2) }' "$WORK/$1.prom"
}

want() { # NAME SERIES VALUE
	local v
	v=$(val "$1" "$2")
	[ "$v" = "$3" ] || fail "$1: $2 is '${v}', want $3"
}

want_ge() { # NAME SERIES MIN
	local v
	v=$(val "$1" "$2")
	[ -n "$v" ] && [ "${v%.*}" -ge "$3" ] || fail "$1: $2 is '${v}', want >= $3"
}

calls_now() { # NAME: the sum of switchboard_calls{...}
	awk '/^switchboard_calls\{/ { s += $NF } END { print s + 0 }' "$WORK/$1.prom"
}

case $TEST in
metrics-call)
	start_switchboard --room-departure-timeout 1
	st=$(curl -sS --max-time 10 -o "$WORK/healthz.body" -w '%{http_code}' "http://$HTTP/healthz")
	[ "$st" = 200 ] && [ "$(cat "$WORK/healthz.body")" = ok ] ||
		fail "healthz: HTTP $st '$(cat "$WORK/healthz.body")', want 200 ok"
	scrape idle
	[ "$(calls_now idle)" = 0 ] || fail "idle: calls $(calls_now idle), want 0"
	want idle 'switchboard_calls_total{direction="inbound"}' 0
	want idle 'switchboard_rooms' 0
	want idle 'switchboard_build_info{version="'"$("$SB" version | sed 's/^switchboard //')"'"}' 1
	grep -q '^switchboard_uptime_seconds ' "$WORK/idle.prom" || fail "idle: no uptime"

	lp=$(pick_ports 2) || { fail "no free SIP port"; finish; }
	mp=$(pick_ports 4) || { fail "no free media port"; finish; }
	head -c 16000 /dev/zero | tr '\0' '\377' >"$WORK/ulaw.raw" # 2 s of PCMU silence, looped
	sipp -sf "$SCEN/uac-room-rtp-wait-bye.xml" -s room-demo -i 127.0.0.1 -p "$lp" -mp "$mp" -m 1 \
		-nostdin -timeout 60 -timeout_error -trace_err -trace_msg \
		-message_file "$WORK/uac.msg" -error_file "$WORK/uac.err" \
		"127.0.0.1:$SIP_PORT" >"$WORK/uac.out" 2>&1 &
	SIPP_PID=$!
	PIDS+=("$SIPP_PID")
	wait_for "$WORK/uac.msg" '^ACK ' 10 || { fail "call not set up within 10 s"; finish; }
	wait_for "$WORK/sb.log" 'joined room demo' 5 || { fail "the call did not join room demo"; finish; }
	sleep 2.5 # RTP flows; the worker reports the leg's figures about once a second
	scrape call1
	want call1 'switchboard_calls{state="active",direction="inbound"}' 1
	[ "$(calls_now call1)" = 1 ] || fail "call1: calls $(calls_now call1), want 1"
	want call1 'switchboard_calls_total{direction="inbound"}' 1
	want_ge call1 'switchboard_sip_requests_total{method="INVITE",direction="received"}' 1
	want_ge call1 'switchboard_sip_requests_total{method="ACK",direction="received"}' 1
	want_ge call1 'switchboard_sip_responses_total{code="200",direction="sent"}' 1
	want call1 'switchboard_rooms' 1
	want call1 'switchboard_participants{kind="sip"}' 1
	want call1 'switchboard_rtp_legs' 1
	rx1=$(val call1 switchboard_rtp_packets_received_total)
	[ "${rx1:-0}" -gt 0 ] || fail "call1: RTP packets received '${rx1}', want > 0"
	want_ge call1 switchboard_rtp_packets_sent_total 1
	sleep 2
	scrape call2
	rx2=$(val call2 switchboard_rtp_packets_received_total)
	[ "${rx2:-0}" -gt "${rx1:-0}" ] || fail "call2: RTP packets received '${rx2}', want > ${rx1}"

	TOKEN=$("$SB" token --grant roomAdmin --room demo) || { fail "token"; finish; }
	ID=$(sed -n 's/.*"identity":"\([^"]*\)".*/\1/p' <(curl -sS --max-time 10 \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
		-d '{"room":"demo"}' "http://$HTTP/twirp/livekit.RoomService/ListParticipants"))
	[ -n "$ID" ] || { fail "no participant in room demo"; finish; }
	st=$(curl -sS --max-time 10 -o "$WORK/remove.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
		-d "{\"room\":\"demo\",\"identity\":\"$ID\"}" \
		"http://$HTTP/twirp/livekit.RoomService/RemoveParticipant")
	[ "$st" = 200 ] || fail "RemoveParticipant: HTTP $st ($(cat "$WORK/remove.body"))"
	if ! wait_exit "$SIPP_PID" 15; then
		fail "SIPp still running 15 s after the hang-up"
		kill -KILL "$SIPP_PID" 2>/dev/null
	elif [ "$RC" != 0 ]; then
		fail "SIPp exited $RC (0 = hung up by us)"
	fi
	for _ in $(seq 1 50); do # the call, then its room (departure timeout 1 s) go
		scrape after
		[ "$(calls_now after)" = 0 ] && [ "$(val after switchboard_rooms)" = 0 ] && break
		sleep 0.1
	done
	[ "$(calls_now after)" = 0 ] || fail "after: calls $(calls_now after), want 0"
	want after 'switchboard_calls_ended_total{direction="inbound",answered="true"}' 1
	want after 'switchboard_rooms' 0
	want after 'switchboard_participants{kind="sip"}' 0
	want after 'switchboard_rtp_legs' 0
	want_ge after 'switchboard_sip_requests_total{method="BYE",direction="sent"}' 1
	want_ge after 'switchboard_sip_responses_total{code="200",direction="received"}' 1
	rx3=$(val after switchboard_rtp_packets_received_total)
	[ "${rx3:-0}" -ge "${rx2:-0}" ] || fail "after: RTP packets received ${rx3} < ${rx2} (a counter)"
	stop_switchboard
	;;
metrics-webhook)
	dead=$(pick_ports 2) || { fail "no free port"; finish; }
	cat >"$WORK/switchboard.yaml" <<YAML
webhook:
  urls:
    - http://127.0.0.1:$dead/hooks
metrics:
  enabled: true
YAML
	start_switchboard --config "$WORK/switchboard.yaml"
	scrape before
	want before switchboard_webhook_attempts_failed_total 0
	want before switchboard_webhooks_failed_total 0
	TOKEN=$("$SB" token --grant roomCreate) || { fail "token"; finish; }
	st=$(curl -sS --max-time 10 -o "$WORK/create.body" -w '%{http_code}' \
		-H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
		-d '{"name":"hooked"}' "http://$HTTP/twirp/livekit.RoomService/CreateRoom")
	[ "$st" = 200 ] || fail "CreateRoom: HTTP $st ($(cat "$WORK/create.body"))"
	# 5 attempts, 0.5 + 1 + 2 + 4 s apart: given up after about 8 s
	for _ in $(seq 1 150); do
		scrape hooks
		[ "$(val hooks switchboard_webhooks_failed_total)" = 1 ] && break
		[ "$FAILED" = 0 ] || break
		sleep 0.1
	done
	want hooks switchboard_webhooks_failed_total 1
	want_ge hooks switchboard_webhook_attempts_failed_total 2
	want hooks switchboard_webhooks_delivered_total 0
	want hooks switchboard_webhooks_queued 0
	want hooks switchboard_rooms 1
	stop_switchboard
	;;
metrics-off)
	start_switchboard --metrics-enabled false
	st=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$HTTP/metrics")
	[ "$st" = 404 ] || fail "metrics: HTTP $st, want 404"
	st=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "http://$HTTP/healthz")
	[ "$st" = 200 ] || fail "healthz: HTTP $st, want 200"
	stop_switchboard
	;;
*)
	fail "unknown test $TEST"
	;;
esac
finish
