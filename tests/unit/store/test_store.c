/* Unit tests for src/store: the SQLite store in a temporary directory, driven from a private
 * libuv loop; every record field through a close and re-open, filters, call records, drains. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "store/store.h"

static uv_loop_t loop;
static uv_timer_t guard; /* keeps uv_run(UV_RUN_ONCE) from blocking for ever */
static uv_thread_t loop_thread;
static char dir[64];

/* Awkward strings that must come back byte for byte. */
#define ODD "quote ' \" semi; -- DROP TABLE calls; \xc3\xa9\xe2\x82\xac\n\ttab"

static void guard_cb(uv_timer_t *t)
{
	(void)t;
}

static bool run_until(bool (*done)(void *arg), void *arg, uint64_t max_ms)
{
	uint64_t end = uv_hrtime() / 1000000u + max_ms;
	uv_timer_start(&guard, guard_cb, 2, 2);
	while (!done(arg) && uv_hrtime() / 1000000u < end)
		uv_run(&loop, UV_RUN_ONCE);
	uv_timer_stop(&guard);
	return done(arg);
}

static bool flag_set(void *arg)
{
	return *(bool *)arg;
}

static bool on_loop_thread(void)
{
	uv_thread_t self = uv_thread_self();
	return uv_thread_equal(&self, &loop_thread) != 0;
}

/* Write completions. */
struct done {
	int calls;
	int err;
	int errors;
	bool off_loop; /* a callback ran on another thread */
};

static void on_done(void *arg, int err)
{
	struct done *d = arg;
	d->calls++;
	d->err = err;
	if (err)
		d->errors++;
	if (!on_loop_thread())
		d->off_loop = true;
}

struct wait_n {
	struct done *d;
	int n;
};

static bool done_n(void *arg)
{
	struct wait_n *w = arg;
	return w->d->calls >= w->n;
}

static void wait_done(struct done *d, int n)
{
	struct wait_n w = {d, n};
	assert_true(run_until(done_n, &w, 5000));
	assert_false(d->off_loop);
}

/* Query results, copied. */
struct got {
	bool called;
	int err;
	struct store_call *v;
	size_t n;
	bool off_loop;
};

static void on_calls(void *arg, int err, const struct store_call *calls, size_t n)
{
	struct got *g = arg;
	g->called = true;
	g->err = err;
	g->off_loop = !on_loop_thread();
	g->v = n ? calloc(n, sizeof(*g->v)) : NULL;
	g->n = n;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(store_call_copy(&g->v[i], &calls[i]), 0);
}

static bool got_called(void *arg)
{
	return ((struct got *)arg)->called;
}

