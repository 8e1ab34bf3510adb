/* The Twilio Media Streams bridge: an agent's session joined to a room as a stream participant
 * next to the SIP call it serves. Owns the session and the participant's handle. */
#include "stream/bridge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "stream/playout.h"

#define BRIDGE_RATE 8000u
#define ECHO_MAX    (ROOM_STREAM_DOWN_SLOTS + 2)

struct stream_bridge {
	const struct stream_bridge_handlers *h;
	void *arg;
	struct stream_twilio *t;
	struct room_part *part;	  /* ours; NULL once LEFT */
	struct room_part *caller; /* the call's participant; NULL once gone or hung up */
	char room[ROOM_NAME_MAX];
	char identity[ROOM_IDENTITY_MAX];
	bool transport;	    /* the transport is up: handlers may be called */
	bool closing;	    /* close asked of the transport */
	bool sending_media; /* the message being sent is media (droppable) */
	bool leave_asked;   /* room_part_leave called */
	int16_t pcm[STREAM_TWILIO_FRAME];
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

/* ---- lifecycle ---- */

static void maybe_free(struct stream_bridge *b)
{
	if (b->transport || b->part)
		return;
	const struct stream_twilio_stats *st = stream_twilio_stats(b->t);
	SB_INFO("stream",
		"room %s: stream %s over: %llu media sent (%llu silence), %llu received, %llu "
		"marks echoed, %llu messages ignored",
		b->room, stream_twilio_stream_sid(b->t), (unsigned long long)st->out_media,
		(unsigned long long)st->out_silence, (unsigned long long)st->in_media,
		(unsigned long long)st->out_marks,
		(unsigned long long)(st->in_malformed + st->in_unknown + st->in_ignored));
	stream_twilio_free(b->t);
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
static void end_stream(struct stream_bridge *b)
{
	if (b->transport && !b->closing)
		(void)stream_twilio_stop(b->t);
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

/* ---- the participant ---- */

/* Keep STREAM_BRIDGE_FIFO frames of the agent's audio ahead of the tick. The marks a frame
 * passes are noted with it and echoed once the tick has played it (echo_due). */
static void refill(struct stream_bridge *b)
{
	struct stream_playout *po = stream_twilio_playout(b->t);
	while (b->part && !b->leave_asked && stream_playout_queued(po) > 0 &&
	       room_part_stream_queued(b->part) < STREAM_BRIDGE_FIFO) {
		size_t before = stream_playout_reached_count(po);
		(void)stream_playout_pull(po, b->pcm, STREAM_TWILIO_FRAME);
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
		(void)stream_twilio_echo_marks(b->t, b->echo[b->echo_head].n);
		b->echo_head = (b->echo_head + 1) % ECHO_MAX;
		b->echo_len--;
	}
}

static void on_audio(void *arg, const int16_t *pcm, size_t n, uint64_t now_ms)
{
	struct stream_bridge *b = arg;
	if (!b->transport || b->closing || n != STREAM_TWILIO_FRAME)
		return;
	b->sending_media = true;
	(void)stream_twilio_media(b->t, now_ms, pcm);
	b->sending_media = false;
	if (b->part)
		echo_due(b);
	refill(b);
}

static void on_peer(void *arg, const struct room_peer_event *ev)
{
	struct stream_bridge *b = arg;
	if (ev->part != b->caller || !b->caller)
		return;
	switch (ev->type) {
	case ROOM_PEER_DTMF:
		if (b->transport && !b->closing)
			(void)stream_twilio_dtmf(b->t, ev->digit);
		break;
	case ROOM_PEER_HOLD: {
		if (!b->transport || b->closing)
			break;
		struct stream_twilio_hold hd = {.remote = ev->by_remote};
		if (ev->held)
			(void)stream_twilio_hold(b->t, sb_clock_ms(), &hd);
		else
			(void)stream_twilio_resume(b->t, sb_clock_ms(), &hd);
		break;
	}
	case ROOM_PEER_LEFT:
		SB_INFO("stream", "room %s: %s left: stream %s stops", b->room, ev->identity,
			stream_twilio_stream_sid(b->t));
		b->caller = NULL;
		end_stream(b);
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
		end_stream(b);
		maybe_free(b);
		break;
	default:
		break;
	}
}

static const struct room_stream_handlers stream_handlers = {
    .audio = on_audio, .peer = on_peer, .event = on_event};

int stream_bridge_new(struct stream_bridge **out, const struct stream_bridge_opts *o,
		      const struct stream_bridge_handlers *h, void *arg)
{
	if (!o || !o->rs || !o->room || !h || !h->send || !h->close || !h->hangup)
		return SB_EINVAL;
	struct room_part *caller = stream_bridge_find_caller(o->rs, o->room);
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
	const char *phone = attr_of(&pi, "sip.phoneNumber");
	const char *trunk = attr_of(&pi, "sip.trunkPhoneNumber");
	struct stream_twilio_opts to = {
	    .account_sid = o->account_sid,
	    .call_sid = o->call_sid,
	    .stream_sid = o->stream_sid,
	    .from_number = o->outbound ? trunk : phone,
	    .to_number = o->outbound ? phone : trunk,
	    .room = o->room,
	    .participant = pi.identity,
	    .call_id = attr_of(&pi, "sip.callID"),
	    .sip_call_id = attr_of(&pi, "sip.callIDFull"),
	    .params = o->params,
	    .n_params = o->n_params,
	    .playout = o->playout,
	};
	int err = stream_twilio_new(&b->t, &to, &twilio_handlers, b);
	if (err) {
		free(b);
		return err;
	}
	snprintf(b->identity, sizeof(b->identity), "twilio_%s", stream_twilio_stream_sid(b->t));
	const struct room_attr attrs[] = {
	    {"stream.protocol", "twilio"},
	    {"stream.streamSid", stream_twilio_stream_sid(b->t)},
	    {"stream.callSid", stream_twilio_call_sid(b->t)},
	};
	struct room_join j = {
	    .room = o->room,
	    .identity = b->identity,
	    .kind = ROOM_PART_AGENT,
	    .media = ROOM_MEDIA_STREAM,
	    .arg = b,
	    .name = "Twilio stream",
	    .attrs = attrs,
	    .n_attrs = SB_ARRAY_LEN(attrs),
	    .stream = &stream_handlers,
	    .stream_arg = b,
	    .stream_rate = BRIDGE_RATE,
	};
	if ((err = room_join(o->rs, &j, &b->part)) != 0) {
		stream_twilio_free(b->t);
		free(b);
		return err;
	}
	b->caller = caller;
	b->transport = true;
	if ((err = stream_twilio_start(b->t, sb_clock_ms())) != 0)
		SB_WARN("stream", "room %s: start not sent: %s", b->room, sb_strerror(err));
	SB_INFO("stream", "room %s: Twilio stream %s for %s", b->room,
		stream_twilio_stream_sid(b->t), pi.identity);
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
	size_t left = stream_playout_reached_count(stream_twilio_playout(b->t));
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

void stream_bridge_input(struct stream_bridge *b, const char *text, size_t len)
{
	if (!b->transport || b->closing)
		return;
	(void)stream_twilio_input(b->t, text, len);
	echo_trim(b);
	refill(b);
}

void stream_bridge_transport_closed(struct stream_bridge *b)
{
	b->transport = false;
	if (b->caller) {
		struct room_part *c = b->caller;
		b->caller = NULL;
		SB_INFO("stream", "room %s: stream %s closed by the agent: hanging up %s", b->room,
			stream_twilio_stream_sid(b->t), room_part_identity(c));
		b->h->hangup(b->arg, c);
	}
	leave(b);
	maybe_free(b);
}

struct stream_twilio *stream_bridge_session(struct stream_bridge *b)
{
	return b->t;
}

struct room_part *stream_bridge_part(struct stream_bridge *b)
{
	return b->part;
}

struct room_part *stream_bridge_caller(struct stream_bridge *b)
{
	return b->caller;
}
