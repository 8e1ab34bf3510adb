/* The agent bridge: an agent's session (Twilio or native, behind struct session_ops) joined to a
 * room as a stream participant next to the SIP call it serves. Owns the session and the
 * participant's handle. */
#include "stream/bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "stream/playout.h"

#define TWILIO_RATE 8000u
#define ECHO_MAX    (ROOM_STREAM_DOWN_SLOTS + 2)

struct stream_bridge;

/* What the bridge needs of a protocol session; s is the session. Events a protocol has no word
 * for are NULL. */
struct session_ops {
	const char *name; /* "twilio", "native" */
	int (*start)(void *s, sb_time_ms now);
	int (*media)(void *s, sb_time_ms now, const int16_t *pcm);
	int (*dtmf)(void *s, char digit, uint32_t duration_ms);
	int (*hold)(void *s, sb_time_ms now, bool held, bool remote);
	int (*peer)(void *s, bool joined, const char *identity, const char *kind);
	int (*call_state)(void *s, const char *status);
	int (*transfer)(void *s, const char *id, const char *to, int sip_status,
			const char *reason);
	int (*stop)(void *s, const char *reason);
	int (*input)(void *s, const char *text, size_t len);
	int (*binary)(void *s, const uint8_t *p, size_t len);
	struct stream_playout *(*playout)(void *s);
	size_t (*echo)(void *s, size_t max);
	const char *(*id)(const void *s);
	void (*done)(void *s, const char *room); /* log its figures and free it */
};

struct stream_bridge {
	const struct stream_bridge_handlers *h;
	void *arg;
	const struct session_ops *ops;
	void *s;		  /* the session */
	struct stream_twilio *t;  /* s when Twilio */
	struct stream_native *nv; /* s when native */
	uint32_t rate;		  /* the participant's frames */
	size_t frame;		  /* samples per 20 ms */
	uint32_t caller_version;  /* the caller's info version last looked at */
	/* who ends a hold: the room reports every resume as the far end's, but a hold that only we
	 * put on (or that the agent's resume command ends) is ended by us */
	bool hold_local, resume_asked;
	bool hung_up; /* the agent's hangup command went through: no second hang-up on close */
	struct room_part *part;	  /* ours; NULL once LEFT */
	struct room_part *caller; /* the call's participant; NULL once gone or hung up */
	char room[ROOM_NAME_MAX];
	char identity[ROOM_IDENTITY_MAX];
	bool transport;	    /* the transport is up: handlers may be called */
	bool closing;	    /* close asked of the transport */
	bool sending_media; /* the message being sent is media (droppable) */
	bool leave_asked;   /* room_part_leave called */
	bool heard_agent;   /* first_media called */
	int16_t pcm[STREAM_NATIVE_MAX_FRAME];
	/* marks passed by frames still in the FIFO: echoed once the tick has taken frame `at`
	 * (counted from 1 over every frame pushed) */
	uint64_t pushed;
	struct {
		uint64_t at;
		size_t n;
	} echo[ECHO_MAX];
	size_t echo_head, echo_len;
};

/* ---- finding the caller ---- */

struct find_caller {
	struct room_part *found;
};

static void pick_caller(void *arg, struct room_part *p)
{
	struct find_caller *f = arg;
	struct room_part_info pi;
	room_part_get_info(p, &pi);
	if (!f->found && pi.kind == ROOM_PART_SIP && pi.state != ROOM_PART_LEAVING)
		f->found = p;
}

struct room_part *stream_bridge_find_caller(struct room_service *rs, const char *room)
{
	struct find_caller f = {NULL};
	(void)room_service_each_part(rs, room, pick_caller, &f);
	return f.found;
}

static const char *attr_of(const struct room_part_info *pi, const char *key)
{
	for (size_t i = 0; i < pi->n_attrs; i++)
		if (!strcmp(pi->attrs[i].key, key))
			return pi->attrs[i].value;
	return NULL;
}

/* ---- the sessions ---- */

