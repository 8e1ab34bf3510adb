/* GET /twilio and GET /agent: the WebSocket side of the agent bridge (Twilio Media Streams and the
 * native protocol). Checks the token, finds the room's call, and ties one api_ws connection to one
 * stream_bridge; the bridge's hang-up and the native agent's call commands go to the call manager.
 * Also the Twilio-shaped REST resource of those calls (/2010-04-01/Accounts/{A}/Calls/{C}.json):
 * GET, and POST Status=completed to hang up. Owns the connection records and the ended calls. */
#include "api/agent_ws.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "stream/bridge.h"

#define ENDED_MAX  64 /* ended Twilio calls the REST resource still answers for */
#define NUMBER_MAX 64

/* What the REST resource shows of a Twilio stream's call. */
struct rest_call {
	char call_sid[STREAM_TWILIO_SID_LEN + 1];
	char account_sid[STREAM_TWILIO_SID_LEN + 1];
	char from[NUMBER_MAX], to[NUMBER_MAX];
	bool outbound;
	uint64_t start_s, end_s; /* Unix seconds; end 0 = in progress */
};

struct agent_conn;

struct api_agent_ws {
	struct call_mgr *calls;
	struct api_key *keys;
	struct api_keyring ring;
	struct api_agent_close_plan on_close;
	struct agent_conn *conns; /* Twilio connections, for the REST resource */
	struct rest_call ended[ENDED_MAX];
	size_t ended_next;
	bool observing; /* transfer outcomes from the call manager */
};

struct xfer; /* a native agent's transfer in flight */

struct agent_conn {
	struct api_agent_ws *a;
	struct api_ws *ws;
	struct stream_bridge *b;
	bool native;
	struct xfer *xfer;
	struct agent_conn *next, **pprev; /* Twilio: in a->conns */
	struct rest_call rc;		  /* Twilio */
};

