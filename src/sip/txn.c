/* SIP transaction layer: the RFC 3261 §17 / RFC 6026 state machines, their timers and matching.
 * Owns every transaction (struct, per-transaction arena with keys and bytes) and the match table.
 */
#include "sip/txn.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/compat.h"
#include "base/err.h"
#include "base/htab.h"
#include "base/log.h"
#include "base/rand.h"

#define MAGIC	"z9hG4bK"
#define LOG_TAG "txn"

struct sip_txn_layer {
	struct sip_txn_cfg cfg;
	struct sb_timers *timers;
	struct sb_htab tab;
	struct sip_txn *all; /* every live transaction, for layer_free */
	size_t count;
};

struct sip_txn {
	struct sb_hnode node;
	struct sip_txn *prev, *next;
	struct sip_txn_layer *layer;
	const struct sip_txn_handlers *h;
	void *arg;

	enum sip_txn_kind kind;
	enum sip_txn_state state;
	enum sip_method method;
	bool reliable;
	bool rfc3261; /* branch carries the magic cookie */
	bool in_table;
	bool dead;     /* sip_txn_terminate() ran while a handler of t was on the stack */
	unsigned busy; /* handler frames of t on the stack */
	int last_status;

	struct sb_timer retx; /* A, E, G */
	struct sb_timer life; /* B, D, F, H, I, J, K, L, M, CANCEL's 64*T1, deferred termination */
	sb_time_ms interval;  /* next retransmission interval */

	struct sb_arena arena;

	/* Matching key (copied). */
	struct sb_slice method_name;
	struct sb_slice branch;
	struct sb_slice via_host;
	uint16_t via_port;
	bool via_tls;
	struct sb_slice call_id;
	uint32_t cseq;
	struct sb_slice from_tag;
	struct sb_slice to_tag;
	struct sb_slice ruri;
	struct sb_slice via; /* the top via-parm */

	/* Client INVITE: what ACK and CANCEL are built from. */
	struct sb_slice from_hdr;
	struct sb_slice to_hdr;
	struct sb_slice routes; /* "Route: ...\r\n" lines as in the INVITE */

	struct sb_slice request; /* client: the request as sent */
	struct sb_slice ack;	 /* client INVITE: ACK for the non-2xx final */

	/* Server: last response sent, for retransmission. */
	char *rsp;
	size_t rsp_len;
	size_t rsp_cap;
	struct sb_slice rsp_to_tag; /* 2543 INVITE: To tag of our final, for ACK matching */
};

static const struct sip_txn_cfg cfg_defaults = {.t1 = 500, .t2 = 4000, .t4 = 5000};

/* ---- small helpers ---- */

static bool is_final(int status)
{
	return status >= 200;
}

static bool branch_is_3261(struct sb_slice branch)
{
	return branch.len > sizeof(MAGIC) - 1 && memcmp(branch.p, MAGIC, sizeof(MAGIC) - 1) == 0;
}

static uint64_t hash_3261(struct sb_slice branch)
{
	return sb_hash_nocase(branch.p, branch.len);
}

static uint64_t hash_2543(struct sb_slice call_id, uint32_t cseq)
{
	return sb_hash(call_id.p, call_id.len) ^ ((uint64_t)cseq * 0x9E3779B97F4A7C15ull);
}

static uint16_t port_or_default(uint16_t port, bool tls)
{
	return port ? port : (tls ? 5061 : 5060);
}

static bool transport_is_tls(struct sb_slice transport)
{
	return sb_slice_eq_cstr_nocase(transport, "TLS") ||
	       sb_slice_eq_cstr_nocase(transport, "WSS");
}

static struct sb_slice hdr_value(const struct sip_msg *m, enum sip_hdr_id id)
{
	if (m->first[id] == UINT16_MAX || m->first[id] >= m->nhdrs)
		return SB_SLICE_NULL;
	return m->hdrs[m->first[id]].value;
}

static struct sb_slice top_via(const struct sip_msg *m)
{
	return m->via.raw.len ? m->via.raw : hdr_value(m, SIP_HDR_VIA);
}

static bool method_matches(const struct sip_txn *t, enum sip_method method, struct sb_slice name)
{
	if (t->method != method)
		return false;
	return method != SIP_METHOD_OTHER || sb_slice_eq(t->method_name, name);
}

static const char *kind_name(enum sip_txn_kind k)
{
	switch (k) {
	case SIP_TXN_CLIENT_INVITE:
		return "client-invite";
	case SIP_TXN_CLIENT_NON_INVITE:
		return "client";
	case SIP_TXN_SERVER_INVITE:
		return "server-invite";
	case SIP_TXN_SERVER_NON_INVITE:
		return "server";
	}
	return "?";
}

