/* Rooms, control side: the directory and lifecycle (name -> room, participants' handles, empty and
 * departure timers, events) and the API's calls. The worker side is room_worker.c; they meet only
 * in messages. */
#include "room/room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/err.h"
#include "base/htab.h"
#include "base/log.h"
#include "base/rand.h"
#include "base/slice.h"
#include "media/resample.h"
#include "room/room_int.h"

/* The observer's calls (defined at the end of the file). */
static void observe_room(struct room *r, bool started);
static void observe_part(struct room_part *p, const struct room_event *ev);
static void observe_hold(struct room_part *p);
static void observe_updated(struct room_part *p);
static void stream_peers(struct room_part *p, const struct room_event *ev, bool held,
			 bool by_remote);
static void stream_free(struct room_stream *st);

/* ---- posting ---- */

static void rs_retry(uv_timer_t *t);

/* Control -> worker; a message that must not be lost is queued when the worker's queue is full. */
static void post_must(struct room_service *rs, unsigned worker, const struct media_msg *m)
{
	if (rs->n_pending == 0 &&
	    media_worker_post(media_engine_worker(rs->engine, worker), m) == 0)
		return;
	if (rs->n_pending == rs->cap_pending) {
		size_t cap = rs->cap_pending ? rs->cap_pending * 2 : 64;
		void *p = realloc(rs->pending, cap * sizeof(*rs->pending));
		if (!p) {
			SB_ERROR("room", "out of memory: a media message is lost");
			return;
		}
		rs->pending = p;
		rs->cap_pending = cap;
	}
	rs->pending[rs->n_pending].m = *m;
	rs->pending[rs->n_pending].worker = worker;
	rs->n_pending++;
	if (!uv_is_active((uv_handle_t *)&rs->retry))
		uv_timer_start(&rs->retry, rs_retry, 1, 1);
}

static void rs_retry(uv_timer_t *t)
{
	struct room_service *rs = t->data;
	size_t i = 0;
	while (i < rs->n_pending) {
		struct media_worker *w = media_engine_worker(rs->engine, rs->pending[i].worker);
		if (media_worker_post(w, &rs->pending[i].m))
			break;
		i++;
	}
	memmove(rs->pending, rs->pending + i, (rs->n_pending - i) * sizeof(*rs->pending));
	rs->n_pending -= i;
	if (rs->n_pending == 0)
		uv_timer_stop(&rs->retry);
}

static void emit(struct room_service *rs, const struct room_event *ev)
{
	if (rs->h && rs->h->event)
		rs->h->event(rs->arg, ev);
}

/* ---- control side ---- */

static void rs_finish(struct room_service *rs);

static void room_free_cb(uv_handle_t *h)
{
	struct room *r = h->data;
	struct room_service *rs = r->rs;
	free(r->metadata);
	free(r);
	rs->n_alive--;
	if (rs->closing && rs->n_alive == 0 && rs->n_parts == 0)
		rs_finish(rs);
}

void room__ctl_room_freed(const struct media_msg *m)
{
	struct room *r = m->obj;
	uv_close((uv_handle_t *)&r->timer, room_free_cb);
}

void room__ctl_room_rate(const struct media_msg *m)
{
	struct room *r = m->obj;
	r->c_rate = (uint32_t)m->u[0];
}

static void room_close(struct room *r)
{
	struct room_service *rs = r->rs;
	if (r->detached)
		return;
	r->detached = true;
	uv_timer_stop(&r->timer);
	if (!r->unlisted) {
		sb_htab_remove(&rs->rooms, &r->node);
		rs->n_rooms--;
	}
	struct room_event ev = {.type = ROOM_EV_ROOM_FINISHED, .room = r->name};
	emit(rs, &ev);
	observe_room(r, false);
	struct media_msg m = {.fn = room__w_room_detach, .obj = r};
	post_must(rs, r->worker, &m);
}

static void room_timer(uv_timer_t *t)
{
	struct room *r = t->data;
	if (r->n_parts == 0)
		room_close(r);
}

static struct room *room_find(struct room_service *rs, const char *name)
{
	uint64_t hash = sb_hash(name, strlen(name));
	for (struct sb_hnode *n = sb_htab_chain(&rs->rooms, hash); n; n = n->next) {
		struct room *r = SB_CONTAINER_OF(n, struct room, node);
		if (n->hash == hash && strcmp(r->name, name) == 0)
			return r;
	}
	return NULL;
}

/* "RM_" + 12 random characters (LiveKit's shape). */
static void make_sid(char out[ROOM_SID_MAX], const char *prefix)
{
	char tok[12];
	sb_random_token(tok, sizeof(tok));
	snprintf(out, ROOM_SID_MAX, "%s%.*s", prefix, (int)sizeof(tok), tok);
}

static void part_ctl_free(struct room_part *p)
{
	for (size_t i = 0; i < p->n_attrs; i++) {
		free((char *)(uintptr_t)p->attrs[i].key);
		free((char *)(uintptr_t)p->attrs[i].value);
	}
	free(p->attrs);
	free(p->name);
	free(p->metadata);
	free(p->c_subs);
	free(p->w_subs); /* the worker is done with it by now */
	p->c_subs = NULL;
	p->w_subs = NULL;
	p->attrs = NULL;
	p->n_attrs = 0;
	p->name = p->metadata = NULL;
}

static void room_unborn_closed(uv_handle_t *h)
{
	free(h->data); /* the timer is not the first member: free the room, not the handle */
}

