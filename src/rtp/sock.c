/* Worker-side UDP sockets: a per-thread io_uring (multishot recvmsg into provided buffers,
 * sends batched per tick) or, without one, recvmmsg and sendto; kernel arrival times
 * (SO_TIMESTAMPNS) either way, and the close path that hands the port back after the fd is
 * gone (on io_uring: after the kernel let go of the socket's receive request). */
#include "rtp/sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"

#define CTL_LEN CMSG_SPACE(sizeof(struct timespec))

/* The ring: sends of a tick, re-arms and cancels fit in the submission queue; completions of a
 * tick (a few per socket) in the completion queue (the kernel keeps any overflow). */
#define URING_SQ   2048u
#define URING_CQ   8192u
#define URING_BGID 0
/* Provided receive buffers per thread: a datagram's header (io_uring_recvmsg_out), its source
 * address (sockaddr_in6 reserved), the timestamp and up to RTP_SOCK_MTU bytes. A read that finds
 * them all taken ends the sockets' receive requests with ENOBUFS: they are re-armed and read
 * again once the buffers are back (the datagrams wait in the socket meanwhile). */
#define URING_NBUF  1024u /* the default; rtp_sock_set_uring_buffers */
#define URING_BUFSZ 1600u
#define TX_SLOTS0   256u /* queued sends per batch to start with; doubles when a tick needs more */
#define TX_BYTES0   (64u * 1024u)

/* user_data: a socket pointer (malloc-aligned) with the kind of request in the low bits */
enum { UD_RECV = 0, UD_SEND = 1, UD_CANCEL = 2, UD_MASK = 3 };

struct uio;

struct rtp_sock {
	int fd;
	bool draining, closing;
	bool uring;	   /* receives through the thread's ring */
	bool armed;	   /* a multishot recvmsg is in the kernel */
	bool rearm_queued; /* on the thread's re-arm list */
	uint32_t inflight; /* queued sends not yet completed */
	int slot;	   /* its index in the ring's file table, -1 = used by its fd */
	struct rtp_sock *rearm_next;
	struct uio *u;
	struct msghdr mh; /* what each received buffer reserves: source address and control */
	rtp_sock_recv_cb cb;
	void *arg;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	struct rtp_sock_stats st;
};

struct tx_hdr {
	struct msghdr mh;
	struct iovec iov;
	struct sockaddr_in6 addr;
};

struct uio {
	struct io_uring ring;
	struct io_uring_buf_ring *br;
	uint8_t *bufs;
	unsigned nbuf, br_mask;
	bool in_batch, reaping;
	uint64_t now_ms;
	struct timespec now_real;
	struct rtp_sock *rearm_head;
	uint32_t *free_slots; /* file table indexes not in use (a stack), NULL = no table */
	unsigned n_free;
	struct rtp_sock *closing_wait; /* rtp_sock_close waiting for the kernel to let go of it */
	bool closing_done;
	size_t n_socks;
	/* sends queued in this batch: headers and bytes, reused once all have completed */
	struct tx_hdr *tx;
	uint8_t *txdata;
	size_t tx_cap, tx_n, txdata_cap, txdata_len;
	uint32_t tx_inflight;
	bool tx_short;	   /* this batch needed more room: grow before the next */
	bool no_send_addr; /* the kernel refuses IORING_OP_SEND with an address: sendmsg */
};

static atomic_int io_mode = RTP_SOCK_IO_AUTO;
static atomic_uint io_nbuf = URING_NBUF;

/* Per thread: 0 = not tried yet, 1 = ring ready, -1 = system calls. */
static _Thread_local int uio_state;
static _Thread_local struct uio *U;

/* Receive buffers of the system-call path, shared by every socket of a thread: a callback
 * consumes its packet before the next recvmmsg, and a thread runs one socket at a time. */
static _Thread_local struct {
	bool ready;
	uint8_t buf[RTP_SOCK_BATCH][RTP_SOCK_MTU];
	struct sockaddr_storage src[RTP_SOCK_BATCH];
	struct iovec iov[RTP_SOCK_BATCH];
	struct mmsghdr msg[RTP_SOCK_BATCH];
	_Alignas(struct cmsghdr) uint8_t ctl[RTP_SOCK_BATCH][CTL_LEN];
} rx;

void rtp_sock_set_io(enum rtp_sock_io io)
{
	atomic_store(&io_mode, (int)io);
}

