/* INVITE dialogs, UAS and UAC (RFC 3261 §12-15): call setup, offer/answer, 2xx retransmission,
 * re-INVITE/UPDATE hold and resume, BYE, CANCEL, INFO DTMF, REFER with NOTIFY sipfrag. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "sip/build.h"
#include "sip/digest.h"
#include "sip/ua_int.h"
#include "sip/uri.h"

#define TAG_LEN 10

struct sip_dial_opts_copy {
	char auth_user[128];
	char auth_password[128];
	char auth_realm[128];
	bool has_auth;
	char extra[1024];
	char ruri[512];
	char from[512];
	struct sip_digest_client dc;
};

/* ---- table ---- */

static uint64_t dialog_hash(struct sb_slice call_id, struct sb_slice local_tag)
{
	return sb_hash(call_id.p, call_id.len) * 31 ^ sb_hash(local_tag.p, local_tag.len);
}

struct sip_call *sip__call_find(struct sip_ua *ua, struct sb_slice call_id,
				struct sb_slice local_tag)
{
	uint64_t h = dialog_hash(call_id, local_tag);
	for (struct sb_hnode *n = sb_htab_chain(&ua->dialogs, h); n; n = n->next) {
		if (n->hash != h)
			continue;
		struct sip_call *c = SB_CONTAINER_OF(n, struct sip_call, node);
		if (sb_slice_eq(c->call_id, call_id) && sb_slice_eq(c->local_tag, local_tag))
			return c;
	}
	return NULL;
}

static void t2xx_fire(struct sb_timer *t, sb_time_ms now);

static struct sip_call *call_new(struct sip_ua *ua, bool outgoing)
{
	struct sip_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ua = ua;
	c->outgoing = outgoing;
	sb_arena_init(&c->arena, 2048);
	sb_timer_init(&c->t2xx, t2xx_fire);
	sb_timer_init(&c->tglare, sip__call_tglare_fire);
	sb_timer_init(&c->trefer, sip__call_trefer_fire);
	sdp_local_init(&c->sdp);
	c->next = ua->calls;
	if (ua->calls)
		ua->calls->prev = c;
	ua->calls = c;
	ua->ncalls++;
	return c;
}

static void call_table_add(struct sip_call *c)
{
	sb_htab_insert(&c->ua->dialogs, &c->node, dialog_hash(c->call_id, c->local_tag));
	c->in_table = true;
}

static void call_free(struct sip_call *c)
{
	struct sip_ua *ua = c->ua;
	if (c->in_table)
		sb_htab_remove(&ua->dialogs, &c->node);
	if (c->prev)
		c->prev->next = c->next;
	else
		ua->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ua->ncalls--;
	for (struct sip__link *l = c->links; l; l = l->next)
		l->call = NULL;
	sb_timers_disarm(&ua->timers, &c->t2xx);
	sb_timers_disarm(&ua->timers, &c->tglare);
	sb_timers_disarm(&ua->timers, &c->trefer);
	free(c->resp2xx);
	free(c->ack);
	free(c->dial);
	sb_arena_free(&c->arena);
	free(c);
}

/* Attach a transaction to the call (its link gets the call). */
static void call_adopt(struct sip_call *c, struct sip_txn *t)
{
	struct sip__link *l = sip_txn_arg(t);
	if (!l || l->call == c)
		return;
	l->call = c;
	l->next = c->links;
	c->links = l;
}

static struct sb_slice cdup(struct sip_call *c, struct sb_slice s)
{
	struct sb_slice out = SB_SLICE_NULL;
	if (sb_arena_dup(&c->arena, s, &out))
		return SB_SLICE_NULL;
	return out;
}

static struct sb_slice dup_printf(struct sip_call *c, const char *fmt, ...) SB_PRINTF(2, 3);
static struct sb_slice dup_printf(struct sip_call *c, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return SB_SLICE_NULL;
	return cdup(c, sb_slice(tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1));
}

/* ---- media ---- */

static void local_media_set(struct sip_call *c, const struct sip_media_local *m)
{
	snprintf(c->sdp_addr, sizeof(c->sdp_addr), "%s", m->addr);
	c->sdp.addrtype = strchr(m->addr, ':') ? SDP_ADDR_IP6 : SDP_ADDR_IP4;
	c->sdp.origin_addr = sb_slice_cstr(c->sdp_addr);
	c->sdp.conn_addr = sb_slice_cstr(c->sdp_addr);
	c->sdp.rtp_port = m->port;
	c->sdp.username = SB_SLICE_LIT("switchboard");
	c->sdp.session_name = SB_SLICE_LIT("switchboard");
	if (m->n_codecs) {
		memcpy(c->sdp.codecs, m->codecs, sizeof(c->sdp.codecs));
		c->sdp.n_codecs = m->n_codecs;
	}
	c->sdp.telephone_event = m->telephone_event;
	c->sdp.rtcp_mux = m->rtcp_mux;
	c->sdp.srtp = m->srtp;
	snprintf(c->sdp_crypto_key, sizeof(c->sdp_crypto_key), "%s", m->crypto_key);
	c->sdp.crypto_key = sb_slice_cstr(c->sdp_crypto_key);
	if (!c->sdp.sess_id) {
		c->sdp.sess_id = sb_random_u32();
		c->sdp.sess_version = c->sdp.sess_id;
	}
	c->have_local_media = true;
}

static void media_from_result(struct sip_call *c, const struct sdp_result *r)
{
	struct sip_media_state *m = &c->media;
	m->codec = r->codec;
	m->pt = r->pt;
	m->te_pt = r->te_pt;
	snprintf(m->remote_addr, sizeof(m->remote_addr), "%s", r->remote_addr);
	m->remote_port = r->remote_port;
	m->rtcp_mux = r->rtcp_mux;
	m->remote_rtcp_port = r->rtcp_mux	    ? r->remote_port
			      : r->remote_rtcp_port ? r->remote_rtcp_port
						    : (uint16_t)(r->remote_port + 1);
	m->remote_dir = r->remote_dir;
	m->local_dir = r->local_dir;
	m->crypto_suite = r->crypto_suite;
	snprintf(m->remote_crypto_key, sizeof(m->remote_crypto_key), "%s", r->remote_crypto_key);
	m->ptime = r->remote_ptime ? r->remote_ptime : 20;
}

