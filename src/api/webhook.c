/* Webhook notifier: event JSON builders, per-URL queues with retry and back-off, HTTP POSTs on
 * a client-only libwebsockets context sharing the control loop, and its foreign-loop shutdown. */
#include "api/webhook.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/lws_uv.h"
#include "api/token.h"
#include "base/clock.h"
#include "base/compat.h"
#include "base/err.h"
#include "base/log.h"
#include "store/store.h"

#define HOST_MAX 256
/* Closing: how often to look whether lws has finished, and for how long at most (as http.c). */
#define CLOSE_POLL_MS	 5
#define CLOSE_GIVE_UP_MS 5000
/* At most one "queue full" line per URL per this long; the counter has the rest. */
#define DROP_LOG_MS 1000
/* Where Debian keeps the CA bundle; lws 4.1's compiled-in default ("../share") finds nothing. */

/* ---- builders ---- */

/* Set members only when they differ from the protobuf default, as protojson does. */
struct jb {
	json_t *o;
	bool oom;
};

static void jb_set(struct jb *b, const char *key, json_t *v)
{
	if (!v || json_object_set_new(b->o, key, v))
		b->oom = true;
}

static void jb_str(struct jb *b, const char *key, const char *s)
{
	if (s && s[0])
		jb_set(b, key, json_string(s));
}

static void jb_u32(struct jb *b, const char *key, uint32_t v)
{
	if (v)
		jb_set(b, key, json_integer((json_int_t)v));
}

/* int64 fields are JSON strings. */
static void jb_i64(struct jb *b, const char *key, uint64_t v)
{
	char text[24];
	if (!v)
		return;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	jb_set(b, key, json_string(text));
}

static json_t *jb_done(struct jb *b)
{
	if (b->oom) {
		json_decref(b->o);
		return NULL;
	}
	return b->o;
}

json_t *api_webhook_room_json(const struct api_webhook_room *r)
{
	struct jb b = {json_object(), false};
	if (!b.o)
		return NULL;
	jb_str(&b, "sid", r->sid);
	jb_str(&b, "name", r->name);
	jb_u32(&b, "emptyTimeout", r->empty_timeout);
	jb_u32(&b, "departureTimeout", r->departure_timeout);
	jb_u32(&b, "maxParticipants", r->max_participants);
	jb_i64(&b, "creationTime", r->creation_time_ms / 1000);
	jb_i64(&b, "creationTimeMs", r->creation_time_ms);
	jb_str(&b, "metadata", r->metadata);
	jb_u32(&b, "numParticipants", r->num_participants);
	jb_u32(&b, "numPublishers", r->num_publishers);
	return jb_done(&b);
}

static const char *state_name(enum api_webhook_part_state s)
{
	static const char *const names[] = {"JOINING", "JOINED", "ACTIVE", "DISCONNECTED"};
	return (unsigned)s < SB_ARRAY_LEN(names) ? names[s] : NULL;
}

static const char *kind_name(enum api_webhook_part_kind k)
{
	static const char *const names[] = {"STANDARD", "INGRESS", "EGRESS", "SIP", "AGENT"};
	return (unsigned)k < SB_ARRAY_LEN(names) ? names[k] : NULL;
}

static const char *reason_name(enum api_webhook_disconnect r)
{
	static const char *const names[] = {
	    "UNKNOWN_REASON",	   "CLIENT_INITIATED",	"DUPLICATE_IDENTITY", "SERVER_SHUTDOWN",
	    "PARTICIPANT_REMOVED", "ROOM_DELETED",	"STATE_MISMATCH",     "JOIN_FAILURE",
	    "MIGRATION",	   "SIGNAL_CLOSE",	"ROOM_CLOSED",	      "USER_UNAVAILABLE",
	    "USER_REJECTED",	   "SIP_TRUNK_FAILURE", "CONNECTION_TIMEOUT", "MEDIA_FAILURE",
	    "AGENT_ERROR",
	};
	return (unsigned)r < SB_ARRAY_LEN(names) ? names[r] : NULL;
}

