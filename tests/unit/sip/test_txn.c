/* Unit tests for src/sip/txn.c: the four transaction state machines driven by time alone,
 * ACK/CANCEL construction and request/response/CANCEL matching (RFC 3261 and RFC 2543). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/err.h"
#include "base/timer.h"
#include "sip/txn.h"

/* ---- a tiny message scanner, enough for the key fields the transaction layer reads ---- */

static enum sip_method method_of(struct sb_slice s)
{
	static const char *const names[] = {"",	      "INVITE",	 "ACK",	    "BYE",
					    "CANCEL", "OPTIONS", "REGISTER"};
	for (size_t i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (sb_slice_eq_cstr(s, names[i]))
			return (enum sip_method)i;
	return SIP_METHOD_OTHER;
}

static enum sip_hdr_id hdr_of(struct sb_slice n)
{
	if (sb_slice_eq_cstr_nocase(n, "Via") || sb_slice_eq_cstr_nocase(n, "v"))
		return SIP_HDR_VIA;
	if (sb_slice_eq_cstr_nocase(n, "From") || sb_slice_eq_cstr_nocase(n, "f"))
		return SIP_HDR_FROM;
	if (sb_slice_eq_cstr_nocase(n, "To") || sb_slice_eq_cstr_nocase(n, "t"))
		return SIP_HDR_TO;
	if (sb_slice_eq_cstr_nocase(n, "Call-ID") || sb_slice_eq_cstr_nocase(n, "i"))
		return SIP_HDR_CALL_ID;
	if (sb_slice_eq_cstr_nocase(n, "CSeq"))
		return SIP_HDR_CSEQ;
	if (sb_slice_eq_cstr_nocase(n, "Route"))
		return SIP_HDR_ROUTE;
	return SIP_HDR_OTHER;
}

static struct sb_slice param(struct sb_slice v, const char *name)
{
	char pat[32];
	snprintf(pat, sizeof(pat), ";%s=", name);
	ptrdiff_t i = sb_slice_find_str(v, sb_slice_cstr(pat));
	if (i < 0)
		return SB_SLICE_NULL;
	struct sb_slice r = sb_slice_sub(v, (size_t)i + strlen(pat), v.len);
	size_t e = 0;
	while (e < r.len && r.p[e] != ';' && r.p[e] != ',' && r.p[e] != '>')
		e++;
	return sb_slice(r.p, e);
}

static void tparse(struct sip_msg *m, const char *text)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < SIP_HDR__COUNT; i++)
		m->first[i] = UINT16_MAX;
	m->buf = text;
	m->len = strlen(text);
	const char *p = text, *end = text + m->len;
	const char *eol = strstr(p, "\r\n");
	struct sb_slice line = sb_slice(p, (size_t)(eol - p));
	if (sb_slice_starts_with_nocase(line, "SIP/2.0 ")) {
		m->status = atoi(line.p + 8);
	} else {
		m->is_request = true;
		ptrdiff_t sp = sb_slice_find(line, ' ');
		m->method_name = sb_slice(line.p, (size_t)sp);
		m->method = method_of(m->method_name);
		struct sb_slice rest = sb_slice_sub(line, (size_t)sp + 1, line.len);
		m->ruri_raw = sb_slice(rest.p, (size_t)sb_slice_find(rest, ' '));
	}
	p = eol + 2;
	while (p < end) {
		eol = strstr(p, "\r\n");
		if (eol == p)
			break;
		line = sb_slice(p, (size_t)(eol - p));
		p = eol + 2;
		ptrdiff_t c = sb_slice_find(line, ':');
		struct sb_slice name = sb_slice_trim(sb_slice(line.p, (size_t)c));
		struct sb_slice v = sb_slice_trim(sb_slice_sub(line, (size_t)c + 1, line.len));
		enum sip_hdr_id id = hdr_of(name);
		struct sip_hdr *h = &m->hdrs[m->nhdrs];
		h->id = id;
		h->name = name;
		h->value = v;
		if (m->first[id] == UINT16_MAX)
			m->first[id] = (uint16_t)m->nhdrs;
		m->count[id]++;
		m->nhdrs++;
		if (m->count[id] != 1)
			continue;
		if (id == SIP_HDR_VIA) {
			ptrdiff_t comma = sb_slice_find(v, ',');
			struct sb_slice top = comma < 0 ? v : sb_slice(v.p, (size_t)comma);
			m->via.raw = sb_slice_trim(top);
			m->via.branch = param(top, "branch");
			ptrdiff_t s = sb_slice_find(top, ' ');
			m->via.transport = sb_slice(top.p + 8, (size_t)s - 8);
			struct sb_slice hp = sb_slice_sub(top, (size_t)s + 1, top.len);
			size_t e = 0;
			while (e < hp.len && hp.p[e] != ':' && hp.p[e] != ';')
				e++;
			m->via.host = sb_slice(hp.p, e);
			if (e < hp.len && hp.p[e] == ':')
				m->via.port = (uint16_t)atoi(hp.p + e + 1);
		} else if (id == SIP_HDR_FROM || id == SIP_HDR_TO) {
			struct sip_name_addr *na = id == SIP_HDR_FROM ? &m->from : &m->to;
			na->raw = v;
			na->tag = param(v, "tag");
		} else if (id == SIP_HDR_CALL_ID) {
			m->call_id = v;
		} else if (id == SIP_HDR_CSEQ) {
			m->cseq.num = (uint32_t)atol(v.p);
			ptrdiff_t s = sb_slice_find(v, ' ');
			m->cseq.method_name = sb_slice_trim(sb_slice_sub(v, (size_t)s + 1, v.len));
			m->cseq.method = method_of(m->cseq.method_name);
		}
	}
}

/* ---- message factories ---- */

#define VIA_A "SIP/2.0/UDP 192.0.2.1:5060"

struct tmsg {
	char text[2048];
	struct sip_msg m;
};

