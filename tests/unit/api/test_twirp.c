/* Unit tests for src/api/twirp.c: code names and HTTP statuses, error JSON, path parsing, the
 * registry, and twirp_serve's checks in order (route, Content-Type, token, body, grant). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/twirp.h"
#include "base/err.h"

#define NOW 1700000000u

static uint64_t fixed_now(void)
{
	return NOW;
}

static void test_codes(void **state)
{
	(void)state;
	static const struct {
		enum twirp_code c;
		const char *name;
		int status;
	} want[] = {
	    {TWIRP_CANCELED, "canceled", 408},
	    {TWIRP_UNKNOWN, "unknown", 500},
	    {TWIRP_INVALID_ARGUMENT, "invalid_argument", 400},
	    {TWIRP_MALFORMED, "malformed", 400},
	    {TWIRP_DEADLINE_EXCEEDED, "deadline_exceeded", 408},
	    {TWIRP_NOT_FOUND, "not_found", 404},
	    {TWIRP_BAD_ROUTE, "bad_route", 404},
	    {TWIRP_ALREADY_EXISTS, "already_exists", 409},
	    {TWIRP_PERMISSION_DENIED, "permission_denied", 403},
	    {TWIRP_UNAUTHENTICATED, "unauthenticated", 401},
	    {TWIRP_RESOURCE_EXHAUSTED, "resource_exhausted", 429},
	    {TWIRP_FAILED_PRECONDITION, "failed_precondition", 412},
	    {TWIRP_ABORTED, "aborted", 409},
	    {TWIRP_OUT_OF_RANGE, "out_of_range", 400},
	    {TWIRP_UNIMPLEMENTED, "unimplemented", 501},
	    {TWIRP_INTERNAL, "internal", 500},
	    {TWIRP_UNAVAILABLE, "unavailable", 503},
	    {TWIRP_DATALOSS, "dataloss", 500},
	};
	assert_int_equal(sizeof(want) / sizeof(want[0]), TWIRP__CODE_COUNT);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(twirp_code_name(want[i].c), want[i].name);
		assert_int_equal(twirp_code_status(want[i].c), want[i].status);
		enum twirp_code back;
		assert_int_equal(twirp_code_from_name(sb_slice_cstr(want[i].name), &back), 0);
		assert_int_equal(back, want[i].c);
	}
	enum twirp_code x;
	assert_int_equal(twirp_code_from_name(SB_SLICE_LIT("nope"), &x), SB_ENOTFOUND);
	assert_string_equal(twirp_code_name((enum twirp_code)99), "unknown");
	assert_int_equal(twirp_code_status((enum twirp_code)99), 500);
}

static void test_error_json(void **state)
{
	(void)state;
	struct twirp_error e = {0};
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	twirp_error_set(&e, TWIRP_NOT_FOUND, "requested sip trunk does not exist");
	twirp_error_json(&e, &b);
	assert_string_equal(b.p, "{\"code\":\"not_found\",\"msg\":\"requested sip trunk does not "
				 "exist\"}");
	sb_buf_reset(&b);
	/* a SIP failure: meta values are strings; quotes in msg are escaped */
	twirp_error_set(&e, TWIRP_RESOURCE_EXHAUSTED, "call \"x\" failed: %d", 486);
	assert_int_equal(twirp_error_meta(&e, "sip_status_code", "486"), 0);
	assert_int_equal(twirp_error_meta(&e, "sip_status", "Busy Here"), 0);
	twirp_error_json(&e, &b);
	assert_string_equal(b.p,
			    "{\"code\":\"resource_exhausted\",\"msg\":\"call \\\"x\\\" failed: "
			    "486\",\"meta\":{\"sip_status_code\":\"486\",\"sip_status\":"
			    "\"Busy Here\"}}");
	struct api_http_resp resp = {0};
	sb_buf_init(&resp.body, NULL, 0);
	twirp_error_respond(&e, &resp);
	assert_int_equal(resp.status, 429);
	assert_string_equal(resp.content_type, "application/json"); /* exactly, no charset */
	assert_string_equal(resp.body.p, b.p);
	twirp_error_clear(&e);
	assert_null(e.meta);
	sb_buf_free(&resp.body);
	sb_buf_free(&b);
}

