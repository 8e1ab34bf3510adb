/* Unit tests for src/stream/bridge.c without sockets: a room on a real media engine, a player
 * participant of kind SIP as the caller, the bridge's transport as recorded messages. Checks
 * start's parameters, the caller's audio as media, the agent's audio heard in the room with
 * its mark echoed on time, hold, the call ending (stop, close) and the agent leaving (hang-up). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "media/codec.h"
#include "room/room.h"
#include "stream/bridge.h"

#define AMP	 6000.0
#define WAIT_MAX 4000
#define MAX_MSGS 2048
#define EAR_MAX	 (16000 * 4)

static struct {
	uv_loop_t loop;
	uv_timer_t guard;
	struct media_engine *engine;
	struct room_service *rs;
	int rs_closed, engine_closed;
	json_t *msgs[MAX_MSGS];
	uint64_t msg_at[MAX_MSGS];
	size_t n;
	int closes, hangups, caller_left;
	struct room_part *hung;
	bool refuse_media; /* the transport drops media (a slow client) */
	int16_t ear[EAR_MAX];
	size_t nears;
	int ear_left;
	/* native: binary frames received (their sizes must be one 20 ms frame) and commands */
	size_t frames, bad_frames;
	int16_t heard[EAR_MAX];
	size_t nheard;
	int commands;
	enum stream_native_cmd_type cmd;
	struct room_part *cmd_caller;
} W;

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static void guard_cb(uv_timer_t *t)
{
	(void)t;
}

static bool run_until(bool (*done)(void *arg), void *arg, uint64_t max_ms)
{
	uint64_t end = now_ms() + max_ms;
	uv_timer_start(&W.guard, guard_cb, 5, 5);
	while (!(done && done(arg)) && now_ms() < end)
		uv_run(&W.loop, UV_RUN_ONCE);
	uv_timer_stop(&W.guard);
	return done && done(arg);
}

static void run_for(uint64_t ms)
{
	(void)run_until(NULL, NULL, ms);
}

static bool flag_set(void *arg)
{
	return *(int *)arg > 0;
}

static double goertzel_amp(const int16_t *x, size_t n, double f, uint32_t rate)
{
	double w = 2.0 * M_PI * f / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double p = s1 * s1 + s2 * s2 - c * s1 * s2;
	return n ? 2.0 * sqrt(p) / (double)n : 0;
}

/* ---- base64 (standard alphabet) ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const uint8_t *p, size_t n)
{
	char *o = malloc((n + 2) / 3 * 4 + 1), *q = o;
	assert_non_null(o);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		*q++ = B64[v >> 18 & 63];
		*q++ = B64[v >> 12 & 63];
		*q++ = i + 1 < n ? B64[v >> 6 & 63] : '=';
		*q++ = i + 2 < n ? B64[v & 63] : '=';
	}
	*q = '\0';
	return o;
}

static size_t b64_decode(const char *s, uint8_t *out, size_t cap)
{
	uint32_t v = 0;
	int bits = 0;
	size_t n = 0;
	for (; *s && *s != '='; s++) {
		const char *k = strchr(B64, *s);
		assert_non_null(k);
		v = v << 6 | (uint32_t)(k - B64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			assert_true(n < cap);
			out[n++] = (uint8_t)(v >> bits);
		}
	}
	return n;
}

/* ---- the bridge's transport ---- */

static int t_send(void *arg, const char *text, size_t len, bool droppable)
{
	(void)arg;
	if (droppable && W.refuse_media)
		return SB_EBUSY;
	json_error_t e;
	json_t *m = json_loadb(text, len, 0, &e);
	assert_non_null(m);
	assert_true(W.n < MAX_MSGS);
	W.msg_at[W.n] = now_ms();
	W.msgs[W.n++] = m;
	return 0;
}

static void t_close(void *arg)
{
	(void)arg;
	W.closes++;
}

