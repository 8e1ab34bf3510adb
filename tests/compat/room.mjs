// livekit.RoomService driven by the real npm livekit-server-sdk (RoomServiceClient) against a
// running switchboard (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET, SB_SIP_PORT), with a
// real SIP call from SIPp (dev routing: sip:room-NAME@ joins room NAME):
//   createRoom / listRooms / updateRoomMetadata; the SIP caller as ParticipantInfo (kind SIP,
//   state ACTIVE, sip.* attributes, an audio track); getParticipant; updateParticipant
//   (metadata, name, attributes); mutePublishedTrack; updateSubscriptions; sendData;
//   removeParticipant (SIPp receives BYE); deleteRoom; not_found for unknown participants
//   (an unknown room lists no participants).
// Run by run.sh; every SIPp started here is ended by its PID.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  DataPacket_Kind,
  ParticipantInfo_Kind,
  ParticipantInfo_State,
  TrackType,
} from '@livekit/protocol';
import { RoomServiceClient, TwirpError } from 'livekit-server-sdk';

if (!globalThis.crypto) globalThis.crypto = webcrypto;

const url = process.env.LIVEKIT_URL;
const key = process.env.LIVEKIT_API_KEY;
const secret = process.env.LIVEKIT_API_SECRET;
const sipPort = process.env.SB_SIP_PORT;
if (!url || !key || !secret || !sipPort) {
  console.error('set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET and SB_SIP_PORT');
  process.exit(2);
}
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCEN = path.join(HERE, '..', 'sip', 'scenarios');
const rooms = new RoomServiceClient(url, key, secret);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SIPP_DIR = mkdtempSync(path.join(os.tmpdir(), 'sb-sipp-'));

// n UDP ports free right now, all different (held until all are picked).
async function freePorts(n) {
  const socks = [];
  for (let i = 0; i < n; i++) {
    const s = dgram.createSocket('udp4');
    await new Promise((r) => s.bind(0, '127.0.0.1', r));
    socks.push(s);
  }
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

// SIPp calls sip:room-NAME@switchboard and waits for our BYE.
let sipp;
async function callInto(room) {
  const [sp, mp] = await freePorts(2);
  const args = ['-sf', path.join(SCEN, 'uac-room-wait-bye.xml'), '-s', `room-${room}`,
    '-i', '127.0.0.1', '-p', String(sp), '-mp', String(mp),
    '-m', '1', '-nostdin', '-timeout', '40', '-timeout_error', '-trace_err',
    `127.0.0.1:${sipPort}`];
  const p = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: SIPP_DIR });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => p.on('exit', (code) => resolve(code)));
  sipp = { p, done, stderr: () => err };
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
}

const steps = [];
const step = (name, fn) => steps.push([name, fn]);
const s = {};

step('createRoom with options, listRooms, updateRoomMetadata', async () => {
  const r = await rooms.createRoom({ name: 'compat', emptyTimeout: 60, maxParticipants: 5, metadata: 'm1' });
  assert.equal(r.name, 'compat');
  assert.match(r.sid, /^RM_/);
  assert.equal(r.metadata, 'm1');
  assert.equal(r.emptyTimeout, 60);
  assert.equal(r.maxParticipants, 5);
  await rooms.createRoom({ name: 'other' });
  const all = await rooms.listRooms();
  assert.deepEqual(all.map((x) => x.name).sort(), ['compat', 'other']);
  const one = await rooms.listRooms(['compat']);
  assert.deepEqual(one.map((x) => x.name), ['compat']);
  const u = await rooms.updateRoomMetadata('compat', 'm2');
  assert.equal(u.metadata, 'm2');
  await rooms.deleteRoom('other');
});

step('a SIP call in the room is a participant with its audio track', async () => {
  await callInto('compat');
  const end = Date.now() + 10000;
  let list = [];
  while (Date.now() < end) {
    list = await rooms.listParticipants('compat');
    if (list.length && list[0].state === ParticipantInfo_State.ACTIVE) break;
    await sleep(100);
  }
  assert.equal(list.length, 1, `participants: ${JSON.stringify(list)}`);
  const p = list[0];
  assert.equal(p.kind, ParticipantInfo_Kind.SIP);
  assert.equal(p.state, ParticipantInfo_State.ACTIVE);
  assert.match(p.sid, /^PA_/);
  assert.match(p.attributes['sip.callID'], /^SCL_/);
  assert.equal(p.attributes['sip.phoneNumber'], '+15550100');
  assert.equal(p.tracks.length, 1);
  assert.equal(p.tracks[0].type, TrackType.AUDIO);
  assert.match(p.tracks[0].sid, /^TR_/);
  s.identity = p.identity;
  s.track = p.tracks[0].sid;
  const g = await rooms.getParticipant('compat', p.identity);
  assert.equal(g.sid, p.sid);
});

step('updateParticipant: metadata, name, attributes', async () => {
  const p = await rooms.updateParticipant('compat', s.identity, {
    metadata: 'pm', name: 'Caller', attributes: { team: 'blue' },
  });
  assert.equal(p.metadata, 'pm');
  assert.equal(p.name, 'Caller');
  assert.equal(p.attributes.team, 'blue');
  assert.match(p.attributes['sip.callID'], /^SCL_/, 'the sip.* attributes stay');
  const g = await rooms.getParticipant('compat', s.identity);
  assert.equal(g.attributes.team, 'blue');
});

step('mutePublishedTrack and back', async () => {
  const t = await rooms.mutePublishedTrack('compat', s.identity, s.track, true);
  assert.equal(t.sid, s.track);
  assert.equal(t.muted, true);
  let g = await rooms.getParticipant('compat', s.identity);
  assert.equal(g.tracks[0].muted, true);
  await rooms.mutePublishedTrack('compat', s.identity, s.track, false);
  g = await rooms.getParticipant('compat', s.identity);
  assert.equal(g.tracks[0].muted, false);
});

step('updateSubscriptions and sendData', async () => {
  await rooms.updateSubscriptions('compat', s.identity, [s.track], false);
  await rooms.updateSubscriptions('compat', s.identity, [s.track], true);
  await rooms.sendData('compat', new TextEncoder().encode('hello'), DataPacket_Kind.RELIABLE,
    { topic: 'greeting' });
});

step('unknown room or participant: not_found', async () => {
  await rejects(rooms.getParticipant('compat', 'nobody'), 'not_found', 404);
  assert.deepEqual(await rooms.listParticipants('nowhere'), []);
  await rejects(rooms.removeParticipant('compat', 'nobody'), 'not_found', 404);
});

step('removeParticipant hangs up the call (BYE), deleteRoom', async () => {
  await rooms.removeParticipant('compat', s.identity);
  const code = await Promise.race([sipp.done, sleep(15000).then(() => 'timeout')]);
  assert.equal(code, 0, `SIPp exit ${code}: ${sipp.stderr()}`);
  await rooms.deleteRoom('compat');
  const all = await rooms.listRooms();
  assert.deepEqual(all.map((x) => x.name), []);
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
if (sipp) sipp.p.kill('SIGKILL');
if (failed) {
  console.log(`SIPp logs kept in ${SIPP_DIR}`);
  process.exit(1);
}
rmSync(SIPP_DIR, { recursive: true, force: true });
console.log(`all ${n} steps passed`);
