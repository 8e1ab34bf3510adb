/* UDP sockets for RTP and RTCP on a media worker's loop: bound on the control thread (so the
 * port pool stays there), then driven by uv_poll with batched recvmmsg into the socket's own
 * buffers, and sent with sendto / sendmmsg. No allocation per packet. */
#ifndef SB_RTP_SOCK_H
#define SB_RTP_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define RTP_SOCK_BATCH 8
#define RTP_SOCK_MTU   1500

/* ip:port (numeric IPv4 or IPv6) as a socket address; returns its length, 0 when ip is not a
 * numeric address. */
socklen_t rtp_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss);

/* Bind a UDP socket on ip:port (numeric IPv4/IPv6), non-blocking. Returns the fd, or SB_EIO
 * (port taken) / SB_EINVAL (address). */
int rtp_sock_bind(const char *ip, uint16_t port);

struct rtp_sock;

/* Called for each datagram received; data is valid until the callback returns. */
typedef void (*rtp_sock_recv_cb)(void *arg, uint8_t *data, size_t len, const struct sockaddr *src,
				 socklen_t srclen);

/* Take over fd on loop (the worker's) and start reading. 0, SB_ENOMEM or SB_EIO (fd is closed
 * on failure too). */
int rtp_sock_open(struct rtp_sock **out, uv_loop_t *loop, int fd, rtp_sock_recv_cb cb, void *arg);
/* The same without a poll handle, for low-rate sockets (RTCP, one packet per few seconds):
 * nothing is read until rtp_sock_drain, which saves the epoll registration per call. */
int rtp_sock_open_passive(struct rtp_sock **out, int fd, rtp_sock_recv_cb cb, void *arg);
/* Read what is queued now (bounded), calling the callback for each datagram. */
void rtp_sock_drain(struct rtp_sock *s);
/* Stop, close the fd and free; cb runs once the fd is really closed (the port may be reused):
 * later for a polled socket, before this returns for a passive one. */
void rtp_sock_close(struct rtp_sock *s, void (*cb)(void *arg), void *arg);
/* Send one datagram; 0, or SB_EIO / SB_EAGAIN (counted as a drop). */
int rtp_sock_send(struct rtp_sock *s, const void *data, size_t len, const struct sockaddr *dst,
		  socklen_t dstlen);

struct rtp_sock_stats {
	uint64_t rx_packets, rx_bytes, rx_calls, tx_packets, tx_bytes, tx_errors;
};
void rtp_sock_stats(const struct rtp_sock *s, struct rtp_sock_stats *out);

#endif
