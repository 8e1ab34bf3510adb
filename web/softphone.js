// switchboard softphone: the browser joins a room over the native agent protocol (/agent:
// JSON events, binary PCM16LE frames); audio goes through softphone-worklet.js.
'use strict';

const RATES = [8000, 16000, 24000, 48000]; // what /agent accepts
const PROBE_HZ = [300, 440, 1000, 2000];   // the probe's Goertzel frequencies
const RETRY_MS = 1000;                     // "no call in room": try again this often
const MAX_BUFFERED = 64 * 1024;            // socket backlog beyond which mic frames are dropped
const $ = (sel) => document.querySelector(sel);

const sp = {
	state: 'idle', room: '', ws: null, ctx: null, stream: null, node: null, wireRate: 0,
	wanted: false, // the user wants to be in the call (join pressed, hang up not yet)
	started: false, muted: false, retryTimer: 0,
	framesIn: 0, framesOut: 0, framesDropped: 0, start: null,
	probe: null,
};

function newProbe(rate) {
	return { rate, energy: 0, power: PROBE_HZ.map(() => 0),
		coeff: PROBE_HZ.map((hz) => 2 * Math.cos(2 * Math.PI * hz / rate)) };
}

// Goertzel over one received frame, accumulated: the share of the received energy at each
// probe frequency (as tests/media/tone_peer.c measures the caller's side).
function analyse(pcm) {
	const p = sp.probe;
	const n = pcm.length;
	if (!p || !n) return;
	for (let k = 0; k < PROBE_HZ.length; k++) {
		const c = p.coeff[k];
		let s1 = 0, s2 = 0;
		for (let i = 0; i < n; i++) {
			const s0 = pcm[i] + c * s1 - s2;
			s2 = s1;
			s1 = s0;
		}
		p.power[k] += (s1 * s1 + s2 * s2 - c * s1 * s2) * 2 / n;
	}
	for (let i = 0; i < n; i++) p.energy += pcm[i] * pcm[i];
}

function stats() {
	const p = sp.probe;
	const energyAt = {};
	let dominant = 0, best = 0;
	PROBE_HZ.forEach((hz, k) => {
		const share = p && p.energy > 0 ? p.power[k] / p.energy : 0;
		energyAt[hz] = Math.round(share * 1000) / 1000;
		if (share > best) { best = share; dominant = hz; }
	});
	return { state: sp.state, room: sp.room, rate: sp.wireRate, framesIn: sp.framesIn,
		framesOut: sp.framesOut, framesDropped: sp.framesDropped,
		rms: p && sp.framesIn ? Math.round(Math.sqrt(p.energy / (sp.framesIn * sp.wireRate / 50))) : 0,
		energyAt, dominant };
}

// ---- UI ----

function logEvent(text, cls) {
	const li = document.createElement('li');
	li.textContent = new Date().toLocaleTimeString() + '  ' + text;
	if (cls) li.className = cls;
	const ol = $('#events');
	ol.prepend(li);
	while (ol.children.length > 200) ol.lastChild.remove();
}

const STATE_TEXT = {
	idle: 'idle', starting: 'starting audio', connecting: 'connecting', waiting: 'waiting for a call',
	'in-call': 'in call', ended: 'call ended', error: 'error',
};

function setState(s, detail) {
	sp.state = s;
	const el = $('#sp-state');
	el.dataset.state = s;
	el.className = 'conn ' + (s === 'in-call' ? 'up' : 'down');
	el.textContent = STATE_TEXT[s] + (detail ? ': ' + detail : '');
	const active = sp.wanted;
	$('#sp-join').disabled = active;
	$('#sp-room').disabled = active;
	$('#sp-hangup').disabled = !active;
	$('#sp-mute').disabled = s !== 'in-call';
	if (detail) $('#sp-result').textContent = detail;
}

function render() {
	$('#sp-frames').textContent = `${sp.framesIn} in, ${sp.framesOut} out` +
		(sp.framesDropped ? `, ${sp.framesDropped} mic frames dropped` : '');
	const s = stats();
	$('#sp-heard').textContent = sp.framesIn ? `rms ${s.rms}, ` + PROBE_HZ.map((hz) =>
		`${hz} Hz ${Math.round(s.energyAt[hz] * 100)} %`).join(', ') : '-';
}

