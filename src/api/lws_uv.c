/* Which handles lws_create_context added to a foreign loop: a walk of the loop before and one
 * after. */
#include "api/lws_uv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"

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

static void note_new(uv_loop_t *loop, const struct handle_list *before, struct api_lws_handles *h)
{
	struct handle_list after = {0};
	uv_walk(loop, collect_handle, &after);
	for (size_t i = 0; i < after.n; i++) {
		uv_handle_t *hd = after.v[i];
		if (hd->type != UV_IDLE && hd->type != UV_TIMER)
			continue;
		bool old = false;
		for (size_t j = 0; j < before->n && !old; j++)
			old = before->v[j] == hd;
		if (!old && h->n < sizeof(h->v) / sizeof(h->v[0]))
			h->v[h->n++] = hd;
	}
	free(after.v);
}

struct lws_context *api_lws_create(uv_loop_t *loop, const struct lws_context_creation_info *info,
				   struct api_lws_handles *h)
{
	memset(h, 0, sizeof(*h));
	struct handle_list before = {0};
	uv_walk(loop, collect_handle, &before);
	struct lws_context *ctx = lws_create_context(info);
	if (ctx && !before.oom)
		note_new(loop, &before, h);
	free(before.v);
	return ctx;
}

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt" /* Debian's ca-certificates */

struct lws_context *api_lws_client_create(uv_loop_t *loop, const struct lws_protocols *protocols,
					  void *user, bool tls, const char *ca_file,
					  struct lws_context **pcontext, struct api_lws_handles *h)
{
	void *loops[1] = {loop};
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_LIBUV;
	if (tls) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		if (ca_file)
			info.client_ssl_ca_filepath = ca_file;
		else if (!access(CA_BUNDLE, R_OK))
			info.client_ssl_ca_filepath = CA_BUNDLE;
	}
	info.foreign_loops = loops;
	info.pcontext = pcontext;
	info.user = user;
	info.protocols = protocols;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	return api_lws_create(loop, &info, h);
}

struct find_handles {
	const struct api_lws_handles *h;
	bool found;
};

static void find_handle(uv_handle_t *hd, void *arg)
{
	struct find_handles *f = arg;
	for (size_t i = 0; i < f->h->n; i++)
		if (f->h->v[i] == hd)
			f->found = true;
}

bool api_lws_handles_open(uv_loop_t *loop, const struct api_lws_handles *h)
{
	struct find_handles f = {h, false};
	uv_walk(loop, find_handle, &f);
	return f.found;
}

/* ---- a WebSocket's sending side ---- */

/* lws's private LWS_WRITE_CLOSE: lws_write sends a close frame with it */
#define WS_WRITE_CLOSE 4

struct api_ws_frame {
	struct api_ws_frame *next;
	size_t len;
	bool binary;
	unsigned char buf[]; /* LWS_PRE + len */
};

void api_ws_out_close(struct api_ws_out *o, struct lws *wsi, int code, const char *reason)
{
	if (o->closing)
		return;
	o->closing = true;
	o->code = code;
	snprintf(o->reason, sizeof(o->reason), "%s", reason ? reason : "");
	lws_callback_on_writable(wsi);
}

int api_ws_out_push(struct api_ws_out *o, struct lws *wsi, bool binary, const void *p, size_t len,
		    bool droppable, size_t soft, size_t hard)
{
	if (o->closing)
		return SB_ESTATE;
	if (droppable && o->bytes > soft)
		return SB_EBUSY;
	if (o->bytes + len > hard) {
		api_ws_out_close(o, wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, "not reading");
		return SB_ENORES;
	}
	struct api_ws_frame *f = malloc(sizeof(*f) + LWS_PRE + len);
	if (!f)
		return SB_ENOMEM;
	f->next = NULL;
	f->len = len;
	f->binary = binary;
	if (len)
		memcpy(f->buf + LWS_PRE, p, len);
	if (o->tail)
		o->tail->next = f;
	else
		o->head = f;
	o->tail = f;
	o->bytes += len;
	lws_callback_on_writable(wsi);
	return 0;
}

int api_ws_out_writeable(struct api_ws_out *o, struct lws *wsi)
{
	struct api_ws_frame *f = o->head;
	if (f) {
		o->head = f->next;
		if (!o->head)
			o->tail = NULL;
		o->bytes -= f->len;
		int n = lws_write(wsi, f->buf + LWS_PRE, f->len,
				  f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT);
		free(f);
		if (n < 0)
			return -1;
		if (o->head || o->closing)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (!o->closing)
		return 0;
	/* lws 4.1 on libuv kills the socket at once after a -1 here, without the close frame
	 * lws_close_reason prepares: write it ourselves (opcode 8, lws's internal
	 * LWS_WRITE_CLOSE) */
	unsigned char cf[LWS_PRE + 2 + sizeof(o->reason)];
	size_t rl = strlen(o->reason);
	cf[LWS_PRE] = (unsigned char)((o->code >> 8) & 0xff);
	cf[LWS_PRE + 1] = (unsigned char)(o->code & 0xff);
	memcpy(cf + LWS_PRE + 2, o->reason, rl);
	(void)lws_write(wsi, cf + LWS_PRE, 2 + rl, (enum lws_write_protocol)WS_WRITE_CLOSE);
	return -1;
}

void api_ws_out_clear(struct api_ws_out *o)
{
	while (o->head) {
		struct api_ws_frame *f = o->head;
		o->head = f->next;
		free(f);
	}
	o->tail = NULL;
	o->bytes = 0;
}
