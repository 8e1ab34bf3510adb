/* Unit tests for src/media/codec.c, g711.c, g722.c, opus.c: G.711 against the G.191 reference
 * over all inputs, G.722 and Opus tones by Goertzel and SNR, PLC, Opus FEC and bad arguments. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spandsp.h>

#include "base/err.h"
#include "media/codec.h"

#define MAX_N 48000

/* ---- signal helpers ---- */

static void sine(int16_t *pcm, size_t n, double f, uint32_t rate, double amp)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)lrint(amp * sin(2.0 * M_PI * f * (double)i / rate));
}

/* amplitude of the f component of x[0..n) (Goertzel) */
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

/* delay of y against x (0..max_d) by cross-correlation, and the SNR in dB after aligning */
static double aligned_snr(const int16_t *x, const int16_t *y, size_t n, size_t max_d, size_t *delay)
{
	double best = -1e300;
	size_t bd = 0, len = n - max_d;
	for (size_t d = 0; d <= max_d; d++) {
		double c = 0;
		for (size_t i = 0; i < len; i++)
			c += (double)x[i] * y[i + d];
		if (c > best) {
			best = c;
			bd = d;
		}
	}
	double sig = 0, err = 0;
	for (size_t i = 0; i < len; i++) {
		double e = (double)y[i + bd] - x[i];
		sig += (double)x[i] * x[i];
		err += e * e;
	}
	*delay = bd;
	return 10.0 * log10(sig / (err > 0 ? err : 1e-9));
}

/* ---- G.711 ---- */

static void g711_known_codes(void **state)
{
	(void)state;
	assert_int_equal(media_ulaw_encode(0), 0xFF);
	assert_int_equal(media_ulaw_encode(-1), 0x7F); /* G.191: one's complement for negatives */
	assert_int_equal(media_ulaw_encode(32767), 0x80);
	assert_int_equal(media_ulaw_encode(-32768), 0x00);
	assert_int_equal(media_alaw_encode(0), 0xD5);
	assert_int_equal(media_alaw_encode(-1), 0x55);
	assert_int_equal(media_alaw_encode(32767), 0xAA);
	assert_int_equal(media_alaw_encode(-32768), 0x2A);
	assert_int_equal(media_ulaw_decode(0xFF), 0);
	assert_int_equal(media_ulaw_decode(0x7F), 0);
	assert_int_equal(media_ulaw_decode(0x80), 32124);
	assert_int_equal(media_ulaw_decode(0x00), -32124);
	assert_int_equal(media_alaw_decode(0xD5), 8);
	assert_int_equal(media_alaw_decode(0x55), -8);
	assert_int_equal(media_alaw_decode(0xAA), 32256);
	assert_int_equal(media_alaw_decode(0x2A), -32256);
}

/* decode tables equal spandsp's (itself the G.711 formula) for every code */
static void g711_decode_matches_reference(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		assert_int_equal(media_ulaw_decode((uint8_t)c), ulaw_to_linear((uint8_t)c));
		assert_int_equal(media_alaw_decode((uint8_t)c), alaw_to_linear((uint8_t)c));
	}
}

static void g711_all_inputs(void **state)
{
	(void)state;
	int prev_u = -40000, prev_a = -40000;
	for (int32_t x = -32768; x <= 32767; x++) {
		uint8_t u = media_ulaw_encode((int16_t)x), a = media_alaw_encode((int16_t)x);
		int yu = media_ulaw_decode(u), ya = media_alaw_decode(a);
		/* quantisation error: half a step of the segment (+1 for the one's complement of
		 * negative inputs), measured against the input clipped to the largest code */
		int ue = ((~u) & 0x70) >> 4, ae = ((a ^ 0x55) & 0x70) >> 4;
		int utol = (4 << ue) + 1, atol = (ae < 2 ? 8 : 8 << (ae - 1)) + 1;
		int xu = x > 32124 ? 32124 : x < -32124 ? -32124 : x;
		int xa = x > 32256 ? 32256 : x < -32256 ? -32256 : x;
		if (abs(yu - xu) > utol || abs(ya - xa) > atol)
			fail_msg("x=%d: ulaw %02x -> %d, alaw %02x -> %d", x, u, yu, a, ya);
		/* monotonic */
		assert_true(yu >= prev_u);
		assert_true(ya >= prev_a);
		prev_u = yu;
		prev_a = ya;
		/* spandsp's encoders: same codes (spandsp µ-law negates negatives instead of
		 * complementing them, so compare those at x + 1) */
		if (x >= 0)
			assert_int_equal(u, linear_to_ulaw(x));
		else if (x < -1)
			assert_int_equal(u, linear_to_ulaw(x + 1));
		assert_int_equal(a, linear_to_alaw(x));
	}
}

