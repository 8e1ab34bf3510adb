/* The user agent core: receives every message from the transports, routes it to transactions,
 * dialogs or the stateless rejections, and drives the timer heap from the libuv loop. */
#include "sip/ua.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "sip/build.h"
#include "sip/check.h"
#include "sip/ua_int.h"
#include "sip/uri.h"

static const char ALLOW[] = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, REFER, NOTIFY, UPDATE, PRACK";
static const enum sip_method allowed_methods[] = {
    SIP_METHOD_INVITE, SIP_METHOD_ACK,	 SIP_METHOD_CANCEL, SIP_METHOD_BYE,    SIP_METHOD_OPTIONS,
    SIP_METHOD_INFO,   SIP_METHOD_REFER, SIP_METHOD_NOTIFY, SIP_METHOD_UPDATE, SIP_METHOD_PRACK,
};
static const char *const supported_tags[] = {"replaces", "timer", "norefersub"};
static const char *const accepted_types[] = {"application/sdp", "application/dtmf-relay",
					     "application/dtmf", "message/sipfrag",
					     "multipart/mixed"};

const char *sip__allow(void)
{
	return ALLOW;
}

sb_time_ms sip__now(const struct sip_ua *ua)
{
	return uv_now(ua->loop);
}

/* ---- transaction owner records ---- */

struct sip__link *sip__link_new(struct sip_ua *ua, struct sip_call *c, const struct sip_dest *d)
{
	struct sip__link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->ua = ua;
	l->call = c;
	l->dest = *d;
	l->all_next = ua->links;
	if (ua->links)
		ua->links->all_prev = l;
	ua->links = l;
	if (c) {
		l->next = c->links;
		c->links = l;
	}
	return l;
}

static int link_send(struct sip_txn *t, struct sb_slice bytes, void *arg)
{
	(void)t;
	struct sip__link *l = arg;
	return sip_transport_send(l->ua->tp, &l->dest, bytes);
}

static void link_response(struct sip_txn *t, const struct sip_msg *rsp, void *arg)
{
	struct sip__link *l = arg;
	if (l->call)
		sip__call_txn_response(l->call, t, rsp);
}

static void link_timeout(struct sip_txn *t, int err, void *arg)
{
	struct sip__link *l = arg;
	if (l->call)
		sip__call_txn_timeout(l->call, t, err);
}

void sip__link_free(struct sip__link *l)
{
	if (!l)
		return;
	struct sip_ua *ua = l->ua;
	if (l->all_prev)
		l->all_prev->all_next = l->all_next;
	else
		ua->links = l->all_next;
	if (l->all_next)
		l->all_next->all_prev = l->all_prev;
	free(l);
}

static void link_terminated(struct sip_txn *t, void *arg)
{
	struct sip__link *l = arg;
	struct sip_call *c = l->call;
	if (c) {
		sip__call_txn_gone(c, t);
		for (struct sip__link **pp = &c->links; *pp; pp = &(*pp)->next) {
			if (*pp == l) {
				*pp = l->next;
				break;
			}
		}
	}
	sip__link_free(l);
}

const struct sip_txn_handlers sip__txn_handlers = {
    .send = link_send,
    .response = link_response,
    .timeout = link_timeout,
    .terminated = link_terminated,
};

/* ---- addresses ---- */

void sip__local_addr(struct sip_ua *ua, const struct sip_dest *d, char *ip, size_t cap,
		     uint16_t *port)
{
	struct sockaddr_storage ss;
	int fam = d->addr.ss_family ? d->addr.ss_family : AF_INET;
	if (sip_transport_local_addr(ua->tp, d->type, fam, &ss) &&
	    sip_transport_local_addr(ua->tp, d->type, AF_UNSPEC, &ss)) {
		snprintf(ip, cap, "127.0.0.1");
		*port = 5060;
		return;
	}
	*port = sip_sockaddr_port(&ss);
	sip_sockaddr_ip(&ss, ip, cap);
	bool any = (ss.ss_family == AF_INET &&
		    ((struct sockaddr_in *)(void *)&ss)->sin_addr.s_addr == htonl(INADDR_ANY)) ||
		   (ss.ss_family == AF_INET6 &&
		    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)(void *)&ss)->sin6_addr));
	if (any && d->addr.ss_family) {
		/* Ask the kernel which source address it would use toward the peer. */
		int fd = socket(d->addr.ss_family, SOCK_DGRAM, 0);
		if (fd >= 0) {
			socklen_t len = d->addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
								      : sizeof(struct sockaddr_in);
			struct sockaddr_storage me;
			socklen_t mlen = sizeof(me);
			if (connect(fd, (const struct sockaddr *)&d->addr, len) == 0 &&
			    getsockname(fd, (struct sockaddr *)&me, &mlen) == 0)
				sip_sockaddr_ip(&me, ip, cap);
			close(fd);
		}
	}
}

