/* Mix-minus: each participant hears the sum of everyone it listens to except itself, in O(N)
 * per tick: the sum of all heard sources once, then each output = saturate(sum - own).
 * Accumulation in int32, saturation to int16 on output. No allocation. */
#ifndef SB_ROOM_MIXER_H
#define SB_ROOM_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* acc[i] = 0 */
void room_mix_clear(int32_t *acc, size_t n);
/* acc[i] += pcm[i] */
void room_mix_add(int32_t *acc, const int16_t *pcm, size_t n);
/* out[i] = saturate(acc[i] - (self ? self[i] : 0)) */
void room_mix_out(int16_t *out, const int32_t *acc, const int16_t *self, size_t n);
/* out[i] = saturate(a[i] * gain_q8 / 256) in place (volume, fades). */
void room_mix_gain(int16_t *pcm, size_t n, int32_t gain_q8);
/* Energy (mean of squares) of a frame, for speaking detection and tests. */
uint64_t room_mix_energy(const int16_t *pcm, size_t n);

#endif
