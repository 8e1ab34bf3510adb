/* The store's front end on the control loop: the in-memory trunks and rules, the queue of
 * operations to the writer thread, and the uv_async_t that brings their results back. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "store/store.h"
#include "store/store_int.h"

#define BATCH_MAX	 256 /* operations per database transaction */
#define QUEUE_MAX_DEF	 65536
#define BUSY_TIMEOUT_DEF 5000
#define CALL_LIMIT_DEF	 100

/* A sorted array of records whose first member is `char *id`. */
struct vec {
	void *v;
	size_t n, cap;
};

struct store {
	uv_loop_t *loop;
	uv_async_t async;
	uv_thread_t thread;
	uv_mutex_t mu;
	uv_cond_t cv;
	const struct store__backend *be;
	void *be_ctx;
	/* guarded by mu */
	struct store__op *q_head, *q_tail;	 /* to the writer */
	struct store__op *done_head, *done_tail; /* back to the loop */
	bool stop;
	bool thread_done;
	/* loop thread only */
	struct vec in, out, rules;
	uint64_t inflight;
	uint32_t queue_max;
	bool closing;
	bool joined;
	void (*close_cb)(void *arg);
	void *close_arg;
	struct store_stats st;
};

/* What differs between trunks and rules, so one code path serves all three. */
struct kind {
	size_t size;
	const char *prefix;
	enum store__op_kind put_op, del_op;
	size_t created_off, updated_off;
	size_t vec_off;
	int (*copy)(void *dst, const void *src);
	void (*free)(void *rec);
	int (*validate)(const void *rec);
	/* the record's list that a filter compares with, and which filter list applies */
	const struct store_strv *(*filter_field)(const void *rec);
	bool by_trunk_ids;
};

_Static_assert(offsetof(struct store_inbound_trunk, id) == 0, "id first");
_Static_assert(offsetof(struct store_outbound_trunk, id) == 0, "id first");
_Static_assert(offsetof(struct store_dispatch_rule, id) == 0, "id first");