static struct room *room_create(struct room_service *rs, const char *name)
{
	struct room *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->rs = rs;
	r->worker = rs->next_worker++ % rs->n_workers;
	r->rw = &rs->rws[r->worker];
	r->created_ms = sb_clock_ms();
	r->created_unix_ms = sb_clock_wall_ms();
	r->empty_ms = rs->empty_ms;
	r->departure_ms = rs->departure_ms;
	make_sid(r->sid, "RM_");
	uv_timer_init(rs->loop, &r->timer);
	r->timer.data = r;
	struct media_msg m = {.fn = room__w_room_attach, .obj = r};
	if (media_worker_post(media_engine_worker(rs->engine, r->worker), &m)) {
		uv_close((uv_handle_t *)&r->timer, room_unborn_closed);
		return NULL;
	}
	sb_htab_insert(&rs->rooms, &r->node, sb_hash(name, strlen(name)));
	rs->n_rooms++;
	rs->n_alive++;
	uv_timer_start(&r->timer, room_timer, r->empty_ms, 0);
	struct room_event ev = {.type = ROOM_EV_ROOM_STARTED, .room = r->name};
	emit(rs, &ev);
	return r;
}

void room__ctl_part_event(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	struct room_service *rs = p->rs;
	struct room *r = p->room;
	struct room_event ev = {.type = (enum room_event_type)m->u[0],
				.room = r->name,
				.identity = p->identity,
				.part_arg = p->arg};
	switch (ev.type) {
	case ROOM_EV_DTMF:
		ev.digit = (char)m->u[1];
		ev.duration_ms = (uint32_t)m->u[2];
		ev.inband = (m->u[2] >> 32) != 0;
		break;
	case ROOM_EV_MEDIA_TIMEOUT:
		ev.timeout = (enum media_leg_timeout)m->u[1];
		break;
	case ROOM_EV_JOIN_FAILED:
		ev.err = (int)(int64_t)m->u[1];
		break;
	case ROOM_EV_LEFT:
		ev.stats = p->has_final ? &p->final : NULL;
		break;
	case ROOM_EV_JOINED:
		p->c_joined = true;
		p->version++;
		break;
	default:
		break;
	}
	emit(rs, &ev);
	observe_part(p, &ev);
	if (p->st && p->st->h->event)
		p->st->h->event(p->st->arg, &ev);
	stream_peers(p, &ev, false, false);
	if (ev.type != ROOM_EV_LEFT)
		return;
	/* the participant is gone on the worker: drop the handle */
	if (p->c_prev)
		p->c_prev->c_next = p->c_next;
	else
		r->parts = p->c_next;
	if (p->c_next)
		p->c_next->c_prev = p->c_prev;
	r->n_parts--;
	rs->n_parts--;
	rs->n_parts_kind[p->kind]--;
	media_wav_free(&p->wav);
	stream_free(p->st);
	part_ctl_free(p);
	free(p);
	if (r->n_parts == 0 && !r->detached) {
		if (rs->closing || r->close_when_empty)
			room_close(r);
		else
			uv_timer_start(&r->timer, room_timer, r->departure_ms, 0);
	}
}

void room__ctl_data_done(const struct media_msg *m)
{
	struct room *r = m->obj;
	struct data_msg *d = m->arg;
	struct room_event ev = {.type = ROOM_EV_DATA,
				.room = r->name,
				.identity = d->from[0] ? d->from : NULL,
				.topic = d->topic,
				.data = d->data,
				.data_len = d->len};
	emit(r->rs, &ev);
	free(d->data);
	free(d);
}

int room_service_new(struct room_service **out, const struct room_service_opts *o)
{
	if (!o || !o->loop || !o->engine)
		return SB_EINVAL;
	uint32_t rate = o->rate ? o->rate : 16000;
	if (rate != 8000 && rate != 16000 && rate != 24000 && rate != 48000)
		return SB_EINVAL;
	struct room_service *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return SB_ENOMEM;
	rs->loop = o->loop;
	rs->engine = o->engine;
	rs->rate = rate;
	rs->frame = rate / 50u;
	rs->empty_ms = o->empty_timeout_ms ? o->empty_timeout_ms : 300000;
	rs->departure_ms = o->departure_timeout_ms ? o->departure_timeout_ms : 20000;
	rs->h = o->h;
	rs->arg = o->arg;
	rs->n_workers = media_engine_workers(o->engine);
	rs->rws = calloc(rs->n_workers, sizeof(*rs->rws));
	if (!rs->rws || sb_htab_init(&rs->rooms, 64)) {
		free(rs->rws);
		free(rs);
		return SB_ENOMEM;
	}
	uv_timer_init(o->loop, &rs->retry);
	rs->retry.data = rs;
	for (unsigned i = 0; i < rs->n_workers; i++) {
		rs->rws[i].rs = rs;
		rs->rws[i].w = media_engine_worker(o->engine, i);
		struct media_msg m = {.fn = room__w_init, .obj = &rs->rws[i]};
		post_must(rs, i, &m);
	}
	*out = rs;
	return 0;
}

static void rs_closed(uv_handle_t *h)
{
	struct room_service *rs = h->data;
	void (*cb)(void *) = rs->closed_cb;
	void *arg = rs->closed_arg;
	sb_htab_free(&rs->rooms);
	free(rs->rws);
	free(rs->pending);
	free(rs);
	if (cb)
		cb(arg);
}

void room__ctl_fini_done(const struct media_msg *m)
{
	struct room_service *rs = m->obj;
	if (--rs->fini_pending == 0)
		uv_close((uv_handle_t *)&rs->retry, rs_closed);
}

