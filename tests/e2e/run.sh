#!/usr/bin/env bash
# switchboard calling switchboard over loopback: `serve` on one side, `dial` on the other.
# usage: run.sh SWITCHBOARD CASE — each case starts its own server on a free port (port 0),
# checks both sides' logs and exit codes, and stops every process it started by PID.
set -u
SB=$1
CASE=$2
WORK=$(mktemp -d)
SERVE_PID=
SIPP_PID=
cleanup() {
  [ -n "$SERVE_PID" ] && kill -9 "$SERVE_PID" 2>/dev/null
  [ -n "$SIPP_PID" ] && kill -9 "$SIPP_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  echo "--- serve log"; cat "$WORK/serve.log" 2>/dev/null | tail -40
  echo "--- dial log"; cat "$WORK/dial.log" 2>/dev/null | tail -40
  exit 1
}

# start_serve [extra serve flags...]; sets PORT (and TLS_PORT when TLS is on)
start_serve() {
  "$SB" serve --sip-listen "${LISTEN:-127.0.0.1}:0" --http-listen 127.0.0.1:0 --rtp-ports 14000-14998 --data-dir "$WORK/data" \
    --t1 100 "$@" >"$WORK/serve.log" 2>&1 &
  SERVE_PID=$!
  for _ in $(seq 1 100); do
    if grep -q "switchboard ready" "$WORK/serve.log"; then break; fi
    kill -0 "$SERVE_PID" 2>/dev/null || fail "serve exited early"
    sleep 0.05
  done
  line=$(grep "switchboard ready" "$WORK/serve.log") || fail "serve not ready in 5 s"
  PORT=$(echo "$line" | sed -E 's/.*sip udp\+tcp \[?[^ ]*\]?:([0-9]+).*/\1/')
  TLS_PORT=$(echo "$line" | sed -nE 's/.* tls \[?[^ ]*\]?:([0-9]+).*/\1/p')
}

stop_serve() {
  kill -TERM "$SERVE_PID"
  for _ in $(seq 1 100); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$SERVE_PID" 2>/dev/null && fail "serve did not stop within 5 s of SIGTERM"
  wait "$SERVE_PID"
  local rc=$?
  SERVE_PID=
  [ $rc -eq 0 ] || fail "serve exited $rc after SIGTERM"
}

# start_sipp_uas SCENARIO [sipp flags...]: SIPp answering on a free port; sets SIPP_PID, SIPP_PORT
start_sipp_uas() {
  local scen=$1; shift
  sipp -sf "$(dirname "$0")/$scen" -i 127.0.0.1 -p 0 -m 1 -timeout 25s -timeout_error \
    -nostdin -bg -trace_err -error_file "$WORK/sipp-err.log" "$@" >"$WORK/sipp.out" 2>&1
  SIPP_PID=$(sed -nE 's/.*PID=\[([0-9]+)\].*/\1/p' "$WORK/sipp.out")
  [ -n "$SIPP_PID" ] || fail "sipp did not start: $(cat "$WORK/sipp.out")"
  SIPP_PORT=
  for _ in $(seq 1 50); do
    SIPP_PORT=$(ss -lunp 2>/dev/null | grep "pid=$SIPP_PID," | sed -nE 's/.*127\.0\.0\.1:([0-9]+).*/\1/p' | head -1)
    [ -n "$SIPP_PORT" ] && break
    sleep 0.05
  done
  [ -n "$SIPP_PORT" ] || { kill "$SIPP_PID"; fail "cannot find sipp's port"; }
}

# wait_sipp: the SIPp UAS must finish its one call successfully within 10 s
wait_sipp() {
  for _ in $(seq 1 200); do kill -0 "$SIPP_PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$SIPP_PID" 2>/dev/null; then kill "$SIPP_PID"; fail "sipp did not finish its call"; fi
  grep -q "Failed call" "$WORK/sipp-err.log" 2>/dev/null && fail "sipp: $(cat "$WORK/sipp-err.log")"
  true
}

