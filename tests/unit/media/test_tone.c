/* Unit tests for src/media/tone.c: frequencies (Goertzel) and levels of dial, ringback and busy
 * tones, and their on/off cadences, sample-accurate, for the US, the UK and Europe. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "media/tone.h"

static double goertzel_amp(const int16_t *x, size_t n, double f, uint32_t rate)
{
	double w = 2.0 * M_PI * f / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0;
	for (size_t i = 0; i < n; i++) {
		double s0 = x[i] + c * s1 - s2;
		s2 = s1;
		s1 = s0;
	}
	return 2.0 * sqrt(s1 * s1 + s2 * s2 - c * s1 * s2) / (double)n;
}

static double rms(const int16_t *x, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)x[i] * x[i];
	return sqrt(e / (double)n);
}

struct expect {
	enum media_tone_region region;
	enum media_tone_kind kind;
	double f1, f2;
	unsigned cad[4]; /* ms */
};

static const struct expect table[] = {
    {MEDIA_TONE_US, MEDIA_TONE_DIAL, 350, 440, {0, 0, 0, 0}},
    {MEDIA_TONE_US, MEDIA_TONE_RINGBACK, 440, 480, {2000, 4000, 0, 0}},
    {MEDIA_TONE_US, MEDIA_TONE_BUSY, 480, 620, {500, 500, 0, 0}},
    {MEDIA_TONE_UK, MEDIA_TONE_DIAL, 350, 450, {0, 0, 0, 0}},
    {MEDIA_TONE_UK, MEDIA_TONE_RINGBACK, 400, 450, {400, 200, 400, 2000}},
    {MEDIA_TONE_UK, MEDIA_TONE_BUSY, 400, 0, {375, 375, 0, 0}},
    {MEDIA_TONE_EU, MEDIA_TONE_DIAL, 425, 0, {0, 0, 0, 0}},
    {MEDIA_TONE_EU, MEDIA_TONE_RINGBACK, 425, 0, {1000, 4000, 0, 0}},
    {MEDIA_TONE_EU, MEDIA_TONE_BUSY, 425, 0, {500, 500, 0, 0}},
};

#define MAXS (8 * 16000)

/* frequencies and level over the first 200 ms of an on period */
static void check_freqs(const struct expect *e, uint32_t rate)
{
	struct media_tone t;
	assert_int_equal(media_tone_init(&t, e->kind, e->region, rate, -13), 0);
	size_t n = rate / 5;
	int16_t *pcm = malloc(n * sizeof(*pcm));
	assert_non_null(pcm);
	media_tone_fill(&t, pcm, n);
	/* -13 dBm0 per tone with a full-scale sine at +3.14 dBm0 */
	double want = 32767.0 * pow(10.0, (-13 - 3.14) / 20.0);
	double a1 = goertzel_amp(pcm, n, e->f1, rate);
	double a2 = e->f2 ? goertzel_amp(pcm, n, e->f2, rate) : 0;
	double tot = rms(pcm, n), tone = sqrt((a1 * a1 + a2 * a2) / 2);
	assert_true(fabs(20 * log10(a1 / want)) < 0.2);
	if (e->f2)
		assert_true(fabs(20 * log10(a2 / want)) < 0.2);
	assert_true(tone / tot > 0.999); /* nothing else in the signal */
	/* a neighbour 50 Hz off is absent */
	assert_true(goertzel_amp(pcm, n, e->f1 + 50 + (e->f1 + 50 == e->f2 ? 25 : 0), rate) <
		    want * 0.05);
	free(pcm);
}