/* Every room and participant is gone: detach the ticks, then free once every worker has. */
static void rs_finish(struct room_service *rs)
{
	if (rs->finishing)
		return;
	rs->finishing = true;
	rs->fini_pending = rs->n_workers;
	for (unsigned i = 0; i < rs->n_workers; i++) {
		struct media_msg m = {.fn = room__w_fini, .obj = &rs->rws[i]};
		post_must(rs, i, &m);
	}
}

void room_service_close(struct room_service *rs, void (*cb)(void *arg), void *arg)
{
	rs->closing = true;
	rs->closed_cb = cb;
	rs->closed_arg = arg;
	/* leave every participant; rooms close when their last participant is gone */
	sb_htab_settle(&rs->rooms);
	for (size_t b = 0; b <= rs->rooms.mask && rs->rooms.buckets; b++) {
		struct sb_hnode *n = rs->rooms.buckets[b];
		while (n) {
			struct sb_hnode *next = n->next;
			struct room *r = SB_CONTAINER_OF(n, struct room, node);
			if (r->n_parts == 0)
				room_close(r);
			else
				for (struct room_part *p = r->parts; p; p = p->c_next)
					room_part_leave(p);
			n = next;
		}
	}
	if (rs->n_alive == 0 && rs->n_parts == 0)
		rs_finish(rs);
}

const char *room_part_identity(const struct room_part *p)
{
	return p->identity;
}

const char *room_part_room(const struct room_part *p)
{
	return p->room->name;
}

static int player_prepare(struct room_service *rs, struct room_part *p, const struct media_wav *w)
{
	if (!w->pcm || !w->n || !w->rate)
		return SB_EINVAL;
	if (w->rate == rs->rate) {
		p->wav = *w;
		return 0;
	}
	/* the caller's original is freed once the join succeeded */
	return media_resample_wav(w, rs->rate, &p->wav);
}

static void close_leg_fds(const struct room_join *j)
{
	if (j->media != ROOM_MEDIA_LEG)
		return;
	if (j->leg.rtp_fd >= 0)
		close(j->leg.rtp_fd);
	if (j->leg.rtcp_fd >= 0)
		close(j->leg.rtcp_fd);
}

static int dup_opt(const char *in, size_t max, char **out)
{
	*out = NULL;
	if (!in || !in[0])
		return 0;
	if (strlen(in) > max)
		return SB_EINVAL;
	return (*out = strdup(in)) ? 0 : SB_ENOMEM;
}

static int attr_cmp(const void *a, const void *b)
{
	return strcmp(((const struct room_attr *)a)->key, ((const struct room_attr *)b)->key);
}

/* Merge changes into p's attributes (an empty value deletes): all or nothing. */
static int attrs_merge(struct room_part *p, const struct room_attr *ch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ch[i].key || !ch[i].key[0] || strlen(ch[i].key) > ROOM_ATTR_MAX ||
		    (ch[i].value && strlen(ch[i].value) > ROOM_ATTR_MAX))
			return SB_EINVAL;
	struct room_attr *v = calloc(p->n_attrs + n + 1, sizeof(*v));
	if (!v)
		return SB_ENOMEM;
	size_t k = 0;
	int err = 0;
	/* the old ones not named in ch, then the non-empty values of ch (the last one of a key) */
	for (size_t i = 0; i < p->n_attrs + n && !err; i++) {
		const struct room_attr *a = i < p->n_attrs ? &p->attrs[i] : &ch[i - p->n_attrs];
		bool later = false;
		for (size_t x = (i < p->n_attrs ? 0 : i - p->n_attrs + 1); x < n && !later; x++)
			later = strcmp(ch[x].key, a->key) == 0;
		if (later || !a->value || !a->value[0])
			continue;
		if (k == ROOM_ATTRS_MAX) {
			err = SB_ETOOBIG;
			break;
		}
		v[k].key = strdup(a->key);
		v[k].value = strdup(a->value);
		if (!v[k].key || !v[k].value)
			err = SB_ENOMEM;
		k++;
	}
	if (err) {
		for (size_t i = 0; i < k; i++) {
			free((char *)(uintptr_t)v[i].key);
			free((char *)(uintptr_t)v[i].value);
		}
		free(v);
		return err;
	}
	for (size_t i = 0; i < p->n_attrs; i++) {
		free((char *)(uintptr_t)p->attrs[i].key);
		free((char *)(uintptr_t)p->attrs[i].value);
	}
	free(p->attrs);
	qsort(v, k, sizeof(*v), attr_cmp);
	p->attrs = v;
	p->n_attrs = k;
	return 0;
}

/* The control side's view: sids, name, metadata, attributes, joined time. */
static int part_ctl_init(struct room_part *p, const struct room_join *j)
{
	make_sid(p->sid, "PA_");
	if (j->media != ROOM_MEDIA_NONE)
		make_sid(p->track_sid, "TR_");
	p->joined_ms = sb_clock_wall_ms();
	p->c_except = true;
	int err = dup_opt(j->name, ROOM_ATTR_MAX, &p->name);
	if (!err)
		err = dup_opt(j->metadata, ROOM_META_MAX, &p->metadata);
	if (!err && j->n_attrs)
		err = attrs_merge(p, j->attrs, j->n_attrs);
	return err;
}

/* ---- stream participants ---- */

static void stream_free(struct room_stream *st)
{
	if (!st)
		return;
	if (st->to_stream)
		media_resampler_free(st->to_stream);
	if (st->from_stream)
		media_resampler_free(st->from_stream);
	free(st);
}

