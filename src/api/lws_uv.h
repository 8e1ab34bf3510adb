/* libwebsockets on a foreign libuv loop (the control loop). lws_create_context adds idle and
 * timer handles of its own to the loop, and lws has let go of the loop only once the loop has
 * closed them; an owner that frees its memory earlier crashes in lws's last callbacks. Contexts
 * are created through api_lws_create so that their owner can tell when that is. */
#ifndef SB_API_LWS_UV_H
#define SB_API_LWS_UV_H

#include <libwebsockets.h>
#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

/* The idle and timer handles a context added (socket polls are per connection, freed on
 * close, and their memory is reused: not tracked). */
struct api_lws_handles {
	uv_handle_t *v[8];
	size_t n;
};

/* lws_create_context(info) on loop (info->foreign_loops set by the caller), noting in *h the
 * handles it added. NULL when lws could not create it (then *h is empty). */
struct lws_context *api_lws_create(uv_loop_t *loop, const struct lws_context_creation_info *info,
				   struct api_lws_handles *h);
/* A client-only context (no listening port) on loop, through api_lws_create: protocols and
 * user as lws takes them, *pcontext set by lws as it starts. With tls, OpenSSL is set up and
 * servers are checked against ca_file, or the system bundle when ca_file is NULL. */
struct lws_context *api_lws_client_create(uv_loop_t *loop, const struct lws_protocols *protocols,
					  void *user, bool tls, const char *ca_file,
					  struct lws_context **pcontext, struct api_lws_handles *h);
/* Is one of them still open on loop? false once lws has finished with the loop. */
bool api_lws_handles_open(uv_loop_t *loop, const struct api_lws_handles *h);

/* The sending side of one WebSocket, server or client: frames queued until lws calls back
 * writable, then, once closing, the close frame. */
struct api_ws_frame;
struct api_ws_out {
	struct api_ws_frame *head, *tail;
	size_t bytes; /* payload queued */
	bool closing; /* close once the queue is written */
	int code;
	char reason[64];
};
/* Queue a copy of p and ask lws for a writable callback. SB_ESTATE when closing; SB_EBUSY for a
 * droppable frame while more than soft bytes wait (nothing queued: a reader that does not keep
 * up loses media, not memory); SB_ENORES when hard would be passed: the socket then starts
 * closing with 1008 "not reading"; SB_ENOMEM. */
int api_ws_out_push(struct api_ws_out *o, struct lws *wsi, bool binary, const void *p, size_t len,
		    bool droppable, size_t soft, size_t hard);
/* Start closing (once): the close frame with code and reason follows what is queued. */
void api_ws_out_close(struct api_ws_out *o, struct lws *wsi, int code, const char *reason);
/* On lws's writable callback: the next frame; with none left and closing, the close frame and
 * -1 (lws then drops the connection); else 0. -1 too when a write fails. */
int api_ws_out_writeable(struct api_ws_out *o, struct lws *wsi);
/* Drop what is queued (the closing state stays). */
void api_ws_out_clear(struct api_ws_out *o);

#endif
