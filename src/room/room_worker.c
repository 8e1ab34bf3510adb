/* Rooms, worker side: the per-worker room list, the 20 ms mix-minus tick at each room's rate,
 * participants' media (RTP legs, the built-in echo and player) and the control side's messages. */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/log.h"
#include "media/resample.h"
#include "room/mixer.h"
#include "room/room_int.h"

/* Worker -> control; kept in the worker's overflow when the queue is full, flushed each tick. */
static void rw_post(struct room_worker *rw, const struct media_msg *m)
{
	if (rw->n_overflow == 0 && media_worker_post_control(rw->w, m) == 0)
		return;
	if (rw->n_overflow < OVERFLOW_MAX)
		rw->overflow[rw->n_overflow++] = *m;
	else
		SB_ERROR("room", "control queue and overflow full: an event is lost");
}

static void rw_flush(struct room_worker *rw)
{
	size_t i = 0;
	while (i < rw->n_overflow && media_worker_post_control(rw->w, &rw->overflow[i]) == 0)
		i++;
	memmove(rw->overflow, rw->overflow + i, (rw->n_overflow - i) * sizeof(rw->overflow[0]));
	rw->n_overflow -= i;
}

/* ---- worker side: events up ---- */

static void up_event(struct room_part *p, enum room_event_type type, uint64_t a, uint64_t b)
{
	struct media_msg m = {.fn = room__ctl_part_event, .obj = p, .u = {type, a, b}};
	rw_post(p->room->rw, &m);
}

static void leg_dtmf(void *arg, char digit, uint32_t duration_ms, bool inband)
{
	struct room_part *p = arg;
	up_event(p, ROOM_EV_DTMF, (uint64_t)(unsigned char)digit,
		 (uint64_t)duration_ms | (inband ? 1ull << 32 : 0));
}

static void leg_timeout(void *arg, enum media_leg_timeout why)
{
	up_event(arg, ROOM_EV_MEDIA_TIMEOUT, (uint64_t)why, 0);
}

static const struct media_leg_handlers leg_handlers = {.dtmf = leg_dtmf, .timeout = leg_timeout};

/* ---- worker side: the tick ---- */

/* ---- worker side: stream participants ---- */

/* Convert one frame between rates (a copy when equal). */
static void stream_convert(struct media_resampler *rsm, const int16_t *in, uint32_t in_n,
			   int16_t *out, uint32_t out_n)
{
	if (!rsm) {
		memcpy(out, in, out_n * sizeof(*out));
		return;
	}
	int n = media_resample(rsm, in, in_n, out, out_n);
	if (n < 0)
		n = 0;
	if ((uint32_t)n < out_n)
		memset(out + n, 0, (out_n - (uint32_t)n) * sizeof(*out));
}

/* Its voice: the oldest frame of the FIFO, or nothing. */
static bool stream_pull(struct room_part *p, uint32_t frame)
{
	struct room_stream *st = p->st;
	uint32_t tail = atomic_load_explicit(&st->down_tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&st->down_head, memory_order_acquire);
	if (head == tail) {
		atomic_fetch_add_explicit(&st->n_down_empty, 1, memory_order_relaxed);
		return false;
	}
	const int16_t *in = st->down + (size_t)(tail % ROOM_STREAM_DOWN_SLOTS) * st->frame;
	stream_convert(st->from_stream, in, st->frame, p->frame, frame);
	atomic_store_explicit(&st->down_tail, tail + 1, memory_order_release);
	atomic_fetch_add_explicit(&st->n_down, 1, memory_order_relaxed);
	return true;
}

/* What it hears goes up, in a preallocated slot the control side gives back (up_tail). The
 * message is best effort like the leg's figures: a full queue drops the frame, so frames never
 * wait in the overflow behind (or ahead of) events. */
