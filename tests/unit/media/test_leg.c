/* Unit tests for src/media/leg.c and src/rtp/sock.c: legs on a private loop talk over loopback
 * UDP; tones per codec (Goertzel), DTMF both ways, timeouts and hold, latching, stats, update. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "media/dtmf.h"
#include "media/leg.h"
#include "rtp/packet.h"
#include "rtp/sock.h"

#define RATE	 16000	     /* room rate */
#define FRAME	 (RATE / 50) /* samples per 20 ms */
#define CAP_MAX	 (RATE * 4)  /* 4 s of captured audio per side */
#define AMP	 8000.0	     /* test tone amplitude */
#define TE_PT	 101
#define TICK_MS	 20
#define WALL_MAX 4000 /* ms: upper bound of any one wait */

struct side {
	const char *name;
	int fd;
	struct sockaddr_in addr; /* where its socket is bound */
	struct media_leg *leg;
	bool pull, push;
	uint32_t rate;	/* its room rate; 0 = RATE */
	double tone_hz; /* what it pushes; 0 = NULL frames (silence) */
	uint64_t phase;
	uint64_t pushes, pulls_true, pulls_false;
	int16_t cap[CAP_MAX]; /* frames its pull returned, in order */
	size_t ncap;
	char dtmf[32];
	bool inband[32];
	uint32_t dur[32];
	size_t nd;
	int timeouts;
	enum media_leg_timeout why;
	uint64_t timeout_at, created_at;
	bool closed;
};

static struct {
	uv_loop_t loop;
	uv_timer_t tick;
	struct side a, b;
	uint64_t ticks;
} W;

static double goertzel_amp(const int16_t *x, size_t n, double f, uint32_t rate)
{
	double w = 2.0 * M_PI * f / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	double p = s1 * s1 + s2 * s2 - c * s1 * s2;
	return 2.0 * sqrt(p) / (double)n;
}

static double rms(const int16_t *x, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return sqrt(e / (double)n);
}

/* ---- loop and ticks ---- */

static uint64_t loop_now(void)
{
	uv_update_time(&W.loop);
	return uv_now(&W.loop);
}

static void side_tick(struct side *s, uint64_t now)
{
	if (!s->leg)
		return;
	uint32_t rate = s->rate ? s->rate : RATE;
	size_t frame = rate / 50u;
	int16_t pcm[48000 / 50];
	if (s->pull) {
		if (media_leg_pull(s->leg, now, pcm)) {
			s->pulls_true++;
			if (s->ncap + frame <= CAP_MAX) {
				memcpy(s->cap + s->ncap, pcm, frame * sizeof(*pcm));
				s->ncap += frame;
			}
		} else {
			s->pulls_false++;
		}
	}
	if (s->push) {
		if (s->tone_hz > 0) {
			for (size_t i = 0; i < frame; i++, s->phase++)
				pcm[i] = (int16_t)lrint(
				    AMP * sin(2.0 * M_PI * s->tone_hz * (double)s->phase / rate));
		}
		media_leg_push(s->leg, now, s->tone_hz > 0 ? pcm : NULL);
		s->pushes++;
	}
}

static void on_tick(uv_timer_t *t)
{
	(void)t;
	uint64_t now = loop_now();
	W.ticks++;
	side_tick(&W.a, now);
	side_tick(&W.b, now);
}

/* Turns the loop (packets move, ticks run) until done() or max_ms of loop time. */
static bool run_until(bool (*done)(void), uint64_t max_ms)
{
	uint64_t end = loop_now() + max_ms;
	while (!(done && done()) && loop_now() < end)
		uv_run(&W.loop, UV_RUN_ONCE);
	return done && done();
}

static void run_for(uint64_t ms)
{
	(void)run_until(NULL, ms);
}

/* ---- legs ---- */

static void on_dtmf(void *arg, char digit, uint32_t duration_ms, bool inband)
{
	struct side *s = arg;
	if (s->nd < sizeof(s->dtmf) - 1) {
		s->inband[s->nd] = inband;
		s->dur[s->nd] = duration_ms;
		s->dtmf[s->nd++] = digit;
	}
}

static void on_timeout(void *arg, enum media_leg_timeout why)
{
	struct side *s = arg;
	s->timeouts++;
	s->why = why;
	s->timeout_at = loop_now();
}

static const struct media_leg_handlers handlers = {.dtmf = on_dtmf, .timeout = on_timeout};

static int bind_any(struct sockaddr_in *addr)
{
	int fd = rtp_sock_bind("127.0.0.1", 0);
	assert_true(fd >= 0);
	socklen_t len = sizeof(*addr);
	assert_int_equal(getsockname(fd, (struct sockaddr *)addr, &len), 0);
	assert_int_not_equal(addr->sin_port, 0);
	return fd;
}