/* Whole frames go through the codec object's SSE2 encoders: the same code as the encoders for
 * every input. */
static void g711_frame_encode_matches(void **state)
{
	(void)state;
	static int16_t pcm[65536 + 160];
	static uint8_t out[65536 + 160];
	for (int32_t x = -32768; x <= 32767; x++)
		pcm[x + 32768] = (int16_t)x;
	for (int k = 0; k < 2; k++) {
		struct media_codec *c;
		struct media_codec_opts o = {0};
		assert_int_equal(media_codec_new(&c, k ? MEDIA_CODEC_PCMA : MEDIA_CODEC_PCMU, &o),
				 0);
		for (size_t i = 0; i < 65536; i += 160) /* frames of 20 ms */
			assert_int_equal(media_codec_encode(c, pcm + i, 160, out + i, 160), 160);
		for (int32_t i = 0; i < 65536; i++) {
			uint8_t want = k ? media_alaw_encode(pcm[i]) : media_ulaw_encode(pcm[i]);
			if (out[i] != want)
				fail_msg("%s x=%d: %02x, want %02x", k ? "alaw" : "ulaw", pcm[i],
					 out[i], want);
		}
		media_codec_free(c);
	}
}

static void g711_codec_object(void **state)
{
	(void)state;
	for (int id = MEDIA_CODEC_PCMU; id <= MEDIA_CODEC_PCMA; id++) {
		struct media_codec *c;
		assert_int_equal(media_codec_new(&c, (enum media_codec_id)id, NULL), 0);
		assert_int_equal(media_codec_rate(c), 8000);
		assert_int_equal(media_codec_rtp_rate(c), 8000);
		assert_int_equal(media_codec_id(c), id);
		int16_t pcm[480], out[480];
		uint8_t pay[480];
		sine(pcm, 160, 1000, 8000, 8000);
		assert_int_equal(media_codec_encode(c, pcm, 160, pay, sizeof(pay)), 160);
		assert_int_equal(pay[0], id == MEDIA_CODEC_PCMU ? 0xFF : 0xD5);
		assert_int_equal(media_codec_decode(c, pay, 160, out, 480), 160);
		for (size_t i = 0; i < 160; i++)
			assert_true(abs(out[i] - pcm[i]) <= 260);
		for (size_t n = 80; n <= 480; n += 80) /* 10, 20, 30 (bad), 40, 50 (bad), 60 ms */
			assert_int_equal(media_codec_encode(c, pcm, n, pay, sizeof(pay)),
					 n == 240 || n == 400 ? SB_EINVAL : (int)n);
		assert_int_equal(media_codec_encode(c, pcm, 100, pay, sizeof(pay)), SB_EINVAL);
		assert_int_equal(media_codec_encode(c, pcm, 0, pay, sizeof(pay)), SB_EINVAL);
		assert_int_equal(media_codec_encode(c, pcm, 160, pay, 159), SB_ETOOBIG);
		assert_int_equal(media_codec_decode(c, pay, 160, out, 100), SB_ETOOBIG);
		assert_int_equal(media_codec_decode(c, pay, 0, out, 100), SB_EMALFORMED);
		media_codec_free(c);
	}
	assert_string_equal(media_codec_name(MEDIA_CODEC_PCMU), "PCMU");
	assert_string_equal(media_codec_name(MEDIA_CODEC_PCMA), "PCMA");
	assert_string_equal(media_codec_name(MEDIA_CODEC_G722), "G722");
	assert_string_equal(media_codec_name(MEDIA_CODEC_OPUS), "opus");
	struct media_codec *c = NULL;
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC__COUNT, NULL), SB_EINVAL);
	assert_null(c);
}

