/* HTTP server on libwebsockets sharing the control loop: one lws context with one vhost,
 * per-connection request state, the route table and the foreign-loop shutdown sequence. */
#include "api/http.h"

#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

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
	struct lws_protocols protocols[2];
	/* The uv handles lws embeds in its context (idle, timer): once the loop has closed them,
	 * lws has finished the first half of its destruction. */
	uv_handle_t *lws_handles[8];
	size_t n_lws_handles;
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
	struct api_http_resp resp;
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
		r->fn(&req, &c->resp, r->arg);
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
	if (uri_len >= sizeof(c->path) ||
	    copy_hdr(wsi, WSI_TOKEN_HTTP_URI_ARGS, c->query, sizeof(c->query))) {
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
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (c)
			conn_reset(c);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

struct handle_list {
	uv_handle_t **v;
	size_t n, cap;
	bool oom;
};

static void collect_handle(uv_handle_t *hd, void *arg)
{
	struct handle_list *l = arg;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 64;
		uv_handle_t **nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv) {
			l->oom = true;
			return;
		}
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = hd;
}

/* Remember the idle and timer handles lws_create_context added to the loop. */
static void note_lws_handles(struct api_http *h, const struct handle_list *before)
{
	struct handle_list after = {0};
	uv_walk(h->loop, collect_handle, &after);
	for (size_t i = 0; i < after.n; i++) {
		uv_handle_t *hd = after.v[i];
		if (hd->type != UV_IDLE && hd->type != UV_TIMER)
			continue; /* polls are per socket and freed on close; their memory is reused
				   */
		bool old = false;
		for (size_t j = 0; j < before->n && !old; j++)
			old = before->v[j] == hd;
		if (!old && h->n_lws_handles < SB_ARRAY_LEN(h->lws_handles))
			h->lws_handles[h->n_lws_handles++] = hd;
	}
	free(after.v);
}

struct find_handles {
	const struct api_http *h;
	bool found;
};

static void find_lws_handle(uv_handle_t *hd, void *arg)
{
	struct find_handles *f = arg;
	for (size_t i = 0; i < f->h->n_lws_handles; i++)
		if (f->h->lws_handles[i] == hd)
			f->found = true;
}

static bool lws_handles_open(const struct api_http *h)
{
	struct find_handles f = {h, false};
	uv_walk(h->loop, find_lws_handle, &f);
	return f.found;
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
	struct handle_list before = {0};
	uv_walk(h->loop, collect_handle, &before);
	h->ctx = lws_create_context(&info);
	if (h->ctx && !before.oom)
		note_lws_handles(h, &before);
	free(before.v);
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
	if (h->ctx && !lws_handles_open(h))
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