const char *sip_txn_state_name(enum sip_txn_state s)
{
	switch (s) {
	case SIP_TXN_CALLING:
		return "Calling";
	case SIP_TXN_TRYING:
		return "Trying";
	case SIP_TXN_PROCEEDING:
		return "Proceeding";
	case SIP_TXN_COMPLETED:
		return "Completed";
	case SIP_TXN_CONFIRMED:
		return "Confirmed";
	case SIP_TXN_ACCEPTED:
		return "Accepted";
	case SIP_TXN_TERMINATED:
		return "Terminated";
	}
	return "?";
}

static void set_state(struct sip_txn *t, enum sip_txn_state s)
{
	SB_DEBUG(LOG_TAG, "%s " SB_SLICE_FMT " %s -> %s (Call-ID " SB_SLICE_FMT ")",
		 kind_name(t->kind), SB_SLICE_ARG(t->branch), sip_txn_state_name(t->state),
		 sip_txn_state_name(s), SB_SLICE_ARG(t->call_id));
	t->state = s;
}

static void arm(struct sip_txn *t, struct sb_timer *tm, sb_time_ms deadline)
{
	if (sb_timers_arm(t->layer->timers, tm, deadline))
		SB_ERROR(LOG_TAG, "cannot arm timer (out of memory), Call-ID " SB_SLICE_FMT,
			 SB_SLICE_ARG(t->call_id));
}

static void disarm_all(struct sip_txn *t)
{
	sb_timers_disarm(t->layer->timers, &t->retx);
	sb_timers_disarm(t->layer->timers, &t->life);
}

static sb_time_ms t64(const struct sip_txn *t)
{
	return 64 * t->layer->cfg.t1;
}

/* ---- lifecycle ---- */

static void unlink_txn(struct sip_txn *t)
{
	struct sip_txn_layer *l = t->layer;
	disarm_all(t);
	if (t->in_table) {
		sb_htab_remove(&l->tab, &t->node);
		t->in_table = false;
	}
}

static void free_txn(struct sip_txn *t)
{
	struct sip_txn_layer *l = t->layer;
	unlink_txn(t);
	if (t->prev)
		t->prev->next = t->next;
	else
		l->all = t->next;
	if (t->next)
		t->next->prev = t->prev;
	l->count--;
	free(t->rsp);
	sb_arena_free(&t->arena);
	free(t);
}

static void enter(struct sip_txn *t)
{
	t->busy++;
}

/* Ends a handler frame; true when t was freed (terminate ran inside a handler). */
static bool leave(struct sip_txn *t)
{
	if (--t->busy == 0 && t->dead) {
		free_txn(t);
		return true;
	}
	return false;
}

static int do_send(struct sip_txn *t, struct sb_slice bytes)
{
	if (t->dead || !bytes.len)
		return 0;
	return t->h->send(t, bytes, t->arg);
}

/* End the transaction from timer context: the terminated handler runs, then t is freed. */
static void finish(struct sip_txn *t)
{
	set_state(t, SIP_TXN_TERMINATED);
	unlink_txn(t);
	enter(t);
	if (!t->dead && t->h->terminated)
		t->h->terminated(t, t->arg);
	t->dead = true;
	leave(t);
}

/* Termination requested inside an owner's call: happens on the next sb_timers_run(now). */
static void finish_later(struct sip_txn *t, sb_time_ms now)
{
	set_state(t, SIP_TXN_TERMINATED);
	sb_timers_disarm(t->layer->timers, &t->retx);
	arm(t, &t->life, now);
}

static void report(struct sip_txn *t, int err)
{
	if (!t->dead && t->h->timeout)
		t->h->timeout(t, err, t->arg);
}

static void deliver(struct sip_txn *t, const struct sip_msg *rsp)
{
	if (!t->dead && t->h->response)
		t->h->response(t, rsp, t->arg);
}

/* ---- timers ---- */

static void retx_cb(struct sb_timer *tm, sb_time_ms now)
{
	struct sip_txn *t = SB_CONTAINER_OF(tm, struct sip_txn, retx);
	const struct sip_txn_cfg *c = &t->layer->cfg;
	struct sb_slice bytes;

	switch (t->kind) {
	case SIP_TXN_CLIENT_INVITE: /* Timer A: doubles without cap */
		if (t->state != SIP_TXN_CALLING)
			return;
		bytes = t->request;
		t->interval *= 2;
		break;
	case SIP_TXN_CLIENT_NON_INVITE: /* Timer E */
		if (t->state == SIP_TXN_TRYING)
			t->interval = t->interval * 2 < c->t2 ? t->interval * 2 : c->t2;
		else if (t->state == SIP_TXN_PROCEEDING)
			t->interval = c->t2;
		else
			return;
		bytes = t->request;
		break;
	case SIP_TXN_SERVER_INVITE: /* Timer G */
		if (t->state != SIP_TXN_COMPLETED)
			return;
		bytes = sb_slice(t->rsp, t->rsp_len);
		t->interval = t->interval * 2 < c->t2 ? t->interval * 2 : c->t2;
		break;
	default:
		return;
	}
	arm(t, &t->retx, now + t->interval);
	enter(t);
	int err = do_send(t, bytes);
	if (err && !t->dead) {
		report(t, SB_EIO);
		if (!t->dead) {
			leave(t);
			finish(t);
			return;
		}
	}
	leave(t);
}

