/* Call manager: per-call glue between a SIP dialog and its room participant (ports, answer,
 * media changes, hold, DTMF, timeouts) and the dev routing. A call is freed only when the SIP
 * side has ended and its media has left the room (so its ports are closed and returned). */
#include "call/call.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "room/room.h"
#include "rtp/sock.h"
#include "rtp/srtp.h"
#include "sip/transport.h"

struct call {
	struct call_mgr *m;
	struct call *next, *prev;
	struct sip_call *sip;
	char id[80];			 /* Call-ID, for logs */
	char sid[24];			 /* SCL_..., the sip.callID attribute */
	char phone[64], trunk_phone[64]; /* sip.phoneNumber, sip.trunkPhoneNumber */
	char room[ROOM_NAME_MAX];
	uint16_t port;
	int rtp_fd, rtcp_fd; /* ours until handed to the room */
	struct room_part *part, *echo;
	char echo_tag; /* its address tells the echo participant's events apart */
	bool want_echo, sip_gone, part_gone, echo_gone, port_back;
	uv_timer_t answer_timer;
	bool timer_used, timer_closed;
	const char *fail_reason;
	uint8_t srtp_key[RTP_SRTP_KEY_LEN]; /* what we encrypt with (SDES) */
	char srtp_text[SDP_CRYPTO_KEY_MAX];
	const struct sip_call_handlers *app_h; /* outbound: the dialer's own handlers */
	void *app_arg;
};

