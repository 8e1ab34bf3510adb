/* Worker-side UDP sockets: recvmmsg batches into per-thread buffers with kernel arrival times
 * (SO_TIMESTAMPNS), sendto, and the close path that hands the port back after the fd is gone. */
#include "rtp/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

struct rtp_sock {
	int fd;
	bool draining, closing;
	rtp_sock_recv_cb cb;
	void *arg;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	struct rtp_sock_stats st;
};

static void sock_free(struct rtp_sock *s)
{
	void (*cb)(void *) = s->closed_cb;
	void *arg = s->closed_arg;
	close(s->fd);
	free(s);
	if (cb)
		cb(arg);
}

#define CTL_LEN CMSG_SPACE(sizeof(struct timespec))

/* Receive buffers are shared by every socket of a worker thread: a callback consumes its packet
 * before the next recvmmsg, and a thread runs one socket at a time. */
static _Thread_local struct {
	bool ready;
	uint8_t buf[RTP_SOCK_BATCH][RTP_SOCK_MTU];
	struct sockaddr_storage src[RTP_SOCK_BATCH];
	struct iovec iov[RTP_SOCK_BATCH];
	struct mmsghdr msg[RTP_SOCK_BATCH];
	_Alignas(struct cmsghdr) uint8_t ctl[RTP_SOCK_BATCH][CTL_LEN];
} rx;

socklen_t rtp_sockaddr(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)(void *)ss;
	if (inet_pton(AF_INET, ip, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		return sizeof(*a4);
	}
	if (inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		return sizeof(*a6);
	}
	return 0;
}

int rtp_sock_bind(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = rtp_sockaddr(ip, port, &ss);
	if (!len)
		return SB_EINVAL;
	int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return SB_EIO;
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		close(fd);
		return SB_EIO;
	}
	return fd;
}

/* when the kernel queued datagram i, on the clock of now_ms (now_real: CLOCK_REALTIME now) */
static uint64_t arrival_ms(int i, uint64_t now_ms, const struct timespec *now_real)
{
	struct msghdr *h = &rx.msg[i].msg_hdr;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		struct timespec ts;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		/* whole nanoseconds first: datagrams read in one drain keep their order */
		int64_t age_ns = (int64_t)(now_real->tv_sec - ts.tv_sec) * 1000000000 +
				 (now_real->tv_nsec - ts.tv_nsec);
		if (age_ns <= 0)
			return now_ms;
		uint64_t age = (uint64_t)age_ns / 1000000u;
		return age < now_ms ? now_ms - age : 0;
	}
	return now_ms;
}

void rtp_sock_drain(struct rtp_sock *s, uint64_t now_ms)
{
	if (!rx.ready) {
		for (int i = 0; i < RTP_SOCK_BATCH; i++) {
			rx.iov[i].iov_base = rx.buf[i];
			rx.iov[i].iov_len = RTP_SOCK_MTU;
			rx.msg[i].msg_hdr.msg_iov = &rx.iov[i];
			rx.msg[i].msg_hdr.msg_iovlen = 1;
			rx.msg[i].msg_hdr.msg_name = &rx.src[i];
			rx.msg[i].msg_hdr.msg_control = rx.ctl[i];
		}
		rx.ready = true;
	}
	s->draining = true;
	for (int round = 0; round < 4 && !s->closing; round++) {
		for (int i = 0; i < RTP_SOCK_BATCH; i++) {
			rx.msg[i].msg_hdr.msg_namelen = sizeof(rx.src[i]);
			rx.msg[i].msg_hdr.msg_controllen = CTL_LEN;
		}
		int n = recvmmsg(s->fd, rx.msg, RTP_SOCK_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		s->st.rx_calls++;
		struct timespec now_real;
		clock_gettime(CLOCK_REALTIME, &now_real);
		for (int i = 0; i < n && !s->closing; i++) {
			size_t len = rx.msg[i].msg_len;
			s->st.rx_packets++;
			s->st.rx_bytes += len;
			if (rx.msg[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			s->cb(s->arg, rx.buf[i], len, (const struct sockaddr *)&rx.src[i],
			      rx.msg[i].msg_hdr.msg_namelen, arrival_ms(i, now_ms, &now_real));
		}
		if (n < RTP_SOCK_BATCH)
			break;
	}
	s->draining = false;
	if (s->closing) /* a callback closed it */
		sock_free(s);
}

int rtp_sock_open(struct rtp_sock **out, int fd, rtp_sock_recv_cb cb, void *arg)
{
	struct rtp_sock *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return SB_ENOMEM;
	}
	/* without it every datagram counts as arriving when it is read */
	int on = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on));
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	*out = s;
	return 0;
}

void rtp_sock_close(struct rtp_sock *s, void (*cb)(void *arg), void *arg)
{
	s->closed_cb = cb;
	s->closed_arg = arg;
	s->closing = true;
	if (!s->draining) /* else the drain stops and frees it */
		sock_free(s);
}

int rtp_sock_send(struct rtp_sock *s, const void *data, size_t len, const struct sockaddr *dst,
		  socklen_t dstlen)
{
	ssize_t n = sendto(s->fd, data, len, MSG_DONTWAIT, dst, dstlen);
	if (n < 0) {
		s->st.tx_errors++;
		return errno == EAGAIN || errno == EWOULDBLOCK ? SB_EAGAIN : SB_EIO;
	}
	s->st.tx_packets++;
	s->st.tx_bytes += (uint64_t)n;
	return 0;
}

void rtp_sock_stats(const struct rtp_sock *s, struct rtp_sock_stats *out)
{
	*out = s->st;
}
