// A Twilio Media Streams agent that behaves like Pipecat's TwilioFrameSerializer + its WebSocket
// transport against switchboard's GET /twilio, on npm `ws`: it reads start.streamSid,
// start.callSid and start.customParameters (as Pipecat's runner does to build the serializer),
// sends its audio as 20 ms μ-law chunks in base64 (paced like an output transport), answers an
// interruption with `clear`, takes `dtmf` as input frames, and ends the call by closing the
// socket or through Twilio's REST API (the serializer's auto_hang_up).
//
//   node pipecat.mjs hold|rest|close
//
// env: SB_WS, SB_HTTP (http://127.0.0.1:PORT), SB_ROOM, SB_TOKEN, SB_KEY / SB_SECRET (REST).
// hold:  (caller uac-framework-hold.xml) message order and types, the caller's key 1 as dtmf,
//        media every 20 ms through the caller's hold and resume with sequenceNumber, chunk and
//        timestamp continuous, an interruption (clear) that empties the playout queue, then
//        the agent closes (run.sh: the caller gets a BYE).
// rest:  (caller uac-agent-tone.xml) 440 Hz to the caller, then POST
//        /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json Status=completed: stop, the
//        socket closed by switchboard, the caller gets a BYE (run.sh).
// close: connect, take start, close at once (run.sh checks agent_close's action).
// Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failed check.
import WebSocket from 'ws';

import { fail, check, ulawEncode, sleep } from './lib.mjs';

const BASE = process.env.SB_WS;
const ROOM = process.env.SB_ROOM;
const TOKEN = process.env.SB_TOKEN;
const mode = process.argv[2];


let phase = 0;
function tone(hz, ms, amp = 8000) {
	const n = (8000 * ms) / 1000, b = Buffer.alloc(n);
	for (let i = 0; i < n; i++, phase++) b[i] = ulawEncode(Math.round(amp * Math.sin((2 * Math.PI * hz * phase) / 8000)));
	return b;
}

// Twilio's server events the serializer knows, plus switchboard's x- extensions (ignored by it)
const KNOWN = new Set(['connected', 'start', 'media', 'mark', 'dtmf', 'stop', 'x-hold', 'x-resume', 'x-transfer']);

