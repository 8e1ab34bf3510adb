/* Media worker threads and the single-producer single-consumer rings between them and the
 * control loop; each worker's 20 ms tick is a uv_timer re-armed against a monotonic deadline. */
#include "media/worker.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/log.h"
#include "media/resample.h"
#include "rtp/sock.h"

struct ring {
	struct media_msg *slots;
	uint32_t mask;
	_Atomic uint32_t head; /* consumer */
	_Atomic uint32_t tail; /* producer */
};

struct media_worker {
	struct media_engine *engine;
	unsigned index;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t wake;     /* control -> worker */
	uv_async_t ctl_wake; /* worker -> control (on the control loop) */
	uv_timer_t tick_timer;
	struct ring in, out;
	void (*tick_fn)(void *arg, uint64_t now_ms);
	void *tick_arg;
	uint64_t next_tick_ns;
	bool stopping;
	bool started;
	struct media_worker_stats st;
	_Atomic uint64_t msgs_in, msgs_out;
};

struct media_engine {
	uv_loop_t *control;
	unsigned n;
	struct media_worker *w;
	unsigned closing; /* handles still closing */
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

static int ring_init(struct ring *r, uint32_t len)
{
	uint32_t n = 1;
	while (n < len)
		n <<= 1;
	r->slots = calloc(n, sizeof(*r->slots));
	if (!r->slots)
		return SB_ENOMEM;
	r->mask = n - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return 0;
}

static int ring_push(struct ring *r, const struct media_msg *m)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	if (tail - head > r->mask)
		return SB_EBUSY;
	r->slots[tail & r->mask] = *m;
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

/* Runs every message present now; returns how many. */
static uint64_t ring_drain(struct ring *r)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint64_t n = 0;
	while (head != tail) {
		struct media_msg m = r->slots[head & r->mask];
		head++;
		atomic_store_explicit(&r->head, head, memory_order_release);
		m.fn(&m);
		n++;
	}
	return n;
}

static void on_wake(uv_async_t *a)
{
	struct media_worker *w = a->data;
	atomic_fetch_add_explicit(&w->msgs_in, ring_drain(&w->in), memory_order_relaxed);
}

static void on_ctl_wake(uv_async_t *a)
{
	struct media_worker *w = a->data;
	atomic_fetch_add_explicit(&w->msgs_out, ring_drain(&w->out), memory_order_relaxed);
}

static void on_tick(uv_timer_t *t);

static void schedule_tick(struct media_worker *w)
{
	uint64_t now = uv_hrtime();
	uint64_t wait_ms = 0;
	if (w->next_tick_ns > now)
		wait_ms = (w->next_tick_ns - now) / 1000000u;
	/* Never 0: libuv before 1.48 runs a timer re-armed with 0 from its own callback again in
	 * the same pass (the loop time was just updated), so a worker behind schedule ticked back
	 * to back and never polled for I/O (control messages starved). With 1 ms a late tick runs
	 * right after one I/O poll. */
	if (wait_ms == 0)
		wait_ms = 1;
	uv_timer_start(&w->tick_timer, on_tick, wait_ms, 0);
}

static void on_tick(uv_timer_t *t)
{
	struct media_worker *w = t->data;
	if (w->stopping)
		return;
	uint64_t now = uv_hrtime();
	/* libuv timers have millisecond resolution: a tick up to 1 ms early runs now */
	if (now + 1000000u < w->next_tick_ns) {
		schedule_tick(w);
		return;
	}
	uint64_t late = now > w->next_tick_ns ? now - w->next_tick_ns : 0;
	if (late > 5u * MEDIA_TICK_MS * 1000000u) {
		w->next_tick_ns = now; /* stalled: restart the schedule rather than burst */
		late = 0;
	}
	if (late > 5000000u)
		w->st.late_ticks++;
	if (late / 1000u > w->st.max_late_us)
		w->st.max_late_us = late / 1000u;
	w->st.ticks++;
	if (w->tick_fn) {
		/* the loop's clock, the one packet arrival times are read from */
		uv_update_time(&w->loop);
		uint64_t now_ms = uv_now(&w->loop);
		/* what arrived on the worker's sockets reaches the legs first; their sends leave
		 * together once the tick is done */
		rtp_sock_batch_begin(now_ms);
		w->tick_fn(w->tick_arg, now_ms);
		rtp_sock_batch_end();
	}
	w->st.busy_ns += uv_hrtime() - now;
	w->next_tick_ns += (uint64_t)MEDIA_TICK_MS * 1000000u;
	schedule_tick(w);
}

static void worker_main(void *arg)
{
	struct media_worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	media_resampler_cache_flush();
	rtp_sock_thread_exit();
}

static void on_stop(const struct media_msg *m)
{
	struct media_worker *w = m->obj;
	w->stopping = true;
	uv_timer_stop(&w->tick_timer);
	uv_close((uv_handle_t *)&w->tick_timer, NULL);
	uv_close((uv_handle_t *)&w->wake, NULL);
}