/* Numeric resolution of a SIP URI to a next hop (RFC 3263 without DNS: host must be an IP
 * or localhost). */
int sip__resolve(struct sb_slice uri_text, enum sip_tp_type def_tp, struct sip_dest *out)
{
	struct sip_uri u;
	/* Strip <> and header params when given a name-addr. */
	ptrdiff_t lt = sb_slice_find(uri_text, '<');
	if (lt >= 0) {
		ptrdiff_t gt = sb_slice_find(uri_text, '>');
		if (gt <= lt)
			return SB_EMALFORMED;
		uri_text = sb_slice(uri_text.p + lt + 1, (size_t)(gt - lt - 1));
	}
	if (sip_uri_parse(uri_text, &u) || (u.scheme != SIP_URI_SIP && u.scheme != SIP_URI_SIPS))
		return SB_EMALFORMED;
	memset(out, 0, sizeof(*out));
	out->type = u.scheme == SIP_URI_SIPS ? SIP_TP_TLS : def_tp;
	struct sb_slice tpv;
	if (sip_param_get(u.params, "transport", &tpv)) {
		if (sb_slice_eq_cstr_nocase(tpv, "tcp"))
			out->type = SIP_TP_TCP;
		else if (sb_slice_eq_cstr_nocase(tpv, "tls"))
			out->type = SIP_TP_TLS;
		else if (sb_slice_eq_cstr_nocase(tpv, "udp"))
			out->type = SIP_TP_UDP;
	}
	uint16_t port = u.port ? u.port : (out->type == SIP_TP_TLS ? 5061 : 5060);
	struct sb_slice host = u.host;
	struct sb_slice maddr;
	if (sip_param_get(u.params, "maddr", &maddr) && maddr.len)
		host = maddr;
	if (sb_slice_eq_cstr_nocase(host, "localhost"))
		host = SB_SLICE_LIT("127.0.0.1");
	if (sip_sockaddr_set(&out->addr, host, port))
		return SB_EUNSUPPORTED;
	return 0;
}

/* ---- responses ---- */

