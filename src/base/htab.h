/* Intrusive chained hash table keyed by a 64-bit hash; the caller compares keys.
 * Owns only the bucket array; nodes live in their owners (transactions, dialogs). */
#ifndef SB_BASE_HTAB_H
#define SB_BASE_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct sb_hnode {
	struct sb_hnode *next;
	uint64_t hash;
};

struct sb_htab {
	struct sb_hnode **buckets;
	size_t mask;
	size_t count;
};

int sb_htab_init(struct sb_htab *h, size_t initial_buckets);
void sb_htab_free(struct sb_htab *h);
/* Insert (grows the table when load > 1; growth failure is ignored: chains get longer). */
void sb_htab_insert(struct sb_htab *h, struct sb_hnode *n, uint64_t hash);
void sb_htab_remove(struct sb_htab *h, struct sb_hnode *n);
/* Head of the chain for hash; walk ->next and compare n->hash and the key. */
static inline struct sb_hnode *sb_htab_chain(const struct sb_htab *h, uint64_t hash)
{
	return h->buckets ? h->buckets[hash & h->mask] : NULL;
}

#endif