json_t *api_webhook_participant_json(const struct api_webhook_participant *p)
{
	struct jb b = {json_object(), false};
	if (!b.o)
		return NULL;
	jb_str(&b, "sid", p->sid);
	jb_str(&b, "identity", p->identity);
	if (p->state != API_WEBHOOK_JOINING)
		jb_str(&b, "state", state_name(p->state));
	jb_str(&b, "metadata", p->metadata);
	jb_i64(&b, "joinedAt", p->joined_at_ms / 1000);
	jb_i64(&b, "joinedAtMs", p->joined_at_ms);
	jb_str(&b, "name", p->name);
	jb_u32(&b, "version", p->version);
	if (p->is_publisher)
		jb_set(&b, "isPublisher", json_true());
	if (p->kind != API_WEBHOOK_KIND_STANDARD)
		jb_str(&b, "kind", kind_name(p->kind));
	if (p->n_attrs) {
		struct jb a = {json_object(), false};
		if (!a.o)
			b.oom = true;
		for (size_t i = 0; a.o && i < p->n_attrs; i++)
			if (p->attrs[i].key)
				jb_set(&a, p->attrs[i].key,
				       json_string(p->attrs[i].value ? p->attrs[i].value : ""));
		jb_set(&b, "attributes", jb_done(&a));
	}
	if (p->disconnect_reason != API_WEBHOOK_DR_UNKNOWN)
		jb_str(&b, "disconnectReason", reason_name(p->disconnect_reason));
	return jb_done(&b);
}

json_t *api_webhook_event(const char *name, const struct api_webhook_room *room,
			  const struct api_webhook_participant *p)
{
	struct jb b = {json_object(), false};
	if (!b.o)
		return NULL;
	jb_set(&b, "event", json_string(name ? name : ""));
	if (room)
		jb_set(&b, "room", api_webhook_room_json(room));
	if (p)
		jb_set(&b, "participant", api_webhook_participant_json(p));
	return jb_done(&b);
}

/* An event with a `switchboard` details object; takes details. */
static json_t *ext_event(const char *name, const struct api_webhook_room *room,
			 const struct api_webhook_participant *p, json_t *details)
{
	json_t *ev = details ? api_webhook_event(name, room, p) : NULL;
	if (!ev || json_object_set_new(ev, "switchboard", details)) {
		if (!ev)
			json_decref(details);
		json_decref(ev);
		return NULL;
	}
	return ev;
}

json_t *api_webhook_hold_event(const struct api_webhook_room *room,
			       const struct api_webhook_participant *p, bool held, bool by_remote)
{
	struct jb b = {json_object(), false};
	if (!b.o)
		return NULL;
	jb_set(&b, "held", json_boolean(held));
	jb_set(&b, "initiator", json_string(by_remote ? "remote" : "local"));
	return ext_event(held ? API_WEBHOOK_HOLD : API_WEBHOOK_RESUME, room, p, jb_done(&b));
}

json_t *api_webhook_transfer_event(const struct api_webhook_room *room,
				   const struct api_webhook_participant *p,
				   const struct api_webhook_transfer *t)
{
	struct jb b = {json_object(), false};
	if (!b.o)
		return NULL;
	jb_set(&b, "transferTo", json_string(t->transfer_to ? t->transfer_to : ""));
	jb_set(&b, "success", json_boolean(t->sip_status >= 200 && t->sip_status < 300));
	jb_set(&b, "sipStatusCode", json_integer(t->sip_status));
	jb_str(&b, "sipStatus", t->reason);
	jb_str(&b, "transferId", t->transfer_id);
	return ext_event(API_WEBHOOK_TRANSFER, room, p, jb_done(&b));
}

json_t *api_webhook_dtmf_event(const struct api_webhook_room *room,
			       const struct api_webhook_participant *p, char digit,
			       uint32_t duration_ms)
{
	int code;
	if (digit >= '0' && digit <= '9')
		code = digit - '0';
	else if (digit == '*')
		code = 10;
	else if (digit == '#')
		code = 11;
	else if (digit >= 'A' && digit <= 'D')
		code = 12 + (digit - 'A');
	else if (digit >= 'a' && digit <= 'd')
		code = 12 + (digit - 'a');
	else
		return NULL;
	char text[2] = {code >= 12 ? (char)('A' + code - 12) : digit, '\0'};
	struct jb b = {json_object(), false};
	if (!b.o)
		return NULL;
	jb_set(&b, "digit", json_string(text));
	jb_set(&b, "code", json_integer(code));
	jb_u32(&b, "durationMs", duration_ms);
	return ext_event(API_WEBHOOK_DTMF, room, p, jb_done(&b));
}