/* Apply a new remote description: report media, and hold when the remote's receive half
 * appears or disappears. */
void sip__call_media_changed(struct sip_call *c, const struct sdp_result *r)
{
	media_from_result(c, r);
	bool held = r->remote_hold;
	bool changed = held != c->remote_hold;
	c->remote_hold = held;
	if (c->h && c->h->media)
		c->h->media(c, &c->media, c->arg);
	if (changed && c->h && c->h->hold)
		c->h->hold(c, held, r->remote_dir, c->arg);
}

/* Answer an offer body; prints the answer into b. */
int sip__call_answer_offer(struct sip_call *c, struct sb_slice offer_body, struct sb_buf *b,
			   struct sdp_result *r)
{
	struct sdp_session off;
	if (sdp_parse(&off, offer_body))
		return SB_EMALFORMED;
	c->sdp.dir = c->local_hold ? SDP_SENDONLY : SDP_SENDRECV;
	int err = sdp_negotiate_answer(&off, &c->sdp, r);
	if (err)
		return err;
	return sdp_make_answer(b, &c->sdp, &off, r);
}

/* ---- building requests ---- */

static void print_via(struct sip_call *c, struct sb_buf *b, const char *branch)
{
	bool v6 = strchr(c->local_ip, ':') != NULL;
	sb_buf_printf(b, "Via: SIP/2.0/%s %s%s%s:%u;branch=%s;rport\r\n", sip_tp_name(c->dest.type),
		      v6 ? "[" : "", c->local_ip, v6 ? "]" : "", c->local_port, branch);
}

static void print_contact(struct sip_call *c, struct sb_buf *b)
{
	bool v6 = strchr(c->local_ip, ':') != NULL;
	sb_buf_printf(b, "Contact: <sip:%.*s@%s%s%s:%u%s>\r\n", SB_SLICE_ARG(c->contact_user),
		      v6 ? "[" : "", c->local_ip, v6 ? "]" : "", c->local_port,
		      c->dest.type == SIP_TP_TCP   ? ";transport=tcp"
		      : c->dest.type == SIP_TP_TLS ? ";transport=tls"
						   : "");
}

/* Build an in-dialog (or initial) request into b. cseq 0 = next local CSeq. */
static void build_request(struct sip_call *c, struct sb_buf *b, enum sip_method method,
			  uint32_t cseq, const char *branch, const char *extra,
			  struct sb_slice ctype, struct sb_slice body)
{
	const char *name = sip_method_name(method);
	sb_buf_printf(b, "%s %.*s SIP/2.0\r\n", name, SB_SLICE_ARG(c->remote_target));
	print_via(c, b, branch);
	sb_buf_append_cstr(b, "Max-Forwards: 70\r\n");
	for (size_t i = 0; i < c->nroutes; i++)
		sb_buf_printf(b, "Route: %.*s\r\n", SB_SLICE_ARG(c->routes[i]));
	sb_buf_printf(b, "From: %.*s\r\n", SB_SLICE_ARG(c->local_uri));
	sb_buf_printf(b, "To: %.*s\r\n", SB_SLICE_ARG(c->remote_uri));
	sb_buf_printf(b, "Call-ID: %.*s\r\n", SB_SLICE_ARG(c->call_id));
	sb_buf_printf(b, "CSeq: %u %s\r\n", cseq, method == SIP_METHOD_ACK ? "ACK" : name);
	if (method == SIP_METHOD_INVITE || method == SIP_METHOD_UPDATE ||
	    method == SIP_METHOD_REFER || method == SIP_METHOD_NOTIFY)
		print_contact(c, b);
	if (method == SIP_METHOD_INVITE)
		sb_buf_printf(b, "Allow: %s\r\nSupported: replaces, norefersub\r\n", sip__allow());
	sb_buf_printf(b, "User-Agent: %s\r\n", c->ua->user_agent);
	if (extra)
		sb_buf_append_cstr(b, extra);
	if (body.len)
		sb_buf_printf(b, "Content-Type: %.*s\r\n", SB_SLICE_ARG(ctype));
	sb_buf_printf(b, "Content-Length: %zu\r\n\r\n", body.len);
	sb_buf_append_slice(b, body);
}

static int start_client_txn(struct sip_call *c, struct sb_buf *b, enum sip_method method,
			    uint32_t cseq, struct sip_txn **out)
{
	if (b->err)
		return b->err;
	struct sip_msg *m = c->ua->scratch;
	int err = sip_msg_parse(m, b->p, b->len, SIP_PARSE_DATAGRAM);
	if (err < 0) {
		SB_ERROR("sip", "built an unparsable %s request", sip_method_name(method));
		return SB_EINVAL;
	}
	struct sip__link *l = sip__link_new(c->ua, c, &c->dest);
	if (!l)
		return SB_ENOMEM;
	l->method = method;
	l->cseq = cseq;
	struct sip_txn *t = NULL;
	err = sip_txn_client_new(c->ua->txl, sb_buf_slice(b), m, c->dest.type != SIP_TP_UDP,
				 &sip__txn_handlers, l, sip__now(c->ua), &t);
	if (err) {
		c->links = l->next;
		sip__link_free(l);
		return err;
	}
	if (out)
		*out = t;
	return 0;
}

int sip__call_send(struct sip_call *c, enum sip_method method, const char *extra,
		   struct sb_slice ctype, struct sb_slice body, struct sip_txn **out)
{
	char branch[SIP_TXN_BRANCH_SIZE];
	sip_txn_new_branch(branch);
	uint32_t cseq = ++c->local_cseq;
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	build_request(c, &b, method, cseq, branch, extra, ctype, body);
	int err = start_client_txn(c, &b, method, cseq, out);
	sb_buf_free(&b);
	return err;
}

