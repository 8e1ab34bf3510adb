/* Which handles lws_create_context added to a foreign loop: a walk of the loop before and one
 * after. */
#include "api/lws_uv.h"

#include <stdlib.h>
#include <string.h>

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