/* ---- the notifier ---- */

/* One serialised event, shared by every URL's queue. */
struct body {
	unsigned refs;
	uint64_t born_ms; /* loop time when posted: the max age counts from here */
	size_t len;
	char text[];
};

enum tstate {
	T_IDLE,	      /* nothing in flight; the timer may be due at 0 to start the next */
	T_RESOLVING,  /* uv_getaddrinfo running; the timer is the attempt's deadline */
	T_CONNECTING, /* inside lws_client_connect_via_info */
	T_IN_FLIGHT,  /* wsi owns the attempt; the timer is its deadline */
	T_WAITING,    /* back-off before the next attempt; the timer ends it */
};

struct target {
	struct api_webhook *n;
	char url[API_WEBHOOK_MAX_URL_LEN]; /* for logs: scheme://host[:port]/path, no query */
	char host[HOST_MAX];		   /* for the resolver (no brackets) */
	char host_hdr[HOST_MAX + 8];	   /* Host: (with [] and a port that is not the default) */
	char path[API_WEBHOOK_MAX_URL_LEN];
	uint16_t port;
	bool tls;
	/* ring of queued events; q[head] is the one being delivered */
	struct body **q;
	size_t head, len;
	uint32_t attempts; /* of q[head] so far */
	enum tstate state;
	unsigned gen; /* bumped per attempt: a late resolver answer of an old one is ignored */
	struct lws *wsi;
	int status; /* HTTP status of the attempt in flight, 0 before the answer */
	char *auth; /* the JWT of the attempt in flight */
	uv_timer_t timer;
	uint64_t last_drop_log;
	struct api_webhook_stats st;
};

struct resolve {
	uv_getaddrinfo_t req;
	struct target *t;
	unsigned gen;
	struct resolve *next, **pprev; /* in n->resolving, so close can cancel it */
};

struct api_webhook {
	uv_loop_t *loop;
	struct lws_context *ctx; /* lws writes NULL here when its destruction is complete */
	struct lws_protocols protocols[2];
	char *key, *secret;
	size_t queue_max;
	uint32_t timeout_ms, backoff_ms, backoff_max_ms, max_attempts, max_age_ms;
	struct target *targets;
	size_t n_targets;
	struct resolve *resolving;
	/* The uv handles lws embeds in its context (see http.c). */
	struct api_lws_handles lws_handles;
	/* closing */
	bool closing;
	size_t timers_open;
	uv_timer_t close_timer;
	unsigned close_waited_ms;
	bool gave_up_lws;
	void (*close_cb)(void *arg);
	void *close_arg;
};

static void body_unref(struct body *b)
{
	if (b && !--b->refs)
		free(b);
}

/* ---- URLs ---- */

/* http[s]://host[:port][/path][?query][#fragment]; no user info. 0 or SB_EINVAL. */
static int parse_url(struct target *t, const char *url)
{
	size_t off;
	if (!strncasecmp(url, "http://", 7)) {
		off = 7;
		t->tls = false;
		t->port = 80;
	} else if (!strncasecmp(url, "https://", 8)) {
		off = 8;
		t->tls = true;
		t->port = 443;
	} else {
		return SB_EINVAL;
	}
	const char *a = url + off;
	size_t alen = strcspn(a, "/?#");
	const char *rest = a + alen;
	if (!alen || memchr(a, '@', alen))
		return SB_EINVAL;
	for (size_t i = 0; i < alen; i++)
		if ((unsigned char)a[i] <= ' ' || a[i] == 0x7f)
			return SB_EINVAL;
	const char *h = a, *port = NULL;
	size_t hlen;
	bool v6 = a[0] == '[';
	if (v6) {
		const char *close = memchr(a, ']', alen);
		if (!close)
			return SB_EINVAL;
		h = a + 1;
		hlen = (size_t)(close - h);
		if (close + 1 < a + alen) {
			if (close[1] != ':')
				return SB_EINVAL;
			port = close + 2;
		}
	} else {
		const char *colon = memchr(a, ':', alen);
		hlen = colon ? (size_t)(colon - a) : alen;
		port = colon ? colon + 1 : NULL;
	}
	if (!hlen || hlen >= sizeof(t->host))
		return SB_EINVAL;
	memcpy(t->host, h, hlen);
	t->host[hlen] = '\0';
	bool default_port = true;
	if (port) {
		uint32_t p;
		if (sb_slice_to_u32(sb_slice(port, (size_t)(a + alen - port)), 65535, &p) || !p)
			return SB_EINVAL;
		default_port = p == t->port;
		t->port = (uint16_t)p;
	}
	snprintf(t->host_hdr, sizeof(t->host_hdr), "%s%s%s", v6 ? "[" : "", t->host, v6 ? "]" : "");
	if (!default_port) {
		size_t n = strlen(t->host_hdr);
		snprintf(t->host_hdr + n, sizeof(t->host_hdr) - n, ":%u", t->port);
	}
	size_t plen = strcspn(rest, "#");
	if (plen + 2 > sizeof(t->path))
		return SB_EINVAL;
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)rest[i] <= ' ' || rest[i] == 0x7f)
			return SB_EINVAL;
	snprintf(t->path, sizeof(t->path), "%s%.*s", rest[0] == '/' ? "" : "/", (int)plen, rest);
	snprintf(t->url, sizeof(t->url), "%s://%s%.*s", t->tls ? "https" : "http", t->host_hdr,
		 (int)strcspn(t->path, "?"), t->path);
	return 0;
}

