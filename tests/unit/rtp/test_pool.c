/* Unit tests for src/rtp/pool.c: even ports with their RTCP partner inside the range,
 * exhaustion, return of ports (twice is harmless), round robin, and range parsing. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/err.h"
#include "rtp/pool.h"

static void test_exhaustion_and_return(void **state)
{
	(void)state;
	struct rtp_pool p;
	assert_int_equal(rtp_pool_init(&p, 20001, 20010), 0); /* lo rounded up to 20002 */
	assert_int_equal(rtp_pool_available(&p), 4);	      /* 20002 20004 20006 20008 */
	uint16_t got[4];
	for (int i = 0; i < 4; i++) {
		got[i] = rtp_pool_get(&p);
		assert_true(got[i] >= 20002 && got[i] + 1 <= 20010);
		assert_int_equal(got[i] % 2, 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(got[i], got[j]);
	}
	assert_int_equal(rtp_pool_get(&p), 0); /* exhausted */
	assert_int_equal(rtp_pool_available(&p), 0);
	rtp_pool_put(&p, got[2]);
	rtp_pool_put(&p, got[2]); /* twice: no double count */
	rtp_pool_put(&p, 20003);  /* odd: ignored */
	rtp_pool_put(&p, 30000);  /* outside: ignored */
	assert_int_equal(rtp_pool_available(&p), 1);
	assert_int_equal(rtp_pool_get(&p), got[2]);
	assert_int_equal(rtp_pool_get(&p), 0);
	for (int i = 0; i < 4; i++)
		rtp_pool_put(&p, got[i]);
	assert_int_equal(rtp_pool_available(&p), 4);
	rtp_pool_free(&p);
}

static void test_round_robin(void **state)
{
	(void)state;
	struct rtp_pool p;
	assert_int_equal(rtp_pool_init(&p, 10000, 10999), 0);
	uint16_t a = rtp_pool_get(&p);
	rtp_pool_put(&p, a);
	uint16_t b = rtp_pool_get(&p);
	assert_int_not_equal(a, b); /* a port just returned is not lent again at once */
	rtp_pool_free(&p);
}

static void test_small_ranges(void **state)
{
	(void)state;
	struct rtp_pool p;
	assert_int_equal(rtp_pool_init(&p, 10000, 10001), 0); /* one pair */
	assert_int_equal(rtp_pool_get(&p), 10000);
	assert_int_equal(rtp_pool_get(&p), 0);
	rtp_pool_free(&p);
	assert_int_equal(rtp_pool_init(&p, 10001, 10002), SB_EINVAL); /* 10002 has no 10003 */
	assert_int_equal(rtp_pool_init(&p, 10000, 10000), SB_EINVAL);
}

static void test_parse_range(void **state)
{
	(void)state;
	uint16_t lo, hi;
	assert_int_equal(rtp_pool_parse_range("10000-20000", &lo, &hi), 0);
	assert_int_equal(lo, 10000);
	assert_int_equal(hi, 20000);
	assert_int_equal(rtp_pool_parse_range(" 2000-2099 ", &lo, &hi), 0);
	assert_int_equal(rtp_pool_parse_range("20000-10000", &lo, &hi), SB_EINVAL);
	assert_int_equal(rtp_pool_parse_range("100-2000", &lo, &hi), SB_EINVAL); /* privileged */
	assert_int_equal(rtp_pool_parse_range("10000", &lo, &hi), SB_EINVAL);
	assert_int_equal(rtp_pool_parse_range("10000-70000", &lo, &hi), SB_EINVAL);
	assert_int_equal(rtp_pool_parse_range("a-b", &lo, &hi), SB_EINVAL);
	assert_int_equal(rtp_pool_parse_range("-", &lo, &hi), SB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exhaustion_and_return),
	    cmocka_unit_test(test_round_robin),
	    cmocka_unit_test(test_small_ranges),
	    cmocka_unit_test(test_parse_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
