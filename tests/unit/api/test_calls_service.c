/* Unit tests for src/api/calls_service.c: the switchboard.Calls handlers through twirp_serve
 * against a real room service on a media engine; SIP participants are echo participants of
 * kind SIP, and the call manager's hold, stats and the room's DTMF are fake hooks. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/calls_service.h"
#include "base/err.h"

#define NOW	 1700000000u
#define WAIT_MAX 4000

static uint64_t fixed_now(void)
{
	return NOW;
}

static struct {
	uv_loop_t loop;
	uv_timer_t guard;
	struct media_engine *engine;
	struct room_service *rs;
	struct twirp_server *ts;
	struct api_calls_service *svc;
	int joined;
	char holds[8][96]; /* "identity:hold|resume" the hold hook saw */
	size_t n_holds;
	char dtmf[8][96]; /* "identity:keys" the DTMF hook saw */
	size_t n_dtmf;
	bool closed;
} F;

/* ---- loop and events ---- */

static void guard_cb(uv_timer_t *t)
{
	(void)t;
}

static bool run_until(bool (*done)(void *), void *arg)
{
	uint64_t end = uv_hrtime() / 1000000u + WAIT_MAX;
	uv_timer_start(&F.guard, guard_cb, 5, 5);
	while (!done(arg) && uv_hrtime() / 1000000u < end)
		uv_run(&F.loop, UV_RUN_ONCE);
	uv_timer_stop(&F.guard);
	return done(arg);
}

static void on_event(void *arg, const struct room_event *e)
{
	(void)arg;
	if (e->type == ROOM_EV_JOINED)
		F.joined++;
}

static const struct room_service_handlers handlers = {.event = on_event};

static bool joined_n(void *arg)
{
	return F.joined >= *(int *)arg;
}

static void wait_joined(int n)
{
	assert_true(run_until(joined_n, &n));
}

/* ---- fake call manager ---- */

/* sip_busy: a re-INVITE is pending; sip_early: not answered yet; sip_none: no call behind it;
 * any other sip_*: accepted (its re-INVITE is "sent"). */
static int fake_hold(void *arg, struct room_part *p, bool hold, const char **status)
{
	(void)arg;
	const char *id = room_part_identity(p);
	if (!strcmp(id, "sip_busy"))
		return SB_EBUSY;
	if (!strcmp(id, "sip_early"))
		return SB_ESTATE;
	if (!strcmp(id, "sip_none"))
		return SB_ENOTFOUND;
	assert_true(F.n_holds < 8);
	snprintf(F.holds[F.n_holds++], sizeof(F.holds[0]), "%s:%s", id, hold ? "hold" : "resume");
	room_part_set_hold(p, hold);
	*status = hold ? "holding" : "resuming";
	return 0;
}

static int fake_dtmf(void *arg, struct room_part *p, const char *keys)
{
	(void)arg;
	assert_true(F.n_dtmf < 8);
	snprintf(F.dtmf[F.n_dtmf++], sizeof(F.dtmf[0]), "%s:%s", room_part_identity(p), keys);
	return 0;
}

static int fake_stats(void *arg, struct room_part *p, struct call_stats *out)
{
	(void)arg;
	if (strcmp(room_part_identity(p), "sip_1"))
		return SB_ENOTFOUND;
	snprintf(out->call_id, sizeof(out->call_id), "SCL_abc");
	snprintf(out->sip_call_id, sizeof(out->sip_call_id), "call-1@host");
	snprintf(out->codec, sizeof(out->codec), "PCMU");
	out->rfc4733 = true;
	out->pt = 0;
	out->local_hold = true;
	out->hold_status = "held";
	out->hold_sip_status = 200;
	out->duration_ms = 12500;
	out->answered_ms = 11000;
	out->held_ms = 3000;
	out->active_ms = 8000;
	out->have_media = true;
	out->media.rx_packets = 500;
	out->media.rx_bytes = 86000;
	out->media.tx_packets = 480;
	out->media.tx_bytes = 82560;
	out->media.lost = 3;
	out->media.jitter_ms = 4;
	out->media.rtt_ms = 21;
	out->media_age_ms = 350;
	return 0;
}

/* ---- fixture ---- */