/* ---- responses to the INVITE we received ---- */

int sip__call_respond_invite(struct sip_call *c, struct sip_txn *st, int status, const char *reason,
			     struct sb_slice hdrs, const char *extra, struct sb_slice body,
			     bool keep_2xx)
{
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sb_buf_printf(&b, "SIP/2.0 %d %s\r\n", status, reason ? reason : sip_reason_phrase(status));
	sb_buf_append_slice(&b, hdrs);
	if (status > 100 && status < 300) {
		print_contact(c, &b);
		sb_buf_printf(&b, "Allow: %s\r\nSupported: replaces, norefersub\r\n", sip__allow());
	}
	sb_buf_printf(&b, "Server: %s\r\n", c->ua->user_agent);
	if (extra)
		sb_buf_append_cstr(&b, extra);
	if (body.len)
		sb_buf_append_cstr(&b, "Content-Type: application/sdp\r\n");
	sb_buf_printf(&b, "Content-Length: %zu\r\n\r\n", body.len);
	sb_buf_append_slice(&b, body);
	int err = b.err;
	if (!err && st)
		err = sip_txn_respond(st, status, sb_buf_slice(&b), sip__now(c->ua));
	else if (!err)
		err = sip_transport_send(c->ua->tp, &c->reply_dest, sb_buf_slice(&b));
	if (!err && keep_2xx) {
		free(c->resp2xx);
		c->resp2xx = malloc(b.len);
		if (c->resp2xx) {
			memcpy(c->resp2xx, b.p, b.len);
			c->resp2xx_len = b.len;
			sb_time_ms now = sip__now(c->ua);
			const struct sip_txn_cfg *cfg = sip_txn_layer_cfg(c->ua->txl);
			c->t2xx_interval = cfg->t1;
			c->t2xx_give_up = now + 64 * cfg->t1;
			if (c->reply_dest.type == SIP_TP_UDP)
				sb_timers_arm(&c->ua->timers, &c->t2xx, now + c->t2xx_interval);
			else
				sb_timers_arm(&c->ua->timers, &c->t2xx, c->t2xx_give_up);
		}
	}
	sb_buf_free(&b);
	return err;
}

/* End a confirmed call from our side: BYE now, and report status/reason when it completes
 * (at once when the BYE cannot be sent). */
static void bye_and_end(struct sip_call *c, int status, const char *reason, const char *extra)
{
	c->state = SIP__CALL_CONFIRMED;
	c->end_status = status;
	c->end_reason = reason;
	if (sip__call_send(c, SIP_METHOD_BYE, extra, SB_SLICE_NULL, SB_SLICE_NULL, NULL))
		sip__call_end(c, status, reason);
	else
		c->state = SIP__CALL_ENDING;
}

static void t2xx_fire(struct sb_timer *t, sb_time_ms now)
{
	struct sip_call *c = SB_CONTAINER_OF(t, struct sip_call, t2xx);
	if (!c->resp2xx)
		return;
	if (now >= c->t2xx_give_up) {
		/* RFC 3261 §13.3.1.4: no ACK in 64*T1, end the session with BYE. */
		SB_WARN("sip", "no ACK for 2xx, ending call");
		free(c->resp2xx);
		c->resp2xx = NULL;
		bye_and_end(c, 408, "no ACK", "Reason: SIP;cause=408;text=\"ACK timeout\"\r\n");
		return;
	}
	sip_transport_send(c->ua->tp, &c->reply_dest, sb_slice(c->resp2xx, c->resp2xx_len));
	const struct sip_txn_cfg *cfg = sip_txn_layer_cfg(c->ua->txl);
	c->t2xx_interval = c->t2xx_interval * 2 < cfg->t2 ? c->t2xx_interval * 2 : cfg->t2;
	sb_time_ms next = now + c->t2xx_interval;
	sb_timers_arm(&c->ua->timers, &c->t2xx, next < c->t2xx_give_up ? next : c->t2xx_give_up);
}

/* ---- incoming call ---- */

static struct sb_slice unescape_dup(struct sip_call *c, struct sb_slice s)
{
	char tmp[256];
	int n = sip_unescape(s, tmp, sizeof(tmp));
	if (n < 0)
		return cdup(c, s);
	return cdup(c, sb_slice(tmp, (size_t)n));
}

void sip__call_incoming(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src,
			struct sip_txn *st)
{
	struct sip_call *c = call_new(ua, false);
	if (!c) {
		sip__respond(ua, st, m, src, 500, NULL, SB_SLICE_NULL, "Retry-After: 5\r\n",
			     SB_SLICE_NULL, SB_SLICE_NULL);
		return;
	}
	call_adopt(c, st);
	c->inv_st = st;
	c->state = SIP__CALL_INCOMING;
	struct sip__link *l = sip_txn_arg(st);
	c->reply_dest = l->dest;
	c->dest = *src;
	char tag[TAG_LEN];
	sb_random_token(tag, TAG_LEN);
	c->call_id = cdup(c, m->call_id);
	c->local_tag = cdup(c, sb_slice(tag, TAG_LEN));
	c->remote_tag = cdup(c, m->from.tag);
	c->remote_uri = cdup(c, sip_msg_hdr(m, SIP_HDR_FROM)->value);
	c->local_uri = dup_printf(c, "%.*s;tag=%.*s",
				  SB_SLICE_ARG(sip_msg_hdr(m, SIP_HDR_TO)->value), TAG_LEN, tag);
	c->remote_cseq = m->cseq.num;
	c->remote_cseq_set = true;
	c->inv_cseq = m->cseq.num;
	c->contact_user =
	    m->ruri.user.len ? unescape_dup(c, m->ruri.user) : SB_SLICE_LIT("switchboard");
	/* Remote target from Contact; route set from Record-Route in order (UAS side). */
	struct sip_hdr_iter it;
	struct sb_slice v;
	sip_hdr_iter_init(&it);
	if (sip_hdr_next_value(m, SIP_HDR_CONTACT, &it, &v)) {
		struct sip_name_addr na;
		if (sip_name_addr_parse(v, &na) == 0 && !na.star)
			c->remote_target = cdup(c, na.uri.raw);
	}
	if (!c->remote_target.len)
		c->remote_target = cdup(c, m->from.uri.raw);
	sip_hdr_iter_init(&it);
	while (c->nroutes < SIP__MAX_ROUTES && sip_hdr_next_value(m, SIP_HDR_RECORD_ROUTE, &it, &v))
		c->routes[c->nroutes++] = cdup(c, v);
	struct sip_dest next;
	if (sip__resolve(c->nroutes ? c->routes[0] : c->remote_target, src->type, &next) == 0) {
		if (next.type == src->type && sip_sockaddr_equal(&next.addr, &src->addr))
			next.conn = src->conn;
		c->dest = next;
	}
	sip__local_addr(ua, src, c->local_ip, sizeof(c->local_ip), &c->local_port);
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sip__render_resp_headers(&b, m, src, c->local_tag, true);
	c->resp_hdrs = b.err ? SB_SLICE_NULL : cdup(c, sb_buf_slice(&b));
	sb_buf_free(&b);
	if (m->body.len && (!m->content_type.len ||
			    sb_slice_starts_with_nocase(m->content_type, "application/sdp"))) {
		c->inv_has_offer = true;
		c->inv_offer = cdup(c, m->body);
	}
	call_table_add(c);
	if (!ua->h.incoming) {
		sip_call_reject(c, 480, NULL);
		return;
	}
	struct sip_incoming in = {.invite = m, .src = *src};
	in.from_user = m->from.uri.user;
	in.to_user = c->contact_user;
	ua->h.incoming(ua, c, &in, ua->arg);
}

