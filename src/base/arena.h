/* Region allocator: many small allocations freed together (per transaction, dialog, request).
 * Owns its chunks; an allocation failure returns NULL and leaves the arena usable. */
#ifndef SB_BASE_ARENA_H
#define SB_BASE_ARENA_H

#include <stddef.h>

#include "base/slice.h"

struct sb_arena_chunk;

struct sb_arena {
	struct sb_arena_chunk *head;
	size_t chunk_size;
	size_t total; /* bytes held in chunks */
};

void sb_arena_init(struct sb_arena *a, size_t chunk_size);
void *sb_arena_alloc(struct sb_arena *a, size_t size);
void *sb_arena_zalloc(struct sb_arena *a, size_t size);
/* Copy bytes into the arena; the result is NUL-terminated (not counted in len). */
int sb_arena_dup(struct sb_arena *a, struct sb_slice in, struct sb_slice *out);
char *sb_arena_strdup(struct sb_arena *a, const char *s);
/* Free every chunk but the first, which is kept for reuse. */
void sb_arena_reset(struct sb_arena *a);
void sb_arena_free(struct sb_arena *a);

#endif