static void mk(struct tmsg *t, const char *fmt, ...) SB_PRINTF(2, 3);
static void mk(struct tmsg *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->text, sizeof(t->text), fmt, ap);
	va_end(ap);
	tparse(&t->m, t->text);
}

/* A request: method, branch (may be ""), CSeq, To tag (may be ""). */
static void mk_req(struct tmsg *t, const char *method, const char *branch, unsigned cseq,
		   const char *cseq_method, const char *to_tag)
{
	mk(t,
	   "%s sip:bob@example.com SIP/2.0\r\n"
	   "Via: " VIA_A "%s%s\r\n"
	   "Route: <sip:p1.example.com;lr>\r\n"
	   "Route: <sip:p2.example.com;lr>\r\n"
	   "Max-Forwards: 70\r\n"
	   "From: \"Alice\" <sip:alice@example.com>;tag=fromtag1\r\n"
	   "To: <sip:bob@example.com>%s%s\r\n"
	   "Call-ID: call-1@192.0.2.1\r\n"
	   "CSeq: %u %s\r\n"
	   "Content-Length: 0\r\n\r\n",
	   method, *branch ? ";branch=" : "", branch, *to_tag ? ";tag=" : "", to_tag, cseq,
	   cseq_method);
}

static void mk_rsp(struct tmsg *t, int status, const char *branch, unsigned cseq,
		   const char *cseq_method, const char *to_tag)
{
	mk(t,
	   "SIP/2.0 %d Whatever\r\n"
	   "Via: " VIA_A ";branch=%s\r\n"
	   "From: \"Alice\" <sip:alice@example.com>;tag=fromtag1\r\n"
	   "To: <sip:bob@example.com>%s%s\r\n"
	   "Call-ID: call-1@192.0.2.1\r\n"
	   "CSeq: %u %s\r\n"
	   "Content-Length: 0\r\n\r\n",
	   status, branch, *to_tag ? ";tag=" : "", to_tag, cseq, cseq_method);
}

/* ---- recording owner ---- */

static sb_time_ms g_now;

struct rec {
	int sends;
	sb_time_ms send_at[128];
	char last[2048];
	int responses;
	int last_status;
	int timeouts;
	int last_err;
	int terminated;
	int acks;
	int fail_send; /* send returns this when non-zero */
	bool kill_in_response;
};

static int h_send(struct sip_txn *t, struct sb_slice b, void *arg)
{
	(void)t;
	struct rec *r = arg;
	if (r->fail_send)
		return r->fail_send;
	if (r->sends < 128)
		r->send_at[r->sends] = g_now;
	r->sends++;
	sb_slice_copy(b, r->last, sizeof(r->last));
	return 0;
}

static void h_response(struct sip_txn *t, const struct sip_msg *rsp, void *arg)
{
	struct rec *r = arg;
	r->responses++;
	r->last_status = rsp->status;
	if (r->kill_in_response)
		sip_txn_terminate(t);
}

static void h_ack(struct sip_txn *t, const struct sip_msg *ack, void *arg)
{
	(void)t;
	(void)ack;
	((struct rec *)arg)->acks++;
}

static void h_timeout(struct sip_txn *t, int err, void *arg)
{
	(void)t;
	struct rec *r = arg;
	r->timeouts++;
	r->last_err = err;
}

static void h_terminated(struct sip_txn *t, void *arg)
{
	(void)t;
	((struct rec *)arg)->terminated++;
}

static const struct sip_txn_handlers handlers = {
    .send = h_send,
    .response = h_response,
    .ack = h_ack,
    .timeout = h_timeout,
    .terminated = h_terminated,
};

struct fx {
	struct sb_timers timers;
	struct sip_txn_layer *l;
	struct rec r;
};

static int setup_cfg(void **state, const struct sip_txn_cfg *cfg)
{
	struct fx *f = test_calloc(1, sizeof(*f));
	sb_timers_init(&f->timers);
	assert_int_equal(sip_txn_layer_new(&f->l, cfg, &f->timers), 0);
	g_now = 0;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_cfg(state, NULL);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sip_txn_layer_free(f->l);
	sb_timers_free(&f->timers);
	test_free(f);
	return 0;
}

/* Run every timer up to and including `until`, in deadline order. */
static void run_until(struct fx *f, sb_time_ms until)
{
	for (;;) {
		sb_time_ms next = sb_timers_next(&f->timers);
		if (next == SB_TIME_NEVER || next > until)
			break;
		g_now = next > g_now ? next : g_now;
		sb_timers_run(&f->timers, g_now);
	}
	g_now = until;
}

static void assert_sends(const struct rec *r, const sb_time_ms *want, int n)
{
	assert_int_equal(r->sends, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(r->send_at[i], want[i]);
}

#define BR "z9hG4bKabc123"

static struct sip_txn *start_client(struct fx *f, struct tmsg *req, bool reliable)
{
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(req->text), &req->m, reliable,
					    &handlers, &f->r, g_now, &t),
			 0);
	assert_non_null(t);
	return t;
}

/* ---- client INVITE ---- */

static void invite_client_udp_timeout(void **state)
{
	struct fx *f = *state;
	struct tmsg inv;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_client(f, &inv, false);
	assert_int_equal(sip_txn_state(t), SIP_TXN_CALLING);
	assert_int_equal(sip_txn_kind(t), SIP_TXN_CLIENT_INVITE);
	run_until(f, 31999);
	static const sb_time_ms want[] = {0, 500, 1500, 3500, 7500, 15500, 31500};
	assert_sends(&f->r, want, 7);
	assert_int_equal(f->r.timeouts, 0);
	assert_string_equal(f->r.last, inv.text);
	run_until(f, 32000);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.last_err, SB_ETIMEDOUT);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
	assert_int_equal(sb_timers_next(&f->timers), SB_TIME_NEVER);
}

