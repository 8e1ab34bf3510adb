/* Unit tests for src/media/jitter.c driven by simulated time: ordering, loss, duplicates, late
 * packets, delay adaptation up and down, wrap-around, resets and the slot/size limits. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/jitter.h"

#define MAXP  4096 /* packets in one simulation */
#define FRAME 160  /* 20 ms at 8 kHz */
#define NONE  UINT64_MAX

/* One simulated leg: packet k has seq base+k, ts ts0+k*FRAME (+ ts_add[k]), and arrives at
 * arrival[k] (NONE = lost). Every ms the due packets are put, in order of k; every 20 ms the
 * consumer calls get once, as a leg does for 20 ms frames. */
struct sim {
	struct media_jb jb;
	uint16_t base;
	uint32_t ts0;
	int n;
	uint64_t arrival[MAXP];
	uint32_t ts_add[MAXP];
	bool marker[MAXP];
	enum media_jb_put_result put_res[MAXP];
	/* outcome */
	uint64_t played_at[MAXP];
	int played[MAXP], lost[MAXP];
	int frames, losses, empties;
	uint32_t max_target, min_target;
	uint64_t max_delay;
};

static uint32_t rng_state;
static uint32_t rng(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static struct sim the_sim; /* static: a failing assert leaks nothing */

static struct sim *sim_new(uint32_t min_ms, uint32_t max_ms)
{
	struct sim *s = &the_sim;
	media_jb_free(&s->jb); /* the previous test's store */
	memset(s, 0, sizeof(*s));
	struct media_jb_opts o = {
	    .rtp_rate = 8000, .frame_ms = 20, .min_ms = min_ms, .max_ms = max_ms};
	media_jb_init(&s->jb, &o);
	for (int k = 0; k < MAXP; k++)
		s->arrival[k] = NONE;
	s->min_target = UINT32_MAX;
	return s;
}

/* Packets k in [from, to) arrive 20 ms apart from t0 (+ offset). */
static void regular(struct sim *s, int from, int to, uint64_t t0)
{
	for (int k = from; k < to; k++)
		s->arrival[k] = t0 + (uint64_t)(k - from) * 20;
	if (to > s->n)
		s->n = to;
}

static void payload_of(int k, uint8_t *p)
{
	memset(p, 0, 20);
	p[0] = (uint8_t)k;
	p[1] = (uint8_t)(k >> 8);
}

static void run(struct sim *s, uint64_t from, uint64_t until)
{
	for (uint64_t t = from; t < until; t++) {
		for (int k = 0; k < s->n; k++) {
			if (s->arrival[k] != t)
				continue;
			uint8_t p[20];
			payload_of(k, p);
			s->put_res[k] = media_jb_put(&s->jb, (uint16_t)(s->base + k),
						     s->ts0 + (uint32_t)k * FRAME + s->ts_add[k],
						     s->marker[k], p, sizeof(p), t);
		}
		if (t % 20)
			continue;
		struct media_jb_frame f;
		enum media_jb_get_result r = media_jb_get(&s->jb, t, &f);
		int k = (uint16_t)(f.seq - s->base);
		if (r == MEDIA_JB_FRAME) {
			assert_true(k < s->n);
			uint8_t p[20];
			payload_of(k, p);
			assert_int_equal(f.len, 20);
			assert_memory_equal(f.payload, p, 20);
			assert_int_equal(f.ts, s->ts0 + (uint32_t)k * FRAME + s->ts_add[k]);
			assert_int_equal(f.samples, FRAME);
			s->played[k]++;
			s->played_at[k] = t;
			s->frames++;
			uint64_t delay = t - s->arrival[k];
			s->max_delay = delay > s->max_delay ? delay : s->max_delay;
		} else if (r == MEDIA_JB_LOST) {
			assert_true(k < s->n);
			assert_int_equal(f.samples, FRAME);
			assert_null(f.payload);
			/* the following packet rides along for FEC when it is here */
			if (f.next_payload) {
				uint8_t p[20];
				payload_of(k + 1, p);
				assert_memory_equal(f.next_payload, p, 20);
			}
			s->lost[k]++;
			s->losses++;
		} else {
			s->empties++;
		}
		struct media_jb_stats st;
		media_jb_stats(&s->jb, &st);
		s->max_target = st.delay_ms > s->max_target ? st.delay_ms : s->max_target;
		s->min_target = st.delay_ms < s->min_target ? st.delay_ms : s->min_target;
	}
}

static struct media_jb_stats stats(const struct sim *s)
{
	struct media_jb_stats st;
	media_jb_stats(&s->jb, &st);
	return st;
}

static void in_order(void **state)
{
	(void)state;
	struct sim *s = sim_new(0, 0);
	struct media_jb_frame f;
	assert_int_equal(media_jb_get(&s->jb, 0, &f), MEDIA_JB_EMPTY); /* not started */
	assert_int_equal(stats(s).delay_ms, 40);		       /* initial target */
	regular(s, 0, 75, 105); /* 1.5 s, arriving 5 ms after a tick */
	run(s, 0, 105 + 75 * 20 + 200);
	for (int k = 0; k < 75; k++) {
		assert_int_equal(s->played[k], 1);
		assert_int_equal(s->lost[k], 0);
		assert_int_equal(s->put_res[k], MEDIA_JB_PUT_OK);
		uint64_t delay = s->played_at[k] - s->arrival[k];
		assert_true(delay >= 30 && delay <= 50); /* target 40 +- half a frame */
		if (k)
			assert_int_equal(s->played_at[k] - s->played_at[k - 1], 20);
	}
	struct media_jb_stats st = stats(s);
	assert_int_equal(st.put, 75);
	assert_int_equal(st.played, 75);
	assert_int_equal(st.lost + st.late + st.duplicates + st.dropped + st.resets, 0);
	assert_int_equal(st.jitter_ms, 0);
	assert_int_equal(st.depth, 0);
	assert_int_equal(s->losses, 0);
}

static void reorder(void **state)
{
	(void)state;
	struct sim *s = sim_new(0, 0);
	regular(s, 0, 60, 105);
	/* adjacent: 11 before 10 */
	s->arrival[10] = s->arrival[11] - 2;
	s->arrival[11] -= 5;
	/* three: 22, 20, 21 */
	s->arrival[22] = s->arrival[20] - 3;
	s->arrival[20] += 1;
	s->arrival[21] = s->arrival[20] + 9;
	run(s, 0, 105 + 60 * 20 + 200);
	for (int k = 0; k < 60; k++) {
		assert_int_equal(s->played[k], 1);
		assert_int_equal(s->lost[k], 0);
		if (k)
			assert_true(s->played_at[k] > s->played_at[k - 1]);
	}
	struct media_jb_stats st = stats(s);
	assert_int_equal(st.played, 60);
	assert_int_equal(st.lost + st.late + st.duplicates + st.dropped, 0);
}

static void duplicates(void **state)
{
	(void)state;
	struct media_jb jb;
	media_jb_init(&jb, NULL);
	uint8_t p[20] = {0};
	assert_int_equal(media_jb_put(&jb, 100, 16000, false, p, 20, 1000), MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 101, 16160, false, p, 20, 1020), MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 101, 16160, false, p, 20, 1021), MEDIA_JB_PUT_DUPLICATE);
	struct media_jb_frame f;
	assert_int_equal(media_jb_get(&jb, 1040, &f), MEDIA_JB_FRAME);
	assert_int_equal(f.seq, 100);
	/* a copy of a packet already played is a duplicate, not a late packet */
	assert_int_equal(media_jb_put(&jb, 100, 16000, false, p, 20, 1045), MEDIA_JB_PUT_DUPLICATE);
	assert_int_equal(media_jb_get(&jb, 1060, &f), MEDIA_JB_FRAME);
	assert_int_equal(f.seq, 101);
	assert_int_equal(media_jb_get(&jb, 1080, &f), MEDIA_JB_EMPTY);
	struct media_jb_stats st;
	media_jb_stats(&jb, &st);
	assert_int_equal(st.duplicates, 2);
	assert_int_equal(st.late, 0);
	assert_int_equal(st.played, 2);
	assert_int_equal(st.delay_ms, 40); /* duplicates do not move the target */
	media_jb_free(&jb);
}