static void test_parse_path(void **state)
{
	(void)state;
	struct sb_slice s, m;
	assert_int_equal(
	    twirp_parse_path(SB_SLICE_LIT("/twirp/livekit.SIP/CreateSIPParticipant"), &s, &m), 0);
	assert_true(sb_slice_eq_cstr(s, "livekit.SIP"));
	assert_true(sb_slice_eq_cstr(m, "CreateSIPParticipant"));
	assert_int_equal(
	    twirp_parse_path(SB_SLICE_LIT("//twirp/livekit.RoomService/ListRooms"), &s, &m), 0);
	assert_true(sb_slice_eq_cstr(s, "livekit.RoomService"));
	assert_true(sb_slice_eq_cstr(m, "ListRooms"));
	static const char *const bad[] = {
	    "",
	    "/",
	    "/twirp",
	    "/twirp/",
	    "/twirp/livekit.SIP",
	    "/twirp/livekit.SIP/",
	    "/twirp//Method",
	    "/twirp/livekit.SIP/A/B",
	    "/other/livekit.SIP/A",
	    "/TWIRP/livekit.SIP/A",
	    "twirp/livekit.SIP/A",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(twirp_parse_path(sb_slice_cstr(bad[i]), &s, &m), SB_ENOTFOUND);
}

/* ---- twirp_serve ---- */

static struct twirp_server *ts;
static int calls;

static int echo_room(const struct twirp_call *call, json_t **resp, struct twirp_error *e, void *arg)
{
	(void)e;
	assert_ptr_equal(arg, &calls);
	calls++;
	assert_true(call->claims->video.room_admin);
	*resp = json_pack("{s:O, s:s}", "room", json_object_get(call->req, "room"), "iss",
			  call->claims->iss);
	return 0;
}

static int busy(const struct twirp_call *call, json_t **resp, struct twirp_error *e, void *arg)
{
	(void)call;
	(void)resp;
	(void)arg;
	calls++;
	twirp_error_set(e, TWIRP_RESOURCE_EXHAUSTED, "twirp error unknown: busy");
	twirp_error_meta(e, "sip_status_code", "486");
	return -1;
}

static int empty(const struct twirp_call *call, json_t **resp, struct twirp_error *e, void *arg)
{
	(void)call;
	(void)e;
	(void)arg;
	calls++;
	*resp = NULL;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	static const struct api_key k[] = {{"devkey", "secret"}};
	static const struct api_keyring ring = {k, 1};
	struct twirp_opts o = {.keys = &ring, .now = fixed_now};
	assert_int_equal(twirp_new(&ts, &o), 0);
	struct twirp_method m1 = {"livekit.RoomService", "ListParticipants", API_PERM_NONE,
				  echo_room, &calls};
	struct twirp_method m2 = {"livekit.SIP", "CreateSIPParticipant", API_PERM_NONE, busy, NULL};
	struct twirp_method m3 = {"switchboard.Calls", "Hold", API_PERM_SIP_CALL, empty, NULL};
	assert_int_equal(twirp_register(ts, &m1), 0);
	assert_int_equal(twirp_register(ts, &m2), 0);
	assert_int_equal(twirp_register(ts, &m3), 0);
	calls = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	twirp_free(ts);
	ts = NULL;
	return 0;
}

static char *token(const char *secret, uint64_t now, const struct api_claims *g)
{
	struct api_token_opts o = {.key = "devkey", .secret = secret, .now = now, .grants = g};
	char *t = NULL;
	assert_int_equal(api_token_create(&o, &t), 0);
	char *auth = malloc(strlen(t) + 8);
	assert_non_null(auth);
	strcpy(auth, "Bearer ");
	strcat(auth, t);
	free(t);
	return auth;
}

struct result {
	int status;
	const char *ctype;
	json_t *body;
};

static struct result serve(const char *method, const char *path, const char *ctype,
			   const char *auth, const char *body)
{
	struct api_http_req req = {
	    .method = sb_slice_cstr(method),
	    .path = sb_slice_cstr(path),
	    .content_type = sb_slice_cstr(ctype),
	    .authorization = sb_slice_cstr(auth),
	    .body = sb_slice_cstr(body),
	};
	struct api_http_resp resp = {.status = 200, .content_type = "text/plain"};
	sb_buf_init(&resp.body, NULL, 0);
	twirp_serve(&req, &resp, ts);
	struct result r = {resp.status, resp.content_type, NULL};
	assert_non_null(resp.body.p);
	r.body = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	assert_non_null(r.body);
	assert_string_equal(r.ctype, "application/json");
	sb_buf_free(&resp.body);
	return r;
}

static void expect_error(struct result r, int status, const char *code, const char *msg_part)
{
	assert_int_equal(r.status, status);
	assert_string_equal(json_string_value(json_object_get(r.body, "code")), code);
	const char *msg = json_string_value(json_object_get(r.body, "msg"));
	assert_non_null(msg);
	if (msg_part && !strstr(msg, msg_part))
		fail_msg("msg '%s' lacks '%s'", msg, msg_part);
	json_decref(r.body);
}

static void test_routes(void **state)
{
	(void)state;
	struct api_claims g = {.has_video = true};
	char *auth = token("secret", NOW, &g);
	const char *json = "application/json";
	expect_error(serve("GET", "/twirp/livekit.SIP/CreateSIPParticipant", json, auth, "{}"), 404,
		     "bad_route", "only POST");
	struct result r = serve("POST", "/twirp/livekit.SIP/Nope", json, auth, "{}");
	assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "meta"),
							      "twirp_invalid_route")),
			    "POST /twirp/livekit.SIP/Nope");
	expect_error(r, 404, "bad_route", "no handler for path \"/twirp/livekit.SIP/Nope\"");
	expect_error(serve("POST", "/twirp/livekit.SIP", json, auth, "{}"), 404, "bad_route", NULL);
	expect_error(serve("POST", "/twirp/livekit.SIP/CreateSIPParticipant/x", json, auth, "{}"),
		     404, "bad_route", NULL);
	/* a service's name is not a method of another */
	expect_error(
	    serve("POST", "/twirp/livekit.RoomService/CreateSIPParticipant", json, auth, "{}"), 404,
	    "bad_route", NULL);
	/* Content-Type: Twirp's answer to unknown types; protobuf is not spoken */
	expect_error(serve("POST", "/twirp/livekit.SIP/CreateSIPParticipant", "", auth, "{}"), 404,
		     "bad_route", "unexpected Content-Type");
	expect_error(
	    serve("POST", "/twirp/livekit.SIP/CreateSIPParticipant", "text/plain", auth, "{}"), 404,
	    "bad_route", "unexpected Content-Type");
	expect_error(serve("POST", "/twirp/livekit.SIP/CreateSIPParticipant",
			   "application/protobuf", auth, "{}"),
		     501, "unimplemented", "application/json");
	assert_int_equal(calls, 0);
	free(auth);
}