static void invite_client_provisional_then_486(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, rsp;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_client(f, &inv, false);
	run_until(f, 700);
	mk_rsp(&rsp, 180, BR, 1, "INVITE", "totag9");
	assert_ptr_equal(sip_txn_match_response(f->l, &rsp.m), t);
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	assert_int_equal(f->r.responses, 1);
	run_until(f, 60000); /* no retransmissions, no Timer B in Proceeding */
	static const sb_time_ms want[] = {0, 500};
	assert_sends(&f->r, want, 2);
	assert_int_equal(f->r.timeouts, 0);

	mk_rsp(&rsp, 486, BR, 1, "INVITE", "totag9");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(f->r.responses, 2);
	assert_int_equal(f->r.last_status, 486);
	assert_int_equal(f->r.sends, 3);
	/* §17.1.1.3: the ACK */
	const char *ack = f->r.last;
	assert_string_equal(ack, "ACK sip:bob@example.com SIP/2.0\r\n"
				 "Via: " VIA_A ";branch=" BR "\r\n"
				 "Route: <sip:p1.example.com;lr>\r\n"
				 "Route: <sip:p2.example.com;lr>\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: \"Alice\" <sip:alice@example.com>;tag=fromtag1\r\n"
				 "To: <sip:bob@example.com>;tag=totag9\r\n"
				 "Call-ID: call-1@192.0.2.1\r\n"
				 "CSeq: 1 ACK\r\n"
				 "Content-Length: 0\r\n\r\n");
	struct tmsg ackm;
	mk(&ackm, "%s", ack);
	assert_int_equal(ackm.m.method, SIP_METHOD_ACK);
	assert_true(sb_slice_eq_cstr(sip_txn_ack(t), ack));

	/* A retransmitted final: ACK again, the TU does not see it. */
	run_until(f, 61000);
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(f->r.sends, 4);
	assert_int_equal(f->r.responses, 2);
	assert_string_equal(f->r.last, ack);
	/* Timer D = 64*T1 on UDP */
	run_until(f, 60000 + 32000 - 1);
	assert_int_equal(f->r.terminated, 0);
	run_until(f, 60000 + 32000);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(f->r.timeouts, 0);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
}

static void invite_client_accepted(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, rsp;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_client(f, &inv, false);
	run_until(f, 100);
	mk_rsp(&rsp, 200, BR, 1, "INVITE", "t1");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(sip_txn_state(t), SIP_TXN_ACCEPTED);
	assert_int_equal(f->r.sends, 1); /* the 2xx ACK is the TU's */
	/* Every 2xx copy and every fork reaches the TU (Timer M). */
	sip_txn_recv_response(t, &rsp.m, g_now);
	mk_rsp(&rsp, 200, BR, 1, "INVITE", "t2-fork");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(f->r.responses, 3);
	mk_rsp(&rsp, 180, BR, 1, "INVITE", "t3");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(f->r.responses, 3);
	sip_txn_transport_error(t, g_now); /* ignored in Accepted */
	run_until(f, 100 + 32000 - 1);
	assert_int_equal(f->r.terminated, 0);
	run_until(f, 100 + 32000);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(f->r.timeouts, 0);
	assert_int_equal(f->r.sends, 1);
}

static void invite_client_tcp(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, rsp;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	start_client(f, &inv, true);
	run_until(f, 31999);
	assert_int_equal(f->r.sends, 1);
	run_until(f, 32000);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.terminated, 1);

	/* Timer D = 0: Completed ends on the next timer run. */
	struct rec r2 = {0};
	struct sip_txn *t;
	mk_req(&inv, "INVITE", "z9hG4bKtcp2", 2, "INVITE", "");
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(inv.text), &inv.m, true, &handlers,
					    &r2, g_now, &t),
			 0);
	mk_rsp(&rsp, 503, "z9hG4bKtcp2", 2, "INVITE", "x");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(r2.sends, 2); /* INVITE + ACK */
	assert_int_equal(r2.terminated, 0);
	run_until(f, g_now);
	assert_int_equal(r2.terminated, 1);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
}

/* ---- client non-INVITE ---- */

static void non_invite_client_timer_e(void **state)
{
	struct fx *f = *state;
	struct tmsg req;
	mk_req(&req, "OPTIONS", BR, 5, "OPTIONS", "");
	struct sip_txn *t = start_client(f, &req, false);
	assert_int_equal(sip_txn_state(t), SIP_TXN_TRYING);
	run_until(f, 32000);
	static const sb_time_ms want[] = {0,	 500,	1500,  3500,  7500, 11500,
					  15500, 19500, 23500, 27500, 31500};
	assert_sends(&f->r, want, 11);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.last_err, SB_ETIMEDOUT);
	assert_int_equal(f->r.terminated, 1);
}

static void non_invite_client_provisional_t2(void **state)
{
	struct fx *f = *state;
	struct tmsg req, rsp;
	mk_req(&req, "BYE", BR, 5, "BYE", "tt");
	struct sip_txn *t = start_client(f, &req, false);
	run_until(f, 600);
	mk_rsp(&rsp, 100, BR, 5, "BYE", "tt");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	run_until(f, 20000);
	/* E already due at 1500, then every T2 */
	static const sb_time_ms want[] = {0, 500, 1500, 5500, 9500, 13500, 17500};
	assert_sends(&f->r, want, 7);
	mk_rsp(&rsp, 200, BR, 5, "BYE", "tt");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(f->r.responses, 2);
	sip_txn_recv_response(t, &rsp.m, g_now); /* absorbed */
	assert_int_equal(f->r.responses, 2);
	run_until(f, 24999); /* Timer K = T4 */
	assert_int_equal(f->r.terminated, 0);
	assert_int_equal(f->r.sends, 7);
	run_until(f, 25000);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(f->r.timeouts, 0);
}

