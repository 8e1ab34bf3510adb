/* Internals shared by the room module's files (room.c: the control-side directory, lifecycle and
 * API; room_worker.c: the worker side and its messages). Not part of the room API. */
#ifndef SB_ROOM_ROOM_INT_H
#define SB_ROOM_ROOM_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/htab.h"
#include "room/room.h"

#define FRAME_MAX    960 /* 20 ms at 48 kHz */
#define OVERFLOW_MAX 4096
#define DATA_MAX     65536

struct room;
struct media_resampler;

/* A stream participant's exchange with the control loop: two single-producer single-consumer
 * rings of frames at the stream rate. up: the worker writes up_head, the control side advances
 * up_tail once it has used the frame the message named. down: the control side writes
 * down_head, the worker advances down_tail. Allocated with the frames after it at join, freed
 * on the control side after LEFT. */
struct room_stream {
	const struct room_stream_handlers *h;
	void *arg;
	uint32_t rate, frame; /* stream rate, samples per 20 ms */
	/* to and from the service rate, at which its room mixes while it is in; NULL when equal */
	struct media_resampler *to_stream, *from_stream;
	int16_t *up, *down; /* SLOTS * frame each */
	_Atomic uint32_t up_head, up_tail, down_head, down_tail;
	_Atomic uint64_t n_up, n_up_dropped, n_down, n_down_empty; /* written by the worker */
};

struct room_worker { /* worker side, one per media worker */
	struct room_service *rs;
	struct media_worker *w;
	struct room *rooms; /* doubly linked through w_next/w_prev */
	size_t n_rooms;
	struct media_msg overflow[OVERFLOW_MAX]; /* events the control queue had no room for */
	size_t n_overflow;
	int32_t acc[FRAME_MAX], acc2[FRAME_MAX];
};

struct room {
	/* worker side, read by every tick: first, so a room costs the tick one cache line */
	struct room *w_next, *w_prev;
	struct room_part *w_parts;
	size_t w_count;
	/* Its own mix rate and frame (0 until its first participant joined) and the rate its
	 * participants want (room_service.rate at most): w_rate follows w_want at the start of a
	 * tick. Only ever up in a room's life. */
	uint32_t w_rate, w_frame, w_want;
	struct room_worker *rw;
	/* control side */
	struct sb_hnode node;
	char name[ROOM_NAME_MAX];
	struct room_service *rs;
	unsigned worker;
	struct room_part *parts; /* control list */
	uint32_t n_parts;
	uv_timer_t timer; /* empty / departure timeout */
	bool detached, close_when_empty;
	bool unlisted;	/* deleted: out of the directory, closing once empty */
	bool had_parts; /* the departure timeout applies, not the empty one */
	uint64_t created_ms, created_unix_ms;
	char sid[ROOM_SID_MAX];
	char *metadata;			 /* NULL = "" */
	uint32_t empty_ms, departure_ms; /* this room's timeouts */
	uint32_t max_parts;		 /* 0 = no limit */
	uint32_t c_rate;		 /* its mix rate as the worker last reported it; 0 = none */
};