/* The rings and resamplers, allocated once here: the tick never allocates for it. */
static int stream_prepare(struct room_service *rs, struct room_part *p, const struct room_join *j)
{
	uint32_t rate = j->stream_rate ? j->stream_rate : rs->rate;
	if (!j->stream || (rate != 8000 && rate != 16000 && rate != 24000 && rate != 48000))
		return SB_EINVAL;
	uint32_t frame = rate / 50u;
	size_t slots = ROOM_STREAM_UP_SLOTS + ROOM_STREAM_DOWN_SLOTS;
	struct room_stream *st = calloc(1, sizeof(*st) + slots * frame * sizeof(int16_t));
	if (!st)
		return SB_ENOMEM;
	st->h = j->stream;
	st->arg = j->stream_arg;
	st->rate = rate;
	st->frame = frame;
	st->up = (int16_t *)(void *)(st + 1);
	st->down = st->up + (size_t)ROOM_STREAM_UP_SLOTS * frame;
	int err = 0;
	if (rate != rs->rate &&
	    ((err = media_resampler_new(&st->to_stream, rs->rate, rate, 5)) ||
	     (err = media_resampler_new(&st->from_stream, rate, rs->rate, 5)))) {
		stream_free(st);
		return err;
	}
	p->st = st;
	return 0;
}

void room__ctl_stream_up(const struct media_msg *m)
{
	struct room_part *p = m->obj;
	struct room_stream *st = p->st;
	const int16_t *pcm = st->up + (size_t)m->u[0] * st->frame;
	if (st->h->audio && !p->leaving)
		st->h->audio(st->arg, m->u[2] ? pcm : NULL, st->frame, m->u[1]);
	atomic_fetch_add_explicit(&st->up_tail, 1, memory_order_release);
}

int room_part_stream_push(struct room_part *p, const int16_t *pcm)
{
	struct room_stream *st = p->st;
	if (!st || p->leaving)
		return SB_ESTATE;
	uint32_t head = atomic_load_explicit(&st->down_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&st->down_tail, memory_order_acquire);
	if (head - tail >= ROOM_STREAM_DOWN_SLOTS)
		return SB_ENORES;
	memcpy(st->down + (size_t)(head % ROOM_STREAM_DOWN_SLOTS) * st->frame, pcm,
	       st->frame * sizeof(*pcm));
	atomic_store_explicit(&st->down_head, head + 1, memory_order_release);
	return 0;
}

size_t room_part_stream_queued(const struct room_part *p)
{
	struct room_stream *st = p->st;
	if (!st)
		return 0;
	uint32_t head = atomic_load_explicit(&st->down_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&st->down_tail, memory_order_acquire);
	return head - tail;
}

void room_part_stream_stats(const struct room_part *p, struct room_stream_stats *out)
{
	memset(out, 0, sizeof(*out));
	struct room_stream *st = p->st;
	if (!st)
		return;
	out->up = atomic_load_explicit(&st->n_up, memory_order_relaxed);
	out->up_dropped = atomic_load_explicit(&st->n_up_dropped, memory_order_relaxed);
	out->down = atomic_load_explicit(&st->n_down, memory_order_relaxed);
	out->down_empty = atomic_load_explicit(&st->n_down_empty, memory_order_relaxed);
}

/* Tell the room's other stream participants what happened to p (joined, left, a key, hold).
 * The handlers may make participants leave (that only posts), not join or delete rooms. */
static void stream_peers(struct room_part *p, const struct room_event *ev, bool held,
			 bool by_remote)
{
	struct room_peer_event pe = {.part = p, .identity = p->identity, .kind = p->kind};
	if (!ev) {
		pe.type = ROOM_PEER_HOLD;
		pe.held = held;
		pe.by_remote = by_remote;
	} else if (ev->type == ROOM_EV_JOINED) {
		pe.type = ROOM_PEER_JOINED;
	} else if (ev->type == ROOM_EV_LEFT) {
		if (!p->c_joined)
			return;
		pe.type = ROOM_PEER_LEFT;
	} else if (ev->type == ROOM_EV_DTMF) {
		pe.type = ROOM_PEER_DTMF;
		pe.digit = ev->digit;
		pe.duration_ms = ev->duration_ms;
	} else {
		return;
	}
	struct room_part *q = p->room->parts, *next;
	for (; q; q = next) {
		next = q->c_next;
		if (q != p && q->st && q->st->h->peer && !q->leaving)
			q->st->h->peer(q->st->arg, &pe);
	}
}

/* Until the join is posted the caller's WAV stays the caller's: drop only a resampled copy. */
static void part_drop_wav(struct room_part *p, const struct room_join *j)
{
	if (p->wav.pcm != j->wav.pcm)
		media_wav_free(&p->wav);
}

