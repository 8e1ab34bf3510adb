/* Chunked bump allocator behind struct sb_arena.
 * Large requests get a chunk of their own; nothing is freed one by one. */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

struct sb_arena_chunk {
	struct sb_arena_chunk *next;
	size_t size;
	size_t used;
	max_align_t data[];
};

void sb_arena_init(struct sb_arena *a, size_t chunk_size)
{
	a->head = NULL;
	a->chunk_size = chunk_size ? chunk_size : 1024;
	a->total = 0;
}

void *sb_arena_alloc(struct sb_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	struct sb_arena_chunk *c = a->head;
	if (!c || c->size - c->used < size) {
		size_t csize = size > a->chunk_size ? size : a->chunk_size;
		c = malloc(sizeof(*c) + csize);
		if (!c)
			return NULL;
		c->size = csize;
		c->used = 0;
		/* Oversized chunk goes behind the head so the head keeps its room. */
		if (a->head && size > a->chunk_size) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
		a->total += csize;
	}
	void *p = (char *)c->data + c->used;
	c->used += size;
	return p;
}

void *sb_arena_zalloc(struct sb_arena *a, size_t size)
{
	void *p = sb_arena_alloc(a, size);
	if (p)
		memset(p, 0, size);
	return p;
}

int sb_arena_dup(struct sb_arena *a, struct sb_slice in, struct sb_slice *out)
{
	char *p = sb_arena_alloc(a, in.len + 1);
	if (!p)
		return SB_ENOMEM;
	if (in.len)
		memcpy(p, in.p, in.len);
	p[in.len] = '\0';
	*out = sb_slice(p, in.len);
	return 0;
}

char *sb_arena_strdup(struct sb_arena *a, const char *s)
{
	struct sb_slice out;
	if (sb_arena_dup(a, sb_slice_cstr(s), &out))
		return NULL;
	return (char *)out.p;
}

void sb_arena_reset(struct sb_arena *a)
{
	struct sb_arena_chunk *c = a->head;
	if (!c)
		return;
	struct sb_arena_chunk *n = c->next;
	while (n) {
		struct sb_arena_chunk *next = n->next;
		a->total -= n->size;
		free(n);
		n = next;
	}
	c->next = NULL;
	c->used = 0;
}

void sb_arena_free(struct sb_arena *a)
{
	struct sb_arena_chunk *c = a->head;
	while (c) {
		struct sb_arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
	a->total = 0;
}