static void random_loss(int percent, uint32_t seed)
{
	struct sim *s = sim_new(0, 0);
	enum { N = 1500 }; /* 30 s */
	rng_state = seed;
	regular(s, 0, N, 107);
	int missing = 0;
	for (int k = 1; k < N - 1; k++)
		if ((int)(rng() % 100) < percent) {
			s->arrival[k] = NONE;
			missing++;
		}
	run(s, 0, 107 + N * 20 + 400);
	int skipped = 0;
	for (int k = 0; k < N; k++) {
		if (s->arrival[k] == NONE) {
			assert_int_equal(s->lost[k], 1);
			assert_int_equal(s->played[k], 0);
		} else {
			assert_int_equal(s->lost[k], 0);
			assert_true(s->played[k] <= 1);
			skipped += s->played[k] == 0;
		}
	}
	struct media_jb_stats st = stats(s);
	assert_int_equal(s->losses, missing);
	assert_int_equal(st.lost, (uint64_t)missing);
	assert_int_equal(st.dropped, (uint64_t)skipped); /* a skip to shrink the delay, if any */
	/* each underrun (two losses in a row empty the buffer) costs a frame of delay, which the
	 * shrink takes back by skipping one frame later */
	assert_true(skipped <= s->empties);
	assert_int_equal(st.late, 0);
	assert_true(s->max_target <= 80);
}

