/* Call manager: per-call glue between a SIP dialog and its room participant (ports, answer,
 * media changes, hold, DTMF, timeouts), outbound dialing, room events and the manager's life;
 * how an incoming INVITE is routed (dev routing, trunk auth, PIN entry) is call_inbound.c's.
 * A call is freed only when the SIP side has ended and its media has left the room (so its
 * ports are closed and returned). */
#include "call/call.h"
#include "call/call_int.h"

#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "call/route.h"
#include "media/dtmf.h"
#include "media/resample.h"
#include "media/wav.h"
#include "room/room.h"
#include "rtp/sock.h"
#include "rtp/srtp.h"
#include "sip/digest.h"
#include "store/store.h"

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
	if (c->spare_rtp >= 0)
		close(c->spare_rtp);
	if (c->spare_rtcp >= 0)
		close(c->spare_rtcp);
	c->spare_rtp = c->spare_rtcp = -1;
	if (c->port && !c->port_back) {
		rtp_pool_put(c->m->o.pool, c->port);
		c->port_back = true;
	}
}

/* The outbound setup's outcome, once. */
static void report_outcome(struct call *c, int status, const char *reason, bool ring_timeout)
{
	void (*fn)(void *, int, const char *, bool) = c->outcome;
	c->outcome = NULL;
	if (fn)
		fn(c->outcome_arg, status, reason, ring_timeout);
}

static void call_free(struct call *c)
{
	report_outcome(c, 0, "shut down", false);
	for (size_t i = 0; i < c->n_xfers; i++)
		store_transfer_free(&c->xfers[i]);
	free(c->dtmf);
	free(c->xfer_target);
	call_route_out_free(&c->route);
	free(c->invite_copy);
	free(c->hdrs);
	free(c);
}

