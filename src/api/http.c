/* HTTP server on libwebsockets sharing the control loop: one lws context with one vhost,
 * per-connection request state, the route tables (HTTP and WebSocket), the WebSocket send
 * queues and the foreign-loop shutdown sequence. */
#include "api/http.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "api/lws_uv.h"
#include "base/err.h"
#include "base/log.h"

#define PATH_MAX_LEN  2048
#define QUERY_MAX_LEN 2048
#define CTYPE_MAX_LEN 256
#define AUTH_MAX_LEN  8192
/* lws buffers all request headers in one table of this size. */
#define HEADER_SPACE 16384
/* An oversized body is read and dropped up to this much, so that the client, still sending,
 * reads the 413 instead of a reset; a larger one is answered at once and the connection
 * closed. */
#define DRAIN_MAX (16u * 1024 * 1024)
/* Closing: how often to look whether lws has finished, and for how long at most. */
#define CLOSE_POLL_MS	 5
#define CLOSE_GIVE_UP_MS 5000

struct api_http {
	uv_loop_t *loop;
	struct lws_context *ctx; /* lws writes NULL here when its destruction is complete */
	struct lws_vhost *vh;
	uint16_t port;
	size_t max_body;
	struct api_http_route routes[API_HTTP_MAX_ROUTES];
	size_t n_routes;
	struct {
		char path[128];
		const struct api_ws_handlers *hd;
		void *arg;
	} ws_routes[API_WS_MAX_ROUTES];
	size_t n_ws_routes;
	struct lws_protocols protocols[2];
	/* The uv handles lws embeds in its context (idle, timer): once the loop has closed them,
	 * lws has finished the first half of its destruction. */
	struct api_lws_handles lws_handles;
	/* closing */
	uv_timer_t close_timer;
	unsigned close_waited_ms;
	void (*close_cb)(void *arg);
	void *close_arg;
};

/* Per-connection state; lws allocates it zeroed (and may do so again per transaction). */
struct conn {
	char method[8];
	char path[PATH_MAX_LEN];
	char query[QUERY_MAX_LEN];
	char ctype[CTYPE_MAX_LEN];
	char auth[AUTH_MAX_LEN];
	struct sb_buf body;
	uint64_t received; /* body bytes, kept or dropped */
	bool in_request;   /* headers seen, body being collected */
	bool too_big;	   /* body over the limit: drained, answered 413 */
	bool close_after;  /* send Connection: close and close once written */
	bool have_resp;	   /* resp is ready to be written */
	bool serving;	   /* a handler is running with resp */
	bool deferred;	   /* the handler will answer later (api_http_defer) */
	struct api_http_resp resp;
	struct lws *wsi;
	void (*gone)(void *arg); /* deferred: the client went away first */
	void *gone_arg;
	/* WebSocket (after an upgrade) */
	struct api_ws_out out; /* what it sends */
	size_t ws_route;       /* index + 1 of its ws route; 0 = none */
	void *ws_arg;	       /* the open handler's conn_arg */
	bool ws_open;	       /* open accepted: closed() is owed */
	struct sb_buf rx;      /* a message being reassembled */
	bool rx_binary, rx_drop;
};

const char *api_http_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 412:
		return "Precondition Failed";
	case 411:
		return "Length Required";
	case 413:
		return "Payload Too Large";
	case 414:
		return "URI Too Long";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	}
	return "";
}

void api_http_resp_set(struct api_http_resp *resp, int status, const char *content_type,
		       const char *text)
{
	resp->status = status;
	resp->content_type = content_type;
	sb_buf_reset(&resp->body);
	sb_buf_append_cstr(&resp->body, text);
}

static void conn_reset(struct conn *c)
{
	sb_buf_free(&c->body);
	sb_buf_free(&c->resp.body);
	struct sb_buf empty;
	sb_buf_init(&empty, NULL, 0);
	c->body = empty;
	c->resp.body = empty;
	c->resp.status = 0;
	c->resp.content_type = NULL;
	c->method[0] = c->path[0] = c->query[0] = c->ctype[0] = c->auth[0] = '\0';
	c->received = 0;
	c->in_request = c->too_big = c->close_after = c->have_resp = false;
}

