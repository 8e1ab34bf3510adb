/* UDP sockets for RTP and RTCP on a media worker: bound on the control thread (so the port pool
 * stays there), then read by the worker's 20 ms tick with batched recvmmsg (no epoll: a leg's
 * audio is only consumed on the tick anyway, and one read per leg per tick costs a quarter less
 * than a readiness event per packet), each datagram stamped with its kernel arrival time, and
 * sent with sendto. No allocation per packet. */
#ifndef SB_RTP_SOCK_H
#define SB_RTP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RTP_SOCK_BATCH 8
#define RTP_SOCK_MTU   1500

/* ip:port (numeric IPv4 or IPv6) as a socket address; returns its length, 0 when ip is not a
 * numeric address. */
socklen_t rtp_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss);

/* Bind a UDP socket on ip:port (numeric IPv4/IPv6), non-blocking. Returns the fd, or SB_EIO
 * (port taken) / SB_EINVAL (address). */
int rtp_sock_bind(const char *ip, uint16_t port);

struct rtp_sock;

/* Called for each datagram received; data is valid until the callback returns. arrival_ms is
 * when the kernel queued it, on the clock of rtp_sock_drain's now_ms (never later than now_ms;
 * in order within one drain, but two drains may disagree by a millisecond). */
typedef void (*rtp_sock_recv_cb)(void *arg, uint8_t *data, size_t len, const struct sockaddr *src,
				 socklen_t srclen, uint64_t arrival_ms);

/* Take over fd (on the thread that will drain it). 0 or SB_ENOMEM (fd is closed on failure
 * too). */
int rtp_sock_open(struct rtp_sock **out, int fd, rtp_sock_recv_cb cb, void *arg);
/* Read what is queued now (at most 4 batches: a flooded socket cannot starve the thread; the
 * kernel drops the excess), calling the callback for each datagram. now_ms: the caller's
 * monotonic clock in ms. */
void rtp_sock_drain(struct rtp_sock *s, uint64_t now_ms);
/* Close the fd and free; cb (may be NULL) runs once the fd is closed (the port may be reused):
 * before this returns, or, from a receive callback, when that drain ends. */
void rtp_sock_close(struct rtp_sock *s, void (*cb)(void *arg), void *arg);
/* Send one datagram; 0, or SB_EIO / SB_EAGAIN (counted as a drop). */
int rtp_sock_send(struct rtp_sock *s, const void *data, size_t len, const struct sockaddr *dst,
		  socklen_t dstlen);

struct rtp_sock_stats {
	uint64_t rx_packets, rx_bytes, rx_calls, tx_packets, tx_bytes, tx_errors;
};
void rtp_sock_stats(const struct rtp_sock *s, struct rtp_sock_stats *out);

#endif
