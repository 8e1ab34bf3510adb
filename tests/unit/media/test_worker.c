/* Unit tests for src/media/worker.c: real worker threads driven from a private control loop;
 * message order and exactly-once delivery both ways, full queues, the 20 ms tick and close. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "base/err.h"
#include "media/worker.h"

#define MAX_WORKERS 2

static uv_loop_t loop;
static uv_timer_t guard;	  /* keeps uv_run(UV_RUN_ONCE) from blocking for ever */
static struct media_engine *live; /* started and not yet stopped: teardown closes it */

/* Bounds on progress, not on speed: generous, so a loaded CI box (ctest -j2 beside the media
 * tests) never trips them; they only turn a lost message into a failure instead of a hang. */
#define LIVENESS_MS 60000

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static void guard_cb(uv_timer_t *t)
{
	(void)t;
}

/* Runs the control loop until done(arg) or max_ms passed; returns done(arg). */
static bool run_until(bool (*done)(void *arg), void *arg, uint64_t max_ms)
{
	uint64_t end = now_ms() + max_ms;
	uv_timer_start(&guard, guard_cb, 2, 2);
	while (!done(arg) && now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	uv_timer_stop(&guard);
	return done(arg);
}

/* Waits (without running the control loop) until *flag is set by a worker. */
static bool wait_flag(atomic_int *flag, int value, uint64_t max_ms)
{
	uint64_t end = now_ms() + max_ms;
	while (atomic_load(flag) != value && now_ms() < end)
		uv_sleep(1);
	return atomic_load(flag) == value;
}

static int setup(void **state)
{
	(void)state;
	if (uv_loop_init(&loop))
		return -1;
	uv_timer_init(&loop, &guard);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* a failed assertion left an engine running: close it, or the loop never ends */
	if (live) {
		media_engine_close(live, NULL, NULL);
		live = NULL;
	}
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

/* ---- engine lifecycle ---- */

static int closed_calls;

static void on_closed(void *arg)
{
	*(int *)arg += 1;
}

static bool closed_done(void *arg)
{
	(void)arg;
	return closed_calls > 0;
}

static struct media_engine *engine_start(unsigned workers, uint32_t queue_len)
{
	struct media_engine *e = NULL;
	struct media_engine_opts o = {.control = &loop, .workers = workers, .queue_len = queue_len};
	assert_int_equal(media_engine_new(&e, &o), 0);
	assert_non_null(e);
	assert_int_equal(media_engine_workers(e), workers);
	live = e;
	return e;
}

static void engine_stop(struct media_engine *e)
{
	closed_calls = 0;
	live = NULL;
	media_engine_close(e, on_closed, &closed_calls);
	assert_true(run_until(closed_done, NULL, LIVENESS_MS));
	assert_int_equal(closed_calls, 1);
}

static void test_bad_opts(void **state)
{
	(void)state;
	struct media_engine *e = (struct media_engine *)&e; /* must stay untouched */
	struct media_engine *const sentinel = e;
	struct media_engine_opts o = {.control = NULL, .workers = 1};
	assert_int_equal(media_engine_new(&e, &o), SB_EINVAL);
	assert_int_equal(media_engine_new(&e, NULL), SB_EINVAL);
	o.control = &loop;
	o.workers = 257;
	assert_int_equal(media_engine_new(&e, &o), SB_EINVAL);
	assert_ptr_equal(e, sentinel);
}

static void test_new_close(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= MAX_WORKERS; n++) {
		struct media_engine *e = engine_start(n, 0);
		for (unsigned i = 0; i < n; i++) {
			struct media_worker *w = media_engine_worker(e, i);
			assert_non_null(w);
			assert_int_equal(media_worker_index(w), i);
		}
		assert_null(media_engine_worker(e, n));
		engine_stop(e);
	}
	/* 0 = one per CPU */
	struct media_engine *e = NULL;
	struct media_engine_opts o = {.control = &loop};
	assert_int_equal(media_engine_new(&e, &o), 0);
	assert_true(media_engine_workers(e) >= 1);
	engine_stop(e);
	/* closing at once, without a callback and without running the control loop first (the
	 * teardown's uv_run completes it; ASan reports anything left behind) */
	e = engine_start(2, 0);
	live = NULL;
	media_engine_close(e, NULL, NULL);
}

/* ---- messages both ways: order and exactly once ---- */

#define N_MSGS 20000

struct flow {
	struct media_engine *e;
	struct media_worker *w[MAX_WORKERS];
	unsigned n;
	/* written on each worker thread only by that worker */
	uint64_t w_next[MAX_WORKERS];
	atomic_int w_errors;
	uv_thread_t control_thread;
	/* control side */
	uint64_t c_next[MAX_WORKERS];
	uint64_t c_got;
	int c_errors;
};

static struct flow F;

static void on_reply(const struct media_msg *m)
{
	unsigned wi = (unsigned)m->u[0];
	uv_thread_t self = uv_thread_self();
	if (!uv_thread_equal(&self, &F.control_thread))
		F.c_errors++;
	if (wi >= F.n || m->u[1] != F.c_next[wi] || m->u[2] != m->u[1] * 7u + 3u)
		F.c_errors++;
	F.c_next[wi] = m->u[1] + 1;
	F.c_got++;
}

static void on_request(const struct media_msg *m)
{
	struct media_worker *w = m->obj;
	unsigned wi = media_worker_index(w);
	uv_thread_t self = uv_thread_self();
	if (uv_thread_equal(&self, &F.control_thread) || m->arg != &F)
		atomic_fetch_add(&F.w_errors, 1);
	if (m->u[0] != wi || m->u[1] != F.w_next[wi])
		atomic_fetch_add(&F.w_errors, 1);
	F.w_next[wi] = m->u[1] + 1;
	struct media_msg r = {.fn = on_reply, .obj = w, .u = {wi, m->u[1], m->u[1] * 7u + 3u}};
	/* the control thread drains its queue whenever its own posts find theirs full */
	while (media_worker_post_control(w, &r) == SB_EBUSY)
		sched_yield();
}

static bool all_replies(void *arg)
{
	(void)arg;
	return F.c_got == N_MSGS;
}

struct stats_probe {
	struct media_worker_stats st;
	atomic_int done;
};

static void on_stats(const struct media_msg *m)
{
	struct stats_probe *p = m->arg;
	media_worker_stats(m->obj, &p->st);
	atomic_store(&p->done, 1);
}

static void run_flow(unsigned workers, uint32_t queue_len)
{
	memset(&F, 0, sizeof(F));
	F.control_thread = uv_thread_self();
	F.n = workers;
	F.e = engine_start(workers, queue_len);
	for (unsigned i = 0; i < workers; i++)
		F.w[i] = media_engine_worker(F.e, i);
	uint64_t sent[MAX_WORKERS] = {0};
	uint64_t busy = 0;
	for (uint64_t k = 0; k < N_MSGS; k++) {
		unsigned wi = (unsigned)(k % workers);
		struct media_msg m = {
		    .fn = on_request, .obj = F.w[wi], .arg = &F, .u = {wi, sent[wi]}};
		uint64_t deadline = now_ms() + LIVENESS_MS;
		while (media_worker_post(F.w[wi], &m) == SB_EBUSY) {
			busy++;
			uv_run(&loop, UV_RUN_NOWAIT); /* take the replies so the worker can go on */
			assert_true(now_ms() < deadline);
		}
		sent[wi]++;
	}
	bool all = run_until(all_replies, NULL, LIVENESS_MS);
	if (!all)
		printf("# replies %llu of %d, control errors %d, worker errors %d, busy %llu\n",
		       (unsigned long long)F.c_got, N_MSGS, F.c_errors, atomic_load(&F.w_errors),
		       (unsigned long long)busy);
	assert_true(all);
	assert_int_equal(F.c_got, N_MSGS);
	assert_int_equal(F.c_errors, 0);
	assert_int_equal(atomic_load(&F.w_errors), 0);
	for (unsigned i = 0; i < workers; i++) {
		assert_int_equal(F.c_next[i], sent[i]);
		/* the worker's own counters, read on its thread */
		struct stats_probe p;
		memset(&p, 0, sizeof(p));
		atomic_init(&p.done, 0);
		struct media_msg m = {.fn = on_stats, .obj = F.w[i], .arg = &p};
		assert_int_equal(media_worker_post(F.w[i], &m), 0);
		assert_true(wait_flag(&p.done, 1, LIVENESS_MS));
		assert_true(p.st.msgs_in >= sent[i]); /* the probe itself may not be counted yet */
		assert_true(p.st.msgs_in <= sent[i] + 1);
	}
	if (queue_len && queue_len < 64)
		assert_true(busy > 0); /* the small queue really filled */
	/* nothing arrives twice: a last turn of the loop brings no more replies */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(F.c_got, N_MSGS);
	engine_stop(F.e);
}

static void test_flow_one_worker(void **state)
{
	(void)state;
	run_flow(1, 0);
}

static void test_flow_two_workers(void **state)
{
	(void)state;
	run_flow(2, 0);
}

static void test_flow_small_queues(void **state)
{
	(void)state;
	run_flow(2, 16);
}

/* ---- full queues ---- */

struct block {
	atomic_int entered, release, posted, busy;
	int n_out;
	uint64_t got[64];
	size_t n_got;
};

static struct block B;

static void on_block(const struct media_msg *m)
{
	(void)m;
	atomic_store(&B.entered, 1);
	uint64_t end = now_ms() + LIVENESS_MS; /* a failing test must not hang the worker */
	while (!atomic_load(&B.release) && now_ms() < end)
		uv_sleep(1);
}

static void on_got(const struct media_msg *m)
{
	if (B.n_got < 64)
		B.got[B.n_got] = m->u[0];
	B.n_got++;
}

static void on_echo_back(const struct media_msg *m)
{
	struct media_msg r = {.fn = on_got, .u = {m->u[0]}};
	while (media_worker_post_control(m->obj, &r) == SB_EBUSY)
		sched_yield();
}

static bool got_n(void *arg)
{
	return B.n_got >= *(size_t *)arg;
}

static void test_full_to_worker(void **state)
{
	(void)state;
	memset(&B, 0, sizeof(B));
	/* 10 rounds up to 16 slots */
	struct media_engine *e = engine_start(1, 10);
	struct media_worker *w = media_engine_worker(e, 0);
	struct media_msg blk = {.fn = on_block};
	assert_int_equal(media_worker_post(w, &blk), 0);
	assert_true(wait_flag(&B.entered, 1, LIVENESS_MS));
	/* the worker is stuck inside on_block: its queue fills */
	uint64_t k = 0;
	for (; k < 100; k++) {
		struct media_msg m = {.fn = on_echo_back, .obj = w, .u = {k}};
		int err = media_worker_post(w, &m);
		if (err) {
			assert_int_equal(err, SB_EBUSY);
			break;
		}
	}
	assert_int_equal(k, 16);
	/* still full: a second refusal, nothing half-posted */
	struct media_msg extra = {.fn = on_echo_back, .obj = w, .u = {999}};
	assert_int_equal(media_worker_post(w, &extra), SB_EBUSY);
	atomic_store(&B.release, 1);
	size_t want = 16;
	assert_true(run_until(got_n, &want, LIVENESS_MS));
	/* after draining the queue takes messages again */
	for (uint64_t j = 16; j < 32; j++) {
		struct media_msg m = {.fn = on_echo_back, .obj = w, .u = {j}};
		assert_int_equal(media_worker_post(w, &m), 0);
	}
	want = 32;
	assert_true(run_until(got_n, &want, LIVENESS_MS));
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(B.n_got, 32);
	for (uint64_t j = 0; j < 32; j++)
		assert_int_equal(B.got[j], j);
	engine_stop(e);
}

static void on_flood_control(const struct media_msg *m)
{
	struct media_worker *w = m->obj;
	for (uint64_t k = 0; k < 40; k++) {
		struct media_msg r = {.fn = on_got, .u = {k}};
		if (media_worker_post_control(w, &r) == 0)
			atomic_fetch_add(&B.posted, 1);
		else
			atomic_fetch_add(&B.busy, 1);
	}
	atomic_store(&B.entered, 1);
}

static void on_post_rest(const struct media_msg *m)
{
	struct media_worker *w = m->obj;
	for (uint64_t k = m->u[0]; k < m->u[1]; k++) {
		struct media_msg r = {.fn = on_got, .u = {k}};
		while (media_worker_post_control(w, &r) == SB_EBUSY)
			sched_yield();
	}
}

static void test_full_to_control(void **state)
{
	(void)state;
	memset(&B, 0, sizeof(B));
	struct media_engine *e = engine_start(1, 16);
	struct media_worker *w = media_engine_worker(e, 0);
	struct media_msg m = {.fn = on_flood_control, .obj = w};
	assert_int_equal(media_worker_post(w, &m), 0);
	/* the control loop does not run meanwhile: its queue fills at 16 */
	assert_true(wait_flag(&B.entered, 1, LIVENESS_MS));
	assert_int_equal(atomic_load(&B.posted), 16);
	assert_int_equal(atomic_load(&B.busy), 24);
	size_t want = 16;
	assert_true(run_until(got_n, &want, LIVENESS_MS));
	/* then the rest, once the control side drained */
	struct media_msg rest = {.fn = on_post_rest, .obj = w, .u = {16, 40}};
	assert_int_equal(media_worker_post(w, &rest), 0);
	want = 40;
	assert_true(run_until(got_n, &want, LIVENESS_MS));
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(B.n_got, 40);
	for (uint64_t j = 0; j < 40; j++)
		assert_int_equal(B.got[j], j);
	engine_stop(e);
}

/* What a worker posted just before close is still delivered, once, during close. */
static void test_close_delivers_pending(void **state)
{
	(void)state;
	memset(&B, 0, sizeof(B));
	struct media_engine *e = engine_start(1, 64);
	struct media_worker *w = media_engine_worker(e, 0);
	struct media_msg m = {.fn = on_flood_control, .obj = w};
	assert_int_equal(media_worker_post(w, &m), 0);
	assert_true(wait_flag(&B.entered, 1, LIVENESS_MS));
	assert_int_equal(atomic_load(&B.posted), 40);
	assert_int_equal(B.n_got, 0);
	engine_stop(e);
	assert_int_equal(B.n_got, 40);
	for (uint64_t j = 0; j < 40; j++)
		assert_int_equal(B.got[j], j);
}

/* ---- the tick ---- */

struct ticker {
	struct media_worker *w;
	atomic_uint ticks;
	atomic_int errors;
	uint64_t first_ms, last_ms; /* worker thread only */
	atomic_int set;
	struct media_worker_stats st;
	atomic_int have_st;
};

static struct ticker T[MAX_WORKERS];

static void on_tick(void *arg, uint64_t now)
{
	struct ticker *t = arg;
	unsigned n = atomic_load(&t->ticks);
	if (n == 0)
		t->first_ms = now;
	else if (now < t->last_ms)
		atomic_fetch_add(&t->errors, 1); /* the clock handed to ticks never goes back */
	t->last_ms = now;
	atomic_fetch_add(&t->ticks, 1);
}

static void on_set_tick(const struct media_msg *m)
{
	struct ticker *t = m->arg;
	media_worker_set_tick(t->w, on_tick, t);
	atomic_store(&t->set, 1);
}

static void on_clear_tick(const struct media_msg *m)
{
	struct ticker *t = m->arg;
	media_worker_set_tick(t->w, NULL, NULL);
	media_worker_stats(t->w, &t->st);
	atomic_store(&t->have_st, 1);
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static void test_tick(void **state)
{
	(void)state;
	for (unsigned n = 1; n <= MAX_WORKERS; n++) {
		memset(T, 0, sizeof(T));
		struct media_engine *e = engine_start(n, 0);
		for (unsigned i = 0; i < n; i++) {
			T[i].w = media_engine_worker(e, i);
			struct media_msg m = {.fn = on_set_tick, .arg = &T[i]};
			assert_int_equal(media_worker_post(T[i].w, &m), 0);
		}
		for (unsigned i = 0; i < n; i++)
			assert_true(wait_flag(&T[i].set, 1, LIVENESS_MS));
		uint64_t t0 = now_ms();
		for (unsigned i = 0; i < n; i++)
			atomic_store(&T[i].ticks, 0);
		run_until(never, NULL, 500);
		for (unsigned i = 0; i < n; i++) {
			struct media_msg m = {.fn = on_clear_tick, .arg = &T[i]};
			assert_int_equal(media_worker_post(T[i].w, &m), 0);
		}
		for (unsigned i = 0; i < n; i++)
			assert_true(wait_flag(&T[i].have_st, 1, LIVENESS_MS));
		uint64_t elapsed = now_ms() - t0;
		assert_true(elapsed >= 500);
		for (unsigned i = 0; i < n; i++) {
			unsigned ticks = atomic_load(&T[i].ticks);
			/* about elapsed / 20 (25); a loaded machine may run fewer, never more */
			assert_true(ticks >= 5);
			if (elapsed < 700)
				assert_true(ticks <= 35);
			assert_true(ticks <= elapsed / MEDIA_TICK_MS + 10);
			assert_int_equal(atomic_load(&T[i].errors), 0);
			/* the time passed to the tick advanced with the wall clock */
			uint64_t span = T[i].last_ms - T[i].first_ms;
			assert_true(span >= 200 && span <= elapsed + 100);
			/* the worker's own count includes the ticks before and after ours */
			assert_true(T[i].st.ticks >= ticks);
			assert_true(T[i].st.late_ticks <= T[i].st.ticks);
		}
		/* cleared: no more ticks reach us */
		unsigned before = atomic_load(&T[0].ticks);
		run_until(never, NULL, 100);
		assert_int_equal(atomic_load(&T[0].ticks), before);
		engine_stop(e);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_opts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_one_worker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_two_workers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flow_small_queues, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_to_worker, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_full_to_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_delivers_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tick, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
