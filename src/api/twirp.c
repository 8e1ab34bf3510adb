/* Twirp: path routing, the method registry, Content-Type/token/body/grant checks in LiveKit's
 * order, and Twirp error JSON with the status of each code. */
#include "api/twirp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"

static const struct {
	const char *name;
	int status;
} codes[] = {
#define TWIRP__ROW(n, s, st) {s, st},
    TWIRP_CODE_MAP(TWIRP__ROW)
#undef TWIRP__ROW
};

const char *twirp_code_name(enum twirp_code c)
{
	return (unsigned)c < TWIRP__CODE_COUNT ? codes[c].name : "unknown";
}

int twirp_code_status(enum twirp_code c)
{
	return (unsigned)c < TWIRP__CODE_COUNT ? codes[c].status : 500;
}

int twirp_code_from_name(struct sb_slice name, enum twirp_code *out)
{
	for (unsigned i = 0; i < TWIRP__CODE_COUNT; i++)
		if (sb_slice_eq_cstr(name, codes[i].name)) {
			*out = (enum twirp_code)i;
			return 0;
		}
	return SB_ENOTFOUND;
}

void twirp_error_set(struct twirp_error *e, enum twirp_code code, const char *fmt, ...)
{
	e->code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int twirp_error_meta(struct twirp_error *e, const char *key, const char *value)
{
	if (!e->meta && !(e->meta = json_object()))
		return SB_ENOMEM;
	return json_object_set_new(e->meta, key, json_string(value ? value : "")) ? SB_ENOMEM : 0;
}

void twirp_error_clear(struct twirp_error *e)
{
	json_decref(e->meta);
	e->meta = NULL;
}

void twirp_error_json(const struct twirp_error *e, struct sb_buf *b)
{
	json_t *o = json_object();
	char *text = NULL;
	if (o && !json_object_set_new(o, "code", json_string(twirp_code_name(e->code))) &&
	    !json_object_set_new(o, "msg", json_string(e->msg)) &&
	    (!e->meta || !json_object_size(e->meta) || !json_object_set(o, "meta", e->meta)))
		text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text) {
		sb_buf_append_cstr(b, text);
		free(text);
	} else {
		/* out of memory or msg not UTF-8: still a Twirp error the SDK can read */
		sb_buf_printf(b, "{\"code\":\"%s\",\"msg\":\"error\"}", twirp_code_name(e->code));
	}
}

void twirp_error_respond(const struct twirp_error *e, struct api_http_resp *resp)
{
	resp->status = twirp_code_status(e->code);
	/* exactly this: the SDK compares the header with === (research §0.1) */
	resp->content_type = "application/json";
	sb_buf_reset(&resp->body);
	twirp_error_json(e, &resp->body);
}

int twirp_parse_path(struct sb_slice path, struct sb_slice *service, struct sb_slice *method)
{
	if (path.len >= 2 && path.p[0] == '/' && path.p[1] == '/')
		path = sb_slice(path.p + 1, path.len - 1);
	struct sb_slice pre = SB_SLICE_LIT(TWIRP_PREFIX);
	if (path.len <= pre.len || memcmp(path.p, pre.p, pre.len))
		return SB_ENOTFOUND;
	struct sb_slice rest = sb_slice(path.p + pre.len, path.len - pre.len);
	ptrdiff_t slash = sb_slice_find(rest, '/');
	if (slash <= 0 || (size_t)slash + 1 >= rest.len)
		return SB_ENOTFOUND;
	struct sb_slice m = sb_slice(rest.p + slash + 1, rest.len - (size_t)slash - 1);
	if (sb_slice_find(m, '/') >= 0)
		return SB_ENOTFOUND;
	*service = sb_slice(rest.p, (size_t)slash);
	*method = m;
	return 0;
}

/* ---- registry ---- */

struct entry {
	char *service, *method;
	enum api_perm perm;
	twirp_fn fn;
	void *arg;
};

struct twirp_server {
	struct entry *entries;
	size_t n, cap;
	struct api_key *keys;
	struct api_keyring ring;
	uint64_t (*now)(void);
};

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

void twirp_free(struct twirp_server *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->entries[i].service);
		free(t->entries[i].method);
	}
	free(t->entries);
	for (size_t i = 0; i < t->ring.n; i++) {
		free((char *)t->keys[i].key);
		free((char *)t->keys[i].secret);
	}
	free(t->keys);
	free(t);
}

int twirp_new(struct twirp_server **out, const struct twirp_opts *o)
{
	struct twirp_server *t = calloc(1, sizeof(*t));
	if (!t)
		return SB_ENOMEM;
	t->now = o->now ? o->now : sb_clock_wall_s;
	size_t n = o->keys ? o->keys->n : 0;
	if (n) {
		t->keys = calloc(n, sizeof(*t->keys));
		if (!t->keys)
			goto nomem;
		for (size_t i = 0; i < n; i++) {
			const struct api_key *k = &o->keys->keys[i];
			t->keys[i].key = dup_str(k->key ? k->key : "");
			t->keys[i].secret = dup_str(k->secret ? k->secret : "");
			t->ring.n = i + 1;
			if (!t->keys[i].key || !t->keys[i].secret)
				goto nomem;
		}
	}
	t->ring.keys = t->keys;
	*out = t;
	return 0;
nomem:
	twirp_free(t);
	return SB_ENOMEM;
}