int room_join(struct room_service *rs, const struct room_join *j, struct room_part **out)
{
	int err = 0;
	if (rs->closing || !j->room || !j->room[0] || strlen(j->room) >= ROOM_NAME_MAX ||
	    (j->identity && strlen(j->identity) >= ROOM_IDENTITY_MAX) ||
	    (unsigned)j->kind >= ROOM_PART_KINDS) {
		err = SB_EINVAL;
		goto fail;
	}
	struct room *r = room_find(rs, j->room);
	if (r && j->identity)
		for (struct room_part *q = r->parts; q; q = q->c_next)
			if (strcmp(q->identity, j->identity) == 0) {
				err = SB_EEXISTS;
				goto fail;
			}
	if (r && r->max_parts && r->n_parts >= r->max_parts) {
		err = SB_ENORES;
		goto fail;
	}
	struct room_part *p = calloc(1, sizeof(*p) + 3u * rs->frame * sizeof(int16_t));
	if (!p) {
		err = SB_ENOMEM;
		goto fail;
	}
	if ((err = part_ctl_init(p, j)) != 0) {
		part_ctl_free(p);
		free(p);
		goto fail;
	}
	p->frame = (int16_t *)(void *)(p + 1);
	p->out = p->frame + rs->frame;
	p->echo = p->out + rs->frame;
	p->rs = rs;
	p->kind = j->kind;
	p->media = j->media;
	p->arg = j->arg;
	p->subs_all = true;
	p->loop = j->loop;
	if (j->identity)
		snprintf(p->identity, sizeof(p->identity), "%s", j->identity);
	else
		snprintf(p->identity, sizeof(p->identity), "p_%llu",
			 (unsigned long long)++rs->gen_id);
	if (j->media == ROOM_MEDIA_LEG)
		p->leg_o = j->leg;
	if (j->ringing) {
		/* set before the worker sees p (the join message publishes it) */
		p->ringing = p->held = true;
		p->ringback = j->ringback && media_tone_init(&p->ring, MEDIA_TONE_RINGBACK,
							     j->ring_region, rs->rate, -13) == 0;
	}
	if (j->media == ROOM_MEDIA_PLAYER && (err = player_prepare(rs, p, &j->wav)) != 0) {
		part_ctl_free(p);
		free(p);
		goto fail;
	}
	if (j->media == ROOM_MEDIA_STREAM && (err = stream_prepare(rs, p, j)) != 0) {
		part_ctl_free(p);
		free(p);
		goto fail;
	}
	if (!r) {
		if (!(r = room_create(rs, j->room))) {
			part_drop_wav(p, j);
			stream_free(p->st);
			part_ctl_free(p);
			free(p);
			err = SB_EBUSY;
			goto fail;
		}
		r->close_when_empty = j->close_when_empty;
		observe_room(r, true);
	}
	p->room = r;
	struct media_msg m = {.fn = room__w_part_join, .obj = p};
	if (media_worker_post(media_engine_worker(rs->engine, r->worker), &m)) {
		part_drop_wav(p, j);
		stream_free(p->st);
		part_ctl_free(p);
		free(p);
		err = SB_EBUSY;
		if (r->n_parts == 0)
			uv_timer_start(&r->timer, room_timer,
				       r->had_parts ? r->departure_ms : r->empty_ms, 0);
		goto fail;
	}
	if (j->media == ROOM_MEDIA_PLAYER && p->wav.pcm != j->wav.pcm)
		free(j->wav.pcm); /* resampled: the original is taken over, and not needed */
	uv_timer_stop(&r->timer);
	r->had_parts = true;
	p->c_next = r->parts;
	if (r->parts)
		r->parts->c_prev = p;
	r->parts = p;
	r->n_parts++;
	rs->n_parts++;
	rs->n_parts_kind[p->kind]++;
	*out = p;
	return 0;
fail:
	close_leg_fds(j);
	return err;
}

static void post_part(struct room_part *p, void (*fn)(const struct media_msg *), void *arg,
		      uint64_t u0, uint64_t u1)
{
	struct media_msg m = {.fn = fn, .obj = p, .arg = arg, .u = {u0, u1}};
	post_must(p->rs, p->room->worker, &m);
}

void room_part_leave(struct room_part *p)
{
	if (p->leaving)
		return;
	p->leaving = true;
	post_part(p, room__w_part_leave, NULL, 0, 0);
}

void room_part_set_hold(struct room_part *p, bool held)
{
	if (p->leaving)
		return;
	bool was_held = p->c_held;
	if (p->c_held != held)
		p->version++;
	p->c_held = held;
	post_part(p, room__w_part_set, NULL, 0, held);
	if (was_held != held) {
		observe_hold(p);
		if (p->c_joined)
			stream_peers(p, NULL, held, !p->rs->hold_local);
	}
}

void room_part_set_mute(struct room_part *p, bool muted)
{
	if (p->leaving)
		return;
	bool changed = p->c_muted != muted;
	if (changed)
		p->version++;
	p->c_muted = muted;
	post_part(p, room__w_part_set, NULL, 1, muted);
	if (changed)
		observe_updated(p);
}

void room_part_set_ringing(struct room_part *p, bool ringing)
{
	if (p->leaving)
		return;
	post_part(p, room__w_part_set, NULL, 2, ringing);
}

int room_part_subscribe(struct room_part *p, bool all, const char *const *identities, size_t n)
{
	if (p->leaving)
		return SB_ESTATE;
	if (n > ROOM_MAX_SUBS)
		return SB_ETOOBIG;
	if (!p->c_subs && !(p->c_subs = calloc(ROOM_MAX_SUBS, sizeof(*p->c_subs))))
		return SB_ENOMEM;
	struct subs_msg *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	s->all = all;
	s->n = n;
	for (size_t i = 0; i < n; i++)
		snprintf(s->ids[i], sizeof(s->ids[i]), "%s", identities[i]);
	/* the control side's copy, for room_part_update_subscriptions */
	p->c_except = all;
	p->c_n_subs = all ? 0 : n;
	memcpy(p->c_subs, s->ids, sizeof(s->ids));
	post_part(p, room__w_part_subscribe, s, 0, 0);
	return 0;
}

int room_part_send_dtmf(struct room_part *p, const char *keys)
{
	if (p->leaving)
		return SB_ESTATE;
	for (const char *k = keys; *k; k++)
		if (!strchr("0123456789*#ABCDabcdwW,", *k))
			return SB_EINVAL;
	char *copy = strdup(keys);
	if (!copy)
		return SB_ENOMEM;
	post_part(p, room__w_part_dtmf, copy, 0, 0);
	return 0;
}

