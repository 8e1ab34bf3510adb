// switchboard console: live rooms and calls from /console/ws, actions through the Twirp API.
// Plain JavaScript, no framework; tokens come from the dev token endpoint (/api/token).
'use strict';

const state = { rooms: new Map() }; // name -> { info, parts: Map(identity -> participant) }
const tokens = new Map();           // room ('' = none) -> { token, at }
const TOKEN_REUSE_MS = 5 * 60 * 1000;
const $ = (sel, root = document) => root.querySelector(sel);

// ---- API ----

async function token(room) {
	const t = tokens.get(room);
	if (t && Date.now() - t.at < TOKEN_REUSE_MS) return t.token;
	const q = new URLSearchParams({ room, identity: 'console' });
	const r = await fetch('/api/token?' + q);
	if (!r.ok) throw new Error(r.status === 404 ? 'no dev token endpoint (not in dev mode)'
		: 'token: HTTP ' + r.status);
	const j = await r.json();
	tokens.set(room, { token: j.token, at: Date.now() });
	return j.token;
}

// POST /twirp/SERVICE/METHOD with a token for room; the JSON answer, or throws its message.
async function twirp(service, method, body, room) {
	const r = await fetch(`/twirp/${service}/${method}`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json',
			Authorization: 'Bearer ' + await token(room || '') },
		body: JSON.stringify(body),
	});
	const text = await r.text();
	let j = {};
	try { j = text ? JSON.parse(text) : {}; } catch (e) { j = { msg: text }; }
	if (!r.ok) throw new Error(`${j.code || r.status}: ${j.msg || text}`);
	return j;
}

// ---- events log ----

function logEvent(text, cls) {
	const li = document.createElement('li');
	li.textContent = new Date().toLocaleTimeString() + '  ' + text;
	if (cls) li.className = cls;
	const ol = $('#events');
	ol.prepend(li);
	while (ol.children.length > 200) ol.lastChild.remove();
}

// ---- rendering: one element per room and participant, updated in place ----

function roomEl(name) {
	let el = document.querySelector(`.room[data-room="${CSS.escape(name)}"]`);
	if (!el) {
		el = $('#room-tpl').content.firstElementChild.cloneNode(true);
		el.dataset.room = name;
		$('.room-name', el).textContent = name;
		$('#rooms').append(el);
	}
	return el;
}

function partEl(room, identity) {
	const rel = roomEl(room);
	let el = rel.querySelector(`.part[data-identity="${CSS.escape(identity)}"]`);
	if (!el) {
		el = $('#part-tpl').content.firstElementChild.cloneNode(true);
		el.dataset.identity = identity;
		el.dataset.room = room;
		wireActions(el, room, identity);
		$('.parts', rel).append(el);
	}
	return el;
}

function isHeld(p) {
	const h = (p.attributes || {})['sip.hold'];
	return p.held || h === 'local' || h === 'both';
}

function renderPart(room, p) {
	const el = partEl(room, p.identity);
	const attrs = p.attributes || {};
	$('.part-identity', el).textContent = p.identity;
	$('.part-kind', el).textContent = p.kind;
	const st = $('.call-status', el);
	st.textContent = attrs['sip.callStatus'] || '';
	st.dataset.status = attrs['sip.callStatus'] || '';
	const held = isHeld(p);
	const hs = $('.hold-state', el);
	hs.dataset.held = String(held);
	let holdText = held ? 'held' : (p.kind === 'sip' ? 'not held' : '');
	if (attrs['sip.holdStatus'] && attrs['sip.holdStatus'] !== 'held' && attrs['sip.holdStatus'] !== 'resumed')
		holdText += ' (' + attrs['sip.holdStatus'] + ')';
	hs.textContent = holdText;
	el.classList.toggle('is-held', held);
	el.dataset.held = String(held);
	$('.part-codec', el).textContent = p.codec || '';
	const dl = $('.attrs', el);
	dl.replaceChildren();
	for (const k of Object.keys(attrs).sort()) {
		const dt = document.createElement('dt');
		dt.textContent = k;
		const dd = document.createElement('dd');
		dd.textContent = attrs[k];
		dd.dataset.key = k;
		dl.append(dt, dd);
	}
	const sip = p.kind === 'sip';
	for (const b of ['.btn-hold', '.btn-resume', '.btn-dtmf', '.btn-transfer'])
		$(b, el).disabled = !sip;
	$('.btn-hold', el).hidden = held;
	$('.btn-resume', el).hidden = !held;
}

