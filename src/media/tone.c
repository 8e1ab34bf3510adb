/* Call-progress tones (dial, ringback, busy) for the US, the UK and CEPT Europe: the region
 * table, dBm0 levels and a sample-accurate two-sine generator with on/off cadences. */
#include "media/tone.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "base/compat.h"
#include "base/err.h"

struct tone_def {
	uint16_t f1, f2;
	uint16_t cadence_ms[4];
};

/* ITU-T E.180 supplement 2 / ETSI TR 101 041 */
static const struct tone_def tone_defs[3][3] =
    {
	[MEDIA_TONE_US] =
	    {
		[MEDIA_TONE_DIAL] = {350, 440, {0, 0, 0, 0}},
		[MEDIA_TONE_RINGBACK] = {440, 480, {2000, 4000, 0, 0}},
		[MEDIA_TONE_BUSY] = {480, 620, {500, 500, 0, 0}},
	    },
	[MEDIA_TONE_UK] =
	    {
		[MEDIA_TONE_DIAL] = {350, 450, {0, 0, 0, 0}},
		[MEDIA_TONE_RINGBACK] = {400, 450, {400, 200, 400, 2000}},
		[MEDIA_TONE_BUSY] = {400, 0, {375, 375, 0, 0}},
	    },
	[MEDIA_TONE_EU] =
	    {
		[MEDIA_TONE_DIAL] = {425, 0, {0, 0, 0, 0}},
		[MEDIA_TONE_RINGBACK] = {425, 0, {1000, 4000, 0, 0}},
		[MEDIA_TONE_BUSY] = {425, 0, {500, 500, 0, 0}},
	    },
};

/* A full-scale sine is +3.14 dBm0 (G.711 A-law; spandsp's DTMF and tone detectors use it). */
#define FULL_SCALE_DBM0 3.14

int media_tone_init(struct media_tone *t, enum media_tone_kind kind, enum media_tone_region region,
		    uint32_t rate, int level_dbm0)
{
	if ((unsigned)kind > MEDIA_TONE_BUSY || (unsigned)region > MEDIA_TONE_EU || rate < 2000 ||
	    rate > 192000 || level_dbm0 > 3 || level_dbm0 < -90)
		return SB_EINVAL;
	const struct tone_def *d = &tone_defs[region][kind];
	/* libm once here, none per sample */
	double amp = 32767.0 * pow(10.0, ((double)level_dbm0 - FULL_SCALE_DBM0) / 20.0);
	if ((d->f2 ? 2.0 : 1.0) * amp > 32767.0 || 2u * d->f1 >= rate || 2u * d->f2 >= rate)
		return SB_EINVAL;
	memset(t, 0, sizeof(*t));
	t->rate = rate;
	t->f1 = d->f1;
	t->f2 = d->f2;
	t->amp = (int16_t)lrint(amp);
	memcpy(t->cadence_ms, d->cadence_ms, sizeof(t->cadence_ms));
	return 0;
}

int media_tone_region_from_name(const char *name, enum media_tone_region *out)
{
	static const struct {
		const char *name;
		enum media_tone_region r;
	} names[] = {{"us", MEDIA_TONE_US},
		     {"uk", MEDIA_TONE_UK},
		     {"gb", MEDIA_TONE_UK},
		     {"eu", MEDIA_TONE_EU},
		     {"cept", MEDIA_TONE_EU}};
	if (!name)
		return SB_EINVAL;
	for (size_t i = 0; i < SB_ARRAY_LEN(names); i++) {
		if (strcasecmp(name, names[i].name) == 0) {
			*out = names[i].r;
			return 0;
		}
	}
	return SB_EINVAL;
}

/* sin(2 pi p / rate) for 0 <= p < rate: quadrant folding and a degree-11 odd polynomial
 * (error < 4e-6, i.e. better than the 16-bit output). */
static double sine_at(uint32_t p, uint32_t rate)
{
	double x = (double)p / (double)rate, s = 1.0;
	if (x >= 0.5) {
		x -= 0.5;
		s = -1.0;
	}
	if (x > 0.25)
		x = 0.5 - x;
	double t = 6.283185307179586 * x, t2 = t * t;
	double r =
	    t * (1.0 - t2 / 6.0 *
			   (1.0 - t2 / 20.0 *
				      (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0 * (1.0 - t2 / 110.0)))));
	return s * r;
}

/* cadence segment lengths in samples; returns the cycle length (0 = continuous) */
static uint64_t cadence(const struct media_tone *t, uint32_t seg[4])
{
	uint64_t cyc = 0;
	for (size_t i = 0; i < 4; i++) {
		seg[i] = (uint32_t)((uint64_t)t->cadence_ms[i] * t->rate / 1000u);
		cyc += seg[i];
	}
	return cyc;
}

void media_tone_fill(struct media_tone *t, int16_t *pcm, size_t n)
{
	uint32_t rate = t->rate ? t->rate : 8000;
	uint32_t seg[4];
	uint64_t cyc = cadence(t, seg);
	/* exact integer phases: f * n mod rate, advanced by f per sample */
	uint32_t base = (uint32_t)(t->n % rate);
	uint32_t p1 = (uint32_t)((uint64_t)t->f1 % rate * base % rate);
	uint32_t p2 = (uint32_t)((uint64_t)t->f2 % rate * base % rate);
	uint32_t d1 = t->f1 % rate, d2 = t->f2 % rate;
	if (cyc && t->pos >= cyc)
		t->pos = 0;
	for (size_t i = 0; i < n; i++) {
		bool on = true;
		if (cyc) {
			uint32_t q = t->pos;
			on = q < seg[0] || (q >= seg[0] + seg[1] && q < seg[0] + seg[1] + seg[2]);
			if (++t->pos >= cyc)
				t->pos = 0;
		}
		int32_t v = 0;
		if (on) {
			double a = sine_at(p1, rate);
			if (t->f2)
				a += sine_at(p2, rate);
			a *= t->amp;
			v = (int32_t)(a < 0 ? a - 0.5 : a + 0.5);
			v = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
		}
		pcm[i] = (int16_t)v;
		p1 += d1;
		if (p1 >= rate)
			p1 -= rate;
		p2 += d2;
		if (p2 >= rate)
			p2 -= rate;
	}
	t->n += n;
}