static void side_bind(struct side *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->fd = bind_any(&s->addr);
}

struct leg_cfg {
	enum media_codec_id codec;
	uint8_t pt;
	int16_t te_pt;
	uint32_t rtp_timeout_ms, first_rtp_timeout_ms;
	const struct sockaddr_in *remote; /* NULL = unknown (latch) */
};

static struct media_leg_opts leg_opts(struct side *s, const struct leg_cfg *c)
{
	struct media_leg_opts o;
	memset(&o, 0, sizeof(o));
	o.rtp_fd = s->fd;
	o.rtcp_fd = -1;
	if (c->remote) {
		memcpy(&o.remote, c->remote, sizeof(*c->remote));
		o.remote_len = sizeof(*c->remote);
	}
	o.codec = c->codec;
	o.pt = c->pt;
	o.te_pt = c->te_pt;
	o.codec_o.complexity = -1;
	o.room_rate = RATE;
	o.rtp_timeout_ms = c->rtp_timeout_ms;
	o.first_rtp_timeout_ms = c->first_rtp_timeout_ms;
	o.srtp = RTP_SRTP_NONE;
	o.h = &handlers;
	o.arg = s;
	return o;
}

static void side_open(struct side *s, const struct leg_cfg *c)
{
	struct media_leg_opts o = leg_opts(s, c);
	s->created_at = loop_now();
	assert_int_equal(media_leg_new(&s->leg, &W.loop, &o), 0);
	assert_int_equal(media_leg_frame_samples(s->leg), FRAME);
	s->fd = -1; /* the leg owns it */
}

/* The usual pair: a and b know each other's address, same codec, both pull and push. */
static void pair_open(enum media_codec_id codec, uint8_t pt, int16_t te_pt)
{
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = codec, .pt = pt, .te_pt = te_pt, .remote = &W.b.addr};
	struct leg_cfg cb = {.codec = codec, .pt = pt, .te_pt = te_pt, .remote = &W.a.addr};
	side_open(&W.a, &ca);
	side_open(&W.b, &cb);
	W.a.pull = W.a.push = W.b.pull = W.b.push = true;
}

static void on_leg_closed(void *arg)
{
	((struct side *)arg)->closed = true;
}

static bool both_closed(void)
{
	return (!W.a.leg || W.a.closed) && (!W.b.leg || W.b.closed);
}

static void close_all(void)
{
	W.a.pull = W.a.push = W.b.pull = W.b.push = false;
	if (W.a.leg)
		media_leg_close(W.a.leg, on_leg_closed, &W.a);
	if (W.b.leg)
		media_leg_close(W.b.leg, on_leg_closed, &W.b);
	assert_true(run_until(both_closed, WALL_MAX));
	W.a.leg = W.b.leg = NULL;
}

static int setup(void **state)
{
	(void)state;
	memset(&W, 0, sizeof(W));
	W.a.fd = W.b.fd = -1;
	if (uv_loop_init(&W.loop))
		return -1;
	uv_timer_init(&W.loop, &W.tick);
	uv_timer_start(&W.tick, on_tick, TICK_MS, TICK_MS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (W.a.leg || W.b.leg)
		close_all();
	if (W.a.fd >= 0)
		close(W.a.fd);
	if (W.b.fd >= 0)
		close(W.b.fd);
	uv_close((uv_handle_t *)&W.tick, NULL);
	uv_run(&W.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&W.loop), 0);
	return 0;
}

/* ---- audio ---- */

static size_t want_frames;

static bool both_captured(void)
{
	return W.a.ncap >= want_frames * FRAME && W.b.ncap >= want_frames * FRAME;
}

static bool b_captured(void)
{
	return W.b.ncap >= want_frames * FRAME;
}

/* The last n samples of s's capture are a tone of f: it holds most of the energy, and the
 * other test frequency is nowhere. */
static void assert_tone(const struct side *s, double f, double other)
{
	uint32_t rate = s->rate ? s->rate : RATE;
	size_t n = 20 * (rate / 50u);
	assert_true(s->ncap >= n);
	const int16_t *x = s->cap + s->ncap - n;
	double a = goertzel_amp(x, n, f, rate), r = rms(x, n);
	double o = goertzel_amp(x, n, other, rate);
	if (!(r > AMP / M_SQRT2 * 0.3 && a / M_SQRT2 > 0.8 * r && o < 0.05 * a))
		print_message("%s: tone %.0f Hz amp %.0f, rms %.0f, %.0f Hz amp %.0f\n", s->name, f,
			      a, r, other, o);
	/* a pure sine of amplitude A has rms A / sqrt(2) */
	assert_true(r > AMP / M_SQRT2 * 0.3);
	assert_true(a / M_SQRT2 > 0.8 * r);
	assert_true(o < 0.05 * a);
}

