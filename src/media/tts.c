/* espeak-ng in synchronous mode: the synthesis callback appends each chunk to a growing
 * buffer owned by the call in progress. */
#include "media/tts.h"

#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"

#define TTS_MAX_SAMPLES (22050u * 600u) /* ten minutes of speech at most */

static pthread_mutex_t tts_lock = PTHREAD_MUTEX_INITIALIZER;
static int tts_rate; /* 0 = not initialised, < 0 = initialisation failed */

/* The buffer the current synthesis writes into (under tts_lock). */
static struct {
	int16_t *pcm;
	size_t n, cap;
	int err;
} sink;

static int on_synth(short *wav, int n, espeak_EVENT *events)
{
	(void)events;
	if (!wav || n <= 0 || sink.err)
		return sink.err ? 1 : 0;
	size_t need = sink.n + (size_t)n;
	if (need > TTS_MAX_SAMPLES) {
		sink.err = SB_ETOOBIG;
		return 1; /* abort */
	}
	if (need > sink.cap) {
		size_t cap = sink.cap ? sink.cap * 2 : 22050;
		while (cap < need)
			cap *= 2;
		int16_t *p = realloc(sink.pcm, cap * sizeof(*p));
		if (!p) {
			sink.err = SB_ENOMEM;
			return 1;
		}
		sink.pcm = p;
		sink.cap = cap;
	}
	memcpy(sink.pcm + sink.n, wav, (size_t)n * sizeof(*wav));
	sink.n = need;
	return 0;
}

static int tts_init(void)
{
	if (tts_rate)
		return tts_rate > 0 ? 0 : SB_EIO;
	/* DONT_EXIT: a missing data directory is an error here, not exit() */
	tts_rate =
	    espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, NULL, espeakINITIALIZE_DONT_EXIT);
	if (tts_rate <= 0) {
		tts_rate = -1;
		SB_ERROR("tts", "espeak-ng could not start (are its data files installed?)");
		return SB_EIO;
	}
	espeak_SetSynthCallback(on_synth);
	return 0;
}

int media_tts_say(const char *text, const char *voice, struct media_wav *out)
{
	memset(out, 0, sizeof(*out));
	if (!text || !text[0])
		return SB_EINVAL;
	pthread_mutex_lock(&tts_lock);
	int err = tts_init();
	if (!err && espeak_SetVoiceByName(voice && voice[0] ? voice : "en") != EE_OK)
		err = SB_EINVAL;
	if (!err) {
		memset(&sink, 0, sizeof(sink));
		espeak_ERROR e = espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0,
					      espeakCHARS_UTF8, NULL, NULL);
		if (e == EE_OK)
			e = espeak_Synchronize();
		err = sink.err ? sink.err : e != EE_OK ? SB_EIO : sink.n == 0 ? SB_EINVAL : 0;
		if (err) {
			free(sink.pcm);
		} else {
			out->pcm = sink.pcm;
			out->n = sink.n;
			out->rate = (uint32_t)tts_rate;
		}
		memset(&sink, 0, sizeof(sink));
	}
	pthread_mutex_unlock(&tts_lock);
	return err;
}