static void loss_5(void **state)
{
	(void)state;
	random_loss(5, 12345);
}

static void loss_20(void **state)
{
	(void)state;
	random_loss(20, 777);
}

static void late_packet(void **state)
{
	(void)state;
	struct sim *s = sim_new(0, 0);
	regular(s, 0, 100, 105);
	s->arrival[30] += 100; /* well after 31..34 */
	run(s, 0, 105 + 100 * 20 + 300);
	assert_int_equal(s->put_res[30], MEDIA_JB_PUT_LATE);
	assert_int_equal(s->lost[30], 1);
	assert_int_equal(s->played[30], 0);
	struct media_jb_stats st = stats(s);
	assert_int_equal(st.late, 1);
	assert_true(s->max_target >= 100); /* grew by the lateness at once */
	assert_true(s->max_target <= 200);
	/* the growth held playout back: packets after it waited longer */
	assert_true(s->played_at[40] - s->arrival[40] >= 80);
	for (int k = 0; k < 100; k++)
		if (k != 30)
			assert_int_equal(s->played[k], 1);
}

static void jitter_adapts(void **state)
{
	(void)state;
	struct sim *s = sim_new(20, 200);
	enum { J = 500, N = 2500 }; /* 10 s of +-30 ms, then 40 s steady */
	rng_state = 4242;
	regular(s, 0, N, 1000);
	for (int k = 0; k < J; k++)
		s->arrival[k] = (uint64_t)((int64_t)s->arrival[k] + (int)(rng() % 61) - 30);
	run(s, 0, 1000 + J * 20);
	struct media_jb_stats st = stats(s);
	assert_true(st.jitter_ms >= 10 && st.jitter_ms <= 30);
	assert_true(s->max_target >= 60);
	assert_true(s->max_target <= 200);
	assert_true(s->min_target >= 20);
	assert_true(s->max_delay <= 200 + 30); /* max_ms plus the tick granularity */
	int lost_in_jitter = s->losses;
	assert_true(lost_in_jitter < J / 10); /* adapted: few concealments */
	uint32_t high = st.delay_ms;

	run(s, 1000 + J * 20, 1000 + N * 20 + 400);
	st = stats(s);
	assert_true(st.jitter_ms <= 1);
	assert_true(st.delay_ms <= 40);
	assert_true(st.delay_ms < high);
	assert_true(s->max_delay <= 230);
	/* the last frames are played close to the target again */
	for (int k = N - 50; k < N; k++) {
		assert_int_equal(s->played[k], 1);
		assert_true(s->played_at[k] - s->arrival[k] <= 60);
	}
	for (int k = 0; k < N; k++) /* each frame once at most: played, concealed, or skipped */
		assert_true(s->played[k] + s->lost[k] <= 1);
	assert_true(st.dropped > 0); /* the shrink skipped frames */
}