/* ---- delivery ---- */

static struct body *head(const struct target *t)
{
	return t->len ? t->q[t->head] : NULL;
}

static void pop(struct target *t)
{
	body_unref(t->q[t->head]);
	t->q[t->head] = NULL;
	t->head = (t->head + 1) % t->n->queue_max;
	t->len--;
	t->st.queued = t->len;
	t->attempts = 0;
}

static void on_timer(uv_timer_t *timer);

static void arm(struct target *t, uint64_t ms)
{
	uv_timer_start(&t->timer, on_timer, ms, 0);
}

static void give_up(struct target *t, const char *why)
{
	t->st.given_up++;
	SB_WARN("webhook", "%s: giving up on an event after %u attempts: %s", t->url, t->attempts,
		why);
	pop(t);
	t->state = T_IDLE;
	t->wsi = NULL;
	if (t->len)
		arm(t, 0);
}

static void attempt_failed(struct target *t, const char *why)
{
	struct api_webhook *n = t->n;
	uv_timer_stop(&t->timer);
	t->st.attempts_failed++;
	t->attempts++;
	t->wsi = NULL;
	uint64_t age = uv_now(n->loop) - head(t)->born_ms;
	if (t->attempts >= n->max_attempts || age >= n->max_age_ms) {
		give_up(t, why);
		return;
	}
	uint64_t wait = n->backoff_ms;
	for (uint32_t i = 1; i < t->attempts && wait < n->backoff_max_ms; i++)
		wait *= 2;
	if (wait > n->backoff_max_ms)
		wait = n->backoff_max_ms;
	SB_INFO("webhook", "%s: attempt %u failed (%s); retrying in %llu ms", t->url, t->attempts,
		why, (unsigned long long)wait);
	t->state = T_WAITING;
	arm(t, wait);
}

static void attempt_answered(struct target *t, int status)
{
	if (status < 200 || status > 299) {
		char why[32];
		snprintf(why, sizeof(why), "HTTP %d", status);
		attempt_failed(t, why);
		return;
	}
	uv_timer_stop(&t->timer);
	t->st.sent++;
	SB_DEBUG("webhook", "%s: delivered (%d)", t->url, status);
	pop(t);
	t->state = T_IDLE;
	t->wsi = NULL;
	if (t->len)
		arm(t, 0);
}