static void tone_both_ways(enum media_codec_id codec, uint8_t pt)
{
	pair_open(codec, pt, TE_PT);
	W.a.tone_hz = 1000;
	W.b.tone_hz = 600;
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);
	assert_tone(&W.a, 600, 1000);
	struct media_leg_stats sa, sb;
	media_leg_stats(W.a.leg, &sa);
	media_leg_stats(W.b.leg, &sb);
	assert_true(sa.rx_packets > 0 && sb.rx_packets > 0);
	assert_int_equal(sa.rx_bad, 0);
	assert_int_equal(sb.rx_bad, 0);
	close_all();
}

static void test_tone_pcmu(void **state)
{
	(void)state;
	tone_both_ways(MEDIA_CODEC_PCMU, 0);
}

static void test_tone_pcma(void **state)
{
	(void)state;
	tone_both_ways(MEDIA_CODEC_PCMA, 8);
}

static void test_tone_g722(void **state)
{
	(void)state;
	tone_both_ways(MEDIA_CODEC_G722, 9);
}

static void test_tone_opus(void **state)
{
	(void)state;
	tone_both_ways(MEDIA_CODEC_OPUS, 111);
}

/* A new room rate on a running leg: its audio goes on both ways at the new rate, down to
 * 8 kHz and up to 48 kHz, over a codec at another rate (G.722, 16 kHz) and one at 8 kHz. */
static bool a_b_captured(void)
{
	return W.a.ncap >= want_frames * (W.a.rate / 50u) && W.b.ncap >= want_frames * FRAME;
}

static void set_room_rate_case(enum media_codec_id codec, uint8_t pt)
{
	pair_open(codec, pt, TE_PT);
	W.a.tone_hz = 1000;
	W.b.tone_hz = 600;
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);
	assert_tone(&W.a, 600, 1000);
	static const uint32_t rates[] = {8000, 48000, 24000, 16000};
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		/* between two ticks, as a room switches */
		assert_int_equal(media_leg_set_room_rate(W.a.leg, rates[i]), 0);
		W.a.rate = rates[i];
		assert_int_equal(media_leg_frame_samples(W.a.leg), rates[i] / 50u);
		uint64_t lost = W.a.pulls_false;
		W.a.ncap = W.b.ncap = 0;
		assert_true(run_until(a_b_captured, WALL_MAX));
		assert_tone(&W.a, 600, 1000);
		assert_tone(&W.b, 1000, 600);
		/* the jitter buffer and the decoded audio went on: no gap at the switch */
		assert_true(W.a.pulls_false - lost <= 3);
	}
	/* not a room rate: refused, the leg keeps its own */
	assert_int_equal(media_leg_set_room_rate(W.a.leg, 44100), SB_EINVAL);
	assert_int_equal(media_leg_frame_samples(W.a.leg), FRAME);
	assert_int_equal(media_leg_set_room_rate(W.a.leg, RATE), 0); /* same: nothing to do */
	struct media_leg_stats sa;
	media_leg_stats(W.a.leg, &sa);
	assert_int_equal(sa.rx_bad, 0);
	close_all();
}

static void test_set_room_rate_pcmu(void **state)
{
	(void)state;
	set_room_rate_case(MEDIA_CODEC_PCMU, 0);
}

static void test_set_room_rate_g722(void **state)
{
	(void)state;
	set_room_rate_case(MEDIA_CODEC_G722, 9);
}

static void test_codec_rate(void **state)
{
	(void)state;
	struct media_leg_opts o;
	memset(&o, 0, sizeof(o));
	o.codec = MEDIA_CODEC_PCMU;
	assert_int_equal(media_leg_codec_rate(&o), 8000);
	o.codec = MEDIA_CODEC_PCMA;
	assert_int_equal(media_leg_codec_rate(&o), 8000);
	o.codec = MEDIA_CODEC_G722;
	assert_int_equal(media_leg_codec_rate(&o), 16000);
	o.codec = MEDIA_CODEC_OPUS;
	assert_int_equal(media_leg_codec_rate(&o), 48000);
	o.codec_o.rate = 16000;
	assert_int_equal(media_leg_codec_rate(&o), 16000);
}

/* ---- DTMF ---- */

static size_t want_digits;

static bool b_digits(void)
{
	return W.b.nd >= want_digits;
}

