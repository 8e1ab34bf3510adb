/* Unit tests for src/api/http.c: a server on a private libuv loop answered by a libuv TCP
 * client: routes, 404/405, body collection and the 413 limit, and a close after which the
 * loop has no handle left (uv_loop_close succeeds) and nothing leaks. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/http.h"
#include "base/buf.h"
#include "base/err.h"

static void echo(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)arg;
	resp->content_type = "application/octet-stream";
	sb_buf_printf(&resp->body,
		      "%.*s %.*s q=%.*s ct=%.*s auth=%.*s body=", SB_SLICE_ARG(req->method),
		      SB_SLICE_ARG(req->path), SB_SLICE_ARG(req->query),
		      SB_SLICE_ARG(req->content_type), SB_SLICE_ARG(req->authorization));
	sb_buf_append_slice(&resp->body, req->body);
}

static void hello(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	api_http_resp_set(resp, 201, "text/plain", "hello");
}

/* ---- a one-request client ---- */

struct client {
	uv_tcp_t tcp;
	uv_connect_t conn;
	uv_write_t wr;
	uv_buf_t out;
	struct sb_buf in;
	bool done;
	bool hang_up; /* close once the request is written, without reading the answer */
};

static void on_closed(uv_handle_t *h)
{
	struct client *c = h->data;
	c->done = true;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)h;
	static char space[65536];
	(void)hint;
	*buf = uv_buf_init(space, sizeof(space));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct client *c = s->data;
	if (n > 0) {
		sb_buf_append(&c->in, buf->base, (size_t)n);
		return;
	}
	if (n < 0)
		uv_close((uv_handle_t *)s, on_closed);
}

static void on_written(uv_write_t *w, int status)
{
	struct client *c = w->data;
	assert_int_equal(status, 0);
	if (c->hang_up) {
		uv_close((uv_handle_t *)&c->tcp, on_closed);
		return;
	}
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct client *c = req->data;
	assert_int_equal(status, 0);
	c->wr.data = c;
	uv_write(&c->wr, (uv_stream_t *)&c->tcp, &c->out, 1, on_written);
}

/* Send raw (which asks for Connection: close) and return the whole answer (free it); with
 * hang_up, close as soon as it is written. */
static char *exchange(uv_loop_t *loop, uint16_t port, const char *raw, size_t len, bool hang_up)
{
	struct client c;
	memset(&c, 0, sizeof(c));
	c.hang_up = hang_up;
	sb_buf_init(&c.in, NULL, 0);
	c.out = uv_buf_init((char *)raw, (unsigned)len);
	uv_tcp_init(loop, &c.tcp);
	c.tcp.data = &c;
	c.conn.data = &c;
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", port, &sa);
	assert_int_equal(uv_tcp_connect(&c.conn, &c.tcp, (const struct sockaddr *)&sa, on_connect),
			 0);
	while (!c.done)
		uv_run(loop, UV_RUN_ONCE);
	sb_buf_append(&c.in, "", 0);
	return c.in.p; /* malloc'd by the buffer (no fixed storage) */
}

static char *roundtrip(uv_loop_t *loop, uint16_t port, const char *raw, size_t len)
{
	return exchange(loop, port, raw, len, false);
}

static char *get(uv_loop_t *loop, uint16_t port, const char *request)
{
	return roundtrip(loop, port, request, strlen(request));
}

static bool closed_flag;

static void http_closed(void *arg)
{
	assert_ptr_equal(arg, &closed_flag);
	closed_flag = true;
}