static int setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	assert_int_equal(uv_loop_init(&F.loop), 0);
	uv_timer_init(&F.loop, &F.guard);
	struct media_engine_opts eo = {.control = &F.loop, .workers = 1};
	assert_int_equal(media_engine_new(&F.engine, &eo), 0);
	struct room_service_opts ro = {
	    .loop = &F.loop, .engine = F.engine, .departure_timeout_ms = 100, .h = &handlers};
	assert_int_equal(room_service_new(&F.rs, &ro), 0);
	static const struct api_key k[] = {{"devkey", "secret"}};
	static const struct api_keyring ring = {k, 1};
	struct twirp_opts o = {.keys = &ring, .now = fixed_now};
	assert_int_equal(twirp_new(&F.ts, &o), 0);
	struct api_calls_service_opts so = {
	    .rooms = F.rs, .hold = fake_hold, .send_dtmf = fake_dtmf, .stats = fake_stats};
	assert_int_equal(api_calls_service_register(F.ts, &so, &F.svc), 0);
	return 0;
}

static void on_closed(void *arg)
{
	*(bool *)arg = true;
}

static bool flag(void *arg)
{
	return *(bool *)arg;
}

static int teardown(void **state)
{
	(void)state;
	twirp_free(F.ts);
	api_calls_service_free(F.svc);
	F.closed = false;
	room_service_close(F.rs, on_closed, &F.closed);
	assert_true(run_until(flag, &F.closed));
	F.closed = false;
	media_engine_close(F.engine, on_closed, &F.closed);
	assert_true(run_until(flag, &F.closed));
	uv_close((uv_handle_t *)&F.guard, NULL);
	uv_run(&F.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&F.loop), 0);
	return 0;
}

/* ---- RPC ---- */

/* POST /twirp/switchboard.Calls/<method> with a token granting roomAdmin for `room` (admin
 * false: an empty video grant); the parsed body (owned by the caller) and *status. */
static json_t *rpc_as(const char *room, bool admin, const char *method, const char *body,
		      int *status)
{
	struct api_claims g = {.has_video = true, .video = {.room_admin = admin}};
	snprintf(g.video.room, sizeof(g.video.room), "%s", room);
	struct api_token_opts to = {.key = "devkey", .secret = "secret", .now = NOW, .grants = &g};
	char *t = NULL, auth[2048], path[128];
	assert_int_equal(api_token_create(&to, &t), 0);
	snprintf(auth, sizeof(auth), "Bearer %s", t);
	free(t);
	snprintf(path, sizeof(path), "/twirp/switchboard.Calls/%s", method);
	struct api_http_req req = {
	    .method = SB_SLICE_LIT("POST"),
	    .path = sb_slice_cstr(path),
	    .content_type = SB_SLICE_LIT("application/json"),
	    .authorization = sb_slice_cstr(auth),
	    .body = sb_slice_cstr(body),
	};
	struct api_http_resp resp = {.status = 200, .content_type = "text/plain"};
	sb_buf_init(&resp.body, NULL, 0);
	twirp_serve(&req, &resp, F.ts);
	*status = resp.status;
	assert_string_equal(resp.content_type, "application/json");
	json_t *j = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	assert_non_null(j);
	sb_buf_free(&resp.body);
	return j;
}

/* The room of the request body, for the token (roomAdmin is per room). */
static json_t *rpc(const char *method, const char *body, int *status)
{
	json_t *b = json_loads(body, 0, NULL);
	const char *room = b ? json_string_value(json_object_get(b, "room")) : NULL;
	char r[128];
	snprintf(r, sizeof(r), "%s", room ? room : "");
	json_decref(b);
	return rpc_as(r, true, method, body, status);
}

static json_t *ok(const char *method, const char *body)
{
	int status = 0;
	json_t *j = rpc(method, body, &status);
	if (status != 200) {
		char *t = json_dumps(j, 0);
		print_error("%s %s: %d %s\n", method, body, status, t);
		free(t);
	}
	assert_int_equal(status, 200);
	return j;
}

static void expect_err(const char *method, const char *body, int status, const char *code,
		       const char *msg)
{
	int st = 0;
	json_t *j = rpc(method, body, &st);
	if (st != status) {
		char *t = json_dumps(j, 0);
		print_error("%s %s: %d %s\n", method, body, st, t);
		free(t);
	}
	assert_int_equal(st, status);
	assert_string_equal(json_string_value(json_object_get(j, "code")), code);
	if (msg)
		assert_string_equal(json_string_value(json_object_get(j, "msg")), msg);
	json_decref(j);
}

