// A Twilio Media Streams agent that switchboard dials (agents: in switchboard.yaml): a WebSocket
// server on npm `ws`, answering like an agent behind Twilio's <Connect><Stream>.
//
//   node dialout.mjs serve
//
// env: SB_AGENT_PORT (where to listen), SB_ROOM (the room the call is in; "" = any),
// SB_TO (the called user), SB_AGENT_SECS (how long to send 440 Hz before closing),
// SB_AGENT_PROTO (twilio, the default, or native: start, binary PCM16LE at 16 kHz, and a
// hangup command instead of the close).
// Checks: one connection, on the configured path with the configured header; connected then
// start with customParameters = the built-in ones + lang/tier from the config; the caller's
// 1 kHz arrives in media; then it sends 440 Hz (tone_peer measures it on the caller's side) and
// closes (run.sh checks the caller's BYE). Prints "ok: ..." lines and "done"; exits 1 with
// "FAIL: ..." on the first failed check.
import { WebSocketServer } from 'ws';

import { fail, check, ulawDecode, ulawEncode, goertzel, sleep } from './lib.mjs';

const PORT = Number(process.env.SB_AGENT_PORT);
const ROOM = process.env.SB_ROOM || '';
const SECS = Number(process.env.SB_AGENT_SECS || '3');
const NATIVE = process.env.SB_AGENT_PROTO === 'native';


// ---- G.711 μ-law and Goertzel (as twilio.mjs) ----
let phase = 0;
function tone(hz, ms, amp = 8000) {
	const n = (8000 * ms) / 1000, b = Buffer.alloc(n);
	for (let i = 0; i < n; i++, phase++) b[i] = ulawEncode(Math.round(amp * Math.sin((2 * Math.PI * hz * phase) / 8000)));
	return b;
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: PORT });
let conns = 0;
const guard = setTimeout(() => fail('switchboard did not connect within 30 s'), 30000);
wss.on('listening', () => console.log(`listening on ${PORT}`));
wss.on('connection', async (ws, req) => {
	clearTimeout(guard);
	conns++;
	check(conns === 1, 'one connection');
	check(req.url === '/media?agent=bot', `path ${req.url}`);
	check(req.headers['x-agent-key'] === 'k123', `header X-Agent-Key: ${req.headers['x-agent-key']}`);
	check(!req.headers['sec-websocket-protocol'], 'no subprotocol asked');
	const msgs = [];
	const frames16 = []; // native: the binary frames
	let closed = null;
	ws.on('message', (data, binary) => {
		if (binary) {
			if (!NATIVE) fail('binary frame from switchboard');
			frames16.push(Buffer.from(data));
			return;
		}
		msgs.push(JSON.parse(data.toString()));
	});
	ws.on('close', (code, reason) => {
		closed = { code, reason: reason.toString() };
	});
	const until = async (pred, ms) => {
		const end = Date.now() + ms;
		while (Date.now() < end && !closed) {
			if (pred()) return true;
			await sleep(10);
		}
		return pred();
	};
	if (NATIVE) return native(ws, msgs, frames16, until, () => closed);
	check(await until(() => msgs.length >= 2, 5000), 'two messages');
	check(msgs[0].event === 'connected' && msgs[0].protocol === 'Call', 'connected first');
	const s = msgs[1];
	check(s.event === 'start' && s.sequenceNumber === '1' && /^MZ[0-9a-f]{32}$/.test(s.streamSid), 'start second');
	const p = s.start.customParameters || {};
	check((!ROOM || p.room === ROOM) && (p.to_number || '').includes(process.env.SB_TO) &&
		/^SCL_/.test(p.call_id || '') && (p.sip_call_id || '').length > 0 &&
		(p.participant || '').length > 0 && (p.from_number || '').includes('caller'),
		`built-in customParameters ${JSON.stringify(p)}`);
	check(p.lang === 'fr' && p.tier === '2', 'the agent\'s custom_parameters lang=fr tier=2');
	const sid = s.streamSid;
	// the agent speaks at once (this stops ringback), 440 Hz in 100 ms messages at real time
	const t0 = Date.now();
	let sent = 0;
	while (Date.now() - t0 < SECS * 1000 && !closed) {
		while (sent * 100 < Date.now() - t0 + 200) {
			ws.send(JSON.stringify({ event: 'media', streamSid: sid, media: { payload: tone(440, 100).toString('base64') } }));
			sent++;
		}
		await sleep(20);
	}
	check(!closed, `sent ${sent * 100} ms of 440 Hz, the stream still open`);
	// what the agent heard: the caller's 1 kHz
	const pcm = [];
	for (const m of msgs) if (m.event === 'media') for (const b of Buffer.from(m.media.payload, 'base64')) pcm.push(ulawDecode(b));
	let frames = 0, k1 = 0;
	for (let i = 0; i + 160 <= pcm.length; i += 160) {
		const f = pcm.slice(i, i + 160);
		frames++;
		if (goertzel(f, 1000) > 4 * goertzel(f, 440) + 50) k1++;
	}
	check(frames >= SECS * 40, `${frames} media frames from switchboard`);
	check(k1 >= frames * 0.4, `the caller's 1 kHz in ${k1} of ${frames} frames`);
	if (process.env.SB_AGENT_END === 'rest') {
		// hang up as Twilio agents do: the REST API, with the stream's accountSid and callSid
		const { accountSid, callSid } = s.start;
		const auth = Buffer.from(`${process.env.SB_KEY}:${process.env.SB_SECRET}`).toString('base64');
		const r = await fetch(`${process.env.SB_HTTP}/2010-04-01/Accounts/${accountSid}/Calls/${callSid}.json`, {
			method: 'POST',
			headers: { Authorization: `Basic ${auth}`, 'Content-Type': 'application/x-www-form-urlencoded' },
			body: 'Status=completed',
		});
		const j = await r.json();
		check(r.status === 200 && j.sid === callSid && j.status === 'completed', `REST hang-up: ${r.status} ${JSON.stringify(j)}`);
		check(await until(() => msgs.some((m) => m.event === 'stop'), 5000), 'stop after the REST hang-up');
		await until(() => false, 500);
		console.log('done');
		wss.close();
		process.exit(0);
	}
	ws.close(1000, 'bye');
	await until(() => false, 500);
	console.log('done');
	wss.close();
	process.exit(0);
});

