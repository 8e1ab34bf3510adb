/* The web console's routes: the embedded page, the dev token endpoint and the /console/ws event
 * push (room observer -> JSON -> every console connection, each with a bounded queue). */
#include "api/console.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "web/web.h"

#define MAX_ASSETS 16 /* files of web/ served (each is a route of the HTTP server) */

struct console_conn {
	struct api_console *c;
	struct api_ws *ws;
	struct console_conn *prev, *next;
	bool closing; /* closed for not reading: nothing more is sent */
};

struct api_console {
	struct api_key *keys;
	struct api_keyring ring;
	bool dev;
	bool observing, observing_calls;
	struct room_service *rooms;
	struct call_mgr *calls;
	char url[160];
	char paths[MAX_ASSETS][64]; /* the routes' paths (the server keeps pointers) */
	struct console_conn *conns;
};

/* ---- query parameters ---- */

/* The value of name in a query (already URL-decoded by the server) into out; false when absent
 * or too long. seps: what separates arguments: "&" for a WebSocket upgrade's query, "&," for a
 * plain request's, which the server gets from libwebsockets joined with ','. */
static bool query_param(struct sb_slice q, const char *name, const char *seps, char *out,
			size_t cap)
{
	size_t nl = strlen(name), i = 0;
	while (i < q.len) {
		size_t end = i;
		while (end < q.len && !strchr(seps, q.p[end]))
			end++;
		if (end - i > nl && !memcmp(q.p + i, name, nl) && q.p[i + nl] == '=') {
			size_t n = end - i - nl - 1;
			if (n >= cap)
				return false;
			memcpy(out, q.p + i + nl + 1, n);
			out[n] = '\0';
			return true;
		}
		i = end + 1;
	}
	return false;
}

/* ---- JSON of rooms and participants ---- */

static json_t *room_json(const struct room_info *r)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "name", r->name, "sid",
			 r->sid ? r->sid : "", "metadata", r->metadata ? r->metadata : "",
			 "num_participants", (json_int_t)r->participants, "creation_time_ms",
			 (json_int_t)r->created_unix_ms, "max_participants",
			 (json_int_t)r->max_participants);
}

static const char *state_name(enum room_part_state s)
{
	switch (s) {
	case ROOM_PART_JOINING:
		return "joining";
	case ROOM_PART_ACTIVE:
		return "active";
	case ROOM_PART_LEAVING:
		return "disconnected";
	}
	return "";
}

static json_t *part_json(const struct room_part_info *p)
{
	json_t *attrs = json_object();
	for (size_t i = 0; attrs && i < p->n_attrs; i++)
		json_object_set_new(attrs, p->attrs[i].key, json_string(p->attrs[i].value));
	if (!attrs)
		return NULL;
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:I, s:I, s:o}", "identity",
			 p->identity, "sid", p->sid, "name", p->name, "kind",
			 room_part_kind_name(p->kind), "state", state_name(p->state), "codec",
			 p->codec, "held", p->held, "muted", p->muted, "joined_at_ms",
			 (json_int_t)p->joined_ms, "version", (json_int_t)p->version, "attributes",
			 attrs);
}

/* ---- the push ---- */

static void conn_send(struct console_conn *k, const char *text, size_t len)
{
	if (k->closing)
		return;
	size_t queued = api_ws_queued(k->ws);
	/* the first message (the snapshot) may be large; after it a browser that does not read
	 * is dropped rather than buffered: it reconnects and gets a new snapshot */
	if (queued && queued + len > API_CONSOLE_MAX_QUEUED) {
		SB_WARN("api", "console: browser does not read (%zu bytes waiting): closing",
			queued);
		k->closing = true;
		api_ws_close(k->ws, 1008, "not reading");
		return;
	}
	if (api_ws_send(k->ws, false, text, len, false)) {
		/* a missed event would leave the page wrong: start it over with a new snapshot */
		k->closing = true;
		api_ws_close(k->ws, 1011, "event lost");
	}
}

/* Send o (taken) to every console connection. */
static void broadcast(struct api_console *c, json_t *o)
{
	if (!o)
		return;
	if (!c->conns) {
		json_decref(o);
		return;
	}
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text) {
		SB_WARN("api", "console: event dropped: out of memory");
		return;
	}
	size_t len = strlen(text);
	for (struct console_conn *k = c->conns; k; k = k->next)
		conn_send(k, text, len);
	free(text);
}

