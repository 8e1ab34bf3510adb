// livekit.SIP calls driven by the real npm livekit-server-sdk (SipClient, RoomServiceClient)
// against a running switchboard (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET), with SIPp
// (Debian sip-tester) as the far end on loopback:
//   createSipParticipant through an outbound trunk, waited until answered (SIPp answers), the
//   participant's attributes and sip.callStatus, then removeParticipant -> BYE;
//   a busy callee (SIPp 486) -> SipCallError with sipStatusCode 486 (resource_exhausted);
//   no answer within ringingTimeout -> CANCEL and `canceled`; without waiting the RPC answers
//   at once and the participant is there, dialing or ringing;
//   transferSipParticipant answered by NOTIFY 200 (success, then our BYE) and by NOTIFY 486
//   (SipCallError 486; the call stays up); an unknown participant -> not_found.
// Every SIPp started here is ended by its PID; run by run.sh.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';

import http from 'node:http';

import {
  AccessToken,
  RoomServiceClient,
  SipCallError,
  SipClient,
  TwirpError,
  WebhookReceiver,
} from 'livekit-server-sdk';

if (!globalThis.crypto) globalThis.crypto = webcrypto;

const url = process.env.LIVEKIT_URL;
const key = process.env.LIVEKIT_API_KEY;
const secret = process.env.LIVEKIT_API_SECRET;
if (!url || !key || !secret) {
  console.error('set LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET');
  process.exit(2);
}
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCEN = path.join(HERE, '..', 'sip', 'scenarios');
const E2E = path.join(HERE, '..', 'e2e');
const sip = new SipClient(url, key, secret);
const rooms = new RoomServiceClient(url, key, secret);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// SIPp writes its error logs into its working directory: a private one, removed at the end
const SIPP_DIR = mkdtempSync(path.join(os.tmpdir(), 'sb-sipp-'));

// A UDP port free right now (the kernel picks it; SIPp binds it next).
async function freePort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

const sipps = new Set();
// SIPp as a UAS on a free port for one call; resolves its exit code via .done.
async function uas(scenario, ...extra) {
  const port = await freePort();
  const args = ['-sf', scenario, '-i', '127.0.0.1', '-p', String(port), '-m', '1',
    '-timeout', '40s', '-timeout_error', '-nostdin', '-trace_err', ...extra];
  const p = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: SIPP_DIR });
  sipps.add(p);
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => p.on('exit', (code) => { sipps.delete(p); resolve(code); }));
  await sleep(300); // SIPp binds its port
  return { port, done, stderr: () => err, proc: p };
}

async function exits(sipp, want = 0, ms = 15000) {
  const code = await Promise.race([sipp.done, sleep(ms).then(() => 'timeout')]);
  assert.equal(code, want, `SIPp exit ${code} (want ${want}): ${sipp.stderr()}`);
}

