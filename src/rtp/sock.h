/* UDP sockets for RTP and RTCP on a media worker: bound on the control thread (so the port pool
 * stays there), then owned by one worker thread, each datagram stamped with its kernel arrival
 * time. No epoll (a leg's audio is only consumed on the 20 ms tick anyway) and no allocation
 * per packet.
 *
 * Datagrams move one of two ways, chosen per thread:
 *  - io_uring (where the kernel allows it): every socket keeps a multishot recvmsg armed on the
 *    thread's ring, datagrams land in the ring's provided buffers, and rtp_sock_batch_begin
 *    hands all of them to their sockets' callbacks with one system call; sends made between
 *    rtp_sock_batch_begin and rtp_sock_batch_end are queued and leave with one system call at
 *    the end. Per packet that saves a receive and a send system call (measured in bench/media).
 *  - system calls (RTP_SOCK_IO_SYSCALLS, or no usable io_uring): rtp_sock_drain reads a socket
 *    with recvmmsg, rtp_sock_send is sendto.
 * The interface is the same either way. */
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

enum rtp_sock_io {
	RTP_SOCK_IO_AUTO,     /* io_uring where the kernel allows it, else system calls */
	RTP_SOCK_IO_SYSCALLS, /* recvmmsg and sendto */
	/* io_uring with sends as sendmsg: what a kernel before sends with a destination (6.0)
	 * gets after its first refusal; for tests */
	RTP_SOCK_IO_URING_SENDMSG,
};
/* For threads that open their first socket after this (set it before starting workers). */
void rtp_sock_set_io(enum rtp_sock_io io);
/* Provided receive buffers per io_uring thread (rounded up to a power of two; 0 = the default,
 * 1024), for threads that open their first socket after this. Tests use a few to exercise the
 * rounds a read needs when more datagrams wait than there are buffers. */
void rtp_sock_set_uring_buffers(unsigned n);
/* Whether the calling thread moves datagrams through io_uring (known once it opened a socket). */
bool rtp_sock_thread_uses_uring(void);

struct rtp_sock;

/* Called for each datagram received; data is valid until the callback returns. arrival_ms is
 * when the kernel queued it, on the clock of the now_ms given to rtp_sock_drain or
 * rtp_sock_batch_begin (never later than now_ms; in order within one read, but two reads may
 * disagree by a millisecond). */
typedef void (*rtp_sock_recv_cb)(void *arg, uint8_t *data, size_t len, const struct sockaddr *src,
				 socklen_t srclen, uint64_t arrival_ms);

/* Take over fd on the thread that will use it (every call below for this socket must come from
 * that thread). 0 or SB_ENOMEM (fd is closed on failure too). */
int rtp_sock_open(struct rtp_sock **out, int fd, rtp_sock_recv_cb cb, void *arg);
/* Have what is queued now delivered to the callback (at most 4 batches of RTP_SOCK_BATCH per
 * socket per read: a flooded socket cannot starve the thread; the kernel drops the excess).
 * Between rtp_sock_batch_begin and _end it does nothing on an io_uring thread (the batch start
 * delivered everything); outside a batch it delivers what is queued on all of the thread's
 * sockets. now_ms: the caller's monotonic clock in ms. */
void rtp_sock_drain(struct rtp_sock *s, uint64_t now_ms);
/* Close the fd and free; cb (may be NULL) runs once the fd is closed (the port may be reused):
 * before this returns, or, from a receive callback, when that callback's read ends, or (on an
 * io_uring thread, if the kernel has not let go of the socket yet) at a later read. */
void rtp_sock_close(struct rtp_sock *s, void (*cb)(void *arg), void *arg);
/* Send one datagram: 0 when sent (or queued, inside a batch), else SB_EIO / SB_EAGAIN (counted
 * as an error). A queued send that fails later counts in tx_errors. */
int rtp_sock_send(struct rtp_sock *s, const void *data, size_t len, const struct sockaddr *dst,
		  socklen_t dstlen);

/* The thread's batch around each tick: _begin delivers every datagram that arrived on the
 * thread's sockets (the callbacks run in it); sends until _end are queued and leave at _end.
 * No-ops on a thread without io_uring. */
void rtp_sock_batch_begin(uint64_t now_ms);
void rtp_sock_batch_end(void);
/* On thread exit, once its sockets are closed: free the thread's ring and buffers. */
void rtp_sock_thread_exit(void);

struct rtp_sock_stats {
	uint64_t rx_packets, rx_bytes, rx_calls, tx_packets, tx_bytes, tx_errors;
};
void rtp_sock_stats(const struct rtp_sock *s, struct rtp_sock_stats *out);

#endif