static void t_hangup(void *arg, struct room_part *caller)
{
	(void)arg;
	W.hangups++;
	W.hung = caller;
	room_part_leave(caller);
}

static const struct stream_bridge_handlers bh = {
    .send = t_send, .close = t_close, .hangup = t_hangup};

static int t_send_binary(void *arg, const void *p, size_t len, bool droppable)
{
	(void)arg;
	(void)droppable;
	W.frames++;
	if (len != 640)
		W.bad_frames++;
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < len && W.nheard < EAR_MAX; i += 2)
		W.heard[W.nheard++] = (int16_t)(uint16_t)(b[i] | b[i + 1] << 8);
	return 0;
}

static int t_command(void *arg, struct room_part *caller, const struct stream_native_cmd *c)
{
	(void)arg;
	W.commands++;
	W.cmd = c->type;
	W.cmd_caller = caller;
	if (c->type == STREAM_NATIVE_CMD_HANGUP)
		room_part_leave(caller);
	return c->type == STREAM_NATIVE_CMD_HOLD ? SB_ESTATE : 0;
}

static const struct stream_bridge_handlers bh_native = {.send = t_send,
							.close = t_close,
							.hangup = t_hangup,
							.command = t_command,
							.send_binary = t_send_binary};

/* A message's "event" (Twilio) or "type" (native). */
static const char *ev_of(size_t i)
{
	json_t *e = json_object_get(W.msgs[i], "event");
	return json_string_value(e ? e : json_object_get(W.msgs[i], "type"));
}

static int find_msg(const char *event, size_t from)
{
	for (size_t i = from; i < W.n; i++)
		if (!strcmp(ev_of(i), event))
			return (int)i;
	return -1;
}

struct want {
	const char *event;
	size_t from;
};

static bool have_msg(void *arg)
{
	const struct want *w = arg;
	return find_msg(w->event, w->from) >= 0;
}

static int wait_msg(const char *event, size_t from)
{
	struct want w = {event, from};
	assert_true(run_until(have_msg, &w, WAIT_MAX));
	return find_msg(event, from);
}

/* ---- a listener in the room: what the room hears of the agent ---- */

static void ear_audio(void *arg, const int16_t *pcm, size_t n, uint64_t now)
{
	(void)arg;
	(void)now;
	for (size_t i = 0; i < n && W.nears < EAR_MAX; i++)
		W.ear[W.nears++] = pcm ? pcm[i] : 0;
}

static void ear_event(void *arg, const struct room_event *ev)
{
	(void)arg;
	if (ev->type == ROOM_EV_LEFT)
		W.ear_left++;
}

static const struct room_stream_handlers ear_h = {.audio = ear_audio, .event = ear_event};

/* ---- setup ---- */

static void on_event(void *arg, const struct room_event *e)
{
	(void)arg;
	if (e->type == ROOM_EV_LEFT && e->identity && !strcmp(e->identity, "caller"))
		W.caller_left++;
}

static const struct room_service_handlers handlers = {.event = on_event};

static void on_rs_closed(void *arg)
{
	(void)arg;
	W.rs_closed++;
}

static void on_engine_closed(void *arg)
{
	(void)arg;
	W.engine_closed++;
}

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	if (uv_loop_init(&W.loop))
		return -1;
	uv_timer_init(&W.loop, &W.guard);
	struct media_engine_opts eo = {.control = &W.loop, .workers = 1};
	if (media_engine_new(&W.engine, &eo))
		return -1;
	struct room_service_opts o = {
	    .loop = &W.loop, .engine = W.engine, .rate = 16000, .h = &handlers};
	return room_service_new(&W.rs, &o);
}

static int teardown(void **state)
{
	(void)state;
	room_service_close(W.rs, on_rs_closed, NULL);
	assert_true(run_until(flag_set, &W.rs_closed, WAIT_MAX));
	media_engine_close(W.engine, on_engine_closed, NULL);
	assert_true(run_until(flag_set, &W.engine_closed, WAIT_MAX));
	uv_close((uv_handle_t *)&W.guard, NULL);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	for (size_t i = 0; i < W.n; i++)
		json_decref(W.msgs[i]);
	return 0;
}