void rtp_sock_set_uring_buffers(unsigned n)
{
	unsigned p = 1;
	while (p < n && p < 32768u)
		p <<= 1;
	atomic_store(&io_nbuf, n ? p : URING_NBUF);
}

bool rtp_sock_thread_uses_uring(void)
{
	return uio_state == 1;
}

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

/* The kernel's arrival time (SCM_TIMESTAMPNS) if c carries it. */
static bool timestamp_of(const struct cmsghdr *c, struct timespec *out)
{
	if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
		return false;
	memcpy(out, CMSG_DATA(c), sizeof(*out));
	return true;
}

/* when the kernel queued a datagram (its SCM_TIMESTAMPNS, NULL = none), on the clock of now_ms
 * (now_real: CLOCK_REALTIME now) */
static uint64_t arrival_of(const struct timespec *ts, uint64_t now_ms,
			   const struct timespec *now_real)
{
	if (!ts)
		return now_ms;
	/* whole nanoseconds first: datagrams read together keep their order */
	int64_t age_ns = (int64_t)(now_real->tv_sec - ts->tv_sec) * 1000000000 +
			 (now_real->tv_nsec - ts->tv_nsec);
	if (age_ns <= 0)
		return now_ms;
	uint64_t age = (uint64_t)age_ns / 1000000u;
	return age < now_ms ? now_ms - age : 0;
}

static void sock_free(struct rtp_sock *s)
{
	void (*cb)(void *) = s->closed_cb;
	void *arg = s->closed_arg;
	if (s->slot >= 0) { /* out of the table before the fd goes, or the port stays taken */
		int none = -1;
		(void)io_uring_register_files_update(&s->u->ring, (unsigned)s->slot, &none, 1);
		s->u->free_slots[s->u->n_free++] = (uint32_t)s->slot;
	}
	if (s->u) {
		s->u->n_socks--;
		if (s->u->closing_wait == s) {
			s->u->closing_wait = NULL;
			s->u->closing_done = true;
		}
	}
	close(s->fd);
	free(s);
	if (cb)
		cb(arg);
}

/* Free a closing socket once nothing refers to it any more. */
static void maybe_free(struct rtp_sock *s)
{
	if (s->closing && !s->draining && !s->armed && !s->inflight && !s->rearm_queued)
		sock_free(s);
}

/* ---- io_uring ---- */

static void uio_destroy(struct uio *u)
{
	if (u->br)
		io_uring_queue_exit(&u->ring);
	free(u->free_slots);
	free(u->br);
	free(u->bufs);
	free(u->tx);
	free(u->txdata);
	free(u);
}

static void enter(struct uio *u, unsigned want);

/* Every completion posted now, ignored (the file table probe's own). */
static void drop_cqes(struct uio *u)
{
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0 && cqe)
		io_uring_cqe_seen(&u->ring, cqe);
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	if (getsockname(fd, (struct sockaddr *)&a, &len) != 0 || a.sin_family != AF_INET)
		return 0;
	return ntohs(a.sin_port);
}

/* Does taking a socket out of the file table let its port go at once, while other requests
 * stay in the kernel? On kernels that keep a removed entry until every request issued before
 * the change has ended it would not (our receives never end): the port of every closed leg
 * would stay taken. Tried once per ring on two loopback sockets: A and B in the table, a
 * receive armed on each, A's cancelled, A out of the table and closed, then A's port bound
 * again. */