static void on_room(struct api_console *c, const char *type, const struct room_info *r)
{
	if (c->conns)
		broadcast(c, json_pack("{s:s, s:o}", "type", type, "room", room_json(r)));
}

static void ob_room_started(void *arg, const struct room_info *r)
{
	on_room(arg, "room_started", r);
}

static void ob_room_finished(void *arg, const struct room_info *r)
{
	on_room(arg, "room_finished", r);
}

static json_t *part_event(const char *type, const struct room_info *r,
			  const struct room_part_info *p)
{
	return json_pack("{s:s, s:s, s:o, s:o}", "type", type, "room", r->name, "room_info",
			 room_json(r), "participant", part_json(p));
}

static void ob_joined(void *arg, const struct room_info *r, const struct room_part_info *p)
{
	struct api_console *c = arg;
	if (c->conns)
		broadcast(c, part_event("participant_joined", r, p));
}

static void ob_left(void *arg, const struct room_info *r, const struct room_part_info *p)
{
	struct api_console *c = arg;
	if (c->conns)
		broadcast(c, part_event("participant_left", r, p));
}

static void ob_updated(void *arg, const struct room_info *r, const struct room_part_info *p)
{
	struct api_console *c = arg;
	if (!c->conns)
		return;
	json_t *o = part_event("participant_updated", r, p);
	if (o)
		json_object_set_new(o, "reason", json_string("attributes"));
	broadcast(c, o);
}

static void ob_hold(void *arg, const struct room_info *r, const struct room_part_info *p, bool held,
		    bool by_remote)
{
	struct api_console *c = arg;
	if (!c->conns)
		return;
	json_t *o = part_event("participant_updated", r, p);
	if (o) {
		json_object_set_new(o, "reason", json_string("hold"));
		json_object_set_new(o, "held", json_boolean(held));
		json_object_set_new(o, "by_remote", json_boolean(by_remote));
	}
	broadcast(c, o);
}

static void ob_dtmf(void *arg, const struct room_info *r, const struct room_part_info *p,
		    char digit, uint32_t duration_ms)
{
	struct api_console *c = arg;
	if (!c->conns)
		return;
	char d[2] = {digit, '\0'};
	broadcast(c, json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", "dtmf", "room", r->name,
			       "identity", p->identity, "digit", d, "duration_ms",
			       (json_int_t)duration_ms));
}

static void ob_transfer(void *arg, const struct room_info *r, const struct room_part_info *p,
			const struct call_transfer_result *t)
{
	struct api_console *c = arg;
	if (!c->conns)
		return;
	broadcast(c,
		  json_pack("{s:s, s:s, s:s, s:s, s:b, s:b, s:i, s:s}", "type", "transfer", "room",
			    r->name, "identity", p->identity, "target", t->target, "attended",
			    t->attended, "success", t->sip_status >= 200 && t->sip_status < 300,
			    "sip_status", t->sip_status, "reason", t->reason));
}

static const struct call_observer call_observer = {.transfer = ob_transfer};

static const struct room_observer observer = {
    .room_started = ob_room_started,
    .room_finished = ob_room_finished,
    .participant_joined = ob_joined,
    .participant_left = ob_left,
    .dtmf = ob_dtmf,
    .hold = ob_hold,
    .participant_updated = ob_updated,
};

/* ---- the snapshot ---- */

struct snap {
	struct api_console *c;
	json_t *rooms, *parts;
	bool nomem;
};

static void snap_part(void *arg, struct room_part *p)
{
	struct snap *s = arg;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (pi.state != ROOM_PART_ACTIVE) /* the others are announced when they join */
		return;
	if (json_array_append_new(s->parts, part_json(&pi)))
		s->nomem = true;
}

static void snap_room(void *arg, const struct room_info *r)
{
	struct snap *s = arg;
	s->parts = json_array();
	json_t *e = json_pack("{s:o, s:o}", "room", room_json(r), "participants", s->parts);
	if (!e) {
		s->nomem = true;
		return;
	}
	room_service_each_part(s->c->rooms, r->name, snap_part, s);
	if (json_array_append_new(s->rooms, e))
		s->nomem = true;
}

static int send_snapshot(struct console_conn *k)
{
	struct snap s = {.c = k->c, .rooms = json_array()};
	if (!s.rooms)
		return SB_ENOMEM;
	if (k->c->rooms)
		room_service_list(k->c->rooms, snap_room, &s);
	json_t *o = json_pack("{s:s, s:I, s:o}", "type", "snapshot", "time_ms",
			      (json_int_t)sb_clock_wall_ms(), "rooms", s.rooms);
	char *text = o && !s.nomem ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!text)
		return SB_ENOMEM;
	int err = api_ws_send(k->ws, false, text, strlen(text), false);
	free(text);
	return err;
}