void store__errf(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static bool enum_ok(int v, int max)
{
	return v >= 0 && v <= max;
}

static int in_copy(void *d, const void *s)
{
	return store_inbound_trunk_copy(d, s);
}
static void in_free(void *r)
{
	store_inbound_trunk_free(r);
}
static int in_validate(const void *rec)
{
	const struct store_inbound_trunk *t = rec;
	if (!enum_ok((int)t->include_headers, STORE_ALL_HEADERS) ||
	    !enum_ok((int)t->media_encryption, STORE_ENCRYPT_REQUIRE) ||
	    t->ringing_timeout_ms < 0 || t->max_call_duration_ms < 0)
		return SB_EINVAL;
	return 0;
}
static const struct store_strv *in_numbers(const void *rec)
{
	return &((const struct store_inbound_trunk *)rec)->numbers;
}

static int out_copy(void *d, const void *s)
{
	return store_outbound_trunk_copy(d, s);
}
static void out_free(void *r)
{
	store_outbound_trunk_free(r);
}
static int out_validate(const void *rec)
{
	const struct store_outbound_trunk *t = rec;
	if (!enum_ok((int)t->include_headers, STORE_ALL_HEADERS) ||
	    !enum_ok((int)t->media_encryption, STORE_ENCRYPT_REQUIRE) ||
	    !enum_ok((int)t->transport, STORE_TRANSPORT_TLS))
		return SB_EINVAL;
	return 0;
}
static const struct store_strv *out_numbers(const void *rec)
{
	return &((const struct store_outbound_trunk *)rec)->numbers;
}

static int rule_copy(void *d, const void *s)
{
	return store_dispatch_rule_copy(d, s);
}
static void rule_free(void *r)
{
	store_dispatch_rule_free(r);
}
static int rule_validate(const void *rec)
{
	const struct store_dispatch_rule *r = rec;
	if (r->rule.kind < STORE_RULE_DIRECT || r->rule.kind > STORE_RULE_CALLEE ||
	    !enum_ok((int)r->media_encryption, STORE_ENCRYPT_REQUIRE))
		return SB_EINVAL;
	return 0;
}
static const struct store_strv *rule_trunks(const void *rec)
{
	return &((const struct store_dispatch_rule *)rec)->trunk_ids;
}

static const struct kind kind_in = {
    .size = sizeof(struct store_inbound_trunk),
    .prefix = STORE_TRUNK_PFX,
    .put_op = STORE__PUT_INBOUND,
    .del_op = STORE__DEL_INBOUND,
    .created_off = offsetof(struct store_inbound_trunk, created_at_ms),
    .updated_off = offsetof(struct store_inbound_trunk, updated_at_ms),
    .vec_off = offsetof(struct store, in),
    .copy = in_copy,
    .free = in_free,
    .validate = in_validate,
    .filter_field = in_numbers,
};

static const struct kind kind_out = {
    .size = sizeof(struct store_outbound_trunk),
    .prefix = STORE_TRUNK_PFX,
    .put_op = STORE__PUT_OUTBOUND,
    .del_op = STORE__DEL_OUTBOUND,
    .created_off = offsetof(struct store_outbound_trunk, created_at_ms),
    .updated_off = offsetof(struct store_outbound_trunk, updated_at_ms),
    .vec_off = offsetof(struct store, out),
    .copy = out_copy,
    .free = out_free,
    .validate = out_validate,
    .filter_field = out_numbers,
};

static const struct kind kind_rule = {
    .size = sizeof(struct store_dispatch_rule),
    .prefix = STORE_RULE_PFX,
    .put_op = STORE__PUT_RULE,
    .del_op = STORE__DEL_RULE,
    .created_off = offsetof(struct store_dispatch_rule, created_at_ms),
    .updated_off = offsetof(struct store_dispatch_rule, updated_at_ms),
    .vec_off = offsetof(struct store, rules),
    .copy = rule_copy,
    .free = rule_free,
    .validate = rule_validate,
    .filter_field = rule_trunks,
    .by_trunk_ids = true,
};

static struct vec *kind_vec(struct store *s, const struct kind *k)
{
	return (struct vec *)(void *)((char *)s + k->vec_off);
}

static void *elem(const struct vec *a, const struct kind *k, size_t i)
{
	return (char *)a->v + i * k->size;
}

static const char *elem_id(const struct vec *a, const struct kind *k, size_t i)
{
	char *id;
	memcpy(&id, elem(a, k, i), sizeof(id));
	return id ? id : "";
}

static void set_i64(void *rec, size_t off, int64_t v)
{
	memcpy((char *)rec + off, &v, sizeof(v));
}

static int64_t get_i64(const void *rec, size_t off)
{
	int64_t v;
	memcpy(&v, (const char *)rec + off, sizeof(v));
	return v;
}

/* Index of id, or of where it would go; *found tells which. */
static size_t vec_find(const struct vec *a, const struct kind *k, const char *id, bool *found)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(elem_id(a, k, mid), id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int vec_reserve(struct vec *a, const struct kind *k)
{
	if (a->n < a->cap)
		return 0;
	size_t cap = a->cap ? a->cap * 2 : 16;
	void *v = realloc(a->v, cap * k->size);
	if (!v)
		return SB_ENOMEM;
	a->v = v;
	a->cap = cap;
	return 0;
}

/* Moves rec's bytes into slot i (room reserved beforehand). */
static void vec_insert(struct vec *a, const struct kind *k, size_t i, const void *rec)
{
	memmove(elem(a, k, i + 1), elem(a, k, i), (a->n - i) * k->size);
	memcpy(elem(a, k, i), rec, k->size);
	a->n++;
}

static void vec_remove(struct vec *a, const struct kind *k, size_t i)
{
	k->free(elem(a, k, i));
	memmove(elem(a, k, i), elem(a, k, i + 1), (a->n - i - 1) * k->size);
	a->n--;
}

static void vec_free(struct vec *a, const struct kind *k)
{
	for (size_t i = 0; i < a->n; i++)
		k->free(elem(a, k, i));
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int cmp_in(const void *a, const void *b)
{
	return strcmp(((const struct store_inbound_trunk *)a)->id,
		      ((const struct store_inbound_trunk *)b)->id);
}
static int cmp_out(const void *a, const void *b)
{
	return strcmp(((const struct store_outbound_trunk *)a)->id,
		      ((const struct store_outbound_trunk *)b)->id);
}
static int cmp_rule(const void *a, const void *b)
{
	return strcmp(((const struct store_dispatch_rule *)a)->id,
		      ((const struct store_dispatch_rule *)b)->id);
}

/* ---- operations and the writer thread ---- */

const char *store__op_name(enum store__op_kind kind)
{
	static const char *const names[] = {
	    [STORE__PUT_INBOUND] = "put inbound trunk",
	    [STORE__PUT_OUTBOUND] = "put outbound trunk",
	    [STORE__PUT_RULE] = "put dispatch rule",
	    [STORE__DEL_INBOUND] = "delete inbound trunk",
	    [STORE__DEL_OUTBOUND] = "delete outbound trunk",
	    [STORE__DEL_RULE] = "delete dispatch rule",
	    [STORE__PUT_CALL] = "put call",
	    [STORE__ADD_TRANSFER] = "add transfer",
	    [STORE__GET_CALL] = "get call",
	    [STORE__LIST_RECENT] = "list recent calls",
	    [STORE__LIST_ROOM] = "list room calls",
	};
	return (size_t)kind < SB_ARRAY_LEN(names) ? names[kind] : "?";
}

void store__op_free(struct store__op *op)
{
	switch (op->kind) {
	case STORE__PUT_INBOUND:
		store_inbound_trunk_free(&op->rec.in);
		break;
	case STORE__PUT_OUTBOUND:
		store_outbound_trunk_free(&op->rec.out);
		break;
	case STORE__PUT_RULE:
		store_dispatch_rule_free(&op->rec.rule);
		break;
	case STORE__PUT_CALL:
		store_call_free(&op->rec.call);
		break;
	case STORE__ADD_TRANSFER:
		store_transfer_free(&op->rec.transfer);
		break;
	default:
		break;
	}
	free(op->key);
	store__calls_free(op->calls, op->n_calls);
	free(op);
}

void store__snapshot_free(struct store__snapshot *snap)
{
	for (size_t i = 0; i < snap->n_in; i++)
		store_inbound_trunk_free(&snap->in[i]);
	for (size_t i = 0; i < snap->n_out; i++)
		store_outbound_trunk_free(&snap->out[i]);
	for (size_t i = 0; i < snap->n_rules; i++)
		store_dispatch_rule_free(&snap->rules[i]);
	free(snap->in);
	free(snap->out);
	free(snap->rules);
	memset(snap, 0, sizeof(*snap));
}

/* Errors a caller sees before anything is queued. */
static int check_queue(struct store *s)
{
	if (!s || s->closing)
		return SB_ECLOSED;
	if (s->inflight >= s->queue_max)
		return SB_EBUSY;
	return 0;
}

static struct store__op *op_new(enum store__op_kind kind)
{
	struct store__op *op = calloc(1, sizeof(*op));
	if (op)
		op->kind = kind;
	return op;
}

static void enqueue(struct store *s, struct store__op *op)
{
	s->inflight++;
	uv_mutex_lock(&s->mu);
	if (s->q_tail)
		s->q_tail->next = op;
	else
		s->q_head = op;
	s->q_tail = op;
	uv_cond_signal(&s->cv);
	uv_mutex_unlock(&s->mu);
}

static void run_batch(struct store *s, struct store__op *batch)
{
	int err = s->be->begin(s->be_ctx);
	if (err) {
		for (struct store__op *op = batch; op; op = op->next)
			op->err = err;
		return;
	}
	for (struct store__op *op = batch; op; op = op->next)
		s->be->apply(s->be_ctx, op);
	err = s->be->commit(s->be_ctx);
	if (err) {
		s->be->rollback(s->be_ctx);
		for (struct store__op *op = batch; op; op = op->next)
			if (store__op_is_write(op) && !op->err)
				op->err = err;
	}
}

static void writer_main(void *arg)
{
	struct store *s = arg;
	for (;;) {
		uv_mutex_lock(&s->mu);
		while (!s->q_head && !s->stop)
			uv_cond_wait(&s->cv, &s->mu);
		if (!s->q_head) {
			uv_mutex_unlock(&s->mu);
			break;
		}
		struct store__op *batch = s->q_head, *last = batch;
		for (int n = 1; n < BATCH_MAX && last->next; n++)
			last = last->next;
		s->q_head = last->next;
		if (!s->q_head)
			s->q_tail = NULL;
		last->next = NULL;
		uv_mutex_unlock(&s->mu);

		run_batch(s, batch);

		uv_mutex_lock(&s->mu);
		if (s->done_tail)
			s->done_tail->next = batch;
		else
			s->done_head = batch;
		s->done_tail = last;
		uv_mutex_unlock(&s->mu);
		uv_async_send(&s->async);
	}
	s->be->close(s->be_ctx);
	s->be_ctx = NULL;
	uv_mutex_lock(&s->mu);
	s->thread_done = true;
	uv_mutex_unlock(&s->mu);
	uv_async_send(&s->async);
}

static void deliver(struct store *s, struct store__op *op)
{
	s->inflight--;
	if (store__op_is_write(op)) {
		if (op->err) {
			s->st.writes_failed++;
			SB_ERROR("store", "%s %s failed: %s", store__op_name(op->kind),
				 op->key ? op->key : "", sb_strerror(op->err));
		} else {
			s->st.writes_ok++;
		}
		if (op->done_cb)
			op->done_cb(op->arg, op->err);
	} else if (op->calls_cb) {
		op->calls_cb(op->arg, op->err, op->calls, op->n_calls);
	}
	store__op_free(op);
}

static void on_closed(uv_handle_t *h)
{
	struct store *s = h->data;
	vec_free(&s->in, &kind_in);
	vec_free(&s->out, &kind_out);
	vec_free(&s->rules, &kind_rule);
	uv_mutex_destroy(&s->mu);
	uv_cond_destroy(&s->cv);
	void (*cb)(void *) = s->close_cb;
	void *arg = s->close_arg;
	free(s);
	if (cb)
		cb(arg);
}

static void on_async(uv_async_t *a)
{
	struct store *s = a->data;
	uv_mutex_lock(&s->mu);
	struct store__op *list = s->done_head;
	s->done_head = s->done_tail = NULL;
	bool finished = s->thread_done;
	uv_mutex_unlock(&s->mu);
	while (list) {
		struct store__op *op = list;
		list = op->next;
		op->next = NULL;
		deliver(s, op);
	}
	if (finished && !s->joined) {
		s->joined = true;
		uv_thread_join(&s->thread);
		uv_close((uv_handle_t *)&s->async, on_closed);
	}
}

/* ---- lifecycle ---- */

static int load_snapshot(struct store *s)
{
	struct store__snapshot snap = {0};
	int err = s->be->load(s->be_ctx, &snap);
	if (err)
		return err;
	/* the backend sorts already; this keeps strcmp order whatever its collation */
	if (snap.n_in)
		qsort(snap.in, snap.n_in, sizeof(*snap.in), cmp_in);
	if (snap.n_out)
		qsort(snap.out, snap.n_out, sizeof(*snap.out), cmp_out);
	if (snap.n_rules)
		qsort(snap.rules, snap.n_rules, sizeof(*snap.rules), cmp_rule);
	s->in = (struct vec){snap.in, snap.n_in, snap.n_in};
	s->out = (struct vec){snap.out, snap.n_out, snap.n_out};
	s->rules = (struct vec){snap.rules, snap.n_rules, snap.n_rules};
	return 0;
}

int store_open(struct store **out, const struct store_opts *o)
{
	char eb[512] = "";
	int err = SB_EINVAL;
	struct store *s = NULL;
	if (!out || !o || !o->loop || !o->dir || !o->dir[0]) {
		store__errf(eb, sizeof(eb), "store: a loop and a data directory are required");
		goto out;
	}
	const struct store__backend *be = NULL;
	if (!o->backend || strcmp(o->backend, store__sqlite.name) == 0) {
		be = &store__sqlite;
	} else {
		err = SB_EUNSUPPORTED;
		store__errf(eb, sizeof(eb), "store: unknown backend \"%s\"", o->backend);
		goto out;
	}
	err = SB_ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s)
		goto out;
	s->loop = o->loop;
	s->be = be;
	s->queue_max = o->queue_max ? o->queue_max : QUEUE_MAX_DEF;
	struct store_opts bo = *o;
	if (!bo.busy_timeout_ms)
		bo.busy_timeout_ms = BUSY_TIMEOUT_DEF;
	if ((err = be->open(&s->be_ctx, &bo, eb, sizeof(eb))))
		goto out;
	if ((err = load_snapshot(s))) {
		store__errf(eb, sizeof(eb), "store: cannot load trunks and rules: %s",
			    sb_strerror(err));
		goto out_be;
	}
	err = SB_EIO;
	if (uv_mutex_init(&s->mu))
		goto out_vecs;
	if (uv_cond_init(&s->cv))
		goto out_mu;
	if (uv_async_init(s->loop, &s->async, on_async))
		goto out_cv;
	s->async.data = s;
	if (uv_thread_create(&s->thread, writer_main, s)) {
		store__errf(eb, sizeof(eb), "store: cannot start the writer thread");
		/* the handle must close through the loop; on_closed frees the rest */
		s->be->close(s->be_ctx);
		s->closing = true;
		uv_close((uv_handle_t *)&s->async, on_closed);
		s = NULL;
		goto out;
	}
	SB_INFO("store", "%s store in %s: %zu inbound, %zu outbound trunks, %zu dispatch rules",
		be->name, o->dir, s->in.n, s->out.n, s->rules.n);
	*out = s;
	return 0;

out_cv:
	uv_cond_destroy(&s->cv);
out_mu:
	uv_mutex_destroy(&s->mu);
out_vecs:
	vec_free(&s->in, &kind_in);
	vec_free(&s->out, &kind_out);
	vec_free(&s->rules, &kind_rule);
	if (!eb[0])
		store__errf(eb, sizeof(eb), "store: %s", sb_strerror(err));
out_be:
	be->close(s->be_ctx);
out:
	free(s);
	if (o && o->errbuf && o->errbuf_len)
		store__errf(o->errbuf, o->errbuf_len, "%s", eb);
	SB_ERROR("store", "%s", eb);
	return err;
}

void store_close(struct store *s, void (*cb)(void *arg), void *arg)
{
	if (!s || s->closing)
		return;
	s->closing = true;
	s->close_cb = cb;
	s->close_arg = arg;
	uv_mutex_lock(&s->mu);
	s->stop = true;
	uv_cond_signal(&s->cv);
	uv_mutex_unlock(&s->mu);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
	*out = s->st;
	out->queued = s->inflight;
}

/* ---- trunks and rules ---- */

static int64_t now_ms(void)
{
	return (int64_t)sb_clock_wall_s() * 1000;
}

static bool id_taken(struct store *s, const struct kind *k, const char *id)
{
	bool found;
	if (k == &kind_rule) {
		vec_find(&s->rules, k, id, &found);
		return found;
	}
	vec_find(&s->in, &kind_in, id, &found);
	if (!found)
		vec_find(&s->out, &kind_out, id, &found);
	return found;
}

bool store_id_valid(const char *id, const char *prefix)
{
	size_t pl = strlen(prefix), n = id ? strlen(id) : 0;
	if (n <= pl || n >= STORE_ID_MAX || strncmp(id, prefix, pl))
		return false;
	for (size_t i = pl; i < n; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

enum put_mode {
	PUT_CREATE,  /* a fresh id */
	PUT_REPLACE, /* the record with this id must exist */
	PUT_UPSERT,  /* under the given id: replace it, or create it */
};

static int put_record(struct store *s, const struct kind *k, const void *rec, enum put_mode mode,
		      void *out, store_done_cb cb, void *arg)
{
	int err = check_queue(s);
	if (err)
		return err;
	if (!rec)
		return SB_EINVAL;
	const char *in_id;
	memcpy(&in_id, rec, sizeof(in_id));
	bool has_id = in_id && in_id[0];
	if ((mode == PUT_CREATE && has_id) || (mode != PUT_CREATE && !has_id) ||
	    (mode == PUT_UPSERT && !store_id_valid(in_id, k->prefix)))
		return SB_EINVAL;
	if ((err = k->validate(rec)))
		return err;
	struct vec *a = kind_vec(s, k);
	bool found = false;
	size_t at = 0;
	if (mode != PUT_CREATE) {
		at = vec_find(a, k, in_id, &found);
		if (!found && mode == PUT_REPLACE)
			return SB_ENOTFOUND;
		if (!found && id_taken(s, k, in_id))
			return SB_EEXISTS; /* a trunk of the other direction */
	}
	bool create = mode == PUT_CREATE || !found;
	if ((err = vec_reserve(a, k)))
		return err;
	struct store__op *op = op_new(k->put_op);
	if (!op)
		return SB_ENOMEM;
	void *mem = malloc(k->size);
	if (!mem) {
		err = SB_ENOMEM;
		goto out_op;
	}
	/* the op's copy is the master: fix id and times there, then copy to memory */
	if ((err = k->copy(&op->rec, rec)))
		goto out_mem;
	int64_t now = now_ms();
	if (mode == PUT_CREATE) {
		char id[STORE_ID_MAX];
		do {
			if ((err = store_new_id(id, k->prefix)))
				goto out_mem;
		} while (id_taken(s, k, id));
		char *dup = strdup(id);
		if (!dup) {
			err = SB_ENOMEM;
			goto out_mem;
		}
		char *old;
		memcpy(&old, &op->rec, sizeof(old));
		free(old);
		memcpy(&op->rec, &dup, sizeof(dup));
		set_i64(&op->rec, k->created_off, now);
		at = vec_find(a, k, id, &found);
	} else if (create) { /* upsert of a new id: at is where it goes */
		set_i64(&op->rec, k->created_off, now);
	} else {
		set_i64(&op->rec, k->created_off, get_i64(elem(a, k, at), k->created_off));
	}
	set_i64(&op->rec, k->updated_off, now);
	if ((err = k->copy(mem, &op->rec)))
		goto out_mem;
	if (out && (err = k->copy(out, &op->rec))) {
		k->free(mem);
		goto out_mem;
	}
	const char *rid;
	memcpy(&rid, &op->rec, sizeof(rid));
	if (!(op->key = strdup(rid))) {
		if (out)
			k->free(out);
		k->free(mem);
		err = SB_ENOMEM;
		goto out_mem;
	}
	if (found)
		vec_remove(a, k, at);
	vec_insert(a, k, at, mem);
	free(mem);
	op->done_cb = cb;
	op->arg = arg;
	enqueue(s, op);
	return 0;

out_mem:
	free(mem);
out_op:
	store__op_free(op);
	return err;
}

static int delete_record(struct store *s, const struct kind *k, const char *id, store_done_cb cb,
			 void *arg)
{
	struct vec *a = kind_vec(s, k);
	bool found;
	size_t at = vec_find(a, k, id, &found);
	if (!found)
		return SB_ENOTFOUND;
	struct store__op *op = op_new(k->del_op);
	if (!op || !(op->key = strdup(id))) {
		free(op);
		return SB_ENOMEM;
	}
	op->done_cb = cb;
	op->arg = arg;
	vec_remove(a, k, at);
	enqueue(s, op);
	return 0;
}

int store_inbound_trunk_create(struct store *s, const struct store_inbound_trunk *t,
			       struct store_inbound_trunk *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_in, t, PUT_CREATE, out, cb, arg);
}

int store_inbound_trunk_replace(struct store *s, const struct store_inbound_trunk *t,
				struct store_inbound_trunk *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_in, t, PUT_REPLACE, out, cb, arg);
}

int store_outbound_trunk_create(struct store *s, const struct store_outbound_trunk *t,
				struct store_outbound_trunk *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_out, t, PUT_CREATE, out, cb, arg);
}

int store_outbound_trunk_replace(struct store *s, const struct store_outbound_trunk *t,
				 struct store_outbound_trunk *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_out, t, PUT_REPLACE, out, cb, arg);
}