static bool files_probe(struct uio *u)
{
	int fds[2] = {rtp_sock_bind("127.0.0.1", 0), rtp_sock_bind("127.0.0.1", 0)};
	bool ok = false;
	uint16_t port = fds[0] >= 0 ? port_of(fds[0]) : 0;
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_namelen = sizeof(struct sockaddr_in6);
	int none[2] = {-1, -1};
	if (fds[1] < 0 || !port || io_uring_register_files_update(&u->ring, 0, fds, 2) != 2)
		goto out;
	for (int i = 1; i >= 0; i--) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
		io_uring_prep_recvmsg_multishot(sqe, i, &mh, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT | IOSQE_FIXED_FILE;
		sqe->buf_group = URING_BGID;
		io_uring_sqe_set_data64(sqe, UD_CANCEL + 4u * (uint64_t)(i + 1));
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_cancel64(sqe, UD_CANCEL + 4u, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	enter(u, 2);
	drop_cqes(u);
	(void)io_uring_register_files_update(&u->ring, 0, none, 1);
	close(fds[0]);
	fds[0] = rtp_sock_bind("127.0.0.1", port);
	ok = fds[0] >= 0;
	sqe = io_uring_get_sqe(&u->ring);
	io_uring_prep_cancel64(sqe, UD_CANCEL + 8u, 0);
	io_uring_sqe_set_data64(sqe, UD_CANCEL);
	enter(u, 2);
	drop_cqes(u);
	(void)io_uring_register_files_update(&u->ring, 0, none, 2);
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return ok;
}

/* A sparse file table as large as the descriptor limit allows (at most 65536), if the probe
 * says closing works with it; else sockets are used by their fds. */
static void files_init(struct uio *u)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	unsigned n = rl.rlim_cur < 65536 ? (unsigned)rl.rlim_cur : 65536u;
	if (n < 64 || io_uring_register_files_sparse(&u->ring, n) != 0)
		return;
	if (!files_probe(u) || !(u->free_slots = malloc(n * sizeof(*u->free_slots)))) {
		SB_DEBUG("rtp", "no io_uring file table: sockets used by their descriptors");
		(void)io_uring_unregister_files(&u->ring);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		u->free_slots[i] = n - 1 - i; /* slot 0 on top */
	u->n_free = n;
}

static struct uio *uio_create(void)
{
	struct uio *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	/* deferred task work: the kernel reads the sockets only when this thread asks (once per
	 * tick), never interrupting it */
	static const unsigned flag_sets[] = {
	    IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
		IORING_SETUP_DEFER_TASKRUN,
	    IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
	    IORING_SETUP_CQSIZE,
	};
	int err = -EINVAL;
	for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]) && err == -EINVAL; i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		p.flags = flag_sets[i];
		p.cq_entries = URING_CQ;
		err = io_uring_queue_init_params(URING_SQ, &u->ring, &p);
	}
	if (err) {
		free(u);
		return NULL;
	}
	void *br = NULL;
	u->nbuf = atomic_load(&io_nbuf);
	u->bufs = malloc((size_t)u->nbuf * URING_BUFSZ);
	u->tx = malloc(TX_SLOTS0 * sizeof(*u->tx));
	u->txdata = malloc(TX_BYTES0);
	u->tx_cap = TX_SLOTS0;
	u->txdata_cap = TX_BYTES0;
	if (posix_memalign(&br, 4096, u->nbuf * sizeof(struct io_uring_buf)) || !u->bufs ||
	    !u->tx || !u->txdata) {
		free(br);
		io_uring_queue_exit(&u->ring);
		free(u->bufs);
		free(u->tx);
		free(u->txdata);
		free(u);
		return NULL;
	}
	u->br = br;
	struct io_uring_buf_reg reg;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br;
	reg.ring_entries = u->nbuf;
	reg.bgid = URING_BGID;
	if (io_uring_register_buf_ring(&u->ring, &reg, 0) != 0) {
		uio_destroy(u);
		return NULL;
	}
	io_uring_buf_ring_init(u->br);
	u->br_mask = (unsigned)io_uring_buf_ring_mask(u->nbuf);
	for (unsigned i = 0; i < u->nbuf; i++)
		io_uring_buf_ring_add(u->br, u->bufs + (size_t)i * URING_BUFSZ, URING_BUFSZ,
				      (unsigned short)i, (int)u->br_mask, (int)i);
	io_uring_buf_ring_advance(u->br, (int)u->nbuf);
	files_init(u);
	return u;
}

/* The calling thread's ring, created on first use; NULL = system calls on this thread. */
static struct uio *uio_get(void)
{
	if (uio_state == 0) {
		uio_state = -1;
		int mode = atomic_load(&io_mode);
		if (mode != RTP_SOCK_IO_SYSCALLS && (U = uio_create()) != NULL) {
			U->no_send_addr = mode == RTP_SOCK_IO_URING_SENDMSG;
			uio_state = 1;
		} else
			SB_DEBUG("rtp", "this thread reads and sends RTP with system calls");
	}
	return uio_state == 1 ? U : NULL;
}

