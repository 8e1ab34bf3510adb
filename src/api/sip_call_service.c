/* CreateSIPParticipant and TransferSIPParticipant: request JSON in (sip_json), the call
 * manager's outbound calls and transfers, answers that wait for the SIP outcome. */
#include "api/sip_call_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sip_json.h"
#include "base/err.h"
#include "base/log.h"
#include "room/room.h"

#define SERVICE "livekit.SIP"

struct sip_call_service {
	struct store *store;
	struct call_mgr *calls;
};

enum twirp_code sip_call_status_code(int st)
{
	switch (st) {
	case 301:
	case 302:
	case 404:
	case 410:
	case 481:
	case 604:
		return TWIRP_NOT_FOUND;
	case 401:
	case 402:
	case 403:
	case 433:
	case 470:
	case 603:
	case 607:
	case 608:
		return TWIRP_PERMISSION_DENIED;
	case 407:
	case 428:
	case 436:
	case 437:
	case 438:
	case 494:
		return TWIRP_UNAUTHENTICATED;
	case 408:
	case 504:
		return TWIRP_DEADLINE_EXCEEDED;
	case 409:
	case 412:
	case 482:
	case 483:
		return TWIRP_FAILED_PRECONDITION;
	case 440:
	case 480:
	case 486:
	case 600:
		return TWIRP_RESOURCE_EXHAUSTED;
	case 487:
	case 491:
		return TWIRP_ABORTED;
	case 416:
		return TWIRP_OUT_OF_RANGE;
	default:
		break;
	}
	if (st >= 500 && st < 600)
		return TWIRP_FAILED_PRECONDITION;
	return TWIRP_INVALID_ARGUMENT; /* 3xx, other 4xx and 6xx */
}

/* The reason phrase RFC 3261 gives a status, for a response that came without one. */
static const char *sip_phrase(int st)
{
	switch (st) {
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 480:
		return "Temporarily Unavailable";
	case 486:
		return "Busy Here";
	case 487:
		return "Request Terminated";
	case 488:
		return "Not Acceptable Here";
	case 500:
		return "Server Internal Error";
	case 503:
		return "Service Unavailable";
	case 603:
		return "Decline";
	default:
		return st >= 600   ? "Global Failure"
		       : st >= 500 ? "Server Error"
				   : "Request Failure";
	}
}

/* A SIP failure as LK reports it: the mapped code and meta sip_status_code / sip_status. */
static void sip_failure(struct twirp_error *e, const char *what, int st, const char *reason)
{
	const char *phrase = reason && reason[0] ? reason : sip_phrase(st);
	twirp_error_set(e, sip_call_status_code(st), "%s failed: sip status: %d: %s", what, st,
			phrase);
	char code[8];
	snprintf(code, sizeof(code), "%d", st);
	twirp_error_meta(e, "sip_status_code", code);
	twirp_error_meta(e, "sip_status", phrase);
}

/* Set e and return err (a negative SB_ code). */
static int fail(struct twirp_error *e, enum twirp_code code, const char *msg, int err)
{
	twirp_error_set(e, code, "%s", msg);
	return err;
}

/* ---- CreateSIPParticipant ---- */

/* A request waiting for its call's outcome; freed by the outcome (which always comes). */
struct dial_wait {
	struct twirp_later *later; /* NULL: the client went away (or never waited) */
	json_t *info;		   /* SIPParticipantInfo, sent on success */
};

static void dial_gone(void *arg)
{
	struct dial_wait *w = arg;
	w->later = NULL;
}

static void dial_outcome(void *arg, int st, const char *reason, bool ring_timeout)
{
	struct dial_wait *w = arg;
	if (w->later) {
		struct twirp_error e = {.code = TWIRP_INTERNAL};
		if (st >= 200 && st < 300) {
			twirp_later_ok(w->later, w->info);
			w->info = NULL;
		} else {
			if (ring_timeout)
				twirp_error_set(&e, TWIRP_CANCELED, "sip request timed out");
			else if (st)
				sip_failure(&e, "INVITE", st, reason);
			else
				twirp_error_set(&e, TWIRP_FAILED_PRECONDITION,
						"call ended before it was answered: %s",
						reason ? reason : "");
			twirp_later_fail(w->later, &e);
			twirp_error_clear(&e);
		}
	}
	json_decref(w->info);
	free(w);
}

