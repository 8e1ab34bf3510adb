// A Twilio Media Streams agent against switchboard's GET /twilio, shaped like Pipecat's
// TwilioFrameSerializer (JSON text frames, base64 μ-law 8 kHz, media/mark/clear), on npm `ws`.
//
//   node twilio.mjs call|dtmf|refuse
//
// env: SB_WS (ws://127.0.0.1:PORT), SB_ROOM, SB_TOKEN (roomJoin for SB_ROOM), SB_TOKEN_OTHER
// (roomJoin for another room), SB_FROM / SB_TO (the caller's From user and To user).
// call:   connected/start shapes, media continuity, the caller's 1 kHz heard, 440 Hz sent
//         (tone_peer measures it on the caller's side), mark timing, clear, bad frames
//         ignored, then close (run.sh checks that the caller got a BYE).
// dtmf:   the caller's RFC 4733 keys 1, 9, # arrive as dtmf, then stop and a close from
//         switchboard when the caller hangs up.
// refuse: no token, a token for another room, a room without a call, an unknown path.
// Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failed check.
import { createHmac } from 'node:crypto';

import WebSocket from 'ws';

import { fail, check, ulawDecode, ulawEncode, goertzel, sleep } from './lib.mjs';

const BASE = process.env.SB_WS;
const ROOM = process.env.SB_ROOM;
const TOKEN = process.env.SB_TOKEN;
const mode = process.argv[2];


// ---- G.711 μ-law and Goertzel ----
let phase = 0;
function tone(hz, ms, amp = 8000) {
	const n = (8000 * ms) / 1000, b = Buffer.alloc(n);
	for (let i = 0; i < n; i++, phase++) b[i] = ulawEncode(Math.round(amp * Math.sin((2 * Math.PI * hz * phase) / 8000)));
	return b;
}

// ---- the client ----
class Agent {
	constructor(url, headers) {
		this.msgs = [];
		this.waiters = [];
		this.closed = null;
		this.ws = new WebSocket(url, { headers });
		this.ws.on('message', (data, binary) => {
			if (binary) return;
			const m = JSON.parse(data.toString());
			m._t = performance.now();
			this.msgs.push(m);
			this.poke();
		});
		this.ws.on('close', (code, reason) => {
			this.closed = { code, reason: reason.toString(), t: performance.now() };
			this.poke();
		});
		this.ws.on('error', (e) => {
			this.error = e.message;
			this.poke();
		});
	}
	poke() {
		for (const w of this.waiters.splice(0)) w();
	}
	// resolves to the first message (after index from) matching pred, or null on timeout/close
	async next(pred, timeoutMs, from = 0) {
		const end = performance.now() + timeoutMs;
		for (;;) {
			const m = this.msgs.slice(from).find(pred);
			if (m) return m;
			if (this.closed || performance.now() >= end) return null;
			await new Promise((r) => {
				this.waiters.push(r);
				setTimeout(r, Math.max(1, end - performance.now()));
			});
		}
	}
	async waitClose(timeoutMs) {
		const end = performance.now() + timeoutMs;
		while (!this.closed && performance.now() < end) await sleep(20);
		return this.closed;
	}
	send(obj) {
		this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
	}
	media(buf) {
		this.send({ event: 'media', streamSid: this.sid, media: { payload: buf.toString('base64') } });
	}
	mark(name) {
		this.send({ event: 'mark', streamSid: this.sid, mark: { name } });
	}
}

// Connect; while the call has not reached the room yet (4404), try again.
async function connect(url, headers) {
	const end = performance.now() + 15000;
	for (;;) {
		const a = new Agent(url, headers);
		const first = await a.next(() => true, 3000);
		if (first) return a;
		const c = await a.waitClose(1000);
		if (!c || c.code !== 4404 || performance.now() > end)
			fail(`no stream: ${c ? `close ${c.code} ${c.reason}` : a.error || 'nothing received'}`);
		await sleep(200);
	}
}

