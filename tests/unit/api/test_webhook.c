/* Unit tests for src/api/webhook.c: the event builders, and delivery on loopback to the
 * project's own HTTP server on the same loop: headers and signature, retries in order, a dead
 * URL beside a live one, a silent endpoint timed out, queue overflow, and close mid-request. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/http.h"
#include "api/token.h"
#include "api/webhook.h"
#include "base/clock.h"
#include "base/err.h"

#define KEY    "whkey"
#define SECRET "whsecret-whsecret-whsecret"

/* ---- the receiver: api_http on the test's loop ---- */

#define MAX_RECORDS 64

struct record {
	char *body;
	char *ctype;
	char *auth;
	int status; /* what the receiver answered */
};

struct receiver {
	struct api_http *http;
	uint16_t port;
	struct record rec[MAX_RECORDS];
	size_t n;
	unsigned fail_first; /* answer 500 to this many requests first */
};

static char *slice_dup(struct sb_slice s)
{
	char *d = malloc(s.len + 1);
	assert_non_null(d);
	memcpy(d, s.p ? s.p : "", s.len);
	d[s.len] = '\0';
	return d;
}

static void on_hook(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	struct receiver *r = arg;
	int status = 200;
	if (r->fail_first) {
		r->fail_first--;
		status = 500;
	}
	if (r->n < MAX_RECORDS) {
		struct record *rec = &r->rec[r->n++];
		rec->body = slice_dup(req->body);
		rec->ctype = slice_dup(req->content_type);
		rec->auth = slice_dup(req->authorization);
		rec->status = status;
	}
	api_http_resp_set(resp, status, "text/plain", status == 200 ? "ok" : "try again");
}

static void receiver_start(uv_loop_t *loop, struct receiver *r)
{
	memset(r, 0, sizeof(*r));
	struct api_http_opts o = {.loop = loop, .host = "127.0.0.1", .port = 0};
	assert_int_equal(api_http_new(&r->http, &o), 0);
	struct api_http_route route = {.method = "POST", .path = "/hook", .fn = on_hook, .arg = r};
	assert_int_equal(api_http_route(r->http, &route), 0);
	r->port = api_http_port(r->http);
}

static void receiver_url(const struct receiver *r, char *out, size_t cap)
{
	snprintf(out, cap, "http://127.0.0.1:%u/hook", r->port);
}

static void flag_set(void *arg)
{
	*(bool *)arg = true;
}

static void receiver_stop(uv_loop_t *loop, struct receiver *r)
{
	bool closed = false;
	api_http_close(r->http, flag_set, &closed);
	while (!closed)
		uv_run(loop, UV_RUN_ONCE);
	for (size_t i = 0; i < r->n; i++) {
		free(r->rec[i].body);
		free(r->rec[i].ctype);
		free(r->rec[i].auth);
	}
}

/* ---- loop helpers ---- */

static void tick(uv_timer_t *t)
{
	(void)t;
}

/* Run the loop until pred(arg) or ms pass; whether pred came true. */
static bool run_until(uv_loop_t *loop, bool (*pred)(void *arg), void *arg, uint64_t ms)
{
	uv_timer_t t;
	uv_timer_init(loop, &t);
	uv_timer_start(&t, tick, 5, 5); /* so that UV_RUN_ONCE returns */
	uv_update_time(loop);
	uint64_t end = uv_now(loop) + ms;
	bool ok;
	while (!(ok = pred(arg)) && uv_now(loop) < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&t, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return ok;
}

struct want {
	struct receiver *r;
	size_t n;
};

static bool have_records(void *arg)
{
	struct want *w = arg;
	return w->r->n >= w->n;
}

static void notifier_close(uv_loop_t *loop, struct api_webhook *n)
{
	bool closed = false;
	api_webhook_close(n, flag_set, &closed);
	while (!closed)
		uv_run(loop, UV_RUN_ONCE);
}

/* A port with nothing listening on it: bound, then closed. */
static uint16_t dead_port(uv_loop_t *loop)
{
	uv_tcp_t s;
	uv_tcp_init(loop, &s);
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(&s, (const struct sockaddr *)&sa, 0), 0);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	assert_int_equal(uv_tcp_getsockname(&s, (struct sockaddr *)&ss, &len), 0);
	uint16_t port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	uv_close((uv_handle_t *)&s, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return port;
}

/* A listener that accepts and never answers. */
struct silent {
	uv_tcp_t srv;
	uv_tcp_t conns[8];
	size_t n;
	uint16_t port;
};

static void silent_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	(void)hint;
	static char space[4096];
	*buf = uv_buf_init(space, sizeof(space));
}

