/* Unit tests for src/base: slices, buffers, arenas, errors, timers, hash table, random. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/htab.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/slice.h"
#include "base/timer.h"

static void test_slice_compare(void **state)
{
	(void)state;
	assert_true(sb_slice_eq_cstr_nocase(SB_SLICE_LIT("Call-ID"), "call-id"));
	assert_false(sb_slice_eq_cstr(SB_SLICE_LIT("Call-ID"), "call-id"));
	assert_true(
	    sb_slice_starts_with_nocase(SB_SLICE_LIT("Application/SDP; x"), "application/sdp"));
	struct sb_slice t = sb_slice_trim(SB_SLICE_LIT(" \t abc \r\n"));
	assert_int_equal(t.len, 3);
	assert_int_equal(sb_slice_find(SB_SLICE_LIT("a;b"), ';'), 1);
	assert_int_equal(sb_slice_find(SB_SLICE_NULL, ';'), -1);
	assert_int_equal(sb_slice_find_str(SB_SLICE_LIT("xx;rport;y"), SB_SLICE_LIT(";rport")), 2);
	/* bytes after a NUL are still compared */
	const char a[] = {'a', 0, 'b'}, b[] = {'a', 0, 'c'};
	assert_false(sb_slice_eq(sb_slice(a, 3), sb_slice(b, 3)));
}

static void test_slice_numbers(void **state)
{
	(void)state;
	uint32_t v;
	assert_int_equal(sb_slice_to_u32(SB_SLICE_LIT("0068"), 255, &v), 0);
	assert_int_equal(v, 68);
	assert_int_equal(sb_slice_to_u32(SB_SLICE_LIT("300"), 255, &v), SB_ETOOBIG);
	assert_int_equal(sb_slice_to_u32(SB_SLICE_LIT("-1"), 255, &v), SB_EMALFORMED);
	assert_int_equal(sb_slice_to_u32(SB_SLICE_LIT(""), 255, &v), SB_EMALFORMED);
	uint64_t w;
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("36893488147419103232"), UINT64_MAX, &w),
			 SB_ETOOBIG);
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("18446744073709551615"), UINT64_MAX, &w), 0);
	assert_true(w == UINT64_MAX);
	/* around the nineteen digits that are not checked for overflow */
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("9999999999999999999"), UINT64_MAX, &w), 0);
	assert_true(w == 9999999999999999999u);
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("18446744073709551616"), UINT64_MAX, &w),
			 SB_ETOOBIG);
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("00000000000000000000042"), 100, &w), 0);
	assert_true(w == 42);
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("1234567890123456789x"), UINT64_MAX, &w),
			 SB_EMALFORMED);
	assert_int_equal(sb_slice_to_u64(SB_SLICE_LIT("12345678x"), UINT64_MAX, &w), SB_EMALFORMED);
}

static void test_buf(void **state)
{
	(void)state;
	char stack[8];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	sb_buf_append_cstr(&b, "abc");
	assert_ptr_equal(b.p, stack);
	sb_buf_printf(&b, "-%d-%s", 42, "a long string that overflows the stack storage");
	assert_ptr_not_equal(b.p, stack);
	assert_string_equal(b.p, "abc-42-a long string that overflows the stack storage");
	sb_buf_append_u64(&b, 18446744073709551615ULL);
	assert_true(strstr(b.p, "18446744073709551615") != NULL);
	assert_int_equal(b.err, 0);
	sb_buf_free(&b);
	struct sb_buf lim;
	sb_buf_init(&lim, NULL, 0);
	lim.limit = 16;
	sb_buf_append_cstr(&lim, "0123456789abcdefXYZ");
	assert_int_equal(lim.err, SB_ETOOBIG);
	sb_buf_append_cstr(&lim, "more");
	assert_int_equal(lim.err, SB_ETOOBIG);
	sb_buf_free(&lim);
}

static void test_arena(void **state)
{
	(void)state;
	struct sb_arena a;
	sb_arena_init(&a, 64);
	struct sb_slice out;
	for (int i = 0; i < 100; i++)
		assert_int_equal(sb_arena_dup(&a, SB_SLICE_LIT("hello, arena"), &out), 0);
	assert_memory_equal(out.p, "hello, arena", 12);
	assert_int_equal(out.p[out.len], '\0');
	void *big = sb_arena_alloc(&a, 10000);
	assert_non_null(big);
	memset(big, 1, 10000);
	assert_non_null(sb_arena_strdup(&a, "x"));
	uint64_t *al = sb_arena_alloc(&a, sizeof(uint64_t));
	assert_int_equal((uintptr_t)al % sizeof(uint64_t), 0);
	sb_arena_reset(&a);
	assert_non_null(sb_arena_zalloc(&a, 32));
	sb_arena_free(&a);
}