static void life_cb(struct sb_timer *tm, sb_time_ms now)
{
	struct sip_txn *t = SB_CONTAINER_OF(tm, struct sip_txn, life);
	(void)now;
	bool failed = false;
	switch (t->state) {
	case SIP_TXN_CALLING:	 /* B */
	case SIP_TXN_TRYING:	 /* F */
	case SIP_TXN_PROCEEDING: /* F, or 64*T1 after CANCEL */
		failed = true;
		break;
	case SIP_TXN_COMPLETED: /* H fails; D, J, K end quietly */
		failed = t->kind == SIP_TXN_SERVER_INVITE;
		break;
	default: /* I, L, M, deferred termination */
		break;
	}
	if (failed) {
		SB_DEBUG(LOG_TAG, "%s " SB_SLICE_FMT " timed out in %s", kind_name(t->kind),
			 SB_SLICE_ARG(t->branch), sip_txn_state_name(t->state));
		set_state(t, SIP_TXN_TERMINATED);
		sb_timers_disarm(t->layer->timers, &t->retx);
		enter(t);
		report(t, SB_ETIMEDOUT);
		if (leave(t))
			return;
	}
	finish(t);
}

/* ---- layer ---- */

void sip_txn_new_branch(char out[SIP_TXN_BRANCH_SIZE])
{
	memcpy(out, MAGIC, sizeof(MAGIC) - 1);
	sb_random_token(out + sizeof(MAGIC) - 1, SIP_TXN_BRANCH_SIZE - sizeof(MAGIC));
	out[SIP_TXN_BRANCH_SIZE - 1] = '\0';
}

int sip_txn_layer_new(struct sip_txn_layer **out, const struct sip_txn_cfg *cfg,
		      struct sb_timers *timers)
{
	if (!out || !timers)
		return SB_EINVAL;
	struct sip_txn_cfg c = cfg ? *cfg : cfg_defaults;
	if (!c.t1)
		c.t1 = cfg_defaults.t1;
	if (!c.t2)
		c.t2 = cfg_defaults.t2;
	if (!c.t4)
		c.t4 = cfg_defaults.t4;
	if (c.t2 < c.t1)
		return SB_EINVAL;
	struct sip_txn_layer *l = calloc(1, sizeof(*l));
	if (!l)
		return SB_ENOMEM;
	if (sb_htab_init(&l->tab, 256)) {
		free(l);
		return SB_ENOMEM;
	}
	l->cfg = c;
	l->timers = timers;
	*out = l;
	return 0;
}

void sip_txn_layer_free(struct sip_txn_layer *l)
{
	if (!l)
		return;
	while (l->all) {
		l->all->busy = 0;
		free_txn(l->all);
	}
	sb_htab_free(&l->tab);
	free(l);
}

size_t sip_txn_layer_count(const struct sip_txn_layer *l)
{
	return l->count;
}

const struct sip_txn_cfg *sip_txn_layer_cfg(const struct sip_txn_layer *l)
{
	return &l->cfg;
}

static struct sip_txn *alloc_txn(struct sip_txn_layer *l, enum sip_txn_kind kind,
				 const struct sip_txn_handlers *h, void *arg, size_t arena_hint)
{
	if (l->cfg.max_transactions && l->count >= l->cfg.max_transactions)
		return NULL;
	struct sip_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->layer = l;
	t->kind = kind;
	t->h = h;
	t->arg = arg;
	sb_timer_init(&t->retx, retx_cb);
	sb_timer_init(&t->life, life_cb);
	sb_arena_init(&t->arena, arena_hint < 512 ? 512 : arena_hint);
	t->next = l->all;
	if (l->all)
		l->all->prev = t;
	l->all = t;
	l->count++;
	return t;
}

static int dup(struct sip_txn *t, struct sb_slice in, struct sb_slice *out)
{
	return sb_arena_dup(&t->arena, in, out);
}

/* Copies the fields every transaction keys on. */
static int copy_key(struct sip_txn *t, const struct sip_msg *m)
{
	int err = 0;
	err |= dup(t, m->method_name, &t->method_name);
	err |= dup(t, m->via.branch, &t->branch);
	err |= dup(t, m->via.host, &t->via_host);
	err |= dup(t, m->call_id, &t->call_id);
	err |= dup(t, m->from.tag, &t->from_tag);
	err |= dup(t, m->to.tag, &t->to_tag);
	err |= dup(t, m->ruri_raw, &t->ruri);
	err |= dup(t, sb_slice_trim(top_via(m)), &t->via);
	t->via_port = m->via.port;
	t->via_tls = transport_is_tls(m->via.transport);
	t->cseq = m->cseq.num;
	t->method = m->method;
	t->rfc3261 = branch_is_3261(m->via.branch);
	return err ? SB_ENOMEM : 0;
}