void sip_call_set_handlers(struct sip_call *c, const struct sip_call_handlers *h, void *arg)
{
	c->h = h;
	c->arg = arg;
}

void *sip_call_arg(const struct sip_call *c)
{
	return c->arg;
}

struct sb_slice sip_call_id(const struct sip_call *c)
{
	return c->call_id;
}

void sip_call_dialog_id(const struct sip_call *c, struct sip_dialog_id *out)
{
	out->call_id = c->call_id;
	out->local_tag = c->local_tag;
	out->remote_tag = c->remote_tag;
	out->remote_target = c->remote_target;
}

/* RFC 3986 unreserved characters stay, everything else is %XX. */
static size_t escape_uri_header(struct sb_slice s, char *out, size_t cap, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' ||
			     ch == '~';
		if (plain) {
			if (n + 1 < cap)
				out[n] = (char)ch;
			n++;
		} else {
			if (n + 3 < cap) {
				out[n] = '%';
				out[n + 1] = hex[ch >> 4];
				out[n + 2] = hex[ch & 15];
			}
			n += 3;
		}
	}
	return n;
}

int sip_call_replaces_target(const struct sip_call *c, char *out, size_t cap)
{
	if (c->state != SIP__CALL_CONFIRMED || !c->remote_target.len || !c->remote_tag.len)
		return SB_ESTATE;
	/* the remote target without its angle brackets or URI headers */
	struct sb_slice t = c->remote_target;
	if (t.len && t.p[0] == '<') {
		t.p++;
		t.len--;
	}
	size_t cut = 0;
	while (cut < t.len && t.p[cut] != '>' && t.p[cut] != '?')
		cut++;
	t.len = cut;
	int n0 = snprintf(out, cap, "%.*s?Replaces=", (int)t.len, t.p);
	if (n0 < 0 || (size_t)n0 >= cap)
		return SB_ETOOBIG;
	size_t n = (size_t)n0;
	/* the recipient matches to-tag with its own tag and from-tag with ours (RFC 3891) */
	n = escape_uri_header(c->call_id, out, cap, n);
	n = escape_uri_header(SB_SLICE_LIT(";to-tag="), out, cap, n);
	n = escape_uri_header(c->remote_tag, out, cap, n);
	n = escape_uri_header(SB_SLICE_LIT(";from-tag="), out, cap, n);
	n = escape_uri_header(c->local_tag, out, cap, n);
	if (n >= cap)
		return SB_ETOOBIG;
	out[n] = '\0';
	return 0;
}

bool sip_call_is_outgoing(const struct sip_call *c)
{
	return c->outgoing;
}

bool sip_call_on_hold(const struct sip_call *c)
{
	return c->local_hold;
}

bool sip_call_remote_hold(const struct sip_call *c)
{
	return c->remote_hold;
}

int sip_call_ringing(struct sip_call *c, const struct sip_media_local *early)
{
	if (c->outgoing || c->state != SIP__CALL_INCOMING || !c->inv_st)
		return SB_ESTATE;
	if (early && c->inv_has_offer) {
		local_media_set(c, early);
		char stack[1024];
		struct sb_buf b;
		sb_buf_init(&b, stack, sizeof(stack));
		struct sdp_result r;
		int err = sip__call_answer_offer(c, c->inv_offer, &b, &r);
		if (!err)
			err = sip__call_respond_invite(c, c->inv_st, 183, NULL, c->resp_hdrs, NULL,
						       sb_buf_slice(&b), false);
		sb_buf_free(&b);
		if (!err)
			sip__call_media_changed(c, &r);
		return err;
	}
	return sip__call_respond_invite(c, c->inv_st, 180, NULL, c->resp_hdrs, NULL, SB_SLICE_NULL,
					false);
}

int sip_call_answer(struct sip_call *c, const struct sip_media_local *local)
{
	if (c->outgoing || c->state != SIP__CALL_INCOMING || !c->inv_st)
		return SB_ESTATE;
	local_media_set(c, local);
	char stack[1024];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	struct sdp_result r;
	int err;
	if (c->inv_has_offer) {
		err = sip__call_answer_offer(c, c->inv_offer, &b, &r);
	} else {
		c->sdp.dir = SDP_SENDRECV;
		err = sdp_make_offer(&b, &c->sdp); /* the answer comes in the ACK */
	}
	if (!err)
		err = sip__call_respond_invite(c, c->inv_st, 200, NULL, c->resp_hdrs, NULL,
					       sb_buf_slice(&b), true);
	sb_buf_free(&b);
	if (err)
		return err;
	c->state = SIP__CALL_ANSWERED;
	if (c->inv_has_offer)
		sip__call_media_changed(c, &r);
	return 0;
}

