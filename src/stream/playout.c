/* The agent-to-caller playout queue: a growable ring of μ-law or PCM16LE bytes bounded by a cap,
 * and marks as absolute byte positions. Owns the ring and mark names; allocates on push and mark,
 * never on pull. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "media/codec.h"
#include "stream/playout.h"

#define RING_START_MS 1000u /* most agents never need more, big bursts grow it */
#define MARKS_START   16u

struct mark {
	uint64_t pos; /* reached when pos_out >= pos */
	char *name;
	size_t len;
};

struct stream_playout {
	uint8_t *ring;
	size_t cap; /* allocated bytes */
	size_t max; /* cap limit in bytes */
	size_t head;
	size_t len;
	uint64_t pos_in;  /* bytes ever accepted */
	uint64_t pos_out; /* bytes ever played or cleared */

	struct mark *marks;
	size_t mcap, mhead, mlen, mmax;
	char *popped;	  /* name handed out by the last reached() */
	bool overflowing; /* the last push lost bytes */
	size_t bps;	  /* bytes per sample: 1 (μ-law) or 2 (PCM16LE) */

	struct stream_playout_stats st;
};

int stream_playout_new(struct stream_playout **out, const struct stream_playout_opts *o)
{
	uint32_t max_ms = o && o->max_ms ? o->max_ms : STREAM_PLAYOUT_DEFAULT_MS;
	uint32_t max_marks = o && o->max_marks ? o->max_marks : STREAM_PLAYOUT_DEFAULT_MARK;
	bool pcm16 = o && o->pcm16;
	uint32_t rate = pcm16 && o->rate ? o->rate : STREAM_PLAYOUT_RATE;
	if (max_ms < 20 || rate < 8000 || rate > 48000 || rate % 1000)
		return SB_EINVAL;
	struct stream_playout *p = calloc(1, sizeof(*p));
	if (!p)
		return SB_ENOMEM;
	p->bps = pcm16 ? 2 : 1;
	size_t per_ms = (size_t)(rate / 1000u) * p->bps;
	p->max = (size_t)max_ms * per_ms;
	p->cap = p->max < RING_START_MS * per_ms ? p->max : RING_START_MS * per_ms;
	p->mmax = max_marks;
	p->mcap = p->mmax < MARKS_START ? p->mmax : MARKS_START;
	p->ring = malloc(p->cap);
	p->marks = calloc(p->mcap, sizeof(*p->marks));
	if (!p->ring || !p->marks) {
		free(p->ring);
		free(p->marks);
		free(p);
		return SB_ENOMEM;
	}
	*out = p;
	return 0;
}

void stream_playout_free(struct stream_playout *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->mlen; i++)
		free(p->marks[(p->mhead + i) % p->mcap].name);
	free(p->marks);
	free(p->popped);
	free(p->ring);
	free(p);
}

/* Grow the ring to hold at least need bytes (need <= max); false when out of memory. */
static bool ring_grow(struct stream_playout *p, size_t need)
{
	size_t ncap = p->cap;
	while (ncap < need)
		ncap = ncap > p->max / 2 ? p->max : ncap * 2;
	uint8_t *nr = malloc(ncap);
	if (!nr)
		return false;
	size_t first = p->cap - p->head < p->len ? p->cap - p->head : p->len;
	memcpy(nr, p->ring + p->head, first);
	memcpy(nr + first, p->ring, p->len - first);
	free(p->ring);
	p->ring = nr;
	p->cap = ncap;
	p->head = 0;
	return true;
}

static size_t push_raw(struct stream_playout *p, const uint8_t *u, size_t n)
{
	if (n == 0)
		return 0;
	size_t take = p->max - p->len < n ? p->max - p->len : n;
	if (p->len + take > p->cap && !ring_grow(p, p->len + take))
		take = p->cap - p->len; /* keep what fits today */
	size_t tail = (p->head + p->len) % p->cap;
	size_t first = p->cap - tail < take ? p->cap - tail : take;
	memcpy(p->ring + tail, u, first);
	memcpy(p->ring, u + first, take - first);
	p->len += take;
	p->pos_in += take;
	p->st.bytes_in += take;
	if (take < n) {
		p->st.bytes_dropped += n - take;
		if (!p->overflowing)
			p->st.overflows++;
	}
	p->overflowing = take < n;
	return take;
}

size_t stream_playout_push_ulaw(struct stream_playout *p, const uint8_t *u, size_t n)
{
	return p->bps == 1 ? push_raw(p, u, n) : 0;
}

