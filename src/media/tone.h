/* Call-progress tones (dial tone, ringback) with the cadences of the US, the UK and Europe
 * (ITU-T E.180 / CEPT), generated sample by sample at any rate; no allocation. */
#ifndef SB_MEDIA_TONE_H
#define SB_MEDIA_TONE_H

#include <stddef.h>
#include <stdint.h>

enum media_tone_kind { MEDIA_TONE_DIAL, MEDIA_TONE_RINGBACK, MEDIA_TONE_BUSY };
enum media_tone_region { MEDIA_TONE_US, MEDIA_TONE_UK, MEDIA_TONE_EU };

struct media_tone {
	uint32_t rate;
	uint16_t f1, f2;	/* Hz; f2 0 = single frequency */
	int16_t amp;		/* per frequency */
	uint16_t cadence_ms[4]; /* on, off, on, off; all 0 = continuous */
	uint32_t pos;		/* sample position in the cadence cycle */
	uint64_t n;		/* samples generated (phase) */
};

/* 0 or SB_EINVAL. level_dbm0: e.g. -13 per frequency. region from "us", "uk", "eu". */
int media_tone_init(struct media_tone *t, enum media_tone_kind kind, enum media_tone_region region,
		    uint32_t rate, int level_dbm0);
int media_tone_region_from_name(const char *name, enum media_tone_region *out);
void media_tone_fill(struct media_tone *t, int16_t *pcm, size_t n);

#endif