/* The caller: a player of kind SIP with the sip.* attributes of a call, saying 1 kHz. */
static struct room_part *join_caller(const char *room)
{
	static const struct room_attr attrs[] = {
	    {"sip.phoneNumber", "+15550100"},
	    {"sip.trunkPhoneNumber", "+15550199"},
	    {"sip.callID", "SCL_abcdefabcdef"},
	    {"sip.callIDFull", "a84b4c76e66710@pc33"},
	};
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = "caller";
	j.kind = ROOM_PART_SIP;
	j.media = ROOM_MEDIA_PLAYER;
	j.attrs = attrs;
	j.n_attrs = 4;
	j.wav.rate = 8000;
	j.wav.n = 8000;
	j.wav.pcm = malloc(j.wav.n * sizeof(int16_t));
	assert_non_null(j.wav.pcm);
	for (size_t i = 0; i < j.wav.n; i++)
		j.wav.pcm[i] = (int16_t)lrint(AMP * sin(2.0 * M_PI * 1000.0 * (double)i / 8000.0));
	j.loop = true;
	struct room_part *p = NULL;
	assert_int_equal(room_join(W.rs, &j, &p), 0);
	return p;
}

static struct room_part *join_ear(const char *room)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = "ear";
	j.kind = ROOM_PART_AGENT;
	j.media = ROOM_MEDIA_STREAM;
	j.stream = &ear_h;
	j.stream_rate = 16000;
	struct room_part *p = NULL;
	assert_int_equal(room_join(W.rs, &j, &p), 0);
	return p;
}

static struct stream_bridge *bridge_ok(const char *room)
{
	struct stream_bridge *b = NULL;
	struct stream_bridge_opts o = {.rs = W.rs, .room = room};
	assert_int_equal(stream_bridge_new(&b, &o, &bh, NULL), 0);
	assert_non_null(b);
	return b;
}

static void agent_says(struct stream_bridge *b, double hz, size_t ms)
{
	size_t n = ms * 8;
	uint8_t *u = malloc(n);
	assert_non_null(u);
	for (size_t i = 0; i < n; i++)
		u[i] = media_ulaw_encode(
		    (int16_t)lrint(AMP * sin(2.0 * M_PI * hz * (double)i / 8000.0)));
	char *b64 = b64_encode(u, n);
	char *msg = malloc(strlen(b64) + 128);
	assert_non_null(msg);
	int len = sprintf(
	    msg, "{\"event\":\"media\",\"streamSid\":\"MZ\",\"media\":{\"payload\":\"%s\"}}", b64);
	stream_bridge_input(b, msg, (size_t)len);
	free(msg);
	free(b64);
	free(u);
}

static void agent_sends(struct stream_bridge *b, const char *text)
{
	stream_bridge_input(b, text, strlen(text));
}

/* ---- tests ---- */

static void test_no_call(void **state)
{
	(void)state;
	struct stream_bridge *b = NULL;
	struct stream_bridge_opts o = {.rs = W.rs, .room = "nobody"};
	assert_int_equal(stream_bridge_new(&b, &o, &bh, NULL), SB_ENOTFOUND);
	join_ear("nocall"); /* a room with no SIP participant */
	o.room = "nocall";
	assert_int_equal(stream_bridge_new(&b, &o, &bh, NULL), SB_ENOTFOUND);
	assert_null(b);
	assert_int_equal(W.n, 0);
}

/* connected, start, the caller's audio, the agent's audio with a mark, hold, then the call ends:
 * stop and close; the transport's end afterwards hangs up nothing. */