int store_dispatch_rule_create(struct store *s, const struct store_dispatch_rule *r,
			       struct store_dispatch_rule *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_rule, r, PUT_CREATE, out, cb, arg);
}

int store_dispatch_rule_replace(struct store *s, const struct store_dispatch_rule *r,
				struct store_dispatch_rule *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_rule, r, PUT_REPLACE, out, cb, arg);
}

int store_inbound_trunk_put(struct store *s, const struct store_inbound_trunk *t,
			    struct store_inbound_trunk *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_in, t, PUT_UPSERT, out, cb, arg);
}

int store_outbound_trunk_put(struct store *s, const struct store_outbound_trunk *t,
			     struct store_outbound_trunk *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_out, t, PUT_UPSERT, out, cb, arg);
}

int store_dispatch_rule_put(struct store *s, const struct store_dispatch_rule *r,
			    struct store_dispatch_rule *out, store_done_cb cb, void *arg)
{
	return put_record(s, &kind_rule, r, PUT_UPSERT, out, cb, arg);
}

int store_trunk_delete(struct store *s, const char *id, store_done_cb cb, void *arg)
{
	int err = check_queue(s);
	if (err)
		return err;
	if (!id)
		return SB_EINVAL;
	err = delete_record(s, &kind_in, id, cb, arg);
	if (err == SB_ENOTFOUND)
		err = delete_record(s, &kind_out, id, cb, arg);
	return err;
}

