/* G.711 PCMU and PCMA (ITU-T G.711, bit-exact with the G.191 reference): branch-free encoders
 * (and their SSE2 form for whole frames), 256-entry decode tables generated at compile
 * time, and the PCMU/PCMA codec hooks with PLC. */
#include "base/compat.h"
#include "base/err.h"
#include "media/codec.h"
#include "media/codec_int.h"

/* ---- decode tables: one expression per code, expanded 256 times by the preprocessor ---- */

/* µ-law: bits are inverted; magnitude = ((2 * mantissa + 33) << (exponent + 2)) - 132 */
#define ULAW_INV(u) ((~(unsigned)(u)) & 0xFFu)
#define ULAW_MAG(u) (((((ULAW_INV(u) & 0x0Fu) << 3) + 132u) << ((ULAW_INV(u) & 0x70u) >> 4)) - 132u)
#define ULAW(u)	    ((int16_t)(((u)&0x80) ? (int)ULAW_MAG(u) : -(int)ULAW_MAG(u)))

/* A-law: even bits inverted; segment 0 has no implicit leading one */
#define ALAW_X(a)   (((unsigned)(a) ^ 0x55u) & 0xFFu)
#define ALAW_E(a)   ((ALAW_X(a) & 0x70u) >> 4)
#define ALAW_M(a)   (ALAW_X(a) & 0x0Fu)
#define ALAW_B(a)   ((((ALAW_E(a) ? (ALAW_M(a) | 16u) : ALAW_M(a))) << 4) + 8u)
#define ALAW_MAG(a) (ALAW_B(a) << (ALAW_E(a) ? ALAW_E(a) - 1u : 0u))
#define ALAW(a)	    ((int16_t)((ALAW_X(a) & 0x80) ? (int)ALAW_MAG(a) : -(int)ALAW_MAG(a)))

/* clang-format off */
#define T4(f, i)   f(i), f((i) + 1), f((i) + 2), f((i) + 3)
#define T16(f, i)  T4(f, i), T4(f, (i) + 4), T4(f, (i) + 8), T4(f, (i) + 12)
#define T64(f, i)  T16(f, i), T16(f, (i) + 16), T16(f, (i) + 32), T16(f, (i) + 48)
#define T256(f)    T64(f, 0), T64(f, 64), T64(f, 128), T64(f, 192)
/* clang-format on */

static const int16_t ulaw_table[256] = {T256(ULAW)};
static const int16_t alaw_table[256] = {T256(ALAW)};

int16_t media_ulaw_decode(uint8_t u)
{
	return ulaw_table[u];
}

int16_t media_alaw_decode(uint8_t a)
{
	return alaw_table[a];
}

/* ---- encoders ---- */

/* Index of the highest set bit, x != 0. */
static inline unsigned msb_index(uint32_t x)
{
	return 63u - (unsigned)SB_CLZ64((uint64_t)x);
}

uint8_t media_ulaw_encode(int16_t s)
{
	int32_t x = s;
	uint32_t neg = (uint32_t) - (x < 0);	    /* all ones for negative */
	uint32_t mag = (uint32_t)x ^ neg;	    /* one's complement magnitude, as G.191 */
	mag = (mag < 32635u ? mag : 32635u) + 132u; /* clip, add the bias: 132..32767 */
	uint32_t e = msb_index(mag) - 7u;	    /* 0..7 */
	uint32_t m = (mag >> (e + 3u)) & 0x0Fu;
	return (uint8_t)((~((e << 4) | m) & 0x7Fu) | (~neg & 0x80u));
}

uint8_t media_alaw_encode(int16_t s)
{
	int32_t x = s;
	uint32_t neg = (uint32_t) - (x < 0);
	uint32_t mag = ((uint32_t)x ^ neg) >> 4; /* 0..2047 (12 bits) */
	/* segments 0 and 1 share the step, so mag < 32 is its own code; above, the shifted value
	 * keeps its leading one (16..31) which adds the 16 the segment number misses */
	uint32_t sh = msb_index(mag | 16u) - 4u; /* 0..6 */
	uint32_t code = (sh << 4) + (mag >> sh);
	return (uint8_t)((code | (~neg & 0x80u)) ^ 0x55u);
}

/* Whole frames, 8 samples at a time with SSE2 (every x86-64 has it), the arithmetic above
 * lane by lane: the segment by counting the thresholds a magnitude reaches, and the shift by
 * that segment as a multiplication by a power of two the same count halves (SSE2 has no
 * per-lane shift). Bit-exact with the encoders above (the unit test compares every input). */
