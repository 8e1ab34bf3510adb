/* Unit tests for src/media/resample.c: 8/16/48 kHz conversions keep a sine's frequency and level
 * (Goertzel), 20 ms frames give exact sample counts, pass-through and argument errors. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "media/resample.h"

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

/* 1 s of f Hz in 20 ms frames from in_rate to out_rate */
static void convert(uint32_t in_rate, uint32_t out_rate, double f)
{
	struct media_resampler *r;
	assert_int_equal(media_resampler_new(&r, in_rate, out_rate, 5), 0);
	static int16_t out[48000];
	int16_t in[960];
	size_t in_fr = in_rate / 50, out_fr = out_rate / 50, pos = 0;
	for (size_t k = 0; k < 50; k++) {
		for (size_t i = 0; i < in_fr; i++)
			in[i] = (int16_t)lrint(
			    8000 * sin(2 * M_PI * f * (double)(k * in_fr + i) / in_rate));
		int n = media_resample(r, in, in_fr, out + pos, out_fr);
		assert_int_equal(n, (int)out_fr); /* exact, every frame, the first included */
		pos += (size_t)n;
	}
	size_t h = out_rate / 2; /* the last half second */
	double a = goertzel_amp(out + h, h, f, out_rate), t = rms(out + h, h);
	double frac = a * a / 2 / (t * t);
	printf("# %u -> %u Hz, %.0f Hz: level %+.2f dB, tone %.5f of energy\n", in_rate, out_rate,
	       f, 20 * log10(a / 8000), frac);
	assert_true(fabs(20 * log10(a / 8000)) < 1.0);
	assert_true(frac > 0.99);
	media_resampler_free(r);
}

static void rates(void **state)
{
	(void)state;
	convert(8000, 16000, 1000);
	convert(8000, 16000, 440);
	convert(16000, 8000, 1000);
	convert(16000, 8000, 440);
	convert(16000, 48000, 1000);
	convert(48000, 16000, 1000);
	convert(48000, 16000, 440);
	convert(8000, 48000, 440);
	convert(8000, 16000, 3400);
	convert(24000, 48000, 1000);
	convert(48000, 24000, 440);
}

/* 1 s of f Hz at in_rate through r (in 20 ms frames); the level at g Hz in the output's last
 * half second, in dB relative to the input's level */
static double level_at(uint32_t in_rate, uint32_t out_rate, double f, double g)
{
	struct media_resampler *r;
	assert_int_equal(media_resampler_new(&r, in_rate, out_rate, 3), 0);
	static int16_t out[48000];
	int16_t in[960];
	size_t in_fr = in_rate / 50, out_fr = out_rate / 50, pos = 0;
	for (size_t k = 0; k < 50; k++) {
		for (size_t i = 0; i < in_fr; i++)
			in[i] = (int16_t)lrint(
			    16000 * sin(2 * M_PI * f * (double)(k * in_fr + i) / in_rate));
		assert_int_equal(media_resample(r, in, in_fr, out + pos, out_fr), (int)out_fr);
		pos += out_fr;
	}
	media_resampler_free(r);
	size_t h = out_rate / 2;
	return 20 * log10(goertzel_amp(out + h, h, g, out_rate) / 16000 + 1e-9);
}

/* The factor-of-two filter: the image of an upsampled tone and the alias of a tone above the
 * new Nyquist rate are at least 60 dB down; the telephone band passes flat. */