static enum sip_tp_type tp_of(enum store_transport t)
{
	return t == STORE_TRANSPORT_TCP	  ? SIP_TP_TCP
	       : t == STORE_TRANSPORT_TLS ? SIP_TP_TLS
					  : SIP_TP_UDP;
}

/* "Name: value\r\n" lines: the trunk's headers, then the request's (which win). */
static int header_lines(const struct store_map *trunk, const struct store_map *req,
			struct sb_buf *b)
{
	for (size_t i = 0; i < trunk->n; i++)
		if (!store_map_get(req, trunk->v[i].key))
			sb_buf_printf(b, "%s: %s\r\n", trunk->v[i].key, trunk->v[i].value);
	for (size_t i = 0; i < req->n; i++)
		sb_buf_printf(b, "%s: %s\r\n", req->v[i].key, req->v[i].value);
	sb_buf_append(b, "", 1); /* NUL */
	return b->err;
}

static int dial_error(struct twirp_error *e, int err)
{
	switch (err) {
	case SB_EEXISTS:
		twirp_error_set(e, TWIRP_ALREADY_EXISTS,
				"a participant with this identity is already in the room");
		break;
	case SB_ENORES:
		twirp_error_set(e, TWIRP_RESOURCE_EXHAUSTED, "no RTP port free");
		break;
	case SB_ESTATE:
		twirp_error_set(e, TWIRP_UNAVAILABLE, "shutting down");
		break;
	case SB_EINVAL:
	case SB_EMALFORMED:
		twirp_error_set(e, TWIRP_INVALID_ARGUMENT, "cannot dial: %s", sb_strerror(err));
		break;
	default:
		twirp_error_set(e, TWIRP_UNAVAILABLE, "cannot dial: %s", sb_strerror(err));
		break;
	}
	return err;
}

static json_t *participant_info(struct call_mgr *m, const char *room, const char *identity,
				const char *call_id)
{
	struct room_part *p = room_service_find_part(call_mgr_rooms(m), room, identity);
	struct room_part_info pi;
	if (p)
		room_part_get_info(p, &pi);
	return json_pack("{s:s, s:s, s:s, s:s}", "participant_id", p ? pi.sid : "",
			 "participant_identity", identity, "room_name", room, "sip_call_id",
			 call_id);
}