int room_part_play_tone(struct room_part *p, enum media_tone_kind kind,
			enum media_tone_region region, bool on)
{
	if (p->leaving || p->media != ROOM_MEDIA_LEG)
		return SB_ESTATE;
	if ((unsigned)kind > MEDIA_TONE_BUSY || (unsigned)region > MEDIA_TONE_EU)
		return SB_EINVAL;
	struct media_msg m = {.fn = room__w_part_tone, .obj = p, .u = {kind, region, on}};
	post_must(p->rs, p->room->worker, &m);
	return 0;
}

int room_part_update_leg(struct room_part *p, const struct media_leg_opts *o)
{
	if (p->leaving || p->media != ROOM_MEDIA_LEG)
		return SB_ESTATE;
	struct media_leg_opts *c = malloc(sizeof(*c));
	if (!c)
		return SB_ENOMEM;
	*c = *o;
	c->rtp_fd = c->rtcp_fd = -1;
	post_part(p, room__w_part_update, c, 0, 0);
	return 0;
}

int room_send_data(struct room_service *rs, const char *room, const char *from, const char *topic,
		   const uint8_t *data, size_t len, const char *const *to, size_t n_to)
{
	(void)to;
	(void)n_to;
	struct room *r = room_find(rs, room);
	if (!r)
		return SB_ENOTFOUND;
	if (len > DATA_MAX)
		return SB_ETOOBIG;
	struct data_msg *d = calloc(1, sizeof(*d));
	if (!d || !(d->data = malloc(len ? len : 1))) {
		free(d);
		return SB_ENOMEM;
	}
	if (len)
		memcpy(d->data, data, len);
	d->len = len;
	snprintf(d->topic, sizeof(d->topic), "%s", topic ? topic : "");
	snprintf(d->from, sizeof(d->from), "%s", from ? from : "");
	struct media_msg m = {.fn = room__w_room_data, .obj = r, .arg = d};
	if (media_worker_post(media_engine_worker(rs->engine, r->worker), &m)) {
		free(d->data);
		free(d);
		return SB_EBUSY;
	}
	return 0;
}

static void room_info_of(const struct room *r, struct room_info *ri)
{
	memset(ri, 0, sizeof(*ri));
	ri->name = r->name;
	ri->participants = r->n_parts;
	ri->created_ms = r->created_ms;
	ri->created_unix_ms = r->created_unix_ms;
	ri->worker = r->worker;
	ri->sid = r->sid;
	ri->metadata = r->metadata ? r->metadata : "";
	ri->empty_timeout_s = r->empty_ms / 1000u;
	ri->departure_timeout_s = r->departure_ms / 1000u;
	ri->max_participants = r->max_parts;
	ri->rate = r->c_rate;
	for (const struct room_part *p = r->parts; p; p = p->c_next)
		if (p->media != ROOM_MEDIA_NONE)
			ri->publishers++;
}

size_t room_service_list(struct room_service *rs, void (*fn)(void *arg, const struct room_info *),
			 void *arg)
{
	size_t n = 0;
	sb_htab_settle(&rs->rooms);
	for (size_t b = 0; rs->rooms.buckets && b <= rs->rooms.mask; b++)
		for (struct sb_hnode *h = rs->rooms.buckets[b]; h; h = h->next) {
			struct room *r = SB_CONTAINER_OF(h, struct room, node);
			struct room_info ri;
			room_info_of(r, &ri);
			if (fn)
				fn(arg, &ri);
			n++;
		}
	return n;
}

size_t room_service_room_count(const struct room_service *rs)
{
	return rs->n_rooms;
}

void room_service_counts(const struct room_service *rs, struct room_counts *out)
{
	out->rooms = rs->n_rooms;
	for (size_t k = 0; k < ROOM_PART_KINDS; k++)
		out->participants[k] = rs->n_parts_kind[k];
}

const char *room_part_kind_name(enum room_part_kind k)
{
	switch (k) {
	case ROOM_PART_SIP:
		return "sip";
	case ROOM_PART_AGENT:
		return "agent";
	case ROOM_PART_WEB:
		return "web";
	case ROOM_PART_INTERNAL:
		return "internal";
	}
	return "unknown";
}

/* ---- the API's view ---- */

static uint32_t ms_of(uint32_t s)
{
	return s > UINT32_MAX / 1000u ? UINT32_MAX : s * 1000u;
}

int room_service_create_room(struct room_service *rs, const struct room_create_opts *o,
			     bool *created)
{
	if (rs->closing || !o->name || !o->name[0] || strlen(o->name) >= ROOM_NAME_MAX ||
	    (o->metadata && strlen(o->metadata) > ROOM_META_MAX))
		return SB_EINVAL;
	char *md = NULL;
	if (o->metadata && o->metadata[0] && !(md = strdup(o->metadata)))
		return SB_ENOMEM;
	struct room *r = room_find(rs, o->name);
	bool fresh = !r;
	if (!r && !(r = room_create(rs, o->name))) {
		free(md);
		return SB_EBUSY;
	}
	if (o->empty_timeout_s)
		r->empty_ms = ms_of(o->empty_timeout_s);
	if (o->departure_timeout_s)
		r->departure_ms = ms_of(o->departure_timeout_s);
	if (o->max_participants)
		r->max_parts = o->max_participants;
	if (o->metadata) {
		free(r->metadata);
		r->metadata = md;
	}
	/* an empty room waits with its (new) timeout */
	if (r->n_parts == 0 && (fresh || o->empty_timeout_s || o->departure_timeout_s))
		uv_timer_start(&r->timer, room_timer, r->had_parts ? r->departure_ms : r->empty_ms,
			       0);
	if (fresh)
		observe_room(r, true);
	if (created)
		*created = fresh;
	return 0;
}