static void stream_push(struct room_part *p, uint64_t now, const int16_t *pcm, bool audible,
			uint32_t frame)
{
	struct room_stream *st = p->st;
	uint32_t head = atomic_load_explicit(&st->up_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&st->up_tail, memory_order_acquire);
	if (head - tail >= ROOM_STREAM_UP_SLOTS || p->room->rw->n_overflow) {
		atomic_fetch_add_explicit(&st->n_up_dropped, 1, memory_order_relaxed);
		return;
	}
	int16_t *out = st->up + (size_t)(head % ROOM_STREAM_UP_SLOTS) * st->frame;
	stream_convert(st->to_stream, pcm, frame, out, st->frame);
	struct media_msg m = {
	    .fn = room__ctl_stream_up, .obj = p, .u = {head % ROOM_STREAM_UP_SLOTS, now, audible}};
	if (media_worker_post_control(p->room->rw->w, &m)) {
		atomic_fetch_add_explicit(&st->n_up_dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&st->up_head, head + 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->n_up, 1, memory_order_relaxed);
}

static bool part_pull(struct room_part *p, uint64_t now, uint32_t frame)
{
	switch (p->media) {
	case ROOM_MEDIA_LEG:
		/* a leg follows its room's rate at its first pull after a switch (and tries again
		 * next tick if it could not: until then it is neither heard nor fed) */
		if (media_leg_frame_samples(p->leg) != frame &&
		    media_leg_set_room_rate(p->leg, frame * 50u) != 0) {
			(void)media_leg_pull(p->leg, now, p->out); /* its socket, RTCP, timeouts */
			return false;
		}
		return media_leg_pull(p->leg, now, p->frame);
	case ROOM_MEDIA_ECHO: {
		if (!p->echo_has)
			return false;
		/* what it kept becomes its voice: the buffers trade places, nothing is copied */
		int16_t *t = p->frame;
		p->frame = p->echo;
		p->echo = t;
		p->echo_has = false;
		return true;
	}
	case ROOM_MEDIA_PLAYER:
		if (!p->wav.n || (p->wav_pos >= p->wav.n && !p->loop))
			return false;
		for (uint32_t i = 0; i < frame; i++) {
			if (p->wav_pos >= p->wav.n) {
				if (!p->loop) {
					memset(p->frame + i, 0, (frame - i) * sizeof(*p->frame));
					break;
				}
				p->wav_pos = 0;
			}
			p->frame[i] = p->wav.pcm[p->wav_pos++];
		}
		return true;
	case ROOM_MEDIA_STREAM:
		return stream_pull(p, frame);
	case ROOM_MEDIA_NONE:
		break;
	}
	return false;
}

static void part_push(struct room_part *p, uint64_t now, const int16_t *pcm, bool audible,
		      uint32_t frame)
{
	switch (p->media) {
	case ROOM_MEDIA_LEG:
		if (media_leg_frame_samples(p->leg) == frame) /* else see part_pull */
			media_leg_push(p->leg, now, pcm);
		break;
	case ROOM_MEDIA_ECHO:
		p->echo_has = audible;
		if (audible && pcm == p->out) { /* its own mix: trade buffers */
			int16_t *t = p->echo;
			p->echo = p->out;
			p->out = t;
		} else if (audible) {
			memcpy(p->echo, pcm, frame * sizeof(*p->echo));
		}
		break;
	case ROOM_MEDIA_STREAM:
		stream_push(p, now, pcm, audible, frame);
		break;
	case ROOM_MEDIA_PLAYER:
	case ROOM_MEDIA_NONE:
		break;
	}
}

/* The next frame of music on hold (at the room rate, looped) into p->out. */
static void moh_fill(struct room_part *p, uint32_t frame)
{
	const struct media_wav *w = p->moh;
	for (uint32_t i = 0; i < frame; i++) {
		if (p->moh_pos >= w->n)
			p->moh_pos = 0;
		p->out[i] = w->pcm[p->moh_pos++];
	}
}

static bool hears(const struct room_part *p, const struct room_part *src)
{
	if (p->subs_all)
		return true;
	for (size_t i = 0; p->w_subs && i < p->w_subs->n; i++)
		if (strcmp(p->w_subs->ids[i], src->identity) == 0)
			return !p->subs_except;
	return p->subs_except;
}

#define ROOM_STATS_MS 1000 /* how often a leg's figures go up to the control side */

static void ctl_part_stats(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	p->c_stats = *(const struct media_leg_stats *)m->arg;
	p->c_stats_ms = sb_clock_ms();
	if (!p->c_stats_ms)
		p->c_stats_ms = 1;
	free(m->arg);
}

/* Live figures for the API (room_part_leg_stats): a copy up to the control loop once per
 * ROOM_STATS_MS. Best effort: skipped when the control queue is busy, so it never waits in
 * the overflow (and stays ahead of the participant's LEFT, which frees p on the control side). */
static void part_report_stats(struct room_worker *rw, struct room_part *p, uint64_t now)
{
	if (now < p->w_stats_next)
		return;
	p->w_stats_next = now + ROOM_STATS_MS;
	if (rw->n_overflow)
		return;
	struct media_leg_stats *st = malloc(sizeof(*st));
	if (!st)
		return;
	media_leg_stats(p->leg, st);
	struct media_msg m = {.fn = ctl_part_stats, .obj = p, .arg = st};
	if (media_worker_post_control(rw->w, &m))
		free(st);
}

/* ---- worker side: the room's own rate ---- */

/* A wanted rate as a room rate: 8000, 16000, 24000 or 48000 (the next one up), at most the
 * service rate. */
static uint32_t room_rate_for(const struct room_service *rs, uint32_t want)
{
	uint32_t rate = want <= 8000 ? 8000 : want <= 16000 ? 16000 : want <= 24000 ? 24000 : 48000;
	return rate < rs->rate ? rate : rs->rate;
}

/* The rate a participant wants its room to mix at: a leg its codec's (more is wasted: its audio
 * is no wider), the echo nothing (it follows the room); anything whose audio the control side
 * prepared at the service rate (player, stream, ringback, music on hold) that rate. */
static uint32_t part_want(const struct room_part *p)
{
	if (p->moh || (p->ringing && p->ringback))
		return p->rs->rate;
	switch (p->media) {
	case ROOM_MEDIA_LEG:
		return media_leg_codec_rate(&p->leg_o);
	case ROOM_MEDIA_PLAYER:
	case ROOM_MEDIA_STREAM:
		return p->rs->rate;
	case ROOM_MEDIA_ECHO:
	case ROOM_MEDIA_NONE:
		break;
	}
	return 0;
}

/* What the room's rate would be with a participant that wants `want` in it. */
static uint32_t room_target(const struct room *r, uint32_t want)
{
	uint32_t rate = room_rate_for(r->rs, want);
	return rate > r->w_want ? rate : r->w_want;
}

/* At the start of a tick: the room mixes at w_want from now on. Its legs follow at their pull
 * (part_pull); an echo drops the frame it kept at the old rate. The control side hears of it
 * (room_info.rate). */
static void room_switch(struct room *r)
{
	r->w_rate = r->w_want;
	r->w_frame = r->w_rate / 50u;
	for (struct room_part *p = r->w_parts; p; p = p->w_next)
		p->echo_has = false;
	struct media_msg m = {.fn = room__ctl_room_rate, .obj = r, .u = {r->w_rate}};
	rw_post(r->rw, &m);
}

static void room_tick(struct room_worker *rw, struct room *r, uint64_t now)
{
	if (r->w_rate != r->w_want)
		room_switch(r);
	uint32_t frame = r->w_frame;
	size_t n_heard = 0;		       /* participants heard by everyone listening to all */
	struct room_part *a = NULL, *b = NULL; /* the first two of them */
	for (struct room_part *p = r->w_parts; p; p = p->w_next) {
		/* a leg is pulled on hold too: that reads its socket and runs RTCP (it gives no
		 * audio then) */
		p->has_audio = (p->media == ROOM_MEDIA_LEG || !p->held) &&
			       part_pull(p, now, frame) && !p->held;
		if (p->ringing && p->ringback && !p->hold_req) {
			media_tone_fill(&p->ring, p->frame, frame);
			p->has_audio = true;
		}
		if (p->leg)
			part_report_stats(r->rw, p, now);
		if (p->moh && p->hold_req)
			p->has_audio = false; /* held with music: not heard */
		if (p->has_audio && !p->muted) {
			if (n_heard == 0)
				a = p;
			else if (n_heard == 1)
				b = p;
			n_heard++;
		}
	}
	bool any = n_heard > 0;
	/* Mix-minus without the sum where a listener hears one voice as it is: with one speaker
	 * the others hear it and it hears silence; with two (a caller and an agent, the echo or
	 * another caller: most rooms) each hears the other. Only a third voice, or a listener
	 * hearing both of two, needs the sum: once, then each one's output minus its own. */
	bool acc_ready = false;
	if (n_heard > 2) {
		room_mix_clear(rw->acc, frame);
		for (struct room_part *p = r->w_parts; p; p = p->w_next)
			if (p->has_audio && !p->muted)
				room_mix_add(rw->acc, p->frame, frame);
		acc_ready = true;
	}
	for (struct room_part *p = r->w_parts; p; p = p->w_next) {
		if (p->held || p->media == ROOM_MEDIA_PLAYER || p->media == ROOM_MEDIA_NONE)
			continue;
		if (p->moh && p->hold_req) {
			moh_fill(p, frame);
			part_push(p, now, p->out, true, frame);
			continue;
		}
		if (p->subs_all) {
			bool own = p->has_audio && !p->muted;
			/* alone with only its own voice: nothing to hear */
			bool audible = any && (!own || r->w_count > 1);
			/* the one voice it hears as it is, if that is all it hears */
			const struct room_part *one = NULL;
			if (n_heard == 1 && p != a)
				one = a;
			else if (n_heard == 2 && (p == a || p == b))
				one = p == a ? b : a;
			if (one) {
				part_push(p, now, one->frame, audible, frame);
			} else if (n_heard == 0 || (n_heard == 1 && p == a)) {
				memset(p->out, 0, frame * sizeof(*p->out));
				part_push(p, now, p->out, audible, frame);
			} else {
				if (!acc_ready) { /* two voices, and p hears both */
					room_mix_clear(rw->acc, frame);
					room_mix_add(rw->acc, a->frame, frame);
					room_mix_add(rw->acc, b->frame, frame);
					acc_ready = true;
				}
				room_mix_out(p->out, rw->acc, own ? p->frame : NULL, frame);
				part_push(p, now, p->out, audible, frame);
			}
			continue;
		}
		/* selective subscriptions: its own sum, O(heard) */
		int32_t *sum = rw->acc2;
		room_mix_clear(sum, frame);
		bool heard = false;
		for (struct room_part *s = r->w_parts; s; s = s->w_next) {
			if (s == p || !s->has_audio || s->muted || !hears(p, s))
				continue;
			room_mix_add(sum, s->frame, frame);
			heard = true;
		}
		room_mix_out(p->out, sum, NULL, frame);
		part_push(p, now, p->out, heard, frame);
	}
}

static void worker_tick(void *arg, uint64_t now)
{
	struct room_worker *rw = arg;
	if (rw->n_overflow)
		rw_flush(rw);
	for (struct room *r = rw->rooms; r; r = r->w_next) {
		/* Thousands of rooms per worker are out of cache by the next tick. While this one
		 * ticks, fetch the next one's first participant and the room after it (the next
		 * room's own line was fetched the same way one room ago, so reading it here does
		 * not stall). */
		struct room *n = r->w_next;
		if (n) {
			__builtin_prefetch(n->w_parts);
			__builtin_prefetch(n->w_next);
		}
		if (r->w_count)
			room_tick(rw, r, now);
	}
}

/* ---- worker side: messages down ---- */

void room__w_init(const struct media_msg *m)
{
	struct room_worker *rw = m->obj;
	media_worker_set_tick(rw->w, worker_tick, rw);
}

void room__w_room_attach(const struct media_msg *m)
{
	struct room *r = m->obj;
	struct room_worker *rw = r->rw;
	r->w_next = rw->rooms;
	r->w_prev = NULL;
	if (rw->rooms)
		rw->rooms->w_prev = r;
	rw->rooms = r;
	rw->n_rooms++;
}

void room__w_room_detach(const struct media_msg *m)
{
	struct room *r = m->obj;
	struct room_worker *rw = r->rw;
	if (r->w_prev)
		r->w_prev->w_next = r->w_next;
	else
		rw->rooms = r->w_next;
	if (r->w_next)
		r->w_next->w_prev = r->w_prev;
	rw->n_rooms--;
	struct media_msg up = {.fn = room__ctl_room_freed, .obj = r};
	rw_post(rw, &up);
}

static void part_link(struct room_part *p)
{
	struct room *r = p->room;
	p->w_next = r->w_parts;
	p->w_prev = NULL;
	if (r->w_parts)
		r->w_parts->w_prev = p;
	r->w_parts = p;
	r->w_count++;
	p->linked = true;
}

static void part_unlink(struct room_part *p)
{
	struct room *r = p->room;
	if (!p->linked)
		return;
	if (p->w_prev)
		p->w_prev->w_next = p->w_next;
	else
		r->w_parts = p->w_next;
	if (p->w_next)
		p->w_next->w_prev = p->w_prev;
	r->w_count--;
	p->linked = false;
}

void room__w_part_join(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	/* the room goes up (at its next tick) to what p wants; a new leg starts at that rate */
	uint32_t target = room_target(p->room, part_want(p));
	if (p->media == ROOM_MEDIA_LEG) {
		struct media_leg_opts o = p->leg_o;
		o.h = &leg_handlers;
		o.arg = p;
		o.room_rate = target;
		int err = media_leg_new(&p->leg, media_worker_loop(p->room->rw->w), &o);
		if (err) {
			up_event(p, ROOM_EV_JOIN_FAILED, (uint64_t)(int64_t)err, 0);
			up_event(p, ROOM_EV_LEFT, 0, 0);
			return;
		}
		if (p->held)
			media_leg_set_hold(p->leg, true);
	}
	p->room->w_want = target;
	part_link(p);
	up_event(p, ROOM_EV_JOINED, 0, 0);
}

static void leg_closed(void *arg)
{
	up_event(arg, ROOM_EV_LEFT, 0, 0);
}

void room__w_part_leave(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	part_unlink(p);
	if (p->leg) {
		struct media_leg *l = p->leg;
		p->leg = NULL;
		media_leg_stats(l, &p->final);
		p->has_final = true;
		media_leg_close(l, leg_closed, p);
		return;
	}
	up_event(p, ROOM_EV_LEFT, 0, 0);
}

void room__w_part_set(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	switch (m->u[0]) {
	case 0:
		p->hold_req = m->u[1] != 0;
		break;
	case 1:
		p->muted = m->u[1] != 0;
		return;
	case 2:
		p->ringing = m->u[1] != 0;
		break;
	case 3:
		/* music on hold: a held participant keeps its media running and is fed it */
		p->moh = m->arg;
		p->moh_pos = 0;
		break;
	default:
		return;
	}
	p->held = (p->hold_req && !p->moh) || p->ringing;
	/* music on hold comes at the service rate */
	p->room->w_want = room_target(p->room, part_want(p));
	if (p->leg)
		media_leg_set_hold(p->leg, p->held);
}

void room__w_part_subscribe(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	struct subs_msg *s = m->arg;
	p->subs_all = s->all;
	p->subs_except = s->except;
	free(p->w_subs);
	p->w_subs = s; /* kept: the list lives in the message */
}

void room__w_part_dtmf(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	char *keys = m->arg;
	if (p->leg)
		(void)media_leg_send_dtmf(p->leg, keys);
	free(keys);
}

void room__w_part_tone(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	if (p->leg)
		(void)media_leg_play_tone(p->leg, (enum media_tone_kind)m->u[0],
					  (enum media_tone_region)m->u[1], m->u[2] != 0);
}

void room__w_part_update(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	struct media_leg_opts *o = m->arg;
	if (p->leg) {
		/* the leg keeps its room rate; a wider codec raises the room's at its next tick */
		o->room_rate = (uint32_t)media_leg_frame_samples(p->leg) * 50u;
		o->h = &leg_handlers;
		o->arg = p;
		int err = media_leg_update(p->leg, o);
		if (err)
			SB_WARN("room", "media update of %s failed: %s", p->identity,
				sb_strerror(err));
		else
			p->room->w_want = room_target(p->room, media_leg_codec_rate(o));
	}
	free(o);
}

void room__w_room_data(const struct media_msg *m)
{
	struct room *r = m->obj;
	/* the built-in participants take no data; agents and browsers (which do) deliver theirs
	 * through their own media in a later layer */
	struct media_msg up = {.fn = room__ctl_data_done, .obj = r, .arg = m->arg};
	rw_post(r->rw, &up);
}

void room__w_fini(const struct media_msg *m)
{
	struct room_worker *rw = m->obj;
	media_worker_set_tick(rw->w, NULL, NULL);
	while (rw->n_overflow) {
		rw_flush(rw);
		if (rw->n_overflow)
			uv_sleep(1);
	}
	struct media_msg up = {.fn = room__ctl_fini_done, .obj = rw->rs};
	while (media_worker_post_control(rw->w, &up))
		uv_sleep(1);
}
