/* UDP, TCP and TLS transports on the control loop's libuv handles.
 * Streams are framed by sip_msg_parse in stream mode; TLS runs OpenSSL over memory BIOs. */
#include "sip/transport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/err.h"
#include "base/log.h"

#define UDP_MMSG_COUNT 16
#define UDP_DGRAM_MAX  65536
#define MAX_LISTENERS  8

struct udp_listener {
	uv_udp_t handle;
	struct sip_transport *tp;
	struct sockaddr_storage local;
	char *rxbuf;
};

struct tcp_listener {
	uv_tcp_t handle;
	struct sip_transport *tp;
	enum sip_tp_type type;
	struct sockaddr_storage local;
};

struct sip_conn {
	uv_tcp_t handle;
	struct sip_transport *tp;
	enum sip_tp_type type;
	struct sockaddr_storage peer;
	struct sockaddr_storage local;
	struct sip_conn *next;
	bool connected;
	bool closing;
	bool outbound;
	uint64_t last_active;
	/* received bytes not yet framed (plain text after TLS) */
	char *rx;
	size_t rx_len, rx_cap;
	/* bytes waiting for connect or TLS handshake (plain text) */
	char *pending;
	size_t pending_len;
	SSL *ssl;
	BIO *rbio, *wbio;
};

struct sip_transport {
	uv_loop_t *loop;
	struct sip_transport_handlers handlers;
	void *arg;
	uint32_t idle_ms;
	size_t max_msg;
	struct udp_listener *udp[MAX_LISTENERS];
	size_t nudp;
	struct tcp_listener *tcp[MAX_LISTENERS];
	size_t ntcp;
	struct sip_conn *conns;
	uv_timer_t sweep;
	SSL_CTX *tls_server;
	SSL_CTX *tls_client;
	struct sip_msg msg; /* scratch: one message is handled at a time on this loop */
	struct sip_transport_stats stats;
	size_t open_handles;
	void (*close_cb)(void *arg);
	void *close_arg;
	bool closing;
	struct sip_msg_counters counters; /* by method and status (sip_transport_counters) */
};

const char *sip_tp_name(enum sip_tp_type t)
{
	switch (t) {
	case SIP_TP_UDP:
		return "UDP";
	case SIP_TP_TCP:
		return "TCP";
	case SIP_TP_TLS:
		return "TLS";
	}
	return "UDP";
}

const char *sip_sockaddr_ip(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)ss)->sin6_addr,
			  buf, (socklen_t)cap);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ss)->sin_addr, buf,
			  (socklen_t)cap);
	return buf;
}

uint16_t sip_sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)(const void *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)(const void *)ss)->sin_port);
}

int sip_sockaddr_set(struct sockaddr_storage *ss, struct sb_slice host, uint16_t port)
{
	char tmp[INET6_ADDRSTRLEN + 2];
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']')
		host = sb_slice(host.p + 1, host.len - 2);
	if (host.len == 0 || host.len >= sizeof(tmp))
		return SB_EINVAL;
	sb_slice_copy(host, tmp, sizeof(tmp));
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;
	if (inet_pton(AF_INET, tmp, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		return 0;
	}
	return SB_EINVAL;
}

bool sip_sockaddr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
	}
	return false;
}

bool sip_sockaddr_is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;
		return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;
		if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
			return true;
		if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
			return s->sin6_addr.s6_addr[12] == 127;
	}
	return false;
}

/* ---- counters ---- */

static void count_status(struct sip_msg_counters *c, enum sip_count_dir dir, int status)
{
	if (status >= SIP_COUNT_STATUS_MIN && status <= SIP_COUNT_STATUS_MAX)
		c->responses[dir][status - SIP_COUNT_STATUS_MIN]++;
}

static void count_rx(struct sip_transport *tp, const struct sip_msg *m)
{
	if (m->is_request)
		tp->counters.requests[SIP_COUNT_RX][m->method]++;
	else
		count_status(&tp->counters, SIP_COUNT_RX, m->status);
}

