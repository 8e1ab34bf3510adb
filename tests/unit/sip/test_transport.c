/* Tests of src/sip/transport.c over loopback: UDP datagrams, TCP framing at every byte
 * boundary, two messages in one segment, keep-alive ping/pong, oversized and malformed input. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "sip/transport.h"

static const char OPTIONS_MSG[] = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-1\r\n"
				  "From: <sip:b@127.0.0.1>;tag=1\r\n"
				  "To: <sip:a@127.0.0.1>\r\n"
				  "Call-ID: t1\r\n"
				  "CSeq: 1 OPTIONS\r\n"
				  "Content-Length: 4\r\n"
				  "\r\n"
				  "body";

struct rx_log {
	int msgs, malformed;
	size_t last_body;
	enum sip_tp_type last_type;
};

static uv_loop_t loop;
static struct sip_transport *tp;
static struct rx_log rx;
static int closed;

static void on_recv(struct sip_transport *t, const struct sip_rx *r, void *arg)
{
	(void)t;
	(void)arg;
	if (r->err) {
		rx.malformed++;
		return;
	}
	rx.msgs++;
	rx.last_body = r->msg->body.len;
	rx.last_type = r->src.type;
}

static const struct sip_transport_handlers handlers = {.recv = on_recv};

static void on_closed(void *arg)
{
	(void)arg;
	closed = 1;
}

static int setup(void **state)
{
	(void)state;
	sb_log_set_level(SB_LOG_ERROR);
	memset(&rx, 0, sizeof(rx));
	closed = 0;
	uv_loop_init(&loop);
	struct sip_transport_opts o = {
	    .loop = &loop, .handlers = &handlers, .stream_max_message = 4096};
	if (sip_transport_new(&tp, &o))
		return -1;
	if (sip_transport_listen(tp, SIP_TP_UDP, "127.0.0.1", 0) ||
	    sip_transport_listen(tp, SIP_TP_TCP, "127.0.0.1", 0))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sip_transport_close(tp, on_closed, NULL);
	while (!closed)
		uv_run(&loop, UV_RUN_ONCE);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	return 0;
}

/* Let the loop work for a while without blocking forever. */
static void spin(int turns)
{
	for (int i = 0; i < turns; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
}

static int tcp_client(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(sip_transport_local_port(tp, SIP_TP_TCP))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	spin(5);
	return fd;
}

static void test_udp_datagram(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(sip_transport_local_port(tp, SIP_TP_UDP))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	sendto(fd, OPTIONS_MSG, sizeof(OPTIONS_MSG) - 1, 0, (struct sockaddr *)&a, sizeof(a));
	sendto(fd, "\r\n\r\n", 4, 0, (struct sockaddr *)&a, sizeof(a)); /* keep-alive: ignored */
	sendto(fd, "garbage", 7, 0, (struct sockaddr *)&a, sizeof(a));
	for (int i = 0; i < 200 && rx.msgs + rx.malformed < 2; i++)
		spin(1);
	close(fd);
	assert_int_equal(rx.msgs, 1);
	assert_int_equal(rx.malformed, 1);
	assert_int_equal(rx.last_body, 4);
	assert_int_equal(rx.last_type, SIP_TP_UDP);
}

static void test_tcp_every_split(void **state)
{
	(void)state;
	size_t len = sizeof(OPTIONS_MSG) - 1;
	int fd = tcp_client();
	/* The message cut at every byte boundary arrives whole, once per cut. */
	for (size_t cut = 1; cut < len; cut += 7) {
		assert_int_equal(send(fd, OPTIONS_MSG, cut, 0), (ssize_t)cut);
		spin(3);
		assert_int_equal(send(fd, OPTIONS_MSG + cut, len - cut, 0), (ssize_t)(len - cut));
		spin(3);
	}
	int want = (int)((len - 2) / 7 + 1);
	for (int i = 0; i < 200 && rx.msgs < want; i++)
		spin(1);
	assert_int_equal(rx.msgs, want);
	assert_int_equal(rx.malformed, 0);
	assert_int_equal(rx.last_type, SIP_TP_TCP);
	close(fd);
}

static void test_tcp_two_in_one_and_ping(void **state)
{
	(void)state;
	int fd = tcp_client();
	char two[2 * sizeof(OPTIONS_MSG) + 8];
	size_t n = 0;
	memcpy(two, OPTIONS_MSG, sizeof(OPTIONS_MSG) - 1);
	n += sizeof(OPTIONS_MSG) - 1;
	memcpy(two + n, "\r\n\r\n", 4); /* RFC 5626 ping between messages */
	n += 4;
	memcpy(two + n, OPTIONS_MSG, sizeof(OPTIONS_MSG) - 1);
	n += sizeof(OPTIONS_MSG) - 1;
	assert_int_equal(send(fd, two, n, 0), (ssize_t)n);
	for (int i = 0; i < 200 && rx.msgs < 2; i++)
		spin(1);
	assert_int_equal(rx.msgs, 2);
	char pong[8];
	ssize_t r = -1;
	for (int i = 0; i < 200 && r <= 0; i++) {
		spin(1);
		r = recv(fd, pong, sizeof(pong), 0);
	}
	assert_int_equal(r, 2);
	assert_memory_equal(pong, "\r\n", 2);
	close(fd);
}

static int peer_closed(int fd)
{
	char b[64];
	for (int i = 0; i < 300; i++) {
		spin(1);
		ssize_t r = recv(fd, b, sizeof(b), 0);
		if (r == 0)
			return 1;
		if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return 1;
	}
	return 0;
}

static void test_tcp_oversized_closes(void **state)
{
	(void)state;
	int fd = tcp_client();
	/* Headers that never end, beyond the 4096-byte stream limit of this transport. */
	char junk[1024];
	memset(junk, 'a', sizeof(junk));
	memcpy(junk, "OPTIONS sip:a@b SIP/2.0\r\nX-Long: ", 33);
	for (int i = 0; i < 12; i++) {
		send(fd, junk, sizeof(junk), MSG_NOSIGNAL | MSG_DONTWAIT);
		spin(2);
	}
	assert_true(peer_closed(fd));
	assert_int_equal(rx.msgs, 0);
	close(fd);
}

static void test_tcp_malformed_closes(void **state)
{
	(void)state;
	int fd = tcp_client();
	static const char bad[] = "OPTIONS sip:a@127.0.0.1 SIP/2.0\r\n"
				  "Via: SIP/2.0/TCP 127.0.0.1:5999;branch=z9hG4bK-2\r\n"
				  "Content-Length: -5\r\n\r\n";
	send(fd, bad, sizeof(bad) - 1, MSG_NOSIGNAL);
	assert_true(peer_closed(fd)); /* framing is lost: the connection goes */
	assert_int_equal(rx.malformed, 1);
	close(fd);
}

static void test_tcp_abrupt_close(void **state)
{
	(void)state;
	int fd = tcp_client();
	send(fd, OPTIONS_MSG, 40, MSG_NOSIGNAL); /* half a message, then gone */
	spin(3);
	close(fd);
	spin(10);
	assert_int_equal(rx.msgs, 0);
	struct sip_transport_stats st;
	sip_transport_stats(tp, &st);
	assert_int_equal(st.conns_open, 0);
}

/* Requests by method and responses by code, both ways: parsed on receipt, from the start line
 * of what goes out; malformed input and odd start lines are not counted. */
static void test_counters(void **state)
{
	(void)state;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in me = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &me.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	socklen_t mlen = sizeof(me);
	getsockname(fd, (struct sockaddr *)&me, &mlen);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(sip_transport_local_port(tp, SIP_TP_UDP))};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	sendto(fd, OPTIONS_MSG, sizeof(OPTIONS_MSG) - 1, 0, (struct sockaddr *)&a, sizeof(a));
	sendto(fd, "garbage", 7, 0, (struct sockaddr *)&a, sizeof(a));
	for (int i = 0; i < 200 && rx.msgs + rx.malformed < 2; i++)
		spin(1);
	assert_int_equal(rx.msgs, 1);

	struct sip_dest d = {.type = SIP_TP_UDP};
	memcpy(&d.addr, &me, sizeof(me));
	static const char ok[] = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char bye[] = "BYE sip:a@127.0.0.1 SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sip_transport_send(tp, &d, sb_slice(ok, sizeof(ok) - 1)), 0);
	assert_int_equal(sip_transport_send(tp, &d, sb_slice(ok, sizeof(ok) - 1)), 0);
	assert_int_equal(sip_transport_send(tp, &d, sb_slice(bye, sizeof(bye) - 1)), 0);
	close(fd);

	struct sip_msg_counters c;
	sip_transport_counters(tp, &c);
	assert_int_equal(c.requests[SIP_COUNT_RX][SIP_METHOD_OPTIONS], 1);
	assert_int_equal(c.requests[SIP_COUNT_TX][SIP_METHOD_BYE], 1);
	assert_int_equal(c.responses[SIP_COUNT_TX][200 - SIP_COUNT_STATUS_MIN], 2);
	uint64_t total = 0;
	for (int m = 0; m < SIP_METHOD__COUNT; m++)
		total += c.requests[SIP_COUNT_RX][m] + c.requests[SIP_COUNT_TX][m];
	assert_int_equal(total, 2); /* the garbage is not a request */

	/* the start-line reader alone */
	struct sip_msg_counters raw;
	memset(&raw, 0, sizeof(raw));
	static const char *const in[] = {
	    "SIP/2.0 486 Busy Here\r\n",
	    "SIP/2.0 999 Odd\r\n",
	    "SIP/2.0 2x0 Bad\r\n",
	    "SIP/2.0 100",
	    "FOO sip:x SIP/2.0\r\n",
	    "INVITE sip:x SIP/2.0\r\n",
	    "INVITE",
	    "",
	    " INVITE sip:x SIP/2.0\r\n",
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		sip_msg_counters_add_raw(&raw, SIP_COUNT_RX, sb_slice(in[i], strlen(in[i])));
	assert_int_equal(raw.responses[SIP_COUNT_RX][486 - SIP_COUNT_STATUS_MIN], 1);
	assert_int_equal(raw.responses[SIP_COUNT_RX][100 - SIP_COUNT_STATUS_MIN], 0);
	assert_int_equal(raw.requests[SIP_COUNT_RX][SIP_METHOD_OTHER], 1);
	assert_int_equal(raw.requests[SIP_COUNT_RX][SIP_METHOD_INVITE], 1);
	total = 0;
	for (int i = 0; i <= SIP_COUNT_STATUS_MAX - SIP_COUNT_STATUS_MIN; i++)
		total += raw.responses[SIP_COUNT_RX][i];
	assert_int_equal(total, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_udp_datagram, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_every_split, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_two_in_one_and_ping, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_oversized_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_malformed_closes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tcp_abrupt_close, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