static const struct {
	enum lws_token_indexes tok;
	const char *name;
} methods[] = {
    {WSI_TOKEN_GET_URI, "GET"},		{WSI_TOKEN_POST_URI, "POST"},
    {WSI_TOKEN_OPTIONS_URI, "OPTIONS"}, {WSI_TOKEN_PUT_URI, "PUT"},
    {WSI_TOKEN_PATCH_URI, "PATCH"},	{WSI_TOKEN_DELETE_URI, "DELETE"},
    {WSI_TOKEN_HEAD_URI, "HEAD"},
};

/* Copy a header; absent is "", too long is an error. */
static int copy_hdr(struct lws *wsi, enum lws_token_indexes tok, char *dst, size_t cap)
{
	dst[0] = '\0';
	int len = lws_hdr_total_length(wsi, tok);
	if (len <= 0)
		return 0;
	if ((size_t)len >= cap)
		return SB_ETOOBIG;
	return lws_hdr_copy(wsi, dst, (int)cap, tok) < 0 ? SB_ETOOBIG : 0;
}

static void respond(struct lws *wsi, struct conn *c)
{
	c->have_resp = true;
	lws_callback_on_writable(wsi);
}

struct api_http_later *api_http_defer(struct api_http_resp *resp, void (*gone)(void *arg),
				      void *arg)
{
	struct conn *c = resp->conn;
	if (!c || !c->serving || c->deferred)
		return NULL;
	c->deferred = true;
	c->gone = gone;
	c->gone_arg = arg;
	return (struct api_http_later *)c;
}

struct api_http_resp *api_http_later_resp(struct api_http_later *l)
{
	return &((struct conn *)l)->resp;
}

void api_http_later_done(struct api_http_later *l)
{
	struct conn *c = (struct conn *)l;
	if (!c->deferred)
		return;
	c->deferred = false;
	c->gone = NULL;
	if (c->resp.body.err) {
		SB_WARN("http", "%s %s: response body: %s", c->method, c->path,
			sb_strerror(c->resp.body.err));
		api_http_resp_set(&c->resp, 500, "text/plain", "internal error\n");
	}
	respond(c->wsi, c);
}

/* The connection is closing: a deferred answer's owner hears that its client is gone. */
static void conn_gone(struct conn *c)
{
	if (!c->deferred)
		return;
	void (*gone)(void *arg) = c->gone;
	c->deferred = false;
	c->gone = NULL;
	if (gone)
		gone(c->gone_arg);
}

static void dispatch(struct api_http *h, struct lws *wsi, struct conn *c)
{
	c->in_request = false;
	if (c->too_big) {
		api_http_resp_set(&c->resp, 413, "text/plain", "request body too large\n");
		c->close_after = true;
		respond(wsi, c);
		return;
	}
	struct api_http_req req = {
	    .method = sb_slice_cstr(c->method),
	    .path = sb_slice_cstr(c->path),
	    .query = sb_slice_cstr(c->query),
	    .content_type = sb_slice_cstr(c->ctype),
	    .authorization = sb_slice_cstr(c->auth),
	    .body = sb_buf_slice(&c->body),
	};
	if (!req.body.p)
		req.body = sb_slice("", 0);
	bool path_known = false;
	for (size_t i = 0; i < h->n_routes; i++) {
		const struct api_http_route *r = &h->routes[i];
		bool match = r->prefix ? !strncmp(c->path, r->path, strlen(r->path))
				       : !strcmp(c->path, r->path);
		if (!match)
			continue;
		path_known = true;
		if (r->method && strcmp(r->method, c->method))
			continue;
		c->resp.status = 200;
		c->resp.content_type = "text/plain";
		c->wsi = wsi;
		c->resp.conn = c;
		c->serving = true;
		r->fn(&req, &c->resp, r->arg);
		c->serving = false;
		if (c->deferred)
			return;
		if (c->resp.body.err) {
			SB_WARN("http", "%s %s: response body: %s", c->method, c->path,
				sb_strerror(c->resp.body.err));
			api_http_resp_set(&c->resp, 500, "text/plain", "internal error\n");
		}
		respond(wsi, c);
		return;
	}
	if (path_known)
		api_http_resp_set(&c->resp, 405, "text/plain", "method not allowed\n");
	else
		api_http_resp_set(&c->resp, 404, "text/plain", "not found\n");
	respond(wsi, c);
}

