/* Audio codecs behind one interface: PCMU and PCMA (ours), G.722 (spandsp), Opus (libopus).
 * All state is allocated at creation: encode, decode and concealment never allocate.
 * PCM is signed 16-bit mono at the codec's own rate (media_codec_rate). */
#ifndef SB_MEDIA_CODEC_H
#define SB_MEDIA_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum media_codec_id {
	MEDIA_CODEC_PCMU = 0,
	MEDIA_CODEC_PCMA,
	MEDIA_CODEC_G722,
	MEDIA_CODEC_OPUS,
	MEDIA_CODEC__COUNT
};

struct media_codec_opts {
	uint32_t rate;	  /* Opus: PCM rate 8000, 12000, 16000, 24000 or 48000 (0 = 48000);
			     ignored by the others (8000, G.722 16000) */
	int complexity;	  /* Opus 0-10 (default 5 when < 0 ... use -1 for default) */
	uint32_t bitrate; /* Opus bits/s, 0 = 24000 */
	bool fec;	  /* Opus in-band FEC on encode */
	uint8_t loss_pct; /* Opus expected packet loss for FEC (0-100) */
};

struct media_codec;

/* 0, SB_EINVAL (options) or SB_ENOMEM. o may be NULL (defaults). */
int media_codec_new(struct media_codec **out, enum media_codec_id id,
		    const struct media_codec_opts *o);
void media_codec_free(struct media_codec *c);
enum media_codec_id media_codec_id(const struct media_codec *c);
/* PCM sample rate of encode input and decode output. */
uint32_t media_codec_rate(const struct media_codec *c);
/* RTP timestamp rate (G.722: 8000 although PCM is 16000; Opus: 48000). */
uint32_t media_codec_rtp_rate(const struct media_codec *c);
const char *media_codec_name(enum media_codec_id id); /* "PCMU", "PCMA", "G722", "opus" */

/* Encode n samples (one frame: 10, 20, 40 or 60 ms at the codec rate). Returns the payload
 * length, or SB_ETOOBIG (cap) / SB_EINVAL (frame size) / SB_EIO. */
int media_codec_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap);
/* Decode one payload into pcm (cap samples). Returns the sample count or SB_EMALFORMED /
 * SB_ETOOBIG. */
int media_codec_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap);
/* Conceal one lost frame of n samples (Opus: its PLC; Opus with FEC: decode_fec from the next
 * payload when next != NULL; G.711/G.722: spandsp PLC fed by the decoded history).
 * Returns n or an error. */
int media_codec_conceal(struct media_codec *c, const uint8_t *next, size_t next_len, int16_t *pcm,
			size_t n);

/* G.711 one sample (exposed for tests and tone paths). */
uint8_t media_ulaw_encode(int16_t s);
int16_t media_ulaw_decode(uint8_t u);
uint8_t media_alaw_encode(int16_t s);
int16_t media_alaw_decode(uint8_t a);

#endif
