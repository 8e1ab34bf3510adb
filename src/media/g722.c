/* G.722 at 64 kbit/s through spandsp (states embedded in the codec object): 16 kHz PCM, two
 * samples per byte, RTP clock 8000 (RFC 3551 §4.5.2); decoded audio feeds the PLC history. */
#include "base/err.h"
#include "media/codec.h"
#include "media/codec_int.h"

void media__g722_init(struct media_codec *c)
{
	c->rate = 16000;
	c->rtp_rate = 8000;
	g722_encode_init(&c->u.g722.enc, 64000, 0);
	g722_decode_init(&c->u.g722.dec, 64000, 0);
	plc_init(&c->u.g722.plc);
}

int media__g722_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap)
{
	if (cap < n / 2)
		return SB_ETOOBIG;
	int r = g722_encode(&c->u.g722.enc, out, pcm, (int)n);
	return r < 0 ? SB_EIO : r;
}

int media__g722_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap)
{
	if (len > 32768)
		return SB_EMALFORMED;
	if (cap < 2 * len)
		return SB_ETOOBIG;
	int r = g722_decode(&c->u.g722.dec, pcm, in, (int)len);
	if (r < 0)
		return SB_EIO;
	plc_rx(&c->u.g722.plc, pcm, r);
	return r;
}
