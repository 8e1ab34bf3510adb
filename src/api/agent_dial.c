/* Outbound agent WebSockets: one libwebsockets client context on the control loop (as webhook.c),
 * one record per dispatched agent (resolve, connect, bridge or fallback) and its teardown. */
#include "api/agent_dial.h"

#include <libwebsockets.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/lws_uv.h"
#include "base/buf.h"
#include "base/compat.h"
#include "base/err.h"
#include "base/log.h"
#include "call/call.h"
#include "media/resample.h"
#include "media/tone.h"
#include "media/tts.h"
#include "media/wav.h"
#include "room/room.h"
#include "stream/bridge.h"

/* As api_ws (http.h): the largest message taken, and the send queue's limits */
#define MSG_MAX	   (8u * 1024 * 1024)
#define SOFT_LIMIT (256u * 1024)
#define HARD_LIMIT (8u * 1024 * 1024)
/* Closing: how often to look whether lws has finished, and for how long at most */
#define CLOSE_POLL_MS	 5
#define CLOSE_GIVE_UP_MS 5000
#define FIFO_AHEAD	 2 /* fallback frames kept ahead of the tick */

/* One declared agent, copied. */
struct agent {
	struct api_agent_def def;
	struct api_agent_url url;
	char host_hdr[300]; /* Host: with [] and a port that is not the default */
	struct stream_twilio_param *params;
	struct media_wav wav; /* API_AGENT_FAIL_PLAY */
	struct api_agent_close_plan close;
};

enum dstate {
	D_RESOLVING,  /* uv_getaddrinfo; the timer is the connect deadline */
	D_CONNECTING, /* the handshake runs on wsi */
	D_OPEN,	      /* bridged */
	D_FALLBACK,   /* the agent failed; the fallback participant (if any) runs */
	D_DONE,	      /* nothing more to start; freed once everything below is gone */
};

struct dial;
/* A native agent's transfer command waiting for its outcome (it may outlive the dial). */
struct dxfer {
	struct dial *x; /* NULL once the dial's bridge is gone */
	char *id, *to;
};

struct dial {
	struct api_agent_dial *d;
	struct dial *next, *prev;
	const struct agent *a;
	char room[ROOM_NAME_MAX];
	char caller[ROOM_IDENTITY_MAX]; /* the call's participant, looked up by identity */
	char call_id[CALL_ID_MAX];	/* for logs */
	enum dstate state;
	uv_timer_t timer;
	bool timer_closing;
	bool resolving; /* a uv_getaddrinfo request is out */
	uv_getaddrinfo_t req;
	struct lws *wsi;       /* ours while set (its opaque user data is this dial) */
	struct api_ws_out out; /* what we send it */
	struct sb_buf rx;
	bool rx_drop, rx_binary;
	struct dxfer *xfer;	     /* native: a transfer in progress */
	struct stream_bridge *b;     /* until stream_bridge_transport_closed */
	struct api_agent_rest *rest; /* Twilio: reachable by the REST hang-up while b lives */
	bool ringing;		     /* ringback on the caller */
	struct room_part *fb;	     /* the fallback participant, until its LEFT */
	bool fb_leave_asked;
	/* a say agent: its speech synthesised on the thread pool */
	uv_work_t work;
	bool synth; /* the work is out */
	uv_thread_t loop_thread;
	bool off_loop; /* the synthesis ran on another thread than the loop's */
	int synth_err;
	uint64_t synth_ms;
	struct media_wav speech;
};

