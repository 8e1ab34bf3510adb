/* What the API does to a call's participant: hang-up, hold and resume (re-INVITE or local
 * music on hold), cold and attended transfers with their outcome (record, room event,
 * observers), call statistics, and the /metrics figures. */
#include "call/call_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "room/room.h"

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

static struct call *call_of_part(struct call_mgr *m, const struct room_part *p)
{
	struct call *c = m->calls;
	while (c && !(c->part == p && !c->part_gone))
		c = c->next;
	return c;
}

/* Our re-INVITE's final answer (also 487 when the call ends first, before its ended handler:
 * c is still there then). */
static void hold_done(void *arg, int status)
{
	struct call *c = arg;
	c->hold_pending = false;
	c->hold_sip_status = status;
	if (status >= 200 && status < 300) {
		c->local_hold = c->hold_want;
		c->hold_status = c->hold_want ? "held" : "resumed";
	} else {
		c->local_hold = !c->hold_want; /* the session stays as it was */
		c->hold_status = "failed";
	}
	SB_INFO("call", "%s: %s re-INVITE answered %d: %s", c->id, c->hold_want ? "hold" : "resume",
		status, c->hold_status);
	call__hold_apply(c, false);
}

/* Hold this call without re-INVITE (hold_local, or its trunk is listed)? */
static bool hold_locally(const struct call *c)
{
	const struct call_mgr *m = c->m;
	if (m->o.hold_local)
		return true;
	for (size_t i = 0; i < m->o.n_hold_local_trunks; i++)
		if (c->trunk_id[0] && !strcmp(c->trunk_id, m->hold_trunks[i]))
			return true;
	return false;
}

int call_mgr_hold_participant(struct call_mgr *m, struct room_part *p, bool hold,
			      const char **status)
{
	struct call *c = call_of_part(m, p);
	if (!c)
		return SB_ENOTFOUND;
	if (!c->sip || c->sip_gone || c->pin_wait || c->moving)
		return SB_ESTATE;
	if (c->hold_pending)
		return SB_EBUSY;
	if (c->local_hold == hold) {
		if (status)
			*status = hold ? "held" : "resumed";
		return 0;
	}
	if (hold_locally(c)) {
		/* no re-INVITE: the caller is not heard and hears music on hold */
		SB_INFO("call", "%s: %s locally (music on hold, no re-INVITE)", c->id,
			hold ? "holding" : "resuming");
		if (hold)
			room_part_set_moh(p, &m->moh);
		c->local_hold = hold;
		c->hold_status = hold ? "held" : "resumed";
		c->hold_sip_status = 0;
		call__hold_apply(c, false);
		if (!hold)
			room_part_set_moh(p, NULL);
		if (status)
			*status = c->hold_status;
		return 0;
	}
	int err =
	    hold ? sip_call_hold(c->sip, hold_done, c) : sip_call_resume(c->sip, hold_done, c);
	if (err) {
		SB_WARN("call", "%s: cannot %s: %s", c->id, hold ? "hold" : "resume",
			sb_strerror(err));
		return err;
	}
	SB_INFO("call", "%s: %s (re-INVITE %s)", c->id, hold ? "holding" : "resuming",
		hold ? "sendonly" : "sendrecv");
	c->hold_pending = true;
	c->hold_want = hold;
	c->hold_status = hold ? "holding" : "resuming";
	if (hold)
		c->local_hold = true; /* not heard nor fed from now on */
	call__hold_apply(c, false);
	if (status)
		*status = c->hold_status;
	return 0;
}

/* A room event on topic sip_bridge_events (as LiveKit's SIP bridge sends them): a JSON object
 * {"event":..., "participant":..., "callID":...} plus the members of extra (taken; may be
 * NULL), from the call's participant to everyone in its room. Best effort. */