struct call_mgr {
	struct call_mgr_opts o;
	struct room_service *rooms;
	struct call *calls;
	size_t n_calls;
	bool closing;
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

static enum media_codec_id codec_of(enum sdp_codec c)
{
	switch (c) {
	case SDP_CODEC_PCMA:
		return MEDIA_CODEC_PCMA;
	case SDP_CODEC_G722:
		return MEDIA_CODEC_G722;
	case SDP_CODEC_OPUS:
		return MEDIA_CODEC_OPUS;
	default:
		return MEDIA_CODEC_PCMU;
	}
}

static void port_release(struct call *c)
{
	if (c->rtp_fd >= 0)
		close(c->rtp_fd);
	if (c->rtcp_fd >= 0)
		close(c->rtcp_fd);
	c->rtp_fd = c->rtcp_fd = -1;
	if (c->port && !c->port_back) {
		rtp_pool_put(c->m->o.pool, c->port);
		c->port_back = true;
	}
}

static void call_timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void call_maybe_free(struct call *c)
{
	if (!c->sip_gone || (c->part && !c->part_gone) || (c->echo && !c->echo_gone))
		return;
	struct call_mgr *m = c->m;
	port_release(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		m->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	m->n_calls--;
	if (c->timer_used) {
		uv_timer_stop(&c->answer_timer);
		c->answer_timer.data = c;
		uv_close((uv_handle_t *)&c->answer_timer, call_timer_closed);
	} else {
		free(c);
	}
}

static int bind_ports(struct call *c)
{
	struct call_mgr *m = c->m;
	/* a port may be taken by another process: try a few */
	for (int i = 0; i < 16; i++) {
		uint16_t port = rtp_pool_get(m->o.pool);
		if (!port)
			return SB_ENORES;
		int fd = rtp_sock_bind(m->o.rtp_ip, port);
		int fd2 = fd >= 0 ? rtp_sock_bind(m->o.rtp_ip, (uint16_t)(port + 1)) : -1;
		if (fd >= 0 && fd2 >= 0) {
			c->port = port;
			c->rtp_fd = fd;
			c->rtcp_fd = fd2;
			return 0;
		}
		if (fd >= 0)
			close(fd);
		rtp_pool_put(m->o.pool, port);
	}
	return SB_ENORES;
}

/* Where the SDP says to send: nowhere for port 0, c=0.0.0.0 (hold) or a host name (then
 * latching finds the peer from its first packet). */
static socklen_t addr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	socklen_t len = port ? rtp_sockaddr(ip, port, ss) : 0;
	if (len && ss->ss_family == AF_INET &&
	    ((struct sockaddr_in *)(void *)ss)->sin_addr.s_addr == 0)
		return 0;
	return len;
}

static void leg_opts_from(struct call *c, const struct sip_media_state *ms,
			  struct media_leg_opts *o)
{
	struct call_mgr *m = c->m;
	memset(o, 0, sizeof(*o));
	o->rtp_fd = c->rtp_fd;
	o->rtcp_fd = ms->rtcp_mux ? -1 : c->rtcp_fd;
	o->remote_len = addr_of(ms->remote_addr, ms->remote_port, &o->remote);
	if (!ms->rtcp_mux)
		o->remote_rtcp_len =
		    addr_of(ms->remote_addr, ms->remote_rtcp_port, &o->remote_rtcp);
	o->codec = codec_of(ms->codec);
	o->pt = ms->pt;
	o->te_pt = ms->te_pt;
	o->codec_o = m->o.opus;
	if (ms->crypto_suite != SDP_CRYPTO_NONE &&
	    rtp_srtp_key_parse(ms->remote_crypto_key, strlen(ms->remote_crypto_key),
			       o->srtp_rx_key) == 0) {
		o->srtp = ms->crypto_suite == SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32
			      ? RTP_SRTP_AES_CM_128_HMAC_SHA1_32
			      : RTP_SRTP_AES_CM_128_HMAC_SHA1_80;
		memcpy(o->srtp_tx_key, c->srtp_key, sizeof(o->srtp_tx_key));
	}
	o->rtp_timeout_ms = m->o.rtp_timeout_ms;
	o->first_rtp_timeout_ms = m->o.first_rtp_timeout_ms;
}

static void join_room(struct call *c, const struct sip_media_state *ms)
{
	struct call_mgr *m = c->m;
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = c->room;
	j.kind = ROOM_PART_SIP;
	j.media = ROOM_MEDIA_LEG;
	j.arg = c;
	j.close_when_empty = c->want_echo;
	char identity[ROOM_IDENTITY_MAX];
	snprintf(identity, sizeof(identity), "sip_%.*s", 40, c->id);
	j.identity = identity;
	char name[80];
	snprintf(name, sizeof(name), "Phone %s", c->phone);
	if (c->phone[0])
		j.name = name;
	struct room_attr attrs[] = {
	    {"sip.callID", c->sid},	   {"sip.callIDFull", c->id},
	    {"sip.phoneNumber", c->phone}, {"sip.trunkPhoneNumber", c->trunk_phone},
	    {"sip.callStatus", "active"},
	};
	j.attrs = attrs;
	j.n_attrs = sizeof(attrs) / sizeof(attrs[0]);
	leg_opts_from(c, ms, &j.leg);
	if (ms->rtcp_mux && c->rtcp_fd >= 0) {
		close(c->rtcp_fd);
		c->rtcp_fd = -1;
	}
	c->rtp_fd = c->rtcp_fd = -1; /* the room has them now (or closed them on failure) */
	int err = room_join(m->rooms, &j, &c->part);
	if (err) {
		c->part = NULL;
		SB_ERROR("call", "%s: cannot join room %s: %s", c->id, c->room, sb_strerror(err));
		port_release(c);
		sip_call_hangup(c->sip, NULL, NULL);
		return;
	}
	SB_INFO("call", "%s joins room %s as %s (%s pt %u, %s%s%s)", c->id, c->room, identity,
		media_codec_name(j.leg.codec), (unsigned)ms->pt,
		ms->te_pt >= 0 ? "RFC 4733 DTMF" : "in-band DTMF",
		ms->crypto_suite != SDP_CRYPTO_NONE ? ", SRTP " : "",
		sdp_crypto_suite_name(ms->crypto_suite));
	if (c->want_echo) {
		struct room_join e;
		memset(&e, 0, sizeof(e));
		e.room = c->room;
		e.identity = "echo";
		e.kind = ROOM_PART_INTERNAL;
		e.media = ROOM_MEDIA_ECHO;
		e.arg = &c->echo_tag;
		if (room_join(m->rooms, &e, &c->echo))
			c->echo = NULL;
	}
}

static void on_media(struct sip_call *sc, const struct sip_media_state *ms, void *arg)
{
	(void)sc;
	struct call *c = arg;
	if (!c || c->sip_gone)
		return;
	const struct sdp_codec_info *ci = sdp_codec_info(ms->codec);
	SB_INFO("call", "media: %s pt %u to %s:%u (remote %s, local %s)", ci ? ci->name : "?",
		ms->pt, ms->remote_addr, ms->remote_port, sdp_dir_name(ms->remote_dir),
		sdp_dir_name(ms->local_dir));
	if (!c->part) {
		if (c->rtp_fd >= 0)
			join_room(c, ms);
	} else if (!c->part_gone) {
		struct media_leg_opts o;
		leg_opts_from(c, ms, &o);
		(void)room_part_update_leg(c->part, &o);
	}
	if (c->app_h && c->app_h->media && c->sip)
		c->app_h->media(sc, ms, c->app_arg);
}

static void on_hold(struct sip_call *sc, bool held, enum sdp_dir dir, void *arg)
{
	(void)sc;
	struct call *c = arg;
	SB_INFO("call", "call %s by remote (%s)", held ? "held" : "resumed", sdp_dir_name(dir));
	if (c->part && !c->part_gone)
		room_part_set_hold(c->part, held);
	if (c->app_h && c->app_h->hold)
		c->app_h->hold(sc, held, dir, c->app_arg);
}

static void on_info_dtmf(struct sip_call *sc, char digit, uint32_t ms, void *arg)
{
	(void)sc;
	struct call *c = arg;
	SB_INFO("call", "%s DTMF digit %c (SIP INFO, %u ms) in room %s", c->id, digit, ms, c->room);
	if (c->app_h && c->app_h->dtmf)
		c->app_h->dtmf(sc, digit, ms, c->app_arg);
}

static void on_ended(struct sip_call *sc, int status, const char *reason, void *arg)
{
	(void)sc;
	struct call *c = arg;
	if (!c)
		return;
	SB_INFO("call", "%s ended: %d %s%s%s", c->id, status, reason ? reason : "",
		c->fail_reason ? ", failed: " : "", c->fail_reason ? c->fail_reason : "");
	c->sip_gone = true;
	c->sip = NULL;
	if (c->app_h && c->app_h->ended)
		c->app_h->ended(sc, status, reason, c->app_arg);
	/* either may have left already (removed through the API) and be freed */
	if (c->part && !c->part_gone)
		room_part_leave(c->part);
	if (c->echo && !c->echo_gone)
		room_part_leave(c->echo);
	call_maybe_free(c);
}

static void on_progress(struct sip_call *sc, int status, void *arg)
{
	struct call *c = arg;
	if (c->app_h && c->app_h->progress)
		c->app_h->progress(sc, status, c->app_arg);
}

static void on_established(struct sip_call *sc, void *arg)
{
	struct call *c = arg;
	if (c->app_h && c->app_h->established)
		c->app_h->established(sc, c->app_arg);
}

static void on_refer(struct sip_call *sc, const struct sip_refer_request *r, void *arg)
{
	struct call *c = arg;
	if (c->app_h && c->app_h->refer)
		c->app_h->refer(sc, r, c->app_arg);
	else
		sip_call_refer_reject(sc, 603);
}

static const struct sip_call_handlers call_handlers = {
    .progress = on_progress,
    .established = on_established,
    .media = on_media,
    .hold = on_hold,
    .dtmf = on_info_dtmf,
    .refer = on_refer,
    .ended = on_ended,
};

static void local_media(struct call *c, struct sip_media_local *l)
{
	struct call_mgr *m = c->m;
	memset(l, 0, sizeof(*l));
	snprintf(l->addr, sizeof(l->addr), "%s", m->o.rtp_ip);
	l->port = c->port;
	memcpy(l->codecs, m->o.codecs, sizeof(l->codecs));
	l->n_codecs = m->o.n_codecs;
	l->telephone_event = true;
	l->rtcp_mux = true;
	l->srtp = m->o.srtp;
	snprintf(l->crypto_key, sizeof(l->crypto_key), "%s", c->srtp_text);
}

static void answer_now(struct call *c)
{
	struct sip_media_local l;
	local_media(c, &l);
	int err = sip_call_answer(c->sip, &l);
	if (err)
		sip_call_reject(c->sip, err == SB_ENOTFOUND ? 488 : 500, NULL);
}

static void answer_later(uv_timer_t *t)
{
	struct call *c = t->data;
	if (!c->sip_gone)
		answer_now(c);
}

/* room-NAME: NAME must be a plain name (letters, digits, - _ .). */
static bool room_from_user(struct sb_slice user, char *out, size_t cap)
{
	if (user.len <= 5 || user.len - 5 >= cap || memcmp(user.p, "room-", 5) != 0)
		return false;
	for (size_t i = 5; i < user.len; i++) {
		char ch = user.p[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
		if (!ok)
			return false;
	}
	memcpy(out, user.p + 5, user.len - 5);
	out[user.len - 5] = '\0';
	return true;
}

static struct call *call_new(struct call_mgr *m)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->rtp_fd = c->rtcp_fd = -1;
	char tok[12];
	sb_random_token(tok, sizeof(tok));
	snprintf(c->sid, sizeof(c->sid), "SCL_%.*s", (int)sizeof(tok), tok);
	c->next = m->calls;
	if (m->calls)
		m->calls->prev = c;
	m->calls = c;
	m->n_calls++;
	return c;
}

static void call_set_sip(struct call *c, struct sip_call *sc)
{
	c->sip = sc;
	struct sb_slice cid = sip_call_id(sc);
	snprintf(c->id, sizeof(c->id), "%.*s", (int)(cid.len < 79 ? cid.len : 79), cid.p);
}

static void fresh_room(struct call *c)
{
	char tok[12];
	sb_random_token(tok, sizeof(tok));
	snprintf(c->room, sizeof(c->room), "call-%.*s", (int)sizeof(tok), tok);
	c->want_echo = true;
}

/* The user part of a sip:/sips:/tel: target ("" when there is none). */
static void target_user(const char *t, char *out, size_t cap)
{
	out[0] = '\0';
	if (!t)
		return;
	size_t n = 0;
	if (!strncasecmp(t, "tel:", 4)) {
		t += 4;
		n = strcspn(t, ";");
	} else {
		const char *colon = strchr(t, ':');
		if (!colon)
			return;
		t = colon + 1;
		n = strcspn(t, "@;>");
		if (t[n] != '@')
			return;
	}
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), t);
}