static struct io_uring_sqe *get_sqe(struct uio *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) { /* full: hand the queue to the kernel (everything in it stays valid) */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* A request prepared on s->fd uses the socket's file table entry instead, when it has one. */
static void sqe_file(struct io_uring_sqe *sqe, const struct rtp_sock *s)
{
	if (s->slot >= 0) {
		sqe->fd = s->slot;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

static bool arm(struct uio *u, struct rtp_sock *s)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return false;
	io_uring_prep_recvmsg_multishot(sqe, s->fd, &s->mh, 0);
	sqe_file(sqe, s);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = URING_BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | UD_RECV);
	s->armed = true;
	return true;
}

static void queue_rearm(struct uio *u, struct rtp_sock *s)
{
	if (s->rearm_queued)
		return;
	s->rearm_queued = true;
	s->rearm_next = u->rearm_head;
	u->rearm_head = s;
}

/* Arm again every socket whose receive request ended (outside the reap: its buffers are back). */
static void rearm_pending(struct uio *u)
{
	struct rtp_sock *s = u->rearm_head;
	u->rearm_head = NULL;
	while (s) {
		struct rtp_sock *next = s->rearm_next;
		s->rearm_queued = false;
		if (s->closing)
			maybe_free(s);
		else if (!s->armed && !arm(u, s))
			queue_rearm(u, s);
		s = next;
	}
}

static void deliver(struct uio *u, struct rtp_sock *s, uint8_t *buf, int res)
{
	struct io_uring_recvmsg_out *o = io_uring_recvmsg_validate(buf, res, &s->mh);
	if (!o)
		return;
	s->st.rx_packets++;
	if (o->flags & MSG_TRUNC)
		return;
	uint8_t *data = io_uring_recvmsg_payload(o, &s->mh);
	size_t len = io_uring_recvmsg_payload_length(o, res, &s->mh);
	s->st.rx_bytes += len;
	const struct timespec *ts = NULL;
	struct timespec t;
	for (struct cmsghdr *c = io_uring_recvmsg_cmsg_firsthdr(o, &s->mh); c;
	     c = io_uring_recvmsg_cmsg_nexthdr(o, &s->mh, c))
		ts = timestamp_of(c, &t) ? &t : ts;
	socklen_t srclen = o->namelen < s->mh.msg_namelen ? o->namelen : s->mh.msg_namelen;
	s->draining = true;
	s->cb(s->arg, data, len, (const struct sockaddr *)io_uring_recvmsg_name(o), srclen,
	      arrival_of(ts, u->now_ms, &u->now_real));
	s->draining = false;
}

static void on_recv_cqe(struct uio *u, struct rtp_sock *s, const struct io_uring_cqe *cqe,
			unsigned *n_returned)
{
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		uint8_t *buf = u->bufs + (size_t)bid * URING_BUFSZ;
		if (cqe->res > 0 && !s->closing)
			deliver(u, s, buf, cqe->res);
		io_uring_buf_ring_add(u->br, buf, URING_BUFSZ, (unsigned short)bid, (int)u->br_mask,
				      (int)(*n_returned)++);
	}
	if (cqe->flags & IORING_CQE_F_MORE)
		return;
	s->armed = false;
	if (s->closing) {
		maybe_free(s);
	} else if (cqe->res == -EINVAL || cqe->res == -EOPNOTSUPP) {
		/* this kernel cannot read the socket this way: system calls for it from now on */
		SB_DEBUG("rtp", "multishot recvmsg refused (%d): socket read with recvmmsg",
			 cqe->res);
		s->uring = false;
	} else {
		queue_rearm(u, s); /* out of buffers (ENOBUFS), or another error */
	}
}

static void on_send_cqe(struct rtp_sock *s, struct uio *u, const struct io_uring_cqe *cqe)
{
	s->inflight--;
	u->tx_inflight--;
	if (cqe->res == -EINVAL && !u->no_send_addr) {
		/* a kernel before sends with a destination (6.0): sendmsg from now on (the
		 * datagrams of this batch are lost, counted as errors) */
		SB_DEBUG("rtp", "io_uring send with an address refused: sendmsg from now on");
		u->no_send_addr = true;
	}
	if (cqe->res >= 0) {
		s->st.tx_packets++;
		s->st.tx_bytes += (uint64_t)cqe->res;
	} else {
		s->st.tx_errors++;
	}
	maybe_free(s);
}

/* Every completion posted so far: datagrams to their callbacks, buffers back to the kernel.
 * Returns how many there were. */
static size_t reap(struct uio *u)
{
	if (u->reaping)
		return 0;
	u->reaping = true;
	unsigned n_returned = 0;
	size_t n = 0;
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0 && cqe) {
		n++;
		uint64_t ud = io_uring_cqe_get_data64(cqe);
		struct rtp_sock *s = (struct rtp_sock *)(uintptr_t)(ud & ~(uint64_t)UD_MASK);
		switch (ud & UD_MASK) {
		case UD_RECV:
			on_recv_cqe(u, s, cqe, &n_returned);
			break;
		case UD_SEND:
			on_send_cqe(s, u, cqe);
			break;
		default: /* a cancel's own completion: the request it ended reports separately */
			break;
		}
		io_uring_cqe_seen(&u->ring, cqe);
	}
	if (n_returned)
		io_uring_buf_ring_advance(u->br, (int)n_returned);
	u->reaping = false;
	return n;
}