#if defined(__SSE2__)
#include <emmintrin.h>

static void ulaw_encode_frame(const int16_t *pcm, size_t n, uint8_t *out)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(pcm + i));
		__m128i neg = _mm_srai_epi16(x, 15);
		__m128i mag = _mm_min_epi16(_mm_xor_si128(x, neg), _mm_set1_epi16(32635));
		mag = _mm_add_epi16(mag, _mm_set1_epi16(132)); /* 132..32767: msb at 7 + e */
		__m128i e = _mm_setzero_si128(), p = _mm_set1_epi16(128);
		for (int k = 0; k < 7; k++) { /* mag >= 256 << k: one segment up, p halved */
			__m128i m = _mm_cmpgt_epi16(mag, _mm_set1_epi16((short)((256 << k) - 1)));
			e = _mm_sub_epi16(e, m);
			p = _mm_sub_epi16(p, _mm_and_si128(m, _mm_srli_epi16(p, 1)));
		}
		/* mag * 2^(7 - e) has its leading one at bit 14: the mantissa is bits 10..13 */
		__m128i m4 = _mm_and_si128(_mm_srli_epi16(_mm_mullo_epi16(mag, p), 10),
					   _mm_set1_epi16(0x0F));
		__m128i code =
		    _mm_andnot_si128(_mm_or_si128(_mm_slli_epi16(e, 4), m4), _mm_set1_epi16(0x7F));
		code = _mm_or_si128(code, _mm_andnot_si128(neg, _mm_set1_epi16(0x80)));
		_mm_storel_epi64((__m128i *)(void *)(out + i), _mm_packus_epi16(code, code));
	}
	for (; i < n; i++)
		out[i] = media_ulaw_encode(pcm[i]);
}

static void alaw_encode_frame(const int16_t *pcm, size_t n, uint8_t *out)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(pcm + i));
		__m128i neg = _mm_srai_epi16(x, 15);
		__m128i mag = _mm_srli_epi16(_mm_xor_si128(x, neg), 4); /* 0..2047 */
		__m128i sh = _mm_setzero_si128(), p = _mm_set1_epi16(64);
		for (int k = 0; k < 6; k++) { /* (mag | 16) >= 32 << k */
			__m128i m = _mm_cmpgt_epi16(mag, _mm_set1_epi16((short)((32 << k) - 1)));
			sh = _mm_sub_epi16(sh, m);
			p = _mm_sub_epi16(p, _mm_and_si128(m, _mm_srli_epi16(p, 1)));
		}
		/* mag >> sh as (mag * 2^(6 - sh)) >> 6 */
		__m128i q = _mm_srli_epi16(_mm_mullo_epi16(mag, p), 6);
		__m128i code = _mm_add_epi16(_mm_slli_epi16(sh, 4), q);
		code = _mm_or_si128(code, _mm_andnot_si128(neg, _mm_set1_epi16(0x80)));
		code = _mm_xor_si128(code, _mm_set1_epi16(0x55));
		_mm_storel_epi64((__m128i *)(void *)(out + i), _mm_packus_epi16(code, code));
	}
	for (; i < n; i++)
		out[i] = media_alaw_encode(pcm[i]);
}
#else
static void ulaw_encode_frame(const int16_t *pcm, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = media_ulaw_encode(pcm[i]);
}

static void alaw_encode_frame(const int16_t *pcm, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = media_alaw_encode(pcm[i]);
}
#endif

/* ---- codec hooks ---- */

void media__g711_init(struct media_codec *c)
{
	c->rate = 8000;
	c->rtp_rate = 8000;
	plc_init(&c->u.g711.plc);
}

int media__g711_encode(struct media_codec *c, const int16_t *pcm, size_t n, uint8_t *out,
		       size_t cap)
{
	if (cap < n)
		return SB_ETOOBIG;
	if (c->id == MEDIA_CODEC_PCMU)
		ulaw_encode_frame(pcm, n, out);
	else
		alaw_encode_frame(pcm, n, out);
	return (int)n;
}

int media__g711_decode(struct media_codec *c, const uint8_t *in, size_t len, int16_t *pcm,
		       size_t cap)
{
	if (cap < len)
		return SB_ETOOBIG;
	if (len > 65536)
		return SB_EMALFORMED;
	const int16_t *t = c->id == MEDIA_CODEC_PCMU ? ulaw_table : alaw_table;
	for (size_t i = 0; i < len; i++)
		pcm[i] = t[in[i]];
	plc_rx(&c->u.g711.plc, pcm, (int)len);
	return (int)len;
}