static void insert(struct sip_txn *t)
{
	uint64_t hash = t->rfc3261 ? hash_3261(t->branch) : hash_2543(t->call_id, t->cseq);
	sb_htab_insert(&t->layer->tab, &t->node, hash);
	t->in_table = true;
}

/* ---- building ACK and CANCEL ---- */

static void put_start(struct sb_buf *b, const struct sip_txn *t, const char *method)
{
	sb_buf_printf(b, "%s " SB_SLICE_FMT " SIP/2.0\r\nVia: " SB_SLICE_FMT "\r\n", method,
		      SB_SLICE_ARG(t->ruri), SB_SLICE_ARG(t->via));
	sb_buf_append_slice(b, t->routes);
	sb_buf_printf(b, "Max-Forwards: 70\r\nFrom: " SB_SLICE_FMT "\r\n",
		      SB_SLICE_ARG(t->from_hdr));
}

static void put_end(struct sb_buf *b, const struct sip_txn *t, struct sb_slice to,
		    const char *method, struct sb_slice extra)
{
	sb_buf_printf(b, "To: " SB_SLICE_FMT "\r\nCall-ID: " SB_SLICE_FMT "\r\nCSeq: %lu %s\r\n",
		      SB_SLICE_ARG(to), SB_SLICE_ARG(t->call_id), (unsigned long)t->cseq, method);
	sb_buf_append_slice(b, extra);
	sb_buf_append_cstr(b, "Content-Length: 0\r\n\r\n");
}

/* §17.1.1.3: the ACK for a non-2xx final, kept for retransmitted finals. */
static int build_ack(struct sip_txn *t, const struct sip_msg *rsp)
{
	struct sb_slice to = sb_slice_trim(hdr_value(rsp, SIP_HDR_TO));
	if (!to.len)
		to = rsp->to.raw.len ? rsp->to.raw : t->to_hdr;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	put_start(&b, t, "ACK");
	put_end(&b, t, to, "ACK", SB_SLICE_NULL);
	int err = b.err;
	if (!err)
		err = dup(t, sb_buf_slice(&b), &t->ack);
	sb_buf_free(&b);
	return err;
}

int sip_txn_build_cancel(const struct sip_txn *invite, struct sb_slice extra_headers,
			 struct sb_buf *out)
{
	if (!invite || invite->kind != SIP_TXN_CLIENT_INVITE)
		return SB_EINVAL;
	put_start(out, invite, "CANCEL");
	put_end(out, invite, invite->to_hdr, "CANCEL", extra_headers);
	return out->err;
}

/* ---- client ---- */

static int start_client(struct sip_txn_layer *l, struct sb_slice request, const struct sip_msg *m,
			bool reliable, const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
			struct sip_txn **out)
{
	if (!l || !m || !h || !h->send || !out || !request.len)
		return SB_EINVAL;
	if (!m->is_request || m->method == SIP_METHOD_ACK || !branch_is_3261(m->via.branch))
		return SB_EINVAL;

	/* One client transaction per branch and method. */
	uint64_t hash = hash_3261(m->via.branch);
	for (struct sb_hnode *n = sb_htab_chain(&l->tab, hash); n; n = n->next) {
		struct sip_txn *o = SB_CONTAINER_OF(n, struct sip_txn, node);
		if (n->hash == hash &&
		    (o->kind == SIP_TXN_CLIENT_INVITE || o->kind == SIP_TXN_CLIENT_NON_INVITE) &&
		    sb_slice_eq_nocase(o->branch, m->via.branch) &&
		    method_matches(o, m->method, m->method_name))
			return SB_EEXISTS;
	}

	bool invite = m->method == SIP_METHOD_INVITE;
	struct sip_txn *t = alloc_txn(l, invite ? SIP_TXN_CLIENT_INVITE : SIP_TXN_CLIENT_NON_INVITE,
				      h, arg, request.len + 512);
	if (!t)
		return l->cfg.max_transactions && l->count >= l->cfg.max_transactions ? SB_ENORES
										      : SB_ENOMEM;
	t->reliable = reliable;
	int err = copy_key(t, m);
	err = err ? err : dup(t, request, &t->request);
	if (!err && invite) {
		err |= dup(t, sb_slice_trim(hdr_value(m, SIP_HDR_FROM)), &t->from_hdr);
		err |= dup(t, sb_slice_trim(hdr_value(m, SIP_HDR_TO)), &t->to_hdr);
		struct sb_buf b;
		sb_buf_init(&b, NULL, 0);
		for (size_t i = 0; i < m->nhdrs; i++)
			if (m->hdrs[i].id == SIP_HDR_ROUTE)
				sb_buf_printf(&b, "Route: " SB_SLICE_FMT "\r\n",
					      SB_SLICE_ARG(m->hdrs[i].value));
		err |= b.err;
		if (!b.err)
			err |= dup(t, sb_buf_slice(&b), &t->routes);
		sb_buf_free(&b);
		err = err ? SB_ENOMEM : 0;
	}
	if (err)
		goto fail;