/* The query's arguments as lws keeps them (one fragment each, already URL-decoded), joined
 * with '&' again (lws_hdr_copy would join them with ','). */
static int copy_args(struct lws *wsi, char *dst, size_t cap)
{
	size_t n = 0;
	dst[0] = '\0';
	for (int i = 0;; i++) {
		int fl = lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
		if (fl <= 0)
			return 0;
		if (n + (size_t)fl + 2 > cap)
			return SB_ETOOBIG;
		if (n)
			dst[n++] = '&';
		if (lws_hdr_copy_fragment(wsi, dst + n, (int)(cap - n), WSI_TOKEN_HTTP_URI_ARGS,
					  i) < 0)
			return SB_ETOOBIG;
		n += (size_t)fl;
		dst[n] = '\0';
	}
}

/* Headers are complete: note the request, then wait for its body or answer at once. */
static int on_request(struct api_http *h, struct lws *wsi, struct conn *c, const char *uri,
		      size_t uri_len)
{
	conn_reset(c);
	for (size_t i = 0; i < SB_ARRAY_LEN(methods); i++)
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			snprintf(c->method, sizeof(c->method), "%s", methods[i].name);
			break;
		}
	if (uri_len >= sizeof(c->path) || copy_args(wsi, c->query, sizeof(c->query))) {
		api_http_resp_set(&c->resp, 414, "text/plain", "URI too long\n");
		c->close_after = true;
		respond(wsi, c);
		return 0;
	}
	memcpy(c->path, uri, uri_len);
	c->path[uri_len] = '\0';
	if (copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, c->ctype, sizeof(c->ctype)) ||
	    copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, c->auth, sizeof(c->auth))) {
		api_http_resp_set(&c->resp, 431, "text/plain", "request header too large\n");
		c->close_after = true;
		respond(wsi, c);
		return 0;
	}
	c->body.limit = h->max_body;
	char cl[32];
	bool chunked = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
	uint64_t length = 0;
	if (copy_hdr(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl)) ||
	    (cl[0] && sb_slice_to_u64(sb_slice_trim(sb_slice_cstr(cl)), UINT64_MAX, &length))) {
		api_http_resp_set(&c->resp, 400, "text/plain", "bad Content-Length\n");
		c->close_after = true;
		respond(wsi, c);
		return 0;
	}
	if (length > h->max_body)
		c->too_big = true; /* the body is still read (and dropped) so the 413 arrives */
	if (chunked) {
		/* lws 4.1 does not decode chunked request bodies; every SDK sends a length */
		api_http_resp_set(&c->resp, 411, "text/plain", "Content-Length required\n");
		c->close_after = true;
		respond(wsi, c);
		return 0;
	}
	if (length > DRAIN_MAX) {
		dispatch(h, wsi, c);
		return 0;
	}
	SB_DEBUG("http", "%s %s (%llu bytes%s)", c->method, c->path, (unsigned long long)length,
		 chunked ? ", chunked" : "");
	if (length == 0 && !chunked) {
		/* lws 4.1 keeps waiting for the body of a POST that has no Content-Length, so
		 * the connection could not serve another request: close it after the answer */
		if (!cl[0] && (!strcmp(c->method, "POST") || !strcmp(c->method, "PUT") ||
			       !strcmp(c->method, "PATCH")))
			c->close_after = true;
		dispatch(h, wsi, c);
		return 0;
	}
	c->in_request = true;
	return 0;
}