int call_mgr_dial(struct call_mgr *m, const struct call_dial_opts *o, struct sip_call **out)
{
	if (m->closing)
		return SB_ESTATE;
	if (o->room && strlen(o->room) >= ROOM_NAME_MAX)
		return SB_EINVAL;
	struct call *c = call_new(m);
	if (!c)
		return SB_ENOMEM;
	c->app_h = o->h;
	c->app_arg = o->arg;
	target_user(o->sip.target, c->phone, sizeof(c->phone));
	snprintf(c->trunk_phone, sizeof(c->trunk_phone), "%s",
		 o->sip.from_user ? o->sip.from_user : "");
	if (o->room)
		snprintf(c->room, sizeof(c->room), "%s", o->room);
	else
		fresh_room(c);
	int err = 0;
	if (m->o.srtp == SDP_SRTP_REQUIRE) /* with ALLOW our offers are plain RTP */
		err = rtp_srtp_key_new(c->srtp_key, c->srtp_text, sizeof(c->srtp_text));
	if (!err)
		err = bind_ports(c);
	struct sip_dial_opts d = o->sip;
	if (!err) {
		local_media(c, &d.media);
		err = sip_dial(m->o.ua, &d, &call_handlers, c, &c->sip);
	}
	if (err) {
		c->sip_gone = true;
		c->sip = NULL;
		call_maybe_free(c);
		return err;
	}
	call_set_sip(c, c->sip);
	SB_INFO("call", "%s dialing %s (room %s)", c->id, o->sip.target, c->room);
	*out = c->sip;
	return 0;
}