int room_service_get_room(struct room_service *rs, const char *name, struct room_info *out)
{
	struct room *r = name ? room_find(rs, name) : NULL;
	if (!r)
		return SB_ENOTFOUND;
	room_info_of(r, out);
	return 0;
}

int room_service_set_room_metadata(struct room_service *rs, const char *name, const char *metadata)
{
	struct room *r = name ? room_find(rs, name) : NULL;
	if (!r)
		return SB_ENOTFOUND;
	char *md = NULL;
	int err = dup_opt(metadata, ROOM_META_MAX, &md);
	if (err)
		return err;
	free(r->metadata);
	r->metadata = md;
	return 0;
}

int room_service_delete_room(struct room_service *rs, const char *name)
{
	struct room *r = name ? room_find(rs, name) : NULL;
	if (!r)
		return SB_ENOTFOUND;
	sb_htab_remove(&rs->rooms, &r->node);
	rs->n_rooms--;
	r->unlisted = true;
	r->close_when_empty = true;
	if (r->n_parts == 0) {
		room_close(r);
		return 0;
	}
	for (struct room_part *p = r->parts; p; p = p->c_next)
		room_part_leave(p);
	return 0;
}

size_t room_service_each_part(struct room_service *rs, const char *room,
			      void (*fn)(void *arg, struct room_part *p), void *arg)
{
	struct room *r = room ? room_find(rs, room) : NULL;
	if (!r || !r->parts)
		return 0;
	struct room_part *p = r->parts;
	while (p->c_next)
		p = p->c_next;
	size_t n = 0;
	for (; p; p = p->c_prev, n++)
		if (fn)
			fn(arg, p);
	return n;
}

struct room_part *room_service_find_part(struct room_service *rs, const char *room,
					 const char *identity)
{
	struct room *r = room && identity ? room_find(rs, room) : NULL;
	if (!r)
		return NULL;
	for (struct room_part *p = r->parts; p; p = p->c_next)
		if (!p->leaving && strcmp(p->identity, identity) == 0)
			return p;
	return NULL;
}

void room_part_get_info(const struct room_part *p, struct room_part_info *out)
{
	memset(out, 0, sizeof(*out));
	out->room = p->room->name;
	out->identity = p->identity;
	out->sid = p->sid;
	out->name = p->name ? p->name : "";
	out->metadata = p->metadata ? p->metadata : "";
	out->track_sid = p->track_sid;
	out->codec = p->media == ROOM_MEDIA_LEG ? media_codec_name(p->leg_o.codec) : "";
	out->kind = p->kind;
	out->media = p->media;
	out->state = p->leaving	   ? ROOM_PART_LEAVING
		     : p->c_joined ? ROOM_PART_ACTIVE
				   : ROOM_PART_JOINING;
	out->joined_ms = p->joined_ms;
	out->version = p->version;
	out->muted = p->c_muted;
	out->held = p->c_held;
	out->attrs = p->attrs;
	out->n_attrs = p->n_attrs;
	out->arg = p->arg;
}

static int set_text(struct room_part *p, char **field, const char *v, size_t max)
{
	if (p->leaving)
		return SB_ESTATE;
	char *copy = NULL;
	int err = dup_opt(v, max, &copy);
	if (err)
		return err;
	free(*field);
	*field = copy;
	p->version++;
	observe_updated(p);
	return 0;
}

int room_part_set_name(struct room_part *p, const char *name)
{
	return set_text(p, &p->name, name, ROOM_ATTR_MAX);
}

int room_part_set_metadata(struct room_part *p, const char *metadata)
{
	return set_text(p, &p->metadata, metadata, ROOM_META_MAX);
}

int room_part_update_attrs(struct room_part *p, const struct room_attr *attrs, size_t n)
{
	if (p->leaving)
		return SB_ESTATE;
	int err = n ? attrs_merge(p, attrs, n) : 0;
	if (!err && n) {
		p->version++;
		observe_updated(p);
	}
	return err;
}

int room_part_update_subscriptions(struct room_part *p, const char *const *identities, size_t n,
				   bool subscribe)
{
	if (p->leaving)
		return SB_ESTATE;
	if (!p->c_subs && !(p->c_subs = calloc(ROOM_MAX_SUBS, sizeof(*p->c_subs))))
		return SB_ENOMEM;
	struct subs_msg *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	/* work on a copy: all or nothing */
	size_t cnt = p->c_n_subs;
	memcpy(s->ids, p->c_subs, sizeof(s->ids));
	/* in "everyone except" mode the list holds those not heard, else those heard */
	bool add = p->c_except ? !subscribe : subscribe;
	for (size_t i = 0; i < n; i++) {
		if (!identities[i] || strlen(identities[i]) >= ROOM_IDENTITY_MAX)
			continue;
		size_t at = SIZE_MAX;
		for (size_t k = 0; k < cnt; k++)
			if (strcmp(s->ids[k], identities[i]) == 0)
				at = k;
		if (add && at == SIZE_MAX) {
			if (cnt == ROOM_MAX_SUBS) {
				free(s);
				return SB_ETOOBIG;
			}
			snprintf(s->ids[cnt++], ROOM_IDENTITY_MAX, "%s", identities[i]);
		} else if (!add && at != SIZE_MAX) {
			memmove(s->ids[at], s->ids[at + 1], (cnt - at - 1) * ROOM_IDENTITY_MAX);
			cnt--;
			memset(s->ids[cnt], 0, ROOM_IDENTITY_MAX);
		}
	}
	s->except = p->c_except;
	s->all = p->c_except && cnt == 0;
	s->n = cnt;
	p->c_n_subs = cnt;
	memcpy(p->c_subs, s->ids, sizeof(s->ids));
	post_part(p, room__w_part_subscribe, s, 0, 0);
	return 0;
}

