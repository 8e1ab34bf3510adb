/* Inbound calls: the routing of a new INVITE to its room, by dev routing (loopback callers,
 * room-NAME, agent-NAME) or real routing (trunk, per-trunk digest auth, dispatch rule, PIN
 * entry in a private lobby room); answering it and its media are call.c's. */
#include "call/call.h"
#include "call/call_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "base/rand.h"
#include "call/route.h"
#include "sip/digest.h"
#include "sip/transport.h"
#include "sip/uri.h"
#include "store/store.h"

/* room-NAME: NAME must be a plain name (letters, digits, - _ .). */
static bool room_from_user(struct sb_slice user, char *out, size_t cap)
{
	if (user.len <= 5 || user.len - 5 >= cap || memcmp(user.p, "room-", 5) != 0)
		return false;
	for (size_t i = 5; i < user.len; i++) {
		char ch = user.p[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
		if (!ok)
			return false;
	}
	memcpy(out, user.p + 5, user.len - 5);
	out[user.len - 5] = '\0';
	return true;
}

static bool real_routing(struct call_mgr *m)
{
	if (!m->o.store)
		return false;
	size_t nt = 0, nr = 0;
	(void)store_inbound_trunks(m->o.store, &nt);
	(void)store_dispatch_rules(m->o.store, &nr);
	return nt || nr;
}

/* ---- digest auth per trunk ---- */

struct auth_lookup_ctx {
	const struct store_inbound_trunk *t;
};

static int trunk_pw_lookup(void *arg, struct sb_slice username, struct sb_slice realm, char *pw,
			   size_t cap, size_t *len)
{
	(void)realm;
	const struct auth_lookup_ctx *x = arg;
	if (!sb_slice_eq_cstr(username, x->t->auth_username))
		return SB_ENOTFOUND;
	size_t n = strlen(x->t->auth_password);
	if (n >= cap)
		return SB_ENOTFOUND;
	memcpy(pw, x->t->auth_password, n);
	*len = n;
	return 0;
}

static struct sip_digest_server *auth_server(struct call_mgr *m, const char *realm)
{
	for (struct call_auth *a = m->auths; a; a = a->next)
		if (!strcmp(a->realm, realm))
			return a->srv;
	struct call_auth *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	snprintf(a->realm, sizeof(a->realm), "%s", realm);
	struct sip_digest_server_cfg cfg = {
	    .realm = sb_slice_cstr(a->realm),
	    .nonce_ttl_s = 30, /* LK's challenge state lives 30 s */
	    .offer_md5 = true,
	    .md5_first = true, /* LK challenges with MD5 only; SIPp and old phones read the first */
	};
	if (sip_digest_server_new(&a->srv, &cfg)) {
		free(a);
		return NULL;
	}
	a->next = m->auths;
	m->auths = a;
	return a->srv;
}

/* true when the trunk needs no auth or the INVITE's credentials are right; otherwise the call
 * has been answered (401 challenge, 403 wrong credentials, 500). */
static bool trunk_auth(struct call_mgr *m, struct sip_call *sc, const struct sip_incoming *in,
		       const struct store_inbound_trunk *t)
{
	if (!t || !t->auth_username || !t->auth_username[0] || !t->auth_password ||
	    !t->auth_password[0])
		return true;
	const char *realm = t->auth_realm && t->auth_realm[0] ? t->auth_realm : "LiveKit";
	struct sip_digest_server *srv = auth_server(m, realm);
	if (!srv) {
		sip_call_reject(sc, 500, NULL);
		return false;
	}
	const struct sip_msg *inv = in->invite;
	struct sb_slice bind = sip_call_id(sc);
	const struct sip_hdr *h = sip_msg_hdr(inv, SIP_HDR_AUTHORIZATION);
	if (!h)
		h = sip_msg_hdr(inv, SIP_HDR_PROXY_AUTHORIZATION);
	bool stale = false;
	if (h) {
		struct auth_lookup_ctx x = {t};
		struct sip_digest_check chk = {
		    .credentials = h->value,
		    .method = inv->method_name,
		    .request_uri = inv->ruri_raw,
		    .body = inv->body,
		    .bind = bind,
		    .now_s = sb_clock_wall_s(),
		    .lookup = trunk_pw_lookup,
		    .lookup_arg = &x,
		};
		enum sip_digest_verdict v = sip_digest_verify(srv, &chk, NULL);
		if (v == SIP_DIGEST_OK)
			return true;
		SB_INFO("call", "%.*s: digest %s for trunk %s", SB_SLICE_ARG(bind),
			sip_digest_verdict_name(v), t->id);
		if (v == SIP_DIGEST_FAIL) {
			sip_call_reject(sc, 403, NULL);
			return false;
		}
		stale = v == SIP_DIGEST_STALE;
	}
	char stack[1024];
	struct sb_buf b;
	sb_buf_init(&b, stack, sizeof(stack));
	int err = sip_digest_challenge_headers(srv, "WWW-Authenticate", sb_clock_wall_s(), bind,
					       stale, &b);
	if (err || b.err)
		sip_call_reject(sc, 500, NULL);
	else
		sip_call_reject_with(sc, 401, NULL, b.p);
	sb_buf_free(&b);
	return false;
}

/* ---- PIN entry ---- */

static void pin_timeout(uv_timer_t *t)
{
	struct call *c = t->data;
	if (!c->pin_wait || c->sip_gone)
		return;
	SB_INFO("call", "%s: no PIN within %u ms: hanging up", c->id,
		c->m->o.pin_timeout_ms ? c->m->o.pin_timeout_ms : 30000u);
	c->pin_wait = false;
	sip_call_hangup(c->sip, NULL, NULL);
}

static enum call_route_status route_call(struct call *c, const char *pin)
{
	struct call_mgr *m = c->m;
	size_t nt = 0, nr = 0;
	const struct store_inbound_trunk *trunks = store_inbound_trunks(m->o.store, &nt);
	const struct store_dispatch_rule *rules = store_dispatch_rules(m->o.store, &nr);
	char rnd[CALL_ROUTE_RAND_LEN];
	sb_random_token(rnd, sizeof(rnd));
	struct call_route_in ri = {
	    .src_ip = c->src_ip,
	    .from_user = c->phone,
	    .from_host = c->from_host,
	    .to_user = c->trunk_phone,
	    .call_id = c->id,
	    .call_tag = c->from_tag,
	    .sid = c->sid,
	    .hdrs = c->hdrs,
	    .n_hdrs = c->n_hdrs,
	    .pin = pin,
	    .rand = rnd,
	};
	call_route_out_free(&c->route);
	enum call_route_status st = call_route(&ri, trunks, nt, rules, nr, &c->route);
	if (st == CALL_ROUTE_OK) {
		c->routed = true;
		snprintf(c->room, sizeof(c->room), "%s", c->route.room);
	}
	if (c->route.trunk && c->route.trunk->id)
		snprintf(c->trunk_id, sizeof(c->trunk_id), "%s", c->route.trunk->id);
	if (c->route.rule && c->route.rule->id)
		snprintf(c->rule_id, sizeof(c->rule_id), "%s", c->route.rule->id);
	return st;
}

static void pin_done(struct call *c)
{
	c->pin_wait = false;
	if (c->timer_used)
		uv_timer_stop(&c->answer_timer);
	c->pin[c->n_pin] = '\0';
	enum call_route_status st = route_call(c, c->pin);
	if (st != CALL_ROUTE_OK) {
		SB_INFO(
		    "call", "%s: PIN %s: %s: hanging up", c->id, c->n_pin ? "wrong" : "needed",
		    call_route_status_name(st == CALL_ROUTE_NEED_PIN ? CALL_ROUTE_NO_RULE : st));
		if (c->sip)
			sip_call_hangup(c->sip, NULL, NULL);
		return;
	}
	SB_INFO("call", "%s: PIN accepted: rule %s, room %s", c->id, c->route.rule->id, c->room);
	if (c->part && !c->part_gone) {
		/* the lobby participant leaves first; ROOM_EV_LEFT joins the room */
		c->moving = true;
		room_part_leave(c->part);
	}
}

void call__pin_digit(struct call *c, char digit)
{
	if (!c->pin_wait)
		return;
	if (digit == '#') {
		pin_done(c);
		return;
	}
	if (c->n_pin >= CALL_ROUTE_PIN_MAX) {
		SB_INFO("call", "%s: PIN longer than %d digits: hanging up", c->id,
			CALL_ROUTE_PIN_MAX);
		c->pin_wait = false;
		if (c->sip)
			sip_call_hangup(c->sip, NULL, NULL);
		return;
	}
	c->pin[c->n_pin++] = digit;
}

/* Keep what routing again with the PIN needs: the INVITE's headers. */
static int keep_headers(struct call *c, const struct sip_msg *inv)
{
	c->invite_copy = malloc(inv->len ? inv->len : 1);
	c->hdrs = calloc(inv->nhdrs ? inv->nhdrs : 1, sizeof(*c->hdrs));
	if (!c->invite_copy || !c->hdrs)
		return SB_ENOMEM;
	memcpy(c->invite_copy, inv->buf, inv->len);
	for (size_t i = 0; i < inv->nhdrs; i++) {
		const struct sip_hdr *h = &inv->hdrs[i];
		c->hdrs[i].name = sb_slice(c->invite_copy + (h->name.p - inv->buf), h->name.len);
		c->hdrs[i].value = sb_slice(c->invite_copy + (h->value.p - inv->buf), h->value.len);
	}
	c->n_hdrs = inv->nhdrs;
	return 0;
}

static void incoming_routed(struct call_mgr *m, struct sip_call *sc, const struct sip_incoming *in)
{
	const struct sip_msg *inv = in->invite;
	char ip[64], from_user[128], to_user[128], host[128];
	sip_sockaddr_ip(&in->src.addr, ip, sizeof(ip));
	sb_slice_copy(in->from_user, from_user, sizeof(from_user));
	sb_slice_copy(in->to_user, to_user, sizeof(to_user));
	host[0] = '\0';
	struct sip_uri fu;
	if (sip_uri_parse(inv->from.uri.raw, &fu) == 0)
		sb_slice_copy(fu.host, host, sizeof(host));
	/* the trunk first: its credentials are checked before any dispatch rule is looked at */
	size_t nt = 0;
	const struct store_inbound_trunk *trunks = store_inbound_trunks(m->o.store, &nt);
	struct call_route_in ri = {
	    .src_ip = ip, .from_user = from_user, .from_host = host, .to_user = to_user};
	const struct store_inbound_trunk *trunk = NULL;
	enum call_route_status st = call_route_trunk(&ri, trunks, nt, &trunk);
	if (st != CALL_ROUTE_OK) {
		SB_INFO("call", "%.*s from %s (%s, %s) to %s: %s: %d", SB_SLICE_ARG(inv->call_id),
			from_user, ip, host, to_user, call_route_status_name(st),
			call_route_sip_status(st));
		sip_call_reject(sc, call_route_sip_status(st), NULL);
		return;
	}
	if (!trunk_auth(m, sc, in, trunk))
		return;
	struct call *c = call__new(m);
	if (!c) {
		sip_call_reject(sc, 503, NULL);
		return;
	}
	call__set_sip(c, sc);
	snprintf(c->phone, sizeof(c->phone), "%s", from_user);
	snprintf(c->trunk_phone, sizeof(c->trunk_phone), "%s", to_user);
	snprintf(c->src_ip, sizeof(c->src_ip), "%s", ip);
	snprintf(c->from_host, sizeof(c->from_host), "%s", host);
	sb_slice_copy(inv->from.tag, c->from_tag, sizeof(c->from_tag));
	/* the headers are borrowed for this first decision; kept only for a PIN */
	c->hdrs = NULL;
	struct call_route_hdr stack_hdrs[64];
	struct call_route_hdr *hdrs = inv->nhdrs <= 64 ? stack_hdrs : NULL;
	if (!hdrs && keep_headers(c, inv)) {
		sip_call_set_handlers(sc, &call__handlers, c);
		sip_call_reject(sc, 503, NULL);
		return;
	}
	if (hdrs) {
		for (size_t i = 0; i < inv->nhdrs; i++)
			hdrs[i] = (struct call_route_hdr){inv->hdrs[i].name, inv->hdrs[i].value};
		c->hdrs = hdrs;
		c->n_hdrs = inv->nhdrs;
	}
	st = route_call(c, NULL);
	if (hdrs) {
		c->hdrs = NULL;
		c->n_hdrs = 0;
	}
	if (st == CALL_ROUTE_NEED_PIN && !c->invite_copy && keep_headers(c, inv))
		st = CALL_ROUTE_NOMEM;
	if (st != CALL_ROUTE_OK && st != CALL_ROUTE_NEED_PIN) {
		SB_INFO("call", "%s from %s (%s, %s) to %s: %s: %d", c->id, from_user, ip, host,
			to_user, call_route_status_name(st), call_route_sip_status(st));
		sip_call_set_handlers(sc, &call__handlers, c);
		sip_call_reject(sc, call_route_sip_status(st), NULL); /* ended frees the call */
		return;
	}
	if (st == CALL_ROUTE_NEED_PIN) {
		/* answer, then collect the PIN in a private room until '#' */
		c->pin_wait = true;
		snprintf(c->room, sizeof(c->room), "pin-%s", c->sid);
		uv_timer_init(m->o.loop, &c->answer_timer);
		c->answer_timer.data = c;
		c->timer_used = true;
		uv_timer_start(&c->answer_timer, pin_timeout,
			       m->o.pin_timeout_ms ? m->o.pin_timeout_ms : 30000u, 0);
		SB_INFO("call", "%s from %s to %s: rule %s wants a PIN", c->id, from_user, to_user,
			c->route.rule ? c->route.rule->id : "?");
	} else {
		SB_INFO("call", "%s from %s to %s: trunk %s, rule %s, room %s", c->id, from_user,
			to_user, c->route.trunk ? c->route.trunk->id : "-", c->route.rule->id,
			c->room);
	}
	call__accept(c, in);
}

void call_mgr_incoming(struct call_mgr *m, struct sip_call *sc, const struct sip_incoming *in)
{
	SB_INFO("call", "incoming call from %.*s to %.*s", SB_SLICE_ARG(in->from_user),
		SB_SLICE_ARG(in->to_user));
	if (m->closing) {
		sip_call_reject(sc, 480, NULL);
		return;
	}
	if (real_routing(m)) {
		incoming_routed(m, sc, in);
		return;
	}
	/* Dev routing: only loopback callers are accepted until trunks exist. */
	if (!sip_sockaddr_is_loopback(&in->src.addr)) {
		sip_call_reject(sc, 480, NULL);
		return;
	}
	struct call *c = call__new(m);
	if (!c) {
		sip_call_reject(sc, 503, NULL);
		return;
	}
	call__set_sip(c, sc);
	snprintf(c->phone, sizeof(c->phone), "%.*s",
		 (int)(in->from_user.len < 63 ? in->from_user.len : 63), in->from_user.p);
	snprintf(c->trunk_phone, sizeof(c->trunk_phone), "%.*s",
		 (int)(in->to_user.len < 63 ? in->to_user.len : 63), in->to_user.p);
	if (!room_from_user(in->to_user, c->room, sizeof(c->room))) {
		call__fresh_room(c);
		/* agent-NAME (a plain name, as room-NAME): that agent instead of the echo */
		struct sb_slice u = in->to_user;
		bool ok = u.len > 6 && u.len - 6 < sizeof(c->agent) && !memcmp(u.p, "agent-", 6);
		for (size_t i = 6; ok && i < u.len; i++)
			ok = (u.p[i] >= 'a' && u.p[i] <= 'z') || (u.p[i] >= 'A' && u.p[i] <= 'Z') ||
			     (u.p[i] >= '0' && u.p[i] <= '9') || u.p[i] == '-' || u.p[i] == '_' ||
			     u.p[i] == '.';
		if (ok) {
			snprintf(c->agent, sizeof(c->agent), "%.*s", (int)(u.len - 6), u.p + 6);
			c->want_echo = false;
		}
	}
	call__accept(c, in);
}
