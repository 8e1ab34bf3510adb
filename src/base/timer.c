/* 4-ary min-heap of intrusive timers keyed by absolute deadline; each slot holds the deadline
 * next to the timer pointer. */
#include "base/timer.h"

#include <stdlib.h>

#include "base/err.h"

#define ARITY 4

void sb_timers_init(struct sb_timers *ts)
{
	ts->heap = NULL;
	ts->len = 0;
	ts->cap = 0;
}

void sb_timers_free(struct sb_timers *ts)
{
	for (size_t i = 0; i < ts->len; i++)
		ts->heap[i].t->idx = SIZE_MAX;
	free(ts->heap);
	sb_timers_init(ts);
}

void sb_timer_init(struct sb_timer *t, sb_timer_cb cb)
{
	t->deadline = SB_TIME_NEVER;
	t->idx = SIZE_MAX;
	t->cb = cb;
}

static inline void place(struct sb_timers *ts, size_t i, struct sb_timer_slot v)
{
	ts->heap[i] = v;
	v.t->idx = i;
}

static void sift_up(struct sb_timers *ts, size_t i)
{
	struct sb_timer_slot v = ts->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / ARITY;
		if (ts->heap[parent].deadline <= v.deadline)
			break;
		place(ts, i, ts->heap[parent]);
		i = parent;
	}
	place(ts, i, v);
}

static void sift_down(struct sb_timers *ts, size_t i)
{
	struct sb_timer_slot v = ts->heap[i];
	for (;;) {
		size_t first = ARITY * i + 1;
		if (first >= ts->len)
			break;
		size_t end = first + ARITY < ts->len ? first + ARITY : ts->len;
		size_t m = first;
		for (size_t c = first + 1; c < end; c++)
			if (ts->heap[c].deadline < ts->heap[m].deadline)
				m = c;
		if (ts->heap[m].deadline >= v.deadline)
			break;
		place(ts, i, ts->heap[m]);
		i = m;
	}
	place(ts, i, v);
}

int sb_timers_arm(struct sb_timers *ts, struct sb_timer *t, sb_time_ms deadline)
{
	if (sb_timer_armed(t)) {
		sb_time_ms old = t->deadline;
		t->deadline = deadline;
		ts->heap[t->idx].deadline = deadline;
		if (deadline < old)
			sift_up(ts, t->idx);
		else
			sift_down(ts, t->idx);
		return 0;
	}
	if (ts->len == ts->cap) {
		size_t ncap = ts->cap ? ts->cap * 2 : 64;
		struct sb_timer_slot *nh = realloc(ts->heap, ncap * sizeof(*nh));
		if (!nh)
			return SB_ENOMEM;
		ts->heap = nh;
		ts->cap = ncap;
	}
	t->deadline = deadline;
	ts->heap[ts->len] = (struct sb_timer_slot){.deadline = deadline, .t = t};
	t->idx = ts->len++;
	sift_up(ts, t->idx);
	return 0;
}

void sb_timers_disarm(struct sb_timers *ts, struct sb_timer *t)
{
	if (!sb_timer_armed(t))
		return;
	size_t i = t->idx;
	t->idx = SIZE_MAX;
	ts->len--;
	if (i == ts->len)
		return;
	struct sb_timer_slot last = ts->heap[ts->len];
	place(ts, i, last);
	if (i > 0 && ts->heap[(i - 1) / ARITY].deadline > last.deadline)
		sift_up(ts, i);
	else
		sift_down(ts, i);
}

sb_time_ms sb_timers_next(const struct sb_timers *ts)
{
	return ts->len ? ts->heap[0].deadline : SB_TIME_NEVER;
}

size_t sb_timers_run(struct sb_timers *ts, sb_time_ms now)
{
	size_t fired = 0;
	while (ts->len && ts->heap[0].deadline <= now) {
		struct sb_timer *t = ts->heap[0].t;
		sb_timers_disarm(ts, t);
		fired++;
		t->cb(t, now);
	}
	return fired;
}