static int tw_start(void *s, sb_time_ms now)
{
	return stream_twilio_start(s, now);
}
static int tw_media(void *s, sb_time_ms now, const int16_t *pcm)
{
	return stream_twilio_media(s, now, pcm);
}
static int tw_dtmf(void *s, char digit, uint32_t duration_ms)
{
	(void)duration_ms;
	return stream_twilio_dtmf(s, digit);
}
static int tw_hold(void *s, sb_time_ms now, bool held, bool remote)
{
	struct stream_twilio_hold hd = {.remote = remote};
	return held ? stream_twilio_hold(s, now, &hd) : stream_twilio_resume(s, now, &hd);
}
static int tw_transfer(void *s, const char *id, const char *to, int sip_status, const char *reason)
{
	(void)id;
	struct stream_twilio_transfer r = {
	    .to = to, .sip_status = sip_status, .sip_reason = reason};
	return stream_twilio_transfer(s, &r);
}
static int tw_stop(void *s, const char *reason)
{
	(void)reason;
	return stream_twilio_stop(s);
}
static int tw_input(void *s, const char *text, size_t len)
{
	return stream_twilio_input(s, text, len);
}
static struct stream_playout *tw_playout(void *s)
{
	return stream_twilio_playout(s);
}
static size_t tw_echo(void *s, size_t max)
{
	return stream_twilio_echo_marks(s, max);
}
static const char *tw_id(const void *s)
{
	return stream_twilio_stream_sid(s);
}
static void tw_done(void *s, const char *room)
{
	const struct stream_twilio_stats *st = stream_twilio_stats(s);
	SB_INFO("stream",
		"room %s: stream %s over: %llu media sent (%llu silence), %llu received, %llu "
		"marks echoed, %llu messages ignored",
		room, stream_twilio_stream_sid(s), (unsigned long long)st->out_media,
		(unsigned long long)st->out_silence, (unsigned long long)st->in_media,
		(unsigned long long)st->out_marks,
		(unsigned long long)(st->in_malformed + st->in_unknown + st->in_ignored));
	stream_twilio_free(s);
}

static const struct session_ops twilio_ops = {
    .name = "twilio",
    .start = tw_start,
    .media = tw_media,
    .dtmf = tw_dtmf,
    .hold = tw_hold,
    .transfer = tw_transfer,
    .stop = tw_stop,
    .input = tw_input,
    .playout = tw_playout,
    .echo = tw_echo,
    .id = tw_id,
    .done = tw_done,
};

static int nv_start(void *s, sb_time_ms now)
{
	return stream_native_start(s, now);
}
static int nv_media(void *s, sb_time_ms now, const int16_t *pcm)
{
	(void)now;
	return stream_native_media(s, pcm);
}
static int nv_dtmf(void *s, char digit, uint32_t duration_ms)
{
	return stream_native_dtmf(s, digit, duration_ms);
}
static int nv_hold(void *s, sb_time_ms now, bool held, bool remote)
{
	return stream_native_hold(s, now, held, remote, NULL);
}
static int nv_peer(void *s, bool joined, const char *identity, const char *kind)
{
	return stream_native_participant(s, joined, identity, kind);
}
static int nv_call_state(void *s, const char *status)
{
	return stream_native_call_state(s, status);
}
static int nv_transfer(void *s, const char *id, const char *to, int sip_status, const char *reason)
{
	struct stream_native_transfer t = {
	    .id = id,
	    .to = to,
	    .status = sip_status >= 200 && sip_status < 300 ? "succeeded" : "failed",
	    .sip_status = sip_status,
	    .sip_reason = reason,
	};
	return stream_native_transfer(s, &t);
}
static int nv_stop(void *s, const char *reason)
{
	return stream_native_stop(s, reason);
}
static int nv_input(void *s, const char *text, size_t len)
{
	return stream_native_input(s, text, len);
}
static int nv_binary(void *s, const uint8_t *p, size_t len)
{
	return stream_native_input_binary(s, p, len);
}
static struct stream_playout *nv_playout(void *s)
{
	return stream_native_playout(s);
}
static size_t nv_echo(void *s, size_t max)
{
	return stream_native_echo_marks(s, max);
}
static const char *nv_id(const void *s)
{
	return stream_native_stream_id(s);
}
static void nv_done(void *s, const char *room)
{
	const struct stream_native_stats *st = stream_native_stats(s);
	SB_INFO("stream",
		"room %s: stream %s over: %llu frames sent (%llu silence), %llu received, %llu "
		"marks echoed, %llu commands, %llu errors",
		room, stream_native_stream_id(s), (unsigned long long)st->out_media,
		(unsigned long long)st->out_silence, (unsigned long long)st->in_media,
		(unsigned long long)st->out_marks, (unsigned long long)st->in_commands,
		(unsigned long long)st->in_errors);
	stream_native_free(s);
}