static void dtmf_case(enum media_codec_id codec, uint8_t pt, int16_t te_pt, const char *keys)
{
	pair_open(codec, pt, te_pt);
	/* silence first, so the stream runs when the keys start */
	run_for(100);
	assert_int_equal(media_leg_send_dtmf(W.a.leg, keys), 0);
	want_digits = strlen(keys);
	assert_true(run_until(b_digits, WALL_MAX));
	run_for(300); /* no key reported twice */
	W.b.dtmf[W.b.nd] = 0;
	assert_string_equal(W.b.dtmf, keys);
	for (size_t i = 0; i < W.b.nd; i++) {
		assert_int_equal(W.b.inband[i], te_pt < 0);
		/* reported at its first packet: 20 ms of the key's 100 ms */
		if (te_pt >= 0)
			assert_in_range(W.b.dur[i], 10, 100);
	}
	assert_int_equal(W.a.nd, 0);
	struct media_leg_stats sb;
	media_leg_stats(W.b.leg, &sb);
	if (te_pt >= 0)
		assert_true(sb.rx_dtmf_packets >= strlen(keys) * 3);
	else
		assert_int_equal(sb.rx_dtmf_packets, 0);
	close_all();
}

static void test_dtmf_rfc4733_pcmu(void **state)
{
	(void)state;
	dtmf_case(MEDIA_CODEC_PCMU, 0, TE_PT, "123#");
}

static void test_dtmf_rfc4733_g722(void **state)
{
	(void)state;
	dtmf_case(MEDIA_CODEC_G722, 9, TE_PT, "*0D");
}

static void test_dtmf_rfc4733_opus(void **state)
{
	(void)state;
	dtmf_case(MEDIA_CODEC_OPUS, 111, TE_PT, "47#");
}

static void test_dtmf_inband_pcmu(void **state)
{
	(void)state;
	dtmf_case(MEDIA_CODEC_PCMU, 0, -1, "159*");
}

static void test_dtmf_inband_g722(void **state)
{
	(void)state;
	dtmf_case(MEDIA_CODEC_G722, 9, -1, "258");
}

static void test_dtmf_bad_keys(void **state)
{
	(void)state;
	pair_open(MEDIA_CODEC_PCMU, 0, TE_PT);
	assert_int_equal(media_leg_send_dtmf(W.a.leg, "12x"), SB_EINVAL);
	char many[MEDIA_DTMF_TX_MAX + 2];
	memset(many, '1', sizeof(many) - 1);
	many[sizeof(many) - 1] = 0;
	assert_int_equal(media_leg_send_dtmf(W.a.leg, many), SB_ETOOBIG);
	run_for(300);
	assert_int_equal(W.b.nd, 0); /* nothing was queued */
	close_all();
}

/* ---- timeouts and hold ---- */

static bool b_timed_out(void)
{
	return W.b.timeouts > 0;
}

static void test_first_rtp_timeout(void **state)
{
	(void)state;
	side_bind(&W.a, "a"); /* bound but silent: no leg */
	side_bind(&W.b, "b");
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU,
			     .te_pt = TE_PT,
			     .rtp_timeout_ms = 200,
			     .first_rtp_timeout_ms = 200,
			     .remote = &W.a.addr};
	side_open(&W.b, &cb);
	W.b.pull = W.b.push = true;
	assert_true(run_until(b_timed_out, WALL_MAX));
	assert_int_equal(W.b.why, MEDIA_LEG_NO_RTP_AFTER_ANSWER);
	assert_true(W.b.timeout_at - W.b.created_at >= 200);
	run_for(300);
	assert_int_equal(W.b.timeouts, 1); /* once per leg */
	close_all();
}

static bool b_heard_enough(void)
{
	return W.b.ncap >= want_frames * FRAME;
}

/* SDES keys changed by a re-INVITE: the new keys take over at once (no authentication failure
 * after both ends moved), and a receiver left on a wrong key fails every packet until it is
 * given the right one. */
static void srtp_key(uint8_t key[RTP_SRTP_KEY_LEN], uint8_t seed)
{
	for (int i = 0; i < RTP_SRTP_KEY_LEN; i++)
		key[i] = (uint8_t)(seed * 31 + i);
}

