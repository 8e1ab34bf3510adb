/* Unit tests for src/stream/playout.c: ring growth and wrap, cap and overflow, marks as positions,
 * clear, limits. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "media/codec.h"
#include "stream/playout.h"

static struct stream_playout *mk(uint32_t max_ms, uint32_t max_marks)
{
	struct stream_playout_opts o = {.max_ms = max_ms, .max_marks = max_marks};
	struct stream_playout *p = NULL;
	assert_int_equal(stream_playout_new(&p, &o), 0);
	return p;
}

static void test_defaults(void **state)
{
	(void)state;
	struct stream_playout *p = NULL;
	assert_int_equal(stream_playout_new(&p, NULL), 0);
	assert_int_equal(stream_playout_capacity(p), 10 * 60 * 8000);
	assert_int_equal(stream_playout_queued(p), 0);
	stream_playout_free(p);
	struct stream_playout_opts bad = {.max_ms = 10};
	assert_int_equal(stream_playout_new(&p, &bad), SB_EINVAL);
	stream_playout_free(NULL);
}

/* Odd-sized pushes and pulls through growth and wrap-around come out byte for byte. */
static void test_ring_order(void **state)
{
	(void)state;
	struct stream_playout *p = mk(60 * 1000, 0);
	uint8_t in[3001];
	int16_t out[997];
	uint32_t wseed = 1, rseed = 1;
	size_t queued = 0;
	for (int round = 0; round < 400; round++) {
		size_t n = (size_t)(round * 37 % 3001);
		for (size_t i = 0; i < n; i++) {
			wseed = wseed * 1103515245u + 12345u;
			in[i] = (uint8_t)(wseed >> 16);
		}
		assert_int_equal(stream_playout_push_ulaw(p, in, n), n);
		queued += n;
		size_t m = (size_t)(round * 53 % 997);
		size_t got = stream_playout_pull(p, out, m);
		assert_int_equal(got, m < queued ? m : queued);
		for (size_t i = 0; i < got; i++) {
			rseed = rseed * 1103515245u + 12345u;
			assert_int_equal(out[i], media_ulaw_decode((uint8_t)(rseed >> 16)));
		}
		for (size_t i = got; i < m; i++)
			assert_int_equal(out[i], 0);
		queued -= got;
		assert_int_equal(stream_playout_queued(p), queued);
	}
	assert_int_equal(stream_playout_stats(p)->bytes_dropped, 0);
	stream_playout_free(p);
}

static void test_overflow(void **state)
{
	(void)state;
	struct stream_playout *p = mk(1000, 0); /* 8000 bytes */
	uint8_t buf[12000];
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(stream_playout_push_ulaw(p, buf, 5000), 5000);
	assert_int_equal(stream_playout_push_ulaw(p, buf, 5000), 3000);
	assert_int_equal(stream_playout_push_ulaw(p, buf, 1), 0);
	const struct stream_playout_stats *st = stream_playout_stats(p);
	assert_int_equal(st->bytes_in, 8000);
	assert_int_equal(st->bytes_dropped, 2001);
	assert_int_equal(st->overflows, 1); /* one episode */
	/* a mark after an overflow sits after the audio that was kept */
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("end")), 0);
	int16_t pcm[160];
	struct sb_slice name;
	for (int i = 0; i < 49; i++) {
		assert_int_equal(stream_playout_pull(p, pcm, 160), 160);
		assert_false(stream_playout_reached(p, &name));
	}
	assert_int_equal(stream_playout_pull(p, pcm, 160), 160);
	assert_true(stream_playout_reached(p, &name));
	assert_true(sb_slice_eq_cstr(name, "end"));
	/* room again once drained */
	assert_int_equal(stream_playout_push_ulaw(p, buf, 12000), 8000);
	assert_int_equal(st->overflows, 2);
	stream_playout_free(p);
}