int sip_call_reject_with(struct sip_call *c, int status, const char *reason,
			 const char *extra_headers)
{
	if (c->outgoing || c->state != SIP__CALL_INCOMING || status < 300 || status > 699)
		return SB_ESTATE;
	if (c->inv_st)
		sip__call_respond_invite(c, c->inv_st, status, reason, c->resp_hdrs, extra_headers,
					 SB_SLICE_NULL, false);
	sip__call_end(c, status, reason ? reason : "rejected");
	return 0;
}

int sip_call_reject(struct sip_call *c, int status, const char *reason)
{
	return sip_call_reject_with(c, status, reason,
				    status == 503 || status == 480 ? "Retry-After: 5\r\n" : NULL);
}

void sip__call_cancel(struct sip_call *c)
{
	if (c->state != SIP__CALL_INCOMING)
		return;
	if (c->inv_st)
		sip__call_respond_invite(c, c->inv_st, 487, NULL, c->resp_hdrs, NULL, SB_SLICE_NULL,
					 false);
	sip__call_end(c, 487, "cancelled");
}

void sip__call_ack(struct sip_call *c, const struct sip_msg *m)
{
	if (!c->resp2xx)
		return; /* a retransmitted ACK */
	if (m->cseq.num != c->inv_cseq)
		return;
	free(c->resp2xx);
	c->resp2xx = NULL;
	sb_timers_disarm(&c->ua->timers, &c->t2xx);
	bool initial = c->state == SIP__CALL_ANSWERED;
	if (initial)
		c->state = SIP__CALL_CONFIRMED;
	if (!c->inv_has_offer && m->body.len) {
		/* Our 2xx carried the offer; the ACK carries the answer. */
		struct sdp_session ans;
		struct sdp_result r;
		if (sdp_parse(&ans, m->body) == 0 && sdp_process_answer(&ans, &c->sdp, &r) == 0)
			sip__call_media_changed(c, &r);
	}
	if (initial && c->h && c->h->established)
		c->h->established(c, c->arg);
	if (c->state == SIP__CALL_ENDING && c->end_status == -1) {
		/* hangup() came while waiting for the ACK */
		sip__call_send(c, SIP_METHOD_BYE, NULL, SB_SLICE_NULL, SB_SLICE_NULL, NULL);
	}
}

/* ---- responses to our requests ---- */

static void send_ack(struct sip_call *c, uint32_t cseq, struct sb_slice body)
{
	char branch[SIP_TXN_BRANCH_SIZE];
	sip_txn_new_branch(branch);
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	build_request(c, &b, SIP_METHOD_ACK, cseq, branch, NULL,
		      body.len ? SB_SLICE_LIT("application/sdp") : SB_SLICE_NULL, body);
	if (!b.err) {
		free(c->ack);
		c->ack = malloc(b.len);
		if (c->ack) {
			memcpy(c->ack, b.p, b.len);
			c->ack_len = b.len;
		}
		sip_transport_send(c->ua->tp, &c->dest, sb_buf_slice(&b));
	}
	sb_buf_free(&b);
}

void sip__op_done(struct sip__op *op, int status)
{
	void (*done)(void *, int) = op->done;
	op->done = NULL;
	if (done)
		done(op->arg, status);
}

/* The dialog is established by a 2xx to our initial INVITE. */
static void uac_establish(struct sip_call *c, const struct sip_msg *rsp)
{
	c->remote_tag = cdup(c, rsp->to.tag);
	c->remote_uri = cdup(c, sip_msg_hdr(rsp, SIP_HDR_TO)->value);
	struct sip_hdr_iter it;
	struct sb_slice v;
	sip_hdr_iter_init(&it);
	if (sip_hdr_next_value(rsp, SIP_HDR_CONTACT, &it, &v)) {
		struct sip_name_addr na;
		if (sip_name_addr_parse(v, &na) == 0 && !na.star)
			c->remote_target = cdup(c, na.uri.raw);
	}
	/* Route set: Record-Route in reverse order (UAC side, §12.1.2). */
	struct sb_slice rr[SIP__MAX_ROUTES];
	size_t n = 0;
	sip_hdr_iter_init(&it);
	while (n < SIP__MAX_ROUTES && sip_hdr_next_value(rsp, SIP_HDR_RECORD_ROUTE, &it, &v))
		rr[n++] = v;
	c->nroutes = 0;
	for (size_t i = n; i > 0; i--)
		c->routes[c->nroutes++] = cdup(c, rr[i - 1]);
	struct sip_dest next;
	if (sip__resolve(c->nroutes ? c->routes[0] : c->remote_target, c->dest.type, &next) == 0)
		c->dest = next;
}

/* Answer a 401/407 to a request we sent (RFC 3261 §22.2): the same request again with
 * credentials, CSeq + 1 and a new branch. Only calls we placed with credentials answer, only
 * once per request, and only for the configured realm (digest-leak protection). */