void call__bridge_event(struct call *c, const char *event, json_t *extra)
{
	json_t *o = NULL;
	if (c->part && !c->part_gone)
		o = json_pack("{s:s, s:s, s:s}", "event", event, "participant",
			      room_part_identity(c->part), "callID", c->sid);
	char *text = NULL;
	if (o && (!extra || json_object_update(o, extra) == 0))
		text = json_dumps(o, JSON_COMPACT);
	if (text)
		(void)room_send_data(c->m->rooms, c->room, room_part_identity(c->part),
				     "sip_bridge_events", (const uint8_t *)text, strlen(text), NULL,
				     0);
	free(text);
	json_decref(o);
	json_decref(extra);
}

/* The REFER's outcome: the final NOTIFY, the REFER's failure, 408 or 487 (sip_call_refer). */
static void transfer_done(void *arg, int status, const char *reason)
{
	struct call *c = arg;
	void (*done)(void *, int, const char *) = c->xfer_done;
	void *done_arg = c->xfer_arg;
	c->xfer_done = NULL;
	bool ok = status >= 200 && status < 300;
	SB_INFO("call", "%s: transfer %s: %d %s", c->id, ok ? "succeeded" : "failed", status,
		reason ? reason : "");
	if (c->n_xfers == CALL_XFERS_MAX) {
		store_transfer_free(&c->xfers[0]);
		memmove(c->xfers, c->xfers + 1, sizeof(c->xfers[0]) * (CALL_XFERS_MAX - 1));
		c->n_xfers--;
	}
	struct store_transfer *x = &c->xfers[c->n_xfers];
	x->at_ms = (int64_t)sb_clock_wall_ms();
	x->sip_code = status;
	x->target = c->xfer_target;
	x->reason = strdup(reason ? reason : "");
	c->xfer_target = NULL;
	c->n_xfers++;
	call__bridge_event(c, ok ? "transfer_success" : "transfer_failed",
			   json_pack("{s:s?, s:b, s:i, s:s?}", "transferTo", x->target, "success",
				     ok, "sipStatusCode", status, "sipStatus", x->reason));
	struct room_info ri;
	if (c->part && !c->part_gone && room_service_get_room(c->m->rooms, c->room, &ri) == 0) {
		struct call_transfer_result tr = {x->target ? x->target : "", c->xfer_attended,
						  status, x->reason ? x->reason : ""};
		struct room_part_info pi;
		room_part_get_info(c->part, &pi);
		for (size_t i = 0; i < CALL_OBSERVERS_MAX; i++)
			if (c->m->obs[i].ob && c->m->obs[i].ob->transfer)
				c->m->obs[i].ob->transfer(c->m->obs[i].arg, &ri, &pi, &tr);
	}
	if (c->xfer_ringback && c->part && !c->part_gone)
		(void)room_part_play_tone(c->part, MEDIA_TONE_RINGBACK, MEDIA_TONE_EU, false);
	c->xfer_ringback = false;
	if (done)
		done(done_arg, status, reason);
	/* transferred: the far end talks to the target now; our leg is done (the far end
	 * usually hangs up itself, this covers those that do not) */
	if (ok && c->sip && !c->sip_gone) {
		call__set_status(c, "hangup");
		sip_call_hangup(c->sip, NULL, NULL);
	}
}

static bool transferable(const struct call *c)
{
	return c->sip && !c->sip_gone && !c->pin_wait && !c->moving && c->answered_ms;
}

static int start_transfer(struct call *c, struct room_part *p, const char *target,
			  const char *extra_headers, uint32_t timeout_ms, bool ringback,
			  void (*done)(void *arg, int status, const char *reason), void *arg)
{
	int err =
	    sip_call_refer_with(c->sip, target, NULL, extra_headers, timeout_ms, transfer_done, c);
	if (err) {
		SB_WARN("call", "%s: cannot transfer to %s: %s", c->id, target, sb_strerror(err));
		return err;
	}
	SB_INFO("call", "%s: transferring to %s (REFER)", c->id, target);
	free(c->xfer_target);
	c->xfer_target = strdup(target);
	c->xfer_attended = false;
	c->xfer_done = done;
	c->xfer_arg = arg;
	if (ringback && room_part_play_tone(p, MEDIA_TONE_RINGBACK, MEDIA_TONE_EU, true) == 0)
		c->xfer_ringback = true;
	return 0;
}