static void test_server(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct api_http *h = NULL;
	struct api_http_opts o = {.loop = &loop, .host = "127.0.0.1", .port = 0, .max_body = 64};
	assert_int_equal(api_http_new(&h, &o), 0);
	uint16_t port = api_http_port(h);
	assert_true(port > 0);
	struct api_http_route r1 = {.method = "GET", .path = "/hello", .fn = hello};
	struct api_http_route r2 = {.path = "/echo/", .prefix = true, .fn = echo};
	assert_int_equal(api_http_route(h, &r1), 0);
	assert_int_equal(api_http_route(h, &r2), 0);

	char *a = get(&loop, port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 201"));
	assert_non_null(strstr(a, "\r\n\r\nhello"));
	free(a);

	a = get(&loop, port, "POST /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 405"));
	free(a);

	/* several query arguments come back joined with '&' (lws keeps them apart) */
	a = get(
	    &loop, port,
	    "GET /echo/q?room=demo&identity=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	if (!strstr(a, "q=room=demo&identity=x "))
		fail_msg("query: %s", a);
	free(a);

	a = get(&loop, port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 404"));
	free(a);

	a = get(&loop, port,
		"POST /echo/x?a=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		"Content-Type: application/json\r\nAuthorization: Bearer t.o.k\r\n"
		"Content-Length: 11\r\n\r\n{\"k\":\"v12\"}");
	assert_non_null(strstr(a, "HTTP/1.1 200"));
	if (!strstr(a, "POST /echo/x q=a=1 ct=application/json auth=Bearer t.o.k "
		       "body={\"k\":\"v12\"}"))
		fail_msg("echo: %s", a);
	free(a);

	/* 64 bytes is the limit: 64 pass, 65 do not */
	char req[512], body[66];
	memset(body, 'x', sizeof(body));
	int n = snprintf(req, sizeof(req),
			 "POST /echo/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
			 "Content-Length: 64\r\n\r\n%.64s",
			 body);
	a = roundtrip(&loop, port, req, (size_t)n);
	assert_non_null(strstr(a, "HTTP/1.1 200"));
	free(a);
	n = snprintf(req, sizeof(req),
		     "POST /echo/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		     "Content-Length: 65\r\n\r\n%.65s",
		     body);
	a = roundtrip(&loop, port, req, (size_t)n);
	assert_non_null(strstr(a, "HTTP/1.1 413"));
	free(a);

	closed_flag = false;
	api_http_close(h, http_closed, &closed_flag);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(closed_flag);
	/* lws let go of the loop completely */
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- answers given later (api_http_defer) ---- */

static struct api_http_later *pending;
static uv_timer_t later_timer;
static int gone_calls;

static void later_gone(void *arg)
{
	assert_ptr_equal(arg, &gone_calls);
	gone_calls++;
	pending = NULL;
}

static void answer_now(uv_timer_t *t)
{
	(void)t;
	if (!pending)
		return;
	api_http_resp_set(api_http_later_resp(pending), 202, "text/plain", "later");
	api_http_later_done(pending);
	pending = NULL;
}

static void later(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)req;
	(void)arg;
	pending = api_http_defer(resp, later_gone, &gone_calls);
	assert_non_null(pending);
	/* a second defer of the same request is refused */
	assert_null(api_http_defer(resp, later_gone, &gone_calls));
	uv_timer_start(&later_timer, answer_now, 50, 0);
}

static void test_deferred(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	uv_timer_init(&loop, &later_timer);
	struct api_http *h = NULL;
	struct api_http_opts o = {.loop = &loop, .host = "127.0.0.1", .port = 0};
	assert_int_equal(api_http_new(&h, &o), 0);
	uint16_t port = api_http_port(h);
	struct api_http_route r = {.method = "GET", .path = "/later", .fn = later};
	assert_int_equal(api_http_route(h, &r), 0);
	/* outside a server a response cannot be deferred */
	struct api_http_resp loose;
	memset(&loose, 0, sizeof(loose));
	assert_null(api_http_defer(&loose, later_gone, &gone_calls));

	/* answered 50 ms later */
	gone_calls = 0;
	char *a = get(&loop, port, "GET /later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(a, "HTTP/1.1 202"));
	assert_non_null(strstr(a, "\r\n\r\nlater"));
	free(a);
	assert_int_equal(gone_calls, 0);

	/* the client goes away first: lws may notice only when the answer is written (it does
	 * not read a connection whose request is being served); either way nothing breaks and
	 * gone runs at most once */
	const char *rq = "GET /later HTTP/1.1\r\nHost: x\r\n\r\n";
	free(exchange(&loop, port, rq, strlen(rq), true));
	for (int i = 0; i < 200 && pending; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_null(pending);
	assert_true(gone_calls <= 1);

	/* a request still waiting when the server closes hears gone too */
	gone_calls = 0;
	struct client c;
	memset(&c, 0, sizeof(c));
	sb_buf_init(&c.in, NULL, 0);
	c.out = uv_buf_init((char *)rq, (unsigned)strlen(rq));
	uv_tcp_init(&loop, &c.tcp);
	c.tcp.data = &c;
	c.conn.data = &c;
	struct sockaddr_in sa;
	uv_ip4_addr("127.0.0.1", port, &sa);
	assert_int_equal(uv_tcp_connect(&c.conn, &c.tcp, (const struct sockaddr *)&sa, on_connect),
			 0);
	for (int i = 0; i < 200 && !pending; i++)
		uv_run(&loop, UV_RUN_ONCE);
	assert_non_null(pending);
	uv_timer_stop(&later_timer);
	closed_flag = false;
	api_http_close(h, http_closed, &closed_flag);
	while (!closed_flag || !c.done)
		uv_run(&loop, UV_RUN_ONCE);
	assert_int_equal(gone_calls, 1);
	sb_buf_free(&c.in);
	uv_close((uv_handle_t *)&later_timer, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_bad_listen(void **state)
{
	(void)state;
	uv_loop_t loop;
	assert_int_equal(uv_loop_init(&loop), 0);
	struct api_http *h = NULL;
	struct api_http_opts o = {.loop = &loop, .host = "", .port = 0};
	assert_int_equal(api_http_new(&h, &o), SB_EINVAL);
	assert_null(h);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_server),
	    cmocka_unit_test(test_deferred),
	    cmocka_unit_test(test_bad_listen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
