// A native-protocol agent against switchboard's GET /agent (JSON events, binary PCM16LE frames),
// and a Twilio agent using the Twilio-shaped REST hang-up, on npm `ws`. Every JSON message
// received on /agent is checked against docs/agent-protocol.schema.json (its type's required
// fields, consts, enums and simple types: a small hand-written check, no validator package).
//
//   node native.mjs call|close|events|transfer|rest
//
// env: SB_WS (ws://127.0.0.1:PORT), SB_HTTP (http://127.0.0.1:PORT), SB_ROOM, SB_TOKEN (roomJoin
// for SB_ROOM), SB_FROM / SB_TO (the caller's From user and To user), SB_KEY / SB_SECRET (API key).
// call:   16 kHz: start fields, 640-byte frames every 20 ms, the caller's 1 kHz in the PCM, a
//         440 Hz tone sent back (tone_peer measures it), marks, clear, bad commands answered
//         with error events, then the hangup command (run.sh: the caller got a BYE) and stop.
// close:  8 kHz: frames of 320 bytes, then the agent closes its socket (run.sh: BYE).
// events: the caller's key 1 (dtmf), its re-INVITEs sendonly / sendrecv (hold, resume), the
//         agent's hold and resume commands (re-INVITEs the caller answers: hold, resume with
//         initiator local), its BYE (call_state hangup, participant_left, stop, close 1000).
// transfer: the transfer command (REFER to sip:bob@127.0.0.1, the caller NOTIFYs 200): transfer
//         started, a second transfer refused (busy), transfer succeeded 200, stop.
// rest:   a /twilio stream; GET .../Calls/{callSid}.json in-progress; POST Status=completed hangs
//         up (stop to the agent, BYE to the caller); GET completed; unknown CallSid 404; bad
//         credentials 401.
// Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failed check.
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';

import { fail, check, goertzel, sleep } from './lib.mjs';

const BASE = process.env.SB_WS;
const HTTP = process.env.SB_HTTP;
const ROOM = process.env.SB_ROOM;
const TOKEN = process.env.SB_TOKEN;
const mode = process.argv[2];
const schema = JSON.parse(readFileSync(new URL('../../docs/agent-protocol.schema.json', import.meta.url)));


// ---- the schema check: the event's definition by type, required fields, types, const/enum ----
function typeOk(v, t) {
	if (t === 'integer') return Number.isInteger(v);
	if (t === 'object') return v && typeof v === 'object' && !Array.isArray(v);
	return typeof v === t;
}
function conforms(v, s, path) {
	if (!s) return;
	if ('const' in s && v !== s.const) fail(`${path}: ${JSON.stringify(v)} is not ${JSON.stringify(s.const)}`);
	if (s.enum && !s.enum.includes(v)) fail(`${path}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`);
	if (s.type && !typeOk(v, s.type)) fail(`${path}: ${JSON.stringify(v)} is not of type ${s.type}`);
	if (s.pattern && !new RegExp(s.pattern).test(v)) fail(`${path}: ${v} does not match ${s.pattern}`);
	for (const r of s.required || []) if (!(r in v)) fail(`${path}: required ${r} missing`);
	for (const [k, ps] of Object.entries(s.properties || {})) if (k in v) conforms(v[k], ps, `${path}.${k}`);
	if (s.additionalProperties && typeof s.additionalProperties === 'object')
		for (const k of Object.keys(v)) if (!(s.properties || {})[k]) conforms(v[k], s.additionalProperties, `${path}.${k}`);
}
let validated = 0;
function validate(m) {
	const def = schema.$defs.events[m.type];
	if (!def) fail(`event type ${JSON.stringify(m.type)} is not in the schema`);
	conforms(m, def, m.type);
	validated++;
}

// ---- audio ----
let phase = 0;
function tone(hz, ms, rate, amp = 8000) {
	const n = Math.round((rate * ms) / 1000), b = Buffer.alloc(n * 2);
	for (let i = 0; i < n; i++, phase++) b.writeInt16LE(Math.round(amp * Math.sin((2 * Math.PI * hz * phase) / rate)), 2 * i);
	return b;
}