static int write_response(struct lws *wsi, struct conn *c)
{
	unsigned char hdr[LWS_PRE + 1024];
	unsigned char *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;
	struct api_http_resp *r = &c->resp;
	size_t len = r->body.len;
	c->have_resp = false;
	if (lws_add_http_common_headers(wsi, (unsigned int)r->status,
					r->content_type ? r->content_type : "text/plain", len, &p,
					end))
		return -1;
	if (c->close_after &&
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_CONNECTION, (const unsigned char *)"close",
					 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	if (len) {
		unsigned char *out = malloc(LWS_PRE + len);
		if (!out)
			return -1;
		memcpy(out + LWS_PRE, r->body.p, len);
		int n = lws_write(wsi, out + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
		free(out);
		if (n < 0)
			return -1;
	}
	bool close_now = c->close_after;
	conn_reset(c);
	if (close_now)
		return -1;
	/* keep-alive: ready for the next request, or close when lws says so */
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- WebSocket ---- */

int api_http_ws_route(struct api_http *h, const char *path, const struct api_ws_handlers *hd,
		      void *arg)
{
	if (!path || !hd || !hd->open || !hd->text || !hd->closed ||
	    strlen(path) >= sizeof(h->ws_routes[0].path))
		return SB_EINVAL;
	if (h->n_ws_routes >= API_WS_MAX_ROUTES)
		return SB_ENORES;
	snprintf(h->ws_routes[h->n_ws_routes].path, sizeof(h->ws_routes[0].path), "%s", path);
	h->ws_routes[h->n_ws_routes].hd = hd;
	h->ws_routes[h->n_ws_routes].arg = arg;
	h->n_ws_routes++;
	return 0;
}

void api_ws_close(struct api_ws *ws, int code, const char *reason)
{
	struct conn *c = (struct conn *)ws;
	api_ws_out_close(&c->out, c->wsi, code ? code : LWS_CLOSE_STATUS_NORMAL, reason);
}

int api_ws_send(struct api_ws *ws, bool binary, const void *p, size_t len, bool droppable)
{
	struct conn *c = (struct conn *)ws;
	int err = api_ws_out_push(&c->out, c->wsi, binary, p, len, droppable, API_WS_SOFT_LIMIT,
				  API_WS_HARD_LIMIT);
	if (err == SB_ENORES)
		SB_WARN("http", "WebSocket %s: client does not read: closing", c->path);
	return err;
}

size_t api_ws_queued(const struct api_ws *ws)
{
	return ((const struct conn *)ws)->out.bytes;
}

/* The upgrade request: note path, query and Authorization; only a ws route's path may pass. */
static int ws_filter(struct api_http *h, struct lws *wsi, struct conn *c)
{
	conn_reset(c);
	c->ws_route = 0;
	if (copy_hdr(wsi, WSI_TOKEN_GET_URI, c->path, sizeof(c->path)) ||
	    copy_args(wsi, c->query, sizeof(c->query)) ||
	    copy_hdr(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, c->auth, sizeof(c->auth)))
		return 1;
	for (size_t i = 0; i < h->n_ws_routes; i++) {
		size_t n = strlen(h->ws_routes[i].path);
		if (!strncmp(c->path, h->ws_routes[i].path, n) &&
		    (c->path[n] == '\0' || c->path[n] == '/')) {
			c->ws_route = i + 1;
			return 0;
		}
	}
	SB_DEBUG("http", "WebSocket upgrade to %s refused: no such endpoint", c->path);
	return 1;
}

static int ws_established(struct api_http *h, struct lws *wsi, struct conn *c)
{
	c->wsi = wsi;
	if (!c->ws_route || c->ws_route > h->n_ws_routes)
		return -1;
	struct api_http_req req = {
	    .method = sb_slice_cstr("GET"),
	    .path = sb_slice_cstr(c->path),
	    .query = sb_slice_cstr(c->query),
	    .content_type = sb_slice("", 0),
	    .authorization = sb_slice_cstr(c->auth),
	    .body = sb_slice("", 0),
	};
	const char *reason = NULL;
	void *arg = NULL;
	int code = h->ws_routes[c->ws_route - 1].hd->open(h->ws_routes[c->ws_route - 1].arg, &req,
							  (struct api_ws *)c, &arg, &reason);
	if (code) {
		SB_INFO("http", "WebSocket %s refused: %d %s", c->path, code, reason ? reason : "");
		api_ws_out_clear(&c->out);
		c->out.closing = false;
		api_ws_close((struct api_ws *)c, code, reason);
		return 0;
	}
	c->ws_open = true;
	c->ws_arg = arg;
	return 0;
}

static void ws_receive(struct api_http *h, struct lws *wsi, struct conn *c, const void *in,
		       size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		sb_buf_reset(&c->rx);
		c->rx.limit = API_WS_MAX_MSG;
		c->rx_binary = lws_frame_is_binary(wsi) != 0;
		c->rx_drop = false;
	}
	if (!c->rx_drop && len) {
		sb_buf_append(&c->rx, in, len);
		if (c->rx.err) {
			SB_WARN("http", "WebSocket %s: message dropped: %s", c->path,
				sb_strerror(c->rx.err));
			c->rx_drop = true;
			sb_buf_free(&c->rx);
		}
	}
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
		return;
	bool drop = c->rx_drop;
	c->rx_drop = false;
	if (drop || !c->ws_open || c->out.closing)
		return;
	const struct api_ws_handlers *hd = h->ws_routes[c->ws_route - 1].hd;
	struct sb_slice m = sb_buf_slice(&c->rx);
	if (!m.p)
		m = sb_slice("", 0);
	if (c->rx_binary) {
		if (hd->binary)
			hd->binary(c->ws_arg, (const uint8_t *)m.p, m.len);
	} else {
		hd->text(c->ws_arg, m.p, m.len);
	}
	sb_buf_reset(&c->rx);
}

static int ws_writeable(struct lws *wsi, struct conn *c)
{
	if (!c->out.head && c->out.closing)
		SB_DEBUG("http", "WebSocket %s: closing %d", c->path, c->out.code);
	return api_ws_out_writeable(&c->out, wsi);
}

static void ws_closed(struct api_http *h, struct conn *c)
{
	bool owed = c->ws_open;
	c->ws_open = false;
	api_ws_out_clear(&c->out);
	sb_buf_free(&c->rx);
	if (owed && h && c->ws_route && c->ws_route <= h->n_ws_routes)
		h->ws_routes[c->ws_route - 1].hd->closed(c->ws_arg);
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct conn *c = user;
	struct lws_context *ctx = lws_get_context(wsi);
	struct api_http *h = ctx ? lws_context_user(ctx) : NULL;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!c || !h)
			return -1;
		return on_request(h, wsi, c, in ? in : "", in ? len : 0);
	case LWS_CALLBACK_HTTP_BODY:
		if (!c || !c->in_request)
			return 0;
		c->received += len;
		if (c->received > DRAIN_MAX)
			return -1; /* more than Content-Length said */
		if (!c->too_big) {
			sb_buf_append(&c->body, in, len);
			if (c->body.err == SB_ETOOBIG) {
				c->too_big = true;
				sb_buf_free(&c->body);
			} else if (c->body.err) {
				return -1; /* out of memory: drop this connection only */
			}
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (c && c->in_request && h)
			dispatch(h, wsi, c);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!c || !c->have_resp)
			return 0;
		return write_response(wsi, c);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!c || !h)
			return 1;
		return ws_filter(h, wsi, c);
	case LWS_CALLBACK_ESTABLISHED:
		if (!c || !h)
			return -1;
		return ws_established(h, wsi, c);
	case LWS_CALLBACK_RECEIVE:
		if (c && h && c->ws_route)
			ws_receive(h, wsi, c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return c ? ws_writeable(wsi, c) : 0;
	case LWS_CALLBACK_CLOSED:
		if (c)
			ws_closed(h, c);
		return 0;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c) {
			conn_gone(c);
			conn_reset(c);
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static void lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (level & LLL_ERR)
		SB_ERROR("http", "lws: %.*s", (int)n, line);
	else
		SB_WARN("http", "lws: %.*s", (int)n, line);
}

int api_http_new(struct api_http **out, const struct api_http_opts *o)
{
	if (!o->loop || !o->host || !o->host[0])
		return SB_EINVAL;
	struct api_http *h = calloc(1, sizeof(*h));
	if (!h)
		return SB_ENOMEM;
	h->loop = o->loop;
	h->max_body = o->max_body ? o->max_body : API_HTTP_MAX_BODY;
	h->protocols[0] = (struct lws_protocols){
	    .name = "http",
	    .callback = on_lws,
	    .per_session_data_size = sizeof(struct conn),
	};
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);

	void *loops[1] = {o->loop};
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV;
	info.foreign_loops = loops;
	info.pcontext = &h->ctx;
	info.user = h;
	info.protocols = h->protocols;
	info.vhost_name = "switchboard";
	info.iface = o->host;
	info.port = o->port;
	info.server_string = "switchboard";
	info.max_http_header_data = HEADER_SPACE;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	h->ctx = api_lws_create(h->loop, &info, &h->lws_handles);
	if (!h->ctx) {
		SB_ERROR("http", "cannot listen on %s:%u", o->host, o->port);
		free(h);
		return SB_EIO;
	}
	uv_timer_init(h->loop, &h->close_timer);
	h->close_timer.data = h;
	h->vh = lws_get_vhost_by_name(h->ctx, "switchboard");
	int port = h->vh ? lws_get_vhost_listen_port(h->vh) : -1;
	if (port <= 0 || port > 65535) {
		SB_ERROR("http", "cannot listen on %s:%u", o->host, o->port);
		/* lws closes its handles through the loop; h goes when they are closed */
		api_http_close(h, NULL, NULL);
		return SB_EIO;
	}
	h->port = (uint16_t)port;
	*out = h;
	return 0;
}