static void test_call(void **state)
{
	(void)state;
	struct room_part *caller = join_caller("r");
	join_ear("r");
	struct stream_bridge *b = bridge_ok("r");
	assert_ptr_equal(stream_bridge_caller(b), caller);
	assert_true(W.n >= 2);
	assert_string_equal(ev_of(0), "connected");
	assert_string_equal(ev_of(1), "start");
	json_t *cp = json_object_get(json_object_get(W.msgs[1], "start"), "customParameters");
	assert_string_equal(json_string_value(json_object_get(cp, "from_number")), "+15550100");
	assert_string_equal(json_string_value(json_object_get(cp, "to_number")), "+15550199");
	assert_string_equal(json_string_value(json_object_get(cp, "room")), "r");
	assert_string_equal(json_string_value(json_object_get(cp, "participant")), "caller");
	assert_string_equal(json_string_value(json_object_get(cp, "call_id")), "SCL_abcdefabcdef");
	assert_string_equal(json_string_value(json_object_get(cp, "sip_call_id")),
			    "a84b4c76e66710@pc33");
	/* its participant: an agent in the room */
	struct room_part_info pi;
	room_part_get_info(stream_bridge_part(b), &pi);
	assert_int_equal(pi.kind, ROOM_PART_AGENT);
	assert_int_equal(pi.media, ROOM_MEDIA_STREAM);

	/* the caller's 1 kHz in the media messages */
	run_for(700);
	size_t from = W.n;
	run_for(400);
	int16_t pcm[8000];
	size_t np = 0, nmedia = 0;
	for (size_t i = from; i < W.n; i++) {
		if (strcmp(ev_of(i), "media"))
			continue;
		nmedia++;
		uint8_t u[200];
		const char *pl = json_string_value(
		    json_object_get(json_object_get(W.msgs[i], "media"), "payload"));
		size_t n = b64_decode(pl, u, sizeof(u));
		assert_int_equal(n, 160);
		for (size_t k = 0; k < n && np < 8000; k++)
			pcm[np++] = media_ulaw_decode(u[k]);
	}
	assert_true(nmedia >= 17 && nmedia <= 23);
	double a1k = goertzel_amp(pcm, np, 1000, 8000), a440 = goertzel_amp(pcm, np, 440, 8000);
	if (!(a1k > AMP / 4 && a1k > 10 * a440))
		fail_msg("1 kHz at %.0f, 440 Hz at %.0f", a1k, a440);

	/* 500 ms of 440 Hz and a mark: the room hears it; the mark comes back once the tick has
	 * taken its last frame (480 to 500 ms after the input, plus latency) */
	size_t ear0 = W.nears;
	from = W.n;
	uint64_t t0 = now_ms();
	agent_says(b, 440, 500);
	agent_sends(b, "{\"event\":\"mark\",\"streamSid\":\"MZ\",\"mark\":{\"name\":\"m1\"}}");
	int m = wait_msg("mark", from);
	uint64_t dt = W.msg_at[m] - t0;
	if (dt < 475 || dt > 580)
		fail_msg("mark after %llu ms (want about 500)", (unsigned long long)dt);
	json_t *mk = json_object_get(W.msgs[m], "mark");
	assert_string_equal(json_string_value(json_object_get(mk, "name")), "m1");
	run_for(100);
	assert_true(W.nears >= ear0 + 8000);
	double e440 = goertzel_amp(W.ear + ear0 + 1600, 4800, 440, 16000);
	assert_true(e440 > AMP / 4);

	/* bad input: ignored, nothing closes */
	agent_sends(b, "nonsense");
	agent_sends(b, "{\"event\":\"unknown\"}");
	agent_sends(b, "{\"event\":\"media\",\"media\":{\"payload\":\"***\"}}");
	const struct stream_twilio_stats *st = stream_twilio_stats(stream_bridge_session(b));
	assert_int_equal(st->in_malformed, 2);
	assert_int_equal(st->in_unknown, 1);
	assert_int_equal(W.closes, 0);

	/* hold and resume of the call */
	from = W.n;
	room_part_set_hold(caller, true);
	assert_true(find_msg("x-hold", from) >= 0);
	room_part_set_hold_by(caller, false, false);
	assert_true(find_msg("x-resume", from) >= 0);

	/* the call ends: stop, close, and the bridge's participant leaves */
	from = W.n;
	room_part_leave(caller);
	int s = wait_msg("stop", from);
	assert_int_equal((size_t)s, W.n - 1);
	assert_int_equal(W.closes, 1);
	assert_null(stream_bridge_caller(b));
	run_for(100);
	assert_null(stream_bridge_part(b));
	size_t n = W.n;
	stream_bridge_transport_closed(b); /* freed here: its participant has left */
	assert_int_equal(W.hangups, 0);
	assert_int_equal(W.n, n);
}