void sip_msg_counters_add_raw(struct sip_msg_counters *c, enum sip_count_dir dir,
			      struct sb_slice bytes)
{
	const char *p = bytes.p;
	size_t n = bytes.len;
	if (n >= 8 && !memcmp(p, "SIP/2.0 ", 8)) {
		if (n < 12 || p[11] != ' ')
			return;
		int status = 0;
		for (size_t i = 8; i < 11; i++) {
			if (p[i] < '0' || p[i] > '9')
				return;
			status = status * 10 + (p[i] - '0');
		}
		count_status(c, dir, status);
		return;
	}
	size_t len = 0;
	while (len < n && len < 32 && p[len] != ' ')
		len++;
	if (len == 0 || len == n || p[len] != ' ')
		return;
	c->requests[dir][sip_method_from(sb_slice(p, len))]++;
}

void sip_transport_counters(const struct sip_transport *tp, struct sip_msg_counters *out)
{
	*out = tp->counters;
}

/* ---- delivery ---- */

static void deliver(struct sip_transport *tp, const char *p, size_t len, const struct sip_dest *src,
		    const struct sockaddr_storage *local)
{
	struct sip_rx rx = {.msg = &tp->msg, .err = 0, .src = *src, .local = *local};
	int n = sip_msg_parse(&tp->msg, p, len, SIP_PARSE_DATAGRAM);
	if (n < 0) {
		rx.err = n;
		tp->stats.rx_malformed++;
	} else {
		count_rx(tp, &tp->msg);
	}
	tp->stats.rx_msgs++;
	tp->handlers.recv(tp, &rx, tp->arg);
}

static bool only_crlf(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

/* ---- UDP ---- */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct udp_listener *l = h->data;
	buf->base = l->rxbuf;
	buf->len = UDP_MMSG_COUNT * UDP_DGRAM_MAX;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
		     unsigned flags)
{
	struct udp_listener *l = h->data;
	(void)flags;
	if (nread <= 0 || !addr)
		return;
	if (only_crlf(buf->base, (size_t)nread))
		return; /* keep-alive */
	struct sip_dest src = {.type = SIP_TP_UDP, .conn = NULL};
	memset(&src.addr, 0, sizeof(src.addr));
	memcpy(&src.addr, addr,
	       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					   : sizeof(struct sockaddr_in));
	deliver(l->tp, buf->base, (size_t)nread, &src, &l->local);
}

static void handle_closed(uv_handle_t *h);
static void tp_handle_gone(struct sip_transport *tp);

static int listen_udp(struct sip_transport *tp, const struct sockaddr_storage *ss)
{
	if (tp->nudp == MAX_LISTENERS)
		return SB_ENORES;
	struct udp_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return SB_ENOMEM;
	l->rxbuf = malloc(UDP_MMSG_COUNT * UDP_DGRAM_MAX);
	if (!l->rxbuf) {
		free(l);
		return SB_ENOMEM;
	}
	l->tp = tp;
	int r = uv_udp_init_ex(tp->loop, &l->handle, ss->ss_family | UV_UDP_RECVMMSG);
	if (r) {
		free(l->rxbuf);
		free(l);
		return SB_EIO;
	}
	l->handle.data = l;
	tp->open_handles++;
	r = uv_udp_bind(&l->handle, (const struct sockaddr *)ss,
			ss->ss_family == AF_INET6 ? UV_UDP_IPV6ONLY : 0);
	if (r) {
		SB_ERROR("sip", "UDP bind failed: %s", uv_strerror(r));
		uv_close((uv_handle_t *)&l->handle, handle_closed);
		return SB_EIO;
	}
	int sz = 4 * 1024 * 1024;
	uv_recv_buffer_size((uv_handle_t *)&l->handle, &sz);
	sz = 4 * 1024 * 1024;
	uv_send_buffer_size((uv_handle_t *)&l->handle, &sz);
	int namelen = sizeof(l->local);
	uv_udp_getsockname(&l->handle, (struct sockaddr *)&l->local, &namelen);
	r = uv_udp_recv_start(&l->handle, udp_alloc, udp_recv);
	if (r) {
		uv_close((uv_handle_t *)&l->handle, handle_closed);
		return SB_EIO;
	}
	tp->udp[tp->nudp++] = l;
	return 0;
}