/* Submit what is queued and have the kernel run up to `want` of the receives it deferred (one
 * per socket with datagrams waiting): with IORING_SETUP_DEFER_TASKRUN a plain get-events runs
 * at most 20 of them (kernel IO_LOCAL_TW_DEFAULT_MAX) and leaves the rest for later calls;
 * asking for `want` completions with a zero timeout runs up to that many and returns at once. */
static void enter(struct uio *u, unsigned want)
{
	struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 0};
	struct io_uring_cqe *cqe;
	io_uring_submit_and_wait_timeout(&u->ring, &cqe, want ? want : 1u, &ts, NULL);
}

/* Hand queued requests to the kernel, let it read the sockets, deliver. A quarter of the
 * buffers' worth of sockets per round, their buffers back before the next: so the kernel
 * seldom finds none left (a socket whose receive then ends with ENOBUFS is armed again, which
 * costs a round). Rounds until one comes back short, bounded. */
static void pump(struct uio *u, uint64_t now_ms)
{
	if (u->reaping)
		return;
	u->now_ms = now_ms;
	clock_gettime(CLOCK_REALTIME, &u->now_real);
	unsigned step = u->nbuf / 4 ? u->nbuf / 4 : 1u;
	size_t rounds = u->n_socks / step + 4;
	for (size_t round = 0; round < rounds && round < 64; round++) {
		rearm_pending(u);
		enter(u, step);
		size_t got = reap(u);
		if (got < step && !u->rearm_head)
			break;
	}
}

static void tx_grow(struct uio *u)
{
	u->tx_short = false;
	if (u->tx_inflight)
		return;
	struct tx_hdr *tx = realloc(u->tx, 2 * u->tx_cap * sizeof(*tx));
	if (tx) {
		u->tx = tx;
		u->tx_cap *= 2;
	}
	uint8_t *d = realloc(u->txdata, 2 * u->txdata_cap);
	if (d) {
		u->txdata = d;
		u->txdata_cap *= 2;
	}
}

/* Queue a send in the batch; false = no room (the caller sends it at once). */
static bool tx_queue(struct uio *u, struct rtp_sock *s, const void *data, size_t len,
		     const struct sockaddr *dst, socklen_t dstlen)
{
	if (dstlen > sizeof(struct sockaddr_in6))
		return false;
	/* full: what is queued leaves now (in order: a non-blocking send completes as it is
	 * submitted) and the rest of this batch goes out with sendto; the arrays grow before the
	 * next batch (reusing them now would mean waiting for completions, which runs the
	 * kernel's deferred receives in the middle of the tick) */
	if (u->tx_short)
		return false;
	if (u->tx_n == u->tx_cap || u->txdata_len + len > u->txdata_cap) {
		io_uring_submit(&u->ring);
		u->tx_short = true;
		return false;
	}
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return false;
	struct tx_hdr *h = &u->tx[u->tx_n++];
	uint8_t *bytes = u->txdata + u->txdata_len;
	u->txdata_len += (len + 15u) & ~(size_t)15u;
	memcpy(bytes, data, len);
	memcpy(&h->addr, dst, dstlen);
	/* MSG_DONTWAIT: a full socket buffer fails the send at once (a drop, as with sendto)
	 * instead of parking it in the kernel */
	if (!u->no_send_addr) {
		/* a send with its destination (sendto): no message header to copy in */
		io_uring_prep_send(sqe, s->fd, bytes, len, MSG_DONTWAIT);
		sqe->addr2 = (uint64_t)(uintptr_t)&h->addr;
		sqe->addr_len = (uint16_t)dstlen;
	} else {
		h->iov.iov_base = bytes;
		h->iov.iov_len = len;
		memset(&h->mh, 0, sizeof(h->mh));
		h->mh.msg_name = &h->addr;
		h->mh.msg_namelen = dstlen;
		h->mh.msg_iov = &h->iov;
		h->mh.msg_iovlen = 1;
		io_uring_prep_sendmsg(sqe, s->fd, &h->mh, MSG_DONTWAIT);
	}
	sqe_file(sqe, s);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)s | UD_SEND);
	s->inflight++;
	u->tx_inflight++;
	return true;
}