static void test_auth(void **state)
{
	(void)state;
	const char *path = "/twirp/livekit.RoomService/ListParticipants";
	const char *json = "application/json;charset=UTF-8"; /* what the SDK sends */
	const char *body = "{\"room\":\"r1\"}";
	expect_error(serve("POST", path, json, "", body), 401, "unauthenticated", NULL);
	expect_error(serve("POST", path, json, "Basic dXNlcjpwYXNz", body), 401, "unauthenticated",
		     NULL);
	expect_error(serve("POST", path, json, "Bearer not-a-token", body), 401, "unauthenticated",
		     "invalid authorization token");
	struct api_claims g = {.has_video = true};
	g.video.room_admin = true;
	strcpy(g.video.room, "r1");
	char *wrong = token("wrong-secret", NOW, &g);
	expect_error(serve("POST", path, json, wrong, body), 401, "unauthenticated", "signature");
	free(wrong);
	char *old = token("secret", NOW - 7200, &g);
	expect_error(serve("POST", path, json, old, body), 401, "unauthenticated", "expired");
	free(old);
	/* a valid token for another room: the grant check says no, as LiveKit does */
	char *auth = token("secret", NOW, &g);
	expect_error(serve("POST", path, json, auth, "{\"room\":\"r2\"}"), 401, "unauthenticated",
		     "permissions denied");
	expect_error(serve("POST", path, json, auth, "{}"), 401, "unauthenticated",
		     "permissions denied");
	/* no sip.call */
	expect_error(serve("POST", "/twirp/livekit.SIP/CreateSIPParticipant", json, auth, "{}"),
		     401, "unauthenticated", "permissions denied");
	assert_int_equal(calls, 0);
	/* right room: the handler runs */
	struct result r = serve("POST", path, json, auth, body);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_string_value(json_object_get(r.body, "room")), "r1");
	assert_string_equal(json_string_value(json_object_get(r.body, "iss")), "devkey");
	json_decref(r.body);
	assert_int_equal(calls, 1);
	free(auth);
}