static void test_err(void **state)
{
	(void)state;
	assert_string_equal(sb_err_name(SB_EMALFORMED), "MALFORMED");
	assert_string_equal(sb_err_name(0), "OK");
	assert_string_equal(sb_err_name(12345), "UNKNOWN");
	assert_string_equal(sb_strerror(SB_EAGAIN), "need more data");
}

static int fired[16];
static int nfired;
static struct sb_timers *g_ts;

static void timer_cb(struct sb_timer *t, sb_time_ms now)
{
	(void)now;
	fired[nfired++] = (int)t->deadline;
}

static void test_timers(void **state)
{
	(void)state;
	struct sb_timers ts;
	sb_timers_init(&ts);
	g_ts = &ts;
	struct sb_timer t[8];
	int deadlines[8] = {50, 10, 40, 30, 20, 70, 60, 80};
	for (int i = 0; i < 8; i++) {
		sb_timer_init(&t[i], timer_cb);
		assert_int_equal(sb_timers_arm(&ts, &t[i], (sb_time_ms)deadlines[i]), 0);
	}
	assert_int_equal(sb_timers_next(&ts), 10);
	sb_timers_disarm(&ts, &t[2]); /* 40 */
	sb_timers_arm(&ts, &t[5], 5); /* 70 -> 5 */
	nfired = 0;
	assert_int_equal(sb_timers_run(&ts, 55), 5);
	int expect[] = {5, 10, 20, 30, 50};
	for (int i = 0; i < 5; i++)
		assert_int_equal(fired[i], expect[i]);
	assert_false(sb_timer_armed(&t[0]));
	assert_true(sb_timer_armed(&t[7]));
	assert_int_equal(sb_timers_next(&ts), 60);
	sb_timers_free(&ts);
	assert_false(sb_timer_armed(&t[7]));
}

static sb_time_ms last_fired;
static size_t n_fired_big;

static void ordered_cb(struct sb_timer *t, sb_time_ms now)
{
	assert_true(t->deadline <= now);
	assert_true(t->deadline >= last_fired); /* never out of order */
	last_fired = t->deadline;
	n_fired_big++;
}

/* Thousands of timers armed, re-armed earlier and later and disarmed in a pseudo-random order:
 * every armed one fires once, in deadline order, and the rest never. */
static void test_timers_many(void **state)
{
	(void)state;
	enum { N = 5000 };
	struct sb_timers ts;
	sb_timers_init(&ts);
	struct sb_timer *t = calloc(N, sizeof(*t));
	uint32_t x = 12345;
	size_t armed = 0;
	for (int i = 0; i < N; i++) {
		sb_timer_init(&t[i], ordered_cb);
		x = x * 1103515245u + 12345u;
		assert_int_equal(sb_timers_arm(&ts, &t[i], 1000 + (x >> 8) % 100000), 0);
	}
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		switch ((x >> 16) % 4) {
		case 0:
			sb_timers_disarm(&ts, &t[i]);
			break;
		case 1:
			sb_timers_arm(&ts, &t[i], t[i].deadline / 2 + 1);
			break;
		case 2:
			sb_timers_arm(&ts, &t[i], t[i].deadline * 2);
			break;
		default:
			break;
		}
	}
	for (int i = 0; i < N; i++)
		armed += sb_timer_armed(&t[i]);
	last_fired = 0;
	n_fired_big = 0;
	size_t first = sb_timers_run(&ts, 150000);
	assert_int_equal(first, n_fired_big);
	assert_true(first > 0 && first < armed);
	size_t rest = sb_timers_run(&ts, SB_TIME_NEVER - 1);
	assert_int_equal(first + rest, armed);
	assert_int_equal(n_fired_big, armed);
	assert_int_equal(sb_timers_next(&ts), SB_TIME_NEVER);
	for (int i = 0; i < N; i++)
		assert_false(sb_timer_armed(&t[i]));
	sb_timers_free(&ts);
	free(t);
}

struct item {
	struct sb_hnode node;
	int key;
};