void sip__render_resp_headers(struct sb_buf *b, const struct sip_msg *req,
			      const struct sip_dest *src, struct sb_slice to_tag, bool record_route)
{
	char ip[64];
	/* Top Via with received/rport (RFC 3261 §18.2.1, RFC 3581 §4). */
	sb_buf_append_cstr(b, "Via: ");
	struct sb_slice v = req->via.raw;
	if (req->via.rport && req->via.rport_value == 0) {
		/* Remove the bare ";rport" and add the filled one. */
		ptrdiff_t i = sb_slice_find_str(v, SB_SLICE_LIT(";rport"));
		while (i >= 0 && (size_t)i + 6 < v.len && v.p[i + 6] != ';' && v.p[i + 6] != ' ' &&
		       v.p[i + 6] != ',') {
			struct sb_slice rest = sb_slice(v.p + i + 6, v.len - (size_t)i - 6);
			ptrdiff_t j = sb_slice_find_str(rest, SB_SLICE_LIT(";rport"));
			i = j < 0 ? -1 : i + 6 + j;
		}
		if (i >= 0) {
			sb_buf_append(b, v.p, (size_t)i);
			sb_buf_append(b, v.p + i + 6, v.len - (size_t)i - 6);
		} else {
			sb_buf_append_slice(b, v);
		}
		if (src) {
			sb_buf_printf(b, ";received=%s;rport=%u",
				      sip_sockaddr_ip(&src->addr, ip, sizeof(ip)),
				      sip_sockaddr_port(&src->addr));
		}
	} else {
		sb_buf_append_slice(b, v);
		if (src) {
			sip_sockaddr_ip(&src->addr, ip, sizeof(ip));
			if (!req->via.host.len || !sb_slice_eq_cstr(req->via.host, ip))
				sb_buf_printf(b, ";received=%s", ip);
		}
	}
	sb_buf_append_cstr(b, "\r\n");
	/* The other Via values, in order. */
	struct sip_hdr_iter it;
	struct sb_slice val;
	bool first = true;
	sip_hdr_iter_init(&it);
	while (sip_hdr_next_value(req, SIP_HDR_VIA, &it, &val)) {
		if (first) {
			first = false;
			continue;
		}
		sb_buf_append_cstr(b, "Via: ");
		sb_buf_append_slice(b, val);
		sb_buf_append_cstr(b, "\r\n");
	}
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_FROM);
	if (h) {
		sb_buf_append_cstr(b, "From: ");
		sb_buf_append_slice(b, h->value);
		sb_buf_append_cstr(b, "\r\n");
	}
	h = sip_msg_hdr(req, SIP_HDR_TO);
	if (h) {
		sb_buf_append_cstr(b, "To: ");
		sb_buf_append_slice(b, h->value);
		if (!req->to.tag.len && to_tag.len) {
			sb_buf_append_cstr(b, ";tag=");
			sb_buf_append_slice(b, to_tag);
		}
		sb_buf_append_cstr(b, "\r\n");
	}
	if (req->call_id.len) {
		sb_buf_append_cstr(b, "Call-ID: ");
		sb_buf_append_slice(b, req->call_id);
		sb_buf_append_cstr(b, "\r\n");
	}
	h = sip_msg_hdr(req, SIP_HDR_CSEQ);
	if (h) {
		sb_buf_append_cstr(b, "CSeq: ");
		sb_buf_append_slice(b, h->value);
		sb_buf_append_cstr(b, "\r\n");
	}
	if (record_route) {
		for (size_t i = 0; i < req->nhdrs; i++) {
			if (req->hdrs[i].id != SIP_HDR_RECORD_ROUTE)
				continue;
			sb_buf_append_cstr(b, "Record-Route: ");
			sb_buf_append_slice(b, req->hdrs[i].value);
			sb_buf_append_cstr(b, "\r\n");
		}
	}
}

/* Build and send a response to req, through st when given (then st keeps it for
 * retransmission), else straight to src. */
int sip__respond(struct sip_ua *ua, struct sip_txn *st, const struct sip_msg *req,
		 const struct sip_dest *src, int status, const char *reason, struct sb_slice to_tag,
		 const char *extra, struct sb_slice ctype, struct sb_slice body)
{
	char stack[2048];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sb_buf_printf(&b, "SIP/2.0 %d %s\r\n", status, reason ? reason : sip_reason_phrase(status));
	char tag[16];
	if (!to_tag.len && status > 100 && !req->to.tag.len) {
		sb_random_token(tag, 10);
		to_tag = sb_slice(tag, 10);
	}
	sip__render_resp_headers(&b, req, src, to_tag,
				 req->method == SIP_METHOD_INVITE && status > 100 && status < 300);
	sb_buf_printf(&b, "Server: %s\r\n", ua->user_agent);
	if (extra)
		sb_buf_append_cstr(&b, extra);
	if (body.len) {
		sb_buf_append_cstr(&b, "Content-Type: ");
		sb_buf_append_slice(&b, ctype);
		sb_buf_append_cstr(&b, "\r\n");
	}
	sb_buf_printf(&b, "Content-Length: %zu\r\n\r\n", body.len);
	sb_buf_append_slice(&b, body);
	int err = b.err;
	if (!err) {
		if (st)
			err = sip_txn_respond(st, status, sb_buf_slice(&b), sip__now(ua));
		else
			err = sip_transport_send(ua->tp, src, sb_buf_slice(&b));
	}
	sb_buf_free(&b);
	return err;
}