/* The agent goes away: the call is hung up, the participant leaves, nothing more is sent. */
static void test_agent_closes(void **state)
{
	(void)state;
	struct room_part *caller = join_caller("c");
	struct stream_bridge *b = bridge_ok("c");
	run_for(200);
	agent_says(b, 440, 2000); /* queued audio does not keep it alive */
	size_t n = W.n;
	stream_bridge_transport_closed(b);
	assert_int_equal(W.hangups, 1);
	assert_ptr_equal(W.hung, caller);
	assert_true(run_until(flag_set, &W.caller_left, WAIT_MAX));
	run_for(100);
	assert_int_equal(W.n, n);
	assert_int_equal(W.closes, 0);
	struct room_info ri;
	assert_int_equal(room_service_get_room(W.rs, "c", &ri), 0);
	assert_int_equal(ri.participants, 0);
}

/* A transport that refuses media (a client that does not read) loses media, not the stream:
 * marks still come back. */
static void test_media_dropped(void **state)
{
	(void)state;
	join_caller("d");
	struct stream_bridge *b = bridge_ok("d");
	W.refuse_media = true;
	run_for(200);
	assert_int_equal(find_msg("media", 0), -1);
	size_t from = W.n;
	agent_says(b, 440, 100);
	agent_sends(b, "{\"event\":\"mark\",\"mark\":{\"name\":\"x\"}}");
	wait_msg("mark", from);
	W.refuse_media = false;
	from = W.n;
	int m = wait_msg("media", from);
	/* the numbers of the lost messages are reused; the timeline (timestamp) is not */
	json_t *md = json_object_get(W.msgs[m], "media");
	assert_true(atoi(json_string_value(json_object_get(md, "timestamp"))) >= 200);
	assert_string_equal(json_string_value(json_object_get(md, "chunk")), "1");
	stream_bridge_transport_closed(b);
	run_for(100);
}

static size_t count_marks(const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < W.n; i++)
		if (!strcmp(ev_of(i), "mark") &&
		    !strcmp(json_string_value(
				json_object_get(json_object_get(W.msgs[i], "mark"), "name")),
			    name))
			n++;
	return n;
}

struct mark_want {
	const char *name;
};

static bool have_mark(void *arg)
{
	return count_marks(((struct mark_want *)arg)->name) > 0;
}

/* Marks while frames wait in the FIFO: a clear echoes the pending ones once, a mark on an
 * empty queue at once, and later marks still wait for their audio to play. */