// ---- audio ----

async function startAudio() {
	if (sp.ctx) return;
	let ctx;
	try {
		ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
	} catch (e) {
		ctx = new AudioContext({ latencyHint: 'interactive' });
	}
	sp.ctx = ctx;
	// the context's own rate when /agent takes it (48 kHz nearly always), else 48 kHz on the
	// wire and the worklet resamples
	sp.wireRate = RATES.includes(ctx.sampleRate) ? ctx.sampleRate : 48000;
	const q = new URLSearchParams(location.search);
	const processing = q.get('processing') !== '0';
	sp.stream = await navigator.mediaDevices.getUserMedia({ audio: {
		channelCount: 1, echoCancellation: processing, noiseSuppression: processing,
		autoGainControl: processing } });
	await ctx.audioWorklet.addModule('/softphone-worklet.js');
	sp.node = new AudioWorkletNode(ctx, 'sb-softphone', {
		numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
		processorOptions: { ctxRate: ctx.sampleRate, wireRate: sp.wireRate, prebufferMs: 60,
			maxDepthMs: 300 } });
	sp.node.port.onmessage = (e) => micFrame(e.data);
	ctx.createMediaStreamSource(sp.stream).connect(sp.node);
	sp.node.connect(ctx.destination);
	if (ctx.state === 'suspended') {
		await Promise.race([ctx.resume(), new Promise((r) => setTimeout(r, 500))]);
		if (ctx.state === 'suspended') {
			logEvent('audio is blocked by the browser: click the page to hear the room', 'error');
			document.addEventListener('click', () => ctx.resume(), { once: true });
		}
	}
	$('#sp-audio').textContent = `PCM16 ${sp.wireRate} Hz on the wire, context ${ctx.sampleRate} Hz` +
		(processing ? '' : ', no echo cancellation');
}

function stopAudio() {
	if (sp.stream) sp.stream.getTracks().forEach((t) => t.stop());
	if (sp.ctx) sp.ctx.close().catch(() => {});
	sp.stream = sp.ctx = sp.node = null;
}

// a 20 ms frame from the mic (an ArrayBuffer of PCM16, little-endian on every browser's host)
function micFrame(buf) {
	const ws = sp.ws;
	if (!ws || ws.readyState !== WebSocket.OPEN || !sp.started) return;
	if (ws.bufferedAmount > MAX_BUFFERED) {
		sp.framesDropped++;
		return;
	}
	ws.send(buf);
	sp.framesOut++;
}

// ---- the /agent socket ----

function onEvent(ev) {
	switch (ev.type) {
	case 'start': {
		sp.started = true;
		sp.start = ev;
		const c = ev.call || {};
		$('#sp-call').textContent = `${c.from || '?'} → ${c.to || '?'} (${c.direction || ''}, ` +
			`${c.status || ''}) ${c.participant || ''}`;
		logEvent(`joined ${ev.room} as ${ev.participant} (${ev.media.sampleRate} Hz)`);
		setState('in-call');
		break;
	}
	case 'stop':
		logEvent('stop: ' + ev.reason);
		sp.wanted = false;
		setState('ended', ev.reason === 'removed' ? 'removed from the room' : 'the call ended');
		break;
	case 'error':
		logEvent(`error ${ev.code}: ${ev.message}` + (ev.command ? ` (${ev.command})` : ''), 'error');
		$('#sp-result').textContent = 'error: ' + ev.message;
		break;
	case 'call_state':
		logEvent('call ' + ev.status);
		break;
	case 'hold':
	case 'resume':
		logEvent(`${ev.type} (${ev.initiator})`, 'hold');
		break;
	case 'dtmf':
		logEvent('caller pressed ' + ev.digit, 'dtmf');
		break;
	case 'participant_joined':
	case 'participant_left':
		logEvent(`${ev.identity} (${ev.kind}) ${ev.type === 'participant_joined' ? 'joined' : 'left'}`);
		break;
	default:
		break;
	}
}