static void non_invite_client_tcp(void **state)
{
	struct fx *f = *state;
	struct tmsg req, rsp;
	mk_req(&req, "REGISTER", BR, 1, "REGISTER", "");
	struct sip_txn *t = start_client(f, &req, true);
	run_until(f, 10000);
	assert_int_equal(f->r.sends, 1);
	mk_rsp(&rsp, 401, BR, 1, "REGISTER", "x");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(f->r.responses, 1);
	run_until(f, g_now); /* K = 0 */
	assert_int_equal(f->r.terminated, 1);

	struct rec r2 = {0};
	mk_req(&req, "REGISTER", "z9hG4bKsecond", 2, "REGISTER", "");
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(req.text), &req.m, true, &handlers,
					    &r2, g_now, &t),
			 0);
	run_until(f, 10000 + 32000);
	assert_int_equal(r2.sends, 1);
	assert_int_equal(r2.timeouts, 1);
	assert_int_equal(r2.terminated, 1);
}

/* ---- server INVITE ---- */

static struct sip_txn *start_server(struct fx *f, struct tmsg *req, bool reliable)
{
	assert_null(sip_txn_match_request(f->l, &req->m));
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_server_new(f->l, &req->m, reliable, &handlers, &f->r, g_now, &t),
			 0);
	assert_ptr_equal(sip_txn_match_request(f->l, &req->m), t);
	return t;
}

static const char rsp100[] = "SIP/2.0 100 Trying\r\n\r\n";
static const char rsp486[] = "SIP/2.0 486 Busy Here\r\nTo: <sip:bob@example.com>;tag=srv1\r\n\r\n";
static const char rsp200[] = "SIP/2.0 200 OK\r\n\r\n";

static void invite_server_g_until_ack(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, ack;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_server(f, &inv, false);
	assert_int_equal(sip_txn_state(t), SIP_TXN_PROCEEDING);
	sip_txn_recv_request(t, &inv.m, g_now); /* nothing sent yet: nothing to repeat */
	assert_int_equal(f->r.sends, 0);
	assert_int_equal(sip_txn_respond(t, 100, sb_slice_cstr(rsp100), g_now), 0);
	run_until(f, 300);
	sip_txn_recv_request(t, &inv.m, g_now);
	assert_int_equal(f->r.sends, 2);
	assert_string_equal(f->r.last, rsp100);
	run_until(f, 1000);
	assert_int_equal(sip_txn_respond(t, 486, sb_slice_cstr(rsp486), g_now), 0);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), SB_ESTATE);
	run_until(f, 13000);
	/* G: 0.5, 1, 2, 4, 4 s after the final */
	static const sb_time_ms want[] = {0, 300, 1000, 1500, 2500, 4500, 8500, 12500};
	assert_sends(&f->r, want, 8);
	assert_string_equal(f->r.last, rsp486);
	sip_txn_recv_request(t, &inv.m, g_now); /* INVITE copy → final again */
	assert_int_equal(f->r.sends, 9);

	mk_req(&ack, "ACK", BR, 1, "ACK", "srv1");
	assert_ptr_equal(sip_txn_match_request(f->l, &ack.m), t);
	sip_txn_recv_request(t, &ack.m, g_now);
	assert_int_equal(sip_txn_state(t), SIP_TXN_CONFIRMED);
	assert_int_equal(f->r.acks, 1);
	/* I absorbs ACK copies for T4 */
	run_until(f, 13000 + 4999);
	assert_ptr_equal(sip_txn_match_request(f->l, &ack.m), t);
	sip_txn_recv_request(t, &ack.m, g_now);
	assert_int_equal(f->r.acks, 1);
	assert_int_equal(f->r.sends, 9);
	assert_int_equal(f->r.terminated, 0);
	run_until(f, 13000 + 5000);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(f->r.timeouts, 0);
	assert_null(sip_txn_match_request(f->l, &ack.m));
}

static void invite_server_h_without_ack(void **state)
{
	struct fx *f = *state;
	struct tmsg inv;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_server(f, &inv, false);
	assert_int_equal(sip_txn_respond(t, 603, sb_slice_cstr(rsp486), g_now), 0);
	run_until(f, 31999);
	assert_int_equal(f->r.timeouts, 0);
	/* 0, 0.5, 1.5, 3.5, 7.5, 11.5, ..., 31.5 */
	assert_int_equal(f->r.sends, 11);
	run_until(f, 32000);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.last_err, SB_ETIMEDOUT);
	assert_int_equal(f->r.terminated, 1);
}

static void invite_server_tcp(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, ack;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_server(f, &inv, true);
	assert_int_equal(sip_txn_respond(t, 486, sb_slice_cstr(rsp486), g_now), 0);
	run_until(f, 20000);
	assert_int_equal(f->r.sends, 1); /* no G on TCP */
	mk_req(&ack, "ACK", BR, 1, "ACK", "srv1");
	sip_txn_recv_request(t, &ack.m, g_now);
	assert_int_equal(f->r.terminated, 0);
	run_until(f, g_now); /* I = 0 */
	assert_int_equal(f->r.terminated, 1);
}

static void invite_server_accepted(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, ack;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_server(f, &inv, false);
	assert_int_equal(sip_txn_respond(t, 180, sb_slice_cstr(rsp100), g_now), 0);
	assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), 0);
	assert_int_equal(sip_txn_state(t), SIP_TXN_ACCEPTED);
	assert_int_equal(f->r.sends, 2);
	run_until(f, 2000);
	/* INVITE copies are absorbed: they match and nothing is sent */
	assert_ptr_equal(sip_txn_match_request(f->l, &inv.m), t);
	sip_txn_recv_request(t, &inv.m, g_now);
	assert_int_equal(f->r.sends, 2);
	/* the ACK for a 2xx belongs to the dialog */
	mk_req(&ack, "ACK", "z9hG4bKnewbranch", 1, "ACK", "srv1");
	assert_null(sip_txn_match_request(f->l, &ack.m));
	mk_req(&ack, "ACK", BR, 1, "ACK", "srv1");
	assert_null(sip_txn_match_request(f->l, &ack.m));
	/* the TU's 2xx retransmissions go through */
	assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), 0);
	assert_int_equal(sip_txn_send(t, sb_slice_cstr(rsp200)), 0);
	assert_int_equal(f->r.sends, 4);
	assert_int_equal(sip_txn_respond(t, 486, sb_slice_cstr(rsp486), g_now), SB_ESTATE);
	run_until(f, 31999);
	assert_int_equal(f->r.terminated, 0);
	run_until(f, 32000); /* Timer L */
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(f->r.timeouts, 0);
	assert_null(sip_txn_match_request(f->l, &inv.m));
}