// The native protocol: start, binary audio both ways, then the hangup command.
async function native(ws, msgs, frames, until, isClosed) {
	check(await until(() => msgs.length >= 1, 5000), 'a first message');
	const s = msgs[0];
	check(s.type === 'start' && s.protocol === 'switchboard.agent' && s.version === 1 &&
		/^ST[0-9a-f]{32}$/.test(s.streamId), 'start first (switchboard.agent 1)');
	check(s.media && s.media.encoding === 'pcm16le' && s.media.sampleRate === 16000 &&
		s.media.frameBytes === 640, `media ${JSON.stringify(s.media)}`);
	const c = s.call || {};
	check((!ROOM || s.room === ROOM) && (c.to || '').includes(process.env.SB_TO) &&
		(c.from || '').includes('caller') && /^SCL_/.test(c.callId || '') && c.direction === 'inbound',
		`call ${JSON.stringify(c)}`);
	const t0 = Date.now();
	let sent = 0, ph = 0;
	while (Date.now() - t0 < SECS * 1000 && !isClosed()) {
		while (sent * 100 < Date.now() - t0 + 200) {
			const b = Buffer.alloc(3200); // 100 ms at 16 kHz
			for (let i = 0; i < 1600; i++, ph++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * ph) / 16000)), 2 * i);
			ws.send(b, { binary: true });
			sent++;
		}
		await sleep(20);
	}
	check(!isClosed(), `sent ${sent * 100} ms of 440 Hz as binary PCM16LE, the stream still open`);
	let n = 0, k1 = 0;
	for (const f of frames) {
		if (f.length !== 640) fail(`a binary frame of ${f.length} bytes`);
		const x = [];
		for (let i = 0; i < 320; i++) x.push(f.readInt16LE(2 * i));
		n++;
		if (goertzel(x, 1000, 16000) > 4 * goertzel(x, 440, 16000) + 50) k1++;
	}
	check(n >= SECS * 40, `${n} binary frames from switchboard`);
	check(k1 >= n * 0.4, `the caller's 1 kHz in ${k1} of ${n} frames`);
	ws.send(JSON.stringify({ type: 'hangup', id: 'h1' }));
	check(await until(() => msgs.some((m) => m.type === 'stop'), 5000), 'stop after the hangup command');
	await until(() => isClosed(), 3000);
	check(isClosed(), 'closed by switchboard');
	console.log('done');
	process.exit(0);
}
