/* The agents' close policy (hang up, play then hang up, transfer) and the announcer: a stream
 * participant that feeds a WAV to its room frame by frame, then hangs the call up or leaves. */
#include "api/agent_close.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/err.h"
#include "base/log.h"
#include "call/call.h"
#include "room/room.h"

#define FIFO_AHEAD 2 /* frames kept ahead of the tick */

/* ---- the announcer ---- */

struct announce {
	struct call_mgr *calls;
	struct room_part *self; /* until its LEFT */
	struct media_wav wav;	/* a copy */
	size_t pos;
	bool hangup, done, leave_asked;
	char room[ROOM_NAME_MAX];
	char caller[ROOM_IDENTITY_MAX];
	char call_id[CALL_ID_MAX];
};

static void announce_leave(struct announce *x)
{
	if (x->self && !x->leave_asked) {
		x->leave_asked = true;
		room_part_leave(x->self);
	}
}

static void hang_up(struct call_mgr *calls, struct room_part *caller)
{
	if (caller && call_mgr_hangup_participant(calls, caller) == SB_ENOTFOUND)
		room_part_leave(caller);
}

static void announce_audio(void *arg, const int16_t *pcm, size_t n, uint64_t now_ms)
{
	(void)pcm;
	(void)n;
	(void)now_ms;
	struct announce *x = arg;
	if (!x->self || x->leave_asked)
		return;
	const struct media_wav *w = &x->wav;
	size_t frame = w->rate / 50;
	int16_t buf[48000 / 50];
	while (x->pos < w->n && room_part_stream_queued(x->self) < FIFO_AHEAD) {
		size_t take = w->n - x->pos < frame ? w->n - x->pos : frame;
		memcpy(buf, w->pcm + x->pos, take * sizeof(int16_t));
		memset(buf + take, 0, (frame - take) * sizeof(int16_t));
		if (room_part_stream_push(x->self, buf))
			break;
		x->pos += take;
	}
	if (x->pos < w->n || room_part_stream_queued(x->self) || x->done)
		return;
	x->done = true;
	SB_INFO("agent", "%s: room %s: announcement played: %s", x->call_id, x->room,
		x->hangup ? "hanging up" : "leaving");
	if (x->hangup)
		hang_up(x->calls,
			room_service_find_part(call_mgr_rooms(x->calls), x->room, x->caller));
	announce_leave(x);
}

static void announce_peer(void *arg, const struct room_peer_event *ev)
{
	struct announce *x = arg;
	if (ev->type == ROOM_PEER_LEFT && ev->identity && !strcmp(ev->identity, x->caller))
		announce_leave(x);
}

static void announce_event(void *arg, const struct room_event *ev)
{
	struct announce *x = arg;
	if (ev->type == ROOM_EV_JOIN_FAILED) {
		SB_WARN("agent", "%s: room %s: the announcement could not start: %s", x->call_id,
			x->room, sb_strerror(ev->err));
		if (x->hangup)
			hang_up(x->calls, room_service_find_part(call_mgr_rooms(x->calls), x->room,
								 x->caller));
	}
	if (ev->type == ROOM_EV_LEFT) {
		media_wav_free(&x->wav);
		free(x);
	}
}

static const struct room_stream_handlers announce_handlers = {
    .audio = announce_audio, .peer = announce_peer, .event = announce_event};

int api_agent_announce(struct call_mgr *calls, struct room_part *caller,
		       const struct media_wav *wav, bool hangup, const char *name,
		       const char *agent)
{
	struct announce *x = calloc(1, sizeof(*x));
	if (!x || !(x->wav.pcm = malloc((wav->n ? wav->n : 1) * sizeof(int16_t)))) {
		free(x);
		return SB_ENOMEM;
	}
	memcpy(x->wav.pcm, wav->pcm, wav->n * sizeof(int16_t));
	x->wav.n = wav->n;
	x->wav.rate = wav->rate;
	x->calls = calls;
	x->hangup = hangup;
	snprintf(x->room, sizeof(x->room), "%s", room_part_room(caller));
	snprintf(x->caller, sizeof(x->caller), "%s", room_part_identity(caller));
	snprintf(x->call_id, sizeof(x->call_id), "%s", call_mgr_participant_call_id(calls, caller));
	const struct room_attr attrs[] = {{"agent.name", agent ? agent : ""},
					  {"agent.announcement", "true"}};
	struct room_join j = {
	    .room = x->room,
	    .kind = ROOM_PART_AGENT,
	    .media = ROOM_MEDIA_STREAM,
	    .name = name ? name : "Announcement",
	    .attrs = attrs,
	    .n_attrs = SB_ARRAY_LEN(attrs),
	    .stream = &announce_handlers,
	    .stream_arg = x,
	    .stream_rate = wav->rate,
	};
	int err = room_join(call_mgr_rooms(calls), &j, &x->self);
	if (err) {
		media_wav_free(&x->wav);
		free(x);
		return err;
	}
	SB_INFO("agent", "%s: room %s: playing %.1f s to %s, then %s", x->call_id, x->room,
		(double)wav->n / wav->rate, x->caller, hangup ? "hang up" : "leave");
	return 0;
}