static const struct session_ops native_ops = {
    .name = "native",
    .start = nv_start,
    .media = nv_media,
    .dtmf = nv_dtmf,
    .hold = nv_hold,
    .peer = nv_peer,
    .call_state = nv_call_state,
    .transfer = nv_transfer,
    .stop = nv_stop,
    .input = nv_input,
    .binary = nv_binary,
    .playout = nv_playout,
    .echo = nv_echo,
    .id = nv_id,
    .done = nv_done,
};

/* ---- lifecycle ---- */

static void maybe_free(struct stream_bridge *b)
{
	if (b->transport || b->part)
		return;
	b->ops->done(b->s, b->room);
	free(b);
}

static void leave(struct stream_bridge *b)
{
	if (b->part && !b->leave_asked) {
		b->leave_asked = true;
		room_part_leave(b->part);
	}
}

static void close_transport(struct stream_bridge *b)
{
	if (b->transport && !b->closing) {
		b->closing = true;
		b->h->close(b->arg);
	}
}

/* The call is over (or our participant is gone): stop, close, leave. */
static void end_stream(struct stream_bridge *b, const char *reason)
{
	if (b->transport && !b->closing)
		(void)b->ops->stop(b->s, reason);
	close_transport(b);
	leave(b);
}

/* ---- the session's output ---- */

static int twilio_send(void *arg, const char *text, size_t len)
{
	struct stream_bridge *b = arg;
	if (!b->transport || b->closing)
		return SB_ESTATE;
	return b->h->send(b->arg, text, len, b->sending_media);
}

static const struct stream_twilio_handlers twilio_handlers = {.send = twilio_send};

static int native_send(void *arg, bool binary, const void *p, size_t len)
{
	struct stream_bridge *b = arg;
	if (!b->transport || b->closing)
		return SB_ESTATE;
	if (binary)
		return b->h->send_binary(b->arg, p, len, true);
	return b->h->send(b->arg, p, len, false);
}

static int native_command(void *arg, const struct stream_native_cmd *c)
{
	struct stream_bridge *b = arg;
	if (c->type == STREAM_NATIVE_CMD_MUTE) {
		if (!b->part || b->leave_asked)
			return SB_ESTATE;
		room_part_set_mute(b->part, c->muted);
		return 0;
	}
	if (!b->caller)
		return SB_ESTATE; /* the call is gone or being hung up */
	if (!b->h->command)
		return SB_EUNSUPPORTED;
	int err = b->h->command(b->arg, b->caller, c);
	if (!err && c->type == STREAM_NATIVE_CMD_RESUME)
		b->resume_asked = true;
	if (!err && c->type == STREAM_NATIVE_CMD_HANGUP)
		b->hung_up = true;
	if (!err && c->type == STREAM_NATIVE_CMD_TRANSFER && b->transport && !b->closing) {
		struct stream_native_transfer t = {
		    .id = c->id, .to = c->attended ? c->with : c->to, .status = "started"};
		(void)stream_native_transfer(b->nv, &t);
	}
	return err;
}

static const struct stream_native_handlers native_handlers = {.send = native_send,
							      .command = native_command};

/* ---- the participant ---- */

/* Keep STREAM_BRIDGE_FIFO frames of the agent's audio ahead of the tick. The marks a frame
 * passes are noted with it and echoed once the tick has played it (echo_due). */
static void refill(struct stream_bridge *b)
{
	struct stream_playout *po = b->ops->playout(b->s);
	while (b->part && !b->leave_asked && stream_playout_queued(po) > 0 &&
	       room_part_stream_queued(b->part) < STREAM_BRIDGE_FIFO) {
		size_t before = stream_playout_reached_count(po);
		(void)stream_playout_pull(po, b->pcm, b->frame);
		if (room_part_stream_push(b->part, b->pcm))
			break; /* cannot happen below ROOM_STREAM_DOWN_SLOTS: the frame is lost */
		b->pushed++;
		size_t passed = stream_playout_reached_count(po) - before;
		if (!passed)
			continue;
		if (b->echo_len == ECHO_MAX) { /* cannot happen either: join the newest */
			b->echo[(b->echo_head + ECHO_MAX - 1) % ECHO_MAX].n += passed;
			b->echo[(b->echo_head + ECHO_MAX - 1) % ECHO_MAX].at = b->pushed;
			continue;
		}
		size_t i = (b->echo_head + b->echo_len++) % ECHO_MAX;
		b->echo[i].at = b->pushed;
		b->echo[i].n = passed;
	}
}