static void test_srtp_rekey(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.b.addr};
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.a.addr};
	struct media_leg_opts oa = leg_opts(&W.a, &ca), ob = leg_opts(&W.b, &cb);
	oa.srtp = ob.srtp = RTP_SRTP_AES_CM_128_HMAC_SHA1_80;
	srtp_key(oa.srtp_tx_key, 1);
	srtp_key(ob.srtp_rx_key, 1);
	srtp_key(ob.srtp_tx_key, 2);
	srtp_key(oa.srtp_rx_key, 2);
	assert_int_equal(media_leg_new(&W.a.leg, &W.loop, &oa), 0);
	assert_int_equal(media_leg_new(&W.b.leg, &W.loop, &ob), 0);
	W.a.fd = W.b.fd = -1;
	W.a.push = W.b.pull = true;
	W.a.tone_hz = 1000;
	want_frames = 20;
	assert_true(run_until(b_heard_enough, WALL_MAX));
	struct media_leg_stats st;
	media_leg_stats(W.b.leg, &st);
	assert_int_equal(st.srtp_failures, 0);

	/* a's re-INVITE offers a new key: a sends with it, b receives with it */
	srtp_key(oa.srtp_tx_key, 3);
	srtp_key(ob.srtp_rx_key, 3);
	assert_int_equal(media_leg_update(W.a.leg, &oa), 0);
	assert_int_equal(media_leg_update(W.b.leg, &ob), 0);
	want_frames = W.b.ncap / FRAME + 20;
	assert_true(run_until(b_heard_enough, WALL_MAX));
	assert_tone(&W.b, 1000, 440);
	media_leg_stats(W.b.leg, &st);
	assert_int_equal(st.srtp_failures, 0);

	/* b left on a wrong key: every packet fails authentication, nothing is played */
	srtp_key(ob.srtp_rx_key, 4);
	assert_int_equal(media_leg_update(W.b.leg, &ob), 0);
	run_for(300);
	media_leg_stats(W.b.leg, &st);
	assert_true(st.srtp_failures >= 10);
	uint64_t failed = st.srtp_failures;
	srtp_key(ob.srtp_rx_key, 3);
	assert_int_equal(media_leg_update(W.b.leg, &ob), 0);
	want_frames = W.b.ncap / FRAME + 20;
	assert_true(run_until(b_heard_enough, WALL_MAX));
	media_leg_stats(W.b.leg, &st);
	assert_true(st.srtp_failures <= failed + 1); /* at most one packet read before the fix */
	close_all();
}

static void test_rtp_stopped_timeout(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.b.addr};
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU,
			     .te_pt = TE_PT,
			     .rtp_timeout_ms = 200,
			     .first_rtp_timeout_ms = 200,
			     .remote = &W.a.addr};
	side_open(&W.a, &ca);
	side_open(&W.b, &cb);
	W.a.push = W.b.pull = true;
	W.a.tone_hz = 1000;
	want_frames = 15;
	assert_true(run_until(b_heard_enough, WALL_MAX));
	assert_int_equal(W.b.timeouts, 0); /* packets kept it alive past 200 ms */
	W.a.push = false;
	uint64_t stop = loop_now();
	assert_true(run_until(b_timed_out, WALL_MAX));
	assert_int_equal(W.b.why, MEDIA_LEG_NO_RTP);
	assert_true(W.b.timeout_at - stop >= 200 - TICK_MS);
	run_for(300);
	assert_int_equal(W.b.timeouts, 1);
	close_all();
}

static void test_hold_suspends_timeouts(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.b.addr};
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU,
			     .te_pt = TE_PT,
			     .rtp_timeout_ms = 200,
			     .first_rtp_timeout_ms = 200,
			     .remote = &W.a.addr};
	side_open(&W.a, &ca);
	side_open(&W.b, &cb);
	W.a.push = W.a.pull = W.b.pull = W.b.push = true;
	W.a.tone_hz = 1000;
	W.b.tone_hz = 600;
	want_frames = 10;
	assert_true(run_until(b_heard_enough, WALL_MAX));
	/* b on hold: it neither hears nor sends, and the silence that follows is no timeout */
	media_leg_set_hold(W.b.leg, true);
	media_leg_set_hold(W.b.leg, true); /* twice is once */
	size_t heard = W.b.ncap;
	run_for(100);
	struct media_leg_stats sb0, sb1, sa0, sa1;
	media_leg_stats(W.b.leg, &sb0);
	media_leg_stats(W.a.leg, &sa0);
	W.a.push = false;
	run_for(400);
	assert_int_equal(W.b.timeouts, 0);
	assert_int_equal(W.b.ncap, heard);
	media_leg_stats(W.b.leg, &sb1);
	media_leg_stats(W.a.leg, &sa1);
	assert_int_equal(sb1.tx_packets, sb0.tx_packets);
	assert_int_equal(sa1.rx_packets, sa0.rx_packets);
	/* resumed: the timeout counts again from now */
	uint64_t resumed = loop_now();
	media_leg_set_hold(W.b.leg, false);
	assert_true(run_until(b_timed_out, WALL_MAX));
	assert_int_equal(W.b.timeouts, 1);
	assert_int_equal(W.b.why, MEDIA_LEG_NO_RTP);
	assert_true(W.b.timeout_at - resumed >= 200 - TICK_MS);
	/* and it sends again */
	media_leg_stats(W.b.leg, &sb0);
	run_for(200);
	media_leg_stats(W.b.leg, &sb1);
	assert_true(sb1.tx_packets > sb0.tx_packets);
	close_all();
}

