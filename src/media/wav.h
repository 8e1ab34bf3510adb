/* WAV files (RIFF PCM 16-bit, 8-bit u-law/A-law; mono or stereo, any rate) read whole into
 * memory as 16-bit mono, for announcements and music on hold. Loaded off the media path. */
#ifndef SB_MEDIA_WAV_H
#define SB_MEDIA_WAV_H

#include <stddef.h>
#include <stdint.h>

struct media_wav {
	int16_t *pcm; /* mono */
	size_t n;     /* samples */
	uint32_t rate;
};

/* 0, SB_EIO (cannot read), SB_EMALFORMED (not a WAV we read), SB_EUNSUPPORTED (format),
 * SB_ENOMEM. */
int media_wav_load(const char *path, struct media_wav *out);
/* The same from memory. */
int media_wav_parse(const uint8_t *data, size_t len, struct media_wav *out);
void media_wav_free(struct media_wav *w);
/* Write 16-bit mono PCM as a WAV file (tests and recordings). 0 or SB_EIO. */
int media_wav_save(const char *path, const int16_t *pcm, size_t n, uint32_t rate);

#endif