static void halfband(void **state)
{
	(void)state;
	double img = level_at(8000, 16000, 1000, 7000), alias = level_at(16000, 8000, 6000, 2000);
	double pass = level_at(16000, 8000, 3400, 3400);
	printf("# half-band: image %.1f dB, alias %.1f dB, 3.4 kHz %+.3f dB\n", img, alias, pass);
	assert_true(img < -60);
	assert_true(alias < -60);
	assert_true(fabs(pass) < 0.1);

	/* one long call equals the same samples in 20 ms frames; an odd count cannot be halved */
	static int16_t in[3840], whole[1920], framed[1920];
	for (size_t i = 0; i < 3840; i++)
		in[i] = (int16_t)lrint(12000 * sin(2 * M_PI * 700.0 * (double)i / 16000));
	struct media_resampler *a, *b;
	assert_int_equal(media_resampler_new(&a, 16000, 8000, 3), 0);
	assert_int_equal(media_resampler_new(&b, 16000, 8000, 3), 0);
	assert_int_equal(media_resample(a, in, 3840, whole, 1920), 1920);
	for (size_t k = 0; k < 3840; k += 320)
		assert_int_equal(media_resample(b, in + k, 320, framed + k / 2, 160), 160);
	assert_memory_equal(whole, framed, sizeof(whole));
	assert_int_equal(media_resample(a, in, 3, whole, 2), SB_EINVAL);
	media_resampler_free(a);
	media_resampler_free(b);
	media_resampler_cache_flush();
}

static void pass_through(void **state)
{
	(void)state;
	struct media_resampler *r;
	assert_int_equal(media_resampler_new(&r, 16000, 16000, 3), 0);
	int16_t in[320], out[320];
	for (size_t i = 0; i < 320; i++)
		in[i] = (int16_t)(i * 7 - 1000);
	assert_int_equal(media_resample(r, in, 320, out, 320), 320);
	assert_memory_equal(in, out, sizeof(in));
	assert_int_equal(media_resample(r, in, 320, out, 319), SB_ETOOBIG);
	media_resampler_free(r);
}

static void errors(void **state)
{
	(void)state;
	struct media_resampler *r = NULL;
	assert_int_equal(media_resampler_new(&r, 0, 8000, 3), SB_EINVAL);
	assert_int_equal(media_resampler_new(&r, 8000, 16000, 11), SB_EINVAL);
	assert_int_equal(media_resampler_new(&r, 8000, 16000, -1), SB_EINVAL);
	assert_null(r);
	assert_int_equal(media_resampler_new(&r, 8000, 16000, 3), 0);
	int16_t in[160] = {0}, out[320];
	assert_int_equal(media_resample(r, in, 160, out, 319), SB_ETOOBIG);
	assert_int_equal(media_resample(r, in, 160, out, 320), 320);
	assert_int_equal(media_resample(r, in, 0, out, 320), 0);
	media_resampler_free(r);
	media_resampler_free(NULL);
}

/* A resampler handed out again from the thread's cache behaves exactly like a new one (the
 * half-band path at 8 -> 16 kHz, speexdsp at 16 -> 48 kHz). */
static void cache_reuse(uint32_t in_rate, uint32_t out_rate)
{
	int16_t in[320], out1[960], out2[960];
	size_t in_fr = in_rate / 50, out_fr = out_rate / 50;
	for (size_t i = 0; i < in_fr; i++)
		in[i] = (int16_t)(8000.0 * sin(2.0 * M_PI * 440.0 * (double)i / in_rate));
	struct media_resampler *a, *b, *c;
	assert_int_equal(media_resampler_new(&a, in_rate, out_rate, 3), 0);
	for (int k = 0; k < 5; k++)
		assert_int_equal(media_resample(a, in, in_fr, out1, out_fr), (int)out_fr);
	media_resampler_free(a); /* cached, with history */
	assert_int_equal(media_resampler_new(&b, in_rate, out_rate, 3), 0); /* from the cache */
	assert_ptr_equal(a, b);
	assert_int_equal(media_resampler_new(&c, in_rate, out_rate, 3), 0); /* built anew */
	for (int k = 0; k < 3; k++) {
		assert_int_equal(media_resample(b, in, in_fr, out1, out_fr), (int)out_fr);
		assert_int_equal(media_resample(c, in, in_fr, out2, out_fr), (int)out_fr);
		assert_memory_equal(out1, out2, out_fr * sizeof(*out1));
	}
	media_resampler_free(b);
	media_resampler_free(c);
	media_resampler_cache_flush();
}

static void test_cache_reuse(void **state)
{
	(void)state;
	cache_reuse(8000, 16000);
	cache_reuse(16000, 48000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rates),
	    cmocka_unit_test(halfband),
	    cmocka_unit_test(pass_through),
	    cmocka_unit_test(errors),
	    cmocka_unit_test(test_cache_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