/* Echo the marks whose last frame the tick has taken (frames pushed minus frames waiting). */
static void echo_due(struct stream_bridge *b)
{
	uint64_t played = b->pushed - room_part_stream_queued(b->part);
	while (b->echo_len && b->echo[b->echo_head].at <= played) {
		(void)b->ops->echo(b->s, b->echo[b->echo_head].n);
		b->echo_head = (b->echo_head + 1) % ECHO_MAX;
		b->echo_len--;
	}
}

/* sip.callStatus of the caller, looked at when its attributes changed (a version compare per
 * tick) */
static void watch_call_status(struct stream_bridge *b)
{
	if (!b->caller || !b->ops->call_state)
		return;
	struct room_part_info pi;
	room_part_get_info(b->caller, &pi);
	if (pi.version == b->caller_version)
		return;
	b->caller_version = pi.version;
	const char *st = attr_of(&pi, "sip.callStatus");
	if (st)
		(void)b->ops->call_state(b->s, st);
}

static void on_audio(void *arg, const int16_t *pcm, size_t n, uint64_t now_ms)
{
	struct stream_bridge *b = arg;
	if (!b->transport || b->closing || n != b->frame)
		return;
	watch_call_status(b);
	b->sending_media = true;
	(void)b->ops->media(b->s, now_ms, pcm);
	b->sending_media = false;
	if (b->part)
		echo_due(b);
	refill(b);
}

static void on_peer(void *arg, const struct room_peer_event *ev)
{
	struct stream_bridge *b = arg;
	bool up = b->transport && !b->closing;
	if (ev->part != b->caller || !b->caller) {
		/* someone else in the room: native agents hear of them */
		if (up && b->ops->peer && ev->part != b->part &&
		    (ev->type == ROOM_PEER_JOINED || ev->type == ROOM_PEER_LEFT))
			(void)b->ops->peer(b->s, ev->type == ROOM_PEER_JOINED, ev->identity,
					   room_part_kind_name(ev->kind));
		return;
	}
	switch (ev->type) {
	case ROOM_PEER_DTMF:
		if (up)
			(void)b->ops->dtmf(b->s, ev->digit, ev->duration_ms);
		break;
	case ROOM_PEER_HOLD: {
		bool remote = ev->by_remote;
		if (ev->held) {
			b->hold_local = !remote;
		} else {
			remote = remote && !b->hold_local && !b->resume_asked;
			b->hold_local = false;
		}
		b->resume_asked = false;
		if (up)
			(void)b->ops->hold(b->s, sb_clock_ms(), ev->held, remote);
		break;
	}
	case ROOM_PEER_LEFT:
		SB_INFO("stream", "room %s: %s left: stream %s stops", b->room, ev->identity,
			b->ops->id(b->s));
		b->caller = NULL;
		if (up && b->ops->call_state)
			(void)b->ops->call_state(b->s, "hangup");
		if (up && b->ops->peer)
			(void)b->ops->peer(b->s, false, ev->identity,
					   room_part_kind_name(ev->kind));
		end_stream(b, "call_ended");
		break;
	case ROOM_PEER_JOINED:
		break;
	}
}

static void on_event(void *arg, const struct room_event *ev)
{
	struct stream_bridge *b = arg;
	switch (ev->type) {
	case ROOM_EV_JOIN_FAILED:
		SB_WARN("stream", "room %s: %s could not join: %s", b->room, b->identity,
			sb_strerror(ev->err));
		break;
	case ROOM_EV_LEFT:
		/* taken out of the room (RemoveParticipant, DeleteRoom): the call stays */
		b->part = NULL;
		b->caller = NULL;
		end_stream(b, "removed");
		maybe_free(b);
		break;
	default:
		break;
	}
}

static const struct room_stream_handlers stream_handlers = {
    .audio = on_audio, .peer = on_peer, .event = on_event};

