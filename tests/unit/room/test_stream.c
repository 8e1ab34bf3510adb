/* Unit tests for stream participants (ROOM_MEDIA_STREAM, src/room/room.c and room_worker.c) on a
 * real media engine: frames up and down through a worker, rates, FIFO bounds, dropped frames
 * when the control loop does not take them, own and peer events. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "room/room.h"

#define AMP	 6000.0
#define WAIT_MAX 4000
#define CAP_MAX	 (48000 * 4)
#define MAX_PEER 64

/* What one stream participant got. */
struct sink {
	uint32_t rate;
	int16_t cap[CAP_MAX];
	size_t ncap;
	uint64_t frames, silent, last_now, bad_n, bad_step;
	struct room_peer_event peers[MAX_PEER];
	char peer_ids[MAX_PEER][64];
	size_t npeers;
	int joined, left;
	/* voice to send: a tone pushed from the audio callback while on */
	double send_hz;
	uint64_t phase;
	int push_err;
};

static struct {
	uv_loop_t loop;
	uv_timer_t guard;
	struct media_engine *engine;
	struct room_service *rs;
	int rs_closed, engine_closed;
	struct sink a, b;
} W;

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
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

/* ---- the stream handlers ---- */

static void on_audio(void *arg, const int16_t *pcm, size_t n, uint64_t now)
{
	struct sink *s = arg;
	if (n != s->rate / 50u)
		s->bad_n++;
	if (s->last_now && now < s->last_now)
		s->bad_step++;
	s->last_now = now;
	s->frames++;
	if (!pcm)
		s->silent++;
	for (size_t i = 0; i < n && s->ncap < CAP_MAX; i++)
		s->cap[s->ncap++] = pcm ? pcm[i] : 0;
}

static void on_peer(void *arg, const struct room_peer_event *ev)
{
	struct sink *s = arg;
	assert_true(s->npeers < MAX_PEER);
	s->peers[s->npeers] = *ev;
	snprintf(s->peer_ids[s->npeers], sizeof(s->peer_ids[0]), "%s", ev->identity);
	s->npeers++;
}

static void on_own(void *arg, const struct room_event *ev)
{
	struct sink *s = arg;
	if (ev->type == ROOM_EV_JOINED)
		s->joined++;
	if (ev->type == ROOM_EV_LEFT)
		s->left++;
}

static const struct room_stream_handlers sink_handlers = {
    .audio = on_audio, .peer = on_peer, .event = on_own};

static void on_event(void *arg, const struct room_event *e)
{
	(void)arg;
	(void)e;
}

static const struct room_service_handlers handlers = {.event = on_event};

/* ---- setup ---- */

static void service_start(uint32_t queue_len)
{
	struct media_engine_opts eo = {.control = &W.loop, .workers = 1, .queue_len = queue_len};
	assert_int_equal(media_engine_new(&W.engine, &eo), 0);
	struct room_service_opts o = {
	    .loop = &W.loop, .engine = W.engine, .rate = 16000, .h = &handlers};
	assert_int_equal(room_service_new(&W.rs, &o), 0);
}

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

static void service_stop(void)
{
	if (W.rs) {
		room_service_close(W.rs, on_rs_closed, NULL);
		assert_true(run_until(flag_set, &W.rs_closed, WAIT_MAX));
		W.rs = NULL;
	}
	if (W.engine) {
		media_engine_close(W.engine, on_engine_closed, NULL);
		assert_true(run_until(flag_set, &W.engine_closed, WAIT_MAX));
		W.engine = NULL;
	}
}

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	if (uv_loop_init(&W.loop))
		return -1;
	uv_timer_init(&W.loop, &W.guard);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	service_stop();
	uv_close((uv_handle_t *)&W.guard, NULL);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	return 0;
}

static struct room_join stream_join(const char *room, const char *id, struct sink *s, uint32_t rate)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = ROOM_PART_AGENT;
	j.media = ROOM_MEDIA_STREAM;
	j.stream = &sink_handlers;
	j.stream_arg = s;
	j.stream_rate = rate;
	s->rate = rate ? rate : 16000;
	return j;
}

static struct room_join player_join(const char *room, const char *id, double hz, uint32_t rate)
{
	struct room_join j;
	memset(&j, 0, sizeof(j));
	j.room = room;
	j.identity = id;
	j.kind = ROOM_PART_SIP;
	j.media = ROOM_MEDIA_PLAYER;
	j.wav.rate = rate;
	j.wav.n = rate;
	j.wav.pcm = malloc(j.wav.n * sizeof(int16_t));
	assert_non_null(j.wav.pcm);
	for (size_t i = 0; i < j.wav.n; i++)
		j.wav.pcm[i] = (int16_t)lrint(AMP * sin(2.0 * M_PI * hz * (double)i / rate));
	j.loop = true;
	return j;
}