dial() { # dial URI [flags...]; sets DIAL_RC
  timeout 30 "$SB" dial "$@" --rtp-ports 15000-15998 --t1 100 >"$WORK/dial.log" 2>&1
  DIAL_RC=$?
}

expect_log() { # file pattern
  grep -qE "$2" "$WORK/$1" || fail "$1 lacks /$2/"
}

case "$CASE" in
basic-udp)
  start_serve
  dial "sip:echo@127.0.0.1:$PORT" --duration 1
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  expect_log dial.log "call answered"
  expect_log dial.log "ended: 200 bye"
  expect_log serve.log "ended: 200 remote bye"
  stop_serve ;;
basic-tcp)
  start_serve
  dial "sip:echo@127.0.0.1:$PORT;transport=tcp" --duration 1
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  expect_log serve.log "ended: 200 remote bye"
  stop_serve ;;
basic-ipv6)
  LISTEN="[::1]" start_serve
  dial "sip:echo@[::1]:$PORT" --duration 1 --sip-listen "[::1]:0"
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  expect_log serve.log "ended: 200 remote bye"
  stop_serve ;;
tls)
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/key.pem" -out "$WORK/cert.pem" -days 1 \
    -subj /CN=127.0.0.1 >/dev/null 2>&1 || fail "openssl could not make a test certificate"
  start_serve --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
  [ -n "$TLS_PORT" ] || fail "no TLS port in the ready line"
  dial "sips:echo@127.0.0.1:$TLS_PORT" --duration 1
  [ $DIAL_RC -eq 0 ] || fail "dial over TLS exited $DIAL_RC"
  expect_log serve.log "ended: 200 remote bye"
  stop_serve ;;
digest)
  start_serve --auth-user alice --auth-password 's3cr3t'
  dial "sip:echo@127.0.0.1:$PORT" --duration 1 --auth-user alice --auth-password 's3cr3t'
  [ $DIAL_RC -eq 0 ] || fail "authenticated dial exited $DIAL_RC"
  dial "sip:echo@127.0.0.1:$PORT" --duration 1 --auth-user alice --auth-password wrong
  [ $DIAL_RC -eq 1 ] || fail "wrong password: dial exited $DIAL_RC, want 1"
  expect_log dial.log "ended: 403"
  dial "sip:echo@127.0.0.1:$PORT" --duration 1
  [ $DIAL_RC -eq 1 ] || fail "no credentials: dial exited $DIAL_RC, want 1"
  expect_log dial.log "ended: 401"
  stop_serve ;;
hold-both-ways)
  start_serve
  dial "sip:echo@127.0.0.1:$PORT" --duration 3 --hold-after 1 --hold-for 1
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  expect_log dial.log "remote recvonly, local sendonly"
  expect_log dial.log "hold answered 200"
  expect_log dial.log "resume answered 200"
  expect_log serve.log "call held by remote \(sendonly\)"
  expect_log serve.log "call resumed by remote \(sendrecv\)"
  stop_serve ;;
info-dtmf)
  start_serve
  dial "sip:echo@127.0.0.1:$PORT" --duration 1 --dtmf '19*#'
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  for d in 1 9 '\*' '#'; do expect_log serve.log "DTMF digit $d"; done
  stop_serve ;;
refer-declined)
  start_serve
  dial "sip:echo@127.0.0.1:$PORT" --duration 1 --refer "sip:carol@127.0.0.1"
  [ $DIAL_RC -eq 3 ] || fail "declined transfer: dial exited $DIAL_RC, want 3"
  expect_log dial.log "transfer result: 603"
  stop_serve ;;