struct xfer {
	struct agent_conn *c; /* NULL once the connection is gone */
	char *id, *to;
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

/* The agent closed its socket (the bridge's only use of hangup): `agent_close:`. */
static void conn_hangup(void *arg, struct room_part *caller)
{
	struct agent_conn *c = arg;
	api_agent_close_run(&c->a->on_close, c->a->calls, caller, NULL);
}

static int conn_send_binary(void *arg, const void *p, size_t len, bool droppable)
{
	struct agent_conn *c = arg;
	return api_ws_send(c->ws, true, p, len, droppable);
}

static void xfer_free(struct xfer *x)
{
	free(x->id);
	free(x->to);
	free(x);
}

static void xfer_done(void *arg, int status, const char *reason)
{
	struct xfer *x = arg;
	if (x->c) {
		x->c->xfer = NULL;
		stream_bridge_transfer_result(x->c->b, x->id, x->to, status, reason);
	}
	xfer_free(x);
}

static int conn_transfer(struct agent_conn *c, struct room_part *caller,
			 const struct stream_native_cmd *cmd)
{
	if (c->xfer)
		return SB_EBUSY;
	struct room_part *with = NULL;
	if (cmd->attended) {
		with = room_service_find_part(call_mgr_rooms(c->a->calls), room_part_room(caller),
					      cmd->with);
		if (!with)
			return SB_ENOTFOUND;
	}
	const char *to = cmd->attended ? cmd->with : cmd->to;
	struct xfer *x = calloc(1, sizeof(*x));
	if (!x || !(x->to = strdup(to)) || (cmd->id && !(x->id = strdup(cmd->id)))) {
		if (x)
			xfer_free(x);
		return SB_ENOMEM;
	}
	x->c = c;
	int err = cmd->attended
		      ? call_mgr_attended_transfer(c->a->calls, caller, with, 0, xfer_done, x)
		      : call_mgr_transfer_participant(c->a->calls, caller, cmd->to, NULL, 0, false,
						      xfer_done, x);
	if (err) {
		xfer_free(x);
		return err;
	}
	c->xfer = x;
	return 0;
}

/* A native agent's call command, through the call manager. */
static int conn_command(void *arg, struct room_part *caller, const struct stream_native_cmd *cmd)
{
	struct agent_conn *c = arg;
	int err;
	switch (cmd->type) {
	case STREAM_NATIVE_CMD_HANGUP:
		SB_INFO("stream", "room %s: the agent's hangup command ends %s",
			room_part_room(caller), room_part_identity(caller));
		if (call_mgr_hangup_participant(c->a->calls, caller) == SB_ENOTFOUND)
			room_part_leave(caller);
		return 0;
	case STREAM_NATIVE_CMD_TRANSFER:
		return conn_transfer(c, caller, cmd);
	case STREAM_NATIVE_CMD_HOLD:
	case STREAM_NATIVE_CMD_RESUME:
		err = call_mgr_hold_participant(c->a->calls, caller,
						cmd->type == STREAM_NATIVE_CMD_HOLD, NULL);
		return err;
	case STREAM_NATIVE_CMD_SEND_DTMF:
		return room_part_send_dtmf(caller, cmd->digits);
	case STREAM_NATIVE_CMD_MUTE: /* done by the bridge */
		break;
	}
	return SB_EUNSUPPORTED;
}

static const struct stream_bridge_handlers bridge_handlers = {
    .send = conn_send, .close = conn_close, .hangup = conn_hangup};

static const struct stream_bridge_handlers native_bridge_handlers = {.send = conn_send,
								     .close = conn_close,
								     .hangup = conn_hangup,
								     .command = conn_command,
								     .send_binary =
									 conn_send_binary};

/* ---- WebSocket handlers ---- */

static const char *attr_of(const struct room_part_info *pi, const char *key)
{
	for (size_t i = 0; i < pi->n_attrs; i++)
		if (!strcmp(pi->attrs[i].key, key))
			return pi->attrs[i].value;
	return NULL;
}

/* The REST resource's view of a new Twilio stream's call. */
static void rest_call_init(struct agent_conn *c, struct room_part *caller, bool outbound)
{
	struct stream_twilio *t = stream_bridge_session(c->b);
	struct rest_call *rc = &c->rc;
	snprintf(rc->call_sid, sizeof(rc->call_sid), "%s", stream_twilio_call_sid(t));
	snprintf(rc->account_sid, sizeof(rc->account_sid), "%s", stream_twilio_account_sid(t));
	struct room_part_info pi;
	room_part_get_info(caller, &pi);
	const char *phone = attr_of(&pi, "sip.phoneNumber");
	const char *trunk = attr_of(&pi, "sip.trunkPhoneNumber");
	const char *from = outbound ? trunk : phone, *to = outbound ? phone : trunk;
	snprintf(rc->from, sizeof(rc->from), "%s", from ? from : "");
	snprintf(rc->to, sizeof(rc->to), "%s", to ? to : "");
	rc->outbound = outbound;
	rc->start_s = sb_clock_wall_s();
	struct api_agent_ws *a = c->a;
	c->next = a->conns;
	if (a->conns)
		a->conns->pprev = &c->next;
	c->pprev = &a->conns;
	a->conns = c;
}

/* The connection is gone: its call is over for the REST resource. */
static void rest_call_end(struct agent_conn *c)
{
	if (!c->pprev)
		return;
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->pprev = NULL;
	struct api_agent_ws *a = c->a;
	c->rc.end_s = sb_clock_wall_s();
	a->ended[a->ended_next] = c->rc;
	a->ended_next = (a->ended_next + 1) % ENDED_MAX;
}

static int agent_open(struct api_agent_ws *a, const struct api_http_req *req, struct api_ws *ws,
		      void **conn_arg, const char **reason, bool native)
{
	const char *ep = native ? API_AGENT_WS_NATIVE : API_AGENT_WS_TWILIO;
	char room[ROOM_NAME_MAX] = "";
	struct sb_slice path = req->path;
	size_t pl = strlen(ep);
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
		SB_INFO("stream", "%s for room %s refused: %s", ep, room, why);
		*reason = "unauthorized: invalid token";
		return 1008;
	}
	if (!cl.video.room_join || strcmp(cl.video.room, room) != 0) {
		SB_INFO("stream", "%s for room %s refused: no roomJoin grant for it", ep, room);
		*reason = "unauthorized: no roomJoin grant for this room";
		return 1008;
	}
	uint32_t rate = 0;
	char rate_s[16];
	if (native && query_param(req->query, "rate", rate_s, sizeof(rate_s))) {
		char *end;
		unsigned long v = strtoul(rate_s, &end, 10);
		if (*end || !stream_native_rate_valid((uint32_t)v)) {
			*reason = "bad rate: 8000, 16000, 24000 or 48000";
			return 4400;
		}
		rate = (uint32_t)v;
	}
	struct agent_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		*reason = "out of memory";
		return 1011;
	}
	c->a = a;
	c->ws = ws;
	c->native = native;
	struct room_service *rs = call_mgr_rooms(a->calls);
	struct room_part *caller = stream_bridge_find_caller(rs, room);
	struct stream_bridge_opts bo = {
	    .rs = rs,
	    .room = room,
	    .caller = caller,
	    .protocol = native ? STREAM_PROTO_NATIVE : STREAM_PROTO_TWILIO,
	    .rate = rate,
	};
	struct call_stats *cs = caller ? malloc(sizeof(*cs)) : NULL;
	if (cs && call_mgr_participant_stats(a->calls, caller, cs) == 0)
		bo.outbound = cs->outbound;
	free(cs);
	int err = caller ? stream_bridge_new(&c->b, &bo,
					     native ? &native_bridge_handlers : &bridge_handlers, c)
			 : SB_ENOTFOUND;
	if (err) {
		free(c);
		SB_INFO("stream", "%s for room %s refused: %s", ep, room, sb_strerror(err));
		*reason = err == SB_ENOTFOUND ? "no call in room" : "cannot join the room";
		return err == SB_ENOTFOUND ? 4404 : 1011;
	}
	if (!native)
		rest_call_init(c, caller, bo.outbound);
	*conn_arg = c;
	return 0;
}