/* ---- tones through a codec ---- */

struct run {
	double amp, frac, snr;
	size_t delay;
};

/* 1 s of a sine at f through encode/decode in 20 ms frames */
static struct run through(struct media_codec *c, double f, double amp)
{
	static int16_t in[MAX_N], outp[MAX_N];
	uint32_t rate = media_codec_rate(c);
	size_t n = rate, fr = rate / 50;
	sine(in, n, f, rate, amp);
	for (size_t off = 0; off < n; off += fr) {
		uint8_t pay[1500];
		int len = media_codec_encode(c, in + off, fr, pay, sizeof(pay));
		assert_true(len > 0);
		assert_int_equal(media_codec_decode(c, pay, (size_t)len, outp + off, fr), (int)fr);
	}
	/* the last half second, clear of the codec's start-up */
	size_t h = n / 2;
	struct run r;
	r.amp = goertzel_amp(outp + h, h, f, rate);
	double tot = rms(outp + h, h);
	r.frac = (r.amp * r.amp / 2.0) / (tot * tot); /* share of the energy in the tone */
	r.snr = aligned_snr(in + h / 2, outp + h / 2, h + h / 4, rate / 100 * 2, &r.delay);
	return r;
}

static void check_tone(struct media_codec *c, double f, double amp, double min_snr)
{
	struct run r = through(c, f, amp);
	double db = 20.0 * log10(r.amp / amp);
	printf(
	    "# %s %u Hz, %.0f Hz: level %+.2f dB, tone %.4f of energy, SNR %.1f dB at delay %zu\n",
	    media_codec_name(media_codec_id(c)), media_codec_rate(c), f, db, r.frac, r.snr,
	    r.delay);
	assert_true(fabs(db) < 3.0);
	assert_true(r.frac > 0.9);
	if (min_snr > 0)
		assert_true(r.snr > min_snr);
}

static void g722_tones(void **state)
{
	(void)state;
	struct media_codec *c;
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC_G722, NULL), 0);
	assert_int_equal(media_codec_rate(c), 16000);
	assert_int_equal(media_codec_rtp_rate(c), 8000);
	int16_t pcm[320] = {0};
	uint8_t pay[200];
	assert_int_equal(media_codec_encode(c, pcm, 320, pay, sizeof(pay)), 160);
	assert_int_equal(media_codec_encode(c, pcm, 160, pay, sizeof(pay)), 80);
	assert_int_equal(media_codec_encode(c, pcm, 320, pay, 100), SB_ETOOBIG);
	assert_int_equal(media_codec_encode(c, pcm, 200, pay, sizeof(pay)), SB_EINVAL);
	assert_int_equal(media_codec_decode(c, pay, 160, pcm, 100), SB_ETOOBIG);
	check_tone(c, 1000, 8000, 20.0);
	check_tone(c, 440, 8000, 20.0);
	media_codec_free(c);
}

static void opus_tones(void **state)
{
	(void)state;
	static const uint32_t rates[] = {8000, 16000, 48000};
	for (size_t i = 0; i < 3; i++) {
		struct media_codec_opts o = {.rate = rates[i], .complexity = 5, .bitrate = 24000};
		struct media_codec *c;
		assert_int_equal(media_codec_new(&c, MEDIA_CODEC_OPUS, &o), 0);
		assert_int_equal(media_codec_rate(c), rates[i]);
		assert_int_equal(media_codec_rtp_rate(c), 48000);
		check_tone(c, 1000, 8000, 0);
		check_tone(c, 440, 8000, 0);
		media_codec_free(c);
	}
}