static struct udp_listener *udp_for(struct sip_transport *tp, int family)
{
	for (size_t i = 0; i < tp->nudp; i++)
		if (tp->udp[i]->local.ss_family == family)
			return tp->udp[i];
	return NULL;
}

static int send_udp(struct sip_transport *tp, const struct sip_dest *dst, struct sb_slice bytes)
{
	struct udp_listener *l = udp_for(tp, dst->addr.ss_family);
	if (!l)
		return SB_EUNSUPPORTED;
	uv_buf_t b = uv_buf_init((char *)bytes.p, (unsigned)bytes.len);
	int r = uv_udp_try_send(&l->handle, &b, 1, (const struct sockaddr *)&dst->addr);
	if (r < 0) {
		tp->stats.tx_errors++;
		return SB_EIO;
	}
	tp->stats.tx_msgs++;
	return 0;
}

/* ---- streams ---- */

static void conn_close(struct sip_conn *c);
static void conn_flush_tls(struct sip_conn *c);

static void conn_write_done(uv_write_t *req, int status)
{
	(void)status;
	free(req->data);
	free(req);
}

/* Write raw (already encrypted, for TLS) bytes to the socket. */
static int conn_write_raw(struct sip_conn *c, const char *p, size_t len)
{
	if (c->closing)
		return SB_ECLOSED;
	uv_buf_t b = uv_buf_init((char *)p, (unsigned)len);
	int n = uv_try_write((uv_stream_t *)&c->handle, &b, 1);
	if (n == (int)len)
		return 0;
	if (n < 0 && n != UV_EAGAIN) {
		conn_close(c);
		return SB_EIO;
	}
	size_t done = n > 0 ? (size_t)n : 0;
	uv_write_t *req = malloc(sizeof(*req));
	char *copy = malloc(len - done);
	if (!req || !copy) {
		free(req);
		free(copy);
		return SB_ENOMEM;
	}
	memcpy(copy, p + done, len - done);
	req->data = copy;
	b = uv_buf_init(copy, (unsigned)(len - done));
	if (uv_write(req, (uv_stream_t *)&c->handle, &b, 1, conn_write_done)) {
		free(copy);
		free(req);
		conn_close(c);
		return SB_EIO;
	}
	return 0;
}

static int pending_append(struct sip_conn *c, struct sb_slice bytes)
{
	char *np = realloc(c->pending, c->pending_len + bytes.len);
	if (!np)
		return SB_ENOMEM;
	memcpy(np + c->pending_len, bytes.p, bytes.len);
	c->pending = np;
	c->pending_len += bytes.len;
	return 0;
}

static int conn_send(struct sip_conn *c, struct sb_slice bytes)
{
	if (!c->connected || (c->ssl && !SSL_is_init_finished(c->ssl)))
		return pending_append(c, bytes);
	if (c->ssl) {
		int n = SSL_write(c->ssl, bytes.p, (int)bytes.len);
		if (n <= 0) {
			conn_close(c);
			return SB_EIO;
		}
		conn_flush_tls(c);
		return 0;
	}
	return conn_write_raw(c, bytes.p, bytes.len);
}

static void conn_flush_tls(struct sip_conn *c)
{
	char out[16384];
	int n;
	while ((n = BIO_read(c->wbio, out, sizeof(out))) > 0)
		if (conn_write_raw(c, out, (size_t)n))
			return;
}

static void conn_send_pending(struct sip_conn *c)
{
	if (!c->pending_len)
		return;
	char *p = c->pending;
	size_t len = c->pending_len;
	c->pending = NULL;
	c->pending_len = 0;
	conn_send(c, sb_slice(p, len));
	free(p);
}