static int twilio_open(void *arg, const struct api_http_req *req, struct api_ws *ws,
		       void **conn_arg, const char **reason)
{
	return agent_open(arg, req, ws, conn_arg, reason, false);
}

static int native_open(void *arg, const struct api_http_req *req, struct api_ws *ws,
		       void **conn_arg, const char **reason)
{
	return agent_open(arg, req, ws, conn_arg, reason, true);
}

static void twilio_text(void *conn_arg, const char *p, size_t len)
{
	struct agent_conn *c = conn_arg;
	stream_bridge_input(c->b, p, len);
}

static void agent_binary(void *conn_arg, const uint8_t *p, size_t len)
{
	struct agent_conn *c = conn_arg;
	stream_bridge_input_binary(c->b, p, len);
}

static void twilio_closed(void *conn_arg)
{
	struct agent_conn *c = conn_arg;
	if (c->xfer)
		c->xfer->c = NULL;
	rest_call_end(c);
	stream_bridge_transport_closed(c->b);
	free(c);
}

static const struct api_ws_handlers twilio_handlers = {
    .open = twilio_open, .text = twilio_text, .closed = twilio_closed};

static const struct api_ws_handlers native_handlers = {
    .open = native_open, .text = twilio_text, .binary = agent_binary, .closed = twilio_closed};

/* ---- the Twilio-shaped REST resource of the calls ---- */

static int b64v(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* "Basic base64(user:pass)" -> out "user:pass" (NUL-terminated); false when not that. */
static bool basic_auth(struct sb_slice h, char *out, size_t cap)
{
	if (h.len < 6 || strncasecmp(h.p, "Basic ", 6) != 0)
		return false;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 6; i < h.len; i++) {
		if (h.p[i] == '=' || h.p[i] == ' ')
			continue;
		int v = b64v((unsigned char)h.p[i]);
		if (v < 0)
			return false;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o + 1 >= cap)
				return false;
			out[o++] = (char)(acc >> bits);
		}
	}
	out[o] = '\0';
	return memchr(out, '\0', o) == NULL;
}

/* The key whose id:secret the credentials are; NULL when none. */
static const struct api_key *rest_auth(const struct api_agent_ws *a, struct sb_slice authz)
{
	char cred[512];
	if (!basic_auth(authz, cred, sizeof(cred)))
		return NULL;
	char *colon = strchr(cred, ':');
	if (!colon)
		return NULL;
	*colon = '\0';
	for (size_t i = 0; i < a->ring.n; i++)
		if (!strcmp(a->keys[i].key, cred) && !strcmp(a->keys[i].secret, colon + 1))
			return &a->keys[i];
	return NULL;
}

/* "/2010-04-01/Accounts/{A}/Calls/{C}.json" -> A and C; false otherwise. */
static bool rest_path(struct sb_slice p, char *acc, size_t acc_cap, char *call, size_t call_cap)
{
	size_t pl = strlen(API_TWILIO_REST_PREFIX);
	if (p.len <= pl || memcmp(p.p, API_TWILIO_REST_PREFIX, pl) != 0)
		return false;
	const char *s = p.p + pl, *end = p.p + p.len;
	const char *slash = memchr(s, '/', (size_t)(end - s));
	if (!slash || slash == s || (size_t)(slash - s) >= acc_cap)
		return false;
	snprintf(acc, acc_cap, "%.*s", (int)(slash - s), s);
	s = slash + 1;
	if ((size_t)(end - s) < 7 || memcmp(s, "Calls/", 6) != 0)
		return false;
	s += 6;
	size_t n = (size_t)(end - s);
	if (n <= 5 || memcmp(end - 5, ".json", 5) != 0 || n - 5 >= call_cap)
		return false;
	snprintf(call, call_cap, "%.*s", (int)(n - 5), s);
	return strchr(call, '/') == NULL;
}

