/* The HTTP/1.1 server of the API: libwebsockets on the control loop (a foreign libuv loop),
 * request bodies collected up to a limit, requests dispatched to a route table.
 * Bodies over the limit get 413, chunked bodies 411 (a Content-Length is required). */
#ifndef SB_API_HTTP_H
#define SB_API_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/buf.h"
#include "base/slice.h"

#define API_HTTP_MAX_BODY   (1024 * 1024) /* default request body limit: above it, 413 */
#define API_HTTP_MAX_ROUTES 32

/* One request as a handler sees it; every slice lives until the handler returns. */
struct api_http_req {
	struct sb_slice method; /* "GET", "POST" ... */
	struct sb_slice path;	/* decoded path without the query */
	struct sb_slice query;	/* "" when absent */
	struct sb_slice content_type;
	struct sb_slice authorization;
	struct sb_slice body;
};

/* The handler's answer: status (default 200), a static Content-Type (default text/plain) and
 * the body, which the server owns and frees. */
struct api_http_resp {
	int status;
	const char *content_type;
	struct sb_buf body;
};

typedef void (*api_http_fn)(const struct api_http_req *req, struct api_http_resp *resp, void *arg);

struct api_http_route {
	const char *method; /* NULL = any method */
	const char *path;   /* exact path, or a prefix when prefix is set */
	bool prefix;
	api_http_fn fn;
	void *arg;
};

struct api_http_opts {
	uv_loop_t *loop;  /* the control loop; the server runs on it */
	const char *host; /* numeric IPv4/IPv6 address or interface name */
	uint16_t port;	  /* 0 = any free port (see api_http_port) */
	size_t max_body;  /* 0 = API_HTTP_MAX_BODY */
};

struct api_http;

/* Listen and serve; 0, SB_EINVAL (bad options), SB_EIO (cannot listen) or SB_ENOMEM. */
int api_http_new(struct api_http **out, const struct api_http_opts *o);
/* Add a route; the first matching route wins (exact and prefix alike, in the order added).
 * 0, SB_ENORES when the table is full. A path without a route gets 404; a route's path with
 * another method gets 405. */
int api_http_route(struct api_http *h, const struct api_http_route *r);
/* The bound port. */
uint16_t api_http_port(const struct api_http *h);
/* Close every connection and the listener; cb(arg) runs on the loop once libwebsockets has
 * let go of the loop and h is freed. Never from inside a handler. */
void api_http_close(struct api_http *h, void (*cb)(void *arg), void *arg);

/* Fill resp with a status, a static content type and a text body. */
void api_http_resp_set(struct api_http_resp *resp, int status, const char *content_type,
		       const char *text);
/* Reason phrase of a status ("Not Found"); "" when unknown. */
const char *api_http_reason(int status);

#endif