shutdown-bye)
  start_serve
  timeout 30 "$SB" dial "sip:echo@127.0.0.1:$PORT" --duration 20 --rtp-ports 15000-15998 >"$WORK/dial.log" 2>&1 &
  DPID=$!
  for _ in $(seq 1 100); do grep -q "call answered" "$WORK/dial.log" && break; sleep 0.05; done
  expect_log dial.log "call answered"
  stop_serve
  wait $DPID
  rc=$?
  [ $rc -eq 0 ] || fail "dial exited $rc"
  expect_log dial.log "ended: 200 remote bye"
  expect_log serve.log "shutting down: ending 1 calls" ;;
cancel-ringing)
  start_serve --answer-delay 20000
  dial "sip:ringer@127.0.0.1:$PORT" --ring-timeout 1
  [ $DIAL_RC -eq 1 ] || fail "unanswered dial exited $DIAL_RC, want 1"
  expect_log dial.log "progress: 180"
  expect_log dial.log "ended: 487"
  expect_log serve.log "ended: 487 cancelled"
  stop_serve ;;
sipp-cancel-ringing)
  start_serve --answer-delay 20000
  timeout 30 sipp -sf "$(dirname "$0")/uac_cancel.xml" -i 127.0.0.1 -p 0 -m 3 -timeout 20s \
    -timeout_error -nostdin "127.0.0.1:$PORT" >"$WORK/dial.log" 2>&1 || fail "sipp CANCEL scenario failed"
  expect_log serve.log "ended: 487 cancelled"
  stop_serve ;;
dial-say)
  # dial --say: espeak-ng speaks into the call (a player in the call's own room), then BYE
  # once the speech is over; the callee (SIPp) receives about that many RTP packets.
  start_sipp_uas ../sip/scenarios/uas-answer.xml
  dial "sip:callee@127.0.0.1:$SIPP_PORT" --say "Hello, this is switchboard calling." --duration 20
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  expect_log dial.log 'saying "Hello, this is switchboard calling." \([0-9]+ ms\)'
  expect_log dial.log "ended: 200 bye"
  ms=$(sed -nE 's/.*saying .* \(([0-9]+) ms\).*/\1/p' "$WORK/dial.log")
  sent=$(sed -nE 's/.*media: received [0-9]+ RTP packets, sent ([0-9]+),.*/\1/p' "$WORK/dial.log")
  [ -n "$ms" ] && [ "$ms" -gt 1000 ] || fail "speech of $ms ms"
  [ -n "$sent" ] && [ "$sent" -ge $((ms / 20 * 9 / 10)) ] ||
    fail "sent $sent RTP packets for $ms ms of speech"
  # hung up after the speech, not after --duration
  grep -q "hanging up in [0-9.]* s" "$WORK/dial.log" || fail "no hang-up time"
  wait_sipp ;;
refer-notify-200|refer-notify-486)
  # SIPp is the callee; it accepts our REFER and reports the outcome by NOTIFY sipfrag.
  if [ "$CASE" = refer-notify-200 ]; then final="200 OK"; want=0; else final="486 Busy Here"; want=3; fi
  start_sipp_uas uas_refer.xml -key final "$final"
  dial "sip:callee@127.0.0.1:$SIPP_PORT" --duration 2 --refer "sip:transfer-target@127.0.0.1"
  [ $DIAL_RC -eq $want ] || fail "dial exited $DIAL_RC, want $want"
  expect_log dial.log "transfer result: ${final%% *}"
  wait_sipp ;;
digest-invite-and-bye)
  # The callee challenges the INVITE (401) and the BYE (401); both are answered once.
  start_sipp_uas uas_auth.xml
  dial "sip:callee@127.0.0.1:$SIPP_PORT" --duration 1 --auth-user bob --auth-password pa55
  [ $DIAL_RC -eq 0 ] || fail "dial exited $DIAL_RC"
  expect_log dial.log "ended: 200 bye"
  wait_sipp ;;
