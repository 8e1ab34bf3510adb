/* Unit tests for src/room/mixer.c: mix-minus outputs, saturation both ways, gain, energy, and
 * 100 participants against a naive O(N^2) reference, at block and odd lengths. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "room/mixer.h"

#define FRAME 320 /* 20 ms at 16 kHz */

static int16_t sat(int64_t v)
{
	return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* xorshift32: fixed seed, the same frames on every run */
static uint32_t rng_state = 2463534242u;
static uint32_t rng(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static void three_participants(void **state)
{
	(void)state;
	static int16_t in[3][FRAME], out[3][FRAME];
	static int32_t acc[FRAME];
	for (size_t i = 0; i < FRAME; i++) {
		in[0][i] = (int16_t)(i * 7);
		in[1][i] = (int16_t)(-(int)i * 3);
		in[2][i] = (int16_t)(1000 - (int)i);
	}
	room_mix_clear(acc, FRAME);
	for (int p = 0; p < 3; p++)
		room_mix_add(acc, in[p], FRAME);
	for (int p = 0; p < 3; p++)
		room_mix_out(out[p], acc, in[p], FRAME);
	for (size_t i = 0; i < FRAME; i++) {
		assert_int_equal(out[0][i], in[1][i] + in[2][i]);
		assert_int_equal(out[1][i], in[0][i] + in[2][i]);
		assert_int_equal(out[2][i], in[0][i] + in[1][i]);
	}
	/* no self: everyone (a listener that is not a source, e.g. a recorder) */
	int16_t all[FRAME];
	room_mix_out(all, acc, NULL, FRAME);
	for (size_t i = 0; i < FRAME; i++)
		assert_int_equal(all[i], in[0][i] + in[1][i] + in[2][i]);
	/* in place: out == self */
	int16_t self[FRAME];
	memcpy(self, in[2], sizeof(self));
	room_mix_out(self, acc, self, FRAME);
	assert_memory_equal(self, out[2], sizeof(self));
}

static void saturation(void **state)
{
	(void)state;
	enum { N = 37 }; /* two blocks and a tail */
	int16_t hi[N], lo[N], z[N], out[N];
	int32_t acc[N];
	for (size_t i = 0; i < N; i++) {
		hi[i] = 30000;
		lo[i] = -30000;
		z[i] = 0;
	}
	room_mix_clear(acc, N);
	room_mix_add(acc, hi, N);
	room_mix_add(acc, hi, N);
	room_mix_add(acc, z, N);
	room_mix_out(out, acc, z, N); /* 60000 */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(out[i], 32767);
	room_mix_out(out, acc, hi, N); /* exactly 30000 */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(out[i], 30000);

	room_mix_clear(acc, N);
	for (int k = 0; k < 3; k++)
		room_mix_add(acc, lo, N);
	room_mix_out(out, acc, z, N); /* -90000 */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(out[i], -32768);
	room_mix_out(out, acc, hi, N); /* -120000 */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(out[i], -32768);
	/* the edges themselves pass unchanged */
	int16_t edge[N];
	for (size_t i = 0; i < N; i++)
		edge[i] = (int16_t)(i & 1 ? -32768 : 32767);
	room_mix_clear(acc, N);
	room_mix_add(acc, edge, N);
	room_mix_out(out, acc, NULL, N);
	assert_memory_equal(out, edge, sizeof(out));
}

static void gain(void **state)
{
	(void)state;
	enum { N = 35 };
	int16_t p[N];
	for (size_t i = 0; i < N; i++)
		p[i] = (int16_t)(i * 900 - 15000);
	int16_t q[N];
	memcpy(q, p, sizeof(q));
	room_mix_gain(q, N, 256); /* unity */
	assert_memory_equal(q, p, sizeof(q));
	room_mix_gain(q, N, 128); /* half, truncating towards zero like the header's "/ 256" */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(q[i], p[i] * 128 / 256);
	memcpy(q, p, sizeof(q));
	room_mix_gain(q, N, 1024); /* x4 saturates both ways */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(q[i], sat((int64_t)p[i] * 4));
	memcpy(q, p, sizeof(q));
	room_mix_gain(q, N, 0);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(q[i], 0);
	memcpy(q, p, sizeof(q));
	room_mix_gain(q, N, -256); /* inversion; -32768 saturates to 32767 */
	for (size_t i = 0; i < N; i++)
		assert_int_equal(q[i], sat(-(int64_t)p[i]));
	int16_t m[3] = {-32768, 32767, 1};
	room_mix_gain(m, 3, INT32_MAX); /* clamped gain, no overflow */
	assert_int_equal(m[0], -32768);
	assert_int_equal(m[1], 32767);
	assert_int_equal(m[2], 128);
	room_mix_gain(m, 3, INT32_MIN);
	assert_int_equal(m[0], 32767);
	assert_int_equal(m[1], -32768);
	assert_int_equal(m[2], -16384);
}

static void energy(void **state)
{
	(void)state;
	assert_int_equal(room_mix_energy(NULL, 0), 0);
	int16_t p[FRAME + 3];
	for (size_t i = 0; i < FRAME + 3; i++)
		p[i] = (int16_t)(i & 1 ? 1000 : -1000);
	assert_int_equal(room_mix_energy(p, FRAME + 3), 1000000);
	for (size_t i = 0; i < FRAME + 3; i++)
		p[i] = -32768; /* largest square: the block sum must not overflow */
	assert_int_equal(room_mix_energy(p, FRAME + 3), 1073741824ull);
	for (size_t i = 0; i < FRAME; i++)
		p[i] = (int16_t)(i < FRAME / 2 ? 0 : 100);
	assert_int_equal(room_mix_energy(p, FRAME), 5000);
	uint64_t ref = 0;
	for (size_t i = 0; i < 13; i++) {
		p[i] = (int16_t)rng();
		ref += (uint64_t)((int64_t)p[i] * p[i]);
	}
	assert_int_equal(room_mix_energy(p, 13), ref / 13);
}

static void many_vs_naive(void **state)
{
	(void)state;
	enum { P = 100 };
	static const size_t lens[] = {FRAME, 160, 17, 1};
	int16_t(*in)[FRAME] = calloc(P, sizeof(*in));
	int16_t(*out)[FRAME] = calloc(P, sizeof(*out));
	int32_t *acc = calloc(FRAME, sizeof(*acc));
	assert_non_null(in);
	assert_non_null(out);
	assert_non_null(acc);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		size_t n = lens[l];
		for (int p = 0; p < P; p++)
			for (size_t i = 0; i < n; i++) /* loud enough that sums saturate often */
				in[p][i] = (int16_t)(rng() % 16384) - 8192;
		room_mix_clear(acc, n);
		for (int p = 0; p < P; p++)
			room_mix_add(acc, in[p], n);
		for (int p = 0; p < P; p++)
			room_mix_out(out[p], acc, in[p], n);
		for (int p = 0; p < P; p++)
			for (size_t i = 0; i < n; i++) {
				int64_t s = 0;
				for (int q = 0; q < P; q++)
					if (q != p)
						s += in[q][i];
				assert_int_equal(out[p][i], sat(s));
			}
	}
	free(in);
	free(out);
	free(acc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(three_participants),
	    cmocka_unit_test(saturation),
	    cmocka_unit_test(gain),
	    cmocka_unit_test(energy),
	    cmocka_unit_test(many_vs_naive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
