/* Opus through libopus, VoIP application, mono: encoder and decoder states live in the tail of
 * the codec object (opus_*_init, no opus_*_create); PLC and in-band FEC recovery in conceal. */
#include "base/err.h"
#include "media/codec.h"
#include "media/codec_int.h"

static size_t round_up(size_t n)
{
	return (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
}

int media__opus_tail_size(void)
{
	int e = opus_encoder_get_size(1), d = opus_decoder_get_size(1);
	if (e <= 0 || d <= 0)
		return -1;
	return (int)(round_up((size_t)e) + round_up((size_t)d));
}

int media__opus_init(struct media_codec *c, const struct media_codec_opts *o)
{
	struct media_codec_opts def = {.complexity = -1};
	if (!o)
		o = &def;
	uint32_t rate = o->rate ? o->rate : 48000;
	if (rate != 8000 && rate != 12000 && rate != 16000 && rate != 24000 && rate != 48000)
		return SB_EINVAL;
	int cx = o->complexity < 0 ? 5 : o->complexity;
	uint32_t br = o->bitrate ? o->bitrate : 24000;
	if (cx > 10 || br < 500 || br > 512000 || o->loss_pct > 100)
		return SB_EINVAL;
	c->rate = rate;
	c->rtp_rate = 48000; /* RFC 7587 §4.1 whatever the PCM rate */
	char *tail = (char *)c->tail;
	c->u.opus.enc = (OpusEncoder *)(void *)tail;
	c->u.opus.dec = (OpusDecoder *)(void *)(tail + round_up((size_t)opus_encoder_get_size(1)));
	if (opus_encoder_init(c->u.opus.enc, (opus_int32)rate, 1, OPUS_APPLICATION_VOIP) !=
		OPUS_OK ||
	    opus_decoder_init(c->u.opus.dec, (opus_int32)rate, 1) != OPUS_OK)
		return SB_EIO;
	OpusEncoder *e = c->u.opus.enc;
	if (opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(cx)) != OPUS_OK ||
	    opus_encoder_ctl(e, OPUS_SET_BITRATE((opus_int32)br)) != OPUS_OK ||
	    opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(o->fec ? 1 : 0)) != OPUS_OK ||
	    opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC((int)o->loss_pct)) != OPUS_OK)
		return SB_EIO;
	return 0;
}

static int opus_err(int r)
{
	switch (r) {
	case OPUS_BUFFER_TOO_SMALL:
		return SB_ETOOBIG;
	case OPUS_INVALID_PACKET:
	case OPUS_BAD_ARG:
		return SB_EMALFORMED;
	default:
		return SB_EIO;
	}
}

int media__opus_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap)
{
	/* 1275 bytes per 20 ms frame at most (RFC 6716 §3.4), three frames plus framing for 60 ms
	 */
	if (cap == 0)
		return SB_ETOOBIG;
	/* libopus fits the packet into max bytes (down to one: a TOC-only, silent frame) */
	opus_int32 max = cap > 4000 ? 4000 : (opus_int32)cap;
	opus_int32 r = opus_encode(c->u.opus.enc, pcm, (int)n, out, max);
	if (r < 0)
		return r == OPUS_BUFFER_TOO_SMALL ? SB_ETOOBIG : SB_EIO;
	return (int)r;
}

int media__opus_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap)
{
	if (len > 65535)
		return SB_EMALFORMED;
	int max = (int)(c->rate / 1000 * 120); /* longest Opus packet: 120 ms */
	int fs = cap > (size_t)max ? max : (int)cap;
	int r = opus_decode(c->u.opus.dec, in, (opus_int32)len, pcm, fs, 0);
	return r < 0 ? opus_err(r) : r;
}

int media__opus_conceal(struct media_codec *c, const uint8_t *next, size_t next_len, int16_t *pcm,
			size_t n)
{
	/* libopus wants PLC and FEC lengths in whole 2.5 ms */
	size_t q = c->rate / 400;
	if (n % q != 0 || n > c->rate / 1000 * 120)
		return SB_EINVAL;
	int r = -1;
	if (next && next_len > 0 && next_len <= 65535)
		r = opus_decode(c->u.opus.dec, next, (opus_int32)next_len, pcm, (int)n, 1);
	if (r < 0) /* no next packet, or a malformed one: plain PLC */
		r = opus_decode(c->u.opus.dec, NULL, 0, pcm, (int)n, 0);
	return r < 0 ? opus_err(r) : r;
}
