/* Unit tests for src/media/tts.c: espeak-ng speaks a sentence into PCM that looks like speech
 * (a plausible length, real energy, pauses between words), twice in a row alike, and refuses empty
 * text and unknown voices. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "base/err.h"
#include "media/tts.h"

static double rms(const int16_t *p, size_t n)
{
	double e = 0;
	for (size_t i = 0; i < n; i++)
		e += (double)p[i] * p[i];
	return n ? sqrt(e / (double)n) : 0;
}

static void test_sentence(void **state)
{
	(void)state;
	struct media_wav w;
	assert_int_equal(media_tts_say("Hello, this is switchboard calling.", NULL, &w), 0);
	assert_non_null(w.pcm);
	assert_true(w.rate >= 8000 && w.rate <= 48000);
	double secs = (double)w.n / w.rate;
	assert_true(secs > 1.0 && secs < 5.0);
	assert_true(rms(w.pcm, w.n) > 500); /* speech, not silence */
	/* energy comes and goes: some 20 ms frames are near silent, others loud */
	size_t frame = w.rate / 50, quiet = 0, loud = 0;
	for (size_t i = 0; i + frame <= w.n; i += frame) {
		double r = rms(w.pcm + i, frame);
		quiet += r < 100;
		loud += r > 1000;
	}
	assert_true(quiet >= 3);
	assert_true(loud >= 10);
	/* again: about the same speech (espeak-ng keeps some state between sentences, so the
	 * samples are not identical) */
	struct media_wav w2;
	assert_int_equal(media_tts_say("Hello, this is switchboard calling.", "en", &w2), 0);
	assert_true(w2.n > w.n * 95 / 100 && w2.n < w.n * 105 / 100);
	media_wav_free(&w);
	media_wav_free(&w2);
}

static void test_errors(void **state)
{
	(void)state;
	struct media_wav w;
	assert_int_equal(media_tts_say("", NULL, &w), SB_EINVAL);
	assert_null(w.pcm);
	assert_int_equal(media_tts_say(NULL, NULL, &w), SB_EINVAL);
	assert_int_equal(media_tts_say("hello", "no-such-voice-xx", &w), SB_EINVAL);
	assert_null(w.pcm);
	/* a voice of another language works */
	assert_int_equal(media_tts_say("Guten Tag", "de", &w), 0);
	assert_true(w.n > 0);
	media_wav_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sentence),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
