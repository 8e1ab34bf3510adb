/* Secure randomness for tags, branches, nonces and SSRCs (getrandom, buffered per thread). */
#ifndef SB_BASE_RAND_H
#define SB_BASE_RAND_H

#include <stddef.h>
#include <stdint.h>

/* Fill buf with len secure random bytes; 0 or SB_EIO. */
int sb_random_bytes(void *buf, size_t len);
uint32_t sb_random_u32(void);
/* Write len characters of [0-9a-z] into out (no NUL added). */
void sb_random_token(char *out, size_t len);

#endif