/* ---- server non-INVITE ---- */

static void non_invite_server_j(void **state)
{
	struct fx *f = *state;
	struct tmsg req;
	mk_req(&req, "BYE", BR, 7, "BYE", "tt");
	struct sip_txn *t = start_server(f, &req, false);
	assert_int_equal(sip_txn_state(t), SIP_TXN_TRYING);
	sip_txn_recv_request(t, &req.m, g_now); /* Trying absorbs */
	assert_int_equal(f->r.sends, 0);
	run_until(f, 100);
	assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), 0);
	assert_int_equal(sip_txn_state(t), SIP_TXN_COMPLETED);
	run_until(f, 5000);
	assert_int_equal(f->r.sends, 1); /* no retransmission without a request copy */
	sip_txn_recv_request(t, &req.m, g_now);
	assert_int_equal(f->r.sends, 2);
	assert_string_equal(f->r.last, rsp200);
	run_until(f, 100 + 32000 - 1);
	assert_int_equal(f->r.terminated, 0);
	run_until(f, 100 + 32000);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(f->r.timeouts, 0);

	/* reliable: J = 0 */
	struct rec r2 = {0};
	mk_req(&req, "BYE", "z9hG4bKtcpbye", 8, "BYE", "tt");
	assert_int_equal(sip_txn_server_new(f->l, &req.m, true, &handlers, &r2, g_now, &t), 0);
	assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), 0);
	run_until(f, g_now);
	assert_int_equal(r2.terminated, 1);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
}

/* ---- matching ---- */

static void match_3261(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, other;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_server(f, &inv, false);
	/* different branch, method, sent-by */
	mk_req(&other, "INVITE", "z9hG4bKzzz", 1, "INVITE", "");
	assert_null(sip_txn_match_request(f->l, &other.m));
	mk_req(&other, "BYE", BR, 1, "BYE", "");
	assert_null(sip_txn_match_request(f->l, &other.m));
	mk(&other, "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.99;branch=" BR
		   "\r\nCall-ID: call-1@192.0.2.1\r\nCSeq: 1 INVITE\r\n\r\n");
	assert_null(sip_txn_match_request(f->l, &other.m));
	/* port 5060 written or not is the same sent-by; the branch compares case-insensitively */
	mk(&other,
	   "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKABC123"
	   "\r\nCall-ID: call-1@192.0.2.1\r\nCSeq: 1 INVITE\r\n\r\n");
	assert_ptr_equal(sip_txn_match_request(f->l, &other.m), t);
	/* an ACK before a final matches nothing */
	mk_req(&other, "ACK", BR, 1, "ACK", "");
	assert_null(sip_txn_match_request(f->l, &other.m));

	/* responses: branch + CSeq method */
	struct rec rc = {0};
	struct sip_txn *c;
	mk_req(&inv, "INVITE", "z9hG4bKclient", 1, "INVITE", "");
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(inv.text), &inv.m, false, &handlers,
					    &rc, g_now, &c),
			 0);
	mk_rsp(&other, 100, "z9hG4bKclient", 1, "INVITE", "");
	assert_ptr_equal(sip_txn_match_response(f->l, &other.m), c);
	mk_rsp(&other, 200, "z9hG4bKclient", 1, "CANCEL", "");
	assert_null(sip_txn_match_response(f->l, &other.m));
	mk_rsp(&other, 200, "z9hG4bKnope", 1, "INVITE", "");
	assert_null(sip_txn_match_response(f->l, &other.m));
	mk_rsp(&other, 200, BR, 1, "INVITE", ""); /* a server branch never matches a response */
	assert_null(sip_txn_match_response(f->l, &other.m));
	/* the same branch twice for one method is refused */
	struct sip_txn *dupt = NULL;
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(inv.text), &inv.m, false, &handlers,
					    &rc, g_now, &dupt),
			 SB_EEXISTS);
	assert_null(dupt);
}

static void match_cancel(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, cancel;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_server(f, &inv, false);
	mk_req(&cancel, "CANCEL", BR, 1, "CANCEL", "");
	assert_null(sip_txn_match_request(f->l, &cancel.m)); /* a new transaction */
	assert_ptr_equal(sip_txn_match_cancel(f->l, &cancel.m), t);
	struct rec rc = {0};
	struct sip_txn *ct;
	assert_int_equal(sip_txn_server_new(f->l, &cancel.m, false, &handlers, &rc, g_now, &ct), 0);
	assert_ptr_equal(sip_txn_match_request(f->l, &cancel.m), ct);
	assert_ptr_equal(sip_txn_match_cancel(f->l, &cancel.m), t);
	assert_int_equal(sip_txn_respond(ct, 200, sb_slice_cstr(rsp200), g_now), 0);
	assert_int_equal(sip_txn_respond(t, 487, sb_slice_cstr(rsp486), g_now), 0);
	assert_ptr_equal(sip_txn_match_cancel(f->l, &cancel.m), t); /* still there: 200 only */
	mk_req(&cancel, "CANCEL", "z9hG4bKunknown", 1, "CANCEL", "");
	assert_null(sip_txn_match_cancel(f->l, &cancel.m)); /* → 481 */
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	assert_null(sip_txn_match_cancel(f->l, &inv.m)); /* not a CANCEL */
}