static void test_marks_clear(void **state)
{
	(void)state;
	join_caller("m");
	struct stream_bridge *b = bridge_ok("m");
	run_for(100);
	uint64_t t0 = now_ms();
	agent_says(b, 440, 100);
	agent_sends(b, "{\"event\":\"mark\",\"mark\":{\"name\":\"a\"}}");
	agent_says(b, 440, 2000);
	agent_sends(b, "{\"event\":\"mark\",\"mark\":{\"name\":\"b\"}}");
	struct mark_want wa = {"a"};
	assert_true(run_until(have_mark, &wa, WAIT_MAX));
	uint64_t dt = now_ms() - t0;
	if (dt < 75 || dt > 180)
		fail_msg("mark a after %llu ms (want about 100)", (unsigned long long)dt);
	run_for(100);
	assert_int_equal(count_marks("b"), 0);
	agent_sends(b, "{\"event\":\"clear\"}");
	assert_int_equal(count_marks("b"), 1);
	/* the FIFO's frames play out; nothing is echoed twice */
	run_for(100);
	assert_int_equal(count_marks("a") + count_marks("b"), 2);
	/* 60 ms then c: c waits for its audio */
	t0 = now_ms();
	agent_says(b, 440, 60);
	agent_sends(b, "{\"event\":\"mark\",\"mark\":{\"name\":\"c\"}}");
	agent_sends(b, "{\"event\":\"mark\",\"mark\":{\"name\":\"d\"}}");
	assert_int_equal(count_marks("c"), 0);
	struct mark_want wc = {"c"};
	assert_true(run_until(have_mark, &wc, WAIT_MAX));
	dt = now_ms() - t0;
	if (dt < 35 || dt > 140)
		fail_msg("mark c after %llu ms (want about 60)", (unsigned long long)dt);
	/* an empty queue now: e comes back at once, after d */
	run_for(60);
	agent_sends(b, "{\"event\":\"mark\",\"mark\":{\"name\":\"e\"}}");
	assert_int_equal(count_marks("d") + count_marks("e"), 2);
	run_for(100);
	assert_int_equal(count_marks("a") + count_marks("b") + count_marks("c") + count_marks("d") +
			     count_marks("e"),
			 5);
	assert_int_equal(stream_twilio_stats(stream_bridge_session(b))->out_marks, 5);
	stream_bridge_transport_closed(b);
	run_for(100);
}

/* The room is deleted: the bridge's participant is taken out; it stops and closes but does not
 * hang up when the transport then goes. */
static void test_removed(void **state)
{
	(void)state;
	join_caller("e");
	struct stream_bridge *b = bridge_ok("e");
	run_for(100);
	room_part_leave(stream_bridge_part(b));
	run_for(100);
	assert_true(find_msg("stop", 0) >= 0);
	assert_int_equal(W.closes, 1);
	stream_bridge_transport_closed(b);
	assert_int_equal(W.hangups, 0);
}

/* The native protocol over the same bridge at 16 kHz: start, 640-byte frames with the caller's
 * 1 kHz, the agent's binary PCM heard in the room with its mark on time, mute, a refused
 * command as an error event, and the hangup command ending the stream. */