const SID = /^MZ[0-9a-f]{32}$/, ACC = /^AC[0-9a-f]{32}$/, CALL = /^CA[0-9a-f]{32}$/;

async function handshake(a) {
	const c = a.msgs[0];
	check(c.event === 'connected' && c.protocol === 'Call' && c.version === '1.0.0',
		'connected first: {"event":"connected","protocol":"Call","version":"1.0.0"}');
	const s = await a.next((m) => m.event === 'start', 2000);
	check(s && a.msgs[1] === s, 'start right after connected');
	const st = s.start;
	check(s.sequenceNumber === '1' && SID.test(s.streamSid) && st.streamSid === s.streamSid,
		`start: sequenceNumber "1", streamSid ${s.streamSid}`);
	check(ACC.test(st.accountSid) && CALL.test(st.callSid), `accountSid ${st.accountSid}, callSid ${st.callSid}`);
	check(JSON.stringify(st.tracks) === '["inbound"]' &&
		JSON.stringify(st.mediaFormat) === '{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}',
		'tracks ["inbound"], mediaFormat audio/x-mulaw 8000 mono');
	const p = st.customParameters || {};
	check(p.room === ROOM && p.from_number === process.env.SB_FROM && p.to_number === process.env.SB_TO &&
		/^SCL_/.test(p.call_id || '') && (p.sip_call_id || '').length > 0 && (p.participant || '').length > 0,
		`customParameters ${JSON.stringify(p)}`);
	a.sid = s.streamSid;
	a.startMsg = s;
	return s;
}

// sequenceNumber +1 over every numbered event; chunk +1 and timestamp +20 over media.
function continuity(a) {
	let seq = 0, chunk = 0, ts = null, n = 0;
	for (const m of a.msgs) {
		if (m.event === 'connected' || String(m.event).startsWith('x-')) continue;
		const q = Number(m.sequenceNumber);
		if (q !== seq + 1) fail(`sequenceNumber ${m.sequenceNumber} after ${seq} (${m.event})`);
		seq = q;
		if (m.event !== 'media') continue;
		n++;
		if (m.streamSid !== a.sid || m.media.track !== 'inbound') fail('media streamSid/track');
		if (Number(m.media.chunk) !== chunk + 1) fail(`chunk ${m.media.chunk} after ${chunk}`);
		chunk++;
		const t = Number(m.media.timestamp);
		if (ts !== null && t !== ts + 20) fail(`timestamp ${t} after ${ts}`);
		ts = t;
		if (Buffer.from(m.media.payload, 'base64').length !== 160) fail('media payload is not 160 bytes');
	}
	return { seq, media: n };
}

function received(a, fromT, toT) {
	const x = [];
	for (const m of a.msgs)
		if (m.event === 'media' && m._t >= fromT && m._t < toT)
			for (const u of Buffer.from(m.media.payload, 'base64')) x.push(ulawDecode(u));
	return x;
}