/* ---- observer ---- */

void room_service_set_observer(struct room_service *rs, const struct room_observer *ob, void *arg)
{
	rs->obs[0].ob = ob;
	rs->obs[0].arg = ob ? arg : NULL;
}

int room_service_add_observer(struct room_service *rs, const struct room_observer *ob, void *arg)
{
	for (size_t i = 1; i < SB_ARRAY_LEN(rs->obs); i++)
		if (!rs->obs[i].ob) {
			rs->obs[i].ob = ob;
			rs->obs[i].arg = arg;
			return 0;
		}
	return SB_ENORES;
}

void room_service_remove_observer(struct room_service *rs, const struct room_observer *ob,
				  void *arg)
{
	for (size_t i = 1; i < SB_ARRAY_LEN(rs->obs); i++)
		if (rs->obs[i].ob == ob && rs->obs[i].arg == arg) {
			rs->obs[i].ob = NULL;
			rs->obs[i].arg = NULL;
			return;
		}
}

static bool observed(const struct room_service *rs)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(rs->obs); i++)
		if (rs->obs[i].ob)
			return true;
	return false;
}

static void observe_room(struct room *r, bool started)
{
	struct room_service *rs = r->rs;
	if (!observed(rs))
		return;
	struct room_info ri;
	room_info_of(r, &ri);
	for (size_t i = 0; i < SB_ARRAY_LEN(rs->obs); i++) {
		const struct room_observer *ob = rs->obs[i].ob;
		if (!ob)
			continue;
		void (*fn)(void *, const struct room_info *) =
		    started ? ob->room_started : ob->room_finished;
		if (fn)
			fn(rs->obs[i].arg, &ri);
	}
}

static void observe_part(struct room_part *p, const struct room_event *ev)
{
	struct room_service *rs = p->rs;
	if (!observed(rs) || !p->c_joined)
		return; /* left without having joined (media failed): nothing was announced */
	struct room_info ri;
	struct room_part_info pi;
	room_info_of(p->room, &ri);
	room_part_get_info(p, &pi);
	if (ev->type == ROOM_EV_LEFT)
		pi.state = ROOM_PART_LEAVING;
	for (size_t i = 0; i < SB_ARRAY_LEN(rs->obs); i++) {
		const struct room_observer *ob = rs->obs[i].ob;
		void *arg = rs->obs[i].arg;
		if (!ob)
			continue;
		switch (ev->type) {
		case ROOM_EV_JOINED:
			if (ob->participant_joined)
				ob->participant_joined(arg, &ri, &pi);
			break;
		case ROOM_EV_LEFT:
			if (ob->participant_left)
				ob->participant_left(arg, &ri, &pi);
			break;
		case ROOM_EV_DTMF:
			if (ob->dtmf)
				ob->dtmf(arg, &ri, &pi, ev->digit, ev->duration_ms);
			break;
		default:
			break;
		}
	}
}

static void observe_hold(struct room_part *p)
{
	struct room_service *rs = p->rs;
	if (!observed(rs) || !p->c_joined)
		return;
	struct room_info ri;
	struct room_part_info pi;
	room_info_of(p->room, &ri);
	room_part_get_info(p, &pi);
	for (size_t i = 0; i < SB_ARRAY_LEN(rs->obs); i++)
		if (rs->obs[i].ob && rs->obs[i].ob->hold)
			rs->obs[i].ob->hold(rs->obs[i].arg, &ri, &pi, p->c_held, !rs->hold_local);
}

/* Only for a participant already announced (joined): before that its attributes travel in
 * participant_joined's snapshot. */
static void observe_updated(struct room_part *p)
{
	struct room_service *rs = p->rs;
	if (!observed(rs) || !p->c_joined || p->leaving)
		return;
	struct room_info ri;
	struct room_part_info pi;
	room_info_of(p->room, &ri);
	room_part_get_info(p, &pi);
	for (size_t i = 0; i < SB_ARRAY_LEN(rs->obs); i++)
		if (rs->obs[i].ob && rs->obs[i].ob->participant_updated)
			rs->obs[i].ob->participant_updated(rs->obs[i].arg, &ri, &pi);
}

void room_part_set_hold_by(struct room_part *p, bool held, bool by_remote)
{
	p->rs->hold_local = !by_remote;
	room_part_set_hold(p, held);
	p->rs->hold_local = false;
}

int room_part_leg_stats(const struct room_part *p, struct media_leg_stats *out, uint64_t *age_ms)
{
	if (p->media != ROOM_MEDIA_LEG || !p->c_stats_ms)
		return SB_ENOTFOUND;
	*out = p->c_stats;
	if (age_ms) {
		uint64_t now = sb_clock_ms();
		*age_ms = now > p->c_stats_ms ? now - p->c_stats_ms : 0;
	}
	return 0;
}

void room_part_report_dtmf(struct room_part *p, char digit, uint32_t duration_ms)
{
	if (p->leaving || !p->c_joined)
		return;
	/* the same path as a key the worker detected on the leg (not in-band) */
	struct media_msg m = {.obj = p};
	m.u[0] = ROOM_EV_DTMF;
	m.u[1] = (uint64_t)(unsigned char)digit;
	m.u[2] = duration_ms;
	room__ctl_part_event(&m);
}

void room_part_set_moh(struct room_part *p, const struct media_wav *moh)
{
	if (p->leaving)
		return;
	if (moh && (!moh->n || !moh->pcm))
		moh = NULL;
	post_part(p, room__w_part_set, (void *)(uintptr_t)moh, 3, 0);
}

uint32_t room_service_rate(const struct room_service *rs)
{
	return rs->rate;
}
