/* Monotonic time in milliseconds and nanoseconds; the only place that reads clocks.
 * State machines take `now` as an argument; loops read the clock once per turn. */
#ifndef SB_BASE_CLOCK_H
#define SB_BASE_CLOCK_H

#include <stdint.h>

typedef uint64_t sb_time_ms;

sb_time_ms sb_clock_ms(void);
uint64_t sb_clock_ns(void);
/* Seconds since the Unix epoch (for digest nonces, call records). */
uint64_t sb_clock_wall_s(void);
/* Milliseconds since the Unix epoch (creation and join times the API shows). */
uint64_t sb_clock_wall_ms(void);

#endif