size_t stream_playout_push_pcm16le(struct stream_playout *p, const uint8_t *b, size_t n)
{
	return p->bps == 2 ? push_raw(p, b, n) : 0;
}

size_t stream_playout_push_bytes(struct stream_playout *p, const uint8_t *b, size_t n)
{
	return push_raw(p, b, n);
}

static bool marks_grow(struct stream_playout *p)
{
	size_t ncap = p->mcap * 2 > p->mmax ? p->mmax : p->mcap * 2;
	struct mark *nm = calloc(ncap, sizeof(*nm));
	if (!nm)
		return false;
	for (size_t i = 0; i < p->mlen; i++)
		nm[i] = p->marks[(p->mhead + i) % p->mcap];
	free(p->marks);
	p->marks = nm;
	p->mcap = ncap;
	p->mhead = 0;
	return true;
}

int stream_playout_mark(struct stream_playout *p, struct sb_slice name)
{
	int err;
	if (name.len > STREAM_PLAYOUT_MARK_NAME) {
		err = SB_ETOOBIG;
		goto out;
	}
	if (p->mlen == p->mmax) {
		err = SB_ENORES;
		goto out;
	}
	if (p->mlen == p->mcap && !marks_grow(p)) {
		err = SB_ENOMEM;
		goto out;
	}
	char *copy = malloc(name.len + 1);
	if (!copy) {
		err = SB_ENOMEM;
		goto out;
	}
	if (name.len)
		memcpy(copy, name.p, name.len);
	copy[name.len] = '\0';
	struct mark *m = &p->marks[(p->mhead + p->mlen) % p->mcap];
	m->pos =
	    p->pos_in - p->len % p->bps; /* an odd byte waiting for its pair is not audio yet */
	m->name = copy;
	m->len = name.len;
	p->mlen++;
	p->st.marks_in++;
	return 0;
out:
	p->st.marks_dropped++;
	return err;
}

size_t stream_playout_pull(struct stream_playout *p, int16_t *pcm, size_t n)
{
	size_t avail = p->len / p->bps;
	size_t take = avail < n ? avail : n;
	if (p->bps == 1) {
		for (size_t i = 0; i < take; i++) {
			pcm[i] = media_ulaw_decode(p->ring[p->head]);
			if (++p->head == p->cap)
				p->head = 0;
		}
	} else {
		for (size_t i = 0; i < take; i++) {
			uint8_t lo = p->ring[p->head];
			if (++p->head == p->cap)
				p->head = 0;
			uint8_t hi = p->ring[p->head];
			if (++p->head == p->cap)
				p->head = 0;
			pcm[i] = (int16_t)(uint16_t)(lo | (uint16_t)hi << 8);
		}
	}
	if (take < n)
		memset(pcm + take, 0, (n - take) * sizeof(*pcm));
	p->len -= take * p->bps;
	if (p->len == 0)
		p->head = 0;
	p->pos_out += take * p->bps;
	p->st.bytes_played += take * p->bps;
	if (take)
		p->overflowing = false; /* room again: a later refusal is a new episode */
	p->st.pulls++;
	if (take < n && take > 0)
		p->st.underruns++;
	return take;
}

bool stream_playout_reached(struct stream_playout *p, struct sb_slice *name)
{
	free(p->popped);
	p->popped = NULL;
	if (p->mlen == 0 || p->marks[p->mhead].pos > p->pos_out)
		return false;
	struct mark *m = &p->marks[p->mhead];
	p->popped = m->name;
	*name = sb_slice(m->name, m->len);
	m->name = NULL;
	p->mhead = (p->mhead + 1) % p->mcap;
	p->mlen--;
	return true;
}

size_t stream_playout_reached_count(const struct stream_playout *p)
{
	size_t n = 0;
	while (n < p->mlen && p->marks[(p->mhead + n) % p->mcap].pos <= p->pos_out)
		n++;
	return n;
}

size_t stream_playout_clear(struct stream_playout *p)
{
	size_t dropped = p->len;
	p->pos_out += dropped;
	p->st.bytes_cleared += dropped;
	p->overflowing = false;
	p->head = 0;
	p->len = 0;
	return dropped;
}

size_t stream_playout_queued(const struct stream_playout *p)
{
	return p->len / p->bps;
}

size_t stream_playout_marks(const struct stream_playout *p)
{
	return p->mlen;
}

size_t stream_playout_capacity(const struct stream_playout *p)
{
	return p->max / p->bps;
}

const struct stream_playout_stats *stream_playout_stats(const struct stream_playout *p)
{
	return &p->st;
}