/* Dial r through trunk t; 0 with *resp (or deferred), else e is set. */
static int dial(struct sip_call_service *s, const struct twirp_call *call,
		const struct sip_json_participant_req *r, const struct store_outbound_trunk *t,
		json_t **resp, struct twirp_error *e)
{
	const char *number = r->number && r->number[0] ? r->number
			     : t->numbers.n	       ? t->numbers.v[0]
						       : NULL;
	if (!number)
		return fail(e, TWIRP_INVALID_ARGUMENT,
			    "no sip_number given and the trunk has no numbers", SB_EINVAL);
	char target[512];
	int n = snprintf(target, sizeof(target), "sip:%s@%s", r->call_to, t->address);
	if (n < 0 || (size_t)n >= sizeof(target))
		return fail(e, TWIRP_INVALID_ARGUMENT, "callee or address too long", SB_EINVAL);
	struct sb_buf hdrs;
	sb_buf_init(&hdrs, NULL, 0);
	if (header_lines(&t->headers, &r->headers, &hdrs)) {
		sb_buf_free(&hdrs);
		return fail(e, TWIRP_INTERNAL, "out of memory", SB_ENOMEM);
	}
	char identity[ROOM_IDENTITY_MAX];
	snprintf(identity, sizeof(identity), "%s",
		 r->identity && r->identity[0] ? r->identity : "");
	if (!identity[0])
		snprintf(identity, sizeof(identity), "sip_%.*s", ROOM_IDENTITY_MAX - 5, r->call_to);
	struct room_attr attrs[ROOM_ATTRS_MAX];
	size_t na = 0;
	if (t->id && t->id[0])
		attrs[na++] = (struct room_attr){"sip.trunkID", t->id};
	if (!r->hide_phone_number)
		attrs[na++] = (struct room_attr){"sip.hostname", t->address};
	for (size_t i = 0; i < r->attributes.n && na < ROOM_ATTRS_MAX; i++)
		attrs[na++] = (struct room_attr){r->attributes.v[i].key, r->attributes.v[i].value};
	struct dial_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		sb_buf_free(&hdrs);
		return fail(e, TWIRP_INTERNAL, "out of memory", SB_ENOMEM);
	}
	struct call_dial_opts o = {
	    .sip =
		{
		    .target = target,
		    .from_user = number,
		    .from_display = r->has_display_name ? r->display_name : number,
		    .transport = tp_of(t->transport),
		    .auth_user = t->auth_username,
		    .auth_password = t->auth_password,
		    .extra_headers = hdrs.len > 1 ? (const char *)hdrs.p : NULL,
		},
	    .room = r->room,
	    .trunk_id = t->id,
	    .identity = identity,
	    .name = r->name,
	    .metadata = r->metadata,
	    .attrs = attrs,
	    .n_attrs = na,
	    .hide_phone_number = r->hide_phone_number,
	    .ringback = r->play_dialtone,
	    .ring_region = MEDIA_TONE_EU,
	    .dtmf = r->dtmf,
	    .ringing_timeout_ms = (uint32_t)r->ringing_timeout_ms,
	    .max_call_duration_ms = (uint32_t)r->max_call_duration_ms,
	    .outcome = dial_outcome,
	    .outcome_arg = w,
	};
	struct sip_call *sc;
	char call_id[CALL_ID_MAX] = "";
	int err = call_mgr_dial(s->calls, &o, &sc, call_id);
	sb_buf_free(&hdrs);
	if (err) {
		free(w);
		return dial_error(e, err);
	}
	/* from here on the outcome frees w */
	json_t *info = participant_info(s->calls, r->room, identity, call_id);
	SB_INFO("api", "CreateSIPParticipant: %s calls %s in room %s as %s%s", call_id, target,
		r->room, identity, r->wait_until_answered ? " (waiting for the answer)" : "");
	if (r->wait_until_answered && info) {
		w->later = twirp_defer(call, dial_gone, w);
		if (w->later) {
			w->info = info;
			return 0;
		}
	}
	*resp = info;
	if (!info)
		return fail(e, TWIRP_INTERNAL, "out of memory", SB_ENOMEM);
	return 0;
}

static int create_participant(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			      void *arg)
{
	struct sip_call_service *s = arg;
	struct sip_json_participant_req r;
	char msg[300];
	int err = sip_json_parse_create_participant(call->req, &r, msg, sizeof(msg));
	if (err) {
		twirp_error_set(e, err == SB_ENOMEM ? TWIRP_INTERNAL : TWIRP_INVALID_ARGUMENT, "%s",
				msg);
		return err;
	}
	struct store_outbound_trunk t;
	memset(&t, 0, sizeof(t));
	if (r.has_inline_trunk && !(r.trunk_id && r.trunk_id[0])) {
		err = store_outbound_trunk_copy(&t, &r.inline_trunk);
		if (err)
			twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
	} else {
		err = s->store ? store_outbound_trunk_get(s->store, r.trunk_id, &t) : SB_ENOTFOUND;
		if (err == SB_ENOTFOUND)
			twirp_error_set(e, TWIRP_NOT_FOUND, "requested sip trunk does not exist");
		else if (err)
			twirp_error_set(e, TWIRP_INTERNAL, "%s", sb_strerror(err));
	}
	if (!err)
		err = dial(s, call, &r, &t, resp, e);
	store_outbound_trunk_free(&t);
	sip_json_participant_req_free(&r);
	return err;
}

/* ---- TransferSIPParticipant ---- */

struct xfer_wait {
	struct twirp_later *later; /* NULL once the client went away */
};

static void xfer_gone(void *arg)
{
	struct xfer_wait *w = arg;
	w->later = NULL;
}

static void xfer_done(void *arg, int st, const char *reason)
{
	struct xfer_wait *w = arg;
	if (w->later) {
		if (st >= 200 && st < 300) {
			twirp_later_ok(w->later, NULL);
		} else {
			struct twirp_error e = {.code = TWIRP_INTERNAL};
			if (st == 408 && reason && !strcmp(reason, "no final NOTIFY"))
				twirp_error_set(&e, TWIRP_CANCELED,
						"refer canceled: no final NOTIFY in time");
			else
				sip_failure(&e, "transfer", st, reason);
			twirp_later_fail(w->later, &e);
			twirp_error_clear(&e);
		}
	}
	free(w);
}

