/* Private to src/media/codec*.c, g711.c, g722.c, opus.c: the codec object laid out in one
 * allocation (spandsp states embedded, Opus states in the tail) and the per-codec hooks. */
#ifndef SB_MEDIA_CODEC_INT_H
#define SB_MEDIA_CODEC_INT_H

#include <stddef.h>
#include <stdint.h>

/* spandsp states embedded in our object instead of one malloc each */
#ifndef SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#endif
#include <opus.h>
#include <spandsp.h>

#include "media/codec.h"

struct media_codec {
	enum media_codec_id id;
	uint32_t rate;	   /* PCM */
	uint32_t rtp_rate; /* RTP timestamp clock */
	union {
		struct {
			plc_state_t plc;
		} g711;
		struct {
			g722_encode_state_t enc;
			g722_decode_state_t dec;
			plc_state_t plc;
		} g722;
		struct {
			OpusEncoder *enc; /* both point into tail[] */
			OpusDecoder *dec;
		} opus;
	} u;
	max_align_t tail[]; /* Opus encoder and decoder states */
};

/* Bytes the Opus encoder and decoder need in tail[]; < 0 if libopus says nothing sensible. */
int media__opus_tail_size(void);
int media__opus_init(struct media_codec *c, const struct media_codec_opts *o);

void media__g711_init(struct media_codec *c);
int media__g711_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap);
int media__g711_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap);

void media__g722_init(struct media_codec *c);
int media__g722_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap);
int media__g722_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap);

int media__opus_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap);
int media__opus_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap);
int media__opus_conceal(struct media_codec *c, const uint8_t *next, size_t next_len, int16_t *pcm,
			size_t n);

#endif