struct room_part {
	/* worker side, read by every tick: first, in two cache lines */
	struct room_part *w_next, *w_prev;
	struct room *room; /* both sides */
	enum room_media media;
	bool held, muted, subs_all, subs_except, has_audio, linked;
	bool hold_req, ringing, ringback; /* held = (hold_req && !moh) || ringing */
	bool echo_has;
	struct media_leg *leg;
	int16_t *frame, *out, *echo; /* room_service.frame each (a room mixes at that rate at most),
					in one allocation after the struct */
	uint64_t w_stats_next;	     /* worker clock: when to report the leg's figures again */
	const struct media_wav *moh; /* music on hold (service rate), borrowed; NULL = none */
	struct subs_msg *w_subs;     /* the list subs_all does not cover; NULL = none (owned) */
	/* control side */
	struct room_service *rs;
	struct room_part *c_next, *c_prev;
	char identity[ROOM_IDENTITY_MAX];
	enum room_part_kind kind;
	void *arg;
	bool leaving;
	/* control side: what the API shows */
	char sid[ROOM_SID_MAX], track_sid[ROOM_SID_MAX];
	char *name, *metadata;	 /* NULL = "" */
	struct room_attr *attrs; /* owned strings, sorted by key */
	size_t n_attrs;
	uint64_t joined_ms;
	uint32_t version;
	bool c_joined, c_muted, c_held;
	bool c_except; /* c_subs are exceptions to hearing everyone (else the only ones heard) */
	size_t c_n_subs;
	char (
	    *c_subs)[ROOM_IDENTITY_MAX]; /* ROOM_MAX_SUBS of them once a list was set, else NULL */
	/* control side: the leg's latest figures, reported by the worker every ROOM_STATS_MS */
	struct media_leg_stats c_stats;
	uint64_t c_stats_ms; /* control clock when they arrived; 0 = none yet */
	/* worker side, seldom */
	struct media_leg_opts leg_o;
	struct media_leg_stats final; /* the leg's figures when it closed (read at LEFT) */
	bool has_final;
	size_t moh_pos;
	struct media_tone ring; /* ringback into the room while ringing (service rate) */
	struct room_stream *st; /* ROOM_MEDIA_STREAM */
	struct media_wav wav;	/* player: at the service rate */
	size_t wav_pos;
	bool loop;
};

struct room_service {
	uv_loop_t *loop;
	struct media_engine *engine;
	uint32_t rate, frame; /* the configured room rate: the highest a room mixes at */
	uint32_t empty_ms, departure_ms;
	const struct room_service_handlers *h;
	void *arg;
	struct sb_htab rooms;
	size_t n_rooms; /* in the directory */
	size_t n_alive; /* rooms not yet freed (directory + detaching) */
	size_t n_parts; /* participants not yet LEFT */
	unsigned n_workers, next_worker;
	struct room_worker *rws;
	/* control -> worker messages that found a full queue */
	struct {
		struct media_msg m;
		unsigned worker;
	} * pending;
	size_t n_pending, cap_pending;
	uv_timer_t retry;
	bool closing, finishing;
	unsigned fini_pending;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	uint64_t gen_id;
	/* [0]: room_service_set_observer; the rest: room_service_add_observer */
	struct {
		const struct room_observer *ob;
		void *arg;
	} obs[ROOM_OBSERVERS_MAX + 1];
	bool hold_local;		      /* room_part_set_hold_by(..., false) is running */
	size_t n_parts_kind[ROOM_PART_KINDS]; /* n_parts by kind (room_service_counts) */
};

struct subs_msg {
	bool all, except;
	size_t n;
	char ids[ROOM_MAX_SUBS][ROOM_IDENTITY_MAX];
};

struct data_msg {
	char topic[128];
	char from[ROOM_IDENTITY_MAX];
	size_t len;
	uint8_t *data;
};

/* Control side, run on the control loop (room.c). */
void room__ctl_part_event(const struct media_msg *m);
void room__ctl_room_freed(const struct media_msg *m);
void room__ctl_data_done(const struct media_msg *m);
void room__ctl_fini_done(const struct media_msg *m);
void room__ctl_stream_up(const struct media_msg *m);
void room__ctl_room_rate(const struct media_msg *m);

/* Worker side, run on a media worker (room_worker.c). */
void room__w_init(const struct media_msg *m);
void room__w_fini(const struct media_msg *m);
void room__w_room_attach(const struct media_msg *m);
void room__w_room_detach(const struct media_msg *m);
void room__w_room_data(const struct media_msg *m);
void room__w_part_join(const struct media_msg *m);
void room__w_part_leave(const struct media_msg *m);
void room__w_part_set(const struct media_msg *m);
void room__w_part_subscribe(const struct media_msg *m);
void room__w_part_dtmf(const struct media_msg *m);
void room__w_part_tone(const struct media_msg *m);
void room__w_part_update(const struct media_msg *m);

#endif