static void conn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	(void)suggested;
	static char scratch[65536];
	buf->base = scratch;
	buf->len = sizeof(scratch);
}

/* Append plain bytes and deliver every complete message. */
static void conn_feed(struct sip_conn *c, const char *p, size_t len)
{
	struct sip_transport *tp = c->tp;
	if (c->rx_len + len > c->rx_cap) {
		size_t ncap = c->rx_cap ? c->rx_cap : 4096;
		while (ncap < c->rx_len + len)
			ncap *= 2;
		if (ncap > tp->max_msg * 2 + 65536) {
			SB_WARN("sip", "stream buffer limit exceeded, closing connection");
			conn_close(c);
			return;
		}
		char *n = realloc(c->rx, ncap);
		if (!n) {
			conn_close(c);
			return;
		}
		c->rx = n;
		c->rx_cap = ncap;
	}
	memcpy(c->rx + c->rx_len, p, len);
	c->rx_len += len;

	size_t off = 0;
	while (off < c->rx_len && !c->closing) {
		/* RFC 5626 keep-alive: CRLFCRLF ping answered by CRLF pong; stray CRLFs skipped. */
		if (c->rx[off] == '\r' || c->rx[off] == '\n') {
			if (c->rx_len - off >= 4 && memcmp(c->rx + off, "\r\n\r\n", 4) == 0) {
				conn_send(c, SB_SLICE_LIT("\r\n"));
				off += 4;
			} else {
				off++;
			}
			continue;
		}
		int n = sip_msg_parse(&tp->msg, c->rx + off, c->rx_len - off, SIP_PARSE_STREAM);
		if (n == SB_EAGAIN) {
			if (c->rx_len - off > tp->max_msg) {
				SB_WARN("sip", "message over %zu bytes on stream, closing",
					tp->max_msg);
				conn_close(c);
				return;
			}
			break;
		}
		struct sip_rx rx = {.msg = &tp->msg, .err = n < 0 ? n : 0, .local = c->local};
		rx.src.type = c->type;
		rx.src.addr = c->peer;
		rx.src.conn = c;
		tp->stats.rx_msgs++;
		if (n < 0) {
			/* Framing is lost: answer what can be answered, then close. */
			tp->stats.rx_malformed++;
			tp->handlers.recv(tp, &rx, tp->arg);
			conn_close(c);
			return;
		}
		count_rx(tp, &tp->msg);
		tp->handlers.recv(tp, &rx, tp->arg);
		off += (size_t)n;
	}
	if (off && !c->closing) {
		memmove(c->rx, c->rx + off, c->rx_len - off);
		c->rx_len -= off;
	}
}

static void conn_tls_pump(struct sip_conn *c)
{
	if (!SSL_is_init_finished(c->ssl)) {
		int r = SSL_do_handshake(c->ssl);
		conn_flush_tls(c);
		if (r != 1) {
			int e = SSL_get_error(c->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				SB_WARN("sip", "TLS handshake failed");
				ERR_clear_error();
				conn_close(c);
			}
			return;
		}
		conn_send_pending(c);
	}
	char plain[16384];
	for (;;) {
		int n = SSL_read(c->ssl, plain, sizeof(plain));
		if (n <= 0) {
			int e = SSL_get_error(c->ssl, n);
			conn_flush_tls(c);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
				ERR_clear_error();
				conn_close(c);
			}
			return;
		}
		conn_feed(c, plain, (size_t)n);
		if (c->closing)
			return;
	}
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct sip_conn *c = s->data;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	if (nread == 0)
		return;
	c->last_active = uv_now(c->tp->loop);
	if (c->ssl) {
		BIO_write(c->rbio, buf->base, (int)nread);
		conn_tls_pump(c);
	} else {
		conn_feed(c, buf->base, (size_t)nread);
	}
}

