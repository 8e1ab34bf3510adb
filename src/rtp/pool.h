/* The RTP port pool: even ports of the configured range, RTCP on port + 1.
 * Owns which ports are lent out; sockets are bound by the caller, who returns ports on every exit.
 */
#ifndef SB_RTP_POOL_H
#define SB_RTP_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rtp_pool {
	uint16_t lo, hi; /* even lo, inclusive range of RTP (even) ports */
	uint8_t *used;	 /* one byte per even port */
	size_t n, next, in_use;
};

/* Range lo-hi (both inclusive); lo rounded up to even. 0, SB_EINVAL or SB_ENOMEM. */
int rtp_pool_init(struct rtp_pool *p, uint16_t lo, uint16_t hi);
void rtp_pool_free(struct rtp_pool *p);
/* Lend the next free even port (round robin, so a port is not reused at once). 0 = exhausted. */
uint16_t rtp_pool_get(struct rtp_pool *p);
void rtp_pool_put(struct rtp_pool *p, uint16_t port);
size_t rtp_pool_available(const struct rtp_pool *p);
/* Parse "LO-HI". 0 or SB_EINVAL. */
int rtp_pool_parse_range(const char *s, uint16_t *lo, uint16_t *hi);

#endif