int store_dispatch_rule_delete(struct store *s, const char *id, store_done_cb cb, void *arg)
{
	int err = check_queue(s);
	if (err)
		return err;
	if (!id)
		return SB_EINVAL;
	return delete_record(s, &kind_rule, id, cb, arg);
}

static int get_record(struct store *s, const struct kind *k, const char *id, void *out)
{
	if (!s || !id || !out)
		return SB_EINVAL;
	struct vec *a = kind_vec(s, k);
	bool found;
	size_t at = vec_find(a, k, id, &found);
	if (!found)
		return SB_ENOTFOUND;
	return k->copy(out, elem(a, k, at));
}

int store_inbound_trunk_get(struct store *s, const char *id, struct store_inbound_trunk *out)
{
	return get_record(s, &kind_in, id, out);
}

int store_outbound_trunk_get(struct store *s, const char *id, struct store_outbound_trunk *out)
{
	return get_record(s, &kind_out, id, out);
}

int store_dispatch_rule_get(struct store *s, const char *id, struct store_dispatch_rule *out)
{
	return get_record(s, &kind_rule, id, out);
}

const struct store_inbound_trunk *store_inbound_trunks(struct store *s, size_t *n)
{
	*n = s->in.n;
	return s->in.v;
}

const struct store_outbound_trunk *store_outbound_trunks(struct store *s, size_t *n)
{
	*n = s->out.n;
	return s->out.v;
}