static void wrap(void **state)
{
	(void)state;
	struct sim *s = sim_new(0, 0);
	s->base = 65500;
	s->ts0 = UINT32_MAX - 50 * FRAME + 7;
	regular(s, 0, 100, 105);
	s->arrival[36] = s->arrival[35] - 1; /* reordered across the wrap: 65535 and 0 */
	s->arrival[38] = NONE;		     /* seq 2 lost */
	run(s, 0, 105 + 100 * 20 + 200);
	for (int k = 0; k < 100; k++) {
		assert_int_equal(s->played[k], k == 38 ? 0 : 1);
		assert_int_equal(s->lost[k], k == 38 ? 1 : 0);
	}
	struct media_jb_stats st = stats(s);
	assert_int_equal(st.resets, 0);
	assert_int_equal(st.late + st.dropped + st.duplicates, 0);
}

static void resets(void **state)
{
	(void)state;
	/* a talk spurt after 1 s of silence: same sequence run, timestamp jump, marker */
	struct sim *s = sim_new(0, 0);
	regular(s, 0, 50, 105);
	regular(s, 50, 100, 105 + 50 * 20 + 1000);
	for (int k = 50; k < 100; k++)
		s->ts_add[k] = 8000;
	s->marker[50] = true;
	run(s, 0, 105 + 100 * 20 + 1300);
	assert_int_equal(s->put_res[50], MEDIA_JB_PUT_RESET);
	for (int k = 0; k < 100; k++)
		assert_int_equal(s->played[k], 1);
	uint64_t d50 = s->played_at[50] - s->arrival[50];
	struct media_jb_stats st = stats(s);
	/* a fresh start: the target delay again (by now 20 ms: no jitter was seen for 2 s) */
	assert_int_equal(st.delay_ms, 20);
	assert_true(d50 + 10 >= st.delay_ms && d50 <= st.delay_ms + 10);
	assert_int_equal(st.resets, 1);
	assert_int_equal(st.lost + st.late, 0);

	/* the same without the marker: the timestamp jump alone restarts */
	s = sim_new(0, 0);
	regular(s, 0, 50, 105);
	regular(s, 50, 100, 105 + 50 * 20 + 1000);
	for (int k = 50; k < 100; k++)
		s->ts_add[k] = 8000;
	run(s, 0, 105 + 100 * 20 + 1300);
	assert_int_equal(s->put_res[50], MEDIA_JB_PUT_RESET);
	assert_int_equal(stats(s).lost + stats(s).late, 0);
	assert_true(stats(s).delay_ms <= 40); /* the silence was not taken for lateness */

	/* a marker spurt arriving while the previous one is still held: nothing is cut */
	s = sim_new(0, 0);
	regular(s, 0, 50, 105);
	regular(s, 50, 100, 105 + 50 * 20 - 10);
	for (int k = 50; k < 100; k++)
		s->ts_add[k] = 800;
	s->marker[50] = true;
	run(s, 0, 105 + 100 * 20 + 300);
	assert_int_equal(s->put_res[50], MEDIA_JB_PUT_OK);
	for (int k = 0; k < 100; k++)
		assert_int_equal(s->played[k], 1);
	assert_true(s->played_at[50] > s->played_at[49]);

	/* a new source: sequence jump with packets held; then a timestamp jump */
	struct media_jb jb;
	media_jb_init(&jb, NULL);
	uint8_t p[20] = {0};
	struct media_jb_frame f;
	assert_int_equal(media_jb_put(&jb, 10, 1000, false, p, 20, 0), MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 11, 1160, false, p, 20, 20), MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 5011, 1320, false, p, 20, 40), MEDIA_JB_PUT_RESET);
	assert_int_equal(media_jb_get(&jb, 60, &f), MEDIA_JB_EMPTY); /* due at 40 + 40 */
	assert_int_equal(media_jb_get(&jb, 80, &f), MEDIA_JB_FRAME);
	assert_int_equal(f.seq, 5011);
	assert_int_equal(media_jb_put(&jb, 5012, 1480, false, p, 20, 85), MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 5013, 1640 + 8000 * 11, false, p, 20, 100),
			 MEDIA_JB_PUT_RESET);
	/* far behind is a new source too, not a late packet */
	assert_int_equal(media_jb_put(&jb, 1013, 9640, false, p, 20, 120), MEDIA_JB_PUT_RESET);
	struct media_jb_stats st2;
	media_jb_stats(&jb, &st2);
	assert_int_equal(st2.resets, 3);
	assert_int_equal(st2.dropped, 4); /* 10 and 11, then 5012, then 5013 */
	assert_int_equal(st2.depth, 1);
	media_jb_reset(&jb);
	media_jb_stats(&jb, &st2);
	assert_int_equal(st2.depth, 0);
	assert_int_equal(media_jb_get(&jb, 200, &f), MEDIA_JB_EMPTY);
	media_jb_free(&jb);
}