static void silent_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	(void)buf;
	if (n < 0)
		uv_read_stop(s);
}

static void silent_conn(uv_stream_t *srv, int status)
{
	struct silent *s = srv->data;
	if (status || s->n == SB_ARRAY_LEN(s->conns))
		return;
	uv_tcp_t *c = &s->conns[s->n];
	uv_tcp_init(srv->loop, c);
	if (uv_accept(srv, (uv_stream_t *)c)) {
		uv_close((uv_handle_t *)c, NULL);
		return;
	}
	s->n++;
	uv_read_start((uv_stream_t *)c, silent_alloc, silent_read);
}

static void silent_start(uv_loop_t *loop, struct silent *s)
{
	memset(s, 0, sizeof(*s));
	uv_tcp_init(loop, &s->srv);
	s->srv.data = s;
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(&s->srv, (const struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&s->srv, 8, silent_conn), 0);
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	assert_int_equal(uv_tcp_getsockname(&s->srv, (struct sockaddr *)&ss, &len), 0);
	s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void silent_stop(uv_loop_t *loop, struct silent *s)
{
	for (size_t i = 0; i < s->n; i++)
		uv_close((uv_handle_t *)&s->conns[i], NULL);
	uv_close((uv_handle_t *)&s->srv, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
}

/* ---- events used below ---- */

static const struct api_webhook_attr attrs[] = {
    {"sip.callID", "SCL_abc"},
    {"sip.callStatus", "active"},
};

static const struct api_webhook_room room = {
    .sid = "RM_room1",
    .name = "call-1",
    .empty_timeout = 300,
    .departure_timeout = 20,
    .creation_time_ms = 1700000000123ull,
    .num_participants = 1,
};

static const struct api_webhook_participant part = {
    .sid = "PA_part1",
    .identity = "sip_+15550001",
    .name = "Phone +15550001",
    .state = API_WEBHOOK_ACTIVE,
    .kind = API_WEBHOOK_KIND_SIP,
    .joined_at_ms = 1700000001500ull,
    .version = 2,
    .is_publisher = true,
    .attrs = attrs,
    .n_attrs = 2,
};

/* An event whose room name numbers it, to check the order. */
static json_t *numbered(unsigned i)
{
	char name[32];
	snprintf(name, sizeof(name), "room-%u", i);
	struct api_webhook_room r = {.name = name};
	return api_webhook_event(API_WEBHOOK_ROOM_STARTED, &r, NULL);
}

static unsigned number_of(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	assert_non_null(j);
	const char *name = json_string_value(json_object_get(json_object_get(j, "room"), "name"));
	assert_non_null(name);
	unsigned v = 0;
	assert_int_equal(sscanf(name, "room-%u", &v), 1);
	json_decref(j);
	return v;
}

struct sent_want {
	struct api_webhook *n;
	size_t url;
	uint64_t sent, given_up;
};

static bool have_sent(void *arg)
{
	struct sent_want *w = arg;
	struct api_webhook_stats st;
	api_webhook_url_stats(w->n, w->url, &st);
	return st.sent >= w->sent && st.given_up >= w->given_up;
}

static struct api_webhook *notifier(uv_loop_t *loop, const char *const *urls, size_t n_urls,
				    struct api_webhook_opts *o)
{
	o->loop = loop;
	o->urls = urls;
	o->n_urls = n_urls;
	o->api_key = KEY;
	o->api_secret = SECRET;
	struct api_webhook *n = NULL;
	assert_int_equal(api_webhook_new(&n, o), 0);
	return n;
}

/* ---- tests ---- */

static void test_builders(void **state)
{
	(void)state;
	json_t *r = api_webhook_room_json(&room);
	char *s = json_dumps(r, JSON_COMPACT);
	assert_string_equal(s, "{\"sid\":\"RM_room1\",\"name\":\"call-1\",\"emptyTimeout\":300,"
			       "\"departureTimeout\":20,\"creationTime\":\"1700000000\","
			       "\"creationTimeMs\":\"1700000000123\",\"numParticipants\":1}");
	free(s);
	json_decref(r);

	json_t *p = api_webhook_participant_json(&part);
	s = json_dumps(p, JSON_COMPACT);
	assert_string_equal(s, "{\"sid\":\"PA_part1\",\"identity\":\"sip_+15550001\","
			       "\"state\":\"ACTIVE\",\"joinedAt\":\"1700000001\","
			       "\"joinedAtMs\":\"1700000001500\",\"name\":\"Phone +15550001\","
			       "\"version\":2,\"isPublisher\":true,\"kind\":\"SIP\","
			       "\"attributes\":{\"sip.callID\":\"SCL_abc\",\"sip.callStatus\":"
			       "\"active\"}}");
	free(s);
	json_decref(p);

	/* defaults are left out: a JOINING STANDARD participant with nothing else is {} */
	struct api_webhook_participant empty = {0};
	p = api_webhook_participant_json(&empty);
	assert_int_equal(json_object_size(p), 0);
	json_decref(p);
	struct api_webhook_participant left = part;
	left.state = API_WEBHOOK_DISCONNECTED;
	left.disconnect_reason = API_WEBHOOK_DR_USER_REJECTED;
	p = api_webhook_participant_json(&left);
	assert_string_equal(json_string_value(json_object_get(p, "disconnectReason")),
			    "USER_REJECTED");
	assert_string_equal(json_string_value(json_object_get(p, "state")), "DISCONNECTED");
	json_decref(p);

	json_t *e = api_webhook_hold_event(&room, &part, true, true);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "x-switchboard-hold");
	json_t *d = json_object_get(e, "switchboard");
	assert_true(json_is_true(json_object_get(d, "held")));
	assert_string_equal(json_string_value(json_object_get(d, "initiator")), "remote");
	assert_non_null(json_object_get(e, "room"));
	assert_non_null(json_object_get(e, "participant"));
	json_decref(e);
	e = api_webhook_hold_event(NULL, &part, false, false);
	assert_string_equal(json_string_value(json_object_get(e, "event")), "x-switchboard-resume");
	assert_null(json_object_get(e, "room"));
	d = json_object_get(e, "switchboard");
	assert_true(json_is_false(json_object_get(d, "held")));
	assert_string_equal(json_string_value(json_object_get(d, "initiator")), "local");
	json_decref(e);

	struct api_webhook_transfer t = {
	    .transfer_to = "sip:+15550002@pbx", .sip_status = 486, .reason = "Busy Here"};
	e = api_webhook_transfer_event(&room, &part, &t);
	s = json_dumps(json_object_get(e, "switchboard"), JSON_COMPACT);
	assert_string_equal(s, "{\"transferTo\":\"sip:+15550002@pbx\",\"success\":false,"
			       "\"sipStatusCode\":486,\"sipStatus\":\"Busy Here\"}");
	free(s);
	json_decref(e);

	e = api_webhook_dtmf_event(&room, &part, '#', 160);
	s = json_dumps(json_object_get(e, "switchboard"), JSON_COMPACT);
	assert_string_equal(s, "{\"digit\":\"#\",\"code\":11,\"durationMs\":160}");
	free(s);
	json_decref(e);
	e = api_webhook_dtmf_event(&room, &part, 'b', 0);
	s = json_dumps(json_object_get(e, "switchboard"), JSON_COMPACT);
	assert_string_equal(s, "{\"digit\":\"B\",\"code\":13}");
	free(s);
	json_decref(e);
	assert_null(api_webhook_dtmf_event(&room, &part, 'x', 0));
}

static void test_bad_opts(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	static const char *const bad[] = {
	    "ftp://127.0.0.1/", "http://",	   "http://user@127.0.0.1/",
	    "http://h:0/",	"http://h:99999/", "http://[::1/",
	    "http://h:12x/",	"http://h /",	   "127.0.0.1:80/hook",
	};
	for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++) {
		struct api_webhook *n = NULL;
		struct api_webhook_opts o = {.loop = &loop,
					     .urls = &bad[i],
					     .n_urls = 1,
					     .api_key = KEY,
					     .api_secret = SECRET};
		if (api_webhook_new(&n, &o) != SB_EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_null(n);
	}
	/* URLs without a key to sign with */
	static const char *const good[] = {"http://127.0.0.1:1/x"};
	struct api_webhook *n = NULL;
	struct api_webhook_opts o = {.loop = &loop, .urls = good, .n_urls = 1};
	assert_int_equal(api_webhook_new(&n, &o), SB_EINVAL);

	/* no URL: events are taken and discarded; close still goes through the loop */
	o = (struct api_webhook_opts){.loop = &loop};
	assert_int_equal(api_webhook_new(&n, &o), 0);
	assert_int_equal(api_webhook_post(n, api_webhook_event("room_started", &room, NULL)), 0);
	assert_int_equal(api_webhook_post(n, NULL), SB_ENOMEM);
	assert_int_equal(api_webhook_post(n, json_object()), SB_EINVAL);
	notifier_close(&loop, n);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_deliver(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct receiver rcv;
	receiver_start(&loop, &rcv);
	char url[64];
	receiver_url(&rcv, url, sizeof(url));
	const char *urls[] = {url};
	struct api_webhook_opts o = {0};
	struct api_webhook *n = notifier(&loop, urls, 1, &o);

	uint64_t before = sb_clock_wall_s();
	assert_int_equal(
	    api_webhook_post(n, api_webhook_event(API_WEBHOOK_ROOM_STARTED, &room, NULL)), 0);
	assert_int_equal(
	    api_webhook_post(n, api_webhook_event(API_WEBHOOK_PARTICIPANT_JOINED, &room, &part)),
	    0);
	assert_int_equal(api_webhook_post(n, api_webhook_dtmf_event(&room, &part, '5', 0)), 0);
	/* an id and a createdAt of the caller's own are kept */
	json_t *own = api_webhook_event(API_WEBHOOK_ROOM_FINISHED, &room, NULL);
	json_object_set_new(own, "id", json_string("EV_mine"));
	json_object_set_new(own, "createdAt", json_string("42"));
	assert_int_equal(api_webhook_post(n, own), 0);

	struct want w = {&rcv, 4};
	assert_true(run_until(&loop, have_records, &w, 3000));
	static const char *const names[] = {"room_started", "participant_joined",
					    "x-switchboard-dtmf", "room_finished"};
	struct api_key key = {KEY, SECRET};
	struct api_keyring ring = {&key, 1};
	for (size_t i = 0; i < 4; i++) {
		struct record *rec = &rcv.rec[i];
		assert_string_equal(rec->ctype, "application/webhook+json");
		/* the JWT verifies and its sha256 is the body's */
		struct api_claims c;
		char why[128] = "";
		int err = api_token_verify(&ring, sb_slice_cstr(rec->auth), sb_clock_wall_s(), &c,
					   why, sizeof(why));
		if (err)
			fail_msg("token: %s (%s)", why, rec->auth);
		assert_string_equal(c.iss, KEY);
		assert_true(c.exp > 0 && c.exp <= (int64_t)sb_clock_wall_s() + 300);
		char hash[45];
		api_sha256_b64(sb_slice_cstr(rec->body), hash);
		assert_string_equal(c.sha256, hash);

		json_error_t jerr;
		json_t *j = json_loads(rec->body, 0, &jerr);
		if (!j)
			fail_msg("body %s: %s", rec->body, jerr.text);
		assert_string_equal(json_string_value(json_object_get(j, "event")), names[i]);
		const char *id = json_string_value(json_object_get(j, "id"));
		const char *created = json_string_value(json_object_get(j, "createdAt"));
		assert_non_null(id);
		assert_non_null(created);
		if (i < 3) {
			assert_int_equal(strlen(id), 15);
			assert_memory_equal(id, "EV_", 3);
			uint64_t at = strtoull(created, NULL, 10);
			assert_true(at >= before && at <= sb_clock_wall_s());
		} else {
			assert_string_equal(id, "EV_mine");
			assert_string_equal(created, "42");
		}
		json_t *jr = json_object_get(j, "room");
		assert_string_equal(json_string_value(json_object_get(jr, "name")), "call-1");
		assert_string_equal(json_string_value(json_object_get(jr, "creationTime")),
				    "1700000000");
		if (i == 1 || i == 2) {
			json_t *jp = json_object_get(j, "participant");
			assert_string_equal(json_string_value(json_object_get(jp, "identity")),
					    "sip_+15550001");
			assert_string_equal(json_string_value(json_object_get(jp, "kind")), "SIP");
			assert_string_equal(json_string_value(json_object_get(jp, "state")),
					    "ACTIVE");
			assert_string_equal(json_string_value(json_object_get(
						json_object_get(jp, "attributes"), "sip.callID")),
					    "SCL_abc");
		}
		if (i == 2) {
			json_t *d = json_object_get(j, "switchboard");
			assert_string_equal(json_string_value(json_object_get(d, "digit")), "5");
			assert_int_equal(json_integer_value(json_object_get(d, "code")), 5);
		}
		json_decref(j);
	}
	/* the ids differ */
	assert_string_not_equal(rcv.rec[0].body, rcv.rec[1].body);

	/* the last answer reaches the notifier a little after the receiver handled it */
	struct sent_want sw = {n, 0, 4, 0};
	assert_true(run_until(&loop, have_sent, &sw, 3000));
	struct api_webhook_stats st;
	api_webhook_stats(n, &st);
	assert_int_equal(st.posted, 4);
	assert_int_equal(st.sent, 4);
	assert_int_equal(st.attempts_failed, 0);
	assert_int_equal(st.queued, 0);

	notifier_close(&loop, n);
	receiver_stop(&loop, &rcv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_retry_in_order(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct receiver rcv;
	receiver_start(&loop, &rcv);
	rcv.fail_first = 2;
	char url[64];
	receiver_url(&rcv, url, sizeof(url));
	const char *urls[] = {url};
	struct api_webhook_opts o = {.backoff_ms = 40};
	struct api_webhook *n = notifier(&loop, urls, 1, &o);

	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(api_webhook_post(n, numbered(i)), 0);
	struct sent_want w = {n, 0, 3, 0};
	assert_true(run_until(&loop, have_sent, &w, 3000));
	/* event 0 twice refused, then 0, 1, 2 accepted: one request at a time, in order */
	assert_int_equal(rcv.n, 5);
	static const unsigned order[] = {0, 0, 0, 1, 2};
	static const int status[] = {500, 500, 200, 200, 200};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(number_of(rcv.rec[i].body), order[i]);
		assert_int_equal(rcv.rec[i].status, status[i]);
	}
	/* the same body each time (a retry is re-signed, not re-serialised) */
	assert_string_equal(rcv.rec[0].body, rcv.rec[2].body);
	struct api_webhook_stats st;
	api_webhook_stats(n, &st);
	assert_int_equal(st.sent, 3);
	assert_int_equal(st.attempts_failed, 2);
	assert_int_equal(st.given_up, 0);

	notifier_close(&loop, n);
	receiver_stop(&loop, &rcv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_dead_url(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct receiver rcv;
	receiver_start(&loop, &rcv);
	char live[64], dead[64];
	receiver_url(&rcv, live, sizeof(live));
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%u/hook", dead_port(&loop));
	const char *urls[] = {dead, live};
	struct api_webhook_opts o = {.backoff_ms = 100, .max_attempts = 3};
	struct api_webhook *n = notifier(&loop, urls, 2, &o);

	uv_update_time(&loop);
	uint64_t t0 = uv_now(&loop);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(api_webhook_post(n, numbered(i)), 0);
	struct want w = {&rcv, 4};
	assert_true(run_until(&loop, have_records, &w, 2000));
	/* the live URL got everything at once, while the dead one is still on its first event
	 * (4 events x 3 attempts with 100 + 200 ms between them take over a second) */
	uv_update_time(&loop);
	assert_true(uv_now(&loop) - t0 < 250);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(number_of(rcv.rec[i].body), i);
	struct api_webhook_stats st;
	api_webhook_url_stats(n, 0, &st);
	assert_int_equal(st.sent, 0);
	assert_true(st.given_up < 1);

	/* the dead URL gives every event up after 3 attempts */
	struct sent_want sw = {n, 0, 0, 4};
	assert_true(run_until(&loop, have_sent, &sw, 3000));
	api_webhook_url_stats(n, 0, &st);
	assert_int_equal(st.posted, 4);
	assert_int_equal(st.sent, 0);
	assert_int_equal(st.given_up, 4);
	assert_int_equal(st.attempts_failed, 12);
	assert_int_equal(st.queued, 0);
	api_webhook_url_stats(n, 1, &st);
	assert_int_equal(st.sent, 4);
	assert_int_equal(st.attempts_failed, 0);
	assert_int_equal(rcv.n, 4);

	notifier_close(&loop, n);
	receiver_stop(&loop, &rcv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_timeout(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct silent s;
	silent_start(&loop, &s);
	char url[64];
	/* a host name: the attempt goes through the resolver */
	snprintf(url, sizeof(url), "http://localhost:%u/hook", s.port);
	const char *urls[] = {url};
	struct api_webhook_opts o = {.timeout_ms = 150, .backoff_ms = 50, .max_attempts = 2};
	struct api_webhook *n = notifier(&loop, urls, 1, &o);
	assert_int_equal(api_webhook_post(n, numbered(7)), 0);
	struct sent_want sw = {n, 0, 0, 1};
	assert_true(run_until(&loop, have_sent, &sw, 3000));
	struct api_webhook_stats st;
	api_webhook_stats(n, &st);
	assert_int_equal(st.attempts_failed, 2);
	assert_int_equal(st.given_up, 1);
	assert_int_equal(st.sent, 0);
	notifier_close(&loop, n);
	silent_stop(&loop, &s);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_overflow(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct receiver rcv;
	receiver_start(&loop, &rcv);
	char url[64];
	receiver_url(&rcv, url, sizeof(url));
	const char *urls[] = {url};
	struct api_webhook_opts o = {.queue_max = 3};
	struct api_webhook *n = notifier(&loop, urls, 1, &o);
	/* ten events before the loop turns: the first (next to go) and the last two stay */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(api_webhook_post(n, numbered(i)), 0);
	struct api_webhook_stats st;
	api_webhook_stats(n, &st);
	assert_int_equal(st.posted, 10);
	assert_int_equal(st.dropped, 7);
	assert_int_equal(st.queued, 3);
	struct sent_want w = {n, 0, 3, 0};
	assert_true(run_until(&loop, have_sent, &w, 3000));
	assert_int_equal(rcv.n, 3);
	assert_int_equal(number_of(rcv.rec[0].body), 0);
	assert_int_equal(number_of(rcv.rec[1].body), 8);
	assert_int_equal(number_of(rcv.rec[2].body), 9);
	api_webhook_stats(n, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.dropped, 7);
	notifier_close(&loop, n);
	receiver_stop(&loop, &rcv);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static bool silent_connected(void *arg)
{
	return ((struct silent *)arg)->n > 0;
}

static void test_close_in_flight(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct silent s;
	silent_start(&loop, &s);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", s.port);
	const char *urls[] = {url, "http://localhost:9/never"};
	struct api_webhook_opts o = {0};
	struct api_webhook *n = notifier(&loop, urls, 2, &o);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(api_webhook_post(n, numbered(i)), 0);
	assert_true(run_until(&loop, silent_connected, &s, 2000));
	/* a request is in flight and four are queued: all of it goes */
	notifier_close(&loop, n);
	silent_stop(&loop, &s);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_builders), cmocka_unit_test(test_bad_opts),
	    cmocka_unit_test(test_deliver),  cmocka_unit_test(test_retry_in_order),
	    cmocka_unit_test(test_dead_url), cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_overflow), cmocka_unit_test(test_close_in_flight),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
