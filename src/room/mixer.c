/* Mix-minus arithmetic of a room tick: int32 accumulation, int16 saturation, gain and energy.
 * Owns the inner loops only; which sources a participant hears is decided by room.c. */
#include "room/mixer.h"

/* The tree is built at -O2, where gcc 12 vectorises only loops whose trip count is a known
 * multiple of the vector width (the "very cheap" cost model) and that need no runtime alias
 * check. So each function runs fixed blocks of MIX_BLK samples, which gcc turns into SSE code,
 * and a scalar tail for the rest (a 20 ms frame at 8/16/48 kHz is a whole number of blocks).
 * Where output and input are both int16 (room_mix_out), a block goes through a local int32
 * array, so that in-place use (out == self) stays correct without an alias check. */
#define MIX_BLK 16

/* A compare and a select per bound: gcc emits packed min/max or packs with saturation. */
static inline int16_t sat16(int32_t v)
{
	return (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}

void room_mix_clear(int32_t *acc, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc[i] = 0;
}

void room_mix_add(int32_t *acc, const int16_t *pcm, size_t n)
{
	size_t i = 0;
	for (; i + MIX_BLK <= n; i += MIX_BLK)
		for (size_t j = 0; j < MIX_BLK; j++)
			acc[i + j] += pcm[i + j];
	for (; i < n; i++)
		acc[i] += pcm[i];
}

void room_mix_out(int16_t *out, const int32_t *acc, const int16_t *self, size_t n)
{
	size_t i = 0;
	if (!self) {
		for (; i + MIX_BLK <= n; i += MIX_BLK)
			for (size_t j = 0; j < MIX_BLK; j++)
				out[i + j] = sat16(acc[i + j]);
		for (; i < n; i++)
			out[i] = sat16(acc[i]);
		return;
	}
	for (; i + MIX_BLK <= n; i += MIX_BLK) {
		int32_t t[MIX_BLK];
		for (size_t j = 0; j < MIX_BLK; j++)
			t[j] = acc[i + j] - self[i + j];
		for (size_t j = 0; j < MIX_BLK; j++)
			out[i + j] = sat16(t[j]);
	}
	for (; i < n; i++)
		out[i] = sat16(acc[i] - self[i]);
}

/* Gains beyond x128 (either sign) are clamped: every product then fits in int32. */
#define MIX_GAIN_MAX (128 * 256)

void room_mix_gain(int16_t *pcm, size_t n, int32_t gain_q8)
{
	int32_t g = gain_q8 > MIX_GAIN_MAX ? MIX_GAIN_MAX : gain_q8;
	g = g < -MIX_GAIN_MAX ? -MIX_GAIN_MAX : g;
	if (g == 256)
		return;
	size_t i = 0;
	for (; i + MIX_BLK <= n; i += MIX_BLK)
		for (size_t j = 0; j < MIX_BLK; j++)
			pcm[i + j] = sat16(pcm[i + j] * g / 256);
	for (; i < n; i++)
		pcm[i] = sat16(pcm[i] * g / 256);
}

uint64_t room_mix_energy(const int16_t *pcm, size_t n)
{
	if (n == 0)
		return 0;
	uint64_t sum = 0;
	size_t i = 0;
	/* A square is at most 2^30, so it fits uint32; the block sum needs 64 bits. */
	for (; i + MIX_BLK <= n; i += MIX_BLK) {
		uint64_t b = 0;
		for (size_t j = 0; j < MIX_BLK; j++)
			b += (uint32_t)((int32_t)pcm[i + j] * pcm[i + j]);
		sum += b;
	}
	for (; i < n; i++)
		sum += (uint32_t)((int32_t)pcm[i] * pcm[i]);
	return sum / n;
}
