// A Twilio Media Streams agent that behaves like the OpenAI Agents SDK's Twilio transport
// (TwilioRealtimeTransportLayer) against switchboard's GET /twilio, on npm `ws`: the model's
// audio deltas go out as they come (faster than real time, any size), each followed by a
// `mark` named ITEM:N; playback is tracked by the marks echoed back (what the caller has heard,
// used to truncate the item on an interruption); an interruption sends `clear` and expects the
// pending marks echoed at once.
//
//   node openai.mjs call      (caller: uac-agent-tone.xml, 1 kHz; it hears 440 Hz)
//
// env: SB_WS, SB_ROOM, SB_TOKEN. Checks: connected then start; the caller's 1 kHz in media;
// each mark echoed within one frame (20 ms, plus timer slack) of when the audio before it has
// played; clear echoes every pending mark at once, in order, each once, and the tracked
// playback stops where the caller stopped hearing; only known event types; numbering
// continuous; then the agent closes (run.sh: the caller gets a BYE).
// Prints "ok: ..." lines; exits 1 with "FAIL: ..." on the first failed check.
import WebSocket from 'ws';

import { fail, check, ulawDecode, ulawEncode, goertzel, sleep } from './lib.mjs';

const BASE = process.env.SB_WS;
const ROOM = process.env.SB_ROOM;
const TOKEN = process.env.SB_TOKEN;
const mode = process.argv[2];
const FRAME = 20;
const SLACK = 8; // ms of timer and scheduling slack on top of one frame


let phase = 0;
function tone(hz, ms, amp = 8000) {
	const n = Math.round((8000 * ms) / 1000), b = Buffer.alloc(n);
	for (let i = 0; i < n; i++, phase++) b[i] = ulawEncode(Math.round(amp * Math.sin((2 * Math.PI * hz * phase) / 8000)));
	return b;
}

const KNOWN = new Set(['connected', 'start', 'media', 'mark', 'dtmf', 'stop', 'x-hold', 'x-resume', 'x-transfer']);

// ---- the transport layer ----
class TwilioLayer {
	constructor(url) {
		this.msgs = [];
		this.waiters = [];
		this.closed = null;
		this.pending = []; // marks sent, not echoed: {name, endMs} (endMs: audio of the item)
		this.played = new Map(); // item -> ms of its audio the caller has heard (by marks)
		this.echoes = [];
		this.ws = new WebSocket(url);
		this.ws.on('message', (data, binary) => {
			if (binary) fail('a binary frame on a Twilio stream');
			const m = JSON.parse(data.toString());
			m._t = performance.now();
			if (!KNOWN.has(m.event)) fail(`unknown event ${m.event}`);
			this.msgs.push(m);
			if (m.event === 'mark') this.onMark(m);
			for (const w of this.waiters.splice(0)) w();
		});
		this.ws.on('close', (code, reason) => {
			this.closed = { code, reason: reason.toString(), t: performance.now() };
			for (const w of this.waiters.splice(0)) w();
		});
		this.ws.on('error', (e) => {
			this.error = e.message;
		});
		this.itemMs = new Map();
	}
	onMark(m) {
		const i = this.pending.findIndex((p) => p.name === m.mark.name);
		if (i < 0) fail(`mark ${m.mark.name} echoed but not pending (twice, or never sent)`);
		if (i !== 0) fail(`mark ${m.mark.name} echoed before ${this.pending[0].name}`);
		const p = this.pending.shift();
		const [item] = p.name.split(':');
		this.played.set(item, p.endMs);
		this.echoes.push({ name: p.name, t: m._t, endMs: p.endMs });
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
	// a response.audio.delta: media, then mark ITEM:N
	delta(item, buf) {
		const ms = (this.itemMs.get(item) || 0) + (buf.length * 1000) / 8000;
		this.itemMs.set(item, ms);
		const name = `${item}:${this.pending.length + this.echoes.length}`;
		this.send({ event: 'media', streamSid: this.streamSid, media: { payload: buf.toString('base64') } });
		this.send({ event: 'mark', streamSid: this.streamSid, mark: { name } });
		this.pending.push({ name, endMs: ms });
		return name;
	}
	// the user started speaking: clear what the caller has not heard yet
	interrupt() {
		this.send({ event: 'clear', streamSid: this.streamSid });
	}
}

async function connect() {
	const url = `${BASE}/twilio?room=${encodeURIComponent(ROOM)}&access_token=${TOKEN}`;
	const end = performance.now() + 15000;
	for (;;) {
		const t = new TwilioLayer(url);
		const first = await t.next(() => true, 3000);
		if (first) return t;
		const c = await t.waitClose(1000);
		if (!c || c.code !== 4404 || performance.now() > end)
			fail(`no stream: ${c ? `close ${c.code} ${c.reason}` : t.error || 'nothing received'}`);
		await sleep(200);
	}
}

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
		if (Number(m.media.chunk) !== chunk + 1) fail(`chunk ${m.media.chunk} after ${chunk}`);
		chunk++;
		const ts1 = Number(m.media.timestamp);
		if (ts !== null && ts1 !== ts + 20) fail(`timestamp ${ts1} after ${ts}`);
		ts = ts1;
	}
	return { seq, media: n };
}

