/* The codec object of src/media/codec.h: creation in one allocation, the name table, frame-size
 * checks and dispatch to g711.c, g722.c and opus.c; spandsp PLC for the non-Opus codecs. */
#include "media/codec.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "media/codec_int.h"

static const char *const codec_names[MEDIA_CODEC__COUNT] = {
    [MEDIA_CODEC_PCMU] = "PCMU",
    [MEDIA_CODEC_PCMA] = "PCMA",
    [MEDIA_CODEC_G722] = "G722",
    [MEDIA_CODEC_OPUS] = "opus",
};

const char *media_codec_name(enum media_codec_id id)
{
	if ((unsigned)id >= MEDIA_CODEC__COUNT)
		return "?";
	return codec_names[id];
}

int media_codec_new(struct media_codec **out, enum media_codec_id id,
		    const struct media_codec_opts *o)
{
	if ((unsigned)id >= MEDIA_CODEC__COUNT)
		return SB_EINVAL;
	size_t tail = 0;
	if (id == MEDIA_CODEC_OPUS) {
		int t = media__opus_tail_size();
		if (t < 0)
			return SB_EIO;
		tail = (size_t)t;
	}
	struct media_codec *c = calloc(1, sizeof(*c) + tail);
	if (!c)
		return SB_ENOMEM;
	c->id = id;
	int err = 0;
	switch (id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		media__g711_init(c);
		break;
	case MEDIA_CODEC_G722:
		media__g722_init(c);
		break;
	case MEDIA_CODEC_OPUS:
		err = media__opus_init(c, o);
		break;
	default:
		err = SB_EINVAL;
		break;
	}
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void media_codec_free(struct media_codec *c)
{
	free(c); /* every state lives inside the one block */
}

enum media_codec_id media_codec_id(const struct media_codec *c)
{
	return c->id;
}

uint32_t media_codec_rate(const struct media_codec *c)
{
	return c->rate;
}

uint32_t media_codec_rtp_rate(const struct media_codec *c)
{
	return c->rtp_rate;
}

/* 10, 20, 40 or 60 ms at the codec rate */
static bool frame_ok(const struct media_codec *c, size_t n)
{
	size_t ms10 = c->rate / 100;
	return n == ms10 || n == 2 * ms10 || n == 4 * ms10 || n == 6 * ms10;
}

int media_codec_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap)
{
	if (!frame_ok(c, n))
		return SB_EINVAL;
	switch (c->id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return media__g711_encode(c, pcm, n, out, cap);
	case MEDIA_CODEC_G722:
		return media__g722_encode(c, pcm, n, out, cap);
	case MEDIA_CODEC_OPUS:
		return media__opus_encode(c, pcm, n, out, cap);
	default:
		return SB_EINVAL;
	}
}

int media_codec_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap)
{
	if (len == 0)
		return SB_EMALFORMED;
	switch (c->id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		return media__g711_decode(c, in, len, pcm, cap);
	case MEDIA_CODEC_G722:
		return media__g722_decode(c, in, len, pcm, cap);
	case MEDIA_CODEC_OPUS:
		return media__opus_decode(c, in, len, pcm, cap);
	default:
		return SB_EINVAL;
	}
}

int media_codec_conceal(struct media_codec *c, const uint8_t *next, size_t next_len, int16_t *pcm,
			size_t n)
{
	if (n == 0 || n > INT_MAX)
		return SB_EINVAL;
	plc_state_t *plc;
	switch (c->id) {
	case MEDIA_CODEC_PCMU:
	case MEDIA_CODEC_PCMA:
		plc = &c->u.g711.plc;
		break;
	case MEDIA_CODEC_G722:
		/* spandsp's PLC is tuned for 8 kHz; at 16 kHz its pitch search covers 133-400 Hz
		 * instead of 66-200 Hz, still fine for speech. The G.722 decoder itself does not
		 * see the loss (spandsp has no G.722 PLC), its ADPCM state resyncs within a frame.
		 */
		plc = &c->u.g722.plc;
		break;
	case MEDIA_CODEC_OPUS:
		return media__opus_conceal(c, next, next_len, pcm, n);
	default:
		return SB_EINVAL;
	}
	/* plc_fillin writes a quarter pitch period (up to 30 samples) whatever n is */
	if (n < PLC_PITCH_OVERLAP_MAX)
		return SB_EINVAL;
	if (plc->missing_samples == 0 && plc->buf_ptr != 0) {
		/* spandsp 0.0.6 rotates its history with an overlapping memcpy (undefined
		 * behaviour) at the start of a gap; rotate it here so it finds nothing to do */
		int16_t tmp[PLC_HISTORY_LEN];
		size_t k = (size_t)plc->buf_ptr;
		memcpy(tmp, plc->history + k, (PLC_HISTORY_LEN - k) * sizeof(tmp[0]));
		memcpy(tmp + PLC_HISTORY_LEN - k, plc->history, k * sizeof(tmp[0]));
		memcpy(plc->history, tmp, sizeof(tmp));
		plc->buf_ptr = 0;
	}
	plc_fillin(plc, pcm, (int)n);
	return (int)n;
}