async function rejects(promise, code, status) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected a Twirp ${code} error, the call succeeded`);
  assert.ok(err instanceof TwirpError, `not a TwirpError: ${err?.stack ?? err}`);
  assert.equal(err.code, code, `code of: ${err.message}`);
  assert.equal(err.status, status, `status of: ${err.message}`);
  return err;
}

async function participant(room, identity) {
  const list = await rooms.listParticipants(room);
  return list.find((p) => p.identity === identity);
}

async function waitGone(room, identity, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!(await participant(room, identity))) return;
    await sleep(100);
  }
  assert.fail(`${identity} still in ${room} after ${ms} ms`);
}

async function trunkTo(port) {
  const t = await sip.createSipOutboundTrunk(`sipp-${port}`, `127.0.0.1:${port}`, ['+15550100']);
  return t.sipTrunkId;
}

// Every webhook switchboard posts is checked with the SDK's WebhookReceiver (signature,
// sha256 of the body) and kept.
const hooks = [];
const hookErrors = [];
const receiver = new WebhookReceiver(key, secret);
const hookServer = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', async () => {
    try {
      if (req.headers['content-type'] !== 'application/webhook+json')
        throw new Error(`Content-Type ${req.headers['content-type']}`);
      await receiver.receive(body, req.headers.authorization);
      hooks.push(JSON.parse(body));
    } catch (e) {
      hookErrors.push(String(e));
    }
    res.writeHead(200);
    res.end();
  });
});
await new Promise((r) => hookServer.listen(Number(process.env.WEBHOOK_PORT), '127.0.0.1', r));

async function hookSeen(pred, what, ms = 5000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const h = hooks.find(pred);
    if (h) return h;
    await sleep(100);
  }
  assert.fail(`no webhook ${what}; got ${hooks.map((h) => h.event).join(', ')}`);
}

const steps = [];
const step = (name, fn) => steps.push([name, fn]);

step('createSipParticipant waits until answered; attributes; removeParticipant sends BYE', async () => {
  const sipp = await uas(path.join(SCEN, 'uas-answer.xml'));
  const trunk = await trunkTo(sipp.port);
  const info = await sip.createSipParticipant(trunk, '+15551234', 'out-room', {
    participantIdentity: 'callee',
    participantName: 'The Callee',
    participantAttributes: { team: 'blue' },
    waitUntilAnswered: true,
    dtmf: '12',
  });
  assert.equal(info.participantIdentity, 'callee');
  assert.equal(info.roomName, 'out-room');
  assert.match(info.sipCallId, /^SCL_/);
  assert.match(info.participantId, /^PA_/);
  const p = await participant('out-room', 'callee');
  assert.ok(p, 'the participant is in the room');
  assert.equal(p.name, 'The Callee');
  assert.equal(p.attributes['sip.callStatus'], 'active');
  assert.equal(p.attributes['sip.callID'], info.sipCallId);
  assert.equal(p.attributes['sip.phoneNumber'], '+15551234');
  assert.equal(p.attributes['sip.trunkPhoneNumber'], '+15550100');
  assert.equal(p.attributes['sip.trunkID'], trunk);
  assert.equal(p.attributes.team, 'blue');
  await rooms.removeParticipant('out-room', 'callee');
  await exits(sipp);
  await waitGone('out-room', 'callee');
  await sip.deleteSipTrunk(trunk);
});

step('a busy callee: SipCallError 486 resource_exhausted, the participant leaves', async () => {
  const sipp = await uas(path.join(SCEN, 'uas-busy.xml'));
  const trunk = await trunkTo(sipp.port);
  const err = await rejects(
    sip.createSipParticipant(trunk, '+15551234', 'busy-room', {
      participantIdentity: 'busy',
      waitUntilAnswered: true,
    }),
    'resource_exhausted',
    429,
  );
  assert.ok(err instanceof SipCallError, `not a SipCallError: ${err.name}`);
  assert.equal(err.sipStatusCode, 486);
  assert.equal(err.sipStatus, 'Busy Here');
  await exits(sipp);
  await waitGone('busy-room', 'busy');
  await sip.deleteSipTrunk(trunk);
});

step('no answer within ringingTimeout: CANCEL and canceled', async () => {
  const sipp = await uas(path.join(SCEN, 'uas-noanswer.xml'));
  const trunk = await trunkTo(sipp.port);
  const t0 = Date.now();
  const err = await rejects(
    sip.createSipParticipant(trunk, '+15551234', 'ring-room', {
      participantIdentity: 'ringer',
      waitUntilAnswered: true,
      ringingTimeout: 2,
    }),
    'canceled',
    408,
  );
  assert.ok(!(err instanceof SipCallError) || err.sipStatusCode === undefined, 'no SIP meta');
  const took = Date.now() - t0;
  assert.ok(took >= 1800 && took < 6000, `gave up after ${took} ms, want about 2 s`);
  await exits(sipp);
  await waitGone('ring-room', 'ringer');
  await sip.deleteSipTrunk(trunk);
});

step('without waiting: the RPC answers at once, the participant is dialing or ringing', async () => {
  const sipp = await uas(path.join(SCEN, 'uas-noanswer.xml'));
  const trunk = await trunkTo(sipp.port);
  const t0 = Date.now();
  const info = await sip.createSipParticipant(trunk, '+15559999', 'nowait-room', {
    participantIdentity: 'nowait',
    playDialtone: true,
  });
  assert.ok(Date.now() - t0 < 1500, 'answered at once');
  assert.equal(info.participantIdentity, 'nowait');
  await sleep(300);
  const p = await participant('nowait-room', 'nowait');
  assert.ok(p, 'in the room while it rings');
  assert.match(p.attributes['sip.callStatus'], /^(dialing|ringing)$/);
  await rooms.removeParticipant('nowait-room', 'nowait'); // CANCEL while ringing
  await exits(sipp);
  await sip.deleteSipTrunk(trunk);
});

async function transferCase(final) {
  const sipp = await uas(path.join(E2E, 'uas_refer.xml'), '-key', 'final', final);
  const trunk = await trunkTo(sipp.port);
  const room = `xfer-${final.slice(0, 3)}`;
  await sip.createSipParticipant(trunk, 'callee', room, {
    participantIdentity: 'xfer',
    waitUntilAnswered: true,
  });
  return { sipp, trunk, room };
}

step('transferSipParticipant: NOTIFY 200 is success, then our BYE', async () => {
  const { sipp, trunk, room } = await transferCase('200 OK');
  await sip.transferSipParticipant(room, 'xfer', 'sip:transfer-target@127.0.0.1');
  await exits(sipp);
  await waitGone(room, 'xfer');
  await sip.deleteSipTrunk(trunk);
});

step('transferSipParticipant: NOTIFY 486 is SipCallError 486, the call stays', async () => {
  const { sipp, trunk, room } = await transferCase('486 Busy Here');
  const err = await rejects(
    sip.transferSipParticipant(room, 'xfer', '<sip:transfer-target@127.0.0.1>'),
    'resource_exhausted',
    429,
  );
  assert.ok(err instanceof SipCallError, `not a SipCallError: ${err.name}`);
  assert.equal(err.sipStatusCode, 486);
  const p = await participant(room, 'xfer');
  assert.ok(p, 'still in the room after a failed transfer');
  assert.equal(p.attributes['sip.callStatus'], 'active');
  await rooms.removeParticipant(room, 'xfer');
  await exits(sipp);
  await sip.deleteSipTrunk(trunk);
});

// switchboard.Calls (no SDK method): a plain Twirp POST with a roomAdmin token.
async function callsRpc(method, room, body) {
  const at = new AccessToken(key, secret, { identity: 'test' });
  at.addGrant({ roomAdmin: true, room });
  const res = await fetch(`${url}/twirp/switchboard.Calls/${method}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await at.toJwt()}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

