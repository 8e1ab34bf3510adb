/* Unit tests for src/rtp/sock.c, each run twice: through the thread's io_uring and through
 * recvmmsg/sendto. Datagrams from a plain peer socket over loopback reach the callback with
 * their bytes, source and a sane arrival time; sends inside a batch leave at its end; a batch
 * with more sends than the queue holds loses none; a closed socket's port is free again when
 * its callback runs (also when closed from a receive callback); more waiting datagrams than
 * provided buffers all arrive, in order per socket; oversize datagrams are dropped; IPv6. The
 * batch sends run once more with io_uring sendmsg requests (a kernel before 6.0 falls back to
 * them). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "rtp/sock.h"

#define MAXGOT 256

struct rx {
	struct rtp_sock *s;
	int n;
	uint8_t first[MAXGOT]; /* first byte of each datagram */
	size_t len[MAXGOT];
	struct sockaddr_storage src;
	socklen_t srclen;
	uint64_t arrival;
	bool close_in_cb; /* close the socket from the callback of its first datagram */
	int closed;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_closed(void *arg)
{
	((struct rx *)arg)->closed++;
}

static void on_dgram(void *arg, uint8_t *data, size_t len, const struct sockaddr *src,
		     socklen_t srclen, uint64_t arrival_ms)
{
	struct rx *r = arg;
	if (r->n < MAXGOT) {
		r->first[r->n] = len ? data[0] : 0;
		r->len[r->n] = len;
	}
	r->n++;
	memcpy(&r->src, src, srclen);
	r->srclen = srclen;
	r->arrival = arrival_ms;
	if (r->close_in_cb && r->n == 1)
		rtp_sock_close(r->s, on_closed, r);
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				       : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A bound rtp_sock on ip and its address. */
static void open_sock(struct rx *r, const char *ip, struct sockaddr_storage *addr, socklen_t *alen)
{
	memset(r, 0, sizeof(*r));
	int fd = rtp_sock_bind(ip, 0);
	assert_true(fd >= 0);
	*alen = rtp_sockaddr(ip, port_of(fd), addr);
	assert_int_equal(rtp_sock_open(&r->s, fd, on_dgram, r), 0);
}

static void send_to(int peer, const struct sockaddr_storage *to, socklen_t tolen, uint8_t tag,
		    size_t len)
{
	uint8_t buf[2048];
	memset(buf, tag, sizeof(buf));
	assert_int_equal(sendto(peer, buf, len, 0, (const struct sockaddr *)to, tolen),
			 (ssize_t)len);
}

/* Drain (outside a batch) until r has want datagrams or 2 s pass. */
static void drain_until(struct rx *r, int want)
{
	for (int i = 0; i < 400 && r->n < want; i++) {
		rtp_sock_drain(r->s, now_ms());
		if (r->n < want)
			usleep(5000);
	}
}

static int peer_socket(int family, struct sockaddr_storage *addr, socklen_t *alen)
{
	int fd = rtp_sock_bind(family == AF_INET ? "127.0.0.1" : "::1", 0);
	assert_true(fd >= 0);
	*alen = rtp_sockaddr(family == AF_INET ? "127.0.0.1" : "::1", port_of(fd), addr);
	return fd;
}

/* Read one datagram from a plain socket within 2 s; its length, or -1. */
static ssize_t peer_recv(int fd, uint8_t *buf, size_t cap)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* Each test runs in both modes: state says which. */
static int setup_uring(void **state)
{
	(void)state;
	rtp_sock_thread_exit();
	rtp_sock_set_uring_buffers(0);
	rtp_sock_set_io(RTP_SOCK_IO_AUTO);
	return 0;
}

static int setup_uring_sendmsg(void **state)
{
	(void)state;
	rtp_sock_thread_exit();
	rtp_sock_set_uring_buffers(0);
	rtp_sock_set_io(RTP_SOCK_IO_URING_SENDMSG);
	return 0;
}

static int setup_syscalls(void **state)
{
	(void)state;
	rtp_sock_thread_exit();
	rtp_sock_set_uring_buffers(0);
	rtp_sock_set_io(RTP_SOCK_IO_SYSCALLS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	rtp_sock_thread_exit();
	return 0;
}

static void test_receive(void **state)
{
	(void)state;
	struct rx r;
	struct sockaddr_storage a, pa;
	socklen_t alen, palen;
	open_sock(&r, "127.0.0.1", &a, &alen);
	int peer = peer_socket(AF_INET, &pa, &palen);
	uint64_t before = now_ms();
	for (uint8_t i = 1; i <= 3; i++)
		send_to(peer, &a, alen, i, 100u + i);
	drain_until(&r, 3);
	assert_int_equal(r.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r.first[i], i + 1);
		assert_int_equal(r.len[i], 101u + (size_t)i);
	}
	/* the source is the peer, and the arrival time is on our clock */
	assert_int_equal(r.srclen, palen);
	assert_memory_equal(&r.src, &pa, palen);
	assert_true(r.arrival + 5 >= before && r.arrival <= now_ms());
	struct rtp_sock_stats st;
	rtp_sock_stats(r.s, &st);
	assert_int_equal(st.rx_packets, 3);
	assert_int_equal(st.rx_bytes, 101 + 102 + 103);
	rtp_sock_close(r.s, on_closed, &r);
	assert_int_equal(r.closed, 1);
	close(peer);
}

static void test_ipv6_and_oversize(void **state)
{
	(void)state;
	struct rx r;
	struct sockaddr_storage a, pa;
	socklen_t alen, palen;
	open_sock(&r, "::1", &a, &alen);
	int peer = peer_socket(AF_INET6, &pa, &palen);
	send_to(peer, &a, alen, 7, RTP_SOCK_MTU + 40); /* larger than we read: dropped */
	send_to(peer, &a, alen, 8, RTP_SOCK_MTU);      /* the largest we read */
	drain_until(&r, 1);
	usleep(20000);
	rtp_sock_drain(r.s, now_ms());
	assert_int_equal(r.n, 1);
	assert_int_equal(r.first[0], 8);
	assert_int_equal(r.len[0], RTP_SOCK_MTU);
	assert_int_equal(r.srclen, sizeof(struct sockaddr_in6));
	assert_memory_equal(&r.src, &pa, palen);
	rtp_sock_close(r.s, on_closed, &r);
	assert_int_equal(r.closed, 1);
	close(peer);
}

static void test_batch_send(void **state)
{
	(void)state;
	struct rx r;
	struct sockaddr_storage a, pa;
	socklen_t alen, palen;
	open_sock(&r, "127.0.0.1", &a, &alen);
	int peer = peer_socket(AF_INET, &pa, &palen);
	int big = 4 << 20; /* room for every datagram of a batch (as root; else the default) */
	if (setsockopt(peer, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) != 0)
		(void)setsockopt(peer, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	/* one batch with more sends than the queue starts with (256): none lost, in order */
	for (int round = 0; round < 2; round++) {
		rtp_sock_batch_begin(now_ms());
		for (int i = 0; i < 300; i++) {
			uint8_t b[64];
			memset(b, (uint8_t)i, sizeof(b));
			assert_int_equal(
			    rtp_sock_send(r.s, b, sizeof(b), (const struct sockaddr *)&pa, palen),
			    0);
		}
		rtp_sock_batch_end();
		for (int i = 0; i < 300; i++) {
			uint8_t b[128];
			assert_int_equal(peer_recv(peer, b, sizeof(b)), 64);
			assert_int_equal(b[0], (uint8_t)i);
		}
	}
	/* a datagram sent to us inside a batch arrives at the next batch start */
	rtp_sock_batch_begin(now_ms());
	send_to(peer, &a, alen, 9, 50);
	rtp_sock_batch_end();
	for (int i = 0; i < 200 && r.n == 0; i++) {
		usleep(5000);
		rtp_sock_batch_begin(now_ms());
		rtp_sock_batch_end();
		rtp_sock_drain(r.s, now_ms()); /* syscalls: the drain reads it */
	}
	assert_int_equal(r.n, 1);
	assert_int_equal(r.first[0], 9);
	struct rtp_sock_stats st;
	rtp_sock_stats(r.s, &st);
	assert_int_equal(st.tx_packets, 600);
	assert_int_equal(st.tx_errors, 0);
	rtp_sock_close(r.s, on_closed, &r);
	assert_int_equal(r.closed, 1);
	close(peer);
}

static void test_close_frees_port(void **state)
{
	(void)state;
	struct rx r;
	struct sockaddr_storage a;
	socklen_t alen;
	open_sock(&r, "127.0.0.1", &a, &alen);
	uint16_t port = ntohs(((struct sockaddr_in *)&a)->sin_port);
	rtp_sock_drain(r.s, now_ms()); /* armed in the kernel by now */
	rtp_sock_close(r.s, on_closed, &r);
	assert_int_equal(r.closed, 1);
	int fd = rtp_sock_bind("127.0.0.1", port); /* the port is free again */
	assert_true(fd >= 0);
	close(fd);

	/* closed from its own receive callback: the callback of the close runs once, after */
	open_sock(&r, "127.0.0.1", &a, &alen);
	port = ntohs(((struct sockaddr_in *)&a)->sin_port);
	r.close_in_cb = true;
	struct sockaddr_storage pa;
	socklen_t palen;
	int peer = peer_socket(AF_INET, &pa, &palen);
	send_to(peer, &a, alen, 1, 20);
	send_to(peer, &a, alen, 2, 20);
	for (int i = 0; i < 400 && !r.closed; i++) {
		if (r.n == 0)
			rtp_sock_drain(r.s, now_ms());
		else { /* the socket is gone: another thread-wide read finishes it */
			rtp_sock_batch_begin(now_ms());
			rtp_sock_batch_end();
		}
		usleep(2000);
	}
	assert_int_equal(r.n, 1); /* nothing delivered after the close */
	assert_int_equal(r.closed, 1);
	fd = rtp_sock_bind("127.0.0.1", port);
	assert_true(fd >= 0);
	close(fd);
	close(peer);
}

/* More datagrams waiting than provided buffers (io_uring: 4 here): they all arrive over a few
 * reads, in order per socket, none twice. */
static void test_more_than_buffers(void **state)
{
	(void)state;
	rtp_sock_thread_exit();
	rtp_sock_set_uring_buffers(4);
	enum { NS = 12, PER = 3 };
	static struct rx r[NS];
	struct sockaddr_storage a[NS], pa;
	socklen_t alen[NS], palen;
	for (int i = 0; i < NS; i++)
		open_sock(&r[i], "127.0.0.1", &a[i], &alen[i]);
	rtp_sock_drain(r[0].s, now_ms());
	int peer = peer_socket(AF_INET, &pa, &palen);
	for (int k = 0; k < PER; k++)
		for (int i = 0; i < NS; i++)
			send_to(peer, &a[i], alen[i], (uint8_t)(k + 1), 30);
	usleep(10000);
	int total = 0;
	for (int tries = 0; tries < 50 && total < NS * PER; tries++) {
		rtp_sock_batch_begin(now_ms());
		rtp_sock_batch_end();
		for (int i = 0; i < NS; i++)
			rtp_sock_drain(r[i].s, now_ms()); /* syscalls mode reads here */
		total = 0;
		for (int i = 0; i < NS; i++)
			total += r[i].n;
		usleep(1000);
	}
	assert_int_equal(total, NS * PER);
	for (int i = 0; i < NS; i++) {
		assert_int_equal(r[i].n, PER);
		for (int k = 0; k < PER; k++)
			assert_int_equal(r[i].first[k], k + 1);
		rtp_sock_close(r[i].s, on_closed, &r[i]);
	}
	/* a close waits for the kernel: every callback has run once a read or two later */
	for (int tries = 0; tries < 20; tries++) {
		int closed = 0;
		for (int i = 0; i < NS; i++)
			closed += r[i].closed;
		if (closed == NS)
			break;
		rtp_sock_batch_begin(now_ms());
		rtp_sock_batch_end();
	}
	for (int i = 0; i < NS; i++)
		assert_int_equal(r[i].closed, 1);
	close(peer);
}

static void test_mode(void **state)
{
	(void)state;
	struct rx r;
	struct sockaddr_storage a;
	socklen_t alen;
	open_sock(&r, "127.0.0.1", &a, &alen);
	/* io_uring can be refused by the kernel (kernel.io_uring_disabled, seccomp): then the
	 * thread falls back; with RTP_SOCK_IO_SYSCALLS it never uses it */
	int mode = *(int *)*state;
	if (mode == RTP_SOCK_IO_SYSCALLS)
		assert_false(rtp_sock_thread_uses_uring());
	else
		print_message("io_uring on this kernel: %s\n",
			      rtp_sock_thread_uses_uring() ? "yes" : "no (system calls)");
	rtp_sock_close(r.s, on_closed, &r);
	assert_int_equal(r.closed, 1);
}

static int MODE_AUTO = RTP_SOCK_IO_AUTO, MODE_SYS = RTP_SOCK_IO_SYSCALLS,
	   MODE_SENDMSG = RTP_SOCK_IO_URING_SENDMSG;

#define BOTH(t)                                                                                    \
	cmocka_unit_test_prestate_setup_teardown(t, setup_uring, teardown, &MODE_AUTO),            \
	    cmocka_unit_test_prestate_setup_teardown(t, setup_syscalls, teardown, &MODE_SYS)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    BOTH(test_mode),
	    BOTH(test_receive),
	    BOTH(test_ipv6_and_oversize),
	    BOTH(test_batch_send),
	    BOTH(test_close_frees_port),
	    BOTH(test_more_than_buffers),
	    /* sends as sendmsg, as on a kernel that refuses sends with a destination */
	    cmocka_unit_test_prestate_setup_teardown(test_batch_send, setup_uring_sendmsg, teardown,
						     &MODE_SENDMSG),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
