/* Sample-rate conversion between a leg's rate and the room rate (speexdsp), 16-bit mono.
 * State allocated at creation; process never allocates. */
#ifndef SB_MEDIA_RESAMPLE_H
#define SB_MEDIA_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

struct media_resampler;

/* quality 0-10 (speexdsp; 3-5 is the cheap, good range). 0, SB_EINVAL or SB_ENOMEM.
 * in_rate == out_rate gives a pass-through copy; a factor of two uses our half-band filter
 * whatever the quality (about 2 ms of delay, 70 dB rejection). */
int media_resampler_new(struct media_resampler **out, uint32_t in_rate, uint32_t out_rate,
			int quality);
/* Free: the resampler is kept in a small per-thread cache for the next media_resampler_new
 * with the same rates and quality (a filter is costly to build). */
void media_resampler_free(struct media_resampler *r);
/* Free the calling thread's cached resamplers (every thread that used resamplers calls it
 * before it ends). */
void media_resampler_cache_flush(void);
/* Convert in_n samples; writes at most out_cap and returns the count written
 * (in_n * out_rate / in_rate for whole 10 ms multiples), or SB_ETOOBIG (SB_EINVAL: an odd
 * count when halving the rate). */
int media_resample(struct media_resampler *r, const int16_t *in, size_t in_n, int16_t *out,
		   size_t out_cap);

/* A whole sound (a WAV for a player or music on hold) at another rate: out gets new samples
 * (free with media_wav_free); a sound already at rate is copied. 0, SB_EINVAL or SB_ENOMEM. */
struct media_wav;
int media_resample_wav(const struct media_wav *in, uint32_t rate, struct media_wav *out);

#endif