const struct store_dispatch_rule *store_dispatch_rules(struct store *s, size_t *n)
{
	*n = s->rules.n;
	return s->rules.v;
}

static bool matches(const struct kind *k, const void *rec, const struct store_filter *f)
{
	const char *const *want = k->by_trunk_ids ? f->trunk_ids : f->numbers;
	size_t n_want = k->by_trunk_ids ? f->n_trunk_ids : f->n_numbers;
	const struct store_strv *have = k->filter_field(rec);
	if (!n_want || !have->n)
		return true;
	for (size_t i = 0; i < n_want; i++)
		if (want[i] && store_strv_contains(have, want[i]))
			return true;
	return false;
}

/* A list of copies into *v (k->size each); on failure nothing is left allocated. */
static int list_records(struct store *s, const struct kind *k, const struct store_filter *f,
			void **v, size_t *n)
{
	static const struct store_filter all = {0};
	if (!f)
		f = &all;
	struct vec *a = kind_vec(s, k);
	*v = NULL;
	*n = 0;
	size_t cap = f->n_ids ? f->n_ids : a->n;
	if (!cap)
		return 0;
	char *res = calloc(cap, k->size);
	if (!res)
		return SB_ENOMEM;
	size_t cnt = 0;
	int err = 0;
	if (f->n_ids) {
		for (size_t i = 0; i < f->n_ids && !err; i++) {
			bool found = false;
			size_t at = f->ids[i] ? vec_find(a, k, f->ids[i], &found) : 0;
			if (!found) {
				cnt++; /* an empty slot: zeroed, id NULL */
				continue;
			}
			if (!matches(k, elem(a, k, at), f))
				continue;
			if (!(err = k->copy(res + cnt * k->size, elem(a, k, at))))
				cnt++;
		}
	} else {
		for (size_t i = 0; i < a->n && !err; i++) {
			if (f->limit && cnt >= f->limit)
				break;
			if (f->after_id && strcmp(elem_id(a, k, i), f->after_id) <= 0)
				continue;
			if (!matches(k, elem(a, k, i), f))
				continue;
			if (!(err = k->copy(res + cnt * k->size, elem(a, k, i))))
				cnt++;
		}
	}
	if (err) {
		for (size_t i = 0; i < cnt; i++)
			k->free(res + i * k->size);
		free(res);
		return err;
	}
	*v = res;
	*n = cnt;
	return 0;
}

