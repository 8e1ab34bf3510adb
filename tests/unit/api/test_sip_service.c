/* Unit tests for src/api/sip_service.c: the livekit.SIP handlers through twirp_serve against a
 * real SQLite store on a libuv loop: answers come from memory at once, writes land later. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/sip_service.h"
#include "base/err.h"

#define NOW 1700000000u

static uint64_t fixed_now(void)
{
	return NOW;
}

struct fx {
	uv_loop_t loop;
	char dir[64];
	struct store *store;
	struct twirp_server *ts;
	char *auth;
};

static void open_store(struct fx *f)
{
	struct store_opts o = {.loop = &f->loop, .dir = f->dir};
	assert_int_equal(store_open(&f->store, &o), 0);
}

static void closed(void *arg)
{
	*(bool *)arg = true;
}

static void close_store(struct fx *f)
{
	bool done = false;
	store_close(f->store, closed, &done);
	while (!done)
		uv_run(&f->loop, UV_RUN_ONCE);
	f->store = NULL;
}

/* Run the loop until every queued write has landed. */
static void drain(struct fx *f)
{
	struct store_stats st;
	for (store_get_stats(f->store, &st); st.queued; store_get_stats(f->store, &st))
		uv_run(&f->loop, UV_RUN_ONCE);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sb-sipsvc-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	open_store(f);
	static const struct api_key k[] = {{"devkey", "secret"}};
	static const struct api_keyring ring = {k, 1};
	struct twirp_opts o = {.keys = &ring, .now = fixed_now};
	assert_int_equal(twirp_new(&f->ts, &o), 0);
	assert_int_equal(sip_service_register(f->ts, f->store), 0);
	struct api_claims g = {.has_video = true, .has_sip = true, .sip = {.admin = true}};
	struct api_token_opts to = {.key = "devkey", .secret = "secret", .now = NOW, .grants = &g};
	char *t = NULL;
	assert_int_equal(api_token_create(&to, &t), 0);
	f->auth = malloc(strlen(t) + 8);
	assert_non_null(f->auth);
	sprintf(f->auth, "Bearer %s", t);
	free(t);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	twirp_free(f->ts);
	if (f->store)
		close_store(f);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", f->dir, STORE_DB_NAME);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-wal", f->dir, STORE_DB_NAME);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s-shm", f->dir, STORE_DB_NAME);
	unlink(path);
	rmdir(f->dir);
	free(f->auth);
	free(f);
	return 0;
}

/* POST /twirp/livekit.SIP/<method>; the parsed body (owned by the caller) and *status. */
static json_t *rpc(struct fx *f, const char *method, const char *body, int *status)
{
	char path[128];
	snprintf(path, sizeof(path), "/twirp/livekit.SIP/%s", method);
	struct api_http_req req = {
	    .method = SB_SLICE_LIT("POST"),
	    .path = sb_slice_cstr(path),
	    .content_type = SB_SLICE_LIT("application/json"),
	    .authorization = sb_slice_cstr(f->auth),
	    .body = sb_slice_cstr(body),
	};
	struct api_http_resp resp = {.status = 200, .content_type = "text/plain"};
	sb_buf_init(&resp.body, NULL, 0);
	twirp_serve(&req, &resp, f->ts);
	*status = resp.status;
	assert_string_equal(resp.content_type, "application/json");
	json_t *j = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	assert_non_null(j);
	sb_buf_free(&resp.body);
	return j;
}

static const char *str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	assert_non_null(v);
	return v;
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	int st;
	json_t *t = rpc(f, "CreateSIPInboundTrunk",
			"{\"trunk\":{\"name\":\"a\",\"numbers\":[\"+1\"]}}", &st);
	assert_int_equal(st, 200);
	char id[STORE_ID_MAX];
	snprintf(id, sizeof(id), "%s", str(t, "sip_trunk_id"));
	assert_int_equal(strncmp(id, "ST_", 3), 0);
	json_decref(t);

	/* answered from memory before the write has landed */
	char body[128];
	snprintf(body, sizeof(body), "{\"sipTrunkId\":\"%s\"}", id);
	json_t *g = rpc(f, "GetSIPInboundTrunk", body, &st);
	assert_int_equal(st, 200);
	assert_string_equal(str(json_object_get(g, "trunk"), "name"), "a");
	json_decref(g);
	drain(f);
	struct store_stats ss;
	store_get_stats(f->store, &ss);
	assert_int_equal(ss.writes_ok, 1);
	assert_int_equal(ss.writes_failed, 0);

	json_t *r =
	    rpc(f, "CreateSIPDispatchRule",
		"{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"x\"}},\"name\":\"r\"}", &st);
	assert_int_equal(st, 200);
	char rid[STORE_ID_MAX];
	snprintf(rid, sizeof(rid), "%s", str(r, "sip_dispatch_rule_id"));
	json_decref(r);

	/* errors: LK's codes and texts */
	json_t *e = rpc(f, "GetSIPOutboundTrunk", body, &st);
	assert_int_equal(st, 404);
	assert_string_equal(str(e, "msg"), "requested sip trunk does not exist");
	json_decref(e);
	e = rpc(f, "UpdateSIPDispatchRule", "{\"sipDispatchRuleId\":\"SDR_x\",\"update\":{}}", &st);
	assert_int_equal(st, 404);
	assert_string_equal(str(e, "msg"), "requested sip dispatch rule does not exist");
	json_decref(e);
	e = rpc(f, "CreateSIPInboundTrunk", "{\"trunk\":{\"numbers\":[\"+1\"]}}", &st);
	assert_int_equal(st, 400);
	assert_string_equal(str(e, "code"), "invalid_argument");
	json_decref(e);

	/* the records survive a reopen of the database */
	drain(f);
	close_store(f);
	twirp_free(f->ts);
	static const struct api_key k[] = {{"devkey", "secret"}};
	static const struct api_keyring ring = {k, 1};
	struct twirp_opts o = {.keys = &ring, .now = fixed_now};
	assert_int_equal(twirp_new(&f->ts, &o), 0);
	open_store(f);
	assert_int_equal(sip_service_register(f->ts, f->store), 0);
	json_t *l = rpc(f, "ListSIPTrunk", "{}", &st);
	assert_int_equal(st, 200);
	json_t *items = json_object_get(l, "items");
	assert_int_equal(json_array_size(items), 1);
	assert_string_equal(str(json_array_get(items, 0), "sip_trunk_id"), id);
	assert_string_equal(str(json_array_get(items, 0), "kind"), "TRUNK_INBOUND");
	json_decref(l);

	/* deletes */
	snprintf(body, sizeof(body), "{\"sipDispatchRuleId\":\"%s\"}", rid);
	json_t *d = rpc(f, "DeleteSIPDispatchRule", body, &st);
	assert_int_equal(st, 200);
	assert_string_equal(str(d, "name"), "r");
	json_decref(d);
	snprintf(body, sizeof(body), "{\"sipTrunkId\":\"%s\"}", id);
	d = rpc(f, "DeleteSIPTrunk", body, &st);
	assert_int_equal(st, 200);
	json_decref(d);
	d = rpc(f, "DeleteSIPTrunk", body, &st);
	assert_int_equal(st, 404);
	json_decref(d);
	drain(f);
	store_get_stats(f->store, &ss);
	assert_int_equal(ss.writes_ok, 2);
}

static void test_register_twice(void **state)
{
	struct fx *f = *state;
	assert_int_equal(sip_service_register(f->ts, f->store), SB_EEXISTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_twice, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