/* on/off runs of 1 ms blocks over two cycles match the cadence to the sample */
static void check_cadence(const struct expect *e, uint32_t rate)
{
	struct media_tone t;
	assert_int_equal(media_tone_init(&t, e->kind, e->region, rate, -13), 0);
	unsigned cyc = e->cad[0] + e->cad[1] + e->cad[2] + e->cad[3];
	size_t total = cyc ? 2u * cyc * rate / 1000 : rate;
	int16_t *pcm = malloc(total * sizeof(*pcm));
	assert_non_null(pcm);
	/* generated in odd-sized pieces: the cadence must not depend on the call sizes */
	for (size_t off = 0, step = 37; off < total; off += step, step = step * 3 % 211 + 1)
		media_tone_fill(&t, pcm + off, off + step > total ? total - off : step);
	if (!cyc) {
		/* continuous: no 5 ms stretch of silence */
		for (size_t i = 0; i + rate / 200 <= total; i += rate / 200)
			assert_true(rms(pcm + i, rate / 200) > 1000);
		free(pcm);
		return;
	}
	size_t pos = 0;
	for (unsigned rep = 0; rep < 2; rep++) {
		for (unsigned s = 0; s < 4; s++) {
			size_t len = (size_t)e->cad[s] * rate / 1000;
			if (!len)
				continue;
			bool on = (s % 2) == 0;
			/* every sample of an off period is 0; an on period has no 2 ms of
			 * silence and starts and ends exactly where the cadence says */
			for (size_t i = pos; i < pos + len; i++)
				if (!on && pcm[i] != 0)
					fail_msg("region %d kind %d: sample %zu not silent",
						 e->region, e->kind, i);
			if (on) {
				size_t b = rate / 500;
				for (size_t i = pos; i + b <= pos + len; i += b)
					assert_true(rms(pcm + i, b) > 500);
			}
			pos += len;
		}
	}
	assert_int_equal(pos, total);
	free(pcm);
}

static void frequencies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		check_freqs(&table[i], 8000);
		check_freqs(&table[i], 16000);
		check_freqs(&table[i], 48000);
	}
}

static void cadences(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		check_cadence(&table[i], 8000);
		check_cadence(&table[i], 16000);
	}
}

/* the phase carries on across calls: one long fill equals many short ones */
static void continuity(void **state)
{
	(void)state;
	struct media_tone a, b;
	assert_int_equal(media_tone_init(&a, MEDIA_TONE_RINGBACK, MEDIA_TONE_UK, 8000, -10), 0);
	assert_int_equal(media_tone_init(&b, MEDIA_TONE_RINGBACK, MEDIA_TONE_UK, 8000, -10), 0);
	static int16_t x[48000], y[48000];
	media_tone_fill(&a, x, 48000);
	for (size_t off = 0; off < 48000; off += 160)
		media_tone_fill(&b, y + off, 160);
	assert_memory_equal(x, y, sizeof(x));
}

static void arguments(void **state)
{
	(void)state;
	struct media_tone t;
	enum media_tone_region r;
	assert_int_equal(media_tone_region_from_name("us", &r), 0);
	assert_int_equal(r, MEDIA_TONE_US);
	assert_int_equal(media_tone_region_from_name("UK", &r), 0);
	assert_int_equal(r, MEDIA_TONE_UK);
	assert_int_equal(media_tone_region_from_name("eu", &r), 0);
	assert_int_equal(r, MEDIA_TONE_EU);
	assert_int_equal(media_tone_region_from_name("fr", &r), SB_EINVAL);
	assert_int_equal(media_tone_region_from_name(NULL, &r), SB_EINVAL);
	assert_int_equal(media_tone_init(&t, MEDIA_TONE_DIAL, MEDIA_TONE_US, 0, -13), SB_EINVAL);
	assert_int_equal(media_tone_init(&t, MEDIA_TONE_DIAL, MEDIA_TONE_US, 8000, 3), SB_EINVAL);
	assert_int_equal(media_tone_init(&t, MEDIA_TONE_DIAL, MEDIA_TONE_EU, 8000, 3), 0);
	assert_int_equal(media_tone_init(&t, (enum media_tone_kind)7, MEDIA_TONE_US, 8000, -13),
			 SB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(frequencies),
	    cmocka_unit_test(cadences),
	    cmocka_unit_test(continuity),
	    cmocka_unit_test(arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