/* The value of key in an application/x-www-form-urlencoded body (plain values only). */
static bool form_value(struct sb_slice body, const char *key, char *out, size_t cap)
{
	return query_param(body, key, out, cap);
}

static void rest_json(struct api_http_resp *resp, int status, json_t *j)
{
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!text) {
		api_http_resp_set(resp, 500, "application/json",
				  "{\"code\":20500,\"message\":\"out of memory\",\"status\":500}");
		return;
	}
	api_http_resp_set(resp, status, "application/json", text);
	free(text);
}

static void rest_error(struct api_http_resp *resp, int status, int code, const char *message)
{
	json_t *j = json_object();
	char more[64];
	snprintf(more, sizeof(more), "https://www.twilio.com/docs/errors/%d", code);
	json_object_set_new(j, "code", json_integer(code));
	json_object_set_new(j, "message", json_string(message));
	json_object_set_new(j, "more_info", json_string(more));
	json_object_set_new(j, "status", json_integer(status));
	rest_json(resp, status, j);
}

/* RFC 2822 time as Twilio shows it ("Tue, 24 Nov 2026 22:09:39 +0000"); JSON null for 0. */
static json_t *rest_time(uint64_t s)
{
	if (!s)
		return json_null();
	time_t t = (time_t)s;
	struct tm tm;
	char buf[64];
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S +0000", &tm))
		return json_null();
	return json_string(buf);
}

static void rest_call_json(struct api_http_resp *resp, const struct rest_call *rc, bool completed)
{
	uint64_t end = completed ? (rc->end_s ? rc->end_s : sb_clock_wall_s()) : 0;
	char uri[160];
	snprintf(uri, sizeof(uri), API_TWILIO_REST_PREFIX "%s/Calls/%s.json", rc->account_sid,
		 rc->call_sid);
	json_t *j = json_object();
	json_object_set_new(j, "sid", json_string(rc->call_sid));
	json_object_set_new(j, "account_sid", json_string(rc->account_sid));
	json_object_set_new(j, "parent_call_sid", json_null());
	json_object_set_new(j, "status", json_string(completed ? "completed" : "in-progress"));
	json_object_set_new(j, "from", json_string(rc->from));
	json_object_set_new(j, "to", json_string(rc->to));
	json_object_set_new(j, "direction", json_string(rc->outbound ? "outbound-api" : "inbound"));
	json_object_set_new(j, "start_time", rest_time(rc->start_s));
	json_object_set_new(j, "end_time", rest_time(end));
	if (end) {
		char d[24];
		snprintf(d, sizeof(d), "%llu",
			 (unsigned long long)(end > rc->start_s ? end - rc->start_s : 0));
		json_object_set_new(j, "duration", json_string(d));
	} else {
		json_object_set_new(j, "duration", json_null());
	}
	json_object_set_new(j, "api_version", json_string("2010-04-01"));
	json_object_set_new(j, "uri", json_string(uri));
	rest_json(resp, 200, j);
}

static void rest_serve(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	struct api_agent_ws *a = arg;
	bool get = req->method.len == 3 && !memcmp(req->method.p, "GET", 3);
	bool post = req->method.len == 4 && !memcmp(req->method.p, "POST", 4);
	if (!get && !post) {
		rest_error(resp, 405, 20004, "Method not allowed");
		return;
	}
	const struct api_key *k = rest_auth(a, req->authorization);
	if (!k) {
		rest_error(resp, 401, 20003, "Authenticate");
		return;
	}
	char acc[80], sid[80];
	if (!rest_path(req->path, acc, sizeof(acc), sid, sizeof(sid))) {
		rest_error(resp, 404, 20404, "The requested resource was not found");
		return;
	}
	struct agent_conn *c = a->conns;
	while (c && strcmp(c->rc.call_sid, sid) != 0)
		c = c->next;
	const struct rest_call *rc = c ? &c->rc : NULL;
	for (size_t i = 0; !rc && i < ENDED_MAX; i++)
		if (a->ended[i].call_sid[0] && !strcmp(a->ended[i].call_sid, sid))
			rc = &a->ended[i];
	/* the path's account: the stream's accountSid, or the key itself (agents configured
	 * with our key as their "account SID") */
	if (!rc || (strcmp(acc, rc->account_sid) != 0 && strcmp(acc, k->key) != 0)) {
		rest_error(resp, 404, 20404, "The requested resource was not found");
		return;
	}
	if (get) {
		rest_call_json(resp, rc, !c);
		return;
	}
	char status[32];
	if (!form_value(req->body, "Status", status, sizeof(status))) {
		rest_error(resp, 400, 21218, "Only Status=completed is supported");
		return;
	}
	if (strcmp(status, "completed") != 0 && strcmp(status, "canceled") != 0) {
		rest_error(resp, 400, 21218, "Status must be completed or canceled");
		return;
	}
	if (!c || !strcmp(status, "canceled")) {
		/* over already, or canceled (which leaves an answered call alone, as Twilio does)
		 */
		rest_call_json(resp, rc, !c);
		return;
	}
	struct room_part *caller = stream_bridge_caller(c->b);
	SB_INFO("stream", "REST: Status=completed for %s", sid);
	if (caller && call_mgr_hangup_participant(a->calls, caller) == SB_ENOTFOUND)
		room_part_leave(caller);
	rest_call_json(resp, rc, true);
}