static void match_2543(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, x;
	mk_req(&inv, "INVITE", "", 1, "INVITE", ""); /* no branch at all */
	struct sip_txn *t = start_server(f, &inv, false);
	mk_req(&x, "INVITE", "", 1, "INVITE", "");
	assert_ptr_equal(sip_txn_match_request(f->l, &x.m), t);
	mk_req(&x, "INVITE", "", 2, "INVITE", "");
	assert_null(sip_txn_match_request(f->l, &x.m));
	mk_req(&x, "INVITE", "", 1, "INVITE", "other-to-tag");
	assert_null(sip_txn_match_request(f->l, &x.m));
	/* CANCEL: same key, method aside */
	mk_req(&x, "CANCEL", "", 1, "CANCEL", "");
	assert_ptr_equal(sip_txn_match_cancel(f->l, &x.m), t);
	assert_null(sip_txn_match_request(f->l, &x.m));
	/* ACK matches after our non-2xx final, with the To tag we sent */
	mk_req(&x, "ACK", "", 1, "ACK", "srv1");
	assert_null(sip_txn_match_request(f->l, &x.m));
	assert_int_equal(sip_txn_respond(t, 486, sb_slice_cstr(rsp486), g_now), 0);
	assert_ptr_equal(sip_txn_match_request(f->l, &x.m), t);
	mk_req(&x, "ACK", "", 1, "ACK", "wrongtag");
	assert_null(sip_txn_match_request(f->l, &x.m));
	/* a non-cookie branch is an RFC 2543 branch too */
	struct tmsg inv2;
	mk_req(&inv2, "INVITE", "1234", 9, "INVITE", "");
	struct rec r2 = {0};
	struct sip_txn *t2;
	assert_int_equal(sip_txn_server_new(f->l, &inv2.m, false, &handlers, &r2, g_now, &t2), 0);
	assert_ptr_equal(sip_txn_match_request(f->l, &inv2.m), t2);
	/* and a client refuses one */
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(inv2.text), &inv2.m, false,
					    &handlers, &r2, g_now, &t2),
			 SB_EINVAL);
}

/* ---- CANCEL on the client side ---- */

static void client_cancel(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, rsp;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_client(f, &inv, false);
	struct rec rc = {0};
	struct sip_txn *c = NULL;
	assert_int_equal(sip_txn_client_cancel(t, SB_SLICE_NULL, &handlers, &rc, g_now, &c),
			 SB_ESTATE); /* not before a provisional */
	run_until(f, 200);
	mk_rsp(&rsp, 180, BR, 1, "INVITE", "tt");
	sip_txn_recv_response(t, &rsp.m, g_now);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sip_txn_build_cancel(t, SB_SLICE_LIT("Reason: SIP;cause=487\r\n"), &b), 0);
	sb_buf_append_char(&b, '\0');
	assert_string_equal(b.p, "CANCEL sip:bob@example.com SIP/2.0\r\n"
				 "Via: " VIA_A ";branch=" BR "\r\n"
				 "Route: <sip:p1.example.com;lr>\r\n"
				 "Route: <sip:p2.example.com;lr>\r\n"
				 "Max-Forwards: 70\r\n"
				 "From: \"Alice\" <sip:alice@example.com>;tag=fromtag1\r\n"
				 "To: <sip:bob@example.com>\r\n"
				 "Call-ID: call-1@192.0.2.1\r\n"
				 "CSeq: 1 CANCEL\r\n"
				 "Reason: SIP;cause=487\r\n"
				 "Content-Length: 0\r\n\r\n");
	sb_buf_free(&b);

	run_until(f, 1000);
	assert_int_equal(sip_txn_client_cancel(t, SB_SLICE_NULL, &handlers, &rc, g_now, &c), 0);
	assert_int_equal(sip_txn_kind(c), SIP_TXN_CLIENT_NON_INVITE);
	assert_int_equal(sip_txn_method(c), SIP_METHOD_CANCEL);
	assert_int_equal(rc.sends, 1);
	assert_non_null(strstr(rc.last, "CSeq: 1 CANCEL\r\n"));
	mk_rsp(&rsp, 200, BR, 1, "CANCEL", "tt");
	assert_ptr_equal(sip_txn_match_response(f->l, &rsp.m), c);
	sip_txn_recv_response(c, &rsp.m, g_now);
	assert_int_equal(rc.responses, 1);
	/* no 487 ever comes: the INVITE gives up 64*T1 after the CANCEL */
	run_until(f, 1000 + 32000 - 1);
	assert_int_equal(f->r.timeouts, 0);
	run_until(f, 1000 + 32000);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(rc.terminated, 1);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
}

/* ---- configuration, errors, re-entrancy ---- */

static int setup_small(void **state)
{
	static const struct sip_txn_cfg cfg = {.t1 = 100, .t2 = 400, .t4 = 1000};
	return setup_cfg(state, &cfg);
}

static void timers_configurable(void **state)
{
	struct fx *f = *state;
	assert_int_equal(sip_txn_layer_cfg(f->l)->t1, 100);
	struct tmsg inv, req, rsp;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	start_client(f, &inv, false);
	struct rec r2 = {0};
	struct sip_txn *n;
	mk_req(&req, "OPTIONS", "z9hG4bKopt", 2, "OPTIONS", "");
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(req.text), &req.m, false, &handlers,
					    &r2, g_now, &n),
			 0);
	run_until(f, 1600);
	static const sb_time_ms want_a[] = {0, 100, 300, 700, 1500};
	assert_sends(&f->r, want_a, 5);
	static const sb_time_ms want_e[] = {0, 100, 300, 700, 1100, 1500};
	assert_sends(&r2, want_e, 6);
	mk_rsp(&rsp, 200, "z9hG4bKopt", 2, "OPTIONS", "");
	sip_txn_recv_response(n, &rsp.m, g_now);
	run_until(f, 1600 + 999);
	assert_int_equal(r2.terminated, 0);
	run_until(f, 1600 + 1000); /* K = T4 */
	assert_int_equal(r2.terminated, 1);
	run_until(f, 6399);
	assert_int_equal(f->r.timeouts, 0);
	run_until(f, 6400); /* B = 64*T1 */
	assert_int_equal(f->r.timeouts, 1);

	struct sip_txn_layer *bad;
	static const struct sip_txn_cfg wrong = {.t1 = 500, .t2 = 100};
	assert_int_equal(sip_txn_layer_new(&bad, &wrong, &f->timers), SB_EINVAL);
}

