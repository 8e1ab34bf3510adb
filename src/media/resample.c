/* Sample-rate conversion of 16-bit mono: a plain copy when the rates are equal, our own
 * half-band filter for exact factors of two (8 <-> 16 kHz, the narrowband call in a 16 kHz
 * room, and 24 <-> 48 kHz), speexdsp for every other ratio. Filter delays stay in the output on
 * purpose (speex_resampler_get_input_latency, HB_DELAY). */
#include "media/resample.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <speex/speex_resampler.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/err.h"
#include "media/wav.h"

/* Half-band FIR of 4*HB_K - 1 taps (Kaiser window, beta 7): every other tap but the centre is
 * zero, so a factor-of-two step costs 2*HB_K multiplies per output sample of the filtering
 * phase and none for the other (a copy when interpolating, the centre tap when decimating).
 * HB_K 16: 0.003 dB ripple up to 3.4 kHz, 70 dB rejection from 4.6 kHz (for 8 <-> 16 kHz);
 * about a sixth of speexdsp quality 3's work for the same conversion, in integers. */
#define HB_K	 16
#define HB_N	 (2 * HB_K) /* non-zero taps of the filtering phase */
#define HB_CHUNK 960	    /* input samples per pass (stack scratch) */
_Static_assert(HB_N == 32, "hb_fir's SSE2 path holds the taps in four registers");

/* hb_up: 2*h[2i] in Q14 (they add up to about 2.4, so a Q14 sum of 32 products cannot
 * overflow int32); hb_down: h[2i] in Q15; the centre tap h = 0.5 is applied apart. Both
 * symmetric, so the same table serves the time-reversed dot product. */
static _Alignas(16) int16_t hb_up[HB_N], hb_down[HB_N];
static pthread_once_t hb_once = PTHREAD_ONCE_INIT;

static double bessel_i0(double x)
{
	double sum = 1.0, term = 1.0;
	for (int k = 1; k < 64 && term > 1e-12 * sum; k++) {
		double q = x / (2.0 * k);
		term *= q * q;
		sum += term;
	}
	return sum;
}

static void hb_design(void)
{
	const int len = 4 * HB_K - 1, mid = 2 * HB_K - 1;
	const double beta = 7.0, pi = 3.14159265358979323846;
	for (int i = 0; i < HB_N; i++) {
		int m = 2 * i; /* even taps: odd distance from the centre */
		double t = (m - mid) / 2.0;
		double r = 2.0 * m / (len - 1) - 1.0;
		double w = bessel_i0(beta * sqrt(1.0 - r * r)) / bessel_i0(beta);
		double h = 0.5 * sin(pi * t) / (pi * t) * w;
		hb_up[i] = (int16_t)lrint(2.0 * h * 16384.0);
		hb_down[i] = (int16_t)lrint(h * 32768.0);
	}
}

static inline int16_t sat16(int32_t v)
{
	return v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : (int16_t)v;
}

/* out[i] = sat16(round(sum over j of c[j] * x[i * step + j], >> shift)) for i < n (step 1 or
 * 2 for the caller's layout; here x is always contiguous: step 1). With SSE2 four outputs at a
 * time: four madd sums, one transposed horizontal add, one saturating pack. add[i], when not
 * NULL, is added to output i's sum first (the decimator's centre tap). */
static void hb_fir(const int16_t *restrict c, const int16_t *restrict x, const int32_t *add,
		   int shift, int16_t *restrict out, size_t n)
{
	size_t i = 0;
#if defined(__SSE2__)
	const __m128i round = _mm_set1_epi32(1 << (shift - 1));
	const __m128i c0 = _mm_load_si128((const void *)c);
	const __m128i c1 = _mm_load_si128((const void *)(c + 8));
	const __m128i c2 = _mm_load_si128((const void *)(c + 16));
	const __m128i c3 = _mm_load_si128((const void *)(c + 24));
	for (; i + 4 <= n; i += 4) {
		__m128i a[4];
		for (int k = 0; k < 4; k++) {
			const int16_t *w = x + i + (size_t)k;
			__m128i s0 = _mm_madd_epi16(c0, _mm_loadu_si128((const void *)w));
			__m128i s1 = _mm_madd_epi16(c1, _mm_loadu_si128((const void *)(w + 8)));
			__m128i s2 = _mm_madd_epi16(c2, _mm_loadu_si128((const void *)(w + 16)));
			__m128i s3 = _mm_madd_epi16(c3, _mm_loadu_si128((const void *)(w + 24)));
			a[k] = _mm_add_epi32(_mm_add_epi32(s0, s1), _mm_add_epi32(s2, s3));
		}
		/* transpose-add: lane k = the four partial sums of a[k] added */
		__m128i t0 =
		    _mm_add_epi32(_mm_unpacklo_epi32(a[0], a[1]), _mm_unpackhi_epi32(a[0], a[1]));
		__m128i t1 =
		    _mm_add_epi32(_mm_unpacklo_epi32(a[2], a[3]), _mm_unpackhi_epi32(a[2], a[3]));
		__m128i sum = _mm_add_epi32(_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1));
		if (add)
			sum = _mm_add_epi32(sum, _mm_loadu_si128((const void *)(add + i)));
		sum = _mm_sra_epi32(_mm_add_epi32(sum, round), _mm_cvtsi32_si128(shift));
		_mm_storel_epi64((void *)(out + i), _mm_packs_epi32(sum, sum));
	}
