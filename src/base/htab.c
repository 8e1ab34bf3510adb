/* Power-of-two bucket array with chaining; doubles when the load factor passes 1, moving the
 * old buckets over incrementally. */
#include "base/htab.h"

#include <stdlib.h>

#include "base/err.h"

int sb_htab_init(struct sb_htab *h, size_t initial_buckets)
{
	size_t n = 16;
	while (n < initial_buckets)
		n *= 2;
	h->buckets = calloc(n, sizeof(*h->buckets));
	if (!h->buckets)
		return SB_ENOMEM;
	h->mask = n - 1;
	h->count = 0;
	h->old = NULL;
	h->old_mask = h->old_pos = 0;
	return 0;
}

void sb_htab_free(struct sb_htab *h)
{
	free(h->old);
	h->old = NULL;
	free(h->buckets);
	h->buckets = NULL;
	h->mask = 0;
	h->count = 0;
}

/* old buckets moved per insert: a growth ends long before the next one could start */
#define MOVE_PER_INSERT 16

void sb__htab_move(struct sb_htab *h, size_t i)
{
	struct sb_hnode *e = h->old[i];
	h->old[i] = NULL;
	while (e) {
		struct sb_hnode *next = e->next;
		struct sb_hnode **b = &h->buckets[e->hash & h->mask];
		e->next = *b;
		*b = e;
		e = next;
	}
}

static void move_some(struct sb_htab *h, size_t n)
{
	while (n-- && h->old_pos <= h->old_mask)
		sb__htab_move(h, h->old_pos++);
	if (h->old_pos > h->old_mask) {
		free(h->old);
		h->old = NULL;
	}
}

void sb_htab_settle(struct sb_htab *h)
{
	if (h->old)
		move_some(h, SIZE_MAX);
}

static void grow(struct sb_htab *h)
{
	size_t n = (h->mask + 1) * 2;
	struct sb_hnode **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	h->old = h->buckets;
	h->old_mask = h->mask;
	h->old_pos = 0;
	h->buckets = nb;
	h->mask = n - 1;
}

void sb_htab_insert(struct sb_htab *h, struct sb_hnode *n, uint64_t hash)
{
	if (h->old)
		move_some(h, MOVE_PER_INSERT);
	else if (h->count >= h->mask + 1)
		grow(h);
	n->hash = hash;
	struct sb_hnode **b = &h->buckets[hash & h->mask];
	n->next = *b;
	*b = n;
	h->count++;
}

void sb_htab_remove(struct sb_htab *h, struct sb_hnode *n)
{
	if (h->old)
		sb__htab_move(h, n->hash & h->old_mask);
	struct sb_hnode **pp = &h->buckets[n->hash & h->mask];
	while (*pp) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			h->count--;
			return;
		}
		pp = &(*pp)->next;
	}
}