static void wait_got(struct got *g)
{
	assert_true(run_until(got_called, g, 5000));
	assert_false(g->off_loop);
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		store_call_free(&g->v[i]);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static struct store *open_store_opts(struct store_opts *o)
{
	struct store *s = NULL;
	o->loop = &loop;
	o->dir = dir;
	assert_int_equal(store_open(&s, o), 0);
	assert_non_null(s);
	return s;
}

static struct store *open_store(void)
{
	struct store_opts o = {0};
	return open_store_opts(&o);
}

static void set_flag(void *arg)
{
	*(bool *)arg = true;
}

static void close_store(struct store *s)
{
	bool closed = false;
	store_close(s, set_flag, &closed);
	assert_true(run_until(flag_set, &closed, 5000));
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sb-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (uv_loop_init(&loop))
		return -1;
	uv_timer_init(&loop, &guard);
	loop_thread = uv_thread_self();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	uv_close((uv_handle_t *)&guard, NULL);
	/* NOWAIT: after a failed assertion a store may still hold the loop open */
	uv_run(&loop, UV_RUN_NOWAIT);
	int rc = uv_loop_close(&loop);
	chmod(dir, 0700);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return rc == 0 ? 0 : -1;
}

static char *xs(const char *s)
{
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static void push(struct store_strv *a, const char *s)
{
	assert_int_equal(store_strv_push(a, s), 0);
}

static void put(struct store_map *m, const char *k, const char *v)
{
	assert_int_equal(store_map_set(m, k, v), 0);
}

/* ---- record fixtures and comparisons ---- */

/* NULL reads as "" in a record */
#define assert_str(a, b) assert_string_equal((a) ? (a) : "", (b) ? (b) : "")

static void fill_inbound(struct store_inbound_trunk *t)
{
	memset(t, 0, sizeof(*t));
	t->name = xs("Twilio in");
	t->metadata = xs(ODD);
	push(&t->numbers, "+15550001");
	push(&t->numbers, "+15550002");
	push(&t->allowed_addresses, "203.0.113.0/24");
	push(&t->allowed_addresses, "sip.example.com");
	push(&t->allowed_numbers, "+15559999");
	t->auth_username = xs("user");
	t->auth_password = xs("p@ss'word");
	t->auth_realm = xs("switchboard");
	put(&t->headers, "X-A", "1");
	put(&t->headers, "X-B", ODD);
	put(&t->headers_to_attributes, "X-Customer", "customer.id");
	put(&t->attributes_to_headers, "agent.id", "X-Agent");
	put(&t->attributes_to_headers, "empty", "");
	t->include_headers = STORE_X_HEADERS;
	t->ringing_timeout_ms = 30000;
	t->max_call_duration_ms = 3600000;
	t->krisp_enabled = true;
	t->media_encryption = STORE_ENCRYPT_REQUIRE;
}

static void fill_outbound(struct store_outbound_trunk *t)
{
	memset(t, 0, sizeof(*t));
	t->name = xs("Telnyx out");
	t->metadata = xs("{\"k\":1}");
	t->address = xs("sip.telnyx.com:5061");
	t->destination_country = xs("US");
	t->transport = STORE_TRANSPORT_TLS;
	push(&t->numbers, "+15551230000");
	push(&t->numbers, "+15551230001");
	t->auth_username = xs("u");
	t->auth_password = xs("p");
	t->from_host = xs("sb.example.com");
	put(&t->headers, "X-Out", "yes");
	put(&t->headers_to_attributes, "X-Carrier", "carrier");
	put(&t->attributes_to_headers, "lk.id", "X-Id");
	t->include_headers = STORE_ALL_HEADERS;
	t->media_encryption = STORE_ENCRYPT_ALLOW;
}

static void fill_rule(struct store_dispatch_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->rule.kind = STORE_RULE_CALLEE;
	r->rule.room_prefix = xs("call-");
	r->rule.pin = xs("1234");
	r->rule.randomize = true;
	push(&r->trunk_ids, "ST_aaaaaaaaaaaa");
	push(&r->trunk_ids, "ST_bbbbbbbbbbbb");
	r->hide_phone_number = true;
	push(&r->inbound_numbers, "+15550100");
	push(&r->numbers, "+15550200");
	r->name = xs("support");
	r->metadata = xs(ODD);
	put(&r->attributes, "team", "support");
	put(&r->attributes, "agent.url", "wss://agent.example.com/twilio");
	r->room_preset = xs("preset-a");
	r->room_config_json =
	    xs("{\"agents\":[{\"agentName\":\"bob \\\"q\\\"\"}],\"maxParticipants\":3}");
	r->krisp_enabled = true;
	r->media_encryption = STORE_ENCRYPT_ALLOW;
}

static void assert_strv_eq(const struct store_strv *a, const struct store_strv *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_str(a->v[i], b->v[i]);
}

static void assert_map_eq(const struct store_map *a, const struct store_map *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_str(a->v[i].key, b->v[i].key);
		assert_str(a->v[i].value, b->v[i].value);
	}
}

static void assert_inbound_eq(const struct store_inbound_trunk *a,
			      const struct store_inbound_trunk *b)
{
	assert_str(a->id, b->id);
	assert_str(a->name, b->name);
	assert_str(a->metadata, b->metadata);
	assert_strv_eq(&a->numbers, &b->numbers);
	assert_strv_eq(&a->allowed_addresses, &b->allowed_addresses);
	assert_strv_eq(&a->allowed_numbers, &b->allowed_numbers);
	assert_str(a->auth_username, b->auth_username);
	assert_str(a->auth_password, b->auth_password);
	assert_str(a->auth_realm, b->auth_realm);
	assert_map_eq(&a->headers, &b->headers);
	assert_map_eq(&a->headers_to_attributes, &b->headers_to_attributes);
	assert_map_eq(&a->attributes_to_headers, &b->attributes_to_headers);
	assert_int_equal(a->include_headers, b->include_headers);
	assert_int_equal(a->ringing_timeout_ms, b->ringing_timeout_ms);
	assert_int_equal(a->max_call_duration_ms, b->max_call_duration_ms);
	assert_int_equal(a->krisp_enabled, b->krisp_enabled);
	assert_int_equal(a->media_encryption, b->media_encryption);
	assert_int_equal(a->created_at_ms, b->created_at_ms);
	assert_int_equal(a->updated_at_ms, b->updated_at_ms);
}

static void assert_outbound_eq(const struct store_outbound_trunk *a,
			       const struct store_outbound_trunk *b)
{
	assert_str(a->id, b->id);
	assert_str(a->name, b->name);
	assert_str(a->metadata, b->metadata);
	assert_str(a->address, b->address);
	assert_str(a->destination_country, b->destination_country);
	assert_int_equal(a->transport, b->transport);
	assert_strv_eq(&a->numbers, &b->numbers);
	assert_str(a->auth_username, b->auth_username);
	assert_str(a->auth_password, b->auth_password);
	assert_str(a->from_host, b->from_host);
	assert_map_eq(&a->headers, &b->headers);
	assert_map_eq(&a->headers_to_attributes, &b->headers_to_attributes);
	assert_map_eq(&a->attributes_to_headers, &b->attributes_to_headers);
	assert_int_equal(a->include_headers, b->include_headers);
	assert_int_equal(a->media_encryption, b->media_encryption);
	assert_int_equal(a->created_at_ms, b->created_at_ms);
	assert_int_equal(a->updated_at_ms, b->updated_at_ms);
}

static void assert_rule_eq(const struct store_dispatch_rule *a, const struct store_dispatch_rule *b)
{
	assert_str(a->id, b->id);
	assert_int_equal(a->rule.kind, b->rule.kind);
	assert_str(a->rule.room_name, b->rule.room_name);
	assert_str(a->rule.room_prefix, b->rule.room_prefix);
	assert_str(a->rule.pin, b->rule.pin);
	assert_int_equal(a->rule.randomize, b->rule.randomize);
	assert_int_equal(a->rule.no_randomness, b->rule.no_randomness);
	assert_strv_eq(&a->trunk_ids, &b->trunk_ids);
	assert_int_equal(a->hide_phone_number, b->hide_phone_number);
	assert_strv_eq(&a->inbound_numbers, &b->inbound_numbers);
	assert_strv_eq(&a->numbers, &b->numbers);
	assert_str(a->name, b->name);
	assert_str(a->metadata, b->metadata);
	assert_map_eq(&a->attributes, &b->attributes);
	assert_str(a->room_preset, b->room_preset);
	assert_str(a->room_config_json, b->room_config_json);
	assert_int_equal(a->krisp_enabled, b->krisp_enabled);
	assert_int_equal(a->media_encryption, b->media_encryption);
	assert_int_equal(a->created_at_ms, b->created_at_ms);
	assert_int_equal(a->updated_at_ms, b->updated_at_ms);
}

static void assert_call_eq(const struct store_call *a, const struct store_call *b)
{
	assert_str(a->id, b->id);
	assert_str(a->sip_call_id, b->sip_call_id);
	assert_str(a->room_name, b->room_name);
	assert_str(a->participant_identity, b->participant_identity);
	assert_int_equal(a->direction, b->direction);
	assert_str(a->from_number, b->from_number);
	assert_str(a->to_number, b->to_number);
	assert_str(a->trunk_id, b->trunk_id);
	assert_str(a->dispatch_rule_id, b->dispatch_rule_id);
	assert_int_equal(a->started_at_ms, b->started_at_ms);
	assert_int_equal(a->answered_at_ms, b->answered_at_ms);
	assert_int_equal(a->ended_at_ms, b->ended_at_ms);
	assert_int_equal(a->sip_code, b->sip_code);
	assert_str(a->reason, b->reason);
	assert_int_equal(a->status, b->status);
	assert_int_equal(a->n_transfers, b->n_transfers);
	for (size_t i = 0; i < a->n_transfers; i++) {
		assert_int_equal(a->transfers[i].at_ms, b->transfers[i].at_ms);
		assert_str(a->transfers[i].target, b->transfers[i].target);
		assert_int_equal(a->transfers[i].sip_code, b->transfers[i].sip_code);
		assert_str(a->transfers[i].reason, b->transfers[i].reason);
	}
}

static void fill_call(struct store_call *c, const char *id, const char *room, int64_t start)
{
	memset(c, 0, sizeof(*c));
	c->id = xs(id);
	c->sip_call_id = xs("a84b4c76e66710@pc33.example.com");
	c->room_name = xs(room);
	c->participant_identity = xs("sip_+15550001");
	c->direction = STORE_CALL_INBOUND;
	c->from_number = xs("+15550001");
	c->to_number = xs("+15550002");
	c->trunk_id = xs("ST_aaaaaaaaaaaa");
	c->dispatch_rule_id = xs("SDR_aaaaaaaaaaaa");
	c->started_at_ms = start;
	c->status = STORE_CALL_INCOMING;
}

/* ---- tests ---- */

static int64_t user_version(void)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	sqlite3 *db;
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void test_open_migrate_reopen(void **state)
{
	(void)state;
	struct store *s = open_store();
	size_t n = 99;
	assert_null(store_inbound_trunks(s, &n));
	assert_int_equal(n, 0);
	close_store(s);
	assert_int_equal(user_version(), 2); /* the latest schema */

	/* a zero-byte file is an empty database: migrated from version 0 */
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	assert_int_equal(remove(path), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	s = open_store();
	struct done d = {0};
	struct store_inbound_trunk t = {0}, got = {0};
	push(&t.numbers, "+1");
	assert_int_equal(store_inbound_trunk_create(s, &t, &got, on_done, &d), 0);
	wait_done(&d, 1);
	assert_int_equal(d.err, 0);
	close_store(s);

	/* a re-open does not migrate again and keeps the data */
	s = open_store();
	assert_int_equal(user_version(), 2); /* the latest schema */
	struct store_inbound_trunk again;
	assert_int_equal(store_inbound_trunk_get(s, got.id, &again), 0);
	assert_inbound_eq(&again, &got);
	close_store(s);
	store_inbound_trunk_free(&t);
	store_inbound_trunk_free(&got);
	store_inbound_trunk_free(&again);
}

static void test_inbound_roundtrip(void **state)
{
	(void)state;
	struct store *s = open_store();
	struct store_inbound_trunk t, made, got;
	fill_inbound(&t);
	struct done d = {0};
	assert_int_equal(store_inbound_trunk_create(s, &t, &made, on_done, &d), 0);
	assert_int_equal(d.calls, 0); /* never from inside the call */
	assert_int_equal(strncmp(made.id, "ST_", 3), 0);
	assert_int_equal(strlen(made.id), 3 + STORE_ID_RANDOM);
	assert_true(made.created_at_ms > 0);
	assert_int_equal(made.created_at_ms, made.updated_at_ms);
	/* readable at once, before the write lands */
	assert_int_equal(store_inbound_trunk_get(s, made.id, &got), 0);
	assert_inbound_eq(&got, &made);
	store_inbound_trunk_free(&got);
	wait_done(&d, 1);
	assert_int_equal(d.err, 0);
	close_store(s);

	s = open_store();
	assert_int_equal(store_inbound_trunk_get(s, made.id, &got), 0);
	assert_inbound_eq(&got, &made);
	store_inbound_trunk_free(&got);
	close_store(s);
	store_inbound_trunk_free(&t);
	store_inbound_trunk_free(&made);
}

static void test_outbound_roundtrip(void **state)
{
	(void)state;
	struct store *s = open_store();
	struct store_outbound_trunk t, made, got;
	fill_outbound(&t);
	struct done d = {0};
	assert_int_equal(store_outbound_trunk_create(s, &t, &made, on_done, &d), 0);
	wait_done(&d, 1);
	assert_int_equal(d.err, 0);
	close_store(s);

	s = open_store();
	assert_int_equal(store_outbound_trunk_get(s, made.id, &got), 0);
	assert_outbound_eq(&got, &made);
	/* an outbound id is not an inbound trunk */
	struct store_inbound_trunk in;
	assert_int_equal(store_inbound_trunk_get(s, made.id, &in), SB_ENOTFOUND);
	store_outbound_trunk_free(&got);
	close_store(s);
	store_outbound_trunk_free(&t);
	store_outbound_trunk_free(&made);
}

static void test_rule_roundtrip(void **state)
{
	(void)state;
	struct store *s = open_store();
	struct store_dispatch_rule r, made, got;
	fill_rule(&r);
	struct done d = {0};
	assert_int_equal(store_dispatch_rule_create(s, &r, &made, on_done, &d), 0);
	assert_int_equal(strncmp(made.id, "SDR_", 4), 0);
	wait_done(&d, 1);
	assert_int_equal(d.err, 0);
	/* a direct rule with the other members empty */
	struct store_dispatch_rule direct = {.rule = {.kind = STORE_RULE_DIRECT}}, made2;
	direct.rule.room_name = xs("lobby");
	direct.rule.no_randomness = true;
	assert_int_equal(store_dispatch_rule_create(s, &direct, &made2, on_done, &d), 0);
	wait_done(&d, 2);
	close_store(s);

	s = open_store();
	assert_int_equal(store_dispatch_rule_get(s, made.id, &got), 0);
	assert_rule_eq(&got, &made);
	store_dispatch_rule_free(&got);
	assert_int_equal(store_dispatch_rule_get(s, made2.id, &got), 0);
	assert_rule_eq(&got, &made2);
	assert_string_equal(got.room_config_json, "");
	assert_string_equal(got.rule.pin, "");
	store_dispatch_rule_free(&got);
	close_store(s);
	store_dispatch_rule_free(&r);
	store_dispatch_rule_free(&made);
	store_dispatch_rule_free(&direct);
	store_dispatch_rule_free(&made2);
}

static void test_replace_delete(void **state)
{
	(void)state;
	struct store *s = open_store();
	struct done d = {0};
	struct store_inbound_trunk in, in_made;
	fill_inbound(&in);
	assert_int_equal(store_inbound_trunk_create(s, &in, &in_made, on_done, &d), 0);
	struct store_outbound_trunk out, out_made;
	fill_outbound(&out);
	assert_int_equal(store_outbound_trunk_create(s, &out, &out_made, on_done, &d), 0);
	struct store_dispatch_rule r, r_made;
	fill_rule(&r);
	assert_int_equal(store_dispatch_rule_create(s, &r, &r_made, on_done, &d), 0);
	wait_done(&d, 3);
	assert_int_equal(d.errors, 0);

	/* bad requests fail at once and never call back */
	assert_int_equal(store_inbound_trunk_create(s, &in_made, NULL, on_done, &d), SB_EINVAL);
	assert_int_equal(store_inbound_trunk_replace(s, &in, NULL, on_done, &d), SB_EINVAL);
	struct store_inbound_trunk ghost = {.id = "ST_nosuchtrunk0"};
	assert_int_equal(store_inbound_trunk_replace(s, &ghost, NULL, on_done, &d), SB_ENOTFOUND);
	struct store_dispatch_rule norule = {0};
	assert_int_equal(store_dispatch_rule_create(s, &norule, NULL, on_done, &d), SB_EINVAL);
	struct store_outbound_trunk badenum = {.transport = (enum store_transport)7};
	assert_int_equal(store_outbound_trunk_create(s, &badenum, NULL, on_done, &d), SB_EINVAL);
	assert_int_equal(store_trunk_delete(s, "ST_nosuchtrunk0", on_done, &d), SB_ENOTFOUND);
	assert_int_equal(store_dispatch_rule_delete(s, "SDR_nosuchrule", on_done, &d),
			 SB_ENOTFOUND);

	/* replace: fewer list items and map entries than before, created_at kept */
	store_strv_free(&in_made.numbers);
	push(&in_made.numbers, "+15550003");
	store_map_free(&in_made.headers);
	free(in_made.name);
	in_made.name = xs("renamed");
	in_made.created_at_ms -= 5000;
	struct store_inbound_trunk in_new;
	assert_int_equal(store_inbound_trunk_replace(s, &in_made, &in_new, on_done, &d), 0);
	assert_int_equal(in_new.created_at_ms, in_made.created_at_ms + 5000);
	assert_string_equal(in_new.name, "renamed");
	/* delete the outbound trunk through the shared trunk call, and the rule */
	assert_int_equal(store_trunk_delete(s, out_made.id, on_done, &d), 0);
	assert_int_equal(store_dispatch_rule_delete(s, r_made.id, on_done, &d), 0);
	struct store_outbound_trunk o;
	assert_int_equal(store_outbound_trunk_get(s, out_made.id, &o), SB_ENOTFOUND);
	assert_int_equal(d.calls, 3);
	wait_done(&d, 6);
	assert_int_equal(d.errors, 0);
	close_store(s);

	s = open_store();
	struct store_inbound_trunk got;
	assert_int_equal(store_inbound_trunk_get(s, in_new.id, &got), 0);
	assert_inbound_eq(&got, &in_new);
	assert_int_equal(got.headers.n, 0);
	assert_int_equal(got.numbers.n, 1);
	store_inbound_trunk_free(&got);
	size_t n;
	store_outbound_trunks(s, &n);
	assert_int_equal(n, 0);
	store_dispatch_rules(s, &n);
	assert_int_equal(n, 0);
	/* then the inbound trunk goes too */
	assert_int_equal(store_trunk_delete(s, in_new.id, on_done, &d), 0);
	wait_done(&d, 7);
	close_store(s);
	s = open_store();
	store_inbound_trunks(s, &n);
	assert_int_equal(n, 0);
	close_store(s);

	store_inbound_trunk_free(&in);
	store_inbound_trunk_free(&in_made);
	store_inbound_trunk_free(&in_new);
	store_outbound_trunk_free(&out);
	store_outbound_trunk_free(&out_made);
	store_dispatch_rule_free(&r);
	store_dispatch_rule_free(&r_made);
}

/* put: records under ids chosen outside the API, created then replaced, kept over a re-open */
static void test_put_with_id(void **state)
{
	(void)state;
	assert_true(store_id_valid("ST_office", STORE_TRUNK_PFX));
	assert_true(store_id_valid("SDR_a-b_9", STORE_RULE_PFX));
	assert_false(store_id_valid("ST_", STORE_TRUNK_PFX));
	assert_false(store_id_valid("SDR_x", STORE_TRUNK_PFX));
	assert_false(store_id_valid("ST_a b", STORE_TRUNK_PFX));
	assert_false(store_id_valid(NULL, STORE_TRUNK_PFX));
	char longid[STORE_ID_MAX + 1];
	memset(longid, 'a', sizeof(longid) - 1);
	memcpy(longid, "ST_", 3);
	longid[STORE_ID_MAX] = 0;
	assert_false(store_id_valid(longid, STORE_TRUNK_PFX));
	longid[STORE_ID_MAX - 1] = 0;
	assert_true(store_id_valid(longid, STORE_TRUNK_PFX));

	struct store *s = open_store();
	struct done d = {0};
	struct store_inbound_trunk in, made;
	fill_inbound(&in);
	/* no id, a bad id, another prefix: refused at once */
	assert_int_equal(store_inbound_trunk_put(s, &in, NULL, on_done, &d), SB_EINVAL);
	in.id = xs("SDR_office");
	assert_int_equal(store_inbound_trunk_put(s, &in, NULL, on_done, &d), SB_EINVAL);
	free(in.id);
	in.id = xs("ST_office");
	assert_int_equal(store_inbound_trunk_put(s, &in, &made, on_done, &d), 0);
	assert_string_equal(made.id, "ST_office");
	assert_true(made.created_at_ms > 0);
	assert_int_equal(made.updated_at_ms, made.created_at_ms);
	/* an API-made trunk beside it is left alone */
	struct store_inbound_trunk other = {0}, other_made;
	push(&other.numbers, "+15550999");
	assert_int_equal(store_inbound_trunk_create(s, &other, &other_made, on_done, &d), 0);
	/* the same id again replaces, keeping created_at */
	free(in.name);
	in.name = xs("office v2");
	in.created_at_ms = 1;
	struct store_inbound_trunk made2;
	assert_int_equal(store_inbound_trunk_put(s, &in, &made2, on_done, &d), 0);
	assert_int_equal(made2.created_at_ms, made.created_at_ms);
	assert_string_equal(made2.name, "office v2");
	size_t n;
	store_inbound_trunks(s, &n);
	assert_int_equal(n, 2);
	/* the ST_ namespace is shared: an outbound trunk cannot take it */
	struct store_outbound_trunk out;
	fill_outbound(&out);
	out.id = xs("ST_office");
	assert_int_equal(store_outbound_trunk_put(s, &out, NULL, on_done, &d), SB_EEXISTS);
	free(out.id);
	out.id = xs("ST_twilio");
	assert_int_equal(store_outbound_trunk_put(s, &out, NULL, on_done, &d), 0);
	struct store_dispatch_rule r;
	fill_rule(&r);
	r.id = xs("SDR_support");
	assert_int_equal(store_dispatch_rule_put(s, &r, NULL, on_done, &d), 0);
	assert_int_equal(store_dispatch_rule_put(s, &r, NULL, on_done, &d), 0);
	wait_done(&d, 6);
	assert_int_equal(d.errors, 0);
	close_store(s);

	s = open_store();
	struct store_inbound_trunk got;
	assert_int_equal(store_inbound_trunk_get(s, "ST_office", &got), 0);
	assert_inbound_eq(&got, &made2);
	store_inbound_trunk_free(&got);
	assert_int_equal(store_inbound_trunk_get(s, other_made.id, &got), 0);
	store_inbound_trunk_free(&got);
	struct store_outbound_trunk og;
	assert_int_equal(store_outbound_trunk_get(s, "ST_twilio", &og), 0);
	assert_string_equal(og.address, out.address);
	store_outbound_trunk_free(&og);
	struct store_dispatch_rule rg;
	assert_int_equal(store_dispatch_rule_get(s, "SDR_support", &rg), 0);
	assert_string_equal(rg.rule.room_prefix, "call-");
	store_dispatch_rule_free(&rg);
	store_dispatch_rules(s, &n);
	assert_int_equal(n, 1);
	close_store(s);

	store_inbound_trunk_free(&in);
	store_inbound_trunk_free(&made);
	store_inbound_trunk_free(&made2);
	store_inbound_trunk_free(&other);
	store_inbound_trunk_free(&other_made);
	store_outbound_trunk_free(&out);
	store_dispatch_rule_free(&r);
}

static char *make_inbound(struct store *s, const char *num1, const char *num2)
{
	struct store_inbound_trunk t = {0}, made;
	if (num1)
		push(&t.numbers, num1);
	if (num2)
		push(&t.numbers, num2);
	assert_int_equal(store_inbound_trunk_create(s, &t, &made, NULL, NULL), 0);
	char *id = xs(made.id);
	store_inbound_trunk_free(&t);
	store_inbound_trunk_free(&made);
	return id;
}

static char *make_rule(struct store *s, const char *trunk)
{
	struct store_dispatch_rule r = {.rule = {.kind = STORE_RULE_INDIVIDUAL}}, made;
	if (trunk)
		push(&r.trunk_ids, trunk);
	assert_int_equal(store_dispatch_rule_create(s, &r, &made, NULL, NULL), 0);
	char *id = xs(made.id);
	store_dispatch_rule_free(&r);
	store_dispatch_rule_free(&made);
	return id;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_list_filters(void **state)
{
	(void)state;
	struct store *s = open_store();
	char *a = make_inbound(s, "+1", "+2");
	char *b = make_inbound(s, NULL, NULL); /* no numbers: matches any number */
	char *c = make_inbound(s, "+3", NULL);
	char *sorted[] = {a, b, c};
	qsort(sorted, 3, sizeof(sorted[0]), cmp_str);

	struct store_inbound_trunk_list l;
	assert_int_equal(store_inbound_trunk_list(s, NULL, &l), 0);
	assert_int_equal(l.n, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(l.v[i].id, sorted[i]);
	store_inbound_trunk_list_free(&l);

	const char *num2[] = {"+2"};
	struct store_filter f = {.numbers = num2, .n_numbers = 1};
	assert_int_equal(store_inbound_trunk_list(s, &f, &l), 0);
	assert_int_equal(l.n, 2);
	for (size_t i = 0; i < l.n; i++)
		assert_true(strcmp(l.v[i].id, a) == 0 || strcmp(l.v[i].id, b) == 0);
	store_inbound_trunk_list_free(&l);

	/* ids: request order, an empty slot for an unknown id */
	const char *ids[] = {c, "ST_unknown00000", a};
	f = (struct store_filter){.ids = ids, .n_ids = 3};
	assert_int_equal(store_inbound_trunk_list(s, &f, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].id, c);
	assert_null(l.v[1].id);
	assert_string_equal(l.v[2].id, a);
	store_inbound_trunk_list_free(&l);
	/* ids and numbers: a known trunk that fails the number filter is left out */
	f.numbers = num2;
	f.n_numbers = 1;
	assert_int_equal(store_inbound_trunk_list(s, &f, &l), 0);
	assert_int_equal(l.n, 2);
	assert_null(l.v[0].id);
	assert_string_equal(l.v[1].id, a);
	store_inbound_trunk_list_free(&l);

	/* pages */
	f = (struct store_filter){.after_id = sorted[0], .limit = 1};
	assert_int_equal(store_inbound_trunk_list(s, &f, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, sorted[1]);
	store_inbound_trunk_list_free(&l);
	f = (struct store_filter){.after_id = sorted[2]};
	assert_int_equal(store_inbound_trunk_list(s, &f, &l), 0);
	assert_int_equal(l.n, 0);
	store_inbound_trunk_list_free(&l);

	/* outbound trunks filter by their numbers the same way */
	struct store_outbound_trunk ot = {0}, om;
	push(&ot.numbers, "+9");
	assert_int_equal(store_outbound_trunk_create(s, &ot, &om, NULL, NULL), 0);
	struct store_outbound_trunk_list ol;
	f = (struct store_filter){.numbers = num2, .n_numbers = 1};
	assert_int_equal(store_outbound_trunk_list(s, &f, &ol), 0);
	assert_int_equal(ol.n, 0);
	store_outbound_trunk_list_free(&ol);
	const char *num9[] = {"+8", "+9"};
	f.numbers = num9;
	f.n_numbers = 2;
	assert_int_equal(store_outbound_trunk_list(s, &f, &ol), 0);
	assert_int_equal(ol.n, 1);
	assert_string_equal(ol.v[0].id, om.id);
	store_outbound_trunk_list_free(&ol);
	store_outbound_trunk_free(&ot);
	store_outbound_trunk_free(&om);

	/* rules by trunk: wildcard rules (no trunk_ids) always match */
	char *r1 = make_rule(s, a);
	char *r2 = make_rule(s, NULL);
	char *r3 = make_rule(s, c);
	struct store_dispatch_rule_list rl;
	const char *ta[] = {a};
	f = (struct store_filter){.trunk_ids = ta, .n_trunk_ids = 1};
	assert_int_equal(store_dispatch_rule_list(s, &f, &rl), 0);
	assert_int_equal(rl.n, 2);
	for (size_t i = 0; i < rl.n; i++)
		assert_true(strcmp(rl.v[i].id, r1) == 0 || strcmp(rl.v[i].id, r2) == 0);
	store_dispatch_rule_list_free(&rl);
	const char *rids[] = {r3, "SDR_unknown0000"};
	f = (struct store_filter){.ids = rids, .n_ids = 2};
	assert_int_equal(store_dispatch_rule_list(s, &f, &rl), 0);
	assert_int_equal(rl.n, 2);
	assert_string_equal(rl.v[0].id, r3);
	assert_null(rl.v[1].id);
	store_dispatch_rule_list_free(&rl);
	size_t n;
	const struct store_dispatch_rule *all = store_dispatch_rules(s, &n);
	assert_int_equal(n, 3);
	assert_true(strcmp(all[0].id, all[1].id) < 0 && strcmp(all[1].id, all[2].id) < 0);

	close_store(s);
	free(a);
	free(b);
	free(c);
	free(r1);
	free(r2);
	free(r3);
}

static void test_calls(void **state)
{
	(void)state;
	struct store *s = open_store();
	struct done d = {0};
	struct store_call c1, c2, c3;
	fill_call(&c1, "SCL_one", "room-a", 1000);
	struct store_transfer t1 = {
	    .at_ms = 1500, .target = "sip:bob@example.com", .sip_code = 486, .reason = "Busy Here"};
	struct store_transfer t2 = {
	    .at_ms = 1600, .target = "tel:+15550009", .sip_code = 200, .reason = ODD};
	assert_int_equal(store_call_push_transfer(&c1, &t1), 0);
	assert_int_equal(store_call_push_transfer(&c1, &t2), 0);
	fill_call(&c2, "SCL_two", "room-b", 2000);
	c2.direction = STORE_CALL_OUTBOUND;
	fill_call(&c3, "SCL_three", "room-a", 3000);
	assert_int_equal(store_call_put(s, &c1, on_done, &d), 0);
	assert_int_equal(store_call_put(s, &c2, on_done, &d), 0);
	assert_int_equal(store_call_put(s, &c3, on_done, &d), 0);
	/* queries queue behind the writes, so they see them */
	struct got g = {0};
	assert_int_equal(store_call_get(s, "SCL_one", on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(d.calls, 3);
	assert_int_equal(g.err, 0);
	assert_int_equal(g.n, 1);
	assert_call_eq(&g.v[0], &c1);
	got_free(&g);

	assert_int_equal(store_call_list_recent(s, 2, on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.v[0].id, "SCL_three");
	assert_string_equal(g.v[1].id, "SCL_two");
	got_free(&g);
	assert_int_equal(store_call_list_room(s, "room-a", 0, on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.n, 2);
	assert_call_eq(&g.v[0], &c3);
	assert_call_eq(&g.v[1], &c1);
	got_free(&g);
	assert_int_equal(store_call_list_room(s, "room-none", 0, on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.err, 0);
	assert_int_equal(g.n, 0);
	got_free(&g);
	assert_int_equal(store_call_get(s, "SCL_nope", on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.err, SB_ENOTFOUND);
	assert_int_equal(g.n, 0);
	got_free(&g);

	/* the call is answered, ends, and its transfers are rewritten by a put */
	c1.answered_at_ms = 1100;
	c1.ended_at_ms = 9000;
	c1.sip_code = 200;
	free(c1.reason);
	c1.reason = xs("OK");
	c1.status = STORE_CALL_DISCONNECTED;
	store_transfer_free(&c1.transfers[1]);
	c1.n_transfers = 1;
	assert_int_equal(store_call_put(s, &c1, on_done, &d), 0);
	/* then one more transfer appended on its own */
	struct store_transfer t3 = {
	    .at_ms = 8000, .target = "sip:carol@example.com", .sip_code = 603, .reason = "Decline"};
	assert_int_equal(store_call_add_transfer(s, "SCL_one", &t3, on_done, &d), 0);
	assert_int_equal(store_call_push_transfer(&c1, &t3), 0);
	/* a transfer for a call that is not stored: the failure comes back, not lost */
	assert_int_equal(store_call_add_transfer(s, "SCL_nope", &t3, on_done, &d), 0);
	wait_done(&d, 6);
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.err, SB_ENOTFOUND);
	struct store_stats st;
	store_get_stats(s, &st);
	assert_int_equal(st.writes_ok, 5);
	assert_int_equal(st.writes_failed, 1);
	assert_int_equal(st.queued, 0);
	struct store_call bad = {0};
	assert_int_equal(store_call_put(s, &bad, on_done, &d), SB_EINVAL);
	assert_int_equal(store_call_get(s, "x", NULL, NULL), SB_EINVAL);
	close_store(s);

	s = open_store();
	assert_int_equal(store_call_get(s, "SCL_one", on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.n, 1);
	assert_call_eq(&g.v[0], &c1);
	assert_int_equal(g.v[0].n_transfers, 2);
	assert_string_equal(g.v[0].transfers[1].target, "sip:carol@example.com");
	got_free(&g);
	close_store(s);
	store_call_free(&c1);
	store_call_free(&c2);
	store_call_free(&c3);
}

#define MANY 2000

static void test_close_drains(void **state)
{
	(void)state;
	struct store *s = open_store();
	struct done d = {0};
	for (int i = 0; i < MANY; i++) {
		char id[32];
		snprintf(id, sizeof(id), "SCL_%06d", i);
		struct store_call c;
		fill_call(&c, id, i % 2 ? "odd" : "even", i);
		assert_int_equal(store_call_put(s, &c, on_done, &d), 0);
		store_call_free(&c);
	}
	for (int i = 0; i < 20; i++) {
		struct store_inbound_trunk t;
		fill_inbound(&t);
		assert_int_equal(store_inbound_trunk_create(s, &t, NULL, on_done, &d), 0);
		store_inbound_trunk_free(&t);
	}
	/* close at once: every queued write still lands and reports */
	struct store_stats st;
	store_get_stats(s, &st);
	assert_true(st.queued > 0);
	bool closed = false;
	store_close(s, set_flag, &closed);
	struct store_call late = {.id = "SCL_late"};
	assert_int_equal(store_call_put(s, &late, on_done, &d), SB_ECLOSED);
	assert_true(run_until(flag_set, &closed, 10000));
	assert_int_equal(d.calls, MANY + 20);
	assert_int_equal(d.errors, 0);
	assert_false(d.off_loop);

	s = open_store();
	size_t n;
	store_inbound_trunks(s, &n);
	assert_int_equal(n, 20);
	struct got g = {0};
	assert_int_equal(store_call_list_recent(s, MANY * 2, on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.n, MANY);
	assert_string_equal(g.v[0].id, "SCL_001999");
	got_free(&g);
	assert_int_equal(store_call_list_room(s, "odd", MANY, on_calls, &g), 0);
	wait_got(&g);
	assert_int_equal(g.n, MANY / 2);
	got_free(&g);
	close_store(s);
}

/* The store used the way the control loop will: operations issued from timer and completion
 * callbacks of a loop run with UV_RUN_DEFAULT, closed from a callback; uv_run returns only
 * once the store has let go of the loop. */
struct chain {
	struct store *s;
	uv_timer_t timer;
	int ticks;
	int writes_done;
	int queries_done;
	int rows_seen;
	bool closed;
	bool off_loop;
};

static void chain_closed(void *arg)
{
	struct chain *c = arg;
	c->closed = true;
}

static void chain_rows(void *arg, int err, const struct store_call *calls, size_t n)
{
	struct chain *c = arg;
	if (!on_loop_thread() || err)
		c->off_loop = true;
	c->queries_done++;
	c->rows_seen = (int)n;
	(void)calls;
	if (c->queries_done == 50)
		store_close(c->s, chain_closed, c);
}

static void chain_written(void *arg, int err)
{
	struct chain *c = arg;
	if (!on_loop_thread() || err)
		c->off_loop = true;
	c->writes_done++;
	/* re-entering the store from its own callback */
	assert_int_equal(store_call_list_recent(c->s, 1000, chain_rows, c), 0);
}

static void chain_tick(uv_timer_t *t)
{
	struct chain *c = t->data;
	char id[32];
	snprintf(id, sizeof(id), "SCL_chain%03d", c->ticks);
	struct store_call call;
	fill_call(&call, id, "chain", c->ticks);
	assert_int_equal(store_call_put(c->s, &call, chain_written, c), 0);
	store_call_free(&call);
	if (++c->ticks == 50)
		uv_close((uv_handle_t *)t, NULL);
}

static void test_running_loop(void **state)
{
	(void)state;
	struct chain c = {.s = open_store()};
	uv_timer_init(&loop, &c.timer);
	c.timer.data = &c;
	uv_timer_start(&c.timer, chain_tick, 1, 1);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(c.closed);
	assert_false(c.off_loop);
	assert_int_equal(c.writes_done, 50);
	assert_int_equal(c.queries_done, 50);
	assert_int_equal(c.rows_seen, 50); /* the last query saw every write before it */
}

static void test_queue_full(void **state)
{
	(void)state;
	struct store_opts o = {.queue_max = 4};
	struct store *s = open_store_opts(&o);
	struct done d = {0};
	struct store_dispatch_rule r = {.rule = {.kind = STORE_RULE_DIRECT}};
	for (int i = 0; i < 4; i++)
		assert_int_equal(store_dispatch_rule_create(s, &r, NULL, on_done, &d), 0);
	/* completions come back only through the loop, which has not run */
	assert_int_equal(store_dispatch_rule_create(s, &r, NULL, on_done, &d), SB_EBUSY);
	size_t n;
	store_dispatch_rules(s, &n);
	assert_int_equal(n, 4); /* a refused write leaves memory alone */
	wait_done(&d, 4);
	assert_int_equal(store_dispatch_rule_create(s, &r, NULL, on_done, &d), 0);
	wait_done(&d, 5);
	assert_int_equal(d.errors, 0);
	close_store(s);
}

static void test_write_fails_when_locked(void **state)
{
	(void)state;
	struct store_opts o = {.busy_timeout_ms = 20};
	struct store *s = open_store_opts(&o);
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	sqlite3 *other;
	assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);

	struct done d = {0};
	struct store_outbound_trunk t;
	fill_outbound(&t);
	assert_int_equal(store_outbound_trunk_create(s, &t, NULL, on_done, &d), 0);
	wait_done(&d, 1);
	assert_int_equal(d.err, SB_EBUSY);
	struct store_stats st;
	store_get_stats(s, &st);
	assert_int_equal(st.writes_failed, 1);

	/* once the other writer is gone, writes land again */
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	assert_int_equal(store_outbound_trunk_create(s, &t, NULL, on_done, &d), 0);
	wait_done(&d, 2);
	assert_int_equal(d.err, 0);
	close_store(s);
	store_outbound_trunk_free(&t);
}

static void test_open_errors(void **state)
{
	(void)state;
	char eb[256];
	char path[128];
	struct store *s = NULL;
	struct store_opts o = {.loop = &loop, .errbuf = eb, .errbuf_len = sizeof(eb)};

	snprintf(path, sizeof(path), "%s/missing", dir);
	o.dir = path;
	assert_int_equal(store_open(&s, &o), SB_ENOTFOUND);
	assert_null(s);
	assert_non_null(strstr(eb, path));

	FILE *f = fopen(path, "w"); /* now a file, not a directory */
	assert_non_null(f);
	fclose(f);
	assert_int_equal(store_open(&s, &o), SB_EINVAL);
	assert_non_null(strstr(eb, "not a directory"));
	remove(path);

	o.dir = dir;
	snprintf(path, sizeof(path), "%s/%s", dir, STORE_DB_NAME);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 64; i++)
		fputs("this is not a database file ", f);
	fclose(f);
	assert_int_equal(store_open(&s, &o), SB_EIO);
	assert_non_null(strstr(eb, "not a database"));
	remove(path);

	/* a schema newer than this build is refused, not damaged */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&s, &o), SB_EUNSUPPORTED);
	assert_non_null(strstr(eb, "newer"));
	assert_int_equal(user_version(), 99);
	remove(path);

	if (geteuid() != 0) { /* root writes anywhere */
		assert_int_equal(chmod(dir, 0500), 0);
		assert_int_equal(store_open(&s, &o), SB_EIO);
		assert_non_null(strstr(eb, "not writable"));
		assert_int_equal(chmod(dir, 0700), 0);
	}

	o.backend = "postgres";
	assert_int_equal(store_open(&s, &o), SB_EUNSUPPORTED);
	o.backend = NULL;
	o.loop = NULL;
	assert_int_equal(store_open(&s, &o), SB_EINVAL);
	assert_null(s);
}

static void test_records_and_ids(void **state)
{
	(void)state;
	char id[STORE_ID_MAX], prev[STORE_ID_MAX] = "";
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(store_new_id(id, "SCL_"), 0);
		assert_int_equal(strlen(id), 4 + STORE_ID_RANDOM);
		assert_int_equal(strncmp(id, "SCL_", 4), 0);
		assert_int_equal(
		    strspn(id + 4, "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"),
		    STORE_ID_RANDOM);
		assert_string_not_equal(id, prev);
		strcpy(prev, id);
	}
	char longp[STORE_ID_MAX];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(store_new_id(id, longp), SB_EINVAL);

	struct store_map m = {0};
	put(&m, "a", "1");
	put(&m, "b", "2");
	put(&m, "a", "3");
	assert_int_equal(m.n, 2);
	assert_string_equal(store_map_get(&m, "a"), "3");
	assert_null(store_map_get(&m, "c"));
	assert_int_equal(store_map_set(&m, NULL, "x"), SB_EINVAL);
	store_map_free(&m);

	/* copies turn NULL strings into "" and own everything */
	struct store_inbound_trunk t = {0}, c;
	push(&t.numbers, "+1");
	assert_true(store_strv_contains(&t.numbers, "+1"));
	assert_false(store_strv_contains(&t.numbers, "+2"));
	assert_int_equal(store_inbound_trunk_copy(&c, &t), 0);
	assert_string_equal(c.name, "");
	assert_string_equal(c.id, "");
	assert_ptr_not_equal(c.numbers.v, t.numbers.v);
	store_inbound_trunk_free(&c);
	store_inbound_trunk_free(&t);
	store_inbound_trunk_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_migrate_reopen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inbound_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_outbound_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replace_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_with_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_calls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_drains, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_running_loop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_fails_when_locked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test(test_records_and_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