static void send_errors(void **state)
{
	struct fx *f = *state;
	struct tmsg inv;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = NULL;
	f->r.fail_send = SB_EIO;
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(inv.text), &inv.m, false, &handlers,
					    &f->r, g_now, &t),
			 SB_EIO);
	assert_null(t);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
	assert_int_equal(f->r.timeouts + f->r.terminated, 0);

	/* a failing retransmission reports SB_EIO and ends the transaction */
	f->r.fail_send = 0;
	t = start_client(f, &inv, false);
	f->r.fail_send = SB_EIO;
	run_until(f, 500);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.last_err, SB_EIO);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(sip_txn_layer_count(f->l), 0);

	/* transport error reported by the transport on a server transaction */
	f->r = (struct rec){0};
	t = start_server(f, &inv, true);
	sip_txn_transport_error(t, g_now);
	assert_int_equal(f->r.timeouts, 1);
	assert_int_equal(f->r.last_err, SB_EIO);
	assert_int_equal(sip_txn_state(t), SIP_TXN_TERMINATED);
	assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), SB_ESTATE);
	run_until(f, g_now);
	assert_int_equal(f->r.terminated, 1);

	/* respond whose send fails: error returned, terminated later, no timeout handler */
	f->r = (struct rec){0};
	t = start_server(f, &inv, false);
	f->r.fail_send = SB_EIO;
	assert_int_equal(sip_txn_respond(t, 486, sb_slice_cstr(rsp486), g_now), SB_EIO);
	run_until(f, g_now);
	assert_int_equal(f->r.timeouts, 0);
	assert_int_equal(f->r.terminated, 1);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
}

static void terminate_inside_handler(void **state)
{
	struct fx *f = *state;
	struct tmsg inv, rsp;
	mk_req(&inv, "INVITE", BR, 1, "INVITE", "");
	struct sip_txn *t = start_client(f, &inv, false);
	f->r.kill_in_response = true;
	mk_rsp(&rsp, 486, BR, 1, "INVITE", "x");
	sip_txn_recv_response(t, &rsp.m, g_now);
	assert_int_equal(f->r.responses, 1);
	assert_int_equal(f->r.terminated, 0); /* terminate calls no handler */
	assert_int_equal(sip_txn_layer_count(f->l), 0);
	assert_null(sip_txn_match_response(f->l, &rsp.m));
	run_until(f, 100000);
	assert_int_equal(f->r.sends, 2); /* INVITE and the ACK sent before the TU saw the 486 */

	/* terminate from outside, and leave some transactions for layer_free */
	f->r = (struct rec){0};
	t = start_client(f, &inv, false);
	sip_txn_terminate(t);
	assert_int_equal(sip_txn_layer_count(f->l), 0);
	start_client(f, &inv, false);
	start_server(f, &inv, false);
	assert_int_equal(sip_txn_layer_count(f->l), 2);
}

static void branch_generator(void **state)
{
	(void)state;
	char a[SIP_TXN_BRANCH_SIZE], b[SIP_TXN_BRANCH_SIZE];
	sip_txn_new_branch(a);
	sip_txn_new_branch(b);
	assert_int_equal(strlen(a), SIP_TXN_BRANCH_SIZE - 1);
	assert_memory_equal(a, "z9hG4bK", 7);
	assert_string_not_equal(a, b);
}

static void many_transactions(void **state)
{
	struct fx *f = *state;
	enum { N = 2000 };
	static struct tmsg m;
	for (int i = 0; i < N; i++) {
		char br[64];
		snprintf(br, sizeof(br), "z9hG4bKmany%d", i);
		mk_req(&m, "OPTIONS", br, (unsigned)i, "OPTIONS", "");
		struct sip_txn *t;
		assert_int_equal(sip_txn_server_new(f->l, &m.m, false, &handlers, &f->r, g_now, &t),
				 0);
	}
	assert_int_equal(sip_txn_layer_count(f->l), N);
	for (int i = 0; i < N; i += 7) {
		char br[64];
		snprintf(br, sizeof(br), "z9hG4bKmany%d", i);
		mk_req(&m, "OPTIONS", br, (unsigned)i, "OPTIONS", "");
		struct sip_txn *t = sip_txn_match_request(f->l, &m.m);
		assert_non_null(t);
		assert_true(sb_slice_eq_cstr(sip_txn_branch(t), br));
		assert_int_equal(sip_txn_respond(t, 200, sb_slice_cstr(rsp200), g_now), 0);
	}
	run_until(f, 32000);
	assert_int_equal(f->r.terminated, (N + 6) / 7);
}

static void max_transactions(void **state)
{
	struct fx *f = *state;
	sip_txn_layer_free(f->l);
	static const struct sip_txn_cfg cfg = {.max_transactions = 1};
	assert_int_equal(sip_txn_layer_new(&f->l, &cfg, &f->timers), 0);
	struct tmsg a, b;
	mk_req(&a, "OPTIONS", "z9hG4bKa", 1, "OPTIONS", "");
	mk_req(&b, "OPTIONS", "z9hG4bKb", 1, "OPTIONS", "");
	struct sip_txn *t;
	assert_int_equal(sip_txn_server_new(f->l, &a.m, false, &handlers, &f->r, g_now, &t), 0);
	assert_int_equal(sip_txn_server_new(f->l, &b.m, false, &handlers, &f->r, g_now, &t),
			 SB_ENORES);
}