	t->state = invite ? SIP_TXN_CALLING : SIP_TXN_TRYING;
	t->interval = l->cfg.t1;
	if (!reliable && (err = sb_timers_arm(l->timers, &t->retx, now + t->interval)))
		goto fail;
	if ((err = sb_timers_arm(l->timers, &t->life, now + t64(t))))
		goto fail;
	insert(t);

	enter(t);
	err = do_send(t, t->request);
	if (t->dead) {
		t->busy--;
		free_txn(t);
		return err ? err : SB_ECANCELED;
	}
	t->busy--;
	if (err)
		goto fail;
	SB_DEBUG(LOG_TAG, "%s " SB_SLICE_FMT " started (%s, Call-ID " SB_SLICE_FMT ")",
		 kind_name(t->kind), SB_SLICE_ARG(t->branch), reliable ? "reliable" : "unreliable",
		 SB_SLICE_ARG(t->call_id));
	*out = t;
	return 0;
fail:
	free_txn(t);
	return err;
}

int sip_txn_client_new(struct sip_txn_layer *l, struct sb_slice request,
		       const struct sip_msg *parsed, bool reliable,
		       const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
		       struct sip_txn **out)
{
	return start_client(l, request, parsed, reliable, h, arg, now, out);
}

int sip_txn_client_cancel(struct sip_txn *invite, struct sb_slice extra_headers,
			  const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
			  struct sip_txn **out)
{
	if (!invite || invite->kind != SIP_TXN_CLIENT_INVITE || invite->dead)
		return SB_EINVAL;
	if (invite->state != SIP_TXN_PROCEEDING)
		return SB_ESTATE;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	int err = sip_txn_build_cancel(invite, extra_headers, &b);
	if (err) {
		sb_buf_free(&b);
		return err;
	}
	/* The key a CANCEL transaction needs, without reparsing the bytes just built. */
	struct sip_msg *m = calloc(1, sizeof(*m));
	if (!m) {
		sb_buf_free(&b);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < SIP_HDR__COUNT; i++)
		m->first[i] = UINT16_MAX;
	m->is_request = true;
	m->method = SIP_METHOD_CANCEL;
	m->method_name = SB_SLICE_LIT("CANCEL");
	m->ruri_raw = invite->ruri;
	m->via.branch = invite->branch;
	m->via.host = invite->via_host;
	m->via.port = invite->via_port;
	m->via.raw = invite->via;
	m->call_id = invite->call_id;
	m->cseq.num = invite->cseq;
	m->cseq.method = SIP_METHOD_CANCEL;
	m->cseq.method_name = m->method_name;
	m->from.tag = invite->from_tag;
	m->to.tag = invite->to_tag;
	err = start_client(invite->layer, sb_buf_slice(&b), m, invite->reliable, h, arg, now, out);
	free(m);
	sb_buf_free(&b);
	if (err)
		return err;
	/* §9.1: no final 64*T1 after the CANCEL → the INVITE transaction gives up. */
	if (!sb_timer_armed(&invite->life))
		arm(invite, &invite->life, now + t64(invite));
	return 0;
}

static void client_invite_response(struct sip_txn *t, const struct sip_msg *rsp, sb_time_ms now)
{
	int st = rsp->status;
	bool active = t->state == SIP_TXN_CALLING || t->state == SIP_TXN_PROCEEDING;
	if (st < 200) {
		if (!active)
			return;
		if (t->state == SIP_TXN_CALLING) {
			set_state(t, SIP_TXN_PROCEEDING);
			disarm_all(t); /* A and B */
		}
		deliver(t, rsp);
	} else if (st < 300) {
		if (active) {
			set_state(t, SIP_TXN_ACCEPTED);
			disarm_all(t);
			arm(t, &t->life, now + t64(t)); /* M */
			deliver(t, rsp);
		} else if (t->state == SIP_TXN_ACCEPTED) {
			deliver(t, rsp);
		}
	} else if (active) {
		set_state(t, SIP_TXN_COMPLETED);
		disarm_all(t);
		arm(t, &t->life, now + (t->reliable ? 0 : t64(t))); /* D */
		if (build_ack(t, rsp))
			SB_ERROR(LOG_TAG, "no memory for ACK, Call-ID " SB_SLICE_FMT,
				 SB_SLICE_ARG(t->call_id));
		int err = do_send(t, t->ack);
		deliver(t, rsp);
		if (err && !t->dead) {
			report(t, SB_EIO);
			finish_later(t, now);
		}
	} else if (t->state == SIP_TXN_COMPLETED) {
		if (do_send(t, t->ack) && !t->dead) {
			report(t, SB_EIO);
			finish_later(t, now);
		}
	}
}

static void client_response(struct sip_txn *t, const struct sip_msg *rsp, sb_time_ms now)
{
	int st = rsp->status;
	if (t->state != SIP_TXN_TRYING && t->state != SIP_TXN_PROCEEDING)
		return;
	if (st < 200) {
		set_state(t, SIP_TXN_PROCEEDING);
	} else {
		set_state(t, SIP_TXN_COMPLETED);
		disarm_all(t);
		arm(t, &t->life, now + (t->reliable ? 0 : t->layer->cfg.t4)); /* K */
	}
	deliver(t, rsp);
}