/* Where responses to a request go (RFC 3261 §18.2.2 with RFC 3581). */
static struct sip_dest response_dest(const struct sip_msg *m, const struct sip_dest *src)
{
	struct sip_dest d = *src;
	if (src->type == SIP_TP_UDP && !m->via.rport) {
		uint16_t port = m->via.port ? m->via.port : 5060;
		if (d.addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)(void *)&d.addr)->sin6_port = htons(port);
		else
			((struct sockaddr_in *)(void *)&d.addr)->sin_port = htons(port);
	}
	return d;
}

/* A server transaction whose only job is one response (OPTIONS, rejections, 481 ...). */
static void respond_simple(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src,
			   int status, const char *reason, const char *extra)
{
	struct sip_dest d = response_dest(m, src);
	if (m->method == SIP_METHOD_ACK)
		return;
	struct sip__link *l = sip__link_new(ua, NULL, &d);
	struct sip_txn *st = NULL;
	if (l && sip_txn_server_new(ua->txl, m, src->type != SIP_TP_UDP, &sip__txn_handlers, l,
				    sip__now(ua), &st) == 0) {
		sip__respond(ua, st, m, src, status, reason, SB_SLICE_NULL, extra, SB_SLICE_NULL,
			     SB_SLICE_NULL);
		return;
	}
	sip__link_free(l);
	sip__respond(ua, NULL, m, &d, status, reason, SB_SLICE_NULL, extra, SB_SLICE_NULL,
		     SB_SLICE_NULL);
}

/* ---- digest authentication of incoming requests ---- */

static int auth_lookup(void *arg, struct sb_slice username, struct sb_slice realm, char *pw,
		       size_t cap, size_t *len)
{
	(void)realm;
	struct sip_ua *ua = arg;
	int r = ua->auth_lookup(username, pw, cap, ua->arg);
	if (r)
		return SB_ENOTFOUND;
	*len = strnlen(pw, cap);
	return 0;
}

/* true when the request may go on; otherwise it has been answered (401/403/400). */
static bool authorize(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src)
{
	if (!ua->auth)
		return true;
	char ip[64];
	struct sb_slice bind = sb_slice_cstr(sip_sockaddr_ip(&src->addr, ip, sizeof(ip)));
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
	bool stale = false;
	if (h) {
		struct sip_digest_check chk = {
		    .credentials = h->value,
		    .method = m->method_name,
		    .request_uri = m->ruri_raw,
		    .body = m->body,
		    .bind = bind,
		    .now_s = sb_clock_wall_s(),
		    .lookup = auth_lookup,
		    .lookup_arg = ua,
		};
		enum sip_digest_verdict v = sip_digest_verify(ua->auth, &chk, NULL);
		if (v == SIP_DIGEST_OK)
			return true;
		SB_INFO("sip", "digest %s from %s", sip_digest_verdict_name(v), ip);
		if (v == SIP_DIGEST_FAIL) {
			respond_simple(ua, m, src, 403, NULL, NULL);
			return false;
		}
		if (v == SIP_DIGEST_MALFORMED) {
			respond_simple(ua, m, src, 400, "Bad Authorization", NULL);
			return false;
		}
		stale = true;
	}
	char stack[1024];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sip_digest_challenge_headers(ua->auth, "WWW-Authenticate", sb_clock_wall_s(), bind, stale,
				     &b);
	if (!b.err)
		respond_simple(ua, m, src, 401, NULL, b.p);
	sb_buf_free(&b);
	return false;
}

/* ---- receive path ---- */

static void recv_response(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src)
{
	if (sip_check_response(m) != 0)
		return;
	struct sip_txn *t = sip_txn_match_response(ua->txl, m);
	if (t) {
		sip_txn_recv_response(t, m, sip__now(ua));
		return;
	}
	if (m->cseq.method == SIP_METHOD_INVITE && m->status >= 200 && m->status < 300)
		sip__call_stray_2xx(ua, m, src);
}