static void opus_options(void **state)
{
	(void)state;
	struct media_codec *c = NULL;
	struct media_codec_opts o = {.rate = 44100, .complexity = -1};
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC_OPUS, &o), SB_EINVAL);
	o.rate = 16000;
	o.complexity = 11;
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC_OPUS, &o), SB_EINVAL);
	o.complexity = 0;
	o.loss_pct = 101;
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC_OPUS, &o), SB_EINVAL);
	o.loss_pct = 10;
	o.bitrate = 100;
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC_OPUS, &o), SB_EINVAL);
	assert_null(c);
	/* defaults: 48 kHz */
	assert_int_equal(media_codec_new(&c, MEDIA_CODEC_OPUS, NULL), 0);
	assert_int_equal(media_codec_rate(c), 48000);
	int16_t pcm[2880] = {0};
	uint8_t pay[1500];
	assert_int_equal(media_codec_encode(c, pcm, 1000, pay, sizeof(pay)), SB_EINVAL);
	assert_int_equal(media_codec_encode(c, pcm, 1440, pay, sizeof(pay)), SB_EINVAL); /* 30 ms */
	int len = media_codec_encode(c, pcm, 2880, pay, sizeof(pay));			 /* 60 ms */
	assert_true(len > 0);
	assert_int_equal(media_codec_decode(c, pay, (size_t)len, pcm, 960), SB_ETOOBIG);
	assert_int_equal(media_codec_decode(c, pay, (size_t)len, pcm, 2880), 2880);
	assert_int_equal(media_codec_encode(c, pcm, 960, pay, 0), SB_ETOOBIG);
	/* TOC code 3 with a frame count of 0 */
	static const uint8_t bad[] = {0x03, 0x00};
	assert_int_equal(media_codec_decode(c, bad, sizeof(bad), pcm, 2880), SB_EMALFORMED);
	assert_int_equal(media_codec_decode(c, bad, 0, pcm, 2880), SB_EMALFORMED);
	/* PLC lengths in whole 2.5 ms */
	assert_int_equal(media_codec_conceal(c, NULL, 0, pcm, 100), SB_EINVAL);
	assert_int_equal(media_codec_conceal(c, NULL, 0, pcm, 120), 120);
	media_codec_free(c);
}

/* ---- concealment ---- */

static void plc_first_frame_and_history(void **state)
{
	(void)state;
	for (int id = 0; id < MEDIA_CODEC__COUNT; id++) {
		struct media_codec *c;
		assert_int_equal(media_codec_new(&c, (enum media_codec_id)id, NULL), 0);
		uint32_t rate = media_codec_rate(c);
		size_t fr = rate / 50;
		static int16_t pcm[960 * 10], out[960];
		/* loss of the very first frame */
		memset(out, 0x55, sizeof(out));
		assert_int_equal(media_codec_conceal(c, NULL, 0, out, fr), (int)fr);
		/* then 8 good frames of a 440 Hz sine, one lost, one good */
		sine(pcm, fr * 10, 440, rate, 8000);
		uint8_t pay[1500];
		for (size_t k = 0; k < 10; k++) {
			int len = media_codec_encode(c, pcm + k * fr, fr, pay, sizeof(pay));
			assert_true(len > 0);
			if (k == 8) {
				assert_int_equal(media_codec_conceal(c, NULL, 0, out, fr), (int)fr);
				double l = rms(out, fr);
				printf("# %s PLC frame after a sine: rms %.0f (sine 5657)\n",
				       media_codec_name((enum media_codec_id)id), l);
				assert_true(l > 1000); /* continues the signal, not silence */
			} else {
				assert_int_equal(media_codec_decode(c, pay, (size_t)len, out, fr),
						 (int)fr);
			}
		}
		media_codec_free(c);
	}
}

/* Opus in-band FEC: the lost frame is rebuilt from the LBRR data of the next packet, closer to
 * what a loss-free decoder produced than plain PLC is */