void sip_txn_recv_response(struct sip_txn *t, const struct sip_msg *rsp, sb_time_ms now)
{
	if (!t || !rsp || t->dead || rsp->is_request || rsp->status < 100 || rsp->status > 699)
		return;
	if (t->state == SIP_TXN_TERMINATED)
		return;
	enter(t);
	if (t->kind == SIP_TXN_CLIENT_INVITE) {
		if (t->state == SIP_TXN_CALLING || t->state == SIP_TXN_PROCEEDING ||
		    is_final(rsp->status))
			t->last_status = rsp->status;
		client_invite_response(t, rsp, now);
	} else if (t->kind == SIP_TXN_CLIENT_NON_INVITE) {
		if (t->state == SIP_TXN_TRYING || t->state == SIP_TXN_PROCEEDING)
			t->last_status = rsp->status;
		client_response(t, rsp, now);
	}
	leave(t);
}

/* ---- server ---- */

int sip_txn_server_new(struct sip_txn_layer *l, const struct sip_msg *req, bool reliable,
		       const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
		       struct sip_txn **out)
{
	(void)now;
	if (!l || !req || !h || !h->send || !out || !req->is_request ||
	    req->method == SIP_METHOD_ACK)
		return SB_EINVAL;
	bool invite = req->method == SIP_METHOD_INVITE;
	struct sip_txn *t =
	    alloc_txn(l, invite ? SIP_TXN_SERVER_INVITE : SIP_TXN_SERVER_NON_INVITE, h, arg, 512);
	if (!t)
		return l->cfg.max_transactions && l->count >= l->cfg.max_transactions ? SB_ENORES
										      : SB_ENOMEM;
	t->reliable = reliable;
	if (copy_key(t, req)) {
		free_txn(t);
		return SB_ENOMEM;
	}
	t->state = invite ? SIP_TXN_PROCEEDING : SIP_TXN_TRYING;
	insert(t);
	*out = t;
	return 0;
}

static int store_rsp(struct sip_txn *t, struct sb_slice bytes)
{
	if (bytes.len > t->rsp_cap) {
		char *p = realloc(t->rsp, bytes.len);
		if (!p)
			return SB_ENOMEM;
		t->rsp = p;
		t->rsp_cap = bytes.len;
	}
	memcpy(t->rsp, bytes.p, bytes.len);
	t->rsp_len = bytes.len;
	return 0;
}

/* The To tag of a response we send (only for RFC 2543 ACK matching): ";tag=" outside <> and
 * quotes in the first To header. */
static struct sb_slice scan_to_tag(struct sb_slice msg)
{
	size_t i = 0;
	while (i < msg.len && msg.p[i] != '\n') /* status line */
		i++;
	while (++i < msg.len) {
		size_t s = i;
		while (i < msg.len && msg.p[i] != '\n')
			i++;
		struct sb_slice line = sb_slice_trim(sb_slice(msg.p + s, i - s));
		if (!line.len)
			break;
		ptrdiff_t colon = sb_slice_find(line, ':');
		if (colon < 0)
			continue;
		struct sb_slice name = sb_slice_trim(sb_slice(line.p, (size_t)colon));
		if (!sb_slice_eq_cstr_nocase(name, "To") && !sb_slice_eq_cstr_nocase(name, "t"))
			continue;
		struct sb_slice v = sb_slice_sub(line, (size_t)colon + 1, line.len);
		bool quote = false, angle = false;
		for (size_t k = 0; k < v.len; k++) {
			char c = v.p[k];
			if (quote) {
				if (c == '\\')
					k++;
				else if (c == '"')
					quote = false;
			} else if (c == '"') {
				quote = true;
			} else if (c == '<') {
				angle = true;
			} else if (c == '>') {
				angle = false;
			} else if (c == ';' && !angle) {
				struct sb_slice rest = sb_slice_trim(sb_slice_sub(v, k + 1, v.len));
				if (sb_slice_starts_with_nocase(rest, "tag")) {
					rest = sb_slice_trim(sb_slice_sub(rest, 3, rest.len));
					if (rest.len && rest.p[0] == '=') {
						rest =
						    sb_slice_trim(sb_slice_sub(rest, 1, rest.len));
						size_t e = 0;
						while (e < rest.len && rest.p[e] != ';' &&
						       rest.p[e] != ' ' && rest.p[e] != '\t' &&
						       rest.p[e] != ',')
							e++;
						return sb_slice(rest.p, e);
					}
				}
			}
		}
		break;
	}
	return SB_SLICE_NULL;
}