async function connect() {
	sp.retryTimer = 0;
	if (!sp.wanted) return;
	let tok;
	try {
		const q = new URLSearchParams({ room: sp.room,
			identity: 'softphone-' + Math.random().toString(36).slice(2, 8) });
		const r = await fetch('/api/token?' + q);
		if (!r.ok) throw new Error(r.status === 404 ? 'no dev token endpoint (not in dev mode)'
			: 'token: HTTP ' + r.status);
		tok = (await r.json()).token;
	} catch (e) {
		fail(e.message);
		return;
	}
	if (!sp.wanted) return;
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	const q = new URLSearchParams({ room: sp.room, rate: sp.wireRate, access_token: tok });
	const ws = new WebSocket(`${proto}//${location.host}/agent?${q}`);
	ws.binaryType = 'arraybuffer';
	sp.ws = ws;
	sp.started = false;
	if (sp.state !== 'waiting') setState('connecting');
	ws.onmessage = (m) => {
		if (typeof m.data === 'string') {
			try { onEvent(JSON.parse(m.data)); } catch (e) { console.error(e); }
			return;
		}
		sp.framesIn++;
		analyse(new Int16Array(m.data, 0, m.data.byteLength >> 1));
		if (sp.node) sp.node.port.postMessage(m.data, [m.data]);
	};
	ws.onclose = (c) => {
		if (sp.ws === ws) sp.ws = null;
		if (!sp.wanted) { // hung up here, or `stop` came first
			if (sp.state !== 'ended' && sp.state !== 'error') setState('ended', 'hung up');
			stopAudio();
			return;
		}
		if (c.code === 4404 && !sp.started) { // no call in the room (yet)
			setState('waiting', 'no call in room ' + sp.room);
			sp.retryTimer = setTimeout(connect, RETRY_MS);
			return;
		}
		sp.wanted = false;
		stopAudio();
		if (c.code === 1000 && sp.started) setState('ended', c.reason || 'closed');
		else setState('error', `closed ${c.code}` + (c.reason ? ': ' + c.reason : ''));
		logEvent(`socket closed ${c.code} ${c.reason || ''}`, c.code === 1000 ? '' : 'error');
	};
}

function fail(msg) {
	sp.wanted = false;
	if (sp.retryTimer) clearTimeout(sp.retryTimer);
	if (sp.ws) {
		sp.ws.onclose = null;
		sp.ws.close();
		sp.ws = null;
	}
	stopAudio();
	setState('error', msg);
	logEvent(msg, 'error');
}

async function join(room) {
	if (sp.wanted) return;
	sp.room = room;
	sp.wanted = true;
	sp.framesIn = sp.framesOut = sp.framesDropped = 0;
	$('#sp-room-name').textContent = room;
	$('#sp-result').textContent = '';
	setState('starting');
	try {
		await startAudio();
	} catch (e) {
		fail('audio: ' + (e.message || e.name));
		return;
	}
	sp.probe = newProbe(sp.wireRate);
	await connect();
}

// Closing /agent hangs up the call (BYE), as for every agent that leaves.
function hangup() {
	if (!sp.wanted) return;
	sp.wanted = false;
	if (sp.retryTimer) {
		clearTimeout(sp.retryTimer);
		sp.retryTimer = 0;
	}
	logEvent('hang up');
	if (sp.ws && sp.ws.readyState <= WebSocket.OPEN) sp.ws.close(1000, 'hang up');
	else {
		stopAudio();
		setState('ended', 'hung up');
	}
}

function setMuted(m) {
	sp.muted = m;
	if (sp.node) sp.node.port.postMessage({ type: 'mute', muted: m });
	$('#sp-mute').textContent = m ? 'Unmute' : 'Mute';
	logEvent(m ? 'muted' : 'unmuted');
}

window.sbSoftphone = { stats, join, hangup, mute: setMuted, get state() { return sp.state; } };

$('#sp-form').addEventListener('submit', (ev) => {
	ev.preventDefault();
	const room = $('#sp-room').value.trim();
	if (room) join(room);
});
$('#sp-hangup').addEventListener('click', hangup);
$('#sp-mute').addEventListener('click', () => setMuted(!sp.muted));
window.addEventListener('pagehide', () => { if (sp.ws) sp.ws.close(1000, 'page closed'); });
setInterval(render, 250);

{
	const q = new URLSearchParams(location.search);
	if (q.get('room')) $('#sp-room').value = q.get('room');
	setState('idle');
	if (q.get('room') && q.get('autojoin') === '1') join(q.get('room'));
}