static void connect_to(struct target *t, const char *addr)
{
	struct api_webhook *n = t->n;
	struct body *b = head(t);
	free(t->auth);
	t->auth = NULL;
	int err = api_webhook_sign(n->key, n->secret, sb_slice(b->text, b->len), sb_clock_wall_s(),
				   &t->auth);
	if (err) {
		attempt_failed(t, sb_strerror(err));
		return;
	}
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = n->ctx;
	ci.address = addr;
	ci.port = t->port;
	ci.ssl_connection = t->tls ? LCCSCF_USE_SSL : 0;
	ci.ssl_connection |= LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
	ci.path = t->path;
	ci.host = t->host_hdr;
	ci.origin = NULL;
	ci.method = "POST";
	ci.protocol = n->protocols[0].name;
	ci.alpn = "http/1.1";
	ci.opaque_user_data = t;
	t->status = 0;
	t->wsi = NULL;
	t->state = T_CONNECTING;
	struct lws *wsi = lws_client_connect_via_info(&ci);
	if (t->state != T_CONNECTING)
		return; /* failed inside the call, already handled */
	if (!wsi) {
		attempt_failed(t, "cannot connect");
		return;
	}
	t->state = T_IN_FLIGHT;
	t->wsi = wsi;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct resolve *r = SB_CONTAINER_OF(req, struct resolve, req);
	struct target *t = r->t;
	unsigned gen = r->gen;
	*r->pprev = r->next;
	if (r->next)
		r->next->pprev = r->pprev;
	free(r);
	struct api_webhook *n = t->n;
	if (n->closing || gen != t->gen || t->state != T_RESOLVING) {
		uv_freeaddrinfo(res);
		return;
	}
	if (status || !res) {
		char why[HOST_MAX + 64];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", t->host,
			 status ? uv_strerror(status) : "no address");
		uv_freeaddrinfo(res);
		attempt_failed(t, why);
		return;
	}
	char addr[INET6_ADDRSTRLEN] = "";
	if (res->ai_family == AF_INET6)
		uv_ip6_name((const struct sockaddr_in6 *)(const void *)res->ai_addr, addr,
			    sizeof(addr));
	else
		uv_ip4_name((const struct sockaddr_in *)(const void *)res->ai_addr, addr,
			    sizeof(addr));
	uv_freeaddrinfo(res);
	connect_to(t, addr);
}

static void start_attempt(struct target *t)
{
	struct api_webhook *n = t->n;
	while (t->len && uv_now(n->loop) - head(t)->born_ms >= n->max_age_ms)
		give_up(t, "too old");
	uv_timer_stop(&t->timer);
	if (!t->len || n->closing) {
		t->state = T_IDLE;
		return;
	}
	t->gen++;
	t->state = T_RESOLVING;
	arm(t, n->timeout_ms); /* the attempt's deadline */
	struct resolve *r = calloc(1, sizeof(*r));
	if (!r) {
		attempt_failed(t, "out of memory");
		return;
	}
	r->t = t;
	r->gen = t->gen;
	char port[8];
	snprintf(port, sizeof(port), "%u", t->port);
	struct addrinfo hints;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	int err = uv_getaddrinfo(n->loop, &r->req, on_resolved, t->host, port, &hints);
	if (err) {
		free(r);
		char why[HOST_MAX + 64];
		snprintf(why, sizeof(why), "cannot resolve %s: %s", t->host, uv_strerror(err));
		attempt_failed(t, why);
		return;
	}
	r->next = n->resolving;
	r->pprev = &n->resolving;
	if (r->next)
		r->next->pprev = &r->next;
	n->resolving = r;
}