/* ---- WebSocket handlers ---- */

static int ws_open(void *arg, const struct api_http_req *req, struct api_ws *ws, void **conn_arg,
		   const char **reason)
{
	struct api_console *c = arg;
	char tok[API_TOKEN_MAX_LEN + 1];
	struct sb_slice token;
	if (api_token_bearer(req->authorization, &token)) {
		if (!query_param(req->query, "access_token", "&", tok, sizeof(tok))) {
			*reason = "unauthorized: no token";
			return 1008;
		}
		token = sb_slice_cstr(tok);
	}
	struct api_claims *cl = malloc(sizeof(*cl));
	if (!cl) {
		*reason = "out of memory";
		return 1011;
	}
	char why[128] = "";
	int bad = api_token_verify(&c->ring, token, sb_clock_wall_s(), cl, why, sizeof(why));
	bool granted = !bad && cl->video.room_list && cl->video.room_admin;
	free(cl);
	if (bad) {
		SB_INFO("api", "console WebSocket refused: %s", why);
		*reason = "unauthorized: invalid token";
		return 1008;
	}
	if (!granted) {
		SB_INFO("api", "console WebSocket refused: no roomList + roomAdmin grant");
		*reason = "unauthorized: roomList and roomAdmin grants required";
		return 1008;
	}
	struct console_conn *k = calloc(1, sizeof(*k));
	if (!k) {
		*reason = "out of memory";
		return 1011;
	}
	k->c = c;
	k->ws = ws;
	if (send_snapshot(k)) {
		free(k);
		*reason = "out of memory";
		return 1011;
	}
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	*conn_arg = k;
	SB_DEBUG("api", "console WebSocket open");
	return 0;
}

static void ws_text(void *conn_arg, const char *p, size_t len)
{
	(void)conn_arg;
	(void)p;
	(void)len;
}

static void ws_closed(void *conn_arg)
{
	struct console_conn *k = conn_arg;
	if (k->prev)
		k->prev->next = k->next;
	else
		k->c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	free(k);
}

static const struct api_ws_handlers ws_handlers = {
    .open = ws_open, .text = ws_text, .closed = ws_closed};

/* ---- HTTP routes ---- */

static void serve_asset(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	(void)req;
	const struct web_asset *a = arg;
	resp->status = 200;
	resp->content_type = a->content_type;
	sb_buf_reset(&resp->body);
	sb_buf_append(&resp->body, a->data, a->len);
	if (resp->body.err)
		api_http_resp_set(resp, 503, "text/plain", "out of memory\n");
}

static void token_json_error(struct api_http_resp *resp, int status, const char *msg)
{
	resp->status = status;
	resp->content_type = "application/json";
	sb_buf_reset(&resp->body);
	sb_buf_printf(&resp->body, "{\"error\":\"%s\"}", msg);
}

/* GET /api/token: 404 outside dev mode, as if the route did not exist. */
static void serve_token(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	struct api_console *c = arg;
	if (!c->dev || !c->ring.n) {
		api_http_resp_set(resp, 404, "text/plain", "404 page not found\n");
		return;
	}
	char room[ROOM_NAME_MAX] = "", identity[ROOM_IDENTITY_MAX] = "";
	if (!query_param(req->query, "room", "&,", room, sizeof(room)))
		room[0] = '\0';
	if (!query_param(req->query, "identity", "&,", identity, sizeof(identity)) || !identity[0])
		snprintf(identity, sizeof(identity), "console");
	struct api_claims *g = calloc(1, sizeof(*g));
	if (!g) {
		token_json_error(resp, 503, "out of memory");
		return;
	}
	g->has_video = g->has_sip = true;
	g->video.room_list = g->video.room_admin = g->video.room_create = true;
	g->video.room_join = room[0] != '\0';
	g->video.can_publish = g->video.can_subscribe = g->video.can_publish_data = true;
	snprintf(g->video.room, sizeof(g->video.room), "%s", room);
	g->sip.admin = g->sip.call = true;
	struct api_token_opts to = {.key = c->ring.keys[0].key,
				    .secret = c->ring.keys[0].secret,
				    .now = sb_clock_wall_s(),
				    .ttl_s = API_CONSOLE_TOKEN_TTL_S,
				    .identity = identity,
				    .grants = g};
	char *token = NULL;
	int err = api_token_create(&to, &token);
	free(g);
	if (err) {
		token_json_error(resp, err == SB_ENOMEM ? 503 : 400, sb_strerror(err));
		return;
	}
	json_t *o = json_pack("{s:s, s:s}", "token", token, "url", c->url);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	free(token);
	if (!text) {
		token_json_error(resp, 503, "out of memory");
		return;
	}
	resp->status = 200;
	resp->content_type = "application/json";
	sb_buf_reset(&resp->body);
	sb_buf_append_cstr(&resp->body, text);
	free(text);
}