static void recv_request(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src)
{
	sb_time_ms now = sip__now(ua);
	struct sip_txn *t = sip_txn_match_request(ua->txl, m);
	if (t) {
		sip_txn_recv_request(t, m, now);
		return;
	}
	struct sip_check_policy pol = {
	    .methods = allowed_methods,
	    .n_methods = SB_ARRAY_LEN(allowed_methods),
	    .allow = ALLOW,
	    .supported = supported_tags,
	    .n_supported = SB_ARRAY_LEN(supported_tags),
	    .accept = accepted_types,
	    .n_accept = SB_ARRAY_LEN(accepted_types),
	};
	struct sip_check_result chk;
	if (sip_check_request(m, &pol, &chk) != 0) {
		respond_simple(ua, m, src, chk.status, chk.reason,
			       chk.extra_header[0] ? chk.extra_header : NULL);
		return;
	}
	if (m->method == SIP_METHOD_ACK) {
		struct sip_call *c =
		    m->to.tag.len ? sip__call_find(ua, m->call_id, m->to.tag) : NULL;
		if (c)
			sip__call_ack(c, m);
		return;
	}
	if (m->method == SIP_METHOD_CANCEL) {
		struct sip_txn *inv = sip_txn_match_cancel(ua->txl, m);
		if (!inv) {
			respond_simple(ua, m, src, 481, NULL, NULL);
			return;
		}
		respond_simple(ua, m, src, 200, NULL, NULL);
		struct sip__link *l = sip_txn_arg(inv);
		if (sip_txn_kind(inv) == SIP_TXN_SERVER_INVITE && l && l->call)
			sip__call_cancel(l->call);
		return;
	}
	if (m->to.tag.len) {
		struct sip_call *c = sip__call_find(ua, m->call_id, m->to.tag);
		if (!c) {
			respond_simple(ua, m, src, 481, NULL, NULL);
			return;
		}
		sip__call_in_dialog(ua, c, m, response_dest(m, src).type == SIP_TP_UDP ? src : src);
		return;
	}
	switch (m->method) {
	case SIP_METHOD_INVITE: {
		if (ua->shutting_down || (ua->max_calls && ua->ncalls >= ua->max_calls)) {
			respond_simple(ua, m, src, 503, NULL, "Retry-After: 5\r\n");
			return;
		}
		if (!authorize(ua, m, src))
			return;
		struct sip_dest d = response_dest(m, src);
		struct sip__link *l = sip__link_new(ua, NULL, &d);
		struct sip_txn *st = NULL;
		if (!l || sip_txn_server_new(ua->txl, m, src->type != SIP_TP_UDP,
					     &sip__txn_handlers, l, now, &st)) {
			sip__link_free(l);
			sip__respond(ua, NULL, m, &d, 500, "Server Internal Error", SB_SLICE_NULL,
				     "Retry-After: 5\r\n", SB_SLICE_NULL, SB_SLICE_NULL);
			return;
		}
		sip__call_incoming(ua, m, src, st);
		/* RFC 3261 §17.2.1: 100 Trying only when the application did not answer at once
		 * (the transaction outlives the call, so st is still valid here). */
		if (sip_txn_last_status(st) == 0)
			sip__respond(ua, st, m, src, 100, NULL, SB_SLICE_NULL, NULL, SB_SLICE_NULL,
				     SB_SLICE_NULL);
		return;
	}
	case SIP_METHOD_OPTIONS: {
		char extra[256];
		snprintf(extra, sizeof(extra),
			 "Allow: %s\r\nAccept: application/sdp\r\nSupported: replaces, timer, "
			 "norefersub\r\n",
			 ALLOW);
		respond_simple(ua, m, src, 200, NULL, extra);
		return;
	}
	case SIP_METHOD_REGISTER:
	case SIP_METHOD_SUBSCRIBE:
	case SIP_METHOD_PUBLISH:
	case SIP_METHOD_MESSAGE: {
		char extra[160];
		snprintf(extra, sizeof(extra), "Allow: %s\r\n", ALLOW);
		respond_simple(ua, m, src, 405, NULL, extra);
		return;
	}
	default:
		respond_simple(ua, m, src, 481, NULL, NULL);
		return;
	}
}