static int auth_retry(struct sip_call *c, struct sip_txn *t, const struct sip_msg *rsp,
		      struct sip_txn **out)
{
	struct sip_dial_opts_copy *d = c->dial;
	struct sip__link *old = sip_txn_arg(t);
	if (!d || !d->has_auth || old->auth_tried || d->dc.nonces > 4)
		return SB_EAUTH;
	enum sip_hdr_id hid =
	    rsp->status == 401 ? SIP_HDR_WWW_AUTHENTICATE : SIP_HDR_PROXY_AUTHENTICATE;
	int err = sip_digest_client_take_msg(&d->dc, rsp, hid, sb_slice_cstr(d->auth_realm));
	if (err)
		return err;
	/* The UA's scratch message: start_client_txn below parses into it again, after the
	 * last use of m. */
	struct sip_msg *m = c->ua->scratch;
	struct sb_slice req = sip_txn_request(t);
	if (sip_msg_parse(m, req.p, req.len, SIP_PARSE_DATAGRAM) < 0)
		return SB_EINVAL;
	char branch[SIP_TXN_BRANCH_SIZE];
	sip_txn_new_branch(branch);
	uint32_t cseq = ++c->local_cseq;
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sb_buf_printf(&b, "%.*s %.*s SIP/2.0\r\n", SB_SLICE_ARG(m->method_name),
		      SB_SLICE_ARG(m->ruri_raw));
	print_via(c, &b, branch);
	for (size_t i = 0; i < m->nhdrs; i++) {
		enum sip_hdr_id id = m->hdrs[i].id;
		if (id == SIP_HDR_VIA || id == SIP_HDR_CSEQ || id == SIP_HDR_CONTENT_LENGTH ||
		    id == SIP_HDR_AUTHORIZATION || id == SIP_HDR_PROXY_AUTHORIZATION)
			continue;
		sb_buf_printf(&b, "%.*s: %.*s\r\n", SB_SLICE_ARG(m->hdrs[i].name),
			      SB_SLICE_ARG(m->hdrs[i].value));
	}
	sb_buf_printf(&b, "CSeq: %u %.*s\r\n", cseq, SB_SLICE_ARG(m->method_name));
	sb_buf_append_cstr(&b, rsp->status == 401 ? "Authorization: " : "Proxy-Authorization: ");
	err = sip_digest_client_authorize(&d->dc, sb_slice_cstr(d->auth_user),
					  sb_slice_cstr(d->auth_password), m->method_name,
					  m->ruri_raw, m->body, &b);
	sb_buf_printf(&b, "\r\nContent-Length: %zu\r\n\r\n", m->body.len);
	sb_buf_append_slice(&b, m->body);
	enum sip_method method = m->method;
	if (!err)
		err = start_client_txn(c, &b, method, cseq, out);
	sb_buf_free(&b);
	if (err)
		return err;
	struct sip__link *nl = sip_txn_arg(*out);
	nl->auth_tried = true;
	return 0;
}

static void initial_invite_response(struct sip_call *c, struct sip_txn *t,
				    const struct sip_msg *rsp)
{
	int st = rsp->status;
	if (st >= 200 && c->inv_ct == t)
		c->inv_ct =
		    NULL; /* the transaction lingers (Timer M/D); the INVITE is no longer pending */
	if (st < 200) {
		if (c->state != SIP__CALL_CALLING)
			return;
		if (c->cancel_wanted && c->inv_ct == t) {
			struct sip_txn *ct = NULL;
			struct sip__link *l = sip__link_new(c->ua, c, &c->dest);
			if (l) {
				l->method = SIP_METHOD_CANCEL;
				if (sip_txn_client_cancel(t, SB_SLICE_NULL, &sip__txn_handlers, l,
							  sip__now(c->ua), &ct)) {
					c->links = l->next;
					sip__link_free(l);
				}
			}
			return;
		}
		if (st > 100 && c->h && c->h->progress)
			c->h->progress(c, st, c->arg);
		if (st == 183 && rsp->body.len && !c->media.remote_port) {
			struct sdp_session ans;
			struct sdp_result r;
			if (sdp_parse(&ans, rsp->body) == 0 &&
			    sdp_process_answer(&ans, &c->sdp, &r) == 0)
				sip__call_media_changed(c, &r);
		}
		return;
	}
	if (st < 300) {
		if (c->state == SIP__CALL_CALLING) {
			uac_establish(c, rsp);
			send_ack(c, rsp->cseq.num, SB_SLICE_NULL);
			if (c->cancel_wanted || c->ua->shutting_down) {
				bye_and_end(c, 200, "cancelled after answer", NULL);
				return;
			}
			c->state = SIP__CALL_CONFIRMED;
			struct sdp_session ans;
			struct sdp_result r;
			if (rsp->body.len && sdp_parse(&ans, rsp->body) == 0 &&
			    sdp_process_answer(&ans, &c->sdp, &r) == 0) {
				sip__call_media_changed(c, &r);
			} else {
				SB_WARN("sip", "2xx without a usable SDP answer, hanging up");
				bye_and_end(c, 488, "no usable answer", NULL);
				return;
			}
			if (c->h && c->h->established)
				c->h->established(c, c->arg);
		} else if (c->ack && sb_slice_eq(rsp->to.tag, c->remote_tag)) {
			sip_transport_send(c->ua->tp, &c->dest, sb_slice(c->ack, c->ack_len));
		}
		return;
	}
	if (c->state != SIP__CALL_CALLING)
		return;
	if ((st == 401 || st == 407) && auth_retry(c, t, rsp, &c->inv_ct) == 0) {
		c->initial_cseq = c->local_cseq;
		return;
	}
	char reason[64];
	sb_slice_copy(rsp->reason, reason, sizeof(reason));
	c->end_reason = NULL;
	/* the far end's reason phrase ("Busy Here"): the API reports it as sip_status */
	sip__call_end(c, st, st == 487 ? "cancelled" : reason[0] ? reason : "rejected");
}

static void reinvite_response(struct sip_call *c, struct sip_txn *t, const struct sip_msg *rsp)
{
	int st = rsp->status;
	if (st < 200)
		return;
	if (c->inv_ct == t)
		c->inv_ct = NULL;
	if (st < 300) {
		send_ack(c, rsp->cseq.num, SB_SLICE_NULL);
		struct sdp_session ans;
		struct sdp_result r;
		if (rsp->body.len && sdp_parse(&ans, rsp->body) == 0 &&
		    sdp_process_answer(&ans, &c->sdp, &r) == 0)
			sip__call_media_changed(c, &r);
		c->local_hold = c->reinvite_hold;
		sip__op_done(&c->reinvite_op, st);
		return;
	}
	if (st == 491) {
		/* Glare: retry after 2.1-4 s if we own the Call-ID, else 0-2 s (RFC 3261 §14.1). */
		uint32_t r = sb_random_u32() % 200;
		sb_time_ms delay = c->outgoing ? 2100 + r * 10 % 1900 : r * 10;
		sb_timers_arm(&c->ua->timers, &c->tglare, sip__now(c->ua) + delay);
		return;
	}
	sip__op_done(&c->reinvite_op, st);
	if (st == 481 || st == 408)
		sip__call_end(c, st, "dialog gone");
}