void call_mgr_incoming(struct call_mgr *m, struct sip_call *sc, const struct sip_incoming *in)
{
	SB_INFO("call", "incoming call from %.*s to %.*s", SB_SLICE_ARG(in->from_user),
		SB_SLICE_ARG(in->to_user));
	/* Dev routing: only loopback callers are accepted until trunks exist. */
	if (m->closing || !sip_sockaddr_is_loopback(&in->src.addr)) {
		sip_call_reject(sc, 480, NULL);
		return;
	}
	struct call *c = call_new(m);
	if (!c) {
		sip_call_reject(sc, 503, NULL);
		return;
	}
	call_set_sip(c, sc);
	snprintf(c->phone, sizeof(c->phone), "%.*s",
		 (int)(in->from_user.len < 63 ? in->from_user.len : 63), in->from_user.p);
	snprintf(c->trunk_phone, sizeof(c->trunk_phone), "%.*s",
		 (int)(in->to_user.len < 63 ? in->to_user.len : 63), in->to_user.p);
	if (!room_from_user(in->to_user, c->room, sizeof(c->room)))
		fresh_room(c);
	sip_call_set_handlers(sc, &call_handlers, c);
	/* a key only when SRTP can be agreed: required, or allowed and offered */
	bool savp = in->invite->body.len &&
		    memmem(in->invite->body.p, in->invite->body.len, "RTP/SAVP", 8) != NULL;
	if ((m->o.srtp == SDP_SRTP_REQUIRE || (m->o.srtp == SDP_SRTP_ALLOW && savp)) &&
	    rtp_srtp_key_new(c->srtp_key, c->srtp_text, sizeof(c->srtp_text))) {
		sip_call_reject(sc, 500, NULL);
		return;
	}
	if (bind_ports(c)) {
		SB_WARN("call", "%s: no RTP port free", c->id);
		sip_call_reject(sc, 503, "No Media Ports"); /* ended frees the call */
		return;
	}
	if (m->o.answer_delay_ms) {
		sip_call_ringing(sc, NULL);
		uv_timer_init(m->o.loop, &c->answer_timer);
		c->answer_timer.data = c;
		c->timer_used = true;
		uv_timer_start(&c->answer_timer, answer_later, m->o.answer_delay_ms, 0);
		return;
	}
	answer_now(c);
}

