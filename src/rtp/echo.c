/* Echo socket: each received datagram is sent back to its source at once. */
#include "rtp/echo.h"

#include <stdlib.h>

#include "base/err.h"

struct rtp_echo {
	uv_udp_t handle;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	uint64_t packets;
	bool active;
	char buf[2048];
};

static void echo_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct rtp_echo *e = h->data;
	buf->base = e->buf;
	buf->len = sizeof(e->buf);
}

static void echo_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
		      unsigned flags)
{
	(void)flags;
	struct rtp_echo *e = h->data;
	if (nread <= 0 || !addr || !e->active)
		return;
	e->packets++;
	uv_buf_t out = uv_buf_init(buf->base, (unsigned)nread);
	uv_udp_try_send(h, &out, 1, addr);
}

static void echo_closed(uv_handle_t *h)
{
	struct rtp_echo *e = h->data;
	if (e->closed_cb)
		e->closed_cb(e->closed_arg);
	free(e);
}

int rtp_echo_new(struct rtp_echo **out, uv_loop_t *loop, const char *ip, uint16_t port)
{
	struct rtp_echo *e = calloc(1, sizeof(*e));
	if (!e)
		return SB_ENOMEM;
	struct sockaddr_storage ss;
	int r = uv_ip4_addr(ip, port, (struct sockaddr_in *)(void *)&ss);
	if (r)
		r = uv_ip6_addr(ip, port, (struct sockaddr_in6 *)(void *)&ss);
	if (r || uv_udp_init(loop, &e->handle)) {
		free(e);
		return SB_EINVAL;
	}
	e->handle.data = e;
	if (uv_udp_bind(&e->handle, (const struct sockaddr *)&ss, 0) ||
	    uv_udp_recv_start(&e->handle, echo_alloc, echo_recv)) {
		uv_close((uv_handle_t *)&e->handle, echo_closed);
		return SB_EIO;
	}
	e->active = true;
	*out = e;
	return 0;
}

void rtp_echo_set_active(struct rtp_echo *e, bool active)
{
	e->active = active;
	if (active)
		e->packets = 0;
}

void rtp_echo_close(struct rtp_echo *e, void (*cb)(void *arg), void *arg)
{
	e->closed_cb = cb;
	e->closed_arg = arg;
	uv_close((uv_handle_t *)&e->handle, echo_closed);
}

uint64_t rtp_echo_packets(const struct rtp_echo *e)
{
	return e->packets;
}