static struct room_part *join_ok(const struct room_join *j)
{
	struct room_part *p = NULL;
	assert_int_equal(room_join(W.rs, j, &p), 0);
	assert_non_null(p);
	return p;
}

static void assert_tone(const struct sink *s, size_t from, size_t n, double hz, double other)
{
	assert_true(s->ncap >= from + n);
	double a = goertzel_amp(s->cap + from, n, hz, s->rate);
	double o = goertzel_amp(s->cap + from, n, other, s->rate);
	if (!(a > AMP / 4 && a > 10 * o))
		fail_msg("%.0f Hz at %.0f, %.0f Hz at %.0f (rate %u)", hz, a, other, o, s->rate);
}

/* ---- tests ---- */

/* Up: a stream participant hears the player's 1 kHz at its own rate (8 kHz and 48 kHz), one
 * frame per tick, worker times ascending. */
static void test_frames_up(void **state)
{
	(void)state;
	service_start(0);
	struct room_join j8 = stream_join("r", "a8", &W.a, 8000);
	struct room_join j48 = stream_join("r", "a48", &W.b, 48000);
	join_ok(&j8);
	join_ok(&j48);
	struct room_join jp = player_join("r", "tone", 1000, 16000);
	join_ok(&jp);
	uint64_t t0 = now_ms();
	run_for(1000);
	uint64_t el = now_ms() - t0;
	assert_int_equal(W.a.joined, 1);
	assert_int_equal(W.a.bad_n + W.b.bad_n, 0);
	assert_int_equal(W.a.bad_step, 0);
	assert_true(W.a.frames >= el / 20 - 5 && W.a.frames <= el / 20 + 2);
	/* skip the first 200 ms (joins, resampler delay) */
	assert_tone(&W.a, 1600, 4000, 1000, 440);
	assert_tone(&W.b, 9600, 24000, 1000, 440);
	struct room_stream_stats st;
	room_part_stream_stats(room_service_find_part(W.rs, "r", "a8"), &st);
	assert_true(st.up >= W.a.frames);
	assert_int_equal(st.up_dropped, 0);
	assert_int_equal(st.down, 0); /* it said nothing */
	assert_true(st.down_empty > 0);
}

/* Down: what a pushes (440 Hz at 8 kHz) is its voice: b hears it, a does not hear itself. */
static void on_audio_speak(void *arg, const int16_t *pcm, size_t n, uint64_t now)
{
	struct sink *s = arg;
	on_audio(arg, pcm, n, now);
	if (s->send_hz <= 0)
		return;
	struct room_part *p = room_service_find_part(W.rs, "d", "a");
	int16_t f[160];
	/* keep two frames ahead, as the Twilio bridge does */
	while (p && room_part_stream_queued(p) < 2) {
		for (size_t i = 0; i < 160; i++, s->phase++)
			f[i] = (int16_t)lrint(
			    AMP * sin(2.0 * M_PI * s->send_hz * (double)s->phase / 8000.0));
		if ((s->push_err = room_part_stream_push(p, f)) != 0)
			break;
	}
}

static const struct room_stream_handlers speak_handlers = {
    .audio = on_audio_speak, .peer = on_peer, .event = on_own};

static void test_frames_down(void **state)
{
	(void)state;
	service_start(0);
	struct room_join ja = stream_join("d", "a", &W.a, 8000);
	ja.stream = &speak_handlers;
	W.a.send_hz = 440;
	join_ok(&ja);
	struct room_join jb = stream_join("d", "b", &W.b, 16000);
	join_ok(&jb);
	run_for(800);
	assert_int_equal(W.a.push_err, 0);
	assert_tone(&W.b, 3200, 8000, 440, 1000);
	/* mix-minus: a does not hear itself */
	assert_true(W.a.ncap >= 4800);
	assert_true(goertzel_amp(W.a.cap + 1600, 3200, 440, 8000) < 50);
	struct room_stream_stats st;
	room_part_stream_stats(room_service_find_part(W.rs, "d", "a"), &st);
	assert_true(st.down >= 30);
	assert_true(st.down_empty <= 3);
}

