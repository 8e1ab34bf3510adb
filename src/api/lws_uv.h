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
/* Is one of them still open on loop? false once lws has finished with the loop. */
bool api_lws_handles_open(uv_loop_t *loop, const struct api_lws_handles *h);

#endif