static void test_htab(void **state)
{
	(void)state;
	struct sb_htab h;
	assert_int_equal(sb_htab_init(&h, 4), 0);
	struct item *items = calloc(1000, sizeof(*items));
	for (int i = 0; i < 1000; i++) {
		items[i].key = i;
		sb_htab_insert(&h, &items[i].node, sb_hash(&i, sizeof(i)));
	}
	assert_int_equal(h.count, 1000);
	for (int i = 0; i < 1000; i += 2)
		sb_htab_remove(&h, &items[i].node);
	for (int i = 0; i < 1000; i++) {
		uint64_t hv = sb_hash(&i, sizeof(i));
		bool found = false;
		for (struct sb_hnode *n = sb_htab_chain(&h, hv); n; n = n->next)
			if (n->hash == hv && SB_CONTAINER_OF(n, struct item, node)->key == i)
				found = true;
		assert_int_equal(found, i % 2 == 1);
	}
	sb_htab_free(&h);
	free(items);
}

static bool htab_has(struct sb_htab *h, int key)
{
	uint64_t hv = sb_hash(&key, sizeof(key));
	for (struct sb_hnode *n = sb_htab_chain(h, hv); n; n = n->next)
		if (n->hash == hv && SB_CONTAINER_OF(n, struct item, node)->key == key)
			return true;
	return false;
}

/* Growth moves the old buckets a few at a time: every key stays findable and removable at every
 * step of a move, and a settled table holds everything in its one array. */
static void test_htab_incremental_growth(void **state)
{
	(void)state;
	struct sb_htab h;
	assert_int_equal(sb_htab_init(&h, 16), 0);
	enum { N = 20000 };
	struct item *items = calloc(N, sizeof(*items));
	bool moved_while_growing = false;
	for (int i = 0; i < N; i++) {
		items[i].key = i;
		sb_htab_insert(&h, &items[i].node, sb_hash(&i, sizeof(i)));
		if (h.old) {
			moved_while_growing = true;
			/* mid-move: an early key, the newest, and one removed and put back */
			assert_true(htab_has(&h, 0));
			assert_true(htab_has(&h, i));
			int k = i / 2;
			sb_htab_remove(&h, &items[k].node);
			assert_false(htab_has(&h, k));
			sb_htab_insert(&h, &items[k].node, sb_hash(&k, sizeof(k)));
		}
	}
	assert_true(moved_while_growing);
	assert_int_equal(h.count, N);
	for (int i = 0; i < N; i++)
		assert_true(htab_has(&h, i));
	for (int i = 0; i < N; i += 3)
		sb_htab_remove(&h, &items[i].node);
	sb_htab_settle(&h);
	assert_null(h.old);
	size_t walked = 0;
	for (size_t b = 0; b <= h.mask; b++)
		for (struct sb_hnode *n = h.buckets[b]; n; n = n->next)
			walked++;
	assert_int_equal(walked, h.count);
	assert_int_equal(h.count, N - (N + 2) / 3);
	sb_htab_free(&h);
	free(items);
}

static void test_random(void **state)
{
	(void)state;
	char a[33] = {0}, b[33] = {0};
	sb_random_token(a, 32);
	sb_random_token(b, 32);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 32; i++)
		assert_true((a[i] >= '0' && a[i] <= '9') || (a[i] >= 'a' && a[i] <= 'z'));
	unsigned char big[2000];
	assert_int_equal(sb_random_bytes(big, sizeof(big)), 0);
}

static void test_log_levels(void **state)
{
	(void)state;
	enum sb_log_level l;
	assert_int_equal(sb_log_parse_level("DEBUG", &l), 0);
	assert_int_equal(l, SB_LOG_DEBUG);
	assert_int_equal(sb_log_parse_level("loud", &l), SB_EINVAL);
	sb_log_set_level(SB_LOG_ERROR);
	int evaluated = 0;
	SB_INFO("test", "%d", ++evaluated);
	assert_int_equal(evaluated, 0); /* arguments not evaluated when the level is off */
	sb_log_set_level(SB_LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_slice_compare),
	    cmocka_unit_test(test_slice_numbers),
	    cmocka_unit_test(test_buf),
	    cmocka_unit_test(test_arena),
	    cmocka_unit_test(test_err),
	    cmocka_unit_test(test_timers),
	    cmocka_unit_test(test_timers_many),
	    cmocka_unit_test(test_htab),
	    cmocka_unit_test(test_htab_incremental_growth),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_log_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
