/* The REGISTER client: one non-INVITE client transaction at a time, refreshed before the
 * granted expiry, with digest answers capped so a registrar cannot make us loop. */
#include "sip/reg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "sip/ua_int.h"
#include "sip/uri.h"

struct sip_reg {
	struct sip_ua *ua;
	struct sip_reg_opts o;
	char aor[256], user[128], password[128], realm[128], host_uri[256];
	struct sip_dest dest;
	char call_id[48], tag[12];
	uint32_t cseq;
	uint32_t granted;
	unsigned challenges; /* consecutive 401/407 */
	bool challenges_hdr407;
	struct sip_digest_client dc;
	struct sb_timer t;
	struct sip_txn *txn;
	bool unregistering;
	char local_ip[64];
	uint16_t local_port;
};

static void reg_send(struct sip_reg *r, uint32_t expires);

static int reg_tx(struct sip_txn *t, struct sb_slice bytes, void *arg)
{
	(void)t;
	struct sip_reg *r = arg;
	return sip_transport_send(r->ua->tp, &r->dest, bytes);
}

static void schedule(struct sip_reg *r, uint32_t seconds)
{
	sb_timers_arm(&r->ua->timers, &r->t, sip__now(r->ua) + (sb_time_ms)seconds * 1000);
}

static void report(struct sip_reg *r, int status, uint32_t expires)
{
	if (r->o.state)
		r->o.state(r->o.arg, status, expires);
}

static uint32_t granted_expiry(const struct sip_msg *m, uint32_t asked)
{
	uint32_t v = asked;
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_EXPIRES);
	if (h)
		sb_slice_to_u32(sb_slice_trim(h->value), 86400 * 365, &v);
	struct sip_hdr_iter it;
	struct sb_slice c;
	sip_hdr_iter_init(&it);
	while (sip_hdr_next_value(m, SIP_HDR_CONTACT, &it, &c)) {
		struct sip_name_addr na;
		struct sb_slice e;
		if (sip_name_addr_parse(c, &na) == 0 && sip_param_get(na.params, "expires", &e))
			sb_slice_to_u32(e, 86400 * 365, &v);
	}
	return v;
}

static void reg_response(struct sip_txn *t, const struct sip_msg *m, void *arg)
{
	(void)t;
	struct sip_reg *r = arg;
	if (m->status < 200)
		return;
	if (m->status < 300) {
		r->challenges = 0;
		r->granted = granted_expiry(m, r->o.expires);
		SB_INFO("sip", "registered %s for %u s", r->aor, r->granted);
		report(r, m->status, r->granted);
		if (!r->unregistering && r->granted) {
			/* Refresh ahead of expiry: at 80 %, and at least 1 s. */
			uint32_t at = r->granted > 10 ? r->granted * 4 / 5
						      : (r->granted > 1 ? r->granted - 1 : 1);
			schedule(r, at);
		}
		return;
	}
	if ((m->status == 401 || m->status == 407) && r->challenges < 2 && !r->unregistering) {
		r->challenges++;
		enum sip_hdr_id id =
		    m->status == 401 ? SIP_HDR_WWW_AUTHENTICATE : SIP_HDR_PROXY_AUTHENTICATE;
		r->challenges_hdr407 = m->status == 407;
		int err = sip_digest_client_take_msg(&r->dc, m, id, sb_slice_cstr(r->realm));
		if (!err) {
			/* Answered from the timer so the current transaction is not re-entered. */
			sb_timers_arm(&r->ua->timers, &r->t, sip__now(r->ua));
			return;
		}
		SB_WARN("sip", "cannot answer the registrar's challenge: %s", sb_strerror(err));
	}
	SB_WARN("sip", "registration of %s failed: %d", r->aor, m->status);
	report(r, m->status, 0);
	r->challenges = 0;
	if (!r->unregistering)
		schedule(r, 30);
}

static void reg_timeout(struct sip_txn *t, int err, void *arg)
{
	(void)t;
	struct sip_reg *r = arg;
	SB_WARN("sip", "registration of %s: %s", r->aor,
		err == SB_ETIMEDOUT ? "timeout" : "transport error");
	report(r, 408, 0);
	if (!r->unregistering)
		schedule(r, 30);
}

static void reg_terminated(struct sip_txn *t, void *arg)
{
	struct sip_reg *r = arg;
	if (r->txn == t)
		r->txn = NULL;
}

static const struct sip_txn_handlers reg_handlers = {
    .send = reg_tx,
    .response = reg_response,
    .timeout = reg_timeout,
    .terminated = reg_terminated,
};