static void oversize(void **state)
{
	(void)state;
	struct media_jb jb;
	media_jb_init(&jb, NULL);
	static uint8_t big[MEDIA_JB_MAX_BYTES + 1];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	assert_int_equal(media_jb_put(&jb, 1, 0, false, big, sizeof(big), 0), MEDIA_JB_PUT_TOO_BIG);
	assert_int_equal(media_jb_put(&jb, 1, 0, false, big, MEDIA_JB_MAX_BYTES, 0),
			 MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 2, 160, false, NULL, 0, 20), MEDIA_JB_PUT_OK);
	struct media_jb_frame f;
	assert_int_equal(media_jb_get(&jb, 40, &f), MEDIA_JB_FRAME);
	assert_int_equal(f.len, MEDIA_JB_MAX_BYTES);
	assert_memory_equal(f.payload, big, MEDIA_JB_MAX_BYTES);
	assert_int_equal(media_jb_get(&jb, 60, &f), MEDIA_JB_FRAME);
	assert_int_equal(f.len, 0);
	struct media_jb_stats st;
	media_jb_stats(&jb, &st);
	assert_int_equal(st.put, 3);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.played, 2);
	media_jb_free(&jb);
}

static void slot_limits(void **state)
{
	(void)state;
	struct media_jb jb;
	media_jb_init(&jb, NULL);
	uint8_t p[20] = {0};
	struct media_jb_stats st;
	/* 16 packets fill the buffer exactly */
	for (uint16_t k = 0; k < MEDIA_JB_SLOTS; k++)
		assert_int_equal(media_jb_put(&jb, k, k * 160u, false, p, 20, 0), MEDIA_JB_PUT_OK);
	media_jb_stats(&jb, &st);
	assert_int_equal(st.depth, MEDIA_JB_SLOTS);
	/* the 17th pushes the oldest out */
	assert_int_equal(media_jb_put(&jb, 16, 16 * 160u, false, p, 20, 0), MEDIA_JB_PUT_OVERFLOW);
	media_jb_stats(&jb, &st);
	assert_int_equal(st.depth, MEDIA_JB_SLOTS);
	assert_int_equal(st.dropped, 1);
	/* 32 ahead of the head, with 16 held: 1..16 dropped, 17..24 passed over as lost */
	assert_int_equal(media_jb_put(&jb, 40, 40 * 160u, false, p, 20, 0), MEDIA_JB_PUT_OVERFLOW);
	media_jb_stats(&jb, &st);
	assert_int_equal(st.depth, 1);
	assert_int_equal(st.dropped, 17);
	assert_int_equal(st.lost, 8);
	/* fill the window behind 40: 25..39 */
	for (uint16_t k = 25; k < 40; k++)
		assert_int_equal(media_jb_put(&jb, k, k * 160u, false, p, 20, 0), MEDIA_JB_PUT_OK);
	assert_int_equal(media_jb_put(&jb, 33, 33 * 160u, false, p, 20, 0), MEDIA_JB_PUT_DUPLICATE);
	media_jb_stats(&jb, &st);
	assert_int_equal(st.depth, MEDIA_JB_SLOTS);
	struct media_jb_frame f;
	uint64_t t = 40;
	/* 320 ms held is over max_ms: after 25 is played, 26..30 are cut at once */
	int got = 0;
	for (uint16_t k = 25; k <= 40;) {
		enum media_jb_get_result r = media_jb_get(&jb, t, &f);
		t += 20;
		if (r == MEDIA_JB_EMPTY)
			continue;
		assert_int_equal(r, MEDIA_JB_FRAME);
		assert_int_equal(f.seq, k);
		k = k == 25 ? 31 : k + 1;
		got++;
	}
	assert_int_equal(got, 11);
	/* 24 was passed over: it is late now */
	assert_int_equal(media_jb_put(&jb, 24, 24 * 160u, false, p, 20, t), MEDIA_JB_PUT_LATE);
	media_jb_stats(&jb, &st);
	assert_int_equal(st.depth, 0);
	assert_int_equal(st.played + st.dropped + st.lost, 41);
	media_jb_free(&jb);
}