int store_inbound_trunk_list(struct store *s, const struct store_filter *f,
			     struct store_inbound_trunk_list *out)
{
	void *v;
	int err = list_records(s, &kind_in, f, &v, &out->n);
	out->v = v;
	return err;
}

int store_outbound_trunk_list(struct store *s, const struct store_filter *f,
			      struct store_outbound_trunk_list *out)
{
	void *v;
	int err = list_records(s, &kind_out, f, &v, &out->n);
	out->v = v;
	return err;
}

int store_dispatch_rule_list(struct store *s, const struct store_filter *f,
			     struct store_dispatch_rule_list *out)
{
	void *v;
	int err = list_records(s, &kind_rule, f, &v, &out->n);
	out->v = v;
	return err;
}

void store_inbound_trunk_list_free(struct store_inbound_trunk_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_inbound_trunk_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void store_outbound_trunk_list_free(struct store_outbound_trunk_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_outbound_trunk_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void store_dispatch_rule_list_free(struct store_dispatch_rule_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		store_dispatch_rule_free(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- call records ---- */

int store_call_put(struct store *s, const struct store_call *c, store_done_cb cb, void *arg)
{
	int err = check_queue(s);
	if (err)
		return err;
	if (!c || !c->id || !c->id[0] || !enum_ok((int)c->direction, STORE_CALL_OUTBOUND) ||
	    !enum_ok((int)c->status, STORE_CALL_ERROR))
		return SB_EINVAL;
	struct store__op *op = op_new(STORE__PUT_CALL);
	if (!op)
		return SB_ENOMEM;
	if (store_call_copy(&op->rec.call, c) || !(op->key = strdup(c->id))) {
		store__op_free(op);
		return SB_ENOMEM;
	}
	op->done_cb = cb;
	op->arg = arg;
	enqueue(s, op);
	return 0;
}

int store_call_add_transfer(struct store *s, const char *call_id, const struct store_transfer *t,
			    store_done_cb cb, void *arg)
{
	int err = check_queue(s);
	if (err)
		return err;
	if (!call_id || !call_id[0] || !t)
		return SB_EINVAL;
	struct store__op *op = op_new(STORE__ADD_TRANSFER);
	if (!op)
		return SB_ENOMEM;
	op->rec.transfer = *t;
	op->rec.transfer.target = store__strdup(t->target);
	op->rec.transfer.reason = store__strdup(t->reason);
	op->key = strdup(call_id);
	if (!op->rec.transfer.target || !op->rec.transfer.reason || !op->key) {
		store__op_free(op);
		return SB_ENOMEM;
	}
	op->done_cb = cb;
	op->arg = arg;
	enqueue(s, op);
	return 0;
}

static int query(struct store *s, enum store__op_kind kind, const char *key, uint32_t limit,
		 store_calls_cb cb, void *arg)
{
	int err = check_queue(s);
	if (err)
		return err;
	if (!cb || (kind != STORE__LIST_RECENT && !key))
		return SB_EINVAL;
	struct store__op *op = op_new(kind);
	if (!op)
		return SB_ENOMEM;
	if (key && !(op->key = strdup(key))) {
		free(op);
		return SB_ENOMEM;
	}
	op->limit = limit ? limit : CALL_LIMIT_DEF;
	op->calls_cb = cb;
	op->arg = arg;
	enqueue(s, op);
	return 0;
}

int store_call_get(struct store *s, const char *id, store_calls_cb cb, void *arg)
{
	return query(s, STORE__GET_CALL, id, 1, cb, arg);
}

int store_call_list_recent(struct store *s, uint32_t limit, store_calls_cb cb, void *arg)
{
	return query(s, STORE__LIST_RECENT, NULL, limit, cb, arg);
}

int store_call_list_room(struct store *s, const char *room, uint32_t limit, store_calls_cb cb,
			 void *arg)
{
	return query(s, STORE__LIST_ROOM, room, limit, cb, arg);
}