static int worker_start(struct media_engine *e, struct media_worker *w, unsigned i, uint32_t qlen)
{
	w->engine = e;
	w->index = i;
	if (ring_init(&w->in, qlen) || ring_init(&w->out, qlen))
		return SB_ENOMEM;
	if (uv_loop_init(&w->loop))
		return SB_EIO;
	uv_async_init(&w->loop, &w->wake, on_wake);
	w->wake.data = w;
	uv_timer_init(&w->loop, &w->tick_timer);
	w->tick_timer.data = w;
	uv_async_init(e->control, &w->ctl_wake, on_ctl_wake);
	w->ctl_wake.data = w;
	w->next_tick_ns = uv_hrtime() + (uint64_t)MEDIA_TICK_MS * 1000000u;
	schedule_tick(w);
	if (uv_thread_create(&w->thread, worker_main, w))
		return SB_EIO;
	w->started = true;
	return 0;
}

int media_engine_new(struct media_engine **out, const struct media_engine_opts *o)
{
	if (!o || !o->control)
		return SB_EINVAL;
	unsigned n = o->workers;
	if (n == 0) {
		uv_cpu_info_t *ci;
		int count = 0;
		if (uv_cpu_info(&ci, &count) == 0) {
			uv_free_cpu_info(ci, count);
			n = count > 0 ? (unsigned)count : 1;
		} else {
			n = 1;
		}
	}
	if (n > 256)
		return SB_EINVAL;
	struct media_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return SB_ENOMEM;
	e->w = calloc(n, sizeof(*e->w));
	if (!e->w) {
		free(e);
		return SB_ENOMEM;
	}
	e->control = o->control;
	e->n = n;
	uint32_t qlen = o->queue_len ? o->queue_len : 8192;
	for (unsigned i = 0; i < n; i++) {
		int err = worker_start(e, &e->w[i], i, qlen);
		if (err) {
			SB_ERROR("media", "cannot start media worker %u: %s", i, sb_strerror(err));
			e->n = i + 1;
			media_engine_close(e, NULL, NULL);
			return err;
		}
	}
	*out = e;
	return 0;
}

static void engine_free_now(struct media_engine *e)
{
	for (unsigned i = 0; i < e->n; i++) {
		free(e->w[i].in.slots);
		free(e->w[i].out.slots);
	}
	void (*cb)(void *) = e->closed_cb;
	void *arg = e->closed_arg;
	free(e->w);
	free(e);
	if (cb)
		cb(arg);
}

static void ctl_closed(uv_handle_t *h)
{
	struct media_worker *w = h->data;
	struct media_engine *e = w->engine;
	if (--e->closing == 0)
		engine_free_now(e);
}

void media_engine_close(struct media_engine *e, void (*cb)(void *arg), void *arg)
{
	e->closed_cb = cb;
	e->closed_arg = arg;
	e->closing = 0;
	for (unsigned i = 0; i < e->n; i++) {
		struct media_worker *w = &e->w[i];
		if (w->started) {
			struct media_msg m = {.fn = on_stop, .obj = w};
			while (ring_push(&w->in, &m) == SB_EBUSY)
				uv_sleep(1);
			uv_async_send(&w->wake);
			uv_thread_join(&w->thread);
			ring_drain(&w->out); /* what the worker posted while stopping */
			uv_run(&w->loop, UV_RUN_NOWAIT);
			uv_loop_close(&w->loop);
			w->started = false;
		}
		if (w->ctl_wake.loop) {
			e->closing++;
			uv_close((uv_handle_t *)&w->ctl_wake, ctl_closed);
		}
	}
	if (e->closing == 0)
		engine_free_now(e);
}

unsigned media_engine_workers(const struct media_engine *e)
{
	return e->n;
}

struct media_worker *media_engine_worker(struct media_engine *e, unsigned i)
{
	return i < e->n ? &e->w[i] : NULL;
}

/* The fence: ring_push ends with a release store of tail, and uv_async_send starts with a
 * plain read of the handle's pending flag, returning when it is still set. Without a full
 * fence the CPU may do that read before the store is visible (store-load reordering): the
 * consumer clears pending, drains, misses the new tail, and nobody wakes it again. Seen as
 * one message in about a million never delivered under CPU contention (test_worker). */
int media_worker_post(struct media_worker *w, const struct media_msg *m)
{
	int err = ring_push(&w->in, m);
	atomic_thread_fence(memory_order_seq_cst);
	if (!err)
		uv_async_send(&w->wake);
	return err;
}

int media_worker_post_control(struct media_worker *w, const struct media_msg *m)
{
	int err = ring_push(&w->out, m);
	atomic_thread_fence(memory_order_seq_cst); /* see media_worker_post */
	if (!err)
		uv_async_send(&w->ctl_wake);
	return err;
}

uv_loop_t *media_worker_loop(struct media_worker *w)
{
	return &w->loop;
}

unsigned media_worker_index(const struct media_worker *w)
{
	return w->index;
}

void media_worker_set_tick(struct media_worker *w, void (*fn)(void *arg, uint64_t now_ms),
			   void *arg)
{
	w->tick_fn = fn;
	w->tick_arg = arg;
}

void media_worker_stats(const struct media_worker *w, struct media_worker_stats *out)
{
	*out = w->st;
	out->msgs_in = atomic_load_explicit(&w->msgs_in, memory_order_relaxed);
	out->msgs_out = atomic_load_explicit(&w->msgs_out, memory_order_relaxed);
}