static void on_timer(uv_timer_t *timer)
{
	struct target *t = timer->data;
	if (t->n->closing)
		return;
	switch (t->state) {
	case T_IDLE:
	case T_WAITING:
		start_attempt(t);
		return;
	case T_RESOLVING:
	case T_CONNECTING:
	case T_IN_FLIGHT:
		/* the resolver's late answer is ignored (gen); the connection is killed and its
		 * callbacks no longer match t->wsi */
		t->gen++;
		if (t->wsi)
			lws_set_timeout(t->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		attempt_failed(t, "timed out");
		return;
	}
}

/* Whether wsi carries t's current attempt. */
static bool current(const struct target *t, const struct lws *wsi)
{
	if (t->n->closing)
		return false;
	return t->state == T_CONNECTING || (t->state == T_IN_FLIGHT && t->wsi == wsi);
}

static int add_header(struct lws *wsi, enum lws_token_indexes tok, const char *v, void *in,
		      size_t len)
{
	unsigned char **p = in, *end = *p + len - 1;
	return lws_add_http_header_by_token(wsi, tok, (const unsigned char *)v, (int)strlen(v), p,
					    end);
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		  size_t len)
{
	struct target *t = lws_get_opaque_user_data(wsi);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		if (!t || !current(t, wsi))
			return -1;
		char clen[24];
		snprintf(clen, sizeof(clen), "%zu", head(t)->len);
		if (add_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, "application/webhook+json", in,
			       len) ||
		    add_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, t->auth, in, len) ||
		    add_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, clen, in, len))
			return -1;
		lws_client_http_body_pending(wsi, 1);
		lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: {
		if (!t || !current(t, wsi))
			return -1;
		struct body *b = head(t);
		unsigned char *out = malloc(LWS_PRE + b->len);
		if (!out)
			return -1;
		memcpy(out + LWS_PRE, b->text, b->len);
		int w = lws_write(wsi, out + LWS_PRE, b->len, LWS_WRITE_HTTP_FINAL);
		free(out);
		if (w < 0)
			return -1;
		lws_client_http_body_pending(wsi, 0);
		return 0;
	}
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		if (t && current(t, wsi))
			t->status = (int)lws_http_client_http_response(wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP: {
		char buf[LWS_PRE + 1024];
		char *p = buf + LWS_PRE;
		int n = (int)sizeof(buf) - LWS_PRE;
		return lws_http_client_read(wsi, &p, &n) < 0 ? -1 : 0;
	}
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		return 0; /* the answer's body is not needed */
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		if (t && current(t, wsi))
			attempt_answered(t, t->status);
		return -1; /* one request per connection */
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (t && current(t, wsi)) {
			char why[128];
			if (in && len)
				snprintf(why, sizeof(why), "%.*s", (int)len, (const char *)in);
			else
				snprintf(why, sizeof(why), "connection error");
			attempt_failed(t, why);
		}
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		if (t && current(t, wsi)) {
			if (t->status)
				attempt_answered(t, t->status); /* an answer ended by the close */
			else
				attempt_failed(t, "connection closed before an answer");
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- lws context on a foreign loop (as http.c) ---- */

static void lws_log(int level, const char *line)
{
	size_t len = strlen(line);
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (level & LLL_ERR)
		SB_ERROR("webhook", "lws: %.*s", (int)len, line);
	else
		SB_WARN("webhook", "lws: %.*s", (int)len, line);
}

static int start_lws(struct api_webhook *n, const char *ca_file)
{
	bool tls = false;
	for (size_t i = 0; i < n->n_targets; i++)
		tls |= n->targets[i].tls;
	n->protocols[0] = (struct lws_protocols){.name = "webhook", .callback = on_lws};
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);

	n->ctx =
	    api_lws_client_create(n->loop, n->protocols, n, tls, ca_file, &n->ctx, &n->lws_handles);
	if (!n->ctx) {
		SB_ERROR("webhook", "cannot start the libwebsockets client");
		return SB_EIO;
	}
	return 0;
}

/* ---- lifecycle ---- */

static void free_all(struct api_webhook *n)
{
	for (size_t i = 0; i < n->n_targets; i++) {
		struct target *t = &n->targets[i];
		while (t->len)
			pop(t);
		free(t->q);
		free(t->auth);
	}
	free(n->targets);
	free(n->key);
	free(n->secret);
	free(n);
}

static char *dup_str(const char *s)
{
	size_t len = strlen(s) + 1;
	char *d = malloc(len);
	if (d)
		memcpy(d, s, len);
	return d;
}

static void close_timer_closed(uv_handle_t *h);

int api_webhook_new(struct api_webhook **out, const struct api_webhook_opts *o)
{
	if (!o->loop || o->n_urls > API_WEBHOOK_MAX_URLS || (o->n_urls && !o->urls))
		return SB_EINVAL;
	if (o->n_urls && (!o->api_key || !o->api_key[0] || !o->api_secret || !o->api_secret[0])) {
		SB_ERROR("webhook", "webhook URLs need an API key and secret to sign with");
		return SB_EINVAL;
	}
	struct api_webhook *n = calloc(1, sizeof(*n));
	if (!n)
		return SB_ENOMEM;
	n->loop = o->loop;
	n->queue_max = o->queue_max ? o->queue_max : API_WEBHOOK_QUEUE_MAX;
	if (n->queue_max < 2)
		n->queue_max = 2; /* the event in flight and one more */
	n->timeout_ms = o->timeout_ms ? o->timeout_ms : API_WEBHOOK_TIMEOUT_MS;
	n->backoff_ms = o->backoff_ms ? o->backoff_ms : API_WEBHOOK_BACKOFF_MS;
	n->backoff_max_ms = o->backoff_max_ms ? o->backoff_max_ms : API_WEBHOOK_BACKOFF_MAX;
	if (n->backoff_max_ms < n->backoff_ms)
		n->backoff_max_ms = n->backoff_ms;
	n->max_attempts = o->max_attempts ? o->max_attempts : API_WEBHOOK_MAX_ATTEMPTS;
	n->max_age_ms = o->max_age_ms ? o->max_age_ms : API_WEBHOOK_MAX_AGE_MS;
	n->key = dup_str(o->api_key ? o->api_key : "");
	n->secret = dup_str(o->api_secret ? o->api_secret : "");
	n->targets = o->n_urls ? calloc(o->n_urls, sizeof(*n->targets)) : NULL;
	if (!n->key || !n->secret || (o->n_urls && !n->targets)) {
		free_all(n);
		return SB_ENOMEM;
	}
	for (size_t i = 0; i < o->n_urls; i++) {
		struct target *t = &n->targets[i];
		t->n = n;
		n->n_targets++;
		if (!o->urls[i] || parse_url(t, o->urls[i])) {
			SB_ERROR("webhook", "bad webhook URL '%s' (want http:// or https://)",
				 o->urls[i] ? o->urls[i] : "");
			free_all(n);
			return SB_EINVAL;
		}
		t->q = calloc(n->queue_max, sizeof(*t->q));
		if (!t->q) {
			free_all(n);
			return SB_ENOMEM;
		}
	}
	if (n->n_targets) {
		int err = start_lws(n, o->ca_file);
		if (err) {
			free_all(n);
			return err;
		}
	}
	for (size_t i = 0; i < n->n_targets; i++) {
		struct target *t = &n->targets[i];
		uv_timer_init(n->loop, &t->timer);
		t->timer.data = t;
		n->timers_open++;
	}
	uv_timer_init(n->loop, &n->close_timer);
	n->close_timer.data = n;
	for (size_t i = 0; i < n->n_targets; i++)
		SB_INFO("webhook", "webhooks to %s", n->targets[i].url);
	*out = n;
	return 0;
}

static void enqueue(struct target *t, struct body *b)
{
	struct api_webhook *n = t->n;
	if (t->len == n->queue_max) {
		/* drop the oldest waiting event; q[head] is being delivered */
		size_t second = (t->head + 1) % n->queue_max;
		body_unref(t->q[second]);
		t->q[second] = t->q[t->head];
		t->q[t->head] = NULL;
		t->head = second;
		t->len--;
		t->st.dropped++;
		uint64_t now = uv_now(n->loop);
		if (t->st.dropped == 1 || now - t->last_drop_log >= DROP_LOG_MS) {
			t->last_drop_log = now;
			SB_WARN("webhook",
				"%s: queue full (%zu events): dropped the oldest (%llu so far)",
				t->url, n->queue_max, (unsigned long long)t->st.dropped);
		}
	}
	b->refs++;
	t->q[(t->head + t->len) % n->queue_max] = b;
	t->len++;
	t->st.posted++;
	t->st.queued = t->len;
	if (t->state == T_IDLE && !uv_is_active((uv_handle_t *)&t->timer))
		arm(t,
		    0); /* from the loop, so a burst of posts goes out after the caller returns */
}

int api_webhook_post(struct api_webhook *n, json_t *event)
{
	if (!event)
		return SB_ENOMEM;
	int err = 0;
	char *text = NULL;
	struct body *b = NULL;
	if (n->closing) {
		err = SB_ECLOSED;
		goto out;
	}
	json_t *name = json_object_get(event, "event");
	if (!json_is_string(name) || !json_string_length(name)) {
		err = SB_EINVAL;
		goto out;
	}
	if (!n->n_targets)
		goto out;
	char id[STORE_ID_MAX];
	if (store_new_id(id, "EV_")) { /* LiveKit's id shape, from the store's generator */
		err = SB_EIO;
		goto out;
	}
	char created[24];
	snprintf(created, sizeof(created), "%llu", (unsigned long long)sb_clock_wall_s());
	if ((!json_object_get(event, "id") && json_object_set_new(event, "id", json_string(id))) ||
	    (!json_object_get(event, "createdAt") &&
	     json_object_set_new(event, "createdAt", json_string(created)))) {
		err = SB_ENOMEM;
		goto out;
	}
	text = json_dumps(event, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	b = text ? malloc(sizeof(*b) + len + 1) : NULL;
	if (!b) {
		err = SB_ENOMEM;
		goto out;
	}
	b->refs = 1; /* ours until every queue has taken its reference */
	b->born_ms = uv_now(n->loop);
	b->len = len;
	memcpy(b->text, text, len + 1);
	SB_DEBUG("webhook", "event %s (%zu bytes)", json_string_value(name), len);
	for (size_t i = 0; i < n->n_targets; i++)
		enqueue(&n->targets[i], b);
	body_unref(b);
out:
	free(text);
	json_decref(event);
	return err;
}

static void add_stats(struct api_webhook_stats *to, const struct api_webhook_stats *s)
{
	to->posted += s->posted;
	to->sent += s->sent;
	to->attempts_failed += s->attempts_failed;
	to->given_up += s->given_up;
	to->dropped += s->dropped;
	to->queued += s->queued;
}

void api_webhook_stats(const struct api_webhook *n, struct api_webhook_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n->n_targets; i++)
		add_stats(out, &n->targets[i].st);
}

size_t api_webhook_url_count(const struct api_webhook *n)
{
	return n->n_targets;
}

void api_webhook_url_stats(const struct api_webhook *n, size_t i, struct api_webhook_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (i < n->n_targets)
		*out = n->targets[i].st;
}

static void target_timer_closed(uv_handle_t *h)
{
	struct target *t = h->data;
	t->n->timers_open--;
}

static void close_timer_closed(uv_handle_t *h)
{
	struct api_webhook *n = h->data;
	void (*cb)(void *) = n->close_cb;
	void *arg = n->close_arg;
	free_all(n);
	if (cb)
		cb(arg);
}

static void close_poll(uv_timer_t *timer)
{
	struct api_webhook *n = timer->data;
	n->close_waited_ms += CLOSE_POLL_MS;
	if (n->ctx && !api_lws_handles_open(n->loop, &n->lws_handles))
		lws_context_destroy(n->ctx); /* the second call: frees the context, n->ctx = NULL */
	if (n->ctx && n->close_waited_ms >= CLOSE_GIVE_UP_MS && !n->gave_up_lws) {
		/* lws may still call on_lws with n's targets: leave n allocated */
		n->gave_up_lws = true;
		uv_timer_stop(timer);
		SB_WARN("webhook", "libwebsockets did not finish closing in %u ms",
			(unsigned)CLOSE_GIVE_UP_MS);
		if (n->close_cb)
			n->close_cb(n->close_arg);
		return;
	}
	/* resolver requests already running in the thread pool cannot be cancelled: wait */
	if (n->ctx || n->resolving || n->timers_open)
		return;
	uv_timer_stop(timer);
	uv_close((uv_handle_t *)timer, close_timer_closed);
}

/*
 * As http.c: lws 4.1 on a foreign loop is destroyed in two calls. The first closes every
 * connection (on_lws sees n->closing and ignores them); their uv handles close over the next
 * loop turns, and last lws closes the idle and timer handles of its context. Only then may
 * the second call free the context (and unload the evlib plugin those close callbacks live
 * in); it writes NULL to n->ctx. So n polls the loop until those handles are gone, and frees
 * the targets (whose addresses the connections carry) only after that.
 */
void api_webhook_close(struct api_webhook *n, void (*cb)(void *arg), void *arg)
{
	n->closing = true;
	n->close_cb = cb;
	n->close_arg = arg;
	for (size_t i = 0; i < n->n_targets; i++) {
		struct target *t = &n->targets[i];
		if (t->len)
			SB_INFO("webhook", "%s: %zu events not delivered", t->url, t->len);
		while (t->len)
			pop(t);
		t->state = T_IDLE;
		t->wsi = NULL;
		uv_timer_stop(&t->timer);
		uv_close((uv_handle_t *)&t->timer, target_timer_closed);
	}
	for (struct resolve *r = n->resolving; r; r = r->next)
		uv_cancel((uv_req_t *)&r->req); /* on_resolved runs either way, with UV_ECANCELED */
	if (n->ctx)
		lws_context_destroy(n->ctx);
	uv_timer_start(&n->close_timer, close_poll, CLOSE_POLL_MS, CLOSE_POLL_MS);
}
