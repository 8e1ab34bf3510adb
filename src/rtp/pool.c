/* Round-robin allocator over the even ports of the RTP range. */
#include "rtp/pool.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/err.h"
#include "base/slice.h"

int rtp_pool_init(struct rtp_pool *p, uint16_t lo, uint16_t hi)
{
	if (lo & 1)
		lo++;
	if (lo == 0 || hi < lo + 1)
		return SB_EINVAL;
	p->lo = lo;
	p->hi = hi;
	p->n = (size_t)(hi - lo) / 2 + ((hi - lo) % 2 ? 1 : 0);
	if (p->n == 0)
		p->n = 1;
	/* the last even port needs its odd RTCP partner inside the range */
	if (lo + 2 * (p->n - 1) + 1 > hi)
		p->n--;
	if (p->n == 0)
		return SB_EINVAL;
	p->used = calloc(p->n, 1);
	if (!p->used)
		return SB_ENOMEM;
	p->next = 0;
	p->in_use = 0;
	return 0;
}

void rtp_pool_free(struct rtp_pool *p)
{
	free(p->used);
	p->used = NULL;
	p->n = 0;
}

uint16_t rtp_pool_get(struct rtp_pool *p)
{
	for (size_t i = 0; i < p->n; i++) {
		size_t k = (p->next + i) % p->n;
		if (!p->used[k]) {
			p->used[k] = 1;
			p->in_use++;
			p->next = (k + 1) % p->n;
			return (uint16_t)(p->lo + 2 * k);
		}
	}
	return 0;
}

void rtp_pool_put(struct rtp_pool *p, uint16_t port)
{
	if (port < p->lo || (port - p->lo) % 2)
		return;
	size_t k = (size_t)(port - p->lo) / 2;
	if (k < p->n && p->used[k]) {
		p->used[k] = 0;
		p->in_use--;
	}
}

size_t rtp_pool_available(const struct rtp_pool *p)
{
	return p->n - p->in_use;
}

int rtp_pool_parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	struct sb_slice v = sb_slice_trim(sb_slice_cstr(s));
	ptrdiff_t dash = sb_slice_find(v, '-');
	if (dash <= 0)
		return SB_EINVAL;
	uint32_t a, b;
	if (sb_slice_to_u32(sb_slice(v.p, (size_t)dash), 65535, &a) ||
	    sb_slice_to_u32(sb_slice(v.p + dash + 1, v.len - (size_t)dash - 1), 65535, &b) ||
	    a >= b || a < 1024)
		return SB_EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}