int call_mgr_transfer_participant(struct call_mgr *m, struct room_part *p, const char *target,
				  const char *extra_headers, uint32_t timeout_ms, bool ringback,
				  void (*done)(void *arg, int status, const char *reason),
				  void *arg)
{
	struct call *c = call_of_part(m, p);
	if (!c)
		return SB_ENOTFOUND;
	if (!transferable(c))
		return SB_ESTATE;
	if (c->xfer_done)
		return SB_EBUSY;
	return start_transfer(c, p, target, extra_headers, timeout_ms, ringback, done, arg);
}

int call_mgr_attended_transfer(struct call_mgr *m, struct room_part *p, struct room_part *to,
			       uint32_t timeout_ms,
			       void (*done)(void *arg, int status, const char *reason), void *arg)
{
	struct call *c = call_of_part(m, p), *c2 = call_of_part(m, to);
	if (!c || !c2)
		return SB_ENOTFOUND;
	if (c == c2)
		return SB_EINVAL;
	if (!transferable(c) || !transferable(c2))
		return SB_ESTATE;
	if (c->xfer_done)
		return SB_EBUSY;
	char target[1024];
	int err = sip_call_replaces_target(c2->sip, target, sizeof(target));
	if (err)
		return err;
	SB_INFO("call", "%s: attended transfer to the far end of %s", c->id, c2->id);
	err = start_transfer(c, p, target, NULL, timeout_ms, false, done, arg);
	if (!err)
		c->xfer_attended = true;
	return err;
}

void call_mgr_set_observer(struct call_mgr *m, const struct call_observer *ob, void *arg)
{
	m->obs[0].ob = ob;
	m->obs[0].arg = ob ? arg : NULL;
}

int call_mgr_add_observer(struct call_mgr *m, const struct call_observer *ob, void *arg)
{
	for (size_t i = 1; i < CALL_OBSERVERS_MAX; i++)
		if (!m->obs[i].ob) {
			m->obs[i].ob = ob;
			m->obs[i].arg = arg;
			return 0;
		}
	return SB_ENORES;
}

void call_mgr_remove_observer(struct call_mgr *m, const struct call_observer *ob, void *arg)
{
	for (size_t i = 1; i < CALL_OBSERVERS_MAX; i++)
		if (m->obs[i].ob == ob && m->obs[i].arg == arg)
			m->obs[i].ob = NULL;
}

const char *call_mgr_participant_call_id(struct call_mgr *m, const struct room_part *p)
{
	struct call *c = call_of_part(m, p);
	return c ? c->sid : "";
}

int call_mgr_participant_stats(struct call_mgr *m, struct room_part *p, struct call_stats *out)
{
	struct call *c = call_of_part(m, p);
	if (!c)
		return SB_ENOTFOUND;
	memset(out, 0, sizeof(*out));
	snprintf(out->call_id, sizeof(out->call_id), "%s", c->sid);
	snprintf(out->sip_call_id, sizeof(out->sip_call_id), "%s", c->id);
	out->outbound = c->sip ? sip_call_is_outgoing(c->sip) : c->outbound;
	if (c->have_ms) {
		const struct sdp_codec_info *ci = sdp_codec_info(c->ms.codec);
		snprintf(out->codec, sizeof(out->codec), "%s", ci ? ci->name : "");
		out->pt = c->ms.pt;
		out->rfc4733 = c->ms.te_pt >= 0;
	}
	out->local_hold = c->local_hold;
	out->remote_hold = c->remote_hold;
	out->hold_pending = c->hold_pending;
	out->hold_status = c->hold_status ? c->hold_status : "";
	out->hold_sip_status = c->hold_sip_status;
	uint64_t now = sb_clock_ms();
	out->duration_ms = now - c->created_ms;
	if (c->answered_ms) {
		out->answered_ms = now - c->answered_ms;
		out->held_ms = c->held_total_ms + (c->held_since_ms ? now - c->held_since_ms : 0);
		if (out->held_ms > out->answered_ms)
			out->held_ms = out->answered_ms;
		out->active_ms = out->answered_ms - out->held_ms;
	}
	out->have_media = room_part_leg_stats(p, &out->media, &out->media_age_ms) == 0;
	return 0;
}