// ---- the transport: one socket, Pipecat's serializer on top ----
class Transport {
	constructor(url) {
		this.msgs = [];
		this.waiters = [];
		this.closed = null;
		this.ws = new WebSocket(url);
		this.ws.on('message', (data, binary) => {
			if (binary) fail('a binary frame on a Twilio stream');
			const m = JSON.parse(data.toString());
			m._t = performance.now();
			if (!KNOWN.has(m.event)) fail(`unknown event ${m.event}`);
			this.msgs.push(m);
			this.onMessage(m);
			for (const w of this.waiters.splice(0)) w();
		});
		this.ws.on('close', (code, reason) => {
			this.closed = { code, reason: reason.toString(), t: performance.now() };
			for (const w of this.waiters.splice(0)) w();
		});
		this.ws.on('error', (e) => {
			this.error = e.message;
		});
		this.dtmf = [];
		this.out = []; // 20 ms chunks waiting for the output "clock"
		this.timer = null;
	}
	// Pipecat's deserialize: media -> audio frame, dtmf -> InputDTMFFrame, start -> ids
	onMessage(m) {
		if (m.event === 'start') {
			this.streamSid = m.start.streamSid;
			this.callSid = m.start.callSid;
			this.accountSid = m.start.accountSid;
			this.params = m.start.customParameters || {};
		} else if (m.event === 'dtmf') {
			this.dtmf.push(m.dtmf.digit);
		}
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
	async waitClose(ms) {
		const end = performance.now() + ms;
		while (!this.closed && performance.now() < end) await sleep(20);
		return this.closed;
	}
	send(obj) {
		this.ws.send(JSON.stringify(obj));
	}
	// Pipecat's serialize(OutputAudioRawFrame): one media message per 20 ms chunk, sent a
	// little ahead of real time (its output transport writes chunks as the clock allows)
	speak(buf) {
		for (let o = 0; o < buf.length; o += 160) this.out.push(buf.subarray(o, Math.min(o + 160, buf.length)));
		if (!this.timer) this.pump();
	}
	pump() {
		for (let i = 0; i < 2 && this.out.length; i++)
			this.send({ event: 'media', streamSid: this.streamSid, media: { payload: this.out.shift().toString('base64') } });
		this.timer = this.out.length ? setTimeout(() => this.pump(), 20) : null;
	}
	// Pipecat's serialize(InterruptionFrame / StartInterruptionFrame): clear
	interrupt() {
		this.out = [];
		if (this.timer) clearTimeout(this.timer);
		this.timer = null;
		this.send({ event: 'clear', streamSid: this.streamSid });
	}
}

async function connect() {
	const url = `${BASE}/twilio?room=${encodeURIComponent(ROOM)}&access_token=${TOKEN}`;
	const end = performance.now() + 15000;
	for (;;) {
		const t = new Transport(url);
		const first = await t.next(() => true, 3000);
		if (first) return t;
		const c = await t.waitClose(1000);
		if (!c || c.code !== 4404 || performance.now() > end)
			fail(`no stream: ${c ? `close ${c.code} ${c.reason}` : t.error || 'nothing received'}`);
		await sleep(200);
	}
}

async function start(t) {
	const s = await t.next((m) => m.event === 'start', 3000);
	check(t.msgs[0].event === 'connected' && s && t.msgs[1] === s, 'connected, then start');
	check(/^MZ[0-9a-f]{32}$/.test(t.streamSid) && /^CA[0-9a-f]{32}$/.test(t.callSid) &&
		/^AC[0-9a-f]{32}$/.test(t.accountSid), `start.streamSid ${t.streamSid}, callSid ${t.callSid}`);
	check(t.params.room === ROOM && /^SCL_/.test(t.params.call_id || ''),
		`customParameters room ${t.params.room}, call_id ${t.params.call_id}`);
	return s;
}

// Every numbered event +1; media: chunk +1, timestamp +20, 160 bytes, track inbound.
function continuity(t) {
	let seq = 0, chunk = 0, ts = null, n = 0;
	for (const m of t.msgs) {
		if (m.event === 'connected' || m.event.startsWith('x-')) continue;
		if (m.streamSid !== t.streamSid) fail(`${m.event} with streamSid ${m.streamSid}`);
		const q = Number(m.sequenceNumber);
		if (q !== seq + 1) fail(`sequenceNumber ${m.sequenceNumber} after ${seq} (${m.event})`);
		seq = q;
		if (m.event !== 'media') continue;
		n++;
		if (m.media.track !== 'inbound') fail(`media track ${m.media.track}`);
		if (Number(m.media.chunk) !== chunk + 1) fail(`chunk ${m.media.chunk} after ${chunk}`);
		chunk++;
		const ts1 = Number(m.media.timestamp);
		if (ts !== null && ts1 !== ts + 20) fail(`timestamp ${ts1} after ${ts}`);
		ts = ts1;
		if (Buffer.from(m.media.payload, 'base64').length !== 160) fail('media payload is not 160 bytes');
	}
	return { seq, media: n };
}

const mediaIn = (t, a, b) => t.msgs.filter((m) => m.event === 'media' && m._t >= a && m._t < b).length;

async function modeHold() {
	const t = await connect();
	await start(t);
	const d = await t.next((m) => m.event === 'dtmf', 10000);
	check(d && d.dtmf.digit === '1' && d.dtmf.track === 'inbound_track' && t.dtmf.join('') === '1',
		`the caller's key 1 as one dtmf (${t.dtmf.join('')})`);
	const h = await t.next((m) => m.event === 'x-hold', 10000);
	check(h && h['x-hold'].initiator === 'remote', 'x-hold (the caller holds), ignored by the serializer');
	const r = await t.next((m) => m.event === 'x-resume', 10000);
	check(r, 'x-resume');
	const held = mediaIn(t, h._t, r._t), ms = r._t - h._t;
	check(held >= (ms / 20) * 0.8, `media through the hold: ${held} messages in ${ms.toFixed(0)} ms`);
	const hm = t.msgs.filter((m) => m.event === 'media' && m._t > h._t + 60 && m._t < r._t - 60);
	check(hm.every((m) => Buffer.from(m.media.payload, 'base64').every((u) => u === 0xff || u === 0x7f)),
		`silence (μ-law 0xff) while held (${hm.length} messages)`);
	// the bot speaks; the user interrupts it after 300 ms: clear, and the queue is empty
	// (a probe mark after the clear comes back at once)
	t.speak(tone(440, 2000));
	await sleep(300);
	let from = t.msgs.length;
	t.interrupt();
	const t0 = performance.now();
	t.send({ event: 'mark', streamSid: t.streamSid, mark: { name: 'probe' } });
	const pm = await t.next((m) => m.event === 'mark', 1000, from);
	check(pm && pm.mark.name === 'probe' && pm._t - t0 < 100,
		`after clear the playout queue is empty: a probe mark echoed in ${pm ? (pm._t - t0).toFixed(0) : '-'} ms`);
	// speaking again after the interruption works: 400 ms, then a mark when it has played
	from = t.msgs.length;
	t.speak(tone(440, 400));
	while (t.timer) await sleep(5);
	t.send({ event: 'mark', streamSid: t.streamSid, mark: { name: 'again' } });
	const am = await t.next((m) => m.event === 'mark', 2000, from);
	check(am && am.mark.name === 'again' && am._t - t0 > 300, 'speech after the interruption played, then its mark');
	await sleep(200);
	const c = continuity(t);
	check(c.media >= 200, `continuity over the hold: ${c.seq} numbered events, ${c.media} media`);
	const types = [...new Set(t.msgs.map((m) => m.event))].sort().join();
	check(types === 'connected,dtmf,mark,media,start,x-hold,x-resume', `event types ${types}`);
	t.ws.close(1000);
	check(await t.waitClose(3000), 'closed (run.sh: the caller gets a BYE)');
}

async function modeRest() {
	const t = await connect();
	await start(t);
	t.speak(tone(440, 1500));
	await sleep(2500); // past the caller's tone_peer (2 s)
	const auth = Buffer.from(`${process.env.SB_KEY}:${process.env.SB_SECRET}`).toString('base64');
	const url = `${process.env.SB_HTTP}/2010-04-01/Accounts/${t.accountSid}/Calls/${t.callSid}.json`;
	const res = await fetch(url, {
		method: 'POST',
		headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/x-www-form-urlencoded' },
		body: 'Status=completed',
	});
	const body = await res.json();
	check(res.status === 200 && body.sid === t.callSid && body.status === 'completed',
		`POST Status=completed: ${res.status} ${body.status}`);
	const stop = await t.next((m) => m.event === 'stop', 3000);
	check(stop && stop.stop.callSid === t.callSid, 'stop after the REST hang-up');
	const cl = await t.waitClose(3000);
	check(cl && cl.code === 1000, `switchboard closed the socket (${cl ? cl.code : '-'})`);
	const c = continuity(t);
	check(t.msgs[t.msgs.length - 1] === stop, `stop is the last event (${c.seq} numbered, continuous)`);
}

async function modeClose() {
	const t = await connect();
	await start(t);
	await sleep(200);
	t.ws.close(1000);
	check(await t.waitClose(3000), 'closed right after start');
}

const modes = { hold: modeHold, rest: modeRest, close: modeClose };
if (!modes[mode]) fail(`unknown mode ${mode}`);
modes[mode]().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