static struct entry *find(const struct twirp_server *t, struct sb_slice service,
			  struct sb_slice method)
{
	for (size_t i = 0; i < t->n; i++)
		if (sb_slice_eq_cstr(service, t->entries[i].service) &&
		    sb_slice_eq_cstr(method, t->entries[i].method))
			return &t->entries[i];
	return NULL;
}

int twirp_register(struct twirp_server *t, const struct twirp_method *m)
{
	if (!m->service || !m->method || !m->fn || strchr(m->service, '/') ||
	    strchr(m->method, '/'))
		return SB_EINVAL;
	struct sb_slice s = sb_slice_cstr(m->service), me = sb_slice_cstr(m->method);
	enum api_perm perm = m->perm != API_PERM_NONE ? m->perm : api_rpc_perm(s, me);
	if (perm == API_PERM_NONE)
		return SB_EINVAL;
	if (find(t, s, me))
		return SB_EEXISTS;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct entry *ne = realloc(t->entries, ncap * sizeof(*ne));
		if (!ne)
			return SB_ENOMEM;
		t->entries = ne;
		t->cap = ncap;
	}
	struct entry e = {dup_str(m->service), dup_str(m->method), perm, m->fn, m->arg};
	if (!e.service || !e.method) {
		free(e.service);
		free(e.method);
		return SB_ENOMEM;
	}
	t->entries[t->n++] = e;
	return 0;
}

/* ---- serving ---- */