for (const [code, twirp, http] of [
  ['403 Forbidden', 'permission_denied', 403],
  ['405 Method Not Allowed', 'invalid_argument', 400],
  ['501 Not Implemented', 'failed_precondition', 412],
]) {
  step(`transferSipParticipant: REFER rejected with ${code}`, async () => {
    // SIPp checks response codes when it loads a scenario: a copy per code
    const scen = path.join(os.tmpdir(), `sb-refer-reject-${code.slice(0, 3)}-${process.pid}.xml`);
    writeFileSync(scen, readFileSync(path.join(E2E, 'uas_refer_reject.xml'), 'utf8')
      .replace('SIP/2.0 403 Forbidden', `SIP/2.0 ${code}`));
    const sipp = await uas(scen);
    unlinkSync(scen);
    const trunk = await trunkTo(sipp.port);
    const room = `reject-${code.slice(0, 3)}`;
    await sip.createSipParticipant(trunk, 'callee', room, { participantIdentity: 'x', waitUntilAnswered: true });
    const err = await rejects(sip.transferSipParticipant(room, 'x', 'sip:transfer-target@127.0.0.1'),
      twirp, http);
    assert.ok(err instanceof SipCallError, `not a SipCallError: ${err.name}`);
    assert.equal(err.sipStatusCode, Number(code.slice(0, 3)));
    await rooms.removeParticipant(room, 'x');
    await exits(sipp);
    await sip.deleteSipTrunk(trunk);
  });
}

step('transferSipParticipant: no final NOTIFY within ringingTimeout is canceled', async () => {
  const sipp = await uas(path.join(E2E, 'uas_refer_silent.xml'));
  const trunk = await trunkTo(sipp.port);
  const room = 'silent';
  await sip.createSipParticipant(trunk, 'callee', room, { participantIdentity: 'x', waitUntilAnswered: true });
  const t0 = Date.now();
  await rejects(sip.transferSipParticipant(room, 'x', 'sip:transfer-target@127.0.0.1',
    { ringingTimeout: 2 }), 'canceled', 408);
  const took = Date.now() - t0;
  assert.ok(took >= 1800 && took < 6000, `gave up after ${took} ms, want about 2 s`);
  const p = await participant(room, 'x');
  assert.ok(p, 'the call stays after a transfer that never completed');
  await rooms.removeParticipant(room, 'x');
  await exits(sipp);
  await sip.deleteSipTrunk(trunk);
});