static void test_hold_before_first_rtp(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU,
			     .te_pt = TE_PT,
			     .rtp_timeout_ms = 200,
			     .first_rtp_timeout_ms = 200,
			     .remote = &W.a.addr};
	side_open(&W.b, &cb);
	W.b.pull = W.b.push = true;
	media_leg_set_hold(W.b.leg, true);
	run_for(400);
	assert_int_equal(W.b.timeouts, 0);
	uint64_t resumed = loop_now();
	media_leg_set_hold(W.b.leg, false);
	assert_true(run_until(b_timed_out, WALL_MAX));
	assert_int_equal(W.b.why, MEDIA_LEG_NO_RTP_AFTER_ANSWER);
	assert_true(W.b.timeout_at - resumed >= 200 - TICK_MS);
	close_all();
}

/* ---- latching ---- */

static bool a_captured(void)
{
	return W.a.ncap >= want_frames * FRAME;
}

/* Reads everything pending on a plain test socket; returns the datagram count. */
static int drain_count(int fd)
{
	uint8_t buf[2048];
	int n = 0;
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

static void test_latch_unknown_remote(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.b.addr};
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = NULL};
	side_open(&W.a, &ca);
	side_open(&W.b, &cb);
	W.b.push = W.b.pull = W.a.pull = true;
	W.b.tone_hz = 600;
	run_for(200);
	struct media_leg_stats sb;
	media_leg_stats(W.b.leg, &sb);
	assert_int_equal(sb.tx_packets, 0); /* nowhere to send yet */
	assert_false(sb.latched);
	assert_int_equal(W.a.ncap, 0);
	/* a speaks: b learns where a is and answers there */
	W.a.push = true;
	W.a.tone_hz = 1000;
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.a, 600, 1000);
	assert_tone(&W.b, 1000, 600);
	media_leg_stats(W.b.leg, &sb);
	assert_true(sb.latched);
	assert_true(sb.tx_packets > 0);
	close_all();
}

static void test_latch_wrong_remote(void **state)
{
	(void)state;
	struct sockaddr_in decoy_addr;
	int decoy = bind_any(&decoy_addr);
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.b.addr};
	/* b's SDP said the wrong address (a NAT in between): it sends to the decoy at first */
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &decoy_addr};
	side_open(&W.a, &ca);
	side_open(&W.b, &cb);
	W.b.push = W.b.pull = W.a.pull = true;
	W.b.tone_hz = 600;
	run_for(200);
	assert_true(drain_count(decoy) > 0);
	W.a.push = true;
	W.a.tone_hz = 1000;
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.a, 600, 1000);
	(void)drain_count(decoy);
	run_for(200);
	assert_int_equal(drain_count(decoy), 0); /* moved for good */
	struct media_leg_stats sb;
	media_leg_stats(W.b.leg, &sb);
	assert_true(sb.latched);

	/* a stray source (the decoy) sending RTP now cannot steal the stream from a */
	uint8_t pkt[12 + 160];
	memset(pkt, 0xff, sizeof(pkt));
	for (int k = 0; k < 20; k++) {
		size_t hl = rtp_write_header(pkt, sizeof(pkt), 0, k == 0, (uint16_t)(500 + k),
					     (uint32_t)(k * 160), 0x12345678u);
		assert_int_equal(hl, 12);
		assert_int_equal(sendto(decoy, pkt, sizeof(pkt), 0, (struct sockaddr *)&W.b.addr,
					sizeof(W.b.addr)),
				 (ssize_t)sizeof(pkt));
		run_for(10);
	}
	run_for(200);
	assert_int_equal(drain_count(decoy), 0);
	size_t before = W.a.ncap;
	want_frames = before / FRAME + 10;
	assert_true(run_until(a_captured, WALL_MAX));
	close(decoy);
	close_all();
}

/* ---- stats ---- */

