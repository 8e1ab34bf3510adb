/* Worker-side UDP sockets: uv_poll readiness, recvmmsg batches into per-socket buffers, and the
 * close path that hands the port back only after the fd is gone. */
#include "rtp/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

struct rtp_sock {
	uv_poll_t poll;
	int fd;
	rtp_sock_recv_cb cb;
	void *arg;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	bool closing, passive;
	struct rtp_sock_stats st;
};

/* Receive buffers are shared by every socket of a worker thread: a callback consumes its packet
 * before the next recvmmsg, and a thread runs one socket at a time. */
static _Thread_local struct {
	uint8_t buf[RTP_SOCK_BATCH][RTP_SOCK_MTU];
	struct sockaddr_storage src[RTP_SOCK_BATCH];
	struct iovec iov[RTP_SOCK_BATCH];
	struct mmsghdr msg[RTP_SOCK_BATCH];
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

static void read_batches(struct rtp_sock *s);

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct rtp_sock *s = p->data;
	if (status < 0 || !(events & UV_READABLE))
		return;
	read_batches(s);
}

void rtp_sock_drain(struct rtp_sock *s)
{
	read_batches(s);
}

static void read_batches(struct rtp_sock *s)
{
	/* a bounded number of batches per wake-up, so one flooded socket cannot starve the loop */
	for (int round = 0; round < 4 && !s->closing; round++) {
		for (int i = 0; i < RTP_SOCK_BATCH; i++) {
			rx.iov[i].iov_base = rx.buf[i];
			rx.iov[i].iov_len = RTP_SOCK_MTU;
			memset(&rx.msg[i].msg_hdr, 0, sizeof(rx.msg[i].msg_hdr));
			rx.msg[i].msg_hdr.msg_iov = &rx.iov[i];
			rx.msg[i].msg_hdr.msg_iovlen = 1;
			rx.msg[i].msg_hdr.msg_name = &rx.src[i];
			rx.msg[i].msg_hdr.msg_namelen = sizeof(rx.src[i]);
		}
		int n = recvmmsg(s->fd, rx.msg, RTP_SOCK_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		s->st.rx_calls++;
		for (int i = 0; i < n && !s->closing; i++) {
			size_t len = rx.msg[i].msg_len;
			s->st.rx_packets++;
			s->st.rx_bytes += len;
			if (rx.msg[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			s->cb(s->arg, rx.buf[i], len, (const struct sockaddr *)&rx.src[i],
			      rx.msg[i].msg_hdr.msg_namelen);
		}
		if (n < RTP_SOCK_BATCH)
			return;
	}
}

int rtp_sock_open(struct rtp_sock **out, uv_loop_t *loop, int fd, rtp_sock_recv_cb cb, void *arg)
{
	struct rtp_sock *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return SB_ENOMEM;
	}
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	if (uv_poll_init(loop, &s->poll, fd)) {
		close(fd);
		free(s);
		return SB_EIO;
	}
	s->poll.data = s;
	uv_poll_start(&s->poll, UV_READABLE, on_readable);
	*out = s;
	return 0;
}

int rtp_sock_open_passive(struct rtp_sock **out, int fd, rtp_sock_recv_cb cb, void *arg)
{
	struct rtp_sock *s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		return SB_ENOMEM;
	}
	s->fd = fd;
	s->cb = cb;
	s->arg = arg;
	s->passive = true;
	*out = s;
	return 0;
}

static void sock_closed(uv_handle_t *h)
{
	struct rtp_sock *s = h->data;
	close(s->fd);
	void (*cb)(void *) = s->closed_cb;
	void *arg = s->closed_arg;
	free(s);
	if (cb)
		cb(arg);
}

void rtp_sock_close(struct rtp_sock *s, void (*cb)(void *arg), void *arg)
{
	s->closing = true;
	s->closed_cb = cb;
	s->closed_arg = arg;
	if (s->passive) {
		close(s->fd);
		free(s);
		if (cb)
			cb(arg);
		return;
	}
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, sock_closed);
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