step('AttendedTransfer: REFER with Replaces naming the second call, NOTIFY 200', async () => {
  const log = path.join(os.tmpdir(), `sb-attended-${process.pid}.log`);
  const a = await uas(path.join(E2E, 'uas_refer_replaces.xml'), '-key', 'final', '200 OK',
    '-trace_logs', '-log_file', log);
  const c = await uas(path.join(SCEN, 'uas-answer.xml'));
  const ta = await trunkTo(a.port);
  const tc = await trunkTo(c.port);
  const room = 'attended';
  await sip.createSipParticipant(ta, 'alice', room, { participantIdentity: 'a', waitUntilAnswered: true });
  await sip.createSipParticipant(tc, 'carol', room, { participantIdentity: 'c', waitUntilAnswered: true });
  const stats = await callsRpc('GetCallStats', room, { room, identity: 'c' });
  assert.equal(stats.status, 200, JSON.stringify(stats.body));
  const bad = await callsRpc('AttendedTransfer', room, { room, identity: 'a', target_identity: 'a' });
  assert.equal(bad.status, 400, JSON.stringify(bad.body));
  const r = await callsRpc('AttendedTransfer', room, { room, identity: 'a', target_identity: 'c' });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await exits(a); // our BYE on the first call after the NOTIFY 200
  const referTo = readFileSync(log, 'utf8');
  const escaped = encodeURIComponent(stats.body.sip_call_id).replace(/[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`);
  assert.ok(referTo.includes(`Replaces=${escaped}%3Bto-tag%3D`),
    `Refer-To names call ${stats.body.sip_call_id}: ${referTo}`);
  unlinkSync(log);
  await rooms.removeParticipant(room, 'c'); // carol would hang up herself once replaced
  await exits(c);
  await sip.deleteSipTrunk(ta);
  await sip.deleteSipTrunk(tc);
});

step('webhooks: every one verified by WebhookReceiver; transfers reported', async () => {
  assert.deepEqual(hookErrors, []);
  await hookSeen((h) => h.event === 'participant_joined' && h.participant?.identity === 'callee',
    'participant_joined of the outbound call');
  const ok = await hookSeen((h) => h.event === 'x-switchboard-transfer' && h.switchboard?.success,
    'x-switchboard-transfer with success');
  assert.equal(ok.switchboard.sipStatusCode, 200);
  assert.equal(ok.switchboard.transferTo, 'sip:transfer-target@127.0.0.1');
  const busy = await hookSeen((h) => h.event === 'x-switchboard-transfer' &&
    h.switchboard?.sipStatusCode === 486, 'x-switchboard-transfer with 486');
  assert.equal(busy.switchboard.success, false);
  assert.equal(busy.room?.name, 'xfer-486');
  assert.equal(busy.participant?.identity, 'xfer');
});

step('bad requests: unknown participant, unknown trunk, missing fields', async () => {
  await rejects(sip.transferSipParticipant('nowhere', 'nobody', 'sip:x@127.0.0.1'), 'not_found', 404);
  await rejects(
    sip.createSipParticipant('ST_unknownunkno', '+1555', 'r', { participantIdentity: 'x' }),
    'not_found',
    404,
  );
  await rejects(sip.createSipParticipant('ST_x', '', 'r'), 'invalid_argument', 400);
  await rejects(sip.createSipParticipant('ST_x', 'a@b', 'r'), 'invalid_argument', 400);
  await rejects(sip.transferSipParticipant('r', 'x', 'http://nope'), 'invalid_argument', 400);
});

let n = 0;
let failed = false;
for (const [name, fn] of steps) {
  n++;
  try {
    await fn();
    console.log(`ok ${n} - ${name}`);
  } catch (e) {
    console.log(`not ok ${n} - ${name}`);
    console.log(String(e?.stack ?? e).replace(/^/gm, '  # '));
    failed = true;
    break;
  }
}
for (const p of sipps) p.kill('SIGKILL');
hookServer.close();
if (failed) {
  console.log(`SIPp logs kept in ${SIPP_DIR}`);
  process.exit(1);
}
rmSync(SIPP_DIR, { recursive: true, force: true });
console.log(`all ${n} steps passed`);