static void test_stats(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	side_bind(&W.b, "b");
	struct leg_cfg ca = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.b.addr};
	struct leg_cfg cb = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.a.addr};
	side_open(&W.a, &ca);
	side_open(&W.b, &cb);
	W.a.push = W.b.pull = true;
	W.a.tone_hz = 1000;
	want_frames = 25;
	assert_true(run_until(b_heard_enough, WALL_MAX));
	W.a.push = false;
	run_for(100); /* the last packets arrive */
	struct media_leg_stats sa, sb;
	media_leg_stats(W.a.leg, &sa);
	media_leg_stats(W.b.leg, &sb);
	assert_int_equal(sa.tx_packets, W.a.pushes);
	assert_int_equal(sa.tx_bytes, W.a.pushes * (12 + 160));
	assert_int_equal(sb.rx_packets, sa.tx_packets); /* loopback loses nothing */
	assert_int_equal(sb.rx_bytes, sa.tx_bytes);
	assert_int_equal(sb.rx_bad, 0);
	assert_int_equal(sb.rx_dtmf_packets, 0);
	assert_int_equal(sb.srtp_failures, 0);
	assert_int_equal(sb.tx_packets, 0);
	assert_int_equal(sa.rx_packets, 0);
	assert_true(sb.latched);
	assert_true(sb.jb_delay_ms >= 20 && sb.jb_delay_ms <= 200);
	/* garbage and unknown payload types are counted, not played */
	int junk = bind_any(&(struct sockaddr_in){0});
	uint8_t bad[3] = {1, 2, 3};
	assert_int_equal(
	    sendto(junk, bad, sizeof(bad), 0, (struct sockaddr *)&W.b.addr, sizeof(W.b.addr)), 3);
	uint8_t pkt[12 + 20];
	memset(pkt, 0, sizeof(pkt));
	(void)rtp_write_header(pkt, sizeof(pkt), 96, false, 1, 1, 0x1111);
	assert_int_equal(
	    sendto(junk, pkt, sizeof(pkt), 0, (struct sockaddr *)&W.b.addr, sizeof(W.b.addr)),
	    (ssize_t)sizeof(pkt));
	run_for(100);
	media_leg_stats(W.b.leg, &sb);
	assert_int_equal(sb.rx_bad, 2);
	assert_int_equal(sb.rx_packets, sa.tx_packets);
	close(junk);
	close_all();
}

/* ---- codec change mid-call ---- */