static void tp_handle_gone(struct sip_transport *tp)
{
	tp->open_handles--;
	if (tp->closing && tp->open_handles == 0) {
		void (*cb)(void *) = tp->close_cb;
		void *arg = tp->close_arg;
		if (tp->tls_server)
			SSL_CTX_free(tp->tls_server);
		if (tp->tls_client)
			SSL_CTX_free(tp->tls_client);
		free(tp);
		if (cb)
			cb(arg);
	}
}

static void handle_closed(uv_handle_t *h)
{
	struct sip_transport *tp;
	if (h->type == UV_UDP) {
		struct udp_listener *l = h->data;
		tp = l->tp;
		free(l->rxbuf);
		free(l);
	} else if (h->type == UV_TIMER) {
		tp = h->data;
	} else {
		struct tcp_listener *l = h->data;
		tp = l->tp;
		free(l);
	}
	tp_handle_gone(tp);
}

static void conn_freed(uv_handle_t *h)
{
	struct sip_conn *c = h->data;
	struct sip_transport *tp = c->tp;
	if (c->ssl)
		SSL_free(c->ssl);
	free(c->rx);
	free(c->pending);
	free(c);
	tp_handle_gone(tp);
}

static void conn_close(struct sip_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	struct sip_transport *tp = c->tp;
	for (struct sip_conn **pp = &tp->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	tp->stats.conns_open--;
	uv_close((uv_handle_t *)&c->handle, conn_freed);
}

static struct sip_conn *conn_new(struct sip_transport *tp, enum sip_tp_type type, bool outbound)
{
	struct sip_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->tp = tp;
	c->type = type;
	c->outbound = outbound;
	if (uv_tcp_init(tp->loop, &c->handle)) {
		free(c);
		return NULL;
	}
	c->handle.data = c;
	tp->open_handles++;
	if (type == SIP_TP_TLS) {
		SSL_CTX *ctx = outbound ? tp->tls_client : tp->tls_server;
		c->ssl = ctx ? SSL_new(ctx) : NULL;
		c->rbio = BIO_new(BIO_s_mem());
		c->wbio = BIO_new(BIO_s_mem());
		if (!c->ssl || !c->rbio || !c->wbio) {
			if (c->rbio)
				BIO_free(c->rbio);
			if (c->wbio)
				BIO_free(c->wbio);
			if (c->ssl)
				SSL_free(c->ssl);
			c->ssl = NULL;
			c->closing = true;
			uv_close((uv_handle_t *)&c->handle, conn_freed);
			return NULL;
		}
		SSL_set_bio(c->ssl, c->rbio, c->wbio);
		if (outbound)
			SSL_set_connect_state(c->ssl);
		else
			SSL_set_accept_state(c->ssl);
	}
	c->last_active = uv_now(tp->loop);
	c->next = tp->conns;
	tp->conns = c;
	tp->stats.conns_open++;
	return c;
}

static void conn_started(struct sip_conn *c)
{
	int namelen = sizeof(c->local);
	uv_tcp_getsockname(&c->handle, (struct sockaddr *)&c->local, &namelen);
	uv_tcp_nodelay(&c->handle, 1);
	c->connected = true;
	uv_read_start((uv_stream_t *)&c->handle, conn_alloc, conn_read);
	if (c->ssl)
		conn_tls_pump(c); /* client: sends ClientHello */
	else
		conn_send_pending(c);
}

static void on_accept(uv_stream_t *server, int status)
{
	struct tcp_listener *l = server->data;
	if (status < 0)
		return;
	struct sip_conn *c = conn_new(l->tp, l->type, false);
	if (!c)
		return;
	if (uv_accept(server, (uv_stream_t *)&c->handle)) {
		conn_close(c);
		return;
	}
	int namelen = sizeof(c->peer);
	uv_tcp_getpeername(&c->handle, (struct sockaddr *)&c->peer, &namelen);
	conn_started(c);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct sip_conn *c = req->data;
	free(req);
	if (status < 0) {
		if (status != UV_ECANCELED) {
			SB_WARN("sip", "connect failed: %s", uv_strerror(status));
			conn_close(c);
		}
		return;
	}
	if (c->closing)
		return;
	conn_started(c);
}

static int listen_stream(struct sip_transport *tp, enum sip_tp_type type,
			 const struct sockaddr_storage *ss)
{
	if (tp->ntcp == MAX_LISTENERS)
		return SB_ENORES;
	if (type == SIP_TP_TLS && !tp->tls_server)
		return SB_EINVAL;
	struct tcp_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return SB_ENOMEM;
	l->tp = tp;
	l->type = type;
	if (uv_tcp_init(tp->loop, &l->handle)) {
		free(l);
		return SB_EIO;
	}
	l->handle.data = l;
	tp->open_handles++;
	int r = uv_tcp_bind(&l->handle, (const struct sockaddr *)ss,
			    ss->ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0);
	if (!r)
		r = uv_listen((uv_stream_t *)&l->handle, 1024, on_accept);
	if (r) {
		SB_ERROR("sip", "%s listen failed: %s", sip_tp_name(type), uv_strerror(r));
		uv_close((uv_handle_t *)&l->handle, handle_closed);
		return SB_EIO;
	}
	int namelen = sizeof(l->local);
	uv_tcp_getsockname(&l->handle, (struct sockaddr *)&l->local, &namelen);
	tp->tcp[tp->ntcp++] = l;
	return 0;
}

static struct sip_conn *conn_find(struct sip_transport *tp, enum sip_tp_type type,
				  const struct sockaddr_storage *addr)
{
	for (struct sip_conn *c = tp->conns; c; c = c->next)
		if (c->type == type && !c->closing && sip_sockaddr_equal(&c->peer, addr))
			return c;
	return NULL;
}

static int send_stream(struct sip_transport *tp, const struct sip_dest *dst, struct sb_slice bytes)
{
	struct sip_conn *c = NULL;
	/* A borrowed conn pointer may be stale: only trust it if still listed. */
	if (dst->conn)
		for (struct sip_conn *x = tp->conns; x; x = x->next)
			if (x == dst->conn && !x->closing)
				c = x;
	if (!c)
		c = conn_find(tp, dst->type, &dst->addr);
	if (!c) {
		if (dst->type == SIP_TP_TLS && !tp->tls_client)
			return SB_EUNSUPPORTED;
		c = conn_new(tp, dst->type, true);
		if (!c)
			return SB_ENOMEM;
		c->peer = dst->addr;
		uv_connect_t *req = malloc(sizeof(*req));
		if (!req) {
			conn_close(c);
			return SB_ENOMEM;
		}
		req->data = c;
		if (uv_tcp_connect(req, &c->handle, (const struct sockaddr *)&dst->addr,
				   on_connect)) {
			free(req);
			conn_close(c);
			return SB_EIO;
		}
	}
	c->last_active = uv_now(tp->loop);
	int r = conn_send(c, bytes);
	if (r)
		tp->stats.tx_errors++;
	else
		tp->stats.tx_msgs++;
	return r;
}

/* ---- lifecycle ---- */

static void sweep_idle(uv_timer_t *t)
{
	struct sip_transport *tp = t->data;
	uint64_t now = uv_now(tp->loop);
	struct sip_conn *c = tp->conns;
	while (c) {
		struct sip_conn *next = c->next;
		if (now - c->last_active > tp->idle_ms)
			conn_close(c);
		c = next;
	}
}

static SSL_CTX *tls_ctx(const struct sip_transport_opts *o, bool server)
{
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (server) {
		if (SSL_CTX_use_certificate_chain_file(ctx, o->tls_cert_file) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, o->tls_key_file, SSL_FILETYPE_PEM) != 1) {
			SB_ERROR("sip", "cannot load TLS certificate %s / key %s", o->tls_cert_file,
				 o->tls_key_file);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (o->tls_ca_file) {
		SSL_CTX_load_verify_locations(ctx, o->tls_ca_file, NULL);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	return ctx;
}

int sip_transport_new(struct sip_transport **out, const struct sip_transport_opts *o)
{
	struct sip_transport *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return SB_ENOMEM;
	tp->loop = o->loop;
	tp->handlers = *o->handlers;
	tp->arg = o->arg;
	tp->idle_ms = o->tcp_idle_timeout_ms ? o->tcp_idle_timeout_ms : 120000;
	tp->max_msg = o->stream_max_message ? o->stream_max_message : SIP_MAX_MESSAGE;
	if (o->tls_cert_file && o->tls_key_file) {
		tp->tls_server = tls_ctx(o, true);
		if (!tp->tls_server) {
			free(tp);
			return SB_EINVAL;
		}
	}
	tp->tls_client = tls_ctx(o, false);
	uv_timer_init(tp->loop, &tp->sweep);
	tp->sweep.data = tp;
	tp->open_handles++;
	uint64_t every = tp->idle_ms / 4 ? tp->idle_ms / 4 : 1;
	uv_timer_start(&tp->sweep, sweep_idle, every, every);
	uv_unref((uv_handle_t *)&tp->sweep);
	*out = tp;
	return 0;
}

int sip_transport_listen(struct sip_transport *tp, enum sip_tp_type type, const char *host,
			 uint16_t port)
{
	struct sockaddr_storage ss;
	if (sip_sockaddr_set(&ss, sb_slice_cstr(host), port))
		return SB_EINVAL;
	return type == SIP_TP_UDP ? listen_udp(tp, &ss) : listen_stream(tp, type, &ss);
}

uint16_t sip_transport_local_port(const struct sip_transport *tp, enum sip_tp_type type)
{
	if (type == SIP_TP_UDP)
		return tp->nudp ? sip_sockaddr_port(&tp->udp[0]->local) : 0;
	for (size_t i = 0; i < tp->ntcp; i++)
		if (tp->tcp[i]->type == type)
			return sip_sockaddr_port(&tp->tcp[i]->local);
	return 0;
}

int sip_transport_local_addr(const struct sip_transport *tp, enum sip_tp_type type, int family,
			     struct sockaddr_storage *out)
{
	if (type == SIP_TP_UDP) {
		for (size_t i = 0; i < tp->nudp; i++)
			if (tp->udp[i]->local.ss_family == family || family == AF_UNSPEC) {
				*out = tp->udp[i]->local;
				return 0;
			}
		return SB_ENOTFOUND;
	}
	for (size_t i = 0; i < tp->ntcp; i++)
		if (tp->tcp[i]->type == type &&
		    (tp->tcp[i]->local.ss_family == family || family == AF_UNSPEC)) {
			*out = tp->tcp[i]->local;
			return 0;
		}
	return SB_ENOTFOUND;
}

int sip_transport_send(struct sip_transport *tp, const struct sip_dest *dst, struct sb_slice bytes)
{
	if (tp->closing)
		return SB_ECLOSED;
	int r = dst->type == SIP_TP_UDP ? send_udp(tp, dst, bytes) : send_stream(tp, dst, bytes);
	if (r == 0)
		sip_msg_counters_add_raw(&tp->counters, SIP_COUNT_TX, bytes);
	return r;
}

void sip_transport_close(struct sip_transport *tp, void (*cb)(void *arg), void *arg)
{
	tp->closing = true;
	tp->close_cb = cb;
	tp->close_arg = arg;
	while (tp->conns)
		conn_close(tp->conns);
	for (size_t i = 0; i < tp->nudp; i++)
		uv_close((uv_handle_t *)&tp->udp[i]->handle, handle_closed);
	for (size_t i = 0; i < tp->ntcp; i++)
		uv_close((uv_handle_t *)&tp->tcp[i]->handle, handle_closed);
	tp->nudp = tp->ntcp = 0;
	uv_close((uv_handle_t *)&tp->sweep, handle_closed);
}

void sip_transport_stats(const struct sip_transport *tp, struct sip_transport_stats *out)
{
	*out = tp->stats;
}
