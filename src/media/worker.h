/* Media worker threads: one libuv loop each, a 20 ms tick on a monotonic deadline, and the only
 * way across threads: bounded single-producer queues of fixed-size messages woken by uv_async.
 * The control loop posts to a worker; a worker posts back to the control loop. No locks. */
#ifndef SB_MEDIA_WORKER_H
#define SB_MEDIA_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct media_engine;
struct media_worker;

/* A message runs fn(msg) on the receiving thread. Payload: two pointers and four words;
 * anything larger is allocated by the sender and freed by fn. */
struct media_msg {
	void (*fn)(const struct media_msg *m);
	void *obj;
	void *arg;
	uint64_t u[4];
};

#define MEDIA_TICK_MS 20

struct media_engine_opts {
	uv_loop_t *control; /* the control loop: receives the workers' messages */
	unsigned workers;   /* 0 = number of CPUs */
	uint32_t queue_len; /* messages per queue, rounded up to a power of two; 0 = 8192 */
};

/* Start the threads. 0, SB_EINVAL, SB_ENOMEM or SB_EIO. */
int media_engine_new(struct media_engine **out, const struct media_engine_opts *o);
/* Stop every worker loop and join the threads (the control thread blocks for that moment), then
 * free everything once the control loop has closed the wake-up handles: cb (may be NULL) runs
 * then. Owners of objects on the workers must have closed them first. Control thread only. */
void media_engine_close(struct media_engine *e, void (*cb)(void *arg), void *arg);
unsigned media_engine_workers(const struct media_engine *e);
struct media_worker *media_engine_worker(struct media_engine *e, unsigned i);

/* Control thread -> worker w. 0, or SB_EBUSY when the queue is full (nothing posted). */
int media_worker_post(struct media_worker *w, const struct media_msg *m);
/* Worker thread -> control loop. 0 or SB_EBUSY. */
int media_worker_post_control(struct media_worker *w, const struct media_msg *m);

/* On the worker thread: */
uv_loop_t *media_worker_loop(struct media_worker *w);
unsigned media_worker_index(const struct media_worker *w);
/* The tick: fn(arg, now_ms) every MEDIA_TICK_MS on a monotonic deadline (late ticks are run
 * at once; after a stall of more than 5 ticks the schedule restarts from now). One per worker;
 * set it from a message running on that worker. */
void media_worker_set_tick(struct media_worker *w, void (*fn)(void *arg, uint64_t now_ms),
			   void *arg);
/* Ticks run so far and how late they started. Read on the worker thread (or after close). */
struct media_worker_stats {
	uint64_t ticks;
	uint64_t late_ticks; /* started more than 5 ms after their deadline */
	uint64_t max_late_us;
	uint64_t busy_ns; /* time spent inside tick callbacks */
	uint64_t msgs_in, msgs_out;
};
void media_worker_stats(const struct media_worker *w, struct media_worker_stats *out);

#endif