static void test_marks(void **state)
{
	(void)state;
	struct stream_playout *p = mk(0, 3);
	struct sb_slice name;
	uint8_t b[200];
	memset(b, 0xFF, sizeof(b));
	/* on an empty queue a mark is reached at once */
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("now")), 0);
	assert_true(stream_playout_reached(p, &name));
	assert_true(sb_slice_eq_cstr(name, "now"));
	assert_false(stream_playout_reached(p, &name));

	stream_playout_push_ulaw(p, b, 200);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("a")), 0);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("b")), 0);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_NULL), 0);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("over")), SB_ENORES);
	assert_int_equal(stream_playout_marks(p), 3);
	int16_t pcm[160];
	stream_playout_pull(p, pcm, 160);
	assert_int_equal(stream_playout_reached_count(p), 0);
	assert_false(stream_playout_reached(p, &name));
	assert_int_equal(stream_playout_pull(p, pcm, 160), 40);
	assert_int_equal(stream_playout_reached_count(p), 3);
	assert_true(stream_playout_reached(p, &name));
	assert_int_equal(stream_playout_reached_count(p), 2);
	assert_true(sb_slice_eq_cstr(name, "a"));
	assert_true(stream_playout_reached(p, &name));
	assert_true(sb_slice_eq_cstr(name, "b"));
	assert_true(stream_playout_reached(p, &name));
	assert_int_equal(name.len, 0);
	assert_false(stream_playout_reached(p, &name));

	char longname[STREAM_PLAYOUT_MARK_NAME + 1];
	memset(longname, 'x', sizeof(longname));
	assert_int_equal(stream_playout_mark(p, sb_slice(longname, sizeof(longname))), SB_ETOOBIG);
	assert_int_equal(stream_playout_mark(p, sb_slice(longname, sizeof(longname) - 1)), 0);
	assert_int_equal(stream_playout_stats(p)->marks_dropped, 2);
	assert_int_equal(stream_playout_stats(p)->marks_in, 5);
	/* a held mark is freed with the queue */
	stream_playout_push_ulaw(p, b, 10);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("left")), 0);
	stream_playout_free(p);
}

/* Many marks: the mark ring grows and keeps its order across wrap-around. */
static void test_marks_grow(void **state)
{
	(void)state;
	struct stream_playout *p = mk(0, 0);
	uint8_t b[8];
	memset(b, 0xFF, sizeof(b));
	int16_t pcm[8];
	struct sb_slice name;
	int next_out = 0;
	char nm[16];
	for (int i = 0; i < 1000; i++) {
		stream_playout_push_ulaw(p, b, 8);
		int len = snprintf(nm, sizeof(nm), "m%d", i);
		assert_int_equal(stream_playout_mark(p, sb_slice(nm, (size_t)len)), 0);
		if (i % 3 == 0) {
			stream_playout_pull(p, pcm, 8);
			while (stream_playout_reached(p, &name)) {
				len = snprintf(nm, sizeof(nm), "m%d", next_out++);
				assert_true(sb_slice_eq(name, sb_slice(nm, (size_t)len)));
			}
		}
	}
	assert_int_equal(stream_playout_clear(p),
			 stream_playout_stats(p)->bytes_in - stream_playout_stats(p)->bytes_played);
	while (stream_playout_reached(p, &name)) {
		int len = snprintf(nm, sizeof(nm), "m%d", next_out++);
		assert_true(sb_slice_eq(name, sb_slice(nm, (size_t)len)));
	}
	assert_int_equal(next_out, 1000);
	stream_playout_free(p);
}

static void test_clear(void **state)
{
	(void)state;
	struct stream_playout *p = mk(0, 0);
	uint8_t b[1600];
	memset(b, 0x12, sizeof(b));
	stream_playout_push_ulaw(p, b, 1600);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("x")), 0);
	stream_playout_push_ulaw(p, b, 1600);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("y")), 0);
	int16_t pcm[160];
	stream_playout_pull(p, pcm, 160);
	struct sb_slice name;
	assert_false(stream_playout_reached(p, &name));
	assert_int_equal(stream_playout_clear(p), 3040);
	assert_int_equal(stream_playout_queued(p), 0);
	assert_true(stream_playout_reached(p, &name));
	assert_true(sb_slice_eq_cstr(name, "x"));
	assert_true(stream_playout_reached(p, &name));
	assert_true(sb_slice_eq_cstr(name, "y"));
	assert_false(stream_playout_reached(p, &name));
	assert_int_equal(stream_playout_pull(p, pcm, 160), 0);
	assert_int_equal(pcm[0], 0);
	assert_int_equal(stream_playout_stats(p)->bytes_cleared, 3040);
	/* the queue works normally after a clear */
	stream_playout_push_ulaw(p, b, 100);
	assert_int_equal(stream_playout_mark(p, SB_SLICE_LIT("z")), 0);
	assert_false(stream_playout_reached(p, &name));
	assert_int_equal(stream_playout_pull(p, pcm, 160), 100);
	assert_int_equal(stream_playout_stats(p)->underruns, 1);
	assert_true(stream_playout_reached(p, &name));
	stream_playout_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),   cmocka_unit_test(test_ring_order),
	    cmocka_unit_test(test_overflow),   cmocka_unit_test(test_marks),
	    cmocka_unit_test(test_marks_grow), cmocka_unit_test(test_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