#endif
	for (; i < n; i++) {
		int32_t acc = add ? add[i] : 0;
		for (int j = 0; j < HB_N; j++)
			acc += (int32_t)c[j] * x[i + (size_t)j];
		out[i] = sat16((acc + (1 << (shift - 1))) >> shift);
	}
}

enum rs_kind { RS_COPY, RS_SPEEX, RS_UP2, RS_DOWN2 };

struct media_resampler {
	uint32_t in_rate, out_rate;
	int quality;
	enum rs_kind kind;
	SpeexResamplerState *st; /* RS_SPEEX */
	/* RS_UP2: the last HB_N - 1 inputs. RS_DOWN2: the last HB_N - 1 even-indexed inputs
	 * (hist) and the last HB_K odd-indexed ones (hist_odd). */
	int16_t hist[HB_N - 1], hist_odd[HB_K];
};

static void hb_up2(struct media_resampler *r, const int16_t *in, size_t n, int16_t *out)
{
	int16_t buf[HB_N - 1 + HB_CHUNK];
	while (n) {
		size_t c = n < HB_CHUNK ? n : HB_CHUNK;
		memcpy(buf, r->hist, sizeof(r->hist));
		memcpy(buf + HB_N - 1, in, c * sizeof(*in));
		/* buf[i + HB_N - 1] is input i; buf + i its window of the HB_N latest inputs */
		int16_t filt[HB_CHUNK];
		hb_fir(hb_up, buf, NULL, 14, filt, c);
		for (size_t i = 0; i < c; i++) {
			out[2 * i] = filt[i];
			out[2 * i + 1] = buf[i + HB_K];
		}
		memcpy(r->hist, buf + c, sizeof(r->hist));
		in += c, out += 2 * c, n -= c;
	}
}

static void hb_down2(struct media_resampler *r, const int16_t *in, size_t n, int16_t *out)
{
	int16_t even[HB_N - 1 + HB_CHUNK / 2], odd[HB_K + HB_CHUNK / 2];
	while (n) {
		size_t c = (n < HB_CHUNK ? n : HB_CHUNK) / 2; /* outputs this pass */
		memcpy(even, r->hist, sizeof(r->hist));
		memcpy(odd, r->hist_odd, sizeof(r->hist_odd));
		for (size_t i = 0; i < c; i++) {
			even[HB_N - 1 + i] = in[2 * i];
			odd[HB_K + i] = in[2 * i + 1];
		}
		int32_t centre[HB_CHUNK / 2];
		for (size_t i = 0; i < c; i++)
			centre[i] = (int32_t)odd[i] * 16384;
		hb_fir(hb_down, even, centre, 15, out, c);
		memcpy(r->hist, even + c, sizeof(r->hist));
		memcpy(r->hist_odd, odd + c, sizeof(r->hist_odd));
		in += 2 * c, out += c, n -= 2 * c;
	}
}

/* Building a speexdsp filter computes its sinc table (hundreds of sin() calls), which is most
 * of what setting up a call's media costs: a thread keeps the resamplers of ended legs and
 * hands them out again, history cleared (legs live and die on one media worker thread). */
#define CACHE_MAX 128
static _Thread_local struct {
	struct media_resampler *r[CACHE_MAX];
	size_t n;
} cache;

void media_resampler_cache_flush(void)
{
	while (cache.n) {
		struct media_resampler *r = cache.r[--cache.n];
		if (r->st)
			speex_resampler_destroy(r->st);
		free(r);
	}
}