int sip_txn_respond(struct sip_txn *t, int status, struct sb_slice bytes, sb_time_ms now)
{
	if (!t || status < 100 || status > 699 || !bytes.len)
		return SB_EINVAL;
	if (t->kind != SIP_TXN_SERVER_INVITE && t->kind != SIP_TXN_SERVER_NON_INVITE)
		return SB_EINVAL;
	if (t->dead || t->state == SIP_TXN_TERMINATED)
		return SB_ESTATE;
	const struct sip_txn_cfg *c = &t->layer->cfg;
	bool open = t->state == SIP_TXN_TRYING || t->state == SIP_TXN_PROCEEDING;
	int err = 0;

	if (t->kind == SIP_TXN_SERVER_INVITE && status >= 200 && status < 300 &&
	    t->state == SIP_TXN_ACCEPTED) {
		/* The TU's 2xx retransmission (§13.3.1.4) passes through. */
		enter(t);
		err = do_send(t, bytes);
		leave(t);
		return err;
	}
	if (!open)
		return SB_ESTATE;

	if (status < 200) {
		if ((err = store_rsp(t, bytes)))
			return err;
		set_state(t, SIP_TXN_PROCEEDING);
	} else if (t->kind == SIP_TXN_SERVER_INVITE && status < 300) {
		t->rsp_len = 0; /* Accepted absorbs INVITE copies instead of answering them */
		set_state(t, SIP_TXN_ACCEPTED);
		arm(t, &t->life, now + t64(t)); /* L */
	} else if (t->kind == SIP_TXN_SERVER_INVITE) {
		if ((err = store_rsp(t, bytes)))
			return err;
		if (!t->rfc3261)
			(void)dup(t, scan_to_tag(bytes), &t->rsp_to_tag);
		set_state(t, SIP_TXN_COMPLETED);
		t->interval = c->t1;
		if (!t->reliable)
			arm(t, &t->retx, now + t->interval); /* G */
		arm(t, &t->life, now + t64(t));		     /* H */
	} else {
		if ((err = store_rsp(t, bytes)))
			return err;
		set_state(t, SIP_TXN_COMPLETED);
		arm(t, &t->life, now + (t->reliable ? 0 : t64(t))); /* J */
	}
	t->last_status = status;

	enter(t);
	err = do_send(t, bytes);
	if (err && !t->dead)
		finish_later(t, now);
	leave(t);
	return err;
}

int sip_txn_send(struct sip_txn *t, struct sb_slice bytes)
{
	if (!t || t->dead)
		return SB_EINVAL;
	enter(t);
	int err = do_send(t, bytes);
	leave(t);
	return err;
}

void sip_txn_recv_request(struct sip_txn *t, const struct sip_msg *req, sb_time_ms now)
{
	if (!t || !req || t->dead || !req->is_request || t->state == SIP_TXN_TERMINATED)
		return;
	if (t->kind != SIP_TXN_SERVER_INVITE && t->kind != SIP_TXN_SERVER_NON_INVITE)
		return;
	enter(t);
	bool resend = false;
	if (t->kind == SIP_TXN_SERVER_INVITE && req->method == SIP_METHOD_ACK) {
		if (t->state == SIP_TXN_COMPLETED) {
			set_state(t, SIP_TXN_CONFIRMED);
			disarm_all(t);
			arm(t, &t->life, now + (t->reliable ? 0 : t->layer->cfg.t4)); /* I */
			if (t->h->ack && !t->dead)
				t->h->ack(t, req, t->arg);
		}
		/* Confirmed: absorbed by Timer I. */
	} else if (t->kind == SIP_TXN_SERVER_INVITE) {
		resend = t->state == SIP_TXN_PROCEEDING || t->state == SIP_TXN_COMPLETED;
	} else {
		resend = t->state == SIP_TXN_PROCEEDING || t->state == SIP_TXN_COMPLETED;
	}
	if (resend && t->rsp_len && do_send(t, sb_slice(t->rsp, t->rsp_len)) && !t->dead) {
		report(t, SB_EIO);
		if (!t->dead)
			finish_later(t, now);
	}
	leave(t);
}

void sip_txn_transport_error(struct sip_txn *t, sb_time_ms now)
{
	if (!t || t->dead || t->state == SIP_TXN_TERMINATED)
		return;
	/* RFC 6026: a client in Accepted ignores transport errors; the client INVITE Completed
	 * state only re-sends ACKs, which the next retransmitted final would report. */
	if (t->state == SIP_TXN_ACCEPTED && t->kind == SIP_TXN_CLIENT_INVITE)
		return;
	enter(t);
	report(t, SB_EIO);
	if (!t->dead)
		finish_later(t, now);
	leave(t);
}

/* ---- matching ---- */

static bool is_server(const struct sip_txn *t)
{
	return t->kind == SIP_TXN_SERVER_INVITE || t->kind == SIP_TXN_SERVER_NON_INVITE;
}

static bool sent_by_eq(const struct sip_txn *t, const struct sip_msg *m)
{
	bool tls = transport_is_tls(m->via.transport);
	return sb_slice_eq_nocase(t->via_host, m->via.host) &&
	       port_or_default(t->via_port, t->via_tls) == port_or_default(m->via.port, tls);
}