sipp-update-legacy-hold)
  start_serve
  timeout 30 sipp -sf "$(dirname "$0")/uac_update_hold.xml" -i 127.0.0.1 -p 0 -m 1 -timeout 20s \
    -timeout_error -nostdin -trace_logs -log_file "$WORK/sipp.log" "127.0.0.1:$PORT" >"$WORK/dial.log" 2>&1 \
    || fail "sipp scenario failed: $(cat "$WORK/sipp.log" 2>/dev/null)"
  expect_log sipp.log "legacy hold answered a=(recvonly|inactive)"
  # the o= version must grow with the new answer
  v1=$(sed -nE 's/.*o= version ([0-9]+) then ([0-9]+).*/\1/p' "$WORK/sipp.log")
  v2=$(sed -nE 's/.*o= version ([0-9]+) then ([0-9]+).*/\2/p' "$WORK/sipp.log")
  [ -n "$v1" ] && [ -n "$v2" ] && [ "$v2" -gt "$v1" ] || fail "o= version did not grow ($v1 -> $v2)"
  expect_log serve.log "call held by remote"
  expect_log serve.log "call resumed by remote"
  stop_serve ;;
sipp-digest-client)
  # SIPp knows only MD5 and reads only the first challenge: offer MD5 first.
  start_serve --auth-user sippuser --auth-password sippsecret --auth-md5-first 1
  timeout 30 sipp -sf "$(dirname "$0")/uac_auth.xml" -i 127.0.0.1 -p 0 -m 1 -timeout 20s \
    -timeout_error -nostdin -au sippuser -ap sippsecret -auth_uri "echo@127.0.0.1:$PORT" "127.0.0.1:$PORT" >"$WORK/dial.log" 2>&1 \
    || fail "SIPp could not authenticate"
  expect_log serve.log "ended: 200 remote bye"
  stop_serve ;;
sipp-no-ack)
  # T1 = 100 ms: 200 retransmitted at 0.1, 0.3, 0.7 ... s, BYE at 64*T1 = 6.4 s.
  start_serve
  timeout 30 sipp -sf "$(dirname "$0")/uac_noack.xml" -i 127.0.0.1 -p 0 -m 1 -timeout 20s \
    -timeout_error -nostdin "127.0.0.1:$PORT" >"$WORK/dial.log" 2>&1 \
    || fail "sipp no-ACK scenario failed"
  expect_log serve.log "no ACK for 2xx, ending call"
  expect_log serve.log "ended: 408 no ACK"
  stop_serve ;;
register)
  # SIPp is the registrar; switchboard keeps a registration there and removes it on exit.
  start_sipp_uas uas_register.xml
  start_serve --register "sip:alice@127.0.0.1:$SIPP_PORT" --auth-user alice --auth-password s3cr3t \
    --register-expires 2
  for _ in $(seq 1 80); do
    [ "$(grep -c 'registration: 200' "$WORK/serve.log")" -ge 3 ] && break
    sleep 0.05
  done
  [ "$(grep -c 'registration: 200' "$WORK/serve.log")" -ge 3 ] || { kill "$SIPP_PID"; fail "no refreshed registration"; }
  stop_serve
  for _ in $(seq 1 100); do kill -0 "$SIPP_PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$SIPP_PID" 2>/dev/null; then kill "$SIPP_PID"; fail "registrar never got the removal"; fi
  grep -q "Failed call" "$WORK/sipp-err.log" 2>/dev/null && fail "sipp registrar: $(cat "$WORK/sipp-err.log")"
  ;;
register-trunk)
  # an outbound trunk declared in switchboard.yaml registers at its provider (SIPp as the
  # registrar) with the trunk's credentials, refreshes, and removes it on exit
  start_sipp_uas uas_register.xml
  cat >"$WORK/switchboard.yaml" <<YAML
sip:
  outbound_trunks:
    - id: ST_reg
      name: provider
      address: 127.0.0.1:$SIPP_PORT
      numbers: ["+15550100"]
      auth_username: alice
      auth_password: s3cr3t
registrations:
  - trunk: ST_reg
    expires: 2