static void reg_send(struct sip_reg *r, uint32_t expires)
{
	char branch[SIP_TXN_BRANCH_SIZE];
	sip_txn_new_branch(branch);
	bool v6 = strchr(r->local_ip, ':') != NULL;
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sb_buf_printf(&b,
		      "REGISTER %s SIP/2.0\r\n"
		      "Via: SIP/2.0/%s %s%s%s:%u;branch=%s;rport\r\n"
		      "Max-Forwards: 70\r\n"
		      "From: <%s>;tag=%s\r\n"
		      "To: <%s>\r\n"
		      "Call-ID: %s\r\n"
		      "CSeq: %u REGISTER\r\n"
		      "Contact: <sip:%s@%s%s%s:%u%s>\r\n"
		      "Expires: %u\r\n"
		      "User-Agent: %s\r\n",
		      r->host_uri, sip_tp_name(r->dest.type), v6 ? "[" : "", r->local_ip,
		      v6 ? "]" : "", r->local_port, branch, r->aor, r->tag, r->aor, r->call_id,
		      ++r->cseq, r->user, v6 ? "[" : "", r->local_ip, v6 ? "]" : "", r->local_port,
		      r->dest.type == SIP_TP_TCP   ? ";transport=tcp"
		      : r->dest.type == SIP_TP_TLS ? ";transport=tls"
						   : "",
		      expires, r->ua->user_agent);
	if (r->dc.nonce_len) {
		/* Once challenged, every REGISTER carries credentials (nc counts up). */
		sb_buf_append_cstr(&b, r->challenges_hdr407 ? "Proxy-Authorization: "
							    : "Authorization: ");
		int aerr = sip_digest_client_authorize(
		    &r->dc, sb_slice_cstr(r->user), sb_slice_cstr(r->password),
		    SB_SLICE_LIT("REGISTER"), sb_slice_cstr(r->host_uri), SB_SLICE_NULL, &b);
		if (aerr && !b.err)
			b.err = aerr;
		sb_buf_append_cstr(&b, "\r\n");
	}
	sb_buf_append_cstr(&b, "Content-Length: 0\r\n\r\n");
	if (b.err) {
		sb_buf_free(&b);
		return;
	}
	struct sip_msg *m = r->ua->scratch;
	if (sip_msg_parse(m, b.p, b.len, SIP_PARSE_DATAGRAM) > 0) {
		if (r->txn)
			sip_txn_terminate(r->txn);
		r->txn = NULL;
		int err;
		if (r->unregistering) {
			/* Fire and forget: the transaction outlives r, owned by a bare link. */
			struct sip__link *l = sip__link_new(r->ua, NULL, &r->dest);
			struct sip_txn *t;
			err = l ? sip_txn_client_new(r->ua->txl, sb_buf_slice(&b), m,
						     r->dest.type != SIP_TP_UDP, &sip__txn_handlers,
						     l, sip__now(r->ua), &t)
				: SB_ENOMEM;
			if (err)
				sip__link_free(l);
		} else {
			err = sip_txn_client_new(r->ua->txl, sb_buf_slice(&b), m,
						 r->dest.type != SIP_TP_UDP, &reg_handlers, r,
						 sip__now(r->ua), &r->txn);
		}
		if (err) {
			SB_WARN("sip", "cannot send REGISTER: %s", sb_strerror(err));
			if (!r->unregistering)
				schedule(r, 30);
		}
	}
	sb_buf_free(&b);
}

static void reg_fire(struct sb_timer *t, sb_time_ms now)
{
	(void)now;
	reg_send(SB_CONTAINER_OF(t, struct sip_reg, t),
		 SB_CONTAINER_OF(t, struct sip_reg, t)->o.expires);
}

int sip_reg_new(struct sip_ua *ua, const struct sip_reg_opts *o, struct sip_reg **out)
{
	struct sip_uri u;
	if (!o->aor || sip_uri_parse(sb_slice_cstr(o->aor), &u) ||
	    (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS) || !u.user.len)
		return SB_EINVAL;
	struct sip_reg *r = calloc(1, sizeof(*r));
	if (!r)
		return SB_ENOMEM;
	r->ua = ua;
	r->o = *o;
	if (!r->o.expires)
		r->o.expires = 3600;
	snprintf(r->aor, sizeof(r->aor), "%s", o->aor);
	sb_slice_copy(u.user, r->user, sizeof(r->user));
	if (o->auth_user)
		snprintf(r->user, sizeof(r->user), "%s", o->auth_user);
	if (o->auth_password)
		snprintf(r->password, sizeof(r->password), "%s", o->auth_password);
	if (o->auth_realm)
		snprintf(r->realm, sizeof(r->realm), "%s", o->auth_realm);
	/* The Request-URI of REGISTER is the registrar's domain, without user (§10.2). */
	bool v6 = u.host_ipv6;
	if (u.port)
		snprintf(r->host_uri, sizeof(r->host_uri), "%.*s:%s%.*s%s:%u",
			 SB_SLICE_ARG(u.scheme_name), v6 ? "[" : "", SB_SLICE_ARG(u.host),
			 v6 ? "]" : "", u.port);
	else
		snprintf(r->host_uri, sizeof(r->host_uri), "%.*s:%s%.*s%s",
			 SB_SLICE_ARG(u.scheme_name), v6 ? "[" : "", SB_SLICE_ARG(u.host),
			 v6 ? "]" : "");
	int err = sip__resolve(sb_slice_cstr(r->aor), o->transport, &r->dest);
	if (err) {
		free(r);
		return err;
	}
	sip__local_addr(ua, &r->dest, r->local_ip, sizeof(r->local_ip), &r->local_port);
	sb_random_token(r->call_id, 24);
	sb_random_token(r->tag, 10);
	r->cseq = sb_random_u32() % 10000;
	sip_digest_client_init(&r->dc);
	sb_timer_init(&r->t, reg_fire);
	reg_send(r, r->o.expires);
	*out = r;
	return 0;
}

void sip_reg_free(struct sip_reg *r)
{
	if (!r)
		return;
	sb_timers_disarm(&r->ua->timers, &r->t);
	if (r->txn)
		sip_txn_terminate(r->txn);
	r->txn = NULL;
	if (r->granted) {
		/* Expires: 0 removes our binding (best effort, no answer awaited). */
		r->unregistering = true;
		reg_send(r, 0);
	}
	free(r);
}