/* The session over the caller's participant (pi): b->s, b->ops, b->identity, b->rate. */
static int session_new(struct stream_bridge *b, const struct stream_bridge_opts *o,
		       const struct room_part_info *pi)
{
	const char *phone = attr_of(pi, "sip.phoneNumber");
	const char *trunk = attr_of(pi, "sip.trunkPhoneNumber");
	int err;
	if (o->protocol == STREAM_PROTO_NATIVE) {
		if (!b->h->send_binary)
			return SB_EINVAL;
		struct stream_native_attr attrs[ROOM_ATTRS_MAX];
		size_t n = pi->n_attrs < ROOM_ATTRS_MAX ? pi->n_attrs : ROOM_ATTRS_MAX;
		for (size_t i = 0; i < n; i++)
			attrs[i] =
			    (struct stream_native_attr){pi->attrs[i].key, pi->attrs[i].value};
		char stream_id[STREAM_NATIVE_ID_LEN + 1];
		/* the agent's identity (in start) names the stream: the id is drawn first */
		struct stream_native_opts no = {
		    .rate = o->rate,
		    .room = o->room,
		    .caller = pi->identity,
		    .call_id = attr_of(pi, "sip.callID"),
		    .sip_call_id = attr_of(pi, "sip.callIDFull"),
		    .from_number = o->outbound ? trunk : phone,
		    .to_number = o->outbound ? phone : trunk,
		    .outbound = o->outbound,
		    .call_status = attr_of(pi, "sip.callStatus"),
		    .attrs = attrs,
		    .n_attrs = n,
		    .playout = o->playout,
		};
		if ((err = stream_native_new_id(stream_id)) != 0)
			return err;
		snprintf(b->identity, sizeof(b->identity), "agent_%s", stream_id);
		no.stream_id = stream_id;
		no.participant = b->identity;
		if ((err = stream_native_new(&b->nv, &no, &native_handlers, b)) != 0)
			return err;
		b->s = b->nv;
		b->ops = &native_ops;
		b->rate = stream_native_rate(b->nv);
	} else {
		struct stream_twilio_opts to = {
		    .account_sid = o->account_sid,
		    .call_sid = o->call_sid,
		    .stream_sid = o->stream_sid,
		    .from_number = o->outbound ? trunk : phone,
		    .to_number = o->outbound ? phone : trunk,
		    .room = o->room,
		    .participant = pi->identity,
		    .call_id = attr_of(pi, "sip.callID"),
		    .sip_call_id = attr_of(pi, "sip.callIDFull"),
		    .params = o->params,
		    .n_params = o->n_params,
		    .playout = o->playout,
		};
		if ((err = stream_twilio_new(&b->t, &to, &twilio_handlers, b)) != 0)
			return err;
		b->s = b->t;
		b->ops = &twilio_ops;
		b->rate = TWILIO_RATE;
		snprintf(b->identity, sizeof(b->identity), "twilio_%s",
			 stream_twilio_stream_sid(b->t));
	}
	b->frame = b->rate / 50u;
	return 0;
}

int stream_bridge_new(struct stream_bridge **out, const struct stream_bridge_opts *o,
		      const struct stream_bridge_handlers *h, void *arg)
{
	if (!o || !o->rs || !o->room || !h || !h->send || !h->close || !h->hangup)
		return SB_EINVAL;
	if (o->protocol != STREAM_PROTO_TWILIO && o->protocol != STREAM_PROTO_NATIVE)
		return SB_EINVAL;
	struct room_part *caller =
	    o->caller ? o->caller : stream_bridge_find_caller(o->rs, o->room);
	if (!caller)
		return SB_ENOTFOUND;
	struct stream_bridge *b = calloc(1, sizeof(*b));
	if (!b)
		return SB_ENOMEM;
	b->h = h;
	b->arg = arg;
	snprintf(b->room, sizeof(b->room), "%s", o->room);

	struct room_part_info pi;
	room_part_get_info(caller, &pi);
	b->caller_version = pi.version;
	int err = session_new(b, o, &pi);
	if (err) {
		free(b);
		return err;
	}
	bool native = b->ops == &native_ops;
	char rate[16];
	snprintf(rate, sizeof(rate), "%u", (unsigned)b->rate);
	const struct room_attr twilio_attrs[] = {
	    {"stream.protocol", "twilio"},
	    {"stream.streamSid", b->t ? stream_twilio_stream_sid(b->t) : ""},
	    {"stream.callSid", b->t ? stream_twilio_call_sid(b->t) : ""},
	};
	const struct room_attr native_attrs[] = {
	    {"stream.protocol", "native"},
	    {"stream.streamId", b->ops->id(b->s)},
	    {"stream.sampleRate", rate},
	};
	struct room_join j = {
	    .room = o->room,
	    .identity = b->identity,
	    .kind = ROOM_PART_AGENT,
	    .media = ROOM_MEDIA_STREAM,
	    .arg = b,
	    .name = native ? "Agent stream" : "Twilio stream",
	    .attrs = native ? native_attrs : twilio_attrs,
	    .n_attrs = native ? SB_ARRAY_LEN(native_attrs) : SB_ARRAY_LEN(twilio_attrs),
	    .stream = &stream_handlers,
	    .stream_arg = b,
	    .stream_rate = b->rate,
	};
	if ((err = room_join(o->rs, &j, &b->part)) != 0) {
		b->ops->done(b->s, b->room);
		free(b);
		return err;
	}
	b->caller = caller;
	b->transport = true;
	if ((err = b->ops->start(b->s, sb_clock_ms())) != 0)
		SB_WARN("stream", "room %s: start not sent: %s", b->room, sb_strerror(err));
	SB_INFO("stream", "room %s: %s stream %s for %s (%u Hz)", b->room, b->ops->name,
		b->ops->id(b->s), pi.identity, (unsigned)b->rate);
	*out = b;
	return 0;
}