async function modeCall() {
	const a = await connect(`${BASE}/twilio?room=${encodeURIComponent(ROOM)}&access_token=${TOKEN}`);
	const s = await handshake(a);
	// the caller's 1 kHz, 0.5 s after start for 1 s
	await sleep(1600);
	const x = received(a, s._t + 500, s._t + 1500);
	const a1k = goertzel(x, 1000), a440 = goertzel(x, 440);
	check(x.length >= 6400 && a1k > 1000 && a1k > 10 * a440,
		`the caller's 1 kHz tone heard (${x.length} samples, amplitude ${a1k.toFixed(0)} at 1 kHz, ${a440.toFixed(0)} at 440 Hz)`);
	const rate = a.msgs.filter((m) => m.event === 'media').length / ((performance.now() - s._t) / 1000);
	check(rate > 45 && rate < 55, `media every 20 ms (${rate.toFixed(1)} per second)`);

	// 1 s of 440 Hz in a burst of odd sizes, then a mark: echoed when the last frame plays
	let from = a.msgs.length;
	for (const n of [80, 160, 320, 1, 239, 400, 800, 2000, 4000]) a.media(tone(440, (n * 1000) / 8000));
	const t0 = performance.now();
	a.mark('m1');
	const m1 = await a.next((m) => m.event === 'mark', 3000, from);
	check(m1 && m1.mark.name === 'm1' && m1.streamSid === a.sid, 'mark m1 echoed');
	const dt = m1._t - t0;
	// the tick that takes the last frame comes 980 to 1000 ms after the first frames went in
	check(dt >= 970 && dt <= 1080, `mark m1 echoed ${dt.toFixed(0)} ms after 1000 ms of audio (970-1080)`);

	// empty queue: a mark comes back at once
	from = a.msgs.length;
	let t1 = performance.now();
	a.mark('e1');
	const e1 = await a.next((m) => m.event === 'mark', 1000, from);
	check(e1 && e1.mark.name === 'e1' && e1._t - t1 < 100, `mark on an empty queue echoed at once (${(e1._t - t1).toFixed(0)} ms)`);

	// clear: 3 s queued with two marks, cleared after 500 ms: both echoed then, in order
	from = a.msgs.length;
	a.media(tone(440, 3000));
	a.mark('c1');
	a.mark('c2');
	await sleep(500);
	check(!a.msgs.slice(from).some((m) => m.event === 'mark'), 'no mark echoed before the clear');
	t1 = performance.now();
	a.send({ event: 'clear', streamSid: a.sid });
	const c2 = await a.next((m) => m.event === 'mark' && m.mark.name === 'c2', 1000, from);
	const marks = a.msgs.slice(from).filter((m) => m.event === 'mark').map((m) => m.mark.name);
	check(c2 && c2._t - t1 < 100 && marks.join() === 'c1,c2',
		`clear echoes the pending marks c1, c2 at once (${c2 ? (c2._t - t1).toFixed(0) : '-'} ms)`);

	// bad frames and unknown events: ignored, the stream goes on
	a.send('not json');
	a.send('{"event":"nope","streamSid":"x"}');
	a.send('{"event":"media","media":{"payload":"!!!"}}');
	a.send('{"event":"media","media":{}}');
	a.send('{"event":"mark"}');
	a.send('{"event":"start","start":{}}');
	a.send('[1,2,3]');
	a.ws.send(Buffer.from([1, 2, 3]));
	from = a.msgs.length;
	await sleep(400);
	check(!a.closed && a.msgs.slice(from).filter((m) => m.event === 'media').length >= 15,
		'bad frames and unknown events ignored: media goes on');

	// more 440 Hz for the caller to measure, at 2x real time like Pipecat's transport
	from = a.msgs.length;
	for (let i = 0; i < 30; i++) {
		a.media(tone(440, 40));
		await sleep(20);
	}
	a.mark('m2');
	const m2 = await a.next((m) => m.event === 'mark' && m.mark.name === 'm2', 3000, from);
	check(m2, 'mark m2 after 1.2 s sent at 2x real time');
	await sleep(100);
	const cont = continuity(a);
	check(true, `continuity: ${cont.seq} numbered events, ${cont.media} media: sequenceNumber +1, chunk +1, timestamp +20`);
	const tc = performance.now();
	a.ws.close();
	const cl = await a.waitClose(3000);
	check(cl, `closed (${cl ? cl.code : '-'}) ${(cl ? cl.t - tc : 0).toFixed(0)} ms after close`);
}

async function modeDtmf() {
	const a = await connect(`${BASE}/twilio/${encodeURIComponent(ROOM)}`, { Authorization: `Bearer ${TOKEN}` });
	const s = await handshake(a);
	const stop = await a.next((m) => m.event === 'stop', 15000);
	check(stop, 'stop when the caller hung up');
	check(stop.stop.accountSid === s.start.accountSid && stop.stop.callSid === s.start.callSid &&
		stop.streamSid === a.sid, 'stop carries accountSid, callSid, streamSid');
	const d = a.msgs.filter((m) => m.event === 'dtmf');
	check(d.map((m) => m.dtmf.digit).join('') === '19#' &&
		d.every((m) => m.dtmf.track === 'inbound_track' && m.streamSid === a.sid),
		`dtmf 1, 9, # once each (${d.map((m) => m.dtmf.digit).join(' ')})`);
	const cont = continuity(a);
	check(a.msgs[a.msgs.length - 1] === stop, `stop is the last event (${cont.seq} numbered, continuous)`);
	const cl = await a.waitClose(3000);
	check(cl && cl.code === 1000, `switchboard closed the socket after stop (${cl ? cl.code : '-'})`);
}

