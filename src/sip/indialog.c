/* In-dialog requests of a call: incoming re-INVITE/UPDATE (remote hold), INFO DTMF, REFER
 * and its NOTIFYs both ways, OPTIONS; our own hold/resume re-INVITEs, REFER and INFO. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "sip/build.h"
#include "sip/ua_int.h"

/* ---- in-dialog requests ---- */

static void respond_in_dialog(struct sip_call *c, struct sip_txn *st, const struct sip_msg *m,
			      const struct sip_dest *src, int status, const char *extra,
			      struct sb_slice ctype, struct sb_slice body)
{
	(void)c;
	sip__respond(c->ua, st, m, src, status, NULL, SB_SLICE_NULL, extra, ctype, body);
}

static int parse_dtmf_info(const struct sip_msg *m, char *digit, uint32_t *dur)
{
	struct sb_slice body = m->body;
	*dur = 250;
	if (sb_slice_starts_with_nocase(m->content_type, "application/dtmf-relay")) {
		ptrdiff_t i = sb_slice_find_str(body, SB_SLICE_LIT("Signal"));
		if (i < 0)
			i = sb_slice_find_str(body, SB_SLICE_LIT("signal"));
		if (i < 0)
			return SB_EMALFORMED;
		struct sb_slice rest = sb_slice(body.p + i + 6, body.len - (size_t)i - 6);
		ptrdiff_t eq = sb_slice_find(rest, '=');
		if (eq < 0)
			return SB_EMALFORMED;
		rest = sb_slice_trim(sb_slice(rest.p + eq + 1, rest.len - (size_t)eq - 1));
		if (!rest.len)
			return SB_EMALFORMED;
		*digit = rest.p[0];
		ptrdiff_t d = sb_slice_find_str(body, SB_SLICE_LIT("Duration"));
		if (d >= 0) {
			struct sb_slice dv = sb_slice(body.p + d + 8, body.len - (size_t)d - 8);
			ptrdiff_t e = sb_slice_find(dv, '=');
			if (e >= 0) {
				dv = sb_slice(dv.p + e + 1, dv.len - (size_t)e - 1);
				size_t n = 0;
				while (n < dv.len && (dv.p[n] == ' ' || dv.p[n] == '\t'))
					n++;
				size_t k = n;
				while (k < dv.len && dv.p[k] >= '0' && dv.p[k] <= '9')
					k++;
				uint32_t v;
				if (sb_slice_to_u32(sb_slice(dv.p + n, k - n), 60000, &v) == 0)
					*dur = v;
			}
		}
	} else if (sb_slice_starts_with_nocase(m->content_type, "application/dtmf")) {
		struct sb_slice t = sb_slice_trim(body);
		if (!t.len)
			return SB_EMALFORMED;
		*digit = t.p[0];
	} else {
		return SB_EUNSUPPORTED;
	}
	char d = *digit;
	if (d >= 'a' && d <= 'd')
		d = (char)(d - 32);
	if (d == '1' + 9)
		d = '*';
	if (!((d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D')))
		return SB_EMALFORMED;
	*digit = d;
	return 0;
}

static void on_refer_notify(struct sip_call *c, const struct sip_msg *m)
{
	/* message/sipfrag: "SIP/2.0 200 OK" */
	struct sb_slice b = sb_slice_trim(m->body);
	int status = 0;
	const char *reason = "";
	char rbuf[64] = "";
	if (b.len >= 12 && sb_slice_starts_with_nocase(b, "SIP/2.0 ")) {
		uint32_t v;
		if (sb_slice_to_u32(sb_slice(b.p + 8, 3), 699, &v) == 0)
			status = (int)v;
		size_t e = 12;
		while (e < b.len && b.p[e] != '\r' && b.p[e] != '\n')
			e++;
		if (e > 12)
			sb_slice_copy(sb_slice(b.p + 12, e - 12), rbuf, sizeof(rbuf));
		reason = rbuf;
	}
	bool terminated = false;
	const struct sip_hdr *ss = sip_msg_hdr(m, SIP_HDR_SUBSCRIPTION_STATE);
	if (ss && sb_slice_starts_with_nocase(ss->value, "terminated"))
		terminated = true;
	if (status >= 200 || (terminated && status == 0)) {
		if (!status)
			status = 408;
		c->refer_active = false;
		sb_timers_disarm(&c->ua->timers, &c->trefer);
		void (*done)(void *, int, const char *) = c->refer_done;
		c->refer_done = NULL;
		if (done)
			done(c->refer_arg, status, reason);
	}
}

static void handle_reinvite(struct sip_call *c, struct sip_txn *st, const struct sip_msg *m,
			    const struct sip_dest *src, bool update)
{
	if (c->inv_ct || (c->resp2xx && !update)) {
		/* Glare (RFC 3261 §14.2): our own INVITE is pending. */
		respond_in_dialog(c, st, m, src, 491, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	}
	char stack[1024];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	struct sdp_result r;
	int err = 0;
	bool offer = m->body.len > 0;
	if (offer) {
		sdp_local_next_version(&c->sdp); /* every new description gets a new o= version */
		err = sip__call_answer_offer(c, m->body, &b, &r);
		if (err == SB_ENOTFOUND || err == SB_EMALFORMED) {
			respond_in_dialog(c, st, m, src, 488, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
			sb_buf_free(&b);
			return;
		}
	} else {
		sdp_local_next_version(&c->sdp);
		c->sdp.dir = c->local_hold ? SDP_SENDONLY : SDP_SENDRECV;
		err = sdp_make_offer(&b, &c->sdp);
	}
	if (err) {
		respond_in_dialog(c, st, m, src, 500, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		sb_buf_free(&b);
		return;
	}
	if (update) {
		respond_in_dialog(c, st, m, src, 200, NULL, SB_SLICE_LIT("application/sdp"),
				  sb_buf_slice(&b));
	} else {
		c->inv_cseq = m->cseq.num;
		c->inv_has_offer = offer;
		char hstack[1024];
		struct sb_buf hb;
		sb_buf_init(&hb, hstack, sizeof(hstack));
		sip__render_resp_headers(&hb, m, src, SB_SLICE_NULL, false);
		if (!hb.err)
			sip__call_respond_invite(c, st, 200, NULL, sb_buf_slice(&hb), NULL,
						 sb_buf_slice(&b), true);
		sb_buf_free(&hb);
	}
	sb_buf_free(&b);
	if (offer)
		sip__call_media_changed(c, &r);
}

void sip__call_in_dialog(struct sip_ua *ua, struct sip_call *c, const struct sip_msg *m,
			 const struct sip_dest *src)
{
	if (c->remote_cseq_set && m->cseq.num < c->remote_cseq) {
		sip__respond(ua, NULL, m, src, 500, "CSeq Out Of Order", SB_SLICE_NULL, NULL,
			     SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	}
	c->remote_cseq = m->cseq.num;
	c->remote_cseq_set = true;
	struct sip__link *l = sip__link_new(ua, c, src);
	struct sip_txn *st = NULL;
	if (!l || sip_txn_server_new(ua->txl, m, src->type != SIP_TP_UDP, &sip__txn_handlers, l,
				     sip__now(ua), &st)) {
		if (l) {
			c->links = l->next;
			sip__link_free(l);
		}
		sip__respond(ua, NULL, m, src, 500, NULL, SB_SLICE_NULL, "Retry-After: 1\r\n",
			     SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	}
	switch (m->method) {
	case SIP_METHOD_BYE:
		respond_in_dialog(c, st, m, src, 200, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		if (c->state == SIP__CALL_INCOMING && c->inv_st)
			sip__call_respond_invite(c, c->inv_st, 487, NULL, c->resp_hdrs, NULL,
						 SB_SLICE_NULL, false);
		sip__call_end(c, 200, "remote bye");
		return;
	case SIP_METHOD_INVITE:
		if (c->state == SIP__CALL_INCOMING || c->state == SIP__CALL_CALLING) {
			respond_in_dialog(c, st, m, src, 500, "Retry-After: 2\r\n", SB_SLICE_NULL,
					  SB_SLICE_NULL);
			return;
		}
		handle_reinvite(c, st, m, src, false);
		return;
	case SIP_METHOD_UPDATE:
		handle_reinvite(c, st, m, src, true);
		return;
	case SIP_METHOD_INFO: {
		char digit;
		uint32_t dur;
		int err = parse_dtmf_info(m, &digit, &dur);
		if (err == SB_EUNSUPPORTED && !m->body.len)
			err = 0, digit = 0; /* empty INFO: keep-alive */
		if (err) {
			respond_in_dialog(c, st, m, src, err == SB_EUNSUPPORTED ? 415 : 400,
					  "Accept: application/dtmf-relay, application/dtmf\r\n",
					  SB_SLICE_NULL, SB_SLICE_NULL);
			return;
		}
		respond_in_dialog(c, st, m, src, 200, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		if (digit) {
			SB_INFO("sip", "DTMF %c (%u ms) by INFO", digit, dur);
			if (c->h && c->h->dtmf)
				c->h->dtmf(c, digit, dur, c->arg);
		}
		return;
	}
	case SIP_METHOD_REFER: {
		const struct sip_hdr *rt = sip_msg_hdr(m, SIP_HDR_REFER_TO);
		if (!rt) {
			respond_in_dialog(c, st, m, src, 400, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
			return;
		}
		if (!c->h || !c->h->refer || c->refer_in_active) {
			respond_in_dialog(c, st, m, src, c->refer_in_active ? 491 : 603, NULL,
					  SB_SLICE_NULL, SB_SLICE_NULL);
			return;
		}
		/* Answer at once (202) so the referrer's transaction completes; the outcome
		 * follows by NOTIFY from sip_call_refer_notify. Rejection by the application
		 * becomes a final NOTIFY. */
		respond_in_dialog(c, st, m, src, 202, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		c->refer_in_active = true;
		c->refer_in_cseq = m->cseq.num;
		sip_call_refer_notify(c, 100, "Trying");
		struct sip_refer_request r = {.refer_to = rt->value};
		const struct sip_hdr *rb = sip_msg_hdr(m, SIP_HDR_REFERRED_BY);
		if (rb)
			r.referred_by = rb->value;
		struct sip_name_addr na;
		if (sip_name_addr_parse(rt->value, &na) == 0 && na.uri.headers.len)
			r.replaces = na.uri.headers;
		c->h->refer(c, &r, c->arg);
		return;
	}
	case SIP_METHOD_NOTIFY: {
		const struct sip_hdr *ev = sip_msg_hdr(m, SIP_HDR_EVENT);
		bool refer = ev && sb_slice_starts_with_nocase(ev->value, "refer");
		if (!refer || !c->refer_active) {
			respond_in_dialog(c, st, m, src, 481, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
			return;
		}
		respond_in_dialog(c, st, m, src, 200, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		on_refer_notify(c, m);
		return;
	}
	case SIP_METHOD_OPTIONS: {
		char extra[160];
		snprintf(extra, sizeof(extra), "Allow: %s\r\nAccept: application/sdp\r\n",
			 sip__allow());
		respond_in_dialog(c, st, m, src, 200, extra, SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	}
	case SIP_METHOD_PRACK:
		respond_in_dialog(c, st, m, src, 200, NULL, SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	default: {
		char extra[160];
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", sip__allow());
		respond_in_dialog(c, st, m, src, 405, extra, SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	}
	}
}

int sip_call_refer_accept(struct sip_call *c)
{
	return c->refer_in_active ? 0 : SB_ESTATE;
}

int sip_call_refer_reject(struct sip_call *c, int status)
{
	if (!c->refer_in_active)
		return SB_ESTATE;
	return sip_call_refer_notify(c, status >= 300 ? status : 603, NULL);
}

int sip_call_refer_notify(struct sip_call *c, int status, const char *reason)
{
	if (!c->refer_in_active || c->state != SIP__CALL_CONFIRMED)
		return SB_ESTATE;
	bool final = status >= 200;
	char extra[128], body[128];
	snprintf(extra, sizeof(extra), "Event: refer;id=%u\r\nSubscription-State: %s\r\n",
		 c->refer_in_cseq, final ? "terminated;reason=noresource" : "active;expires=60");
	int n = snprintf(body, sizeof(body), "SIP/2.0 %d %s\r\n", status,
			 reason ? reason : sip_reason_phrase(status));
	if (final)
		c->refer_in_active = false;
	return sip__call_send(c, SIP_METHOD_NOTIFY, extra,
			      SB_SLICE_LIT("message/sipfrag;version=2.0"),
			      sb_slice(body, (size_t)n), NULL);
}

/* ---- re-INVITE hold/resume ---- */

static int send_reinvite(struct sip_call *c)
{
	sdp_local_next_version(&c->sdp);
	c->sdp.dir = c->reinvite_hold ? SDP_SENDONLY : SDP_SENDRECV;
	char stack[1024];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	int err = sdp_make_offer(&b, &c->sdp);
	if (!err)
		err = sip__call_send(c, SIP_METHOD_INVITE, NULL, SB_SLICE_LIT("application/sdp"),
				     sb_buf_slice(&b), &c->inv_ct);
	sb_buf_free(&b);
	return err;
}

void sip__call_tglare_fire(struct sb_timer *t, sb_time_ms now)
{
	(void)now;
	struct sip_call *c = SB_CONTAINER_OF(t, struct sip_call, tglare);
	if (c->state != SIP__CALL_CONFIRMED)
		return;
	if (c->inv_ct || c->resp2xx) {
		sb_timers_arm(&c->ua->timers, &c->tglare, now + 20);
		return;
	}
	if (send_reinvite(c))
		sip__op_done(&c->reinvite_op, 500);
}

static int hold_or_resume(struct sip_call *c, bool hold, void (*done)(void *, int), void *arg)
{
	if (c->state != SIP__CALL_CONFIRMED || !c->have_local_media)
		return SB_ESTATE;
	if (c->reinvite_op.done || sb_timer_armed(&c->tglare))
		return SB_EBUSY; /* one hold/resume at a time */
	c->reinvite_hold = hold;
	c->reinvite_op.done = done;
	c->reinvite_op.arg = arg;
	if (c->inv_ct || c->resp2xx) {
		/* An INVITE transaction is still open on the dialog (RFC 3261 §14.1): go once it
		 * completes. */
		sb_timers_arm(&c->ua->timers, &c->tglare, sip__now(c->ua) + 20);
		return 0;
	}
	int err = send_reinvite(c);
	if (err) {
		c->reinvite_op.done = NULL;
		return err;
	}
	return 0;
}

int sip_call_hold(struct sip_call *c, void (*done)(void *arg, int status), void *arg)
{
	return hold_or_resume(c, true, done, arg);
}

int sip_call_resume(struct sip_call *c, void (*done)(void *arg, int status), void *arg)
{
	return hold_or_resume(c, false, done, arg);
}

/* ---- REFER and INFO ---- */

void sip__call_trefer_fire(struct sb_timer *t, sb_time_ms now)
{
	(void)now;
	struct sip_call *c = SB_CONTAINER_OF(t, struct sip_call, trefer);
	if (!c->refer_active)
		return;
	c->refer_active = false;
	void (*done)(void *, int, const char *) = c->refer_done;
	c->refer_done = NULL;
	if (done)
		done(c->refer_arg, 408, "no final NOTIFY");
}

int sip_call_refer(struct sip_call *c, const char *target, const char *referred_by,
		   uint32_t timeout_ms, void (*done)(void *arg, int status, const char *reason),
		   void *arg)
{
	return sip_call_refer_with(c, target, referred_by, NULL, timeout_ms, done, arg);
}

int sip_call_refer_with(struct sip_call *c, const char *target, const char *referred_by,
			const char *extra_headers, uint32_t timeout_ms,
			void (*done)(void *arg, int status, const char *reason), void *arg)
{
	if (c->state != SIP__CALL_CONFIRMED)
		return SB_ESTATE;
	if (c->refer_active)
		return SB_EBUSY;
	char extra[4096];
	int n = snprintf(extra, sizeof(extra), "Refer-To: <%s>\r\n", target);
	if (referred_by && n > 0 && (size_t)n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, "Referred-By: <%s>\r\n",
			      referred_by);
	if (extra_headers && n > 0 && (size_t)n < sizeof(extra))
		n += snprintf(extra + n, sizeof(extra) - (size_t)n, "%s", extra_headers);
	if (n < 0 || (size_t)n >= sizeof(extra))
		return SB_ETOOBIG;
	int err = sip__call_send(c, SIP_METHOD_REFER, extra, SB_SLICE_NULL, SB_SLICE_NULL, NULL);
	if (err)
		return err;
	c->refer_active = true;
	c->refer_done = done;
	c->refer_arg = arg;
	sb_timers_arm(&c->ua->timers, &c->trefer,
		      sip__now(c->ua) + (timeout_ms ? timeout_ms : 30000));
	return 0;
}

int sip_call_send_info_dtmf(struct sip_call *c, char digit, uint32_t duration_ms,
			    void (*done)(void *arg, int status), void *arg)
{
	if (c->state != SIP__CALL_CONFIRMED)
		return SB_ESTATE;
	if (c->info_op.done)
		return SB_EBUSY;
	char body[64];
	int n = snprintf(body, sizeof(body), "Signal=%c\r\nDuration=%u\r\n", digit, duration_ms);
	int err = sip__call_send(c, SIP_METHOD_INFO, NULL, SB_SLICE_LIT("application/dtmf-relay"),
				 sb_slice(body, (size_t)n), NULL);
	if (err)
		return err;
	c->info_op.done = done;
	c->info_op.arg = arg;
	return 0;
}
