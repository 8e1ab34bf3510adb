/* The switchboard.Calls handlers: request JSON in, the call manager's hold / resume and call
 * statistics and the room's DTMF for a SIP participant, JSON out. */
#include "api/calls_service.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sip_call_service.h"
#include "base/err.h"
#include "base/log.h"

#define SERVICE		      "switchboard.Calls"
#define ROOM_NOT_FOUND	      "requested room does not exist"
#define PARTICIPANT_NOT_FOUND "participant does not exist"
#define NOT_A_CALL	      "participant is not a SIP call"
#define DIGITS_MAX	      64
#define DTMF_KEYS	      "0123456789*#ABCDabcdwW"

struct api_calls_service {
	struct room_service *rooms;
	struct call_mgr *calls;
	int (*hold)(void *arg, struct room_part *p, bool hold, const char **status);
	int (*send_dtmf)(void *arg, struct room_part *p, const char *keys);
	int (*stats)(void *arg, struct room_part *p, struct call_stats *out);
	void *hook_arg;
};

/* ---- errors ---- */

static int fail(struct twirp_error *e, enum twirp_code code, const char *msg)
{
	twirp_error_set(e, code, "%s", msg);
	return SB_EINVAL;
}

static int malformed(struct twirp_error *e, const char *field, const char *what)
{
	twirp_error_set(e, TWIRP_MALFORMED, "the json request could not be decoded: %s: %s", field,
			what);
	return SB_EMALFORMED;
}

static int nomem(struct twirp_error *e)
{
	twirp_error_set(e, TWIRP_INTERNAL, "out of memory");
	return SB_ENOMEM;
}

/* An error of the call manager or the room for participant p's call. */
static int call_error(struct twirp_error *e, int rc)
{
	switch (rc) {
	case SB_ENOTFOUND:
		return fail(e, TWIRP_FAILED_PRECONDITION, NOT_A_CALL);
	case SB_ESTATE:
		return fail(e, TWIRP_FAILED_PRECONDITION, "call is not established");
	case SB_EBUSY:
		return fail(e, TWIRP_FAILED_PRECONDITION, "a re-INVITE is pending");
	case SB_ENOMEM:
		return nomem(e);
	default:
		twirp_error_set(e, TWIRP_INTERNAL, "%s", sb_strerror(rc));
		return rc ? rc : SB_EIO;
	}
}

/* ---- request fields: lowerCamelCase or snake_case, null = absent ---- */

static int get_str(const json_t *o, const char *key, const char **out, struct twirp_error *e)
{
	*out = "";
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return malformed(e, key, "must be a string");
	if (memchr(json_string_value(v), 0, json_string_length(v)))
		return malformed(e, key, "must not contain NUL");
	*out = json_string_value(v);
	return 0;
}

/* {room, identity} -> its SIP participant; not_found, invalid_argument or failed_precondition. */
static int find_sip_part(struct api_calls_service *s, const json_t *req, struct room_part **out,
			 struct twirp_error *e)
{
	const char *room, *identity;
	int rc;
	if ((rc = get_str(req, "room", &room, e)) || (rc = get_str(req, "identity", &identity, e)))
		return rc;
	if (!room[0])
		return fail(e, TWIRP_INVALID_ARGUMENT, "no room name");
	if (!identity[0])
		return fail(e, TWIRP_INVALID_ARGUMENT, "no identity");
	struct room_info ri;
	if (strlen(room) >= ROOM_NAME_MAX || room_service_get_room(s->rooms, room, &ri))
		return fail(e, TWIRP_NOT_FOUND, ROOM_NOT_FOUND);
	struct room_part *p = room_service_find_part(s->rooms, room, identity);
	if (!p)
		return fail(e, TWIRP_NOT_FOUND, PARTICIPANT_NOT_FOUND);
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (pi.kind != ROOM_PART_SIP)
		return fail(e, TWIRP_FAILED_PRECONDITION, NOT_A_CALL);
	*out = p;
	return 0;
}

/* ---- responses ---- */

static bool put(json_t *o, const char *k, json_t *v)
{
	return json_object_set_new(o, k, v) == 0; /* set_new drops v on failure */
}

static json_t *ju64(uint64_t v)
{
	char b[24];
	snprintf(b, sizeof(b), "%" PRIu64, v);
	return json_string(b);
}