/* ---- room events ---- */

static void on_room_event(void *arg, const struct room_event *ev)
{
	struct call_mgr *m = arg;
	switch (ev->type) {
	case ROOM_EV_ROOM_STARTED:
		SB_INFO("room", "room %s started", ev->room);
		return;
	case ROOM_EV_ROOM_FINISHED:
		SB_INFO("room", "room %s finished", ev->room);
		return;
	default:
		break;
	}
	if (!ev->part_arg)
		return;
	/* the participant's arg is its call, or the call's echo_tag for its echo participant */
	struct call *c = NULL;
	bool echo = false;
	for (struct call *x = m->calls; x; x = x->next) {
		if ((void *)x == ev->part_arg) {
			c = x;
			break;
		}
		if ((void *)&x->echo_tag == ev->part_arg) {
			c = x;
			echo = true;
			break;
		}
	}
	if (!c)
		return;
	switch (ev->type) {
	case ROOM_EV_JOINED:
		SB_INFO("room", "%s joined room %s", ev->identity, ev->room);
		break;
	case ROOM_EV_LEFT:
		SB_INFO("room", "%s left room %s", ev->identity, ev->room);
		if (echo) {
			c->echo_gone = true;
		} else {
			c->part_gone = true;
			port_release(c);
		}
		if (ev->stats)
			SB_INFO("call",
				"%s media: received %llu RTP packets, sent %llu, lost %llu, "
				"concealed %llu, jitter %u ms, rtt %u ms%s",
				c->id, (unsigned long long)ev->stats->rx_packets,
				(unsigned long long)ev->stats->tx_packets,
				(unsigned long long)ev->stats->lost,
				(unsigned long long)ev->stats->concealed, ev->stats->jitter_ms,
				ev->stats->rtt_ms, ev->stats->latched ? ", latched" : "");
		call_maybe_free(c);
		break;
	case ROOM_EV_DTMF:
		SB_INFO("call", "%s DTMF digit %c (%s, %u ms) in room %s", c->id, ev->digit,
			ev->inband ? "in-band" : "RFC 4733", ev->duration_ms, ev->room);
		break;
	case ROOM_EV_MEDIA_TIMEOUT:
		if (ev->timeout == MEDIA_LEG_NO_RTP_AFTER_ANSWER) {
			c->fail_reason = "no_rtp_after_answer";
			SB_WARN("call", "%s: no RTP after answer: call failed", c->id);
		} else {
			SB_WARN("call", "%s: RTP stopped: hanging up", c->id);
		}
		if (c->sip)
			sip_call_hangup(c->sip, NULL, NULL);
		break;
	case ROOM_EV_JOIN_FAILED:
		SB_ERROR("call", "%s: media could not start: %s", c->id, sb_strerror(ev->err));
		if (c->sip)
			sip_call_hangup(c->sip, NULL, NULL);
		break;
	default:
		break;
	}
}

