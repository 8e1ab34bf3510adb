/* Sample-rate conversion of 16-bit mono (speexdsp), or a plain copy when the rates are equal.
 * The filter's delay (speex_resampler_get_input_latency) stays in the output on purpose. */
#include "media/resample.h"

#include <stdlib.h>
#include <string.h>

#include <speex/speex_resampler.h>

#include "base/err.h"

/* speex_resampler_skip_zeros() is not called: it would drop the first input_latency samples of
 * the first frame only, so that frame would come out short and every later one full size. We
 * keep the constant delay (quality 3-5: about 0.5-1 ms) and exact per-frame sample counts. */
struct media_resampler {
	uint32_t in_rate, out_rate;
	int quality;
	SpeexResamplerState *st; /* NULL: pass-through */
};

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
	if (in_rate != out_rate) {
		int err = 0;
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
	if (!r->st) {
		if (in_n)
			memmove(out, in, in_n * sizeof(*in));
		return (int)in_n;
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