/* ---- metrics ---- */

void call__metrics_started(struct call *c)
{
	struct call_mgr *m = c->m;
	if (c->m_counted || !c->sip)
		return;
	c->m_counted = true;
	c->m_outbound = sip_call_is_outgoing(c->sip);
	m->m_started[c->m_outbound]++;
	uint64_t sec = sb_clock_ms() / 1000;
	size_t i = (size_t)(sec % CALL_METRICS_CPS_WINDOW_S);
	if (m->m_cps_sec[i] != sec) {
		m->m_cps_sec[i] = sec;
		m->m_cps_n[i] = 0;
	}
	m->m_cps_n[i]++;
}

void call__metrics_ended(struct call *c)
{
	if (c->m_counted)
		c->m->m_ended[c->m_outbound][c->answered_ms != 0]++;
}

void call__metrics_leg_left(struct call_mgr *m, const struct media_leg_stats *st)
{
	m->m_rtp_rx += st->rx_packets;
	m->m_rtp_tx += st->tx_packets;
	m->m_rtp_lost += st->lost;
	m->m_rtp_rx_bytes += st->rx_bytes;
	m->m_rtp_tx_bytes += st->tx_bytes;
}

static enum call_metric_state metric_state(const struct call *c)
{
	if (c->sip_gone)
		return CALL_METRIC_ENDING;
	if (!c->answered_ms)
		return CALL_METRIC_RINGING;
	if (c->local_hold || c->remote_hold)
		return CALL_METRIC_HELD;
	return CALL_METRIC_ACTIVE;
}

void call_mgr_metrics(const struct call_mgr *m, struct call_metrics *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->started, m->m_started, sizeof(out->started));
	memcpy(out->ended, m->m_ended, sizeof(out->ended));
	/* the current second counts in part: the window is the last 9 whole seconds and it */
	uint64_t sec = sb_clock_ms() / 1000, n = 0;
	for (size_t i = 0; i < CALL_METRICS_CPS_WINDOW_S; i++)
		if (m->m_cps_sec[i] + CALL_METRICS_CPS_WINDOW_S > sec && m->m_cps_sec[i] <= sec)
			n += m->m_cps_n[i];
	out->cps = (double)n / CALL_METRICS_CPS_WINDOW_S;
	out->rtp_rx_packets = m->m_rtp_rx;
	out->rtp_tx_packets = m->m_rtp_tx;
	out->rtp_lost = m->m_rtp_lost;
	out->rtp_rx_bytes = m->m_rtp_rx_bytes;
	out->rtp_tx_bytes = m->m_rtp_tx_bytes;
	uint64_t jitter_sum = 0;
	for (const struct call *c = m->calls; c; c = c->next) {
		bool outbound = c->m_counted ? c->m_outbound : c->outbound;
		out->calls[outbound][metric_state(c)]++;
		struct media_leg_stats st;
		if (!c->part || c->part_gone || room_part_leg_stats(c->part, &st, NULL))
			continue;
		out->rtp_rx_packets += st.rx_packets;
		out->rtp_tx_packets += st.tx_packets;
		out->rtp_lost += st.lost;
		out->rtp_rx_bytes += st.rx_bytes;
		out->rtp_tx_bytes += st.tx_bytes;
		out->legs++;
		jitter_sum += st.jitter_ms;
		if (st.jitter_ms > out->jitter_max_ms)
			out->jitter_max_ms = st.jitter_ms;
	}
	if (out->legs)
		out->jitter_mean_ms = (double)jitter_sum / out->legs;
}

const char *call_metric_state_name(enum call_metric_state s)
{
	switch (s) {
	case CALL_METRIC_RINGING:
		return "ringing";
	case CALL_METRIC_ACTIVE:
		return "active";
	case CALL_METRIC_HELD:
		return "held";
	case CALL_METRIC_ENDING:
		return "ending";
	case CALL_METRIC__STATES:
		break;
	}
	return "unknown";
}