static void call_timer_closed(uv_handle_t *h)
{
	call_free(h->data);
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
	call__metrics_ended(c);
	if (c->timer_used) {
		uv_timer_stop(&c->answer_timer);
		c->answer_timer.data = c;
		uv_close((uv_handle_t *)&c->answer_timer, call_timer_closed);
	} else {
		call_free(c);
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

static void max_duration_fire(uv_timer_t *t)
{
	struct call *c = t->data;
	if (c->sip_gone || !c->sip)
		return;
	SB_INFO("call", "%s: max call duration reached: hanging up", c->id);
	if (c->part && !c->part_gone) {
		const struct room_attr a = {"sip.callStatus", "hangup"};
		(void)room_part_update_attrs(c->part, &a, 1);
	}
	sip_call_hangup(c->sip, NULL, NULL);
}

/* A routed call about to join its room: the rule's room_config when the call creates the
 * room, and the trunk's max_call_duration from now on. */
static void routed_room_setup(struct call *c)
{
	struct call_mgr *m = c->m;
	const struct call_route_room_config *rc = &c->route.room_config;
	struct room_info ri;
	if (rc->set && room_service_get_room(m->rooms, c->room, &ri) == SB_ENOTFOUND) {
		struct room_create_opts o = {.name = c->room,
					     .empty_timeout_s = rc->empty_timeout_s,
					     .departure_timeout_s = rc->departure_timeout_s,
					     .max_participants = rc->max_participants,
					     .metadata = rc->metadata};
		int err = room_service_create_room(m->rooms, &o, NULL);
		if (err)
			SB_WARN("call", "%s: room %s: the rule's room_config not applied: %s",
				c->id, c->room, sb_strerror(err));
	}
	if (c->route.max_call_duration_ms) {
		if (!c->timer_used) {
			uv_timer_init(m->o.loop, &c->answer_timer);
			c->answer_timer.data = c;
			c->timer_used = true;
		}
		uv_timer_start(&c->answer_timer, max_duration_fire, c->route.max_call_duration_ms,
			       0);
	}
}

/* A call to no room in particular gets a fresh room with the echo participant. */
static void join_echo(struct call *c)
{
	if (!c->want_echo)
		return;
	struct room_join e;
	memset(&e, 0, sizeof(e));
	e.room = c->room;
	e.identity = "echo";
	e.kind = ROOM_PART_INTERNAL;
	e.media = ROOM_MEDIA_ECHO;
	e.arg = &c->echo_tag;
	if (room_join(c->m->rooms, &e, &c->echo))
		c->echo = NULL;
}

/* The agents of the call's rule (or its dev agent-NAME), now that it is in its room. */
static void dispatch_agents(struct call *c)
{
	struct call_mgr *m = c->m;
	if (!m->agent_dispatch || c->pin_wait || !c->part)
		return;
	if (c->agent[0])
		m->agent_dispatch(m->agent_arg, c->room, c->agent, c->part);
	else if (c->routed)
		for (size_t i = 0; i < c->route.room_config.n_agents; i++)
			m->agent_dispatch(m->agent_arg, c->room, c->route.room_config.agents[i],
					  c->part);
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
	j.close_when_empty = c->want_echo || c->pin_wait || c->agent[0];
	char identity[ROOM_IDENTITY_MAX];
	snprintf(identity, sizeof(identity), "sip_%.*s", 40, c->id);
	j.identity = identity;
	char name[80];
	snprintf(name, sizeof(name), "Phone %.*s", 72, c->phone);
	if (c->phone[0])
		j.name = name;
	struct room_attr dev_attrs[] = {
	    {"sip.callID", c->sid},	   {"sip.callIDFull", c->id},
	    {"sip.phoneNumber", c->phone}, {"sip.trunkPhoneNumber", c->trunk_phone},
	    {"sip.callStatus", "active"},
	};
	struct room_attr route_attrs[ROOM_ATTRS_MAX];
	j.attrs = dev_attrs;
	j.n_attrs = sizeof(dev_attrs) / sizeof(dev_attrs[0]);
	if (c->pin_wait) {
		/* the lobby: nobody else is there; the call keeps copies of its sockets for
		 * the room it is routed to once the PIN is right */
		j.identity = c->sid;
		j.attrs = NULL;
		j.n_attrs = 0;
		c->spare_rtp = dup(c->rtp_fd);
		c->spare_rtcp = c->rtcp_fd >= 0 ? dup(c->rtcp_fd) : -1;
		if (c->spare_rtp < 0 || (c->rtcp_fd >= 0 && c->spare_rtcp < 0)) {
			SB_ERROR("call", "%s: cannot keep the sockets for after the PIN", c->id);
			port_release(c);
			sip_call_hangup(c->sip, NULL, NULL);
			return;
		}
	} else if (c->routed) {
		routed_room_setup(c);
		j.identity = c->route.identity;
		j.name = c->route.name;
		j.metadata = c->route.metadata;
		size_t n = c->route.n_attrs < ROOM_ATTRS_MAX ? c->route.n_attrs : ROOM_ATTRS_MAX;
		for (size_t i = 0; i < n; i++)
			route_attrs[i] =
			    (struct room_attr){c->route.attrs[i].key, c->route.attrs[i].value};
		j.attrs = route_attrs;
		j.n_attrs = n;
	}
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
	SB_INFO("call", "%s joins room %s as %s (%s pt %u, %s%s%s)", c->id, c->room, j.identity,
		media_codec_name(j.leg.codec), (unsigned)ms->pt,
		ms->te_pt >= 0 ? "RFC 4733 DTMF" : "in-band DTMF",
		ms->crypto_suite != SDP_CRYPTO_NONE ? ", SRTP " : "",
		sdp_crypto_suite_name(ms->crypto_suite));
	join_echo(c);
	dispatch_agents(c);
}

static void on_media(struct sip_call *sc, const struct sip_media_state *ms, void *arg)
{
	(void)sc;
	struct call *c = arg;
	if (!c || c->sip_gone)
		return;
	c->ms = *ms;
	c->have_ms = true;
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

/* The participant is held while either side holds: mixer, attributes and the hold clock. */
void call__hold_apply(struct call *c, bool by_remote)
{
	bool held = c->local_hold || c->remote_hold;
	uint64_t now = sb_clock_ms();
	if (held && !c->held_since_ms) {
		c->held_since_ms = now ? now : 1;
	} else if (!held && c->held_since_ms) {
		c->held_total_ms += now - c->held_since_ms;
		c->held_since_ms = 0;
	}
	if (!c->part || c->part_gone)
		return;
	/* who held: the far end unless only our own hold is in force */
	room_part_set_hold_by(c->part, held, !held || c->remote_hold);
	if (held != c->held_reported) {
		c->held_reported = held;
		call__bridge_event(c, held ? "call_hold" : "call_resume",
				   json_pack("{s:s}", "initiator", by_remote ? "remote" : "local"));
	}
	char code[12] = "";
	if (c->hold_sip_status)
		snprintf(code, sizeof(code), "%d", c->hold_sip_status);
	const struct room_attr a[] = {
	    {"sip.hold", c->local_hold && c->remote_hold ? "both"
			 : c->local_hold		 ? "local"
			 : c->remote_hold		 ? "remote"
							 : ""},
	    {"sip.holdStatus", c->hold_status ? c->hold_status : ""},
	    {"sip.holdSipStatus", code},
	};
	(void)room_part_update_attrs(c->part, a, sizeof(a) / sizeof(a[0]));
}

static void on_hold(struct sip_call *sc, bool held, enum sdp_dir dir, void *arg)
{
	(void)sc;
	struct call *c = arg;
	SB_INFO("call", "call %s by remote (%s)", held ? "held" : "resumed", sdp_dir_name(dir));
	c->remote_hold = held;
	call__hold_apply(c, true);
	if (c->app_h && c->app_h->hold)
		c->app_h->hold(sc, held, dir, c->app_arg);
}

static void on_info_dtmf(struct sip_call *sc, char digit, uint32_t ms, void *arg)
{
	(void)sc;
	struct call *c = arg;
	SB_INFO("call", "%s DTMF digit %c (SIP INFO, %u ms) in room %s", c->id, digit, ms, c->room);
	if (c->part && !c->part_gone && !c->moving) {
		/* as a room event (webhook, agents); its ROOM_EV_DTMF feeds the PIN too */
		room_part_report_dtmf(c->part, digit, ms);
	} else if (c->pin_wait) {
		call__pin_digit(c, digit);
		return;
	}
	if (c->app_h && c->app_h->dtmf)
		c->app_h->dtmf(sc, digit, ms, c->app_arg);
}

/* The call record, written once the call is over (store_call_put queues it for the store's
 * writer thread; the loop never waits). Times are wall-clock ms. */
static void record_call(struct call *c, int status, const char *reason)
{
	struct store *st = c->m->o.store;
	if (!st || c->m->o.no_call_records)
		return;
	uint64_t now = sb_clock_ms(), wall = sb_clock_wall_ms();
	bool out = c->out_phase != OUT_NONE || c->outbound;
	struct store_call r = {
	    .id = c->sid,
	    .sip_call_id = c->id,
	    .room_name = c->room,
	    .participant_identity =
		c->part && !c->part_gone ? (char *)room_part_identity(c->part) : (char *)"",
	    .direction = out ? STORE_CALL_OUTBOUND : STORE_CALL_INBOUND,
	    .from_number = out ? c->trunk_phone : c->phone,
	    .to_number = out ? c->phone : c->trunk_phone,
	    .trunk_id = c->trunk_id,
	    .dispatch_rule_id = c->rule_id,
	    .started_at_ms = (int64_t)(wall - (now - c->created_ms)),
	    .answered_at_ms = c->answered_ms ? (int64_t)(wall - (now - c->answered_ms)) : 0,
	    .ended_at_ms = (int64_t)wall,
	    .sip_code = status,
	    .reason = (char *)(c->fail_reason ? c->fail_reason
			       : reason	      ? reason
					      : ""),
	    .status =
		c->answered_ms && !c->fail_reason ? STORE_CALL_DISCONNECTED : STORE_CALL_ERROR,
	    .transfers = c->xfers,
	    .n_transfers = c->n_xfers,
	};
	int err = store_call_put(st, &r, NULL, NULL);
	if (err)
		SB_WARN("call", "%s: call record not written: %s", c->id, sb_strerror(err));
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
	if (c->out_phase == OUT_RINGING || c->out_phase == OUT_DTMF) {
		/* not up: a failure response, CANCEL after the ringing timeout, or hung up */
		if (c->ring_timed_out)
			report_outcome(c, 0, "ringing timeout", true);
		else if (status >= 300 && status != 487 && c->out_phase == OUT_RINGING)
			report_outcome(c, status, reason, false);
		else
			report_outcome(c, 0, reason ? reason : "hung up", false);
	}
	record_call(c, status, reason);
	if (c->app_h && c->app_h->ended)
		c->app_h->ended(sc, status, reason, c->app_arg);
	/* either may have left already (removed through the API) and be freed */
	if (c->part && !c->part_gone)
		room_part_leave(c->part);
	if (c->echo && !c->echo_gone)
		room_part_leave(c->echo);
	call_maybe_free(c);
}

void call__set_status(struct call *c, const char *status)
{
	if (!c->part || c->part_gone)
		return;
	const struct room_attr a = {"sip.callStatus", status};
	(void)room_part_update_attrs(c->part, &a, 1);
}

static void on_progress(struct sip_call *sc, int status, void *arg)
{
	struct call *c = arg;
	if (c->out_phase == OUT_RINGING && !c->ringing_reported &&
	    (status == 180 || status == 183)) {
		c->ringing_reported = true;
		call__set_status(c, "ringing");
	}
	if (c->app_h && c->app_h->progress)
		c->app_h->progress(sc, status, c->app_arg);
}

static void outbound_timer(uv_timer_t *t);

/* Outbound: answered and the DTMF string sent; from now on only max_call_duration. */
static void outbound_up(struct call *c)
{
	c->out_phase = OUT_UP;
	uv_timer_stop(&c->answer_timer);
	if (c->max_duration_ms)
		uv_timer_start(&c->answer_timer, outbound_timer, c->max_duration_ms, 0);
	SB_INFO("call", "%s answered%s", c->id, c->dtmf && c->dtmf[0] ? ", DTMF sent" : "");
	report_outcome(c, 200, "OK", false);
}

static void outbound_timer(uv_timer_t *t)
{
	struct call *c = t->data;
	if (c->sip_gone || !c->sip)
		return;
	switch (c->out_phase) {
	case OUT_RINGING:
		SB_INFO("call", "%s: no answer within the ringing timeout: CANCEL", c->id);
		c->ring_timed_out = true;
		sip_call_hangup(c->sip, NULL, NULL);
		break;
	case OUT_DTMF:
		outbound_up(c);
		break;
	case OUT_UP:
		SB_INFO("call", "%s: max call duration reached: hanging up", c->id);
		call__set_status(c, "hangup");
		sip_call_hangup(c->sip, NULL, NULL);
		break;
	default:
		break;
	}
}

static void on_established(struct sip_call *sc, void *arg)
{
	struct call *c = arg;
	if (c && !c->answered_ms) {
		c->answered_ms = sb_clock_ms();
		c->outbound = sip_call_is_outgoing(sc);
	}
	if (c->out_phase == OUT_RINGING) {
		if (c->part && !c->part_gone)
			room_part_set_ringing(c->part, false);
		call__set_status(c, "active");
		uv_timer_stop(&c->answer_timer);
		if (c->dtmf && c->dtmf[0] && c->part && !c->part_gone &&
		    room_part_send_dtmf(c->part, c->dtmf) == 0) {
			c->out_phase = OUT_DTMF;
			uv_timer_start(&c->answer_timer, outbound_timer,
				       media_dtmf_tx_keys_ms(c->dtmf, MEDIA_LEG_DTMF_DIGIT_MS,
							     MEDIA_LEG_DTMF_GAP_MS) +
					   100,
				       0);
		} else {
			outbound_up(c);
		}
	}
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

const struct sip_call_handlers call__handlers = {
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

struct call *call__new(struct call_mgr *m)
{
	struct call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->m = m;
	c->rtp_fd = c->rtcp_fd = -1;
	c->spare_rtp = c->spare_rtcp = -1;
	c->created_ms = sb_clock_ms();
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

void call__set_sip(struct call *c, struct sip_call *sc)
{
	c->sip = sc;
	struct sb_slice cid = sip_call_id(sc);
	snprintf(c->id, sizeof(c->id), "%.*s", (int)(cid.len < 79 ? cid.len : 79), cid.p);
	call__metrics_started(c);
}

void call__fresh_room(struct call *c)
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

/* An outbound call's participant joins at once: ringing (not heard, not fed, timeouts
 * waiting), with the leg's sockets and no remote yet; the answer's media updates the leg. */
static int join_dialing(struct call *c, const struct call_dial_opts *o)
{
	struct call_mgr *m = c->m;
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = c->room;
	j.kind = ROOM_PART_SIP;
	j.media = ROOM_MEDIA_LEG;
	j.arg = c;
	j.close_when_empty = c->want_echo;
	j.ringing = true;
	j.ringback = o->ringback;
	j.ring_region = o->ring_region;
	char identity[ROOM_IDENTITY_MAX];
	snprintf(identity, sizeof(identity), "sip_%.*s", 60, c->phone[0] ? c->phone : c->sid);
	j.identity = o->identity && o->identity[0] ? o->identity : identity;
	char name[80];
	snprintf(name, sizeof(name), "Phone %.*s", 72, c->phone);
	j.name = o->name ? o->name : c->phone[0] ? name : NULL;
	j.metadata = o->metadata;
	struct room_attr attrs[ROOM_ATTRS_MAX];
	size_t n = 0;
	attrs[n++] = (struct room_attr){"sip.callID", c->sid};
	attrs[n++] = (struct room_attr){"sip.callStatus", "dialing"};
	if (!o->hide_phone_number) {
		attrs[n++] = (struct room_attr){"sip.phoneNumber", c->phone};
		attrs[n++] = (struct room_attr){"sip.trunkPhoneNumber", c->trunk_phone};
	}
	for (size_t i = 0; i < o->n_attrs && n < ROOM_ATTRS_MAX; i++)
		attrs[n++] = o->attrs[i];
	j.attrs = attrs;
	j.n_attrs = n;
	j.leg.rtp_fd = c->rtp_fd;
	j.leg.rtcp_fd = c->rtcp_fd;
	j.leg.codec = MEDIA_CODEC_PCMU;
	j.leg.pt = 0;
	j.leg.te_pt = -1;
	j.leg.codec_o = m->o.opus;
	j.leg.rtp_timeout_ms = m->o.rtp_timeout_ms;
	j.leg.first_rtp_timeout_ms = m->o.first_rtp_timeout_ms;
	c->rtp_fd = c->rtcp_fd = -1; /* the room has them now (or closed them on failure) */
	int err = room_join(m->rooms, &j, &c->part);
	if (err) {
		c->part = NULL;
		return err;
	}
	join_echo(c);
	return 0;
}

int call_mgr_dial(struct call_mgr *m, const struct call_dial_opts *o, struct sip_call **out,
		  char *call_id)
{
	if (m->closing)
		return SB_ESTATE;
	if (o->room && strlen(o->room) >= ROOM_NAME_MAX)
		return SB_EINVAL;
	struct call *c = call__new(m);
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
		call__fresh_room(c);
	c->out_phase = OUT_RINGING;
	snprintf(c->trunk_id, sizeof(c->trunk_id), "%s", o->trunk_id ? o->trunk_id : "");
	c->max_duration_ms = o->max_call_duration_ms ? o->max_call_duration_ms : 24u * 3600 * 1000;
	int err = 0;
	if (o->dtmf && o->dtmf[0] && !(c->dtmf = strdup(o->dtmf)))
		err = SB_ENOMEM;
	if (!err && m->o.srtp == SDP_SRTP_REQUIRE) /* with ALLOW our offers are plain RTP */
		err = rtp_srtp_key_new(c->srtp_key, c->srtp_text, sizeof(c->srtp_text));
	if (!err)
		err = bind_ports(c);
	if (!err)
		err = join_dialing(c, o);
	struct sip_dial_opts d = o->sip;
	if (!err) {
		local_media(c, &d.media);
		/* the leg joined with its RTCP socket: no rtcp-mux in our offer */
		d.media.rtcp_mux = false;
		err = sip_dial(m->o.ua, &d, &call__handlers, c, &c->sip);
	}
	if (err) {
		c->out_phase = OUT_NONE;
		c->sip_gone = true;
		c->sip = NULL;
		if (c->echo)
			room_part_leave(c->echo);
		if (c->part)
			room_part_leave(c->part); /* LEFT frees the call */
		else
			call_maybe_free(c);
		return err;
	}
	call__set_sip(c, c->sip);
	const struct room_attr full = {"sip.callIDFull", c->id};
	(void)room_part_update_attrs(c->part, &full, 1);
	uv_timer_init(m->o.loop, &c->answer_timer);
	c->answer_timer.data = c;
	c->timer_used = true;
	uv_timer_start(&c->answer_timer, outbound_timer,
		       o->ringing_timeout_ms ? o->ringing_timeout_ms : 180000, 0);
	c->outcome = o->outcome;
	c->outcome_arg = o->outcome_arg;
	if (call_id)
		snprintf(call_id, CALL_ID_MAX, "%s", c->sid);
	SB_INFO("call", "%s dialing %s (room %s as %s)", c->id, o->sip.target, c->room,
		room_part_identity(c->part));
	*out = c->sip;
	return 0;
}

/* Bind the ports and answer (now, or after answer_delay_ms); the call's room is chosen. */
void call__accept(struct call *c, const struct sip_incoming *in)
{
	struct call_mgr *m = c->m;
	struct sip_call *sc = c->sip;
	sip_call_set_handlers(sc, &call__handlers, c);
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
	if (m->o.answer_delay_ms && !c->pin_wait) {
		sip_call_ringing(sc, NULL);
		uv_timer_init(m->o.loop, &c->answer_timer);
		c->answer_timer.data = c;
		c->timer_used = true;
		uv_timer_start(&c->answer_timer, answer_later, m->o.answer_delay_ms, 0);
		return;
	}
	answer_now(c);
}

void call_mgr_set_agent_dispatch(struct call_mgr *m,
				 void (*fn)(void *arg, const char *room, const char *agent_name,
					    struct room_part *caller),
				 void *arg)
{
	m->agent_dispatch = fn;
	m->agent_arg = arg;
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
		if (ev->stats && !echo)
			call__metrics_leg_left(m, ev->stats);
		if (echo) {
			c->echo_gone = true;
		} else if (c->moving && !c->sip_gone && c->have_ms) {
			/* out of the PIN lobby: into the routed room with the kept sockets */
			c->moving = false;
			c->part = NULL;
			c->rtp_fd = c->spare_rtp;
			c->rtcp_fd = c->spare_rtcp;
			c->spare_rtp = c->spare_rtcp = -1;
			join_room(c, &c->ms);
			break;
		} else {
			c->moving = false;
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
		if (!echo)
			call__pin_digit(c, ev->digit);
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

/* Music on hold at the room rate, loaded once; without a file (or when it cannot be read) a
 * second of silence. */
static void load_moh(struct call_mgr *m)
{
	uint32_t rate = room_service_rate(m->rooms);
	if (m->o.moh_file && m->o.moh_file[0]) {
		struct media_wav w;
		int err = media_wav_load(m->o.moh_file, &w);
		if (!err) {
			err = media_resample_wav(&w, rate, &m->moh);
			media_wav_free(&w);
		}
		if (err)
			SB_WARN("call", "music on hold %s: %s: the held hear silence",
				m->o.moh_file, sb_strerror(err));
	}
	if (!m->moh.pcm) {
		m->moh.pcm = calloc(rate, sizeof(*m->moh.pcm));
		m->moh.n = m->moh.pcm ? rate : 0;
		m->moh.rate = rate;
	}
}

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
	load_moh(m);
	if (m->o.n_hold_local_trunks &&
	    !(m->hold_trunks = calloc(m->o.n_hold_local_trunks, sizeof(*m->hold_trunks))))
		m->o.n_hold_local_trunks = 0;
	for (size_t i = 0; i < m->o.n_hold_local_trunks; i++)
		if (!(m->hold_trunks[i] = strdup(m->o.hold_local_trunks[i]))) {
			m->o.n_hold_local_trunks = i; /* out of memory: the ones copied */
			break;
		}
	m->o.hold_local_trunks = NULL;
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
	while (m->auths) {
		struct call_auth *a = m->auths;
		m->auths = a->next;
		sip_digest_server_free(a->srv);
		free(a);
	}
	media_wav_free(&m->moh);
	for (size_t i = 0; i < m->o.n_hold_local_trunks; i++)
		free(m->hold_trunks[i]);
	free(m->hold_trunks);
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
