/* Intrusive timers in a 4-ary min-heap: O(log n) arm/disarm, no allocation per arm.
 * The owner embeds struct sb_timer; the loop asks for the next deadline and runs what is due.
 * Heap entries carry their deadline, so sifting compares within the array (a node's four
 * children share one cache line) instead of visiting a million scattered timers. */
#ifndef SB_BASE_TIMER_H
#define SB_BASE_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"

struct sb_timer;
typedef void (*sb_timer_cb)(struct sb_timer *t, sb_time_ms now);

struct sb_timer {
	sb_time_ms deadline;
	size_t idx; /* position in the heap, SIZE_MAX when idle */
	sb_timer_cb cb;
};

struct sb_timer_slot {
	sb_time_ms deadline;
	struct sb_timer *t;
};

struct sb_timers {
	struct sb_timer_slot *heap;
	size_t len;
	size_t cap;
};

#define SB_TIME_NEVER UINT64_MAX

void sb_timers_init(struct sb_timers *ts);
void sb_timers_free(struct sb_timers *ts);
void sb_timer_init(struct sb_timer *t, sb_timer_cb cb);
static inline bool sb_timer_armed(const struct sb_timer *t)
{
	return t->idx != SIZE_MAX;
}
/* (Re)arm at an absolute deadline; 0 or SB_ENOMEM (heap growth only). */
int sb_timers_arm(struct sb_timers *ts, struct sb_timer *t, sb_time_ms deadline);
void sb_timers_disarm(struct sb_timers *ts, struct sb_timer *t);
/* Earliest deadline, or SB_TIME_NEVER. */
sb_time_ms sb_timers_next(const struct sb_timers *ts);
/* Fire every timer due at now (callbacks may arm/disarm); returns how many fired. */
size_t sb_timers_run(struct sb_timers *ts, sb_time_ms now);

#endif