/* The FIFO holds ROOM_STREAM_DOWN_SLOTS frames; the tick takes one every 20 ms. */
static void test_fifo_bounds(void **state)
{
	(void)state;
	service_start(0);
	struct room_join ja = stream_join("f", "a", &W.a, 8000);
	struct room_part *a = join_ok(&ja);
	int16_t f[160] = {0};
	for (int i = 0; i < ROOM_STREAM_DOWN_SLOTS; i++)
		assert_int_equal(room_part_stream_push(a, f), 0);
	assert_int_equal(room_part_stream_push(a, f), SB_ENORES);
	assert_int_equal(room_part_stream_queued(a), ROOM_STREAM_DOWN_SLOTS);
	run_for(200);
	assert_int_equal(room_part_stream_queued(a), 0);
	struct room_stream_stats st;
	room_part_stream_stats(a, &st);
	assert_int_equal(st.down, ROOM_STREAM_DOWN_SLOTS);
	/* not a stream participant, or leaving */
	struct room_join jp = player_join("f", "p", 440, 8000);
	struct room_part *p = join_ok(&jp);
	assert_int_equal(room_part_stream_push(p, f), SB_ESTATE);
	assert_int_equal(room_part_stream_queued(p), 0);
	room_part_leave(a);
	assert_int_equal(room_part_stream_push(a, f), SB_ESTATE);
	assert_true(run_until(flag_set, &W.a.left, WAIT_MAX));
}

/* A control loop that does not take its frames: the worker keeps ROOM_STREAM_UP_SLOTS and drops
 * the rest (counted), then goes on once the loop runs again. */
static void test_up_drops(void **state)
{
	(void)state;
	service_start(0);
	struct room_join ja = stream_join("u", "a", &W.a, 8000);
	struct room_part *a = join_ok(&ja);
	assert_true(run_until(flag_set, &W.a.joined, WAIT_MAX));
	run_for(100);
	uint64_t before = W.a.frames;
	usleep(400 * 1000); /* 20 ticks while the loop sleeps */
	run_for(5);
	assert_true(W.a.frames - before <= ROOM_STREAM_UP_SLOTS + 1);
	struct room_stream_stats st;
	room_part_stream_stats(a, &st);
	assert_true(st.up_dropped >= 8);
	before = W.a.frames;
	run_for(300);
	assert_true(W.a.frames - before >= 10);
}

/* Own events (JOINED, LEFT) and the peers': joined, hold and resume, left. */
static void test_events(void **state)
{
	(void)state;
	service_start(0);
	struct room_join ja = stream_join("e", "a", &W.a, 8000);
	struct room_part *a = join_ok(&ja);
	assert_true(run_until(flag_set, &W.a.joined, WAIT_MAX));
	struct room_join jp = player_join("e", "caller", 440, 8000);
	struct room_part *p = join_ok(&jp);
	run_for(100);
	assert_int_equal(W.a.npeers, 1);
	assert_int_equal(W.a.peers[0].type, ROOM_PEER_JOINED);
	assert_string_equal(W.a.peer_ids[0], "caller");
	assert_ptr_equal(W.a.peers[0].part, p);
	assert_int_equal(W.a.peers[0].kind, ROOM_PART_SIP);
	room_part_set_hold(p, true);
	room_part_set_hold_by(p, false, false);
	assert_int_equal(W.a.npeers, 3);
	assert_int_equal(W.a.peers[1].type, ROOM_PEER_HOLD);
	assert_true(W.a.peers[1].held && W.a.peers[1].by_remote);
	assert_int_equal(W.a.peers[2].type, ROOM_PEER_HOLD);
	assert_true(!W.a.peers[2].held && !W.a.peers[2].by_remote);
	room_part_leave(p);
	run_for(100);
	assert_int_equal(W.a.npeers, 4);
	assert_int_equal(W.a.peers[3].type, ROOM_PEER_LEFT);
	/* its own events: not reported as a peer's */
	room_part_leave(a);
	assert_true(run_until(flag_set, &W.a.left, WAIT_MAX));
	assert_int_equal(W.a.npeers, 4);
}

static void test_join_errors(void **state)
{
	(void)state;
	service_start(0);
	struct room_part *p = NULL;
	struct room_join j = stream_join("x", "a", &W.a, 8000);
	j.stream = NULL;
	assert_int_equal(room_join(W.rs, &j, &p), SB_EINVAL);
	j = stream_join("x", "a", &W.a, 11025);
	assert_int_equal(room_join(W.rs, &j, &p), SB_EINVAL);
	assert_null(p);
	assert_int_equal(room_service_room_count(W.rs), 0);
	/* the room rate by default */
	j = stream_join("x", "a", &W.a, 0);
	p = join_ok(&j);
	run_for(200);
	assert_true(W.a.frames > 0);
	assert_int_equal(W.a.bad_n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_frames_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_frames_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fifo_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_up_drops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_join_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