void rtp_sock_batch_begin(uint64_t now_ms)
{
	struct uio *u = uio_state == 1 ? U : NULL;
	if (!u)
		return;
	if (!u->tx_inflight) {
		if (u->tx_short)
			tx_grow(u);
		u->tx_n = 0;
		u->txdata_len = 0;
	}
	pump(u, now_ms);
	u->in_batch = true;
}

void rtp_sock_batch_end(void)
{
	struct uio *u = uio_state == 1 ? U : NULL;
	if (!u)
		return;
	u->in_batch = false;
	if (io_uring_sq_ready(&u->ring))
		io_uring_submit(&u->ring);
	reap(u); /* the sends completed as they were submitted: their slots are free again */
}

void rtp_sock_thread_exit(void)
{
	struct uio *u = uio_state == 1 ? U : NULL;
	uio_state = 0;
	U = NULL;
	if (!u)
		return;
	if (u->n_socks)
		SB_WARN("rtp", "%zu sockets still open at thread exit", u->n_socks);
	else
		uio_destroy(u);
}

/* ---- the socket ---- */

static void drain_syscalls(struct rtp_sock *s, uint64_t now_ms)
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
			const struct timespec *ts = NULL;
			struct timespec t;
			struct msghdr *h = &rx.msg[i].msg_hdr;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
				ts = timestamp_of(c, &t) ? &t : ts;
			s->cb(s->arg, rx.buf[i], len, (const struct sockaddr *)&rx.src[i],
			      rx.msg[i].msg_hdr.msg_namelen, arrival_of(ts, now_ms, &now_real));
		}
		if (n < RTP_SOCK_BATCH)
			break;
	}
	s->draining = false;
	if (s->closing) /* a callback closed it */
		maybe_free(s);
}

void rtp_sock_drain(struct rtp_sock *s, uint64_t now_ms)
{
	if (!s->uring) {
		drain_syscalls(s, now_ms);
		return;
	}
	struct uio *u = s->u;
	if (u->in_batch || u->reaping)
		return; /* the batch start delivered what had arrived */
	/* outside a batch: deliver what is queued on all of the thread's sockets; s may be closed
	 * by a callback meanwhile, and is not touched afterwards */
	pump(u, now_ms);
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
	s->slot = -1;
	struct uio *u = uio_get();
	if (u) {
		s->u = u;
		u->n_socks++;
		/* in the ring's file table, requests skip the kernel's per-request file lookup */
		if (u->n_free) {
			uint32_t idx = u->free_slots[--u->n_free];
			if (io_uring_register_files_update(&u->ring, idx, &fd, 1) == 1)
				s->slot = (int)idx;
			else
				u->free_slots[u->n_free++] = idx;
		}
		/* reserved in each buffer: an IPv6 source rounded up to 8, so the control message
		 * after it is aligned for struct cmsghdr */
		s->mh.msg_namelen = (sizeof(struct sockaddr_in6) + 7u) & ~7u;
		s->mh.msg_controllen = CTL_LEN;
		s->uring = true;
		if (!arm(u, s))
			queue_rearm(u, s);
	}
	*out = s;
	return 0;
}

void rtp_sock_close(struct rtp_sock *s, void (*cb)(void *arg), void *arg)
{
	s->closed_cb = cb;
	s->closed_arg = arg;
	s->closing = true;
	struct uio *u = s->u;
	if (!u || !s->armed) {
		maybe_free(s);
		return;
	}
	/* end the receive request; the socket is freed when its last completion arrives */
	struct io_uring_sqe *sqe = get_sqe(u);
	if (sqe) {
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)s | UD_RECV, 0);
		io_uring_sqe_set_data64(sqe, UD_CANCEL);
	}
	if (u->reaping || s->draining)
		return; /* the read in progress (or a later one) finishes it */
	u->closing_wait = s;
	u->closing_done = false;
	for (int i = 0; i < 8 && !u->closing_done; i++) {
		enter(u, u->nbuf / 4);
		reap(u);
	}
	u->closing_wait = NULL; /* if still there, a later read frees it */
}

int rtp_sock_send(struct rtp_sock *s, const void *data, size_t len, const struct sockaddr *dst,
		  socklen_t dstlen)
{
	struct uio *u = s->u;
	if (u && u->in_batch && tx_queue(u, s, data, len, dst, dstlen))
		return 0;
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
