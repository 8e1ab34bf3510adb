/* Text to speech with espeak-ng, for the built-in `say` participant: text in, 16-bit mono PCM
 * out (at espeak-ng's own rate; a room's player resamples it to the room rate). */
#ifndef SB_MEDIA_TTS_H
#define SB_MEDIA_TTS_H

#include "media/wav.h"

/*
 * Speak text (UTF-8) with voice (an espeak-ng voice name such as "en", "en-us", "de"; NULL =
 * "en") into out (free it with media_wav_free). Blocking: a sentence takes tens of
 * milliseconds, so run it before the loop or on a thread-pool thread, never on the control
 * loop or a media worker. espeak-ng has global state: calls are serialised with a mutex.
 * 0; SB_EINVAL (empty text, unknown voice), SB_EIO (espeak-ng could not start: its data files
 * are missing), SB_ENOMEM.
 */
int media_tts_say(const char *text, const char *voice, struct media_wav *out);

#endif