void sip__call_txn_response(struct sip_call *c, struct sip_txn *t, const struct sip_msg *rsp)
{
	struct sip__link *l = sip_txn_arg(t);
	bool initial =
	    l->method == SIP_METHOD_INVITE &&
	    (c->state == SIP__CALL_CALLING || (c->outgoing && l->cseq == c->initial_cseq));
	if ((rsp->status == 401 || rsp->status == 407) && !initial &&
	    l->method != SIP_METHOD_CANCEL && l->method != SIP_METHOD_ACK) {
		struct sip_txn *nt = NULL;
		if (auth_retry(c, t, rsp, &nt) == 0) {
			if (l->method == SIP_METHOD_INVITE)
				c->inv_ct = nt;
			return;
		}
	}
	switch (l->method) {
	case SIP_METHOD_INVITE:
		if (initial)
			initial_invite_response(c, t, rsp);
		else
			reinvite_response(c, t, rsp);
		return;
	case SIP_METHOD_BYE:
		if (rsp->status >= 200) {
			sip__op_done(&c->bye_op, rsp->status);
			sip__call_end(c, c->end_status > 0 ? c->end_status : 200,
				      c->end_reason ? c->end_reason : "bye");
		}
		return;
	case SIP_METHOD_INFO:
		if (rsp->status >= 200)
			sip__op_done(&c->info_op, rsp->status);
		return;
	case SIP_METHOD_REFER:
		if (rsp->status >= 300 && c->refer_active) {
			c->refer_active = false;
			sb_timers_disarm(&c->ua->timers, &c->trefer);
			char reason[64];
			sb_slice_copy(rsp->reason, reason, sizeof(reason));
			void (*done)(void *, int, const char *) = c->refer_done;
			c->refer_done = NULL;
			if (done)
				done(c->refer_arg, rsp->status, reason);
		}
		return;
	default:
		return;
	}
}

void sip__call_txn_timeout(struct sip_call *c, struct sip_txn *t, int err)
{
	struct sip__link *l = sip_txn_arg(t);
	int status = err == SB_ETIMEDOUT ? 408 : 503;
	switch (l->method) {
	case SIP_METHOD_INVITE:
		if (c->state == SIP__CALL_CALLING) {
			sip__call_end(c, c->cancel_wanted ? 487 : status,
				      c->cancel_wanted ? "cancelled" : "timeout");
		} else if (sip_txn_kind(t) == SIP_TXN_SERVER_INVITE) {
			return; /* Timer H: no ACK for our failure response; nothing to do */
		} else {
			sip__op_done(&c->reinvite_op, status);
		}
		return;
	case SIP_METHOD_BYE:
		sip__op_done(&c->bye_op, status);
		sip__call_end(c, c->end_status > 0 ? c->end_status : 200,
			      c->end_reason ? c->end_reason : "bye timeout");
		return;
	case SIP_METHOD_INFO:
		sip__op_done(&c->info_op, status);
		return;
	case SIP_METHOD_REFER:
		if (c->refer_active) {
			c->refer_active = false;
			sb_timers_disarm(&c->ua->timers, &c->trefer);
			void (*done)(void *, int, const char *) = c->refer_done;
			c->refer_done = NULL;
			if (done)
				done(c->refer_arg, status, "REFER timed out");
		}
		return;
	default:
		return;
	}
}

void sip__call_txn_gone(struct sip_call *c, struct sip_txn *t)
{
	if (c->inv_st == t)
		c->inv_st = NULL;
	if (c->inv_ct == t)
		c->inv_ct = NULL;
}

void sip__call_stray_2xx(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src)
{
	(void)src;
	struct sip_call *c = sip__call_find(ua, m->call_id, m->from.tag);
	if (c && c->ack && sb_slice_eq(m->to.tag, c->remote_tag))
		sip_transport_send(ua->tp, &c->dest, sb_slice(c->ack, c->ack_len));
}

/* ---- ending ---- */

void sip__call_end(struct sip_call *c, int status, const char *reason)
{
	if (c->ended_reported)
		return;
	c->ended_reported = true;
	c->state = SIP__CALL_ENDED;
	SB_INFO("sip", "call ended: %d %s", status, reason ? reason : "");
	sip__op_done(&c->reinvite_op, 487);
	sip__op_done(&c->bye_op, status);
	sip__op_done(&c->info_op, 487);
	if (c->refer_done) {
		void (*done)(void *, int, const char *) = c->refer_done;
		c->refer_done = NULL;
		done(c->refer_arg, 487, "call ended before the transfer completed");
	}
	if (c->h && c->h->ended)
		c->h->ended(c, status, reason, c->arg);
	call_free(c);
}

void sip__call_shutdown(struct sip_call *c)
{
	sip__call_end(c, 0, "shutdown");
}

int sip_call_hangup(struct sip_call *c, void (*done)(void *arg, int status), void *arg)
{
	switch (c->state) {
	case SIP__CALL_INCOMING:
		if (done)
			return SB_ESTATE;
		return sip_call_reject(c, 480, NULL);
	case SIP__CALL_CALLING:
		c->cancel_wanted = true;
		if (c->inv_ct && sip_txn_state(c->inv_ct) == SIP_TXN_PROCEEDING) {
			struct sip__link *l = sip__link_new(c->ua, c, &c->dest);
			struct sip_txn *ct = NULL;
			if (l) {
				l->method = SIP_METHOD_CANCEL;
				if (sip_txn_client_cancel(c->inv_ct, SB_SLICE_NULL,
							  &sip__txn_handlers, l, sip__now(c->ua),
							  &ct)) {
					c->links = l->next;
					sip__link_free(l);
				}
			}
		}
		c->bye_op.done = done;
		c->bye_op.arg = arg;
		return 0;
	case SIP__CALL_ANSWERED:
	case SIP__CALL_CONFIRMED: {
		sb_timers_disarm(&c->ua->timers, &c->t2xx);
		free(c->resp2xx);
		c->resp2xx = NULL;
		int err =
		    sip__call_send(c, SIP_METHOD_BYE, NULL, SB_SLICE_NULL, SB_SLICE_NULL, NULL);
		if (err) {
			sip__call_end(c, 200, "bye not sent");
			return 0;
		}
		c->state = SIP__CALL_ENDING;
		c->bye_op.done = done;
		c->bye_op.arg = arg;
		return 0;
	}
	default:
		return SB_ESTATE;
	}
}