static const struct room_service_handlers room_handlers = {.event = on_room_event};

int call_mgr_new(struct call_mgr **out, const struct call_mgr_opts *o)
{
	if (!o || !o->loop || !o->engine || !o->pool || !o->rtp_ip)
		return SB_EINVAL;
	struct call_mgr *m = calloc(1, sizeof(*m));
	if (!m)
		return SB_ENOMEM;
	m->o = *o;
	if (!m->o.n_codecs) {
		static const enum sdp_codec def[] = {SDP_CODEC_PCMU, SDP_CODEC_PCMA, SDP_CODEC_G722,
						     SDP_CODEC_OPUS};
		memcpy(m->o.codecs, def, sizeof(def));
		m->o.n_codecs = (uint8_t)(sizeof(def) / sizeof(def[0]));
	}
	struct room_service_opts ro = {
	    .loop = o->loop,
	    .engine = o->engine,
	    .rate = o->room_rate,
	    .empty_timeout_ms = o->room_empty_timeout_ms,
	    .departure_timeout_ms = o->room_departure_timeout_ms,
	    .h = &room_handlers,
	    .arg = m,
	};
	int err = room_service_new(&m->rooms, &ro);
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

static void rooms_closed(void *arg)
{
	struct call_mgr *m = arg;
	void (*cb)(void *) = m->closed_cb;
	void *cb_arg = m->closed_arg;
	/* calls whose SIP side never ended (it is shut down before us) cannot remain, but be safe
	 */
	while (m->calls) {
		struct call *c = m->calls;
		c->sip_gone = true;
		c->part = c->echo = NULL;
		call_maybe_free(c);
	}
	free(m);
	if (cb)
		cb(cb_arg);
}

void call_mgr_close(struct call_mgr *m, void (*cb)(void *arg), void *arg)
{
	m->closing = true;
	m->closed_cb = cb;
	m->closed_arg = arg;
	room_service_close(m->rooms, rooms_closed, m);
}

void call_mgr_set_ua(struct call_mgr *m, struct sip_ua *ua)
{
	m->o.ua = ua;
}

size_t call_mgr_calls(const struct call_mgr *m)
{
	return m->n_calls;
}

struct room_service *call_mgr_rooms(struct call_mgr *m)
{
	return m->rooms;
}

int call_mgr_hangup_participant(struct call_mgr *m, struct room_part *p)
{
	struct call *c = m->calls;
	while (c && !(c->part == p && !c->part_gone))
		c = c->next;
	if (!c)
		return SB_ENOTFOUND;
	SB_INFO("call", "%s: hanging up (participant removed from room %s)", c->id, c->room);
	const struct room_attr st = {"sip.callStatus", "hangup"};
	(void)room_part_update_attrs(p, &st, 1);
	room_part_leave(p);
	/* the ended handler may run inside (and free c once its participants have left) */
	if (c->sip && !c->sip_gone) {
		int err = sip_call_hangup(c->sip, NULL, NULL);
		if (err)
			SB_WARN("call", "hang-up failed: %s", sb_strerror(err));
	}
	return 0;
}