/* The payload store grows when a larger payload arrives, keeping what is held: 20 ms frames
 * of G.711 (160 bytes), then one of 60 ms (480) while three are held, then small ones. */
static void store_grows(void **state)
{
	(void)state;
	struct media_jb jb;
	media_jb_init(&jb, NULL);
	static uint8_t p[6][MEDIA_JB_MAX_BYTES];
	const size_t len[6] = {160, 160, 160, 480, 4, 160};
	for (int k = 0; k < 6; k++)
		for (size_t i = 0; i < len[k]; i++)
			p[k][i] = (uint8_t)(k * 31 + (int)i);
	uint32_t ts = 0;
	for (int k = 0; k < 6; k++) { /* all arrive before the first is due */
		assert_int_equal(media_jb_put(&jb, (uint16_t)(100 + k), ts, false, p[k], len[k], 0),
				 MEDIA_JB_PUT_OK);
		ts += 160; /* the store does not care what the payload holds */
	}
	struct media_jb_frame f;
	for (int k = 0; k < 6; k++) {
		enum media_jb_get_result r = media_jb_get(&jb, 40 + 20 * (uint64_t)k, &f);
		assert_int_equal(r, MEDIA_JB_FRAME);
		assert_int_equal(f.len, len[k]);
		assert_memory_equal(f.payload, p[k], len[k]);
	}
	media_jb_free(&jb);
	/* usable again after free */
	assert_int_equal(media_jb_put(&jb, 106, 960, false, p[0], 160, 160), MEDIA_JB_PUT_OK);
	media_jb_free(&jb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(in_order),	     cmocka_unit_test(reorder),
	    cmocka_unit_test(duplicates),    cmocka_unit_test(loss_5),
	    cmocka_unit_test(loss_20),	     cmocka_unit_test(late_packet),
	    cmocka_unit_test(jitter_adapts), cmocka_unit_test(wrap),
	    cmocka_unit_test(resets),	     cmocka_unit_test(oversize),
	    cmocka_unit_test(slot_limits),   cmocka_unit_test(store_grows),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	media_jb_free(&the_sim.jb);
	return r;
}
