/* GET /twilio: the WebSocket side of the Twilio bridge. Checks the token, finds the room's call,
 * and ties one api_ws connection to one stream_bridge; the bridge's hang-up goes to the call
 * manager. */
#include "api/agent_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "stream/bridge.h"

struct api_agent_ws {
	struct call_mgr *calls;
	struct api_key *keys;
	struct api_keyring ring;
};

struct agent_conn {
	struct api_agent_ws *a;
	struct api_ws *ws;
	struct stream_bridge *b;
};

/* ---- query parameters ---- */

/* The value of name in a query ("a=1&b=2", values already URL-decoded by the server) into
 * out; false when absent or too long. */
static bool query_param(struct sb_slice q, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name), i = 0;
	while (i < q.len) {
		size_t end = i;
		while (end < q.len && q.p[end] != '&')
			end++;
		if (end - i > nl && !memcmp(q.p + i, name, nl) && q.p[i + nl] == '=') {
			size_t k = 0;
			for (size_t x = i + nl + 1; x < end; x++) {
				if (k + 1 >= cap)
					return false;
				out[k++] = q.p[x];
			}
			out[k] = '\0';
			return true;
		}
		i = end + 1;
	}
	return false;
}

/* ---- the bridge's transport ---- */

static int conn_send(void *arg, const char *text, size_t len, bool droppable)
{
	struct agent_conn *c = arg;
	return api_ws_send(c->ws, false, text, len, droppable);
}

static void conn_close(void *arg)
{
	struct agent_conn *c = arg;
	api_ws_close(c->ws, 1000, "stream stopped");
}

static void conn_hangup(void *arg, struct room_part *caller)
{
	struct agent_conn *c = arg;
	if (call_mgr_hangup_participant(c->a->calls, caller) == SB_ENOTFOUND)
		room_part_leave(caller);
}

static const struct stream_bridge_handlers bridge_handlers = {
    .send = conn_send, .close = conn_close, .hangup = conn_hangup};

/* ---- WebSocket handlers ---- */

static int twilio_open(void *arg, const struct api_http_req *req, struct api_ws *ws,
		       void **conn_arg, const char **reason)
{
	struct api_agent_ws *a = arg;
	char room[ROOM_NAME_MAX] = "";
	struct sb_slice path = req->path;
	size_t pl = strlen(API_AGENT_WS_TWILIO);
	if (path.len > pl + 1 && path.p[pl] == '/') {
		if (path.len - pl - 1 >= sizeof(room)) {
			*reason = "room name too long";
			return 4400;
		}
		snprintf(room, sizeof(room), "%.*s", (int)(path.len - pl - 1), path.p + pl + 1);
	}
	if (!room[0] && !query_param(req->query, "room", room, sizeof(room)))
		room[0] = '\0';
	if (!room[0]) {
		*reason = "room required";
		return 4400;
	}
	/* the token: Authorization: Bearer, or access_token (browsers cannot set headers) */
	char tok[API_TOKEN_MAX_LEN + 1];
	struct sb_slice token;
	if (api_token_bearer(req->authorization, &token)) {
		if (!query_param(req->query, "access_token", tok, sizeof(tok))) {
			*reason = "unauthorized: no token";
			return 1008;
		}
		token = sb_slice_cstr(tok);
	}
	struct api_claims cl;
	char why[128] = "";
	if (api_token_verify(&a->ring, token, sb_clock_wall_s(), &cl, why, sizeof(why))) {
		SB_INFO("stream", "/twilio for room %s refused: %s", room, why);
		*reason = "unauthorized: invalid token";
		return 1008;
	}
	if (!cl.video.room_join || strcmp(cl.video.room, room) != 0) {
		SB_INFO("stream", "/twilio for room %s refused: no roomJoin grant for it", room);
		*reason = "unauthorized: no roomJoin grant for this room";
		return 1008;
	}
	struct agent_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		*reason = "out of memory";
		return 1011;
	}
	c->a = a;
	c->ws = ws;
	struct room_service *rs = call_mgr_rooms(a->calls);
	struct room_part *caller = stream_bridge_find_caller(rs, room);
	struct stream_bridge_opts bo = {.rs = rs, .room = room};
	struct call_stats *cs = caller ? malloc(sizeof(*cs)) : NULL;
	if (cs && call_mgr_participant_stats(a->calls, caller, cs) == 0)
		bo.outbound = cs->outbound;
	free(cs);
	int err = stream_bridge_new(&c->b, &bo, &bridge_handlers, c);
	if (err) {
		free(c);
		SB_INFO("stream", "/twilio for room %s refused: %s", room, sb_strerror(err));
		*reason = err == SB_ENOTFOUND ? "no call in room" : "cannot join the room";
		return err == SB_ENOTFOUND ? 4404 : 1011;
	}
	*conn_arg = c;
	return 0;
}

static void twilio_text(void *conn_arg, const char *p, size_t len)
{
	struct agent_conn *c = conn_arg;
	stream_bridge_input(c->b, p, len);
}

static void twilio_closed(void *conn_arg)
{
	struct agent_conn *c = conn_arg;
	stream_bridge_transport_closed(c->b);
	free(c);
}

static const struct api_ws_handlers twilio_handlers = {
    .open = twilio_open, .text = twilio_text, .closed = twilio_closed};

int api_agent_ws_register(struct api_http *h, const struct api_agent_ws_opts *o,
			  struct api_agent_ws **out)
{
	struct api_agent_ws *a = calloc(1, sizeof(*a));
	if (!a)
		return SB_ENOMEM;
	a->calls = o->calls;
	size_t n = o->keys ? o->keys->n : 0;
	if (n && !(a->keys = calloc(n, sizeof(*a->keys)))) {
		free(a);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct api_key *k = &o->keys->keys[i];
		a->keys[i].key = strdup(k->key ? k->key : "");
		a->keys[i].secret = strdup(k->secret ? k->secret : "");
		a->ring.n = i + 1;
		if (!a->keys[i].key || !a->keys[i].secret) {
			api_agent_ws_free(a);
			return SB_ENOMEM;
		}
	}
	a->ring.keys = a->keys;
	int err = api_http_ws_route(h, API_AGENT_WS_TWILIO, &twilio_handlers, a);
	if (err) {
		api_agent_ws_free(a);
		return err;
	}
	*out = a;
	return 0;
}

void api_agent_ws_free(struct api_agent_ws *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ring.n; i++) {
		free((char *)(uintptr_t)a->keys[i].key);
		free((char *)(uintptr_t)a->keys[i].secret);
	}
	free(a->keys);
	free(a);
}