static const char *str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));
	if (!v)
		print_error("no string %s\n", key);
	assert_non_null(v);
	return v;
}

static json_int_t num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

static bool flag_of(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	assert_true(json_is_boolean(v));
	return json_is_true(v);
}

/* No null anywhere (the output convention). */
static void assert_clean(const json_t *j)
{
	assert_false(json_is_null(j));
	if (json_is_object(j)) {
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)(uintptr_t)j, k, v)
		{
			assert_non_null(v);
			assert_clean(v);
		}
	}
}

/* ---- participants ---- */

static struct room_part *join(const char *room, const char *id, enum room_part_kind kind,
			      enum room_media media)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = kind;
	j.media = media;
	struct room_part *p = NULL;
	assert_int_equal(room_join(F.rs, &j, &p), 0);
	return p;
}

static bool held(struct room_part *p)
{
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	return pi.held;
}

/* ---- tests ---- */

static void test_hold_resume(void **state)
{
	(void)state;
	struct room_part *s1 = join("call", "sip_1", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	(void)join("call", "sip_busy", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	(void)join("call", "sip_early", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	(void)join("call", "sip_none", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	(void)join("call", "agent", ROOM_PART_AGENT, ROOM_MEDIA_NONE);
	wait_joined(5);

	json_t *r = ok("HoldParticipant", "{\"room\":\"call\",\"identity\":\"sip_1\"}");
	assert_clean(r);
	assert_string_equal(str(r, "hold_status"), "holding");
	json_decref(r);
	assert_int_equal(F.n_holds, 1);
	assert_string_equal(F.holds[0], "sip_1:hold");
	assert_true(held(s1));
	r = ok("ResumeParticipant", "{\"room\":\"call\",\"identity\":\"sip_1\",\"extra\":1}");
	assert_string_equal(str(r, "hold_status"), "resuming");
	json_decref(r);
	assert_string_equal(F.holds[1], "sip_1:resume");
	assert_false(held(s1));

	/* glare, not answered, no call, not SIP */
	expect_err("HoldParticipant", "{\"room\":\"call\",\"identity\":\"sip_busy\"}", 412,
		   "failed_precondition", "a re-INVITE is pending");
	expect_err("ResumeParticipant", "{\"room\":\"call\",\"identity\":\"sip_early\"}", 412,
		   "failed_precondition", "call is not established");
	expect_err("HoldParticipant", "{\"room\":\"call\",\"identity\":\"sip_none\"}", 412,
		   "failed_precondition", "participant is not a SIP call");
	expect_err("HoldParticipant", "{\"room\":\"call\",\"identity\":\"agent\"}", 412,
		   "failed_precondition", "participant is not a SIP call");
	/* unknown room / participant, missing or malformed fields */
	expect_err("HoldParticipant", "{\"room\":\"nope\",\"identity\":\"sip_1\"}", 404,
		   "not_found", "requested room does not exist");
	expect_err("HoldParticipant", "{\"room\":\"call\",\"identity\":\"sip_9\"}", 404,
		   "not_found", "participant does not exist");
	expect_err("HoldParticipant", "{\"room\":\"call\"}", 400, "invalid_argument",
		   "no identity");
	expect_err("HoldParticipant", "{\"identity\":\"sip_1\"}", 400, "invalid_argument",
		   "no room name");
	expect_err("HoldParticipant", "{\"room\":\"call\",\"identity\":7}", 400, "malformed", NULL);
	assert_int_equal(F.n_holds, 2);

	/* grants: roomAdmin for that very room */
	int st = 0;
	json_t *e = rpc_as("call", false, "HoldParticipant",
			   "{\"room\":\"call\",\"identity\":\"sip_1\"}", &st);
	assert_int_equal(st, 401);
	json_decref(e);
	e = rpc_as("other", true, "HoldParticipant", "{\"room\":\"call\",\"identity\":\"sip_1\"}",
		   &st);
	assert_int_equal(st, 401);
	json_decref(e);
	e = rpc_as("call", true, "Transfer", "{\"room\":\"call\"}", &st);
	assert_int_equal(st, 404);
	assert_string_equal(json_string_value(json_object_get(e, "code")), "bad_route");
	json_decref(e);
	assert_int_equal(F.n_holds, 2);
}

static void test_send_dtmf(void **state)
{
	(void)state;
	struct room_part *s1 = join("r", "sip_1", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	(void)join("r", "web", ROOM_PART_WEB, ROOM_MEDIA_NONE);
	wait_joined(2);

	json_t *r = ok("SendDTMF", "{\"room\":\"r\",\"identity\":\"sip_1\",\"digits\":\"12w#\"}");
	assert_int_equal(json_object_size(r), 0);
	json_decref(r);
	assert_int_equal(F.n_dtmf, 1);
	assert_string_equal(F.dtmf[0], "sip_1:12w#");
	expect_err("SendDTMF", "{\"room\":\"r\",\"identity\":\"sip_1\",\"digits\":\"1x\"}", 400,
		   "invalid_argument", "invalid DTMF digit");
	expect_err("SendDTMF", "{\"room\":\"r\",\"identity\":\"sip_1\"}", 400, "invalid_argument",
		   "no digits");
	expect_err("SendDTMF", "{\"room\":\"r\",\"identity\":\"sip_1\",\"digits\":5}", 400,
		   "malformed", NULL);
	expect_err("SendDTMF", "{\"room\":\"r\",\"identity\":\"web\",\"digits\":\"1\"}", 412,
		   "failed_precondition", "participant is not a SIP call");
	expect_err("SendDTMF", "{\"room\":\"r\",\"identity\":\"nobody\",\"digits\":\"1\"}", 404,
		   "not_found", "participant does not exist");
	/* no RTP flows while held */
	room_part_set_hold(s1, true);
	expect_err("SendDTMF", "{\"room\":\"r\",\"identity\":\"sip_1\",\"digits\":\"1\"}", 412,
		   "failed_precondition", "participant is on hold");
	assert_int_equal(F.n_dtmf, 1);
}

static void test_call_stats(void **state)
{
	(void)state;
	struct room_part *s1 = join("s", "sip_1", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	(void)join("s", "sip_2", ROOM_PART_SIP, ROOM_MEDIA_ECHO);
	wait_joined(2);

	json_t *r = ok("GetCallStats", "{\"room\":\"s\",\"identity\":\"sip_1\"}");
	assert_clean(r);
	assert_string_equal(str(r, "room"), "s");
	assert_string_equal(str(r, "identity"), "sip_1");
	assert_memory_equal(str(r, "participant_sid"), "PA_", 3);
	assert_string_equal(str(r, "call_id"), "SCL_abc");
	assert_string_equal(str(r, "sip_call_id"), "call-1@host");
	assert_string_equal(str(r, "direction"), "INBOUND");
	assert_string_equal(str(r, "codec"), "PCMU");
	assert_int_equal(num(r, "payload_type"), 0);
	assert_string_equal(str(r, "dtmf"), "RFC4733");
	assert_true(flag_of(r, "on_hold"));
	assert_true(flag_of(r, "local_hold"));
	assert_false(flag_of(r, "remote_hold"));
	assert_false(flag_of(r, "hold_pending"));
	assert_string_equal(str(r, "hold_status"), "held");
	assert_int_equal(num(r, "hold_sip_status"), 200);
	assert_int_equal(num(r, "duration_seconds"), 12);
	assert_int_equal(num(r, "answered_seconds"), 11);
	assert_int_equal(num(r, "active_seconds"), 8);
	assert_int_equal(num(r, "held_seconds"), 3);
	assert_string_equal(str(r, "packets_received"), "500");
	assert_string_equal(str(r, "bytes_received"), "86000");
	assert_string_equal(str(r, "packets_sent"), "480");
	assert_string_equal(str(r, "bytes_sent"), "82560");
	assert_string_equal(str(r, "packets_lost"), "3");
	assert_int_equal(num(r, "jitter_ms"), 4);
	assert_int_equal(num(r, "rtt_ms"), 21);
	assert_int_equal(num(r, "stats_age_ms"), 350);
	assert_false(flag_of(r, "latched"));
	json_decref(r);
	expect_err("GetCallStats", "{\"room\":\"s\",\"identity\":\"sip_2\"}", 412,
		   "failed_precondition", "participant is not a SIP call");
	expect_err("GetCallStats", "{\"room\":\"\",\"identity\":\"sip_2\"}", 400,
		   "invalid_argument", "no room name");

	/* an echo participant has no leg: no live figures */
	struct media_leg_stats ms;
	assert_int_equal(room_part_leg_stats(s1, &ms, NULL), SB_ENOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hold_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_send_dtmf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_stats, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