static void on_recv(struct sip_transport *tp, const struct sip_rx *rx, void *arg)
{
	(void)tp;
	struct sip_ua *ua = arg;
	const struct sip_msg *m = rx->msg;
	if (m->call_id.len)
		sb_log_ctx_set(m->call_id);
	if (rx->err) {
		/* Answer a malformed request whenever its top Via says where the answer goes: the
		 * response copies whichever of From, To, Call-ID and CSeq could be read (RFC 4475
		 * §3.1.2, §3.3.1). Responses and requests without a usable Via are dropped. */
		if (m->is_request && m->error_status && m->method != SIP_METHOD_ACK &&
		    m->via.raw.len && m->via.host.len) {
			int status = m->error_status;
			SB_INFO("sip", "malformed request: %d %s", status,
				m->error_reason ? m->error_reason : "Bad Request");
			struct sip_dest d = response_dest(m, &rx->src);
			sip__respond(ua, NULL, m, &d, status, m->error_reason, SB_SLICE_NULL, NULL,
				     SB_SLICE_NULL, SB_SLICE_NULL);
		} else {
			SB_DEBUG("sip", "dropped malformed message (%s)",
				 m->error_reason ? m->error_reason : "unparsable");
		}
		sb_log_ctx_clear();
		return;
	}
	if (m->is_request)
		recv_request(ua, m, &rx->src);
	else
		recv_response(ua, m, &rx->src);
	sb_log_ctx_clear();
}

static const struct sip_transport_handlers tp_handlers = {.recv = on_recv};

/* ---- timers on the loop ---- */

static void on_uvtimer(uv_timer_t *t)
{
	struct sip_ua *ua = t->data;
	ua->armed_for = SB_TIME_NEVER;
	sb_timers_run(&ua->timers, uv_now(ua->loop));
}

/* Before the loop blocks: arm the libuv timer for the heap's earliest deadline. */
static void on_prepare(uv_prepare_t *p)
{
	struct sip_ua *ua = p->data;
	sb_time_ms next = sb_timers_next(&ua->timers);
	if (next == ua->armed_for)
		return;
	ua->armed_for = next;
	if (next == SB_TIME_NEVER) {
		uv_timer_stop(&ua->uvtimer);
		return;
	}
	sb_time_ms now = uv_now(ua->loop);
	uv_timer_start(&ua->uvtimer, on_uvtimer, next > now ? next - now : 0, 0);
}

int sip_ua_new(struct sip_ua **out, const struct sip_ua_opts *o)
{
	struct sip_ua *ua = calloc(1, sizeof(*ua));
	if (!ua)
		return SB_ENOMEM;
	ua->loop = o->loop;
	if (o->handlers)
		ua->h = *o->handlers;
	ua->arg = o->arg;
	ua->max_calls = o->max_calls;
	snprintf(ua->user_agent, sizeof(ua->user_agent), "%s",
		 o->user_agent ? o->user_agent : "switchboard");
	snprintf(ua->auth_realm, sizeof(ua->auth_realm), "%s",
		 o->auth_realm ? o->auth_realm : "switchboard");
	ua->auth_lookup = o->auth_lookup;
	if (o->auth_lookup) {
		struct sip_digest_server_cfg dc = {
		    .realm = sb_slice_cstr(ua->auth_realm),
		    .offer_md5 = true,
		    .md5_first = o->auth_md5_first,
		    .nc_slots = 4096,
		};
		int aerr = sip_digest_server_new(&ua->auth, &dc);
		if (aerr) {
			free(ua);
			return aerr;
		}
	}
	sb_timers_init(&ua->timers);
	ua->armed_for = SB_TIME_NEVER;
	ua->scratch = malloc(sizeof(*ua->scratch));
	if (!ua->scratch) {
		if (ua->auth)
			sip_digest_server_free(ua->auth);
		free(ua);
		return SB_ENOMEM;
	}
	struct sip_txn_cfg cfg = {.t1 = o->t1_ms, .t2 = o->t2_ms, .t4 = o->t4_ms};
	int err = sip_txn_layer_new(&ua->txl, &cfg, &ua->timers);
	if (err)
		goto fail;
	err = sb_htab_init(&ua->dialogs, 1024);
	if (err)
		goto fail_txl;
	struct sip_transport_opts to = {
	    .loop = o->loop,
	    .handlers = &tp_handlers,
	    .arg = ua,
	    .tls_cert_file = o->tls_cert_file,
	    .tls_key_file = o->tls_key_file,
	    .tls_ca_file = o->tls_ca_file,
	};
	err = sip_transport_new(&ua->tp, &to);
	if (err)
		goto fail_htab;
	uv_timer_init(o->loop, &ua->uvtimer);
	ua->uvtimer.data = ua;
	uv_prepare_init(o->loop, &ua->prep);
	ua->prep.data = ua;
	uv_prepare_start(&ua->prep, on_prepare);
	uv_unref((uv_handle_t *)&ua->prep);
	*out = ua;
	return 0;
fail_htab:
	sb_htab_free(&ua->dialogs);
fail_txl:
	sip_txn_layer_free(ua->txl);
fail:
	free(ua->scratch);
	sb_timers_free(&ua->timers);
	if (ua->auth)
		sip_digest_server_free(ua->auth);
	free(ua);
	return err;
}