// ---- the client ----
class Agent {
	constructor(url, { validateEvents = true, headers } = {}) {
		this.msgs = [];
		this.frames = []; // {t, buf}
		this.waiters = [];
		this.closed = null;
		this.ws = new WebSocket(url, { headers });
		this.ws.on('message', (data, binary) => {
			const t = performance.now();
			if (binary) {
				this.frames.push({ t, buf: Buffer.from(data) });
				return;
			}
			const m = JSON.parse(data.toString());
			if (validateEvents) validate(m);
			m._t = t;
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
}

async function connect(url, opts) {
	const end = performance.now() + 15000;
	for (;;) {
		const a = new Agent(url, opts);
		const first = await a.next(() => true, 3000);
		if (first) return a;
		const c = await a.waitClose(1000);
		if (!c || c.code !== 4404 || performance.now() > end)
			fail(`no stream: ${c ? `close ${c.code} ${c.reason}` : a.error || 'nothing received'}`);
		await sleep(200);
	}
}

async function handshake(a, rate) {
	const s = a.msgs[0];
	check(s.type === 'start' && s.protocol === 'switchboard.agent' && s.version === 1 && /^ST[0-9a-f]{32}$/.test(s.streamId),
		`start first: protocol switchboard.agent v1, streamId ${s.streamId}`);
	check(s.room === ROOM && /^agent_ST/.test(s.participant), `room ${s.room}, agent participant ${s.participant}`);
	const c = s.call;
	check(c.from === process.env.SB_FROM && c.to === process.env.SB_TO && c.direction === 'inbound' &&
		/^SCL_/.test(c.callId || '') && (c.sipCallId || '').length > 0 && (c.participant || '').length > 0 &&
		c.status === 'active', `call ${JSON.stringify({ ...c, attributes: undefined })}`);
	check(c.attributes['sip.callID'] === c.callId && c.attributes['sip.callIDFull'] === c.sipCallId &&
		Object.keys(c.attributes).every((k) => k.startsWith('sip.')),
		`call.attributes: the sip.* attributes (${Object.keys(c.attributes).join(' ')})`);
	check(JSON.stringify(s.media) === JSON.stringify({ encoding: 'pcm16le', sampleRate: rate, channels: 1, frameMs: 20, frameBytes: rate / 25 }),
		`media ${JSON.stringify(s.media)}`);
	return s;
}

function pcmBetween(a, fromT, toT) {
	const x = [];
	for (const f of a.frames)
		if (f.t >= fromT && f.t < toT)
			for (let i = 0; i + 1 < f.buf.length; i += 2) x.push(f.buf.readInt16LE(i));
	return x;
}

const url = (rate) => `${BASE}/agent?room=${encodeURIComponent(ROOM)}&access_token=${TOKEN}${rate ? `&rate=${rate}` : ''}`;

async function modeCall() {
	const RATE = 16000;
	const a = await connect(url(RATE));
	const s = await handshake(a, RATE);
	await sleep(1600);
	check(a.frames.length > 0 && a.frames.every((f) => f.buf.length === 640), `binary frames of 640 bytes (${a.frames.length})`);
	const x = pcmBetween(a, s._t + 500, s._t + 1500);
	const a1k = goertzel(x, 1000, RATE), a440 = goertzel(x, 440, RATE);
	check(x.length >= 12800 && a1k > 1000 && a1k > 10 * a440,
		`the caller's 1 kHz tone heard (${x.length} samples, amplitude ${a1k.toFixed(0)} at 1 kHz, ${a440.toFixed(0)} at 440 Hz)`);
	const rate = a.frames.length / ((performance.now() - s._t) / 1000);
	check(rate > 45 && rate < 55, `a frame every 20 ms (${rate.toFixed(1)} per second)`);

	// 1 s of 440 Hz in binary frames of odd sizes (one split inside a sample), then a mark
	let from = a.msgs.length;
	const burst = tone(440, 1000, RATE);
	for (const [o, e] of [[0, 321], [321, 960], [960, 4001], [4001, 12000], [12000, burst.length]]) a.ws.send(burst.subarray(o, e));
	const t0 = performance.now();
	a.send({ type: 'mark', name: 'm1' });
	const m1 = await a.next((m) => m.type === 'mark', 3000, from);
	check(m1 && m1.name === 'm1', 'mark m1 echoed');
	const dt = m1._t - t0;
	check(dt >= 970 && dt <= 1080, `mark m1 echoed ${dt.toFixed(0)} ms after 1000 ms of audio (970-1080)`);

	from = a.msgs.length;
	let t1 = performance.now();
	a.send({ type: 'mark', name: 'e1' });
	const e1 = await a.next((m) => m.type === 'mark', 1000, from);
	check(e1 && e1.name === 'e1' && e1._t - t1 < 100, `mark on an empty queue echoed at once (${(e1._t - t1).toFixed(0)} ms)`);

	// clear: 3 s queued (as JSON base64 media this time) with two marks, cleared after 500 ms
	from = a.msgs.length;
	a.send({ type: 'media', payload: tone(440, 3000, RATE).toString('base64') });
	a.send({ type: 'mark', name: 'c1' });
	a.send({ type: 'mark', name: 'c2' });
	await sleep(500);
	check(!a.msgs.slice(from).some((m) => m.type === 'mark'), 'no mark echoed before the clear');
	t1 = performance.now();
	a.send({ type: 'clear' });
	const c2 = await a.next((m) => m.type === 'mark' && m.name === 'c2', 1000, from);
	const marks = a.msgs.slice(from).filter((m) => m.type === 'mark').map((m) => m.name);
	check(c2 && c2._t - t1 < 100 && marks.join() === 'c1,c2',
		`clear echoes the pending marks c1, c2 at once (${c2 ? (c2._t - t1).toFixed(0) : '-'} ms)`);

	// bad commands: an error event each (with the id when there was one), the stream goes on
	const bad = [
		['not json', 'malformed', undefined],
		['[1,2,3]', 'malformed', undefined],
		['{"id":"b1"}', 'malformed', 'b1'],
		['{"type":"nope","id":"b2"}', 'unsupported', 'b2'],
		['{"type":"media","payload":"!!!","id":"b3"}', 'malformed', 'b3'],
		['{"type":"media","id":"b4"}', 'malformed', 'b4'],
		['{"type":"mark","id":"b5"}', 'malformed', 'b5'],
		['{"type":"transfer","to":"http://x","id":"b6"}', 'invalid', 'b6'],
		['{"type":"transfer","attended":true,"id":"b7"}', 'invalid', 'b7'],
		['{"type":"send_dtmf","digits":"12x","id":"b8"}', 'invalid', 'b8'],
		['{"type":"mute","muted":"yes","id":"b9"}', 'invalid', 'b9'],
	];
	from = a.msgs.length;
	for (const [text] of bad) a.send(text);
	const errs = [];
	for (let i = 0; i < bad.length; i++) {
		const e = await a.next((m) => m.type === 'error' && !errs.includes(m), 1000, from);
		if (!e) break;
		errs.push(e);
	}
	check(errs.length === bad.length && bad.every(([, code, id], i) => errs[i].code === code && errs[i].id === id),
		`bad commands answered in order: ${errs.map((e) => `${e.code}${e.id ? `(${e.id})` : ''}`).join(' ')}`);
	// good call commands: send_dtmf to the caller, mute on and off: no error
	from = a.msgs.length;
	a.send({ type: 'send_dtmf', digits: '1', id: 'g1' });
	a.send({ type: 'mute', muted: true, id: 'g2' });
	a.send({ type: 'mute', muted: false, id: 'g3' });
	const f0 = a.frames.length;
	await sleep(400);
	check(!a.closed && !a.msgs.slice(from).some((m) => m.type === 'error') && a.frames.length - f0 >= 15,
		'send_dtmf and mute accepted, frames go on');

	// more 440 Hz for the caller to measure, at 2x real time
	from = a.msgs.length;
	for (let i = 0; i < 30; i++) {
		a.ws.send(tone(440, 40, RATE));
		await sleep(20);
	}
	a.send({ type: 'mark', name: 'm2' });
	const m2 = await a.next((m) => m.type === 'mark' && m.name === 'm2', 3000, from);
	check(m2, 'mark m2 after 1.2 s sent at 2x real time');

	// hangup: the caller gets a BYE (run.sh), the agent a stop, then the close
	from = a.msgs.length;
	a.send({ type: 'hangup', id: 'h1' });
	const stop = await a.next((m) => m.type === 'stop', 5000, from);
	check(stop && stop.reason === 'call_ended', `stop (${stop ? stop.reason : '-'}) after the hangup command`);
	const cs = a.msgs.slice(from).filter((m) => m.type === 'call_state').map((m) => m.status);
	check(cs.includes('hangup'), `call_state ${cs.join(', ')}`);
	check(a.msgs[a.msgs.length - 1] === stop, 'stop is the last event');
	const cl = await a.waitClose(3000);
	check(cl && cl.code === 1000, `switchboard closed the socket after stop (${cl ? cl.code : '-'})`);
	check(true, `${validated} events matched the schema`);
}

async function modeClose() {
	const a = await connect(url(8000));
	await handshake(a, 8000);
	await sleep(500);
	check(a.frames.length >= 15 && a.frames.every((f) => f.buf.length === 320), `8 kHz: frames of 320 bytes (${a.frames.length})`);
	a.ws.close();
	const cl = await a.waitClose(3000);
	check(cl, `closed (${cl ? cl.code : '-'})`);
}

async function modeEvents() {
	const a = await connect(url(24000));
	await handshake(a, 24000);
	// after the caller's own hold and resume: the agent's hold and resume commands
	const rr = await a.next((m) => m.type === 'resume' && m.initiator === 'remote', 15000);
	check(rr, 'the caller resumed');
	let from = a.msgs.length;
	a.send({ type: 'hold', id: 'lh' });
	const lh = await a.next((m) => m.type === 'hold' || m.type === 'error', 5000, from);
	check(lh && lh.type === 'hold' && lh.initiator === 'local', `hold command: ${JSON.stringify(lh)}`);
	// the hold event comes at once; until the caller has answered the re-INVITE, another
	// hold/resume is refused with busy: try again
	let lr = null, busy = 0;
	for (let i = 0; i < 30 && !(lr && lr.type === 'resume'); i++) {
		if (lr) {
			busy++;
			await sleep(100);
		}
		from = a.msgs.length;
		a.send({ type: 'resume', id: 'lr' });
		lr = await a.next((m) => m.type === 'resume' || (m.type === 'error' && m.code === 'busy'), 5000, from);
	}
	check(lr && lr.type === 'resume' && lr.initiator === 'local', `resume command: ${JSON.stringify(lr)} (${busy} busy before)`);
	const stop = await a.next((m) => m.type === 'stop', 20000);
	check(stop && stop.reason === 'call_ended', 'stop when the caller hung up');
	const types = a.msgs.map((m) => m.type);
	const d = a.msgs.filter((m) => m.type === 'dtmf');
	check(d.map((m) => m.digit).join('') === '1', `dtmf 1 (${d.map((m) => m.digit).join(' ')})`);
	const h = a.msgs.find((m) => m.type === 'hold'), r = a.msgs.find((m) => m.type === 'resume');
	check(h && h.initiator === 'remote' && r && r.initiator === 'remote' && r.timestamp > h.timestamp &&
		types.indexOf('hold') < types.indexOf('resume'),
		`hold then resume, initiator remote (${h ? h.timestamp : '-'} ms, ${r ? r.timestamp : '-'} ms)`);
	// the frames between hold and resume are silence
	const held = a.frames.filter((f) => f.t > h._t + 60 && f.t < r._t - 20);
	check(held.length > 0 && held.every((f) => f.buf.every((b) => b === 0)), `${held.length} silent frames while held`);
	const left = a.msgs.find((m) => m.type === 'participant_left');
	check(left && left.identity === a.msgs[0].call.participant && left.kind === 'sip', `participant_left ${left ? left.identity : '-'}`);
	check(a.msgs[a.msgs.length - 1] === stop, `stop is the last event (${types.join(' ')})`);
	const cl = await a.waitClose(3000);
	check(cl && cl.code === 1000, `switchboard closed the socket after stop (${cl ? cl.code : '-'})`);
	check(true, `${validated} events matched the schema`);
}

async function modeTransfer() {
	const a = await connect(url(16000));
	await handshake(a, 16000);
	a.send({ type: 'transfer', to: 'sip:bob@127.0.0.1', id: 'x1' });
	const st = await a.next((m) => m.type === 'transfer', 3000);
	check(st && st.status === 'started' && st.id === 'x1' && st.to === 'sip:bob@127.0.0.1', `transfer started ${JSON.stringify(st)}`);
	a.send({ type: 'transfer', to: 'sip:carol@127.0.0.1', id: 'x2' });
	const busy = await a.next((m) => m.type === 'error', 3000);
	check(busy && busy.code === 'busy' && busy.id === 'x2' && busy.command === 'transfer', `a second transfer meanwhile: ${JSON.stringify(busy)}`);
	const done = await a.next((m) => m.type === 'transfer' && m.status !== 'started', 15000);
	check(done && done.status === 'succeeded' && done.sipStatusCode === 200 && done.id === 'x1',
		`transfer outcome ${JSON.stringify(done)}`);
	const stop = await a.next((m) => m.type === 'stop', 5000);
	check(stop && stop.reason === 'call_ended', 'stop: the transferred call is over');
	const cl = await a.waitClose(3000);
	check(cl && cl.code === 1000, `closed (${cl ? cl.code : '-'})`);
	check(true, `${validated} events matched the schema`);
}

// Attended: the caller (the room's first call) is transferred to the far end of the room's
// second call, whose identity the agent learns from participant_joined.
async function modeAttended() {
	const a = await connect(url(16000));
	await handshake(a, 16000);
	const other = await a.next((m) => m.type === 'participant_joined' && /^sip/i.test(m.kind || ''), 10000);
	check(other, `the second call joined: ${other && other.identity} (${other && other.kind})`);
	const with_ = other.identity;
	a.send({ type: 'transfer', attended: true, with: 'nobody', id: 'a0' });
	const nf = await a.next((m) => m.type === 'error' && m.id === 'a0', 3000);
	check(nf && nf.code === 'not_found', `attended to an unknown participant: ${JSON.stringify(nf)}`);
	a.send({ type: 'transfer', attended: true, with: with_, id: 'a1' });
	const st = await a.next((m) => m.type === 'transfer' && m.id === 'a1', 3000);
	check(st && st.status === 'started' && st.to === with_, `attended transfer started ${JSON.stringify(st)}`);
	const done = await a.next((m) => m.type === 'transfer' && m.id === 'a1' && m.status !== 'started', 15000);
	check(done && done.status === 'succeeded' && done.sipStatusCode === 200,
		`attended transfer outcome ${JSON.stringify(done)}`);
	const stop = await a.next((m) => m.type === 'stop', 5000);
	check(stop, 'stop: the transferred call is over');
	check(true, `${validated} events matched the schema`);
}

async function rest(method, path, body, auth = `${process.env.SB_KEY}:${process.env.SB_SECRET}`) {
	const headers = { Authorization: `Basic ${Buffer.from(auth).toString('base64')}` };
	if (body) headers['Content-Type'] = 'application/x-www-form-urlencoded';
	const r = await fetch(`${HTTP}${path}`, { method, headers, body });
	const text = await r.text();
	let json = null;
	try {
		json = JSON.parse(text);
	} catch {
		fail(`${method} ${path}: not JSON: ${text}`);
	}
	return { status: r.status, json };
}

async function modeRest() {
	const a = await connect(`${BASE}/twilio?room=${encodeURIComponent(ROOM)}&access_token=${TOKEN}`, { validateEvents: false });
	const s = await a.next((m) => m.event === 'start', 2000);
	check(s, 'a Twilio stream started');
	const { accountSid, callSid } = s.start;
	const path = `/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`;
	let r = await rest('GET', path);
	check(r.status === 200 && r.json.sid === callSid && r.json.account_sid === accountSid && r.json.status === 'in-progress' &&
		r.json.from === process.env.SB_FROM && r.json.to === process.env.SB_TO && r.json.direction === 'inbound',
		`GET: ${JSON.stringify(r.json)}`);
	r = await rest('POST', path, 'Status=completed', `${process.env.SB_KEY}:wrong`);
	check(r.status === 401 && r.json.code === 20003, `bad credentials: 401 ${JSON.stringify(r.json)}`);
	r = await rest('POST', `/2010-04-01/Accounts/${accountSid}/Calls/CA00000000000000000000000000000000.json`, 'Status=completed');
	check(r.status === 404 && r.json.code === 20404 && r.json.status === 404, `unknown CallSid: 404 ${JSON.stringify(r.json)}`);
	// the key as the account (Pipecat with TWILIO_ACCOUNT_SID = our key)
	const t0 = performance.now();
	r = await rest('POST', `/2010-04-01/Accounts/${process.env.SB_KEY}/Calls/${callSid}.json`, 'Status=completed');
	check(r.status === 200 && r.json.sid === callSid && r.json.status === 'completed', `POST Status=completed: ${JSON.stringify(r.json)}`);
	const stop = await a.next((m) => m.event === 'stop', 5000);
	check(stop && stop.stop.callSid === callSid, `stop to the agent ${(stop ? stop._t - t0 : 0).toFixed(0)} ms later`);
	const cl = await a.waitClose(3000);
	check(cl && cl.code === 1000, `socket closed (${cl ? cl.code : '-'})`);
	r = await rest('GET', path);
	check(r.status === 200 && r.json.status === 'completed' && r.json.end_time, `GET after: ${r.json.status}, end_time ${r.json.end_time}`);
	r = await rest('GET', `/2010-04-01/Accounts/${accountSid}/Calls/CAnope.json`);
	check(r.status === 404 && r.json.code === 20404, 'GET of an unknown CallSid: 404');
}

const modes = { call: modeCall, close: modeClose, events: modeEvents, transfer: modeTransfer, attended: modeAttended, rest: modeRest };
if (!modes[mode]) fail(`unknown mode ${mode}`);
modes[mode]().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