/* A JSON string even from bytes that are not UTF-8 (a Call-ID may hold any). */
static json_t *jstr(const char *s)
{
	json_t *v = json_string(s ? s : "");
	if (v || !s)
		return v;
	char *c = strdup(s);
	if (!c)
		return NULL;
	for (char *p = c; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(c);
	free(c);
	return v;
}

static json_t *stats_json(const struct room_part_info *pi, const struct call_stats *st)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	const struct media_leg_stats *m = &st->media;
	bool ok = put(o, "room", jstr(pi->room));
	ok &= put(o, "identity", jstr(pi->identity));
	ok &= put(o, "participant_sid", jstr(pi->sid));
	ok &= put(o, "call_id", jstr(st->call_id));
	ok &= put(o, "sip_call_id", jstr(st->sip_call_id));
	ok &= put(o, "direction", json_string(st->outbound ? "OUTBOUND" : "INBOUND"));
	ok &= put(o, "codec", jstr(st->codec));
	ok &= put(o, "payload_type", json_integer(st->pt));
	ok &= put(o, "dtmf", json_string(st->rfc4733 ? "RFC4733" : "INBAND"));
	ok &= put(o, "on_hold", json_boolean(st->local_hold || st->remote_hold));
	ok &= put(o, "local_hold", json_boolean(st->local_hold));
	ok &= put(o, "remote_hold", json_boolean(st->remote_hold));
	ok &= put(o, "hold_pending", json_boolean(st->hold_pending));
	ok &= put(o, "hold_status", jstr(st->hold_status));
	ok &= put(o, "hold_sip_status", json_integer(st->hold_sip_status));
	ok &= put(o, "duration_seconds", json_integer((json_int_t)(st->duration_ms / 1000u)));
	ok &= put(o, "answered_seconds", json_integer((json_int_t)(st->answered_ms / 1000u)));
	ok &= put(o, "active_seconds", json_integer((json_int_t)(st->active_ms / 1000u)));
	ok &= put(o, "held_seconds", json_integer((json_int_t)(st->held_ms / 1000u)));
	ok &= put(o, "packets_sent", ju64(m->tx_packets));
	ok &= put(o, "bytes_sent", ju64(m->tx_bytes));
	ok &= put(o, "packets_received", ju64(m->rx_packets));
	ok &= put(o, "bytes_received", ju64(m->rx_bytes));
	ok &= put(o, "packets_lost", ju64(m->lost));
	ok &= put(o, "jitter_ms", json_integer(m->jitter_ms));
	ok &= put(o, "rtt_ms", json_integer(m->rtt_ms));
	ok &= put(o, "rtcp_sent", ju64(m->rtcp_tx));
	ok &= put(o, "rtcp_received", ju64(m->rtcp_rx));
	ok &= put(o, "latched", json_boolean(m->latched));
	ok &= put(o, "stats_age_ms",
		  json_integer(st->have_media ? (json_int_t)st->media_age_ms : -1));
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- handlers ---- */

static int hold_or_resume(struct api_calls_service *s, const struct twirp_call *call, bool hold,
			  json_t **resp, struct twirp_error *e)
{
	struct room_part *p;
	int rc = find_sip_part(s, call->req, &p, e);
	if (rc)
		return rc;
	const char *status = "";
	if (s->hold)
		rc = s->hold(s->hook_arg, p, hold, &status);
	else if (s->calls)
		rc = call_mgr_hold_participant(s->calls, p, hold, &status);
	else
		rc = SB_ENOTFOUND;
	if (rc)
		return call_error(e, rc);
	SB_INFO("api", "%s %s in %s: %s", hold ? "HoldParticipant" : "ResumeParticipant",
		room_part_identity(p), room_part_room(p), status);
	json_t *o = json_object();
	if (!o || !put(o, "hold_status", json_string(status ? status : ""))) {
		json_decref(o);
		return nomem(e);
	}
	*resp = o;
	return 0;
}

static int hold_participant(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			    void *arg)
{
	return hold_or_resume(arg, call, true, resp, e);
}

static int resume_participant(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			      void *arg)
{
	return hold_or_resume(arg, call, false, resp, e);
}

static int send_dtmf(const struct twirp_call *call, json_t **resp, struct twirp_error *e, void *arg)
{
	(void)resp;
	struct api_calls_service *s = arg;
	const char *digits;
	struct room_part *p;
	int rc;
	if ((rc = get_str(call->req, "digits", &digits, e)))
		return rc;
	if (!digits[0])
		return fail(e, TWIRP_INVALID_ARGUMENT, "no digits");
	if (strlen(digits) > DIGITS_MAX || strspn(digits, DTMF_KEYS) != strlen(digits))
		return fail(e, TWIRP_INVALID_ARGUMENT, "invalid DTMF digit");
	if ((rc = find_sip_part(s, call->req, &p, e)))
		return rc;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (pi.held)
		return fail(e, TWIRP_FAILED_PRECONDITION, "participant is on hold");
	rc = s->send_dtmf ? s->send_dtmf(s->hook_arg, p, digits) : room_part_send_dtmf(p, digits);
	switch (rc) {
	case 0:
		break;
	case SB_EINVAL:
		return fail(e, TWIRP_INVALID_ARGUMENT, "invalid DTMF digit");
	case SB_ESTATE:
		return fail(e, TWIRP_NOT_FOUND, PARTICIPANT_NOT_FOUND); /* it is leaving */
	case SB_EBUSY:
		return fail(e, TWIRP_UNAVAILABLE, "the media worker is busy: try again");
	default:
		return call_error(e, rc);
	}
	SB_INFO("api", "SendDTMF '%s' to %s in %s", digits, pi.identity, pi.room);
	return 0;
}

static int get_call_stats(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			  void *arg)
{
	struct api_calls_service *s = arg;
	struct room_part *p;
	int rc = find_sip_part(s, call->req, &p, e);
	if (rc)
		return rc;
	struct call_stats st;
	memset(&st, 0, sizeof(st));
	if (s->stats)
		rc = s->stats(s->hook_arg, p, &st);
	else if (s->calls)
		rc = call_mgr_participant_stats(s->calls, p, &st);
	else
		rc = SB_ENOTFOUND;
	if (rc)
		return call_error(e, rc);
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (!(*resp = stats_json(&pi, &st)))
		return nomem(e);
	return 0;
}

struct attended {
	struct call_mgr *calls;
	struct room_part *p, *to;
	uint32_t timeout_ms;
};

static int start_attended(void *ctx, void (*done)(void *, int, const char *), void *w)
{
	struct attended *a = ctx;
	return call_mgr_attended_transfer(a->calls, a->p, a->to, a->timeout_ms, done, w);
}

/* {room, identity, target_identity, timeout_seconds} -> {} once the far end reports the
 * transfer done (NOTIFY 200), else the SIP failure. */
static int attended_transfer(const struct twirp_call *call, json_t **resp, struct twirp_error *e,
			     void *arg)
{
	(void)resp;
	struct api_calls_service *s = arg;
	struct room_part *p, *to;
	const char *target;
	int rc = find_sip_part(s, call->req, &p, e);
	if (rc || (rc = get_str(call->req, "target_identity", &target, e)))
		return rc;
	if (!target[0] && (rc = get_str(call->req, "targetIdentity", &target, e)))
		return rc;
	if (!target[0])
		return fail(e, TWIRP_INVALID_ARGUMENT, "no target_identity");
	to = room_service_find_part(s->rooms, room_part_room(p), target);
	if (!to)
		return fail(e, TWIRP_NOT_FOUND, "target participant does not exist");
	json_t *tv = json_object_get(call->req, "timeout_seconds");
	if (!tv)
		tv = json_object_get(call->req, "timeoutSeconds");
	json_int_t secs = 30;
	if (tv && !json_is_null(tv)) {
		if (!json_is_integer(tv) || json_integer_value(tv) <= 0 ||
		    json_integer_value(tv) > 600)
			return malformed(e, "timeout_seconds", "must be an integer 1..600");
		secs = json_integer_value(tv);
	}
	if (!s->calls)
		return call_error(e, SB_ENOTFOUND);
	SB_INFO("api", "AttendedTransfer %s -> %s in %s", room_part_identity(p), target,
		room_part_room(p));
	struct attended a = {s->calls, p, to, (uint32_t)secs * 1000u};
	return sip_call_transfer_wait(call, e, start_attended, &a);
}

/* ---- registration ---- */

int api_calls_service_register(struct twirp_server *tw, const struct api_calls_service_opts *o,
			       struct api_calls_service **out)
{
	if (!tw || !o || !o->rooms || !out)
		return SB_EINVAL;
	struct api_calls_service *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	s->rooms = o->rooms;
	s->calls = o->calls;
	s->hold = o->hold;
	s->send_dtmf = o->send_dtmf;
	s->stats = o->stats;
	s->hook_arg = o->hook_arg;
	*out = s;
	static const struct {
		const char *method;
		twirp_fn fn;
	} methods[] = {
	    {"HoldParticipant", hold_participant},
	    {"ResumeParticipant", resume_participant},
	    {"SendDTMF", send_dtmf},
	    {"GetCallStats", get_call_stats},
	    {"AttendedTransfer", attended_transfer},
	};
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		struct twirp_method m = {.service = SERVICE,
					 .method = methods[i].method,
					 .perm = API_PERM_ROOM_ADMIN,
					 .fn = methods[i].fn,
					 .arg = s};
		int rc = twirp_register(tw, &m);
		if (rc)
			return rc;
	}
	return 0;
}

void api_calls_service_free(struct api_calls_service *s)
{
	free(s);
}