static void test_bodies(void **state)
{
	(void)state;
	struct api_claims g = {.has_video = true, .has_sip = true};
	g.sip.call = true;
	char *auth = token("secret", NOW, &g);
	const char *path = "/twirp/livekit.SIP/CreateSIPParticipant";
	const char *json = "Application/JSON";
	expect_error(serve("POST", path, json, auth, ""), 400, "malformed", NULL);
	expect_error(serve("POST", path, json, auth, "{\"a\":"), 400, "malformed", NULL);
	expect_error(serve("POST", path, json, auth, "[1,2]"), 400, "malformed",
		     "not a JSON object");
	expect_error(serve("POST", path, json, auth, "\"x\""), 400, "malformed", NULL);
	assert_int_equal(calls, 0);
	/* the handler's own error, with its meta */
	struct result r = serve("POST", path, json, auth, "{\"sipTrunkId\":\"ST_x\"}");
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(r.body, "meta"), "sip_status_code")),
	    "486");
	expect_error(r, 429, "resource_exhausted", "busy");
	assert_int_equal(calls, 1);
	/* a method with its own permission; an empty answer is {} */
	r = serve("POST", "/twirp/switchboard.Calls/Hold", json, auth, "{}");
	assert_int_equal(r.status, 200);
	assert_int_equal(json_object_size(r.body), 0);
	json_decref(r.body);
	assert_int_equal(calls, 2);
	free(auth);
}

static void test_unimplemented(void **state)
{
	(void)state;
	struct api_claims g = {.has_video = true, .has_sip = true};
	char *auth = token("secret", NOW, &g);
	const char *path = "/twirp/livekit.SIP/ListSIPInboundTrunk";
	/* a LiveKit RPC nobody registered yet: all checks, then unimplemented */
	expect_error(serve("POST", path, "application/json", "", "{}"), 401, "unauthenticated",
		     NULL);
	expect_error(serve("POST", path, "application/json", auth, "{}"), 401, "unauthenticated",
		     "permissions denied");
	free(auth);
	g.sip.admin = true;
	auth = token("secret", NOW, &g);
	expect_error(serve("POST", path, "application/json", auth, "nope"), 400, "malformed", NULL);
	expect_error(serve("POST", path, "application/json", auth, "{}"), 501, "unimplemented",
		     "livekit.SIP/ListSIPInboundTrunk");
	free(auth);
}

static void test_registry(void **state)
{
	(void)state;
	struct twirp_method unknown = {"livekit.SIP", "Whatever", API_PERM_NONE, empty, NULL};
	assert_int_equal(twirp_register(ts, &unknown), SB_EINVAL);
	unknown.perm = API_PERM_SIP_ADMIN;
	assert_int_equal(twirp_register(ts, &unknown), 0);
	assert_int_equal(twirp_register(ts, &unknown), SB_EEXISTS);
	struct twirp_method slash = {"a/b", "C", API_PERM_SIP_ADMIN, empty, NULL};
	assert_int_equal(twirp_register(ts, &slash), SB_EINVAL);
	struct twirp_method nofn = {"a.B", "C", API_PERM_SIP_ADMIN, NULL, NULL};
	assert_int_equal(twirp_register(ts, &nofn), SB_EINVAL);
	/* grows past its first allocation */
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof(name), "M%d", i);
		struct twirp_method m = {"switchboard.Test", name, API_PERM_SIP_CALL, empty, NULL};
		assert_int_equal(twirp_register(ts, &m), 0);
	}
	struct api_claims g = {.has_sip = true};
	g.sip.call = true;
	char *auth = token("secret", NOW, &g);
	struct result r =
	    serve("POST", "/twirp/switchboard.Test/M39", "application/json", auth, "{}");
	assert_int_equal(r.status, 200);
	json_decref(r.body);
	free(auth);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codes),
	    cmocka_unit_test(test_error_json),
	    cmocka_unit_test(test_parse_path),
	    cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bodies, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unimplemented, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registry, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