static void test_update_codec(void **state)
{
	(void)state;
	pair_open(MEDIA_CODEC_PCMU, 0, TE_PT);
	W.a.tone_hz = 1000;
	W.b.tone_hz = 600;
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);

	/* a switches to G.722 first: b does not play what it did not negotiate */
	struct leg_cfg g722 = {.codec = MEDIA_CODEC_G722, .pt = 9, .te_pt = TE_PT};
	struct media_leg_opts o = leg_opts(&W.a, &g722);
	o.rtp_fd = -1;
	assert_int_equal(media_leg_update(W.a.leg, &o), 0);
	run_for(60); /* PCMU packets still on their way */
	struct media_leg_stats sb0, sb1;
	media_leg_stats(W.b.leg, &sb0);
	run_for(200);
	media_leg_stats(W.b.leg, &sb1);
	assert_true(sb1.rx_bad >= sb0.rx_bad + 3);
	assert_int_equal(sb1.rx_packets, sb0.rx_packets);

	/* then b does too: the tone is back, both ways, in G.722 */
	o = leg_opts(&W.b, &g722);
	o.rtp_fd = -1;
	assert_int_equal(media_leg_update(W.b.leg, &o), 0);
	W.a.ncap = W.b.ncap = 0;
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);
	assert_tone(&W.a, 600, 1000);

	/* and on to Opus, both at once */
	struct leg_cfg opus = {.codec = MEDIA_CODEC_OPUS, .pt = 111, .te_pt = TE_PT};
	o = leg_opts(&W.a, &opus);
	o.rtp_fd = -1;
	assert_int_equal(media_leg_update(W.a.leg, &o), 0);
	o = leg_opts(&W.b, &opus);
	o.rtp_fd = -1;
	assert_int_equal(media_leg_update(W.b.leg, &o), 0);
	W.a.ncap = W.b.ncap = 0;
	assert_true(run_until(both_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);
	assert_tone(&W.a, 600, 1000);

	/* keys after the switch: RFC 4733 on the Opus clock, durations still right */
	W.b.nd = 0;
	assert_int_equal(media_leg_send_dtmf(W.a.leg, "5"), 0);
	want_digits = 1;
	assert_true(run_until(b_digits, WALL_MAX));
	run_for(200);
	assert_int_equal(W.b.nd, 1);
	assert_int_equal(W.b.dtmf[0], '5');
	assert_in_range(W.b.dur[0], 10, 100);

	/* a bad update changes nothing */
	o.room_rate = 12345;
	assert_int_equal(media_leg_update(W.b.leg, &o), SB_EINVAL);
	W.b.ncap = 0;
	want_frames = 30;
	assert_true(run_until(b_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);
	close_all();
}

/* Switching DTMF between RFC 4733 and in-band by re-INVITE. */
static void test_update_dtmf_mode(void **state)
{
	(void)state;
	pair_open(MEDIA_CODEC_PCMU, 0, TE_PT);
	run_for(100);
	struct leg_cfg inband = {.codec = MEDIA_CODEC_PCMU, .pt = 0, .te_pt = -1};
	struct media_leg_opts o = leg_opts(&W.a, &inband);
	o.rtp_fd = -1;
	assert_int_equal(media_leg_update(W.a.leg, &o), 0);
	o = leg_opts(&W.b, &inband);
	o.rtp_fd = -1;
	assert_int_equal(media_leg_update(W.b.leg, &o), 0);
	assert_int_equal(media_leg_send_dtmf(W.a.leg, "36"), 0);
	want_digits = 2;
	assert_true(run_until(b_digits, 2000));
	run_for(200);
	W.b.dtmf[W.b.nd] = 0;
	assert_string_equal(W.b.dtmf, "36");
	assert_true(W.b.inband[0] && W.b.inband[1]);
	close_all();
}

/* ---- creation errors ---- */

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static void test_new_errors(void **state)
{
	(void)state;
	side_bind(&W.a, "a");
	struct leg_cfg c = {.codec = MEDIA_CODEC_PCMU, .te_pt = TE_PT, .remote = &W.a.addr};
	struct media_leg_opts o = leg_opts(&W.a, &c);
	struct media_leg *l = NULL;
	o.rtp_fd = -1;
	assert_int_equal(media_leg_new(&l, &W.loop, &o), SB_EINVAL);
	/* bad options: the fd is closed all the same */
	o.rtp_fd = W.a.fd;
	o.room_rate = 11025;
	assert_int_equal(media_leg_new(&l, &W.loop, &o), SB_EINVAL);
	assert_false(fd_is_open(W.a.fd));
	W.a.fd = -1;
	assert_null(l);
	assert_int_equal(rtp_sock_bind("not-an-ip", 0), SB_EINVAL);
	/* a port in use cannot be bound twice */
	side_bind(&W.b, "b");
	assert_int_equal(rtp_sock_bind("127.0.0.1", ntohs(W.b.addr.sin_port)), SB_EIO);
	int fd6 = rtp_sock_bind("::1", 0);
	if (fd6 >= 0) /* IPv6 may be off in the container */
		close(fd6);
}

/* A ringback (US: 440 + 480 Hz, 2 s on) played into a leg replaces the room audio: the far
 * end hears both frequencies and not the tone the room was sending; stopping it brings the
 * room audio back. */
static void test_play_tone(void **state)
{
	(void)state;
	pair_open(MEDIA_CODEC_PCMU, 0, TE_PT);
	W.a.tone_hz = 1000;
	W.b.tone_hz = 600;
	assert_int_equal(media_leg_play_tone(W.a.leg, MEDIA_TONE_RINGBACK, MEDIA_TONE_US, true), 0);
	want_frames = 30;
	assert_true(run_until(both_captured, WALL_MAX));
	size_t n = 20 * FRAME;
	const int16_t *x = W.b.cap + W.b.ncap - n;
	double a440 = goertzel_amp(x, n, 440, RATE), a480 = goertzel_amp(x, n, 480, RATE);
	double a1000 = goertzel_amp(x, n, 1000, RATE);
	assert_true(a440 > 500 && a480 > 500);
	assert_true(a1000 < 0.05 * a440);
	assert_tone(&W.a, 600, 1000); /* a still hears b */
	assert_int_equal(media_leg_play_tone(W.a.leg, MEDIA_TONE_RINGBACK, MEDIA_TONE_US, false),
			 0);
	W.b.ncap = 0;
	assert_true(run_until(b_captured, WALL_MAX));
	assert_tone(&W.b, 1000, 600);
	assert_int_equal(media_leg_play_tone(W.a.leg, (enum media_tone_kind)9, MEDIA_TONE_US, true),
			 SB_EINVAL);
	close_all();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_tone_pcmu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tone_pcma, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tone_g722, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tone_opus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_room_rate_pcmu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_room_rate_g722, setup, teardown),
	    cmocka_unit_test(test_codec_rate),
	    cmocka_unit_test_setup_teardown(test_dtmf_rfc4733_pcmu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_rfc4733_g722, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_rfc4733_opus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_inband_pcmu, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_inband_g722, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dtmf_bad_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_first_rtp_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rtp_stopped_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_suspends_timeouts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hold_before_first_rtp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_latch_unknown_remote, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_latch_wrong_remote, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_srtp_rekey, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_codec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_dtmf_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_play_tone, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