/* The media type of a Content-Type value, lower-cased into dst. */
static void media_type(struct sb_slice ct, char *dst, size_t cap)
{
	ptrdiff_t semi = sb_slice_find(ct, ';');
	if (semi >= 0)
		ct.len = (size_t)semi;
	ct = sb_slice_trim(ct);
	size_t n = ct.len < cap - 1 ? ct.len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		char c = ct.p[i];
		dst[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	dst[n] = '\0';
}

/* The request's room for a grant check: RoomService uses "room", TransferSIPParticipant
 * "room_name" (camelCase "roomName" from the SDK). */
static struct sb_slice request_room(json_t *req, enum api_perm perm)
{
	static const char *const keys_room[] = {"room"};
	static const char *const keys_room_name[] = {"roomName", "room_name"};
	const char *const *keys = keys_room;
	size_t n = 1;
	if (perm == API_PERM_SIP_CALL_ROOM_ADMIN) {
		keys = keys_room_name;
		n = 2;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(req, keys[i]);
		if (json_is_string(v))
			return sb_slice(json_string_value(v), json_string_length(v));
	}
	return SB_SLICE_LIT("");
}

static void route_error(struct twirp_error *e, const struct api_http_req *req)
{
	twirp_error_set(e, TWIRP_BAD_ROUTE, "no handler for path \"" SB_SLICE_FMT "\"",
			SB_SLICE_ARG(req->path));
	char route[600];
	snprintf(route, sizeof(route), SB_SLICE_FMT " " SB_SLICE_FMT, SB_SLICE_ARG(req->method),
		 SB_SLICE_ARG(req->path));
	twirp_error_meta(e, "twirp_invalid_route", route);
}

/* A handler's result object as the 200 answer; 0, or non-zero with e set. */
static int ok_json(json_t *out, struct api_http_resp *resp, struct twirp_error *e)
{
	if (out && !json_is_object(out)) {
		twirp_error_set(e, TWIRP_INTERNAL, "internal error: response is not an object");
		return -1;
	}
	char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
	if (out && !text) {
		twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
		return -1;
	}
	resp->status = 200;
	resp->content_type = "application/json";
	sb_buf_reset(&resp->body);
	sb_buf_append_cstr(&resp->body, text ? text : "{}");
	free(text);
	return 0;
}

struct twirp_later *twirp_defer(const struct twirp_call *call, void (*gone)(void *arg), void *arg)
{
	if (!call->http_resp || !call->deferred || *call->deferred)
		return NULL;
	struct api_http_later *l = api_http_defer(call->http_resp, gone, arg);
	if (l)
		*call->deferred = true;
	return (struct twirp_later *)l;
}

void twirp_later_ok(struct twirp_later *l, json_t *resp)
{
	struct api_http_later *hl = (struct api_http_later *)l;
	struct twirp_error e = {.code = TWIRP_INTERNAL};
	if (ok_json(resp, api_http_later_resp(hl), &e))
		twirp_error_respond(&e, api_http_later_resp(hl));
	twirp_error_clear(&e);
	json_decref(resp);
	api_http_later_done(hl);
}

void twirp_later_fail(struct twirp_later *l, const struct twirp_error *e)
{
	struct api_http_later *hl = (struct api_http_later *)l;
	twirp_error_respond(e, api_http_later_resp(hl));
	api_http_later_done(hl);
}

void twirp_serve(const struct api_http_req *req, struct api_http_resp *resp, void *arg)
{
	struct twirp_server *t = arg;
	struct twirp_error e = {.code = TWIRP_INTERNAL};
	json_t *body = NULL, *out = NULL;
	struct api_claims claims;
	struct sb_slice service, method;
	const struct entry *en = NULL;
	enum api_perm perm = API_PERM_NONE;

	if (!sb_slice_eq_cstr(req->method, "POST")) {
		twirp_error_set(&e, TWIRP_BAD_ROUTE,
				"unsupported method \"" SB_SLICE_FMT "\" (only POST is allowed)",
				SB_SLICE_ARG(req->method));
		char route[600];
		snprintf(route, sizeof(route), SB_SLICE_FMT " " SB_SLICE_FMT,
			 SB_SLICE_ARG(req->method), SB_SLICE_ARG(req->path));
		twirp_error_meta(&e, "twirp_invalid_route", route);
		goto fail;
	}
	if (!twirp_parse_path(req->path, &service, &method)) {
		en = find(t, service, method);
		/* a LiveKit RPC without a handler yet goes through every check and then gets
		 * unimplemented, so clients can tell it from a mistyped path */
		perm = en ? en->perm : api_rpc_perm(service, method);
	}
	if (perm == API_PERM_NONE) {
		route_error(&e, req);
		goto fail;
	}
	char mt[64];
	media_type(req->content_type, mt, sizeof(mt));
	if (!strcmp(mt, "application/protobuf")) {
		/* Twirp's binary encoding; no LiveKit SDK sends it (they all use JSON) */
		twirp_error_set(&e, TWIRP_UNIMPLEMENTED,
				"application/protobuf is not supported: send application/json");
		goto fail;
	}
	if (strcmp(mt, "application/json")) {
		/* what Twirp's generated servers answer */
		twirp_error_set(&e, TWIRP_BAD_ROUTE,
				"unexpected Content-Type: \"" SB_SLICE_FMT "\"",
				SB_SLICE_ARG(req->content_type));
		char route[600];
		snprintf(route, sizeof(route), "POST " SB_SLICE_FMT, SB_SLICE_ARG(req->path));
		twirp_error_meta(&e, "twirp_invalid_route", route);
		goto fail;
	}
	struct sb_slice token;
	if (api_token_bearer(req->authorization, &token)) {
		twirp_error_set(&e, TWIRP_UNAUTHENTICATED,
				"permissions denied: no access token (Authorization: Bearer)");
		goto fail;
	}
	char why[128];
	if (api_token_verify(&t->ring, token, t->now(), &claims, why, sizeof(why))) {
		twirp_error_set(&e, TWIRP_UNAUTHENTICATED, "invalid authorization token: %s", why);
		goto fail;
	}
	json_error_t jerr;
	body = json_loadb(req->body.p, req->body.len, 0, &jerr);
	if (!body || !json_is_object(body)) {
		twirp_error_set(&e, TWIRP_MALFORMED, "the json request could not be decoded: %s",
				body ? "not a JSON object" : jerr.text);
		goto fail;
	}
	if (!api_perm_check(&claims, perm, request_room(body, perm))) {
		/* LiveKit's answer to a missing grant (research §2.2) */
		twirp_error_set(&e, TWIRP_UNAUTHENTICATED, "permissions denied");
		goto fail;
	}
	if (!en) {
		twirp_error_set(&e, TWIRP_UNIMPLEMENTED,
				SB_SLICE_FMT "/" SB_SLICE_FMT " is not implemented yet",
				SB_SLICE_ARG(service), SB_SLICE_ARG(method));
		goto fail;
	}
	bool deferred = false;
	struct twirp_call call = {service, method, body, &claims, resp, &deferred};
	twirp_error_set(&e, TWIRP_INTERNAL, "internal error");
	if (en->fn(&call, &out, &e, en->arg)) {
		json_decref(out);
		out = NULL;
		if (deferred) {
			/* a handler must not both defer and fail; the client gets the failure */
			SB_WARN("twirp", SB_SLICE_FMT "/" SB_SLICE_FMT " deferred and failed",
				SB_SLICE_ARG(service), SB_SLICE_ARG(method));
		}
		goto fail;
	}
	if (deferred) {
		SB_DEBUG("twirp", SB_SLICE_FMT "/" SB_SLICE_FMT " answers later",
			 SB_SLICE_ARG(service), SB_SLICE_ARG(method));
		goto out;
	}
	if (ok_json(out, resp, &e))
		goto fail;
	SB_DEBUG("twirp", SB_SLICE_FMT "/" SB_SLICE_FMT " ok (iss %s)", SB_SLICE_ARG(service),
		 SB_SLICE_ARG(method), claims.iss);
	goto out;
fail:
	SB_DEBUG("twirp", SB_SLICE_FMT " " SB_SLICE_FMT ": %s: %s", SB_SLICE_ARG(req->method),
		 SB_SLICE_ARG(req->path), twirp_code_name(e.code), e.msg);
	twirp_error_respond(&e, resp);
out:
	twirp_error_clear(&e);
	json_decref(out);
	json_decref(body);
}