function renderRoom(name) {
	const r = state.rooms.get(name);
	const el = roomEl(name);
	$('.room-sid', el).textContent = r.info.sid || '';
	$('.room-parts', el).textContent = r.parts.size + (r.parts.size === 1 ? ' participant' : ' participants');
	renderCounts();
}

function renderCounts() {
	$('#room-count').textContent = state.rooms.size;
	const empty = $('#rooms .empty');
	if (empty) empty.hidden = state.rooms.size > 0;
}

function setRoom(info) {
	let r = state.rooms.get(info.name);
	if (!r) {
		r = { info, parts: new Map() };
		state.rooms.set(info.name, r);
	}
	r.info = info;
	renderRoom(info.name);
	return r;
}

function removeRoom(name) {
	state.rooms.delete(name);
	const el = document.querySelector(`.room[data-room="${CSS.escape(name)}"]`);
	if (el) el.remove();
	renderCounts();
}

function setPart(room, info, p) {
	const r = state.rooms.get(room) || setRoom(info || { name: room });
	r.parts.set(p.identity, p);
	renderPart(room, p);
	renderRoom(room);
}

function removePart(room, identity) {
	const r = state.rooms.get(room);
	if (r) r.parts.delete(identity);
	const el = document.querySelector(`.room[data-room="${CSS.escape(room)}"] .part[data-identity="${CSS.escape(identity)}"]`);
	if (el) el.remove();
	if (r) renderRoom(room);
}

// ---- actions ----

function wireActions(el, room, identity) {
	const result = $('.result', el);
	const act = (btn, label, fn) => btn.addEventListener('click', async () => {
		result.className = 'result';
		result.textContent = label + '…';
		btn.disabled = true;
		try {
			const msg = await fn();
			result.textContent = label + ': ' + (msg || 'ok');
		} catch (e) {
			result.className = 'result error';
			result.textContent = label + ' failed: ' + e.message;
			logEvent(`${room}/${identity}: ${label} failed: ${e.message}`, 'error');
		} finally {
			btn.disabled = false;
		}
	});
	const who = { room, identity };
	act($('.btn-hangup', el), 'hang up', () =>
		twirp('livekit.RoomService', 'RemoveParticipant', who, room).then(() => ''));
	act($('.btn-hold', el), 'hold', () =>
		twirp('switchboard.Calls', 'HoldParticipant', who, room).then(() => ''));
	act($('.btn-resume', el), 'resume', () =>
		twirp('switchboard.Calls', 'ResumeParticipant', who, room).then(() => ''));
	act($('.btn-dtmf', el), 'DTMF', async () => {
		const digits = $('.dtmf-digits', el).value.trim();
		if (!digits) throw new Error('no digits');
		await twirp('switchboard.Calls', 'SendDTMF', { room, identity, digits }, room);
		logEvent(`${room}/${identity}: sent DTMF ${digits}`);
		return 'sent ' + digits;
	});
	// the softphone (softphone.html) joins the room over /agent in its own tab
	$('.btn-softphone', el).addEventListener('click', () => {
		const q = new URLSearchParams({ room, autojoin: '1' });
		window.open('/softphone.html?' + q, 'sb-softphone-' + room);
		logEvent(`${room}: softphone opened`);
	});
	act($('.btn-transfer', el), 'transfer', async () => {
		const to = $('.transfer-to', el).value.trim();
		if (!to) throw new Error('no target');
		logEvent(`${room}/${identity}: transfer to ${to}…`);
		await twirp('livekit.SIP', 'TransferSIPParticipant',
			{ room_name: room, participant_identity: identity, transfer_to: to }, room);
		logEvent(`${room}/${identity}: transfer to ${to} succeeded`, 'transfer');
		return 'transferred to ' + to;
	});
}

async function loadTrunks() {
	const sel = $('#dial-trunk');
	try {
		const j = await twirp('livekit.SIP', 'ListSIPOutboundTrunk', {}, '');
		const items = j.items || [];
		sel.replaceChildren();
		if (!items.length) sel.append(new Option('(no outbound trunk)', ''));
		for (const t of items)
			sel.append(new Option(`${t.name || t.sip_trunk_id} (${t.address || ''})`, t.sip_trunk_id));
	} catch (e) {
		logEvent('outbound trunks: ' + e.message, 'error');
	}
}