int sip_call_transfer_wait(const struct twirp_call *call, struct twirp_error *e,
			   int (*start)(void *ctx, void (*done)(void *, int, const char *),
					void *w),
			   void *ctx)
{
	struct xfer_wait *w = calloc(1, sizeof(*w));
	if (!w || !(w->later = twirp_defer(call, xfer_gone, w))) {
		free(w);
		twirp_error_set(e, TWIRP_INTERNAL, "cannot wait for the transfer's outcome");
		return SB_ENOMEM;
	}
	int err = start(ctx, xfer_done, w);
	if (!err)
		return 0;
	/* not started: answer now through the deferred request */
	struct twirp_error fe = {.code = TWIRP_INTERNAL};
	if (err == SB_ENOTFOUND)
		twirp_error_set(&fe, TWIRP_NOT_FOUND, "unknown call");
	else if (err == SB_ESTATE)
		twirp_error_set(&fe, TWIRP_FAILED_PRECONDITION, "call is not established");
	else if (err == SB_EBUSY)
		twirp_error_set(&fe, TWIRP_FAILED_PRECONDITION, "call already being transferred");
	else if (err == SB_EINVAL)
		twirp_error_set(&fe, TWIRP_INVALID_ARGUMENT, "cannot transfer a call to itself");
	else
		twirp_error_set(&fe, TWIRP_INTERNAL, "%s", sb_strerror(err));
	twirp_later_fail(w->later, &fe);
	twirp_error_clear(&fe);
	free(w);
	return 0;
}

struct cold_transfer {
	struct call_mgr *calls;
	struct room_part *p;
	const struct sip_json_transfer_req *r;
	const char *headers;
};

static int start_cold(void *ctx, void (*done)(void *, int, const char *), void *w)
{
	struct cold_transfer *t = ctx;
	uint32_t timeout =
	    t->r->ringing_timeout_ms > 0 ? (uint32_t)t->r->ringing_timeout_ms : 30000;
	return call_mgr_transfer_participant(t->calls, t->p, t->r->transfer_to, t->headers, timeout,
					     t->r->play_dialtone, done, w);
}

static int transfer(const struct twirp_call *call, json_t **resp, struct twirp_error *e, void *arg)
{
	(void)resp;
	struct sip_call_service *s = arg;
	struct sip_json_transfer_req r;
	char msg[300];
	int err = sip_json_parse_transfer(call->req, &r, msg, sizeof(msg));
	if (err) {
		twirp_error_set(e, err == SB_ENOMEM ? TWIRP_INTERNAL : TWIRP_INVALID_ARGUMENT, "%s",
				msg);
		return err;
	}
	struct room_part *p = room_service_find_part(call_mgr_rooms(s->calls), r.room, r.identity);
	struct sb_buf hdrs;
	sb_buf_init(&hdrs, NULL, 0);
	const struct store_map none = {0};
	if (!p) {
		twirp_error_set(e, TWIRP_NOT_FOUND, "unknown call");
		err = SB_ENOTFOUND;
	} else if (header_lines(&none, &r.headers, &hdrs)) {
		twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
		err = SB_ENOMEM;
	} else {
		struct cold_transfer t = {s->calls, p, &r,
					  hdrs.len > 1 ? (const char *)hdrs.p : NULL};
		err = sip_call_transfer_wait(call, e, start_cold, &t);
	}
	sb_buf_free(&hdrs);
	sip_json_transfer_req_free(&r);
	return err;
}

int sip_call_service_register(struct twirp_server *t, struct store *store, struct call_mgr *calls,
			      struct sip_call_service **out)
{
	struct sip_call_service *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	s->store = store;
	s->calls = calls;
	const struct twirp_method ms[] = {
	    {SERVICE, "CreateSIPParticipant", API_PERM_NONE, create_participant, s},
	    {SERVICE, "TransferSIPParticipant", API_PERM_NONE, transfer, s},
	};
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		int err = twirp_register(t, &ms[i]);
		if (err) {
			free(s);
			return err;
		}
	}
	*out = s;
	return 0;
}

void sip_call_service_free(struct sip_call_service *s)
{
	free(s);
}