YAML
  start_serve --config "$WORK/switchboard.yaml"
  for _ in $(seq 1 80); do
    [ "$(grep -c 'registration of trunk ST_reg: 200' "$WORK/serve.log")" -ge 3 ] && break
    sleep 0.05
  done
  [ "$(grep -c 'registration of trunk ST_reg: 200' "$WORK/serve.log")" -ge 3 ] ||
    { kill "$SIPP_PID"; fail "no refreshed trunk registration"; }
  expect_log serve.log "trunk ST_reg registers as sip:alice@127.0.0.1:$SIPP_PORT"
  stop_serve
  for _ in $(seq 1 100); do kill -0 "$SIPP_PID" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$SIPP_PID" 2>/dev/null; then kill "$SIPP_PID"; fail "registrar never got the removal"; fi
  ;;
config-file)
  # switchboard.yaml with LiveKit-style nested keys: it loads, flags win over it, its API keys
  # sign tokens, and a bad file stops start-up with the file and line in the message.
  cat >"$WORK/switchboard.yaml" <<'YAML'
keys:
  APIfile: file-secret
  APIother: other-secret
webhook:
  api_key: APIfile
  urls: [http://127.0.0.1:9/hook]
logging:
  level: info
sip_port: 5999              # overridden by --sip-listen 127.0.0.1:0
rtp_port: "16000-16998"     # overridden by --rtp-ports
media_timeout: 20s
media_timeout_initial: 1m
tls:
  port: 0
store:
  type: sqlite
future_key: 1
YAML
  start_serve --config "$WORK/switchboard.yaml"
  line=$(grep "switchboard ready" "$WORK/serve.log")
  echo "$line" | grep -q " rtp 14000-14998 " || fail "--rtp-ports did not override the file: $line"
  [ "$PORT" != 5999 ] || fail "--sip-listen did not override sip_port"
  expect_log serve.log "switchboard.yaml:17: future_key: unknown key, ignored"
  HTTP=$(echo "$line" | sed -nE 's/.* http (127\.0\.0\.1:[0-9]+) .*/\1/p')
  [ -n "$HTTP" ] || fail "no HTTP address in the ready line"
  good=$("$SB" token --config "$WORK/switchboard.yaml" --api-key APIother --grant sip.admin) ||
    fail "token with a key of the file failed"
  dev=$("$SB" token --grant sip.admin)
  st=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $good" -d '{}' "http://$HTTP/twirp/livekit.SIP/ListSIPInboundTrunk")
  [ "$st" != 401 ] && [ "$st" != 000 ] || fail "a key of the file was refused (HTTP $st)"
  st=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $dev" -d '{}' "http://$HTTP/twirp/livekit.SIP/ListSIPInboundTrunk")
  [ "$st" = 401 ] || fail "the dev key still works next to keys: (HTTP $st)"
  stop_serve
  # wrong types: a port that is not a number, then broken YAML
  printf 'keys:\n  APIfile: s\ntls:\n  port: not-a-port\n' >"$WORK/bad.yaml"
  timeout 10 "$SB" serve --config "$WORK/bad.yaml" --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --data-dir "$WORK/data" >"$WORK/dial.log" 2>&1
  rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "a bad file: serve exited $rc"
  expect_log dial.log "bad.yaml:4: tls.port: wants a port number"
  printf 'sip_listen: 127.0.0.1:5060\nkeys:\n  a: b\n c: d\n' >"$WORK/bad.yaml"
  timeout 10 "$SB" serve --config "$WORK/bad.yaml" --sip-listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --data-dir "$WORK/data" >"$WORK/dial.log" 2>&1
  rc=$?
  [ $rc -ne 0 ] && [ $rc -ne 124 ] || fail "broken YAML: serve exited $rc"
  expect_log dial.log "bad.yaml:4:[0-9]+: YAML syntax" ;;
*)
  echo "unknown case $CASE"; exit 2 ;;
esac
echo "PASS: $CASE"