function wireDial() {
	$('#dial-form').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const res = $('#dial-result');
		const room = $('#dial-room').value.trim();
		const body = {
			sip_trunk_id: $('#dial-trunk').value,
			sip_call_to: $('#dial-to').value.trim(),
			room_name: room,
		};
		const id = $('#dial-identity').value.trim();
		if (id) body.participant_identity = id;
		res.className = 'result';
		res.textContent = 'dialling…';
		try {
			const j = await twirp('livekit.SIP', 'CreateSIPParticipant', body, room);
			res.textContent = `dialled: ${j.participant_identity || ''} (${j.sip_call_id || ''})`;
			logEvent(`${room}: dial out to ${body.sip_call_to}: ${j.participant_identity || 'ok'}`);
		} catch (e) {
			res.className = 'result error';
			res.textContent = 'dial out failed: ' + e.message;
			logEvent(`${room}: dial out to ${body.sip_call_to} failed: ${e.message}`, 'error');
		}
	});
}

// ---- event stream ----

function handle(ev) {
	switch (ev.type) {
	case 'snapshot':
		state.rooms.clear();
		$('#rooms').querySelectorAll('.room').forEach((e) => e.remove());
		for (const r of ev.rooms) {
			setRoom(r.room);
			for (const p of r.participants) setPart(r.room.name, r.room, p);
		}
		renderCounts();
		break;
	case 'room_started':
		setRoom(ev.room);
		logEvent(`room ${ev.room.name} started`);
		break;
	case 'room_finished':
		removeRoom(ev.room.name);
		logEvent(`room ${ev.room.name} finished`);
		break;
	case 'participant_joined':
		setPart(ev.room, ev.room_info, ev.participant);
		logEvent(`${ev.room}/${ev.participant.identity} joined (${ev.participant.kind})`);
		break;
	case 'participant_left':
		removePart(ev.room, ev.participant.identity);
		logEvent(`${ev.room}/${ev.participant.identity} left`);
		break;
	case 'participant_updated':
		setPart(ev.room, ev.room_info, ev.participant);
		if (ev.reason === 'hold')
			logEvent(`${ev.room}/${ev.participant.identity} ${ev.held ? 'held' : 'resumed'}` +
				(ev.by_remote ? ' by the far end' : ''), 'hold');
		else {
			const a = ev.participant.attributes || {};
			logEvent(`${ev.room}/${ev.participant.identity} updated: sip.callStatus=${a['sip.callStatus'] || ''}` +
				(a['sip.hold'] ? ` sip.hold=${a['sip.hold']}` : ''));
		}
		break;
	case 'dtmf':
		logEvent(`${ev.room}/${ev.identity} pressed ${ev.digit}`, 'dtmf');
		break;
	case 'transfer':
		logEvent(`${ev.room}/${ev.identity} ${ev.attended ? 'attended ' : ''}transfer to ${ev.target}: ` +
			(ev.success ? 'succeeded' : `failed (${ev.sip_status} ${ev.reason})`), 'transfer');
		break;
	default:
		break;
	}
}

let retry = 500;
async function connect() {
	const conn = $('#conn');
	let tok;
	try {
		tok = await token('');
	} catch (e) {
		conn.textContent = e.message;
		setTimeout(connect, 5000);
		return;
	}
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	const ws = new WebSocket(`${proto}//${location.host}/console/ws?access_token=${encodeURIComponent(tok)}`);
	ws.onopen = () => {
		retry = 500;
		conn.className = 'conn up';
		conn.textContent = 'live';
	};
	ws.onmessage = (m) => {
		try { handle(JSON.parse(m.data)); } catch (e) { console.error(e); }
	};
	ws.onclose = (c) => {
		conn.className = 'conn down';
		conn.textContent = 'disconnected' + (c.reason ? ': ' + c.reason : '');
		if (c.code === 1008) tokens.clear();
		setTimeout(connect, retry);
		retry = Math.min(retry * 2, 10000);
	};
}

wireDial();
connect();
loadTrunks();