static void test_native(void **state)
{
	(void)state;
	struct room_part *caller = join_caller("n");
	join_ear("n");
	struct stream_bridge *b = NULL;
	struct stream_bridge_opts o = {
	    .rs = W.rs, .room = "n", .protocol = STREAM_PROTO_NATIVE, .rate = 16000};
	assert_int_equal(stream_bridge_new(&b, &o, &bh, NULL), SB_EINVAL); /* no send_binary */
	assert_int_equal(stream_bridge_new(&b, &o, &bh_native, NULL), 0);
	assert_int_equal(stream_bridge_protocol(b), STREAM_PROTO_NATIVE);
	assert_null(stream_bridge_session(b));
	assert_non_null(stream_bridge_native(b));
	assert_int_equal(W.n, 1);
	assert_string_equal(ev_of(0), "start");
	json_t *call = json_object_get(W.msgs[0], "call");
	assert_string_equal(json_string_value(json_object_get(call, "from")), "+15550100");
	assert_string_equal(json_string_value(json_object_get(call, "participant")), "caller");
	assert_int_equal(json_object_size(json_object_get(call, "attributes")), 4);
	struct room_part_info pi;
	room_part_get_info(stream_bridge_part(b), &pi);
	assert_true(!strncmp(pi.identity, "agent_ST", 8));

	run_for(700);
	size_t h0 = W.nheard;
	run_for(400);
	assert_true(W.frames >= 40);
	assert_int_equal(W.bad_frames, 0);
	double a1k = goertzel_amp(W.heard + h0, W.nheard - h0, 1000, 16000);
	double a440 = goertzel_amp(W.heard + h0, W.nheard - h0, 440, 16000);
	if (!(a1k > AMP / 4 && a1k > 10 * a440))
		fail_msg("1 kHz at %.0f, 440 Hz at %.0f", a1k, a440);

	/* 500 ms of 440 Hz as binary PCM16LE, then a mark */
	size_t n = 8000;
	uint8_t *pcm = malloc(n * 2);
	assert_non_null(pcm);
	for (size_t i = 0; i < n; i++) {
		uint16_t v =
		    (uint16_t)(int16_t)lrint(AMP * sin(2.0 * M_PI * 440.0 * (double)i / 16000.0));
		pcm[2 * i] = (uint8_t)(v & 0xff);
		pcm[2 * i + 1] = (uint8_t)(v >> 8);
	}
	size_t ear0 = W.nears, from = W.n;
	uint64_t t0 = now_ms();
	stream_bridge_input_binary(b, pcm, 1001);
	stream_bridge_input_binary(b, pcm + 1001, n * 2 - 1001);
	free(pcm);
	agent_sends(b, "{\"type\":\"mark\",\"name\":\"m1\"}");
	int m = wait_msg("mark", from);
	uint64_t dt = W.msg_at[m] - t0;
	if (dt < 475 || dt > 580)
		fail_msg("mark after %llu ms (want about 500)", (unsigned long long)dt);
	run_for(100);
	double e440 = goertzel_amp(W.ear + ear0 + 1600, 4800, 440, 16000);
	if (!(e440 > AMP / 4))
		fail_msg("the room hears the agent's 440 Hz at %.0f", e440);

	/* mute is the bridge's; hold goes to the handler, which refuses it: an error event */
	agent_sends(b, "{\"type\":\"mute\",\"muted\":true}");
	room_part_get_info(stream_bridge_part(b), &pi);
	assert_true(pi.muted);
	assert_int_equal(W.commands, 0);
	from = W.n;
	agent_sends(b, "{\"type\":\"hold\",\"id\":\"h1\"}");
	assert_int_equal(W.commands, 1);
	assert_int_equal(W.cmd, STREAM_NATIVE_CMD_HOLD);
	assert_ptr_equal(W.cmd_caller, caller);
	int e = find_msg("error", from);
	assert_true(e >= 0);
	assert_string_equal(json_string_value(json_object_get(W.msgs[e], "code")), "state");
	assert_string_equal(json_string_value(json_object_get(W.msgs[e], "id")), "h1");

	/* a transfer result comes back as a transfer event */
	stream_bridge_transfer_result(b, "t9", "sip:x@y", 486, "Busy Here");
	int t = find_msg("transfer", from);
	assert_true(t >= 0);
	assert_string_equal(json_string_value(json_object_get(W.msgs[t], "status")), "failed");

	/* hangup: the handler ends the call; stop and close follow */
	from = W.n;
	agent_sends(b, "{\"type\":\"hangup\"}");
	assert_int_equal(W.cmd, STREAM_NATIVE_CMD_HANGUP);
	int sp = wait_msg("stop", from);
	assert_string_equal(json_string_value(json_object_get(W.msgs[sp], "reason")), "call_ended");
	assert_true(find_msg("participant_left", from) >= 0);
	assert_int_equal(W.closes, 1);
	assert_true(run_until(flag_set, &W.caller_left, WAIT_MAX));
	stream_bridge_transport_closed(b);
	assert_int_equal(W.hangups, 0);
	run_for(100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_no_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_agent_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_media_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_marks_clear, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_removed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_native, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
