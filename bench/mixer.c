/* Mixer benchmark: 200 rooms x 5 participants of 20 ms 16 kHz frames mixed with room_mix_*
 * (sum once, subtract own) against a naive O(N^2) mix of the same frames; ns per tick, % of a core.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "room/mixer.h"

#define ROOMS	200
#define PARTS	5
#define FRAME	320 /* 20 ms at 16 kHz */
#define TICK_NS 20e6

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int16_t in[ROOMS][PARTS][FRAME];
static int16_t out[ROOMS][PARTS][FRAME];
static int16_t ref[ROOMS][PARTS][FRAME];
static int32_t acc[FRAME];
static volatile uint64_t bench_sink;

static void tick_mixer(void)
{
	for (int r = 0; r < ROOMS; r++) {
		room_mix_clear(acc, FRAME);
		for (int p = 0; p < PARTS; p++)
			room_mix_add(acc, in[r][p], FRAME);
		for (int p = 0; p < PARTS; p++)
			room_mix_out(out[r][p], acc, in[r][p], FRAME);
	}
}

/* What the libre aumix counter-example does: every output re-sums every other input. */
static void tick_naive(void)
{
	for (int r = 0; r < ROOMS; r++)
		for (int p = 0; p < PARTS; p++)
			for (size_t i = 0; i < FRAME; i++) {
				int32_t s = 0;
				for (int q = 0; q < PARTS; q++)
					if (q != p)
						s += in[r][q][i];
				ref[r][p][i] = (int16_t)(s > 32767    ? 32767
							 : s < -32768 ? -32768
								      : s);
			}
}

static double run(void (*tick)(void), int16_t (*dst)[PARTS][FRAME], long ticks)
{
	tick(); /* warm the caches */
	double best = 1e30;
	for (int round = 0; round < 3; round++) { /* best of three: the box is shared */
		double t0 = now_ns();
		for (long k = 0; k < ticks; k++) {
			tick();
			bench_sink += (uint16_t)dst[k % ROOMS][k % PARTS][k % FRAME];
		}
		double ns = (now_ns() - t0) / (double)ticks;
		best = ns < best ? ns : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	long ticks = argc > 1 ? atol(argv[1]) : 2000;
	if (ticks <= 0)
		ticks = 2000;
	uint32_t x = 2463534242u;
	for (int r = 0; r < ROOMS; r++)
		for (int p = 0; p < PARTS; p++)
			for (size_t i = 0; i < FRAME; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				in[r][p][i] =
				    (int16_t)((x >> 8) % 24000) - 12000; /* sums saturate */
			}

	double mix = run(tick_mixer, out, ticks);
	double naive = run(tick_naive, ref, ticks);
	if (memcmp(out, ref, sizeof(out)) != 0) {
		fprintf(stderr, "bench_mixer: mix-minus and naive outputs differ\n");
		return 1;
	}
	printf("mixer: %d rooms x %d participants, 20 ms frames at 16 kHz, %ld ticks (best of 3)\n",
	       ROOMS, PARTS, ticks);
	printf("  %-26s %10.0f ns/tick  %6.3f %% of one core  %6.1f ns/participant\n",
	       "room_mix (sum, subtract)", mix, mix / TICK_NS * 100, mix / (ROOMS * PARTS));
	printf("  %-26s %10.0f ns/tick  %6.3f %% of one core  %6.1f ns/participant\n",
	       "naive O(N^2) baseline", naive, naive / TICK_NS * 100, naive / (ROOMS * PARTS));
	printf("  naive / room_mix = %.2fx\n", naive / mix);
	return 0;
}