/* The session echoes passed marks itself on clear and on a mark sent to an empty queue (oldest
 * first): forget as many of the oldest noted ones. */
static void echo_trim(struct stream_bridge *b)
{
	size_t noted = 0;
	for (size_t i = 0; i < b->echo_len; i++)
		noted += b->echo[(b->echo_head + i) % ECHO_MAX].n;
	size_t left = stream_playout_reached_count(b->ops->playout(b->s));
	while (noted > left && b->echo_len) {
		size_t *n = &b->echo[b->echo_head].n;
		size_t drop = noted - left < *n ? noted - left : *n;
		*n -= drop;
		noted -= drop;
		if (*n == 0) {
			b->echo_head = (b->echo_head + 1) % ECHO_MAX;
			b->echo_len--;
		}
	}
}

static uint64_t media_in(const struct stream_bridge *b)
{
	return b->t ? stream_twilio_stats(b->t)->in_media : stream_native_stats(b->nv)->in_media;
}

static void after_input(struct stream_bridge *b)
{
	if (b->h->first_media && !b->heard_agent && media_in(b)) {
		b->heard_agent = true;
		b->h->first_media(b->arg);
	}
	echo_trim(b);
	refill(b);
}

void stream_bridge_input(struct stream_bridge *b, const char *text, size_t len)
{
	if (!b->transport || b->closing)
		return;
	(void)b->ops->input(b->s, text, len);
	if (b->transport && !b->closing) /* a command may have ended it */
		after_input(b);
}

void stream_bridge_input_binary(struct stream_bridge *b, const uint8_t *p, size_t len)
{
	if (!b->transport || b->closing || !b->ops->binary)
		return; /* Twilio: binary frames are ignored */
	(void)b->ops->binary(b->s, p, len);
	after_input(b);
}

void stream_bridge_transfer_result(struct stream_bridge *b, const char *id, const char *to,
				   int sip_status, const char *reason)
{
	if (!b->transport || b->closing)
		return;
	(void)b->ops->transfer(b->s, id, to, sip_status, reason);
}

void stream_bridge_transport_closed(struct stream_bridge *b)
{
	b->transport = false;
	if (b->caller && !b->hung_up) {
		struct room_part *c = b->caller;
		b->caller = NULL;
		SB_INFO("stream", "room %s: stream %s closed by the agent: hanging up %s", b->room,
			b->ops->id(b->s), room_part_identity(c));
		b->h->hangup(b->arg, c);
	}
	leave(b);
	maybe_free(b);
}

enum stream_protocol stream_bridge_protocol(const struct stream_bridge *b)
{
	return b->nv ? STREAM_PROTO_NATIVE : STREAM_PROTO_TWILIO;
}

struct stream_twilio *stream_bridge_session(struct stream_bridge *b)
{
	return b->t;
}

struct stream_native *stream_bridge_native(struct stream_bridge *b)
{
	return b->nv;
}

struct room_part *stream_bridge_part(struct stream_bridge *b)
{
	return b->part;
}

struct room_part *stream_bridge_caller(struct stream_bridge *b)
{
	return b->caller;
}