/* ---- the close policy ---- */

int api_agent_close_check_wav(const struct media_wav *w, const char **why)
{
	uint32_t r = w->rate;
	if (r != 8000 && r != 16000 && r != 24000 && r != 48000) {
		*why = "want 8000, 16000, 24000 or 48000 Hz";
		return SB_EINVAL;
	}
	if (!w->n) {
		*why = "empty";
		return SB_EINVAL;
	}
	return 0;
}

int api_agent_close_prepare(struct api_agent_close_plan *out, const struct api_agent_close *def,
			    const char *who)
{
	memset(out, 0, sizeof(*out));
	if (!def || def->kind == API_AGENT_CLOSE_HANGUP)
		return 0;
	out->kind = def->kind;
	if (def->kind == API_AGENT_CLOSE_TRANSFER) {
		if (!def->target || !*def->target) {
			SB_ERROR("agent", "%s: close transfer without a target", who);
			return SB_EINVAL;
		}
		return (out->target = strdup(def->target)) ? 0 : SB_ENOMEM;
	}
	const char *why = NULL;
	int err = def->file ? media_wav_load(def->file, &out->wav) : SB_EINVAL;
	if (err)
		why = sb_strerror(err);
	else
		err = api_agent_close_check_wav(&out->wav, &why);
	if (err) {
		SB_ERROR("agent", "%s: cannot use the close WAV %s: %s", who,
			 def->file ? def->file : "(none)", why);
		api_agent_close_plan_free(out);
		return err == SB_ENOMEM ? err : SB_EINVAL;
	}
	return 0;
}

void api_agent_close_plan_free(struct api_agent_close_plan *p)
{
	media_wav_free(&p->wav);
	free(p->target);
	p->target = NULL;
}

struct close_xfer {
	struct call_mgr *calls;
	char room[ROOM_NAME_MAX];
	char caller[ROOM_IDENTITY_MAX];
	char call_id[CALL_ID_MAX];
};

static void close_xfer_done(void *arg, int status, const char *reason)
{
	struct close_xfer *t = arg;
	if (status == 200) {
		SB_INFO("agent", "%s: transferred after the agent closed", t->call_id);
	} else if (status == 487) {
		SB_INFO("agent", "%s: the call ended before its transfer", t->call_id);
	} else {
		SB_INFO("agent", "%s: transfer failed (%d %s): hanging up", t->call_id, status,
			reason ? reason : "");
		hang_up(t->calls,
			room_service_find_part(call_mgr_rooms(t->calls), t->room, t->caller));
	}
	free(t);
}

void api_agent_close_run(const struct api_agent_close_plan *p, struct call_mgr *calls,
			 struct room_part *caller, const char *agent)
{
	const char *cid = call_mgr_participant_call_id(calls, caller);
	int err = 0;
	switch (p ? p->kind : API_AGENT_CLOSE_HANGUP) {
	case API_AGENT_CLOSE_HANGUP:
		break;
	case API_AGENT_CLOSE_PLAY:
		SB_INFO("agent", "%s: agent closed: on close play", cid);
		err = api_agent_announce(calls, caller, &p->wav, true, "Announcement", agent);
		if (!err)
			return;
		break;
	case API_AGENT_CLOSE_TRANSFER: {
		struct close_xfer *t = calloc(1, sizeof(*t));
		if (!t) {
			err = SB_ENOMEM;
			break;
		}
		t->calls = calls;
		snprintf(t->room, sizeof(t->room), "%s", room_part_room(caller));
		snprintf(t->caller, sizeof(t->caller), "%s", room_part_identity(caller));
		snprintf(t->call_id, sizeof(t->call_id), "%s", cid);
		SB_INFO("agent", "%s: agent closed: on close transfer to %s", cid, p->target);
		err = call_mgr_transfer_participant(calls, caller, p->target, NULL, 0, false,
						    close_xfer_done, t);
		if (!err)
			return;
		free(t);
		break;
	}
	}
	if (err)
		SB_WARN("agent", "%s: close action failed: %s: hanging up", cid, sb_strerror(err));
	hang_up(calls, caller);
}