enum match_mode { MATCH_REQUEST, MATCH_CANCEL };

static bool method_ok(const struct sip_txn *t, const struct sip_msg *m, enum match_mode mode)
{
	if (mode == MATCH_CANCEL)
		return t->method != SIP_METHOD_CANCEL;
	if (m->method == SIP_METHOD_ACK)
		return t->method == SIP_METHOD_INVITE &&
		       (t->state == SIP_TXN_COMPLETED || t->state == SIP_TXN_CONFIRMED);
	return method_matches(t, m->method, m->method_name);
}

static struct sip_txn *match_server(struct sip_txn_layer *l, const struct sip_msg *m,
				    enum match_mode mode)
{
	if (!l || !m || !m->is_request)
		return NULL;
	bool r3261 = branch_is_3261(m->via.branch);
	uint64_t hash = r3261 ? hash_3261(m->via.branch) : hash_2543(m->call_id, m->cseq.num);
	struct sb_slice via = sb_slice_trim(top_via(m));
	for (struct sb_hnode *n = sb_htab_chain(&l->tab, hash); n; n = n->next) {
		struct sip_txn *t = SB_CONTAINER_OF(n, struct sip_txn, node);
		if (n->hash != hash || !is_server(t) || t->dead || t->rfc3261 != r3261)
			continue;
		if (!method_ok(t, m, mode))
			continue;
		if (r3261) {
			if (sb_slice_eq_nocase(t->branch, m->via.branch) && sent_by_eq(t, m))
				return t;
			continue;
		}
		/* RFC 2543 (§17.2.3 end): Request-URI, From tag, Call-ID, CSeq number, top Via;
		 * the To tag of an ACK is the one of our final response. */
		if (t->cseq != m->cseq.num || !sb_slice_eq(t->call_id, m->call_id) ||
		    !sb_slice_eq(t->from_tag, m->from.tag) || !sb_slice_eq(t->ruri, m->ruri_raw) ||
		    !sb_slice_eq(t->via, via))
			continue;
		if (mode == MATCH_REQUEST && m->method == SIP_METHOD_ACK) {
			if (t->rsp_to_tag.len && !sb_slice_eq(t->rsp_to_tag, m->to.tag))
				continue;
		} else if (!sb_slice_eq(t->to_tag, m->to.tag)) {
			continue;
		}
		return t;
	}
	return NULL;
}

struct sip_txn *sip_txn_match_request(struct sip_txn_layer *l, const struct sip_msg *req)
{
	return match_server(l, req, MATCH_REQUEST);
}

struct sip_txn *sip_txn_match_cancel(struct sip_txn_layer *l, const struct sip_msg *cancel)
{
	if (!cancel || cancel->method != SIP_METHOD_CANCEL)
		return NULL;
	return match_server(l, cancel, MATCH_CANCEL);
}

struct sip_txn *sip_txn_match_response(struct sip_txn_layer *l, const struct sip_msg *rsp)
{
	if (!l || !rsp || rsp->is_request || !rsp->via.branch.len)
		return NULL;
	uint64_t hash = hash_3261(rsp->via.branch);
	for (struct sb_hnode *n = sb_htab_chain(&l->tab, hash); n; n = n->next) {
		struct sip_txn *t = SB_CONTAINER_OF(n, struct sip_txn, node);
		if (n->hash != hash || is_server(t) || t->dead)
			continue;
		if (sb_slice_eq_nocase(t->branch, rsp->via.branch) &&
		    method_matches(t, rsp->cseq.method, rsp->cseq.method_name))
			return t;
	}
	return NULL;
}

/* ---- owner and accessors ---- */

void sip_txn_terminate(struct sip_txn *t)
{
	if (!t || t->dead)
		return;
	t->dead = true;
	t->state = SIP_TXN_TERMINATED;
	unlink_txn(t);
	if (!t->busy)
		free_txn(t);
}

void sip_txn_set_owner(struct sip_txn *t, const struct sip_txn_handlers *h, void *arg)
{
	if (h && h->send)
		t->h = h;
	t->arg = arg;
}

enum sip_txn_kind sip_txn_kind(const struct sip_txn *t)
{
	return t->kind;
}

enum sip_txn_state sip_txn_state(const struct sip_txn *t)
{
	return t->state;
}

enum sip_method sip_txn_method(const struct sip_txn *t)
{
	return t->method;
}

void *sip_txn_arg(const struct sip_txn *t)
{
	return t->arg;
}

bool sip_txn_reliable(const struct sip_txn *t)
{
	return t->reliable;
}

struct sb_slice sip_txn_branch(const struct sip_txn *t)
{
	return t->branch;
}

struct sb_slice sip_txn_call_id(const struct sip_txn *t)
{
	return t->call_id;
}

int sip_txn_last_status(const struct sip_txn *t)
{
	return t->last_status;
}

struct sb_slice sip_txn_request(const struct sip_txn *t)
{
	return t->request;
}

struct sb_slice sip_txn_ack(const struct sip_txn *t)
{
	return t->ack;
}