int api_http_route(struct api_http *h, const struct api_http_route *r)
{
	if (!r->path || !r->fn)
		return SB_EINVAL;
	if (h->n_routes >= API_HTTP_MAX_ROUTES)
		return SB_ENORES;
	h->routes[h->n_routes++] = *r;
	return 0;
}

uint16_t api_http_port(const struct api_http *h)
{
	return h->port;
}

static void close_timer_closed(uv_handle_t *t)
{
	struct api_http *h = t->data;
	void (*cb)(void *) = h->close_cb;
	void *arg = h->close_arg;
	free(h);
	if (cb)
		cb(arg);
}

static void close_poll(uv_timer_t *t)
{
	struct api_http *h = t->data;
	h->close_waited_ms += CLOSE_POLL_MS;
	if (h->ctx && !api_lws_handles_open(h->loop, &h->lws_handles))
		lws_context_destroy(h->ctx); /* the second call: frees the context, h->ctx = NULL */
	if (h->ctx && h->close_waited_ms < CLOSE_GIVE_UP_MS)
		return;
	uv_timer_stop(t);
	if (h->ctx) {
		/* lws may still call on_lws with h: leave h (and the context) allocated */
		SB_WARN("http", "libwebsockets did not finish closing in %u ms",
			(unsigned)CLOSE_GIVE_UP_MS);
		if (h->close_cb)
			h->close_cb(h->close_arg);
		return;
	}
	uv_close((uv_handle_t *)t, close_timer_closed);
}

/*
 * lws 4.1 on a foreign libuv loop is destroyed in two calls. The first closes every
 * connection and the listener; their uv handles close over the next loop turns, lws may
 * still call on_lws (which reads h through the context), and last it closes the idle and
 * timer handles inside its context. Only then may the second call run: it frees the vhost
 * and the context (unloading the evlib plugin whose code those close callbacks are in) and
 * writes NULL to h->ctx through info.pcontext. A foreign loop never makes that second call
 * by itself, and making it early jumps into the unloaded plugin; so h polls the loop until
 * the handles lws_create_context added are gone.
 */
void api_http_close(struct api_http *h, void (*cb)(void *arg), void *arg)
{
	h->close_cb = cb;
	h->close_arg = arg;
	if (h->ctx)
		lws_context_destroy(h->ctx);
	uv_timer_start(&h->close_timer, close_poll, CLOSE_POLL_MS, CLOSE_POLL_MS);
}