/* A transfer of a call that Twilio agents stream (started through the API or the console):
 * those agents get x-transfer with the outcome. Native agents learn the outcome of their own
 * transfer commands from the command itself. */
static void on_call_transfer(void *arg, const struct room_info *r, const struct room_part_info *p,
			     const struct call_transfer_result *t)
{
	struct api_agent_ws *a = arg;
	for (struct agent_conn *c = a->conns; c; c = c->next) {
		struct room_part *caller = c->b ? stream_bridge_caller(c->b) : NULL;
		if (c->native || !caller || strcmp(room_part_identity(caller), p->identity) ||
		    strcmp(room_part_room(caller), r->name))
			continue;
		stream_bridge_transfer_result(c->b, NULL, t->target, t->sip_status, t->reason);
	}
}

static const struct call_observer call_observer = {.transfer = on_call_transfer};

int api_agent_ws_register(struct api_http *h, const struct api_agent_ws_opts *o,
			  struct api_agent_ws **out)
{
	struct api_agent_ws *a = calloc(1, sizeof(*a));
	if (!a)
		return SB_ENOMEM;
	a->calls = o->calls;
	int err = api_agent_close_prepare(&a->on_close, o->on_close, "agent_close");
	if (err) {
		free(a);
		return err;
	}
	size_t n = o->keys ? o->keys->n : 0;
	if (n && !(a->keys = calloc(n, sizeof(*a->keys)))) {
		api_agent_ws_free(a);
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
	if (a->calls && call_mgr_add_observer(a->calls, &call_observer, a) == 0)
		a->observing = true;
	err = api_http_ws_route(h, API_AGENT_WS_TWILIO, &twilio_handlers, a);
	if (!err)
		err = api_http_ws_route(h, API_AGENT_WS_NATIVE, &native_handlers, a);
	struct api_http_route rest = {
	    .path = API_TWILIO_REST_PREFIX, .prefix = true, .fn = rest_serve, .arg = a};
	if (!err)
		err = api_http_route(h, &rest);
	if (err) {
		api_agent_ws_free(a);
		return err;
	}
	*out = a;
	return 0;
}

struct api_agent_rest *api_agent_ws_rest_begin(struct api_agent_ws *a, struct stream_bridge *b,
					       struct room_part *caller, bool outbound)
{
	if (!a || !b || !caller || stream_bridge_protocol(b) != STREAM_PROTO_TWILIO)
		return NULL;
	struct agent_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->a = a;
	c->b = b;
	rest_call_init(c, caller, outbound);
	return (struct api_agent_rest *)c;
}

void api_agent_ws_rest_end(struct api_agent_rest *r)
{
	struct agent_conn *c = (struct agent_conn *)r;
	if (!c)
		return;
	if (c->a)
		rest_call_end(c);
	free(c);
}

void api_agent_ws_free(struct api_agent_ws *a)
{
	if (!a)
		return;
	/* what is left belongs to others (agents dialled out): detach it */
	while (a->conns) {
		struct agent_conn *c = a->conns;
		a->conns = c->next;
		c->pprev = NULL;
		c->next = NULL;
		c->a = NULL;
	}
	for (size_t i = 0; i < a->ring.n; i++) {
		free((char *)(uintptr_t)a->keys[i].key);
		free((char *)(uintptr_t)a->keys[i].secret);
	}
	free(a->keys);
	api_agent_close_plan_free(&a->on_close);
	if (a->observing)
		call_mgr_remove_observer(a->calls, &call_observer, a);
	free(a);
}
