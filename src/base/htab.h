/* Intrusive chained hash table keyed by a 64-bit hash; the caller compares keys.
 * Owns only the bucket arrays; nodes live in their owners (transactions, dialogs).
 * Growth is incremental: when the load passes 1 a table twice the size takes over and the
 * old buckets move a few at a time (on every insert, and a hash's own bucket before it is
 * looked up or removed), so no single call rehashes a million entries while packets wait. */
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
	struct sb_hnode **old; /* while growing: the previous array, moved from old_pos on */
	size_t old_mask, old_pos;
};

int sb_htab_init(struct sb_htab *h, size_t initial_buckets);
void sb_htab_free(struct sb_htab *h);
/* Insert (grows the table when load > 1; growth failure is ignored: chains get longer). */
void sb_htab_insert(struct sb_htab *h, struct sb_hnode *n, uint64_t hash);
void sb_htab_remove(struct sb_htab *h, struct sb_hnode *n);
/* Finish a growth in progress: afterwards buckets[0..mask] hold every node (call before
 * walking all buckets). */
void sb_htab_settle(struct sb_htab *h);
void sb__htab_move(struct sb_htab *h, size_t old_bucket);
/* Head of the chain for hash; walk ->next and compare n->hash and the key. */
static inline struct sb_hnode *sb_htab_chain(struct sb_htab *h, uint64_t hash)
{
	if (h->old)
		sb__htab_move(h, hash & h->old_mask);
	return h->buckets ? h->buckets[hash & h->mask] : NULL;
}

#endif