/* ---- dialing ---- */

int sip_dial(struct sip_ua *ua, const struct sip_dial_opts *o, const struct sip_call_handlers *h,
	     void *arg, struct sip_call **out)
{
	if (ua->shutting_down)
		return SB_ESTATE;
	struct sip_uri tu;
	if (!o->target || sip_uri_parse(sb_slice_cstr(o->target), &tu))
		return SB_EINVAL;
	struct sip_dial_opts_copy *d = calloc(1, sizeof(*d));
	if (!d)
		return SB_ENOMEM;
	struct sip_dest dest;
	int err = 0;
	if (tu.scheme == SIP_URI_TEL) {
		if (!o->proxy) {
			free(d);
			return SB_EINVAL; /* a tel: URI needs a gateway to go to */
		}
		struct sb_buf b;
		sb_buf_init(&b, d->ruri, sizeof(d->ruri));
		struct sb_slice host = sb_slice_cstr(o->proxy);
		uint16_t port = 0;
		ptrdiff_t colon = sb_slice_find(host, ':');
		if (colon > 0 && host.p[0] != '[') {
			uint32_t p;
			if (sb_slice_to_u32(
				sb_slice(host.p + colon + 1, host.len - (size_t)colon - 1), 65535,
				&p) == 0)
				port = (uint16_t)p;
			host.len = (size_t)colon;
		}
		sip_uri_tel_to_sip(&b, &tu, host, port);
		if (b.err || b.p != d->ruri) {
			sb_buf_free(&b);
			free(d);
			return SB_ETOOBIG;
		}
	} else if (tu.scheme == SIP_URI_SIP || tu.scheme == SIP_URI_SIPS) {
		snprintf(d->ruri, sizeof(d->ruri), "%s", o->target);
	} else {
		free(d);
		return SB_EUNSUPPORTED;
	}
	if (o->proxy) {
		char px[300];
		snprintf(px, sizeof(px), "sip:%s", o->proxy);
		err = sip__resolve(sb_slice_cstr(px), o->transport, &dest);
	} else {
		err = sip__resolve(sb_slice_cstr(d->ruri), o->transport, &dest);
	}
	if (err) {
		free(d);
		return err;
	}
	if (o->transport != SIP_TP_UDP && dest.type == SIP_TP_UDP)
		dest.type = o->transport;
	if (o->auth_user && o->auth_password) {
		d->has_auth = true;
		snprintf(d->auth_user, sizeof(d->auth_user), "%s", o->auth_user);
		snprintf(d->auth_password, sizeof(d->auth_password), "%s", o->auth_password);
		if (o->auth_realm)
			snprintf(d->auth_realm, sizeof(d->auth_realm), "%s", o->auth_realm);
		sip_digest_client_init(&d->dc);
	}
	if (o->extra_headers)
		snprintf(d->extra, sizeof(d->extra), "%s", o->extra_headers);

	struct sip_call *c = call_new(ua, true);
	if (!c) {
		free(d);
		return SB_ENOMEM;
	}
	c->dial = d;
	c->h = h;
	c->arg = arg;
	c->dest = dest;
	c->state = SIP__CALL_CALLING;
	sip__local_addr(ua, &dest, c->local_ip, sizeof(c->local_ip), &c->local_port);
	char tag[TAG_LEN], cid[24];
	sb_random_token(tag, TAG_LEN);
	sb_random_token(cid, sizeof(cid));
	c->local_tag = cdup(c, sb_slice(tag, TAG_LEN));
	c->call_id = dup_printf(c, "%.*s@%s", (int)sizeof(cid), cid, c->local_ip);
	const char *fu = o->from_user ? o->from_user : "switchboard";
	bool v6 = strchr(c->local_ip, ':') != NULL;
	if (o->from_display)
		c->local_uri = dup_printf(c, "\"%s\" <sip:%s@%s%s%s>;tag=%.*s", o->from_display, fu,
					  v6 ? "[" : "", c->local_ip, v6 ? "]" : "", TAG_LEN, tag);
	else
		c->local_uri = dup_printf(c, "<sip:%s@%s%s%s>;tag=%.*s", fu, v6 ? "[" : "",
					  c->local_ip, v6 ? "]" : "", TAG_LEN, tag);
	c->remote_uri = dup_printf(c, "<%s>", d->ruri);
	c->remote_target = cdup(c, sb_slice_cstr(d->ruri));
	c->contact_user = cdup(c, sb_slice_cstr(fu));
	c->local_cseq = sb_random_u32() % 10000;
	local_media_set(c, &o->media);
	c->sdp.dir = SDP_SENDRECV;
	call_table_add(c);

	char body_stack[1024];
	struct sb_buf body;
	sb_buf_init(&body, body_stack, sizeof(body_stack));
	err = sdp_make_offer(&body, &c->sdp);
	if (!err)
		err = sip__call_send(c, SIP_METHOD_INVITE, d->extra[0] ? d->extra : NULL,
				     SB_SLICE_LIT("application/sdp"), sb_buf_slice(&body),
				     &c->inv_ct);
	sb_buf_free(&body);
	if (err) {
		c->h = NULL;
		call_free(c);
		return err;
	}
	c->initial_cseq = c->local_cseq;
	if (out)
		*out = c;
	return 0;
}
