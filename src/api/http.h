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
	void *conn; /* the server's (NULL outside a server): handlers leave it alone */
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

/*
 * Answering later (an RPC that waits for a SIP outcome): a handler calls api_http_defer and
 * returns; the connection then waits, sending nothing, until api_http_later_done sends what
 * was put in api_http_later_resp(l) (status, content type, body as for a handler). If the
 * client goes away first, or the server closes, gone(arg) runs once and l is invalid from
 * then on; after api_http_later_done, gone never runs. On the control loop only.
 */
struct api_http_later;
/* NULL when resp is not a handler's response being served (then answer at once). */
struct api_http_later *api_http_defer(struct api_http_resp *resp, void (*gone)(void *arg),
				      void *arg);
struct api_http_resp *api_http_later_resp(struct api_http_later *l);
void api_http_later_done(struct api_http_later *l);

/*
 * WebSocket routes on the same port: a GET with Upgrade: websocket to a ws route's path, or below
 * it ("/twilio", "/twilio/x"), becomes a WebSocket (any subprotocol); other paths are refused.
 * Messages arrive whole (frames reassembled up to API_WS_MAX_MSG; a larger message is dropped).
 * What we send waits in a queue per connection, bounded: a droppable frame (media) is refused while
 * more than API_WS_SOFT_LIMIT bytes wait (a client that does not read loses media, not memory);
 * others are refused past API_WS_HARD_LIMIT, and then the connection is closed (1008). All on the
 * control loop.
 */
#define API_WS_MAX_ROUTES 8
#define API_WS_MAX_MSG	  (8u * 1024 * 1024)
#define API_WS_SOFT_LIMIT (256u * 1024)
#define API_WS_HARD_LIMIT (8u * 1024 * 1024)

struct api_ws;

struct api_ws_handlers {
	/* The connection is up; req (path, query, authorization) lives during the call. Return 0
	 * and set *conn_arg, or a WebSocket close code (1008, 4404 ...) with *reason (static text):
	 * the socket is closed with them and no other handler runs for it. */
	int (*open)(void *arg, const struct api_http_req *req, struct api_ws *ws, void **conn_arg,
		    const char **reason);
	void (*text)(void *conn_arg, const char *p, size_t len);
	void (*binary)(void *conn_arg, const uint8_t *p, size_t len); /* NULL: ignored */
	/* Gone (either side closed, or the server closes): ws is invalid from here on. */
	void (*closed)(void *conn_arg);
};

/* 0, SB_EINVAL, SB_ENORES (table full). */
int api_http_ws_route(struct api_http *h, const char *path, const struct api_ws_handlers *hd,
		      void *arg);
/* Queue one message. 0; SB_EBUSY (droppable and the queue is over the soft limit); SB_ENORES
 * (over the hard limit: the connection is being closed); SB_ESTATE (closing); SB_ENOMEM. */
int api_ws_send(struct api_ws *ws, bool binary, const void *p, size_t len, bool droppable);
/* Close from our side once the queue is written (code 0 = 1000). closed() still follows. */
void api_ws_close(struct api_ws *ws, int code, const char *reason);
/* Bytes waiting to be written. */
size_t api_ws_queued(const struct api_ws *ws);

/* Fill resp with a status, a static content type and a text body. */
void api_http_resp_set(struct api_http_resp *resp, int status, const char *content_type,
		       const char *text);
/* Reason phrase of a status ("Not Found"); "" when unknown. */
const char *api_http_reason(int status);

#endif