struct api_agent_dial {
	uv_loop_t *loop;
	struct call_mgr *calls;
	struct room_service *rs;
	struct api_agent_ws *rest; /* Twilio streams' REST resource (borrowed; may be NULL) */
	struct agent *agents;
	size_t n_agents;
	struct agent say_default; /* sip:agent-say@ when no agent is called say */
	struct lws_context *ctx;  /* lws writes NULL here once destroyed */
	struct lws_protocols protocols[2];
	struct dial *dials;
	size_t n_dials;
	struct api_lws_handles lws_handles;
	bool closing;
	uv_timer_t close_timer;
	unsigned close_waited_ms;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* ---- URLs ---- */

int api_agent_url_parse(const char *url, struct api_agent_url *out)
{
	if (!url)
		return SB_EINVAL;
	memset(out, 0, sizeof(*out));
	size_t off;
	if (!strncasecmp(url, "ws://", 5)) {
		off = 5;
		out->port = 80;
	} else if (!strncasecmp(url, "wss://", 6)) {
		off = 6;
		out->tls = true;
		out->port = 443;
	} else {
		return SB_EINVAL;
	}
	const char *a = url + off;
	size_t alen = strcspn(a, "/?#");
	if (!alen || memchr(a, '@', alen))
		return SB_EINVAL;
	for (size_t i = 0; i < alen; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f)
			return SB_EINVAL;
	const char *host = a, *port = NULL;
	size_t hlen = alen;
	if (a[0] == '[') {
		const char *close = memchr(a, ']', alen);
		if (!close || close == a + 1)
			return SB_EINVAL;
		host = a + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < a + alen) {
			if (close[1] != ':')
				return SB_EINVAL;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(a, ':', alen);
		if (colon) {
			hlen = (size_t)(colon - a);
			port = colon + 1;
		}
	}
	if (!hlen || hlen >= sizeof(out->host))
		return SB_EINVAL;
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	if (port) {
		size_t plen = (size_t)(a + alen - port);
		unsigned long v = 0;
		if (!plen || plen > 5)
			return SB_EINVAL;
		for (size_t i = 0; i < plen; i++) {
			if (port[i] < '0' || port[i] > '9')
				return SB_EINVAL;
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (!v || v > 65535)
			return SB_EINVAL;
		out->port = (uint16_t)v;
	}
	const char *rest = a + alen;
	size_t rlen = strcspn(rest, "#");
	for (size_t i = 0; i < rlen; i++)
		if ((unsigned char)rest[i] <= ' ' || rest[i] == 0x7f)
			return SB_EINVAL;
	int n = snprintf(out->path, sizeof(out->path), "%s%.*s", rest[0] == '/' ? "" : "/",
			 (int)rlen, rest);
	if (n < 0 || (size_t)n >= sizeof(out->path))
		return SB_EINVAL;
	return 0;
}

/* ---- records ---- */

static const struct agent *find_agent(const struct api_agent_dial *d, const char *name)
{
	for (size_t i = 0; i < d->n_agents; i++)
		if (!strcmp(d->agents[i].def.name, name))
			return &d->agents[i];
	return !strcmp(name, "say") ? &d->say_default : NULL;
}

static struct room_part *caller_of(const struct dial *x)
{
	return room_service_find_part(x->d->rs, x->room, x->caller);
}

static void dial_timer_closed(uv_handle_t *h)
{
	struct dial *x = h->data;
	struct api_agent_dial *d = x->d;
	if (x->prev)
		x->prev->next = x->next;
	else
		d->dials = x->next;
	if (x->next)
		x->next->prev = x->prev;
	d->n_dials--;
	sb_buf_free(&x->rx);
	free(x);
}

/* Free x once nothing of it is out: no resolver request, connection, bridge or participant. */
static void maybe_free(struct dial *x)
{
	if (x->timer_closing || x->resolving || x->synth || x->wsi || x->b || x->fb)
		return;
	if (x->xfer) {
		x->xfer->x = NULL; /* its outcome has nobody to go to */
		x->xfer = NULL;
	}
	x->state = D_DONE;
	x->timer_closing = true;
	uv_close((uv_handle_t *)&x->timer, dial_timer_closed);
}

/* Forget wsi: its later callbacks find no dial (and a pending one is killed). */
static void detach(struct dial *x, bool kill)
{
	if (!x->wsi)
		return;
	lws_set_opaque_user_data(x->wsi, NULL);
	if (kill)
		lws_set_timeout(x->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	x->wsi = NULL;
	api_ws_out_clear(&x->out);
	sb_buf_free(&x->rx);
}

static void ringback(struct dial *x, bool on)
{
	if (x->ringing == on)
		return;
	x->ringing = on;
	struct room_part *c = caller_of(x);
	if (c && !room_part_play_tone(c, MEDIA_TONE_RINGBACK, MEDIA_TONE_US, on))
		SB_DEBUG("agent", "%s: ringback %s", x->call_id, on ? "on" : "off");
}

static void hang_up(struct dial *x, struct room_part *caller)
{
	if (x->d->closing || !caller)
		return;
	if (call_mgr_hangup_participant(x->d->calls, caller) == SB_ENOTFOUND)
		room_part_leave(caller);
}

/* ---- the fallback participant: echo, or a WAV then hang up ---- */

static void fb_leave(struct dial *x)
{
	if (x->fb && !x->fb_leave_asked) {
		x->fb_leave_asked = true;
		room_part_leave(x->fb);
	}
}

static void fb_audio(void *arg, const int16_t *pcm, size_t n, uint64_t now_ms)
{
	(void)now_ms;
	(void)n;
	struct dial *x = arg;
	if (!x->fb || x->fb_leave_asked)
		return;
	if (pcm && room_part_stream_queued(x->fb) < FIFO_AHEAD)
		(void)room_part_stream_push(x->fb, pcm);
}

static void fb_peer(void *arg, const struct room_peer_event *ev)
{
	struct dial *x = arg;
	if (ev->type == ROOM_PEER_LEFT && ev->identity && !strcmp(ev->identity, x->caller))
		fb_leave(x);
}

static void fb_event(void *arg, const struct room_event *ev)
{
	struct dial *x = arg;
	if (ev->type == ROOM_EV_JOIN_FAILED)
		SB_WARN("agent", "%s: room %s: the fallback could not start: %s", x->call_id,
			x->room, sb_strerror(ev->err));
	if (ev->type == ROOM_EV_LEFT) {
		x->fb = NULL;
		maybe_free(x);
	}
}

static const struct room_stream_handlers fb_handlers = {
    .audio = fb_audio, .peer = fb_peer, .event = fb_event};

/* The agent could not be reached: its on_failure. */
static void failed(struct dial *x, const char *why)
{
	const struct agent *a = x->a;
	SB_WARN("agent", "%s: room %s: agent %s (%s) failed: %s", x->call_id, x->room, a->def.name,
		a->def.url, why);
	ringback(x, false);
	x->state = D_FALLBACK;
	struct room_part *caller = caller_of(x);
	if (!caller || x->d->closing) {
		maybe_free(x);
		return;
	}
	if (a->def.on_failure == API_AGENT_FAIL_HANGUP) {
		SB_INFO("agent", "%s: hanging up (on_failure: hangup)", x->call_id);
		hang_up(x, caller);
		maybe_free(x);
		return;
	}
	bool echo = a->def.on_failure == API_AGENT_FAIL_ECHO;
	int err;
	if (echo) {
		const struct room_attr attrs[] = {{"agent.name", a->def.name},
						  {"agent.fallback", "echo"}};
		struct room_join j = {
		    .room = x->room,
		    .kind = ROOM_PART_INTERNAL,
		    .media = ROOM_MEDIA_STREAM,
		    .name = "Echo",
		    .attrs = attrs,
		    .n_attrs = SB_ARRAY_LEN(attrs),
		    .stream = &fb_handlers,
		    .stream_arg = x,
		};
		err = room_join(x->d->rs, &j, &x->fb);
		if (err)
			x->fb = NULL;
	} else {
		/* the announcer (agent_close.c) plays it, then hangs up */
		err = api_agent_announce(x->d->calls, caller, &a->wav, true, "Announcement",
					 a->def.name);
	}
	if (err) {
		SB_WARN("agent", "%s: the fallback cannot join room %s: %s: hanging up", x->call_id,
			x->room, sb_strerror(err));
		hang_up(x, caller);
		maybe_free(x);
		return;
	}
	SB_INFO("agent", "%s: room %s: fallback %s", x->call_id, x->room, echo ? "echo" : "play");
	if (!echo)
		maybe_free(x);
}

/* ---- the bridge's transport ---- */

static int enqueue(struct dial *x, bool binary, const void *p, size_t len, bool droppable)
{
	if (!x->wsi)
		return SB_ESTATE;
	int err =
	    api_ws_out_push(&x->out, x->wsi, binary, p, len, droppable, SOFT_LIMIT, HARD_LIMIT);
	if (err == SB_ENORES)
		SB_WARN("agent", "%s: agent %s does not read: closing", x->call_id, x->a->def.name);
	return err;
}

static int br_send(void *arg, const char *text, size_t len, bool droppable)
{
	return enqueue(arg, false, text, len, droppable);
}

static int br_send_binary(void *arg, const void *p, size_t len, bool droppable)
{
	return enqueue(arg, true, p, len, droppable);
}

static void br_close(void *arg)
{
	struct dial *x = arg;
	if (x->wsi)
		api_ws_out_close(&x->out, x->wsi, LWS_CLOSE_STATUS_NORMAL, "stream stopped");
}

/* The agent closed its socket (the bridge's only use of hangup): its on_close. */
static void br_hangup(void *arg, struct room_part *caller)
{
	struct dial *x = arg;
	if (x->d->closing || !caller)
		return;
	api_agent_close_run(&x->a->close, x->d->calls, caller, x->a->def.name);
}

static void br_first_media(void *arg)
{
	ringback(arg, false);
}

static void xfer_free(struct dxfer *t)
{
	free(t->id);
	free(t->to);
	free(t);
}

static void xfer_done(void *arg, int status, const char *reason)
{
	struct dxfer *t = arg;
	if (t->x) {
		t->x->xfer = NULL;
		if (t->x->b)
			stream_bridge_transfer_result(t->x->b, t->id, t->to, status, reason);
	}
	xfer_free(t);
}

/* A native agent's call command, through the call manager (as GET /agent does). */
static int br_command(void *arg, struct room_part *caller, const struct stream_native_cmd *cmd)
{
	struct dial *x = arg;
	struct call_mgr *m = x->d->calls;
	if (x->d->closing)
		return SB_ESTATE;
	switch (cmd->type) {
	case STREAM_NATIVE_CMD_HANGUP:
		SB_INFO("agent", "%s: agent %s: hangup", x->call_id, x->a->def.name);
		hang_up(x, caller);
		return 0;
	case STREAM_NATIVE_CMD_TRANSFER: {
		if (x->xfer)
			return SB_EBUSY;
		struct dxfer *t = calloc(1, sizeof(*t));
		if (!t || !(t->to = strdup(cmd->to)) || (cmd->id && !(t->id = strdup(cmd->id)))) {
			if (t)
				xfer_free(t);
			return SB_ENOMEM;
		}
		t->x = x;
		int err =
		    call_mgr_transfer_participant(m, caller, cmd->to, NULL, 0, false, xfer_done, t);
		if (err) {
			xfer_free(t);
			return err;
		}
		x->xfer = t;
		return 0;
	}
	case STREAM_NATIVE_CMD_HOLD:
	case STREAM_NATIVE_CMD_RESUME:
		return call_mgr_hold_participant(m, caller, cmd->type == STREAM_NATIVE_CMD_HOLD,
						 NULL);
	case STREAM_NATIVE_CMD_SEND_DTMF:
		return room_part_send_dtmf(caller, cmd->digits);
	case STREAM_NATIVE_CMD_MUTE: /* done by the bridge */
		break;
	}
	return SB_EUNSUPPORTED;
}

static const struct stream_bridge_handlers bridge_handlers = {
    .send = br_send, .close = br_close, .hangup = br_hangup, .first_media = br_first_media};

static const struct stream_bridge_handlers native_handlers = {.send = br_send,
							      .close = br_close,
							      .hangup = br_hangup,
							      .first_media = br_first_media,
							      .command = br_command,
							      .send_binary = br_send_binary};

/* ---- the connection ---- */

/* The handshake is done: bridge the agent to the call (or close it if the call is gone). */
static void established(struct dial *x)
{
	uv_timer_stop(&x->timer);
	struct room_part *caller = caller_of(x);
	const struct agent *a = x->a;
	if (!caller) {
		SB_INFO("agent", "%s: agent %s connected after the call ended: closing", x->call_id,
			a->def.name);
		x->state = D_DONE;
		api_ws_out_close(&x->out, x->wsi, LWS_CLOSE_STATUS_NORMAL, "call ended");
		return;
	}
	bool native = a->def.protocol == API_AGENT_NATIVE;
	struct stream_bridge_opts bo = {.rs = x->d->rs,
					.room = x->room,
					.params = a->params,
					.n_params = a->def.n_params,
					.caller = caller,
					.protocol =
					    native ? STREAM_PROTO_NATIVE : STREAM_PROTO_TWILIO,
					.rate = a->def.rate};
	x->state = D_OPEN; /* the bridge sends connected and start (native: start) at once */
	int err = stream_bridge_new(&x->b, &bo, native ? &native_handlers : &bridge_handlers, x);
	if (err) {
		x->b = NULL;
		api_ws_out_close(&x->out, x->wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				 "cannot join the room");
		failed(x, sb_strerror(err));
		return;
	}
	x->rest = api_agent_ws_rest_begin(x->d->rest, x->b, caller, false);
	SB_INFO("agent", "%s: room %s: agent %s connected (%s)", x->call_id, x->room, a->def.name,
		a->def.url);
}

/* The connection is over (closed, broken, or never made). */
static void gone(struct dial *x, const char *why)
{
	enum dstate st = x->state;
	detach(x, false);
	if (x->xfer) {
		x->xfer->x = NULL; /* its outcome has nobody to go to */
		x->xfer = NULL;
	}
	if (x->b) {
		struct stream_bridge *b = x->b;
		x->b = NULL;
		api_agent_ws_rest_end(x->rest);
		x->rest = NULL;
		SB_INFO("agent", "%s: agent %s closed: %s", x->call_id, x->a->def.name, why);
		stream_bridge_transport_closed(b); /* hangs the call up */
	} else if (st == D_RESOLVING || st == D_CONNECTING) {
		uv_timer_stop(&x->timer);
		failed(x, why);
	}
	ringback(x, false);
	maybe_free(x);
}

static void receive(struct dial *x, struct lws *wsi, const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		sb_buf_reset(&x->rx);
		x->rx.limit = MSG_MAX;
		x->rx_drop = false;
		x->rx_binary = lws_frame_is_binary(wsi) != 0;
	}
	if (!x->rx_drop && len) {
		sb_buf_append(&x->rx, in, len);
		if (x->rx.err) {
			SB_WARN("agent", "%s: agent %s: message dropped: %s", x->call_id,
				x->a->def.name, sb_strerror(x->rx.err));
			x->rx_drop = true;
			sb_buf_free(&x->rx);
		}
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;
	bool drop = x->rx_drop;
	x->rx_drop = false;
	if (!drop && x->b && !x->out.closing) {
		struct sb_slice m = sb_buf_slice(&x->rx);
		if (x->rx_binary)
			stream_bridge_input_binary(x->b, (const uint8_t *)(m.p ? m.p : ""),
						   m.p ? m.len : 0);
		else
			stream_bridge_input(x->b, m.p ? m.p : "", m.p ? m.len : 0);
	}
	sb_buf_reset(&x->rx);
}

static int add_headers(struct dial *x, struct lws *wsi, void *in, size_t len)
{
	unsigned char **p = in, *end = *p + len - 1;
	for (size_t i = 0; i < x->a->def.n_headers; i++) {
		const struct api_agent_kv *h = &x->a->def.headers[i];
		char name[256];
		int n = snprintf(name, sizeof(name), "%s:", h->key);
		if (n < 0 || (size_t)n >= sizeof(name) ||
		    lws_add_http_header_by_name(wsi, (const unsigned char *)name,
						(const unsigned char *)h->value,
						(int)strlen(h->value), p, end))
			return -1;
	}
	return 0;
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct dial *x = lws_get_opaque_user_data(wsi);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		if (!x)
			return -1;
		if (!x->wsi)
			x->wsi = wsi; /* still inside lws_client_connect_via_info */
		return add_headers(x, wsi, in, len);
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (!x)
			return -1;
		x->wsi = wsi;
		established(x);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (x)
			receive(x, wsi, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (!x)
			return -1;
		return api_ws_out_writeable(&x->out, wsi);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (x) {
			char why[160];
			snprintf(why, sizeof(why), "%.*s", in && len ? (int)len : 16,
				 in && len ? (const char *)in : "connection error");
			x->wsi = wsi;
			gone(x, why);
		}
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (x) {
			x->wsi = wsi;
			gone(x, "connection closed");
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void connect_to(struct dial *x, const char *addr)
{
	const struct agent *a = x->a;
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = x->d->ctx;
	ci.address = addr;
	ci.port = a->url.port;
	ci.ssl_connection = a->url.tls ? LCCSCF_USE_SSL : 0;
	ci.path = a->url.path;
	ci.host = a->host_hdr;
	ci.origin = a->host_hdr;
	ci.local_protocol_name = x->d->protocols[0].name;
	ci.alpn = "http/1.1";
	ci.opaque_user_data = x;
	x->state = D_CONNECTING;
	x->wsi = NULL;
	struct lws *wsi = lws_client_connect_via_info(&ci);
	if (x->state != D_CONNECTING)
		return; /* failed inside the call, already handled */
	if (!wsi) {
		x->wsi = NULL;
		gone(x, "cannot connect");
		return;
	}
	x->wsi = wsi;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct dial *x = SB_CONTAINER_OF(req, struct dial, req);
	x->resolving = false;
	if (x->d->closing || x->state != D_RESOLVING) {
		uv_freeaddrinfo(res);
		maybe_free(x);
		return;
	}
	if (status || !res) {
		char why[320];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", x->a->url.host,
			 status ? uv_strerror(status) : "no address");
		uv_freeaddrinfo(res);
		gone(x, why);
		return;
	}
	char addr[64] = "";
	if (res->ai_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)(const void *)res->ai_addr, addr,
			    sizeof(addr));
	else
		uv_ip4_name((const struct sockaddr_in *)(const void *)res->ai_addr, addr,
			    sizeof(addr));
	uv_freeaddrinfo(res);
	connect_to(x, addr);
}

static void on_timeout(uv_timer_t *t)
{
	struct dial *x = t->data;
	if (x->state != D_RESOLVING && x->state != D_CONNECTING)
		return;
	char why[64];
	snprintf(why, sizeof(why), "no answer within %u ms",
		 (unsigned)(x->a->def.connect_timeout_ms ? x->a->def.connect_timeout_ms
							 : API_AGENT_CONNECT_TIMEOUT_MS));
	detach(x, true); /* a late resolver answer sees the state and is ignored */
	gone(x, why);
}

/* ---- the say agent ---- */

/* On a thread-pool thread: espeak-ng (blocking, tens of milliseconds a sentence). */
static void say_work(uv_work_t *w)
{
	struct dial *x = SB_CONTAINER_OF(w, struct dial, work);
	uv_thread_t self = uv_thread_self();
	x->off_loop = !uv_thread_equal(&self, &x->loop_thread);
	uint64_t t0 = uv_hrtime();
	x->synth_err = media_tts_say(x->a->def.say, x->a->def.voice, &x->speech);
	const char *why;
	if (!x->synth_err && api_agent_close_check_wav(&x->speech, &why)) {
		/* espeak-ng speaks at 22050 Hz: to a stream participant's rate, here too */
		struct media_wav r;
		x->synth_err = media_resample_wav(&x->speech, 16000, &r);
		media_wav_free(&x->speech);
		if (!x->synth_err)
			x->speech = r;
		media_resampler_cache_flush(); /* this thread's filters */
	}
	x->synth_ms = (uv_hrtime() - t0) / 1000000;
}

static void say_done(uv_work_t *w, int status)
{
	struct dial *x = SB_CONTAINER_OF(w, struct dial, work);
	const struct agent *a = x->a;
	x->synth = false;
	x->state = D_DONE;
	struct room_part *caller = x->d->closing ? NULL : caller_of(x);
	if (status || x->synth_err) {
		SB_WARN("agent", "%s: agent %s: cannot speak: %s", x->call_id, a->def.name,
			status ? uv_strerror(status) : sb_strerror(x->synth_err));
		if (!a->def.say_stay)
			hang_up(x, caller);
	} else if (!caller) {
		SB_INFO("agent", "%s: agent %s: the call ended before the speech", x->call_id,
			a->def.name);
	} else {
		SB_INFO("agent",
			"%s: agent %s: synthesised %llu ms of speech in %llu ms on the thread pool "
			"(off the control loop: %s)",
			x->call_id, a->def.name,
			(unsigned long long)x->speech.n * 1000 /
			    (x->speech.rate ? x->speech.rate : 1),
			(unsigned long long)x->synth_ms, x->off_loop ? "yes" : "no");
		int err = api_agent_announce(x->d->calls, caller, &x->speech, !a->def.say_stay,
					     "Say", a->def.name);
		if (err) {
			SB_WARN("agent", "%s: agent %s: cannot play the speech: %s", x->call_id,
				a->def.name, sb_strerror(err));
			if (!a->def.say_stay)
				hang_up(x, caller);
		}
	}
	media_wav_free(&x->speech);
	maybe_free(x);
}

static void say_start(struct dial *x)
{
	x->loop_thread = uv_thread_self();
	SB_INFO("agent", "%s: room %s: agent %s says \"%s\" (voice %s, then %s)", x->call_id,
		x->room, x->a->def.name, x->a->def.say, x->a->def.voice ? x->a->def.voice : "en",
		x->a->def.say_stay ? "stay" : "hangup");
	int err = uv_queue_work(x->d->loop, &x->work, say_work, say_done);
	if (err) {
		SB_WARN("agent", "%s: cannot queue the speech: %s", x->call_id, uv_strerror(err));
		if (!x->a->def.say_stay)
			hang_up(x, caller_of(x));
		maybe_free(x);
		return;
	}
	x->synth = true;
}

void api_agent_dial_dispatch(void *arg, const char *room, const char *agent_name,
			     struct room_part *caller)
{
	struct api_agent_dial *d = arg;
	if (d->closing || !room || !agent_name || !caller)
		return;
	const struct agent *a = find_agent(d, agent_name);
	const char *cid = call_mgr_participant_call_id(d->calls, caller);
	if (!a) {
		SB_WARN("agent",
			"%s: room %s names agent %s, which is not declared (agents: in the "
			"config): no agent dialled",
			cid, room, agent_name);
		return;
	}
	struct dial *x = calloc(1, sizeof(*x));
	if (!x) {
		SB_ERROR("agent", "%s: agent %s: out of memory", cid, agent_name);
		return;
	}
	x->d = d;
	x->a = a;
	snprintf(x->room, sizeof(x->room), "%s", room);
	snprintf(x->caller, sizeof(x->caller), "%s", room_part_identity(caller));
	snprintf(x->call_id, sizeof(x->call_id), "%s", cid);
	x->state = a->def.say ? D_FALLBACK : D_RESOLVING;
	uv_timer_init(d->loop, &x->timer);
	x->timer.data = x;
	x->next = d->dials;
	if (d->dials)
		d->dials->prev = x;
	d->dials = x;
	d->n_dials++;
	if (a->def.say) {
		say_start(x);
		return;
	}
	SB_INFO("agent", "%s: room %s: dialling agent %s at %s", cid, room, a->def.name,
		a->def.url);
	uv_timer_start(&x->timer, on_timeout,
		       a->def.connect_timeout_ms ? a->def.connect_timeout_ms
						 : API_AGENT_CONNECT_TIMEOUT_MS,
		       0);
	if (a->def.ringback)
		ringback(x, true);
	char port[8];
	snprintf(port, sizeof(port), "%u", a->url.port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int err = uv_getaddrinfo(d->loop, &x->req, on_resolved, a->url.host, port, &hints);
	if (err) {
		/* reported from the loop, never from inside the call manager's hook */
		SB_WARN("agent", "%s: cannot resolve %s: %s", cid, a->url.host, uv_strerror(err));
		uv_timer_start(&x->timer, on_timeout, 0, 0);
		return;
	}
	x->resolving = true;
}

size_t api_agent_dial_active(const struct api_agent_dial *d)
{
	return d->n_dials;
}

/* ---- lifecycle ---- */

static char *dup_or_null(const char *s, bool *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static struct api_agent_kv *kv_dup(const struct api_agent_kv *v, size_t n, bool *oom)
{
	if (!n)
		return NULL;
	struct api_agent_kv *o = calloc(n, sizeof(*o));
	if (!o) {
		*oom = true;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		o[i].key = dup_or_null(v[i].key ? v[i].key : "", oom);
		o[i].value = dup_or_null(v[i].value ? v[i].value : "", oom);
	}
	return o;
}

static void kv_free(struct api_agent_kv *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static void agents_free(struct api_agent_dial *d)
{
	for (size_t i = 0; i < d->n_agents; i++) {
		struct agent *a = &d->agents[i];
		free(a->def.name);
		free(a->def.url);
		free(a->def.play_file);
		free(a->def.say);
		free(a->def.voice);
		kv_free(a->def.headers, a->def.n_headers);
		kv_free(a->def.params, a->def.n_params);
		free(a->params);
		media_wav_free(&a->wav);
		api_agent_close_plan_free(&a->close);
	}
	free(d->agents);
	d->agents = NULL;
	d->n_agents = 0;
}

/* One agent copied and checked (URL, WAV). */
static int agent_copy(struct agent *a, const struct api_agent_def *src)
{
	bool oom = false;
	a->def = *src;
	a->def.on_close = (struct api_agent_close){.kind = src->on_close.kind};
	a->def.name = dup_or_null(src->name ? src->name : "", &oom);
	a->def.url = dup_or_null(src->url ? src->url : "", &oom);
	a->def.play_file = dup_or_null(src->play_file, &oom);
	a->def.say = dup_or_null(src->say, &oom);
	a->def.voice = dup_or_null(src->voice, &oom);
	a->def.headers = kv_dup(src->headers, src->n_headers, &oom);
	a->def.params = kv_dup(src->params, src->n_params, &oom);
	a->params = src->n_params ? calloc(src->n_params, sizeof(*a->params)) : NULL;
	if (oom || (src->n_params && !a->params) || (src->n_headers && !a->def.headers))
		return SB_ENOMEM;
	for (size_t i = 0; i < src->n_params; i++)
		a->params[i] =
		    (struct stream_twilio_param){a->def.params[i].key, a->def.params[i].value};
	if (a->def.protocol == API_AGENT_NATIVE && a->def.rate &&
	    !stream_native_rate_valid(a->def.rate)) {
		SB_ERROR("agent", "agent %s: rate %u (want 8000, 16000, 24000 or 48000)",
			 a->def.name, (unsigned)a->def.rate);
		return SB_EINVAL;
	}
	if (a->def.say)
		return 0; /* built in: no URL, no connection */
	if (api_agent_url_parse(a->def.url, &a->url)) {
		SB_ERROR("agent", "agent %s: bad url '%s' (want ws:// or wss://)", a->def.name,
			 a->def.url);
		return SB_EINVAL;
	}
	bool v6 = strchr(a->url.host, ':') != NULL;
	bool dflt = a->url.port == (a->url.tls ? 443 : 80);
	char port[8] = "";
	if (!dflt)
		snprintf(port, sizeof(port), ":%u", a->url.port);
	snprintf(a->host_hdr, sizeof(a->host_hdr), "%s%s%s%s", v6 ? "[" : "", a->url.host,
		 v6 ? "]" : "", port);
	int err = api_agent_close_prepare(&a->close, &src->on_close, a->def.name);
	if (err)
		return err;
	if (a->def.on_failure == API_AGENT_FAIL_PLAY) {
		err = a->def.play_file ? media_wav_load(a->def.play_file, &a->wav) : SB_EINVAL;
		if (err) {
			SB_ERROR("agent", "agent %s: cannot read on_failure's WAV %s: %s",
				 a->def.name, a->def.play_file ? a->def.play_file : "(none)",
				 sb_strerror(err));
			return SB_EINVAL;
		}
		const char *why;
		if (api_agent_close_check_wav(&a->wav, &why)) {
			SB_ERROR("agent", "agent %s: %s: %u Hz: %s", a->def.name, a->def.play_file,
				 (unsigned)a->wav.rate, why);
			return SB_EINVAL;
		}
	}
	return 0;
}

static int start_lws(struct api_agent_dial *d, const char *ca_file)
{
	bool tls = false;
	for (size_t i = 0; i < d->n_agents; i++)
		tls |= d->agents[i].url.tls;
	d->protocols[0] = (struct lws_protocols){.name = "sb-agent", .callback = on_lws};
	d->ctx =
	    api_lws_client_create(d->loop, d->protocols, d, tls, ca_file, &d->ctx, &d->lws_handles);
	if (!d->ctx) {
		SB_ERROR("agent", "cannot start the libwebsockets client");
		return SB_EIO;
	}
	return 0;
}

int api_agent_dial_new(struct api_agent_dial **out, const struct api_agent_dial_opts *o)
{
	if (!o || !o->loop || !o->calls || (o->n_agents && !o->agents))
		return SB_EINVAL;
	struct api_agent_dial *d = calloc(1, sizeof(*d));
	if (!d)
		return SB_ENOMEM;
	d->loop = o->loop;
	d->calls = o->calls;
	d->rest = o->rest;
	d->rs = call_mgr_rooms(o->calls);
	int err = 0;
	if (o->n_agents && !(d->agents = calloc(o->n_agents, sizeof(*d->agents)))) {
		err = SB_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < o->n_agents; i++) {
		d->n_agents = i + 1;
		if ((err = agent_copy(&d->agents[i], &o->agents[i])) != 0)
			goto out;
	}
	bool dialled = false;
	for (size_t i = 0; i < d->n_agents; i++)
		dialled |= !d->agents[i].def.say;
	if (dialled && (err = start_lws(d, o->ca_file)) != 0)
		goto out;
	d->say_default.def =
	    (struct api_agent_def){.name = (char *)(uintptr_t) "say",
				   .url = (char *)(uintptr_t) "",
				   .say = (char *)(uintptr_t)API_AGENT_SAY_DEFAULT};
	uv_timer_init(d->loop, &d->close_timer);
	d->close_timer.data = d;
	for (size_t i = 0; i < d->n_agents; i++)
		if (d->agents[i].def.say)
			SB_INFO("agent", "agent %s: says \"%s\" (then %s)", d->agents[i].def.name,
				d->agents[i].def.say,
				d->agents[i].def.say_stay ? "stay" : "hangup");
		else
			SB_INFO("agent", "agent %s: %s (%s%s, on failure %s)",
				d->agents[i].def.name, d->agents[i].def.url,
				d->agents[i].def.protocol == API_AGENT_NATIVE ? "native" : "twilio",
				d->agents[i].def.ringback ? ", ringback" : "",
				d->agents[i].def.on_failure == API_AGENT_FAIL_HANGUP ? "hangup"
				: d->agents[i].def.on_failure == API_AGENT_FAIL_ECHO ? "echo"
										     : "play");
	*out = d;
	return 0;
out:
	agents_free(d);
	free(d);
	return err;
}

static void close_timer_closed(uv_handle_t *h)
{
	struct api_agent_dial *d = h->data;
	void (*cb)(void *) = d->close_cb;
	void *arg = d->close_arg;
	agents_free(d);
	free(d);
	if (cb)
		cb(arg);
}

static void close_poll(uv_timer_t *t)
{
	struct api_agent_dial *d = t->data;
	d->close_waited_ms += CLOSE_POLL_MS;
	if (d->ctx && !api_lws_handles_open(d->loop, &d->lws_handles))
		lws_context_destroy(d->ctx); /* the second call: frees it, d->ctx = NULL */
	if (d->ctx && d->close_waited_ms >= CLOSE_GIVE_UP_MS) {
		uv_timer_stop(t);
		SB_WARN("agent", "libwebsockets did not finish closing in %u ms",
			(unsigned)CLOSE_GIVE_UP_MS);
		if (d->close_cb)
			d->close_cb(d->close_arg); /* d stays: lws may still call on_lws */
		return;
	}
	if (d->ctx || d->dials)
		return;
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, close_timer_closed);
}

void api_agent_dial_close(struct api_agent_dial *d, void (*cb)(void *arg), void *arg)
{
	d->closing = true;
	d->close_cb = cb;
	d->close_arg = arg;
	for (struct dial *x = d->dials, *next; x; x = next) {
		next = x->next;
		uv_timer_stop(&x->timer);
		if (x->resolving)
			uv_cancel((uv_req_t *)&x->req); /* on_resolved runs, with UV_ECANCELED */
		detach(x, false);
		if (x->b) {
			struct stream_bridge *b = x->b;
			x->b = NULL;
			api_agent_ws_rest_end(x->rest);
			x->rest = NULL;
			stream_bridge_transport_closed(
			    b); /* its participant has left with the rooms */
		}
		x->fb = NULL; /* gone with the rooms */
		maybe_free(x);
	}
	if (d->ctx)
		lws_context_destroy(d->ctx);
	uv_timer_start(&d->close_timer, close_poll, CLOSE_POLL_MS, CLOSE_POLL_MS);
}