async function modeCall() {
	const t = await connect();
	const s = await t.next((m) => m.event === 'start', 3000);
	check(t.msgs[0].event === 'connected' && t.msgs[1] === s, 'connected, then start');
	t.streamSid = s.start.streamSid;
	check(/^MZ[0-9a-f]{32}$/.test(t.streamSid) && /^CA[0-9a-f]{32}$/.test(s.start.callSid),
		`streamSid ${t.streamSid}, callSid ${s.start.callSid}`);

	// the caller's 1 kHz goes to the model
	await sleep(1200);
	const x = [];
	for (const m of t.msgs)
		if (m.event === 'media' && m._t > s._t + 500)
			for (const u of Buffer.from(m.media.payload, 'base64')) x.push(ulawDecode(u));
	const k1 = goertzel(x, 1000), f440 = goertzel(x, 440);
	check(x.length >= 4000 && k1 > 1000 && k1 > 10 * f440, `the caller's 1 kHz in media (${k1.toFixed(0)})`);

	// response 1: deltas of model-like sizes, all at once; each mark echoed when the audio
	// before it has played: at the tick taking the frame with its last byte
	const sizes = [100, 60, 240, 20, 180, 10, 30, 200, 160];
	const t0 = performance.now();
	for (const ms of sizes) t.delta('item1', tone(440, ms));
	while (t.pending.length && performance.now() - t0 < 3000) await sleep(5);
	check(!t.pending.length, `all ${sizes.length} marks of item1 echoed, in order, once each`);
	const e = t.echoes.filter((x1) => x1.name.startsWith('item1:'));
	const q = (ms) => Math.ceil(ms / FRAME - 1e-9) * FRAME; // the tick taking the last byte
	let worst = 0;
	for (let i = 1; i < e.length; i++) {
		const want = q(e[i].endMs) - q(e[0].endMs), got = e[i].t - e[0].t;
		worst = Math.max(worst, Math.abs(got - want));
		if (Math.abs(got - want) > FRAME + SLACK)
			fail(`mark ${e[i].name} echoed ${got.toFixed(0)} ms after the first, want ${want} (±${FRAME + SLACK})`);
	}
	const first = e[0].t - t0;
	check(first <= q(sizes[0]) + 2 * FRAME + SLACK + 20,
		`the first mark ${first.toFixed(0)} ms after its ${sizes[0]} ms of audio`);
	check(true, `mark echoes within one frame of their audio (worst ${worst.toFixed(0)} ms)`);

	// response 2: 3 s in 200 ms deltas; the user interrupts after 700 ms: clear; the marks of
	// the unheard deltas come back at once, in order; playback tracked at ~600-800 ms
	await sleep(300);
	const from = t.msgs.length, n2 = 15;
	const names = [];
	const t2 = performance.now();
	for (let i = 0; i < n2; i++) names.push(t.delta('item2', tone(440, 200)));
	await sleep(700);
	const heard = t.echoes.filter((x1) => x1.name.startsWith('item2:')).length;
	check(heard >= 2 && heard <= 4, `${heard} marks of item2 echoed after 700 ms of playback`);
	const tc = performance.now();
	t.interrupt();
	while (t.pending.length && performance.now() - tc < 1000) await sleep(2);
	const dt = performance.now() - tc;
	check(!t.pending.length && dt < 100, `clear: the ${n2 - heard} pending marks echoed in ${dt.toFixed(0)} ms`);
	const got = t.msgs.slice(from).filter((m) => m.event === 'mark').map((m) => m.mark.name);
	check(got.join() === names.join(), 'every mark of item2 exactly once, in order');
	const played = t.played.get('item2'); // after the clear: the whole item is "acknowledged"
	const byTime = t.echoes.filter((x1) => x1.name.startsWith('item2:') && x1.t < tc);
	const truncateAt = byTime.length ? byTime[byTime.length - 1].endMs : 0;
	check(played === 3000 && truncateAt >= 400 && truncateAt <= 800 && tc - t2 >= truncateAt,
		`playback tracked by marks: truncate item2 at ${truncateAt} ms (clear at ${(tc - t2).toFixed(0)} ms)`);
	// nothing of item2 plays after the clear: a new delta's mark comes after its own audio only
	const t3 = performance.now();
	t.delta('item3', tone(440, 400));
	while (t.pending.length && performance.now() - t3 < 2000) await sleep(2);
	const e3 = t.echoes[t.echoes.length - 1].t - t3;
	check(e3 >= 400 - FRAME - SLACK && e3 <= 400 + 3 * FRAME + SLACK, // + the FIFO's 2 frames
		`after the clear, item3's 400 ms play at once: its mark after ${e3.toFixed(0)} ms`);

	// more 440 Hz for the caller's tone_peer, then the SDK closes the socket
	for (let i = 0; i < 10; i++) t.delta('item4', tone(440, 100));
	while (t.pending.length) await sleep(10);
	await sleep(100);
	const c = continuity(t);
	check(c.media > 100, `continuity: ${c.seq} numbered events, ${c.media} media`);
	const types = [...new Set(t.msgs.map((m) => m.event))].sort().join();
	check(types === 'connected,mark,media,start', `event types ${types}`);
	t.ws.close(1000);
	check(await t.waitClose(3000), 'closed (run.sh: the caller gets a BYE)');
}

const modes = { call: modeCall };
if (!modes[mode]) fail(`unknown mode ${mode}`);
modes[mode]().then(() => process.exit(0), (e) => fail(e.stack || String(e)));