int sip_ua_listen(struct sip_ua *ua, enum sip_tp_type type, const char *host, uint16_t port)
{
	return sip_transport_listen(ua->tp, type, host, port);
}

uint16_t sip_ua_port(const struct sip_ua *ua, enum sip_tp_type type)
{
	return sip_transport_local_port(ua->tp, type);
}

size_t sip_ua_call_count(const struct sip_ua *ua)
{
	return ua->ncalls;
}

void sip_ua_counters(const struct sip_ua *ua, struct sip_counters *out)
{
	sip_transport_counters(ua->tp, &out->msgs);
	sip_transport_stats(ua->tp, &out->transport);
	out->calls = ua->ncalls;
}

static void ua_free(struct sip_ua *ua)
{
	void (*cb)(void *) = ua->shutdown_cb;
	void *arg = ua->shutdown_arg;
	sip_txn_layer_free(ua->txl);
	while (ua->links)
		sip__link_free(ua->links);
	free(ua->scratch);
	sb_timers_free(&ua->timers);
	sb_htab_free(&ua->dialogs);
	if (ua->auth)
		sip_digest_server_free(ua->auth);
	free(ua);
	if (cb)
		cb(arg);
}

static void ua_handle_closed(uv_handle_t *h)
{
	struct sip_ua *ua = h->data;
	if (--ua->closing_handles == 0)
		ua_free(ua);
}

static void tp_closed(void *arg)
{
	ua_handle_closed((uv_handle_t *)&((struct sip_ua *)arg)->prep);
}

static void finish_shutdown(struct sip_ua *ua)
{
	/* Calls that did not end in time are dropped without further signalling. */
	while (ua->calls) {
		struct sip_call *c = ua->calls;
		c->end_status = 0;
		sip__call_shutdown(c);
		if (ua->calls == c)
			break; /* cannot happen: shutdown unlinks */
	}
	ua->closing_handles = 4;
	uv_timer_stop(&ua->uvtimer);
	uv_close((uv_handle_t *)&ua->uvtimer, ua_handle_closed);
	uv_close((uv_handle_t *)&ua->prep, ua_handle_closed);
	uv_close((uv_handle_t *)&ua->shutdown_timer, ua_handle_closed);
	sip_transport_close(ua->tp, tp_closed, ua);
}

static void shutdown_tick(uv_timer_t *t)
{
	struct sip_ua *ua = t->data;
	sb_time_ms now = uv_now(ua->loop);
	/* Done when no call is left and no transaction still waits to deliver a BYE. */
	if (ua->ncalls == 0 || now >= ua->shutdown_deadline) {
		uv_timer_stop(t);
		finish_shutdown(ua);
	}
}

void sip_ua_shutdown(struct sip_ua *ua, void (*cb)(void *arg), void *arg)
{
	ua->shutting_down = true;
	ua->shutdown_cb = cb;
	ua->shutdown_arg = arg;
	for (struct sip_call *c = ua->calls, *next; c; c = next) {
		next = c->next;
		sip_call_hangup(c, NULL, NULL);
	}
	uv_timer_init(ua->loop, &ua->shutdown_timer);
	ua->shutdown_timer.data = ua;
	/* Give BYEs up to 4 s to be answered (UDP retransmits happen meanwhile). */
	uv_timer_start(&ua->shutdown_timer, shutdown_tick, 20, 20);
	ua->shutdown_deadline = uv_now(ua->loop) + 4000;
}
