/* Power-of-two bucket array with chaining; doubles when the load factor passes 1. */
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
	return 0;
}

void sb_htab_free(struct sb_htab *h)
{
	free(h->buckets);
	h->buckets = NULL;
	h->mask = 0;
	h->count = 0;
}

static void grow(struct sb_htab *h)
{
	size_t n = (h->mask + 1) * 2;
	struct sb_hnode **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return;
	for (size_t i = 0; i <= h->mask; i++) {
		struct sb_hnode *e = h->buckets[i];
		while (e) {
			struct sb_hnode *next = e->next;
			e->next = nb[e->hash & (n - 1)];
			nb[e->hash & (n - 1)] = e;
			e = next;
		}
	}
	free(h->buckets);
	h->buckets = nb;
	h->mask = n - 1;
}

void sb_htab_insert(struct sb_htab *h, struct sb_hnode *n, uint64_t hash)
{
	if (h->count >= h->mask + 1)
		grow(h);
	n->hash = hash;
	struct sb_hnode **b = &h->buckets[hash & h->mask];
	n->next = *b;
	*b = n;
	h->count++;
}

void sb_htab_remove(struct sb_htab *h, struct sb_hnode *n)
{
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