int media_resampler_new(struct media_resampler **out, uint32_t in_rate, uint32_t out_rate,
			int quality)
{
	if (in_rate == 0 || out_rate == 0 || in_rate > 384000 || out_rate > 384000 ||
	    quality < SPEEX_RESAMPLER_QUALITY_MIN || quality > SPEEX_RESAMPLER_QUALITY_MAX)
		return SB_EINVAL;
	for (size_t i = cache.n; i-- > 0;) {
		struct media_resampler *c = cache.r[i];
		if (c->in_rate == in_rate && c->out_rate == out_rate && c->quality == quality) {
			cache.r[i] = cache.r[--cache.n];
			if (c->st)
				speex_resampler_reset_mem(c->st);
			memset(c->hist, 0, sizeof(c->hist));
			memset(c->hist_odd, 0, sizeof(c->hist_odd));
			*out = c;
			return 0;
		}
	}
	struct media_resampler *r = calloc(1, sizeof(*r));
	if (!r)
		return SB_ENOMEM;
	r->in_rate = in_rate;
	r->out_rate = out_rate;
	r->quality = quality;
	if (in_rate == out_rate) {
		r->kind = RS_COPY;
	} else if (out_rate == 2 * in_rate || in_rate == 2 * out_rate) {
		r->kind = out_rate > in_rate ? RS_UP2 : RS_DOWN2;
		pthread_once(&hb_once, hb_design);
	} else {
		int err = 0;
		r->kind = RS_SPEEX;
		r->st = speex_resampler_init(1, in_rate, out_rate, quality, &err);
		if (!r->st) {
			free(r);
			return err == RESAMPLER_ERR_ALLOC_FAILED ? SB_ENOMEM : SB_EINVAL;
		}
	}
	*out = r;
	return 0;
}

void media_resampler_free(struct media_resampler *r)
{
	if (!r)
		return;
	if (cache.n < CACHE_MAX) {
		cache.r[cache.n++] = r;
		return;
	}
	if (r->st)
		speex_resampler_destroy(r->st);
	free(r);
}

int media_resample(struct media_resampler *r, const int16_t *in, size_t in_n, int16_t *out,
		   size_t out_cap)
{
	if (in_n > 0x7FFFFFF)
		return SB_ETOOBIG;
	uint64_t need = ((uint64_t)in_n * r->out_rate + r->in_rate - 1) / r->in_rate;
	if (out_cap < need)
		return SB_ETOOBIG;
	switch (r->kind) {
	case RS_COPY:
		if (in_n)
			memmove(out, in, in_n * sizeof(*in));
		return (int)in_n;
	case RS_UP2:
		hb_up2(r, in, in_n, out);
		return (int)(2 * in_n);
	case RS_DOWN2:
		if (in_n % 2)
			return SB_EINVAL;
		hb_down2(r, in, in_n, out);
		return (int)(in_n / 2);
	case RS_SPEEX:
		break;
	}
	spx_uint32_t il = (spx_uint32_t)in_n;
	spx_uint32_t ol = out_cap > 0x7FFFFFFF ? 0x7FFFFFFF : (spx_uint32_t)out_cap;
	int err = speex_resampler_process_int(r->st, 0, in, &il, out, &ol);
	if (err != RESAMPLER_ERR_SUCCESS)
		return SB_EINVAL;
	if (il != in_n) /* the output did not fit after all */
		return SB_ETOOBIG;
	return (int)ol;
}

int media_resample_wav(const struct media_wav *in, uint32_t rate, struct media_wav *out)
{
	memset(out, 0, sizeof(*out));
	if (!in->pcm || !in->n || !in->rate || !rate)
		return SB_EINVAL;
	if (in->rate == rate) {
		out->pcm = malloc(in->n * sizeof(*out->pcm));
		if (!out->pcm)
			return SB_ENOMEM;
		memcpy(out->pcm, in->pcm, in->n * sizeof(*out->pcm));
		out->n = in->n;
		out->rate = rate;
		return 0;
	}
	struct media_resampler *rsm;
	int err = media_resampler_new(&rsm, in->rate, rate, 5);
	if (err)
		return err;
	size_t cap = (size_t)((uint64_t)in->n * rate / in->rate) + rate / 50u;
	int16_t *pcm = calloc(cap, sizeof(*pcm));
	if (!pcm) {
		media_resampler_free(rsm);
		return SB_ENOMEM;
	}
	/* 20 ms steps (whole 10 ms multiples, even counts for the half-band filter) */
	size_t in_step = in->rate / 50u, n = 0;
	for (size_t i = 0; i + in_step <= in->n && n < cap; i += in_step) {
		int k = media_resample(rsm, in->pcm + i, in_step, pcm + n, cap - n);
		if (k < 0)
			break;
		n += (size_t)k;
	}
	media_resampler_free(rsm);
	out->pcm = pcm;
	out->n = n;
	out->rate = rate;
	return 0;
}