/* ---- lifecycle ---- */

bool api_console_dev_mode(const struct api_console_opts *o)
{
	if (o->dev)
		return true;
	return o->keys && o->keys->n == 1 && o->keys->keys[0].key && o->keys->keys[0].secret &&
	       !strcmp(o->keys->keys[0].key, "devkey") &&
	       !strcmp(o->keys->keys[0].secret, "secret");
}

static bool unspecified(const char *host)
{
	return !host || !*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::") ||
	       !strcmp(host, "[::]");
}

int api_console_register(struct api_http *h, const struct api_console_opts *o,
			 struct api_console **out)
{
	struct api_console *c = calloc(1, sizeof(*c));
	if (!c)
		return SB_ENOMEM;
	c->dev = api_console_dev_mode(o);
	c->rooms = o->rooms;
	const char *host = unspecified(o->host) ? "127.0.0.1" : o->host;
	snprintf(c->url, sizeof(c->url), strchr(host, ':') ? "ws://[%s]:%u" : "ws://%s:%u", host,
		 (unsigned)o->port);
	int err = SB_ENOMEM;
	size_t n_routes = 0;
	size_t n = o->keys ? o->keys->n : 0;
	if (n && !(c->keys = calloc(n, sizeof(*c->keys))))
		goto out;
	c->ring.keys = c->keys;
	for (size_t i = 0; i < n; i++) {
		const struct api_key *k = &o->keys->keys[i];
		c->keys[i].key = strdup(k->key ? k->key : "");
		c->keys[i].secret = strdup(k->secret ? k->secret : "");
		c->ring.n = i + 1;
		if (!c->keys[i].key || !c->keys[i].secret)
			goto out;
	}
	size_t n_paths = 0;
	if (web_assets_n > MAX_ASSETS)
		SB_WARN("api", "web/ has %zu files; only the first %d are served (MAX_ASSETS)",
			(size_t)web_assets_n, MAX_ASSETS);
	for (size_t i = 0; i < web_assets_n && n_paths < MAX_ASSETS; i++) {
		const struct web_asset *a = &web_assets[i];
		snprintf(c->paths[n_paths], sizeof(c->paths[0]), "/%s",
			 strcmp(a->name, "console.html") ? a->name : "");
		struct api_http_route r = {.method = "GET",
					   .path = c->paths[n_paths++],
					   .fn = serve_asset,
					   .arg = (void *)(uintptr_t)a};
		if ((err = api_http_route(h, &r)))
			goto out;
		n_routes++;
	}
	struct api_http_route tr = {
	    .method = "GET", .path = API_CONSOLE_TOKEN, .fn = serve_token, .arg = c};
	if ((err = api_http_route(h, &tr)))
		goto out;
	n_routes++;
	if ((err = api_http_ws_route(h, API_CONSOLE_WS, &ws_handlers, c)))
		goto out;
	if (c->rooms) {
		if ((err = room_service_add_observer(c->rooms, &observer, c)))
			goto out;
		c->observing = true;
	}
	if (o->calls) {
		if ((err = call_mgr_add_observer(o->calls, &call_observer, c)))
			goto out;
		c->calls = o->calls;
		c->observing_calls = true;
	}
	SB_INFO("api", "web console on / (dev token endpoint %s)", c->dev ? "on" : "off");
	*out = c;
	return 0;
out:
	if (n_routes) { /* the server points into c now: it lives until the server is closed */
		*out = c;
		return err;
	}
	api_console_free(c);
	return err;
}

void api_console_free(struct api_console *c)
{
	if (!c)
		return;
	if (c->observing)
		room_service_remove_observer(c->rooms, &observer, c);
	if (c->observing_calls)
		call_mgr_remove_observer(c->calls, &call_observer, c);
	for (size_t i = 0; i < c->ring.n; i++) {
		free((char *)(uintptr_t)c->keys[i].key);
		free((char *)(uintptr_t)c->keys[i].secret);
	}
	free(c->keys);
	free(c);
}
