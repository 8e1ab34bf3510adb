/* An RTP echo endpoint: returns every packet to where it came from (symmetric RTP).
 * The vertical slice's media until rooms arrive; owns one UDP socket on a given loop. */
#ifndef SB_RTP_ECHO_H
#define SB_RTP_ECHO_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct rtp_echo;

/* Bind ip:port and start echoing. 0, SB_EIO (port in use) or SB_ENOMEM. */
int rtp_echo_new(struct rtp_echo **out, uv_loop_t *loop, const char *ip, uint16_t port);
/* Stop and free. The socket closes asynchronously: cb (may be NULL) runs once the port is
 * really free again, so it can go back to the pool. */
void rtp_echo_close(struct rtp_echo *e, void (*cb)(void *arg), void *arg);
uint64_t rtp_echo_packets(const struct rtp_echo *e);
/* A parked echo keeps its socket (so the next call costs no syscall) but drops what arrives. */
void rtp_echo_set_active(struct rtp_echo *e, bool active);

#endif