// An HS256 access token signed with the server's key (sip.call + roomAdmin for the room).
function adminToken() {
	const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
	const now = Math.floor(Date.now() / 1000);
	const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ iss: process.env.SB_KEY, sub: 'test',
		nbf: now - 10, exp: now + 600, video: { roomAdmin: true, room: ROOM }, sip: { call: true } })}`;
	return `${body}.${createHmac('sha256', process.env.SB_SECRET).update(body).digest('base64url')}`;
}

// A transfer started through the API (TransferSIPParticipant), not by the agent: the Twilio
// agent learns its outcome as x-transfer, then the call ends (stop).
async function modeTransfer() {
	const a = await connect(`${BASE}/twilio/${encodeURIComponent(ROOM)}`, { Authorization: `Bearer ${TOKEN}` });
	const s = await handshake(a);
	const identity = s.start.customParameters.participant;
	check(identity, `the caller's identity in customParameters (${identity})`);
	const res = await fetch(`${process.env.SB_HTTP}/twirp/livekit.SIP/TransferSIPParticipant`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${adminToken()}` },
		body: JSON.stringify({ roomName: ROOM, participantIdentity: identity, transferTo: 'sip:bob@127.0.0.1' }),
	});
	check(res.status === 200, `TransferSIPParticipant answered ${res.status} ${await res.text()}`);
	const x = await a.next((m) => m.event === 'x-transfer', 5000);
	check(x && x.streamSid === a.sid && x['x-transfer'].status === 'succeeded' &&
		x['x-transfer'].sipStatusCode === 200 && x['x-transfer'].to === 'sip:bob@127.0.0.1',
		`x-transfer succeeded 200 to sip:bob@127.0.0.1 (${JSON.stringify(x && x['x-transfer'])})`);
	const stop = await a.next((m) => m.event === 'stop', 10000);
	check(stop, 'stop once the transferred call ended');
}

async function refused(url, headers, code, what) {
	const a = new Agent(url, headers);
	const cl = await a.waitClose(3000);
	if (code === 0) {
		check(cl && !a.msgs.length && a.error, `${what}: handshake refused (${a.error})`);
		return;
	}
	check(cl && cl.code === code && !a.msgs.length, `${what}: closed ${cl ? `${cl.code} "${cl.reason}"` : '-'}, nothing sent`);
}

async function modeRefuse() {
	const q = `room=${encodeURIComponent(ROOM)}`;
	await refused(`${BASE}/twilio?${q}`, {}, 1008, 'no token');
	await refused(`${BASE}/twilio?${q}&access_token=${process.env.SB_TOKEN_OTHER}`, {}, 1008, 'token for another room');
	await refused(`${BASE}/twilio?${q}&access_token=x.y.z`, {}, 1008, 'bad token');
	await refused(`${BASE}/twilio?access_token=${TOKEN}`, {}, 4400, 'no room');
	await refused(`${BASE}/twilio?${q}&access_token=${TOKEN}`, {}, 4404, 'room without a call');
	await refused(`${BASE}/twilio/${ROOM}`, { Authorization: `Bearer ${TOKEN}` }, 4404, 'Bearer header, room in the path, no call');
	await refused(`${BASE}/nope`, {}, 0, 'unknown path');
}

const modes = { call: modeCall, dtmf: modeDtmf, refuse: modeRefuse, transfer: modeTransfer };
if (!modes[mode]) fail(`unknown mode ${mode}`);
modes[mode]().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