static void opus_fec(void **state)
{
	(void)state;
	struct media_codec_opts o = {
	    .rate = 16000, .complexity = 5, .bitrate = 24000, .fec = true, .loss_pct = 20};
	struct media_codec *enc, *ref, *fec, *plc;
	assert_int_equal(media_codec_new(&enc, MEDIA_CODEC_OPUS, &o), 0);
	assert_int_equal(media_codec_new(&ref, MEDIA_CODEC_OPUS, &o), 0);
	assert_int_equal(media_codec_new(&fec, MEDIA_CODEC_OPUS, &o), 0);
	assert_int_equal(media_codec_new(&plc, MEDIA_CODEC_OPUS, &o), 0);
	enum { FR = 320, K = 30 };
	static int16_t in[FR * K];
	/* voiced speech-like: gliding 150 Hz pitch with harmonics and a syllable envelope (SILK
	 * only codes LBRR for frames its VAD calls speech, a steady tone soon is not) */
	for (size_t i = 0; i < FR * K; i++) {
		double t = (double)i / 16000.0;
		double env = 0.2 + 0.8 * fabs(sin(2 * M_PI * 3 * t));
		double ph = 2 * M_PI * (150 * t - 30 / (2 * M_PI * 2) * cos(2 * M_PI * 2 * t));
		in[i] = (int16_t)(env * (4000 * sin(ph) + 2000 * sin(2 * ph) + 1000 * sin(3 * ph) +
					 500 * sin(5 * ph)));
	}
	static uint8_t pays[K][400];
	int lens[K];
	for (size_t k = 0; k < K; k++) {
		lens[k] = media_codec_encode(enc, in + k * FR, FR, pays[k], sizeof(pays[k]));
		assert_true(lens[k] > 0);
	}
	int16_t r[FR], a[FR], b[FR];
	const size_t lost = 20;
	for (size_t k = 0; k < K; k++) {
		assert_int_equal(media_codec_decode(ref, pays[k], (size_t)lens[k], r, FR), FR);
		if (k != lost) {
			assert_int_equal(media_codec_decode(fec, pays[k], (size_t)lens[k], a, FR),
					 FR);
			assert_int_equal(media_codec_decode(plc, pays[k], (size_t)lens[k], b, FR),
					 FR);
			continue;
		}
		assert_int_equal(media_codec_conceal(fec, pays[k + 1], (size_t)lens[k + 1], a, FR),
				 FR);
		assert_int_equal(media_codec_conceal(plc, NULL, 0, b, FR), FR);
		double ef = 0, ep = 0, er = 0;
		for (size_t i = 0; i < FR; i++) {
			ef += ((double)a[i] - r[i]) * ((double)a[i] - r[i]);
			ep += ((double)b[i] - r[i]) * ((double)b[i] - r[i]);
			er += (double)r[i] * r[i];
		}
		printf(
		    "# opus 16 kHz lost frame vs loss-free decode: FEC %.1f dB, PLC %.1f dB SNR\n",
		    10 * log10(er / ef), 10 * log10(er / ep));
		assert_true(ef < ep);
	}
	/* a malformed next packet falls back to PLC */
	static const uint8_t bad[] = {0x03, 0x00};
	assert_int_equal(media_codec_conceal(fec, bad, sizeof(bad), a, FR), FR);
	media_codec_free(enc);
	media_codec_free(ref);
	media_codec_free(fec);
	media_codec_free(plc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(g711_known_codes),
	    cmocka_unit_test(g711_decode_matches_reference),
	    cmocka_unit_test(g711_all_inputs),
	    cmocka_unit_test(g711_frame_encode_matches),
	    cmocka_unit_test(g711_codec_object),
	    cmocka_unit_test(g722_tones),
	    cmocka_unit_test(opus_tones),
	    cmocka_unit_test(opus_options),
	    cmocka_unit_test(plc_first_frame_and_history),
	    cmocka_unit_test(opus_fec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