/* The same key fields through the real parser (src/sip/msg.c). */
static void with_real_parser(void **state)
{
	struct fx *f = *state;
	static struct sip_msg inv, rsp, ack, cancel;
	static const char inv_text[] = "INVITE sip:bob@example.com SIP/2.0\r\n"
				       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreal1;rport, "
				       "SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold\r\n"
				       "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"
				       "Max-Forwards: 70\r\n"
				       "f: Alice <sip:alice@example.com>;tag=ft\r\n"
				       "t: <sip:bob@example.com>\r\n"
				       "i: real-call@192.0.2.1\r\n"
				       "CSeq: 42 INVITE\r\n"
				       "l: 0\r\n\r\n";
	static const char rsp_text[] =
	    "SIP/2.0 404 Not Found\r\n"
	    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreal1;rport=5060;received=192.0.2.1\r\n"
	    "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold\r\n"
	    "From: Alice <sip:alice@example.com>;tag=ft\r\n"
	    "To: <sip:bob@example.com>;tag=404tag\r\n"
	    "Call-ID: real-call@192.0.2.1\r\n"
	    "CSeq: 42 INVITE\r\n"
	    "Content-Length: 0\r\n\r\n";
	assert_true(sip_msg_parse(&inv, inv_text, strlen(inv_text), SIP_PARSE_DATAGRAM) > 0);
	assert_true(sip_msg_parse(&rsp, rsp_text, strlen(rsp_text), SIP_PARSE_DATAGRAM) > 0);
	struct sip_txn *t = NULL;
	assert_int_equal(sip_txn_client_new(f->l, sb_slice_cstr(inv_text), &inv, false, &handlers,
					    &f->r, g_now, &t),
			 0);
	assert_ptr_equal(sip_txn_match_response(f->l, &rsp), t);
	sip_txn_recv_response(t, &rsp, g_now);
	assert_int_equal(f->r.sends, 2);
	assert_true(sip_msg_parse(&ack, f->r.last, strlen(f->r.last), SIP_PARSE_DATAGRAM) > 0);
	assert_int_equal(ack.method, SIP_METHOD_ACK);
	assert_true(sb_slice_eq_cstr(ack.ruri_raw, "sip:bob@example.com"));
	assert_true(sb_slice_eq_cstr(ack.via.branch, "z9hG4bKreal1"));
	assert_int_equal(ack.count[SIP_HDR_VIA], 1);
	assert_non_null(
	    strstr(f->r.last, "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreal1;rport\r\n"));
	assert_non_null(
	    strstr(f->r.last, "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>\r\n"));
	assert_true(sb_slice_eq_cstr(ack.to.tag, "404tag"));
	assert_true(sb_slice_eq_cstr(ack.from.tag, "ft"));
	assert_true(sb_slice_eq_cstr(ack.call_id, "real-call@192.0.2.1"));
	assert_int_equal(ack.cseq.num, 42);
	assert_int_equal(ack.cseq.method, SIP_METHOD_ACK);

	/* the server side of the same exchange */
	struct rec rs = {0};
	struct sip_txn *st = NULL;
	assert_null(sip_txn_match_request(f->l, &inv));
	assert_int_equal(sip_txn_server_new(f->l, &inv, false, &handlers, &rs, g_now, &st), 0);
	assert_ptr_equal(sip_txn_match_request(f->l, &inv), st);
	static const char cancel_text[] = "CANCEL sip:bob@example.com SIP/2.0\r\n"
					  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKreal1\r\n"
					  "From: Alice <sip:alice@example.com>;tag=ft\r\n"
					  "To: <sip:bob@example.com>\r\n"
					  "Call-ID: real-call@192.0.2.1\r\n"
					  "CSeq: 42 CANCEL\r\n"
					  "Content-Length: 0\r\n\r\n";
	assert_true(sip_msg_parse(&cancel, cancel_text, strlen(cancel_text), SIP_PARSE_DATAGRAM) >
		    0);
	assert_ptr_equal(sip_txn_match_cancel(f->l, &cancel), st);
	assert_null(sip_txn_match_request(f->l, &cancel));
	assert_int_equal(sip_txn_respond(st, 487, sb_slice_cstr(rsp_text), g_now), 0);
	assert_ptr_equal(sip_txn_match_request(f->l, &ack), st);
	sip_txn_recv_request(st, &ack, g_now);
	assert_int_equal(sip_txn_state(st), SIP_TXN_CONFIRMED);
	assert_int_equal(rs.acks, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(invite_client_udp_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_client_provisional_then_486, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_client_accepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_client_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(non_invite_client_timer_e, setup, teardown),
	    cmocka_unit_test_setup_teardown(non_invite_client_provisional_t2, setup, teardown),
	    cmocka_unit_test_setup_teardown(non_invite_client_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_server_g_until_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_server_h_without_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_server_tcp, setup, teardown),
	    cmocka_unit_test_setup_teardown(invite_server_accepted, setup, teardown),
	    cmocka_unit_test_setup_teardown(non_invite_server_j, setup, teardown),
	    cmocka_unit_test_setup_teardown(match_3261, setup, teardown),
	    cmocka_unit_test_setup_teardown(match_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(match_2543, setup, teardown),
	    cmocka_unit_test_setup_teardown(client_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(timers_configurable, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(send_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(terminate_inside_handler, setup, teardown),
	    cmocka_unit_test(branch_generator),
	    cmocka_unit_test_setup_teardown(many_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(max_transactions, setup, teardown),
	    cmocka_unit_test_setup_teardown(with_real_parser, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
