/* Rooms and participants. The control loop holds the directory (room name -> room, lifecycle
 * timers, the participants' control-side handles) and talks to the media workers only by
 * messages; each room, its participants and their media live on one worker, where a 20 ms tick
 * pulls every participant's audio, mixes minus-self in O(N) and pushes each its mix.
 * Events (joined, left, DTMF, media timeout, room started/closed) come back to the control loop. */
#ifndef SB_ROOM_ROOM_H
#define SB_ROOM_ROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "media/leg.h"
#include "media/wav.h"
#include "media/worker.h"

#define ROOM_NAME_MAX	  128
#define ROOM_IDENTITY_MAX 128
#define ROOM_MAX_SUBS	  8
#define ROOM_SID_MAX	  24	/* "RM_" / "PA_" / "TR_" + 12 characters */
#define ROOM_META_MAX	  65536 /* metadata of a room or participant, in bytes */
#define ROOM_ATTRS_MAX	  64	/* attributes of one participant */
#define ROOM_ATTR_MAX	  4096	/* one attribute key or value, in bytes */

enum room_part_kind { ROOM_PART_SIP, ROOM_PART_AGENT, ROOM_PART_WEB, ROOM_PART_INTERNAL };

enum room_media {
	ROOM_MEDIA_LEG,	   /* an RTP leg (a SIP call) */
	ROOM_MEDIA_ECHO,   /* built-in: returns what it hears */
	ROOM_MEDIA_PLAYER, /* built-in: plays a WAV (announcement, music on hold) */
	ROOM_MEDIA_NONE,   /* listens to nothing and says nothing (data only) */
	ROOM_MEDIA_STREAM, /* audio exchanged with the control loop (agents over WebSocket):
			      room_join.stream, room_part_stream_push */
};

struct room_service;
struct room_part; /* control-side handle of a participant */

enum room_event_type {
	ROOM_EV_ROOM_STARTED,
	ROOM_EV_ROOM_FINISHED,
	ROOM_EV_JOINED, /* the participant's media runs on its worker */
	ROOM_EV_LEFT,	/* its media is closed and its ports free; the handle is gone after this */
	ROOM_EV_DTMF,
	ROOM_EV_MEDIA_TIMEOUT,
	ROOM_EV_JOIN_FAILED, /* the worker could not start its media (then LEFT follows) */
	ROOM_EV_DATA,	     /* data message delivered (for the control side's own consumers) */
};

struct room_event {
	enum room_event_type type;
	const char *room;
	const char *identity; /* NULL for room events */
	void *part_arg;	      /* room_join.arg of the participant */
	char digit;	      /* DTMF */
	uint32_t duration_ms;
	bool inband;
	enum media_leg_timeout timeout;
	int err; /* JOIN_FAILED */
	const char *topic;
	const uint8_t *data;
	size_t data_len;
	const struct media_leg_stats *stats; /* LEFT of a leg participant: its final figures */
};

/* ---- stream participants (ROOM_MEDIA_STREAM) ----
 * Each tick the worker resamples the participant's mix-minus to its stream rate and posts it up
 * to the control loop (ROOM_STREAM_UP_SLOTS frames preallocated at join: no allocation per
 * tick; when the control loop has not taken them, frames are dropped and counted). Frames the
 * control side puts into its FIFO (ROOM_STREAM_DOWN_SLOTS) are its voice, one per tick; an
 * empty FIFO is silence. It also hears its peers' events (another participant of its room
 * joined, left, pressed a key, was held or resumed). */
#define ROOM_STREAM_UP_SLOTS   8
#define ROOM_STREAM_DOWN_SLOTS 4

enum room_peer_event_type { ROOM_PEER_JOINED, ROOM_PEER_LEFT, ROOM_PEER_DTMF, ROOM_PEER_HOLD };

struct room_peer_event {
	enum room_peer_event_type type;
	struct room_part *part; /* the peer (after LEFT it is gone) */
	const char *identity;
	enum room_part_kind kind;
	char digit; /* DTMF */
	uint32_t duration_ms;
	bool held, by_remote; /* HOLD (as the observer's hold) */
};

struct room_event;
struct room_stream_handlers {
	/* One 20 ms frame of what the participant hears: n samples at the stream rate, or NULL
	 * when nothing is heard (silence). now_ms is the worker's tick time (uv_now's clock). */
	void (*audio)(void *arg, const int16_t *pcm, size_t n, uint64_t now_ms);
	/* Another participant of the room (may be NULL). */
	void (*peer)(void *arg, const struct room_peer_event *ev);
	/* Its own JOINED, JOIN_FAILED and LEFT (after LEFT the handle is gone). */
	void (*event)(void *arg, const struct room_event *ev);
};

struct room_service_handlers {
	void (*event)(void *arg, const struct room_event *ev); /* on the control loop */
};

struct room_service_opts {
	uv_loop_t *loop; /* control loop */
	struct media_engine *engine;
	uint32_t rate;		       /* highest room PCM rate (room_service_rate), 0 = 16000 */
	uint32_t empty_timeout_ms;     /* a room nobody joined closes after this; 0 = 300000 */
	uint32_t departure_timeout_ms; /* after the last participant left; 0 = 20000 */
	const struct room_service_handlers *h;
	void *arg;
};

int room_service_new(struct room_service **out, const struct room_service_opts *o);
/* Remove every participant, close every room, then cb (may be NULL) once all media is closed. */
void room_service_close(struct room_service *rs, void (*cb)(void *arg), void *arg);

/* One participant attribute (LiveKit's `attributes` map). */
struct room_attr {
	const char *key, *value;
};

struct room_join {
	const char *room;     /* created when absent */
	const char *identity; /* unique in the room; NULL = generated */
	enum room_part_kind kind;
	enum room_media media;
	struct media_leg_opts leg;     /* ROOM_MEDIA_LEG: fds and handlers are taken over (h/arg are
					  set by the room) */
	struct media_wav wav;	       /* ROOM_MEDIA_PLAYER: taken over (freed by the room) */
	bool loop;		       /* PLAYER: repeat */
	bool close_when_empty;	       /* if this join creates the room: close it as soon as it is
					  empty again (a per-call room), not after the departure
					  timeout */
	void *arg;		       /* echoed in this participant's events */
	const char *name;	       /* display name; NULL = "" */
	const char *metadata;	       /* NULL = "" */
	const struct room_attr *attrs; /* copied; an empty value is not stored */
	size_t n_attrs;
	/* An outbound call not yet answered: it is in the room but neither heard nor fed and its
	 * media timeouts wait (as on hold, without hold events); with ringback the room hears a
	 * ringback tone (ring_region's cadence) from it instead. room_part_set_ringing ends it. */
	bool ringing, ringback;
	enum media_tone_region ring_region;
	/* ROOM_MEDIA_STREAM: handlers (required) and their arg, and the rate of the frames up and
	 * down (8000, 16000, 24000 or 48000; 0 = room_service_rate). */
	const struct room_stream_handlers *stream;
	void *stream_arg;
	uint32_t stream_rate;
};

/* Join a room (created on first use). 0, SB_EINVAL, SB_EEXISTS (identity taken), SB_ENOMEM,
 * SB_EBUSY (worker queue full) or SB_ENORES (the room has max_participants already). On error
 * nothing was taken over except the leg fds, which are closed. */
int room_join(struct room_service *rs, const struct room_join *j, struct room_part **out);
/* Leave: the media closes on the worker; ROOM_EV_LEFT follows, after which p is freed. */
void room_part_leave(struct room_part *p);
void room_part_set_hold(struct room_part *p, bool held);
void room_part_set_mute(struct room_part *p, bool muted);
/* A key the participant's call sent by other means than its media (SIP INFO): reported like
 * a key detected on its leg (ROOM_EV_DTMF, the observer, peers). */
void room_part_report_dtmf(struct room_part *p, char digit, uint32_t duration_ms);
/* Music on hold played locally (for trunks that refuse re-INVITE hold): while p is held
 * (room_part_set_hold) with moh set, its media keeps running (no media hold, timeouts go on),
 * it is not heard and it hears moh, looped. moh is at room_service_rate (its room mixes at that
 * rate from then on) and borrowed: it must outlive p (or be replaced with NULL first). NULL
 * turns it off. */
void room_part_set_moh(struct room_part *p, const struct media_wav *moh);
/* The configured room rate (room_service_opts.rate): the highest a room mixes at. Each room
 * mixes at the highest rate its participants carry (8000 at least), and only goes up in its
 * life: a leg wants its codec's rate, the echo nothing; players, stream participants, ringback
 * and music on hold (prepared at this rate) want this rate. */
uint32_t room_service_rate(const struct room_service *rs);
/* Ringing (room_join's ringing) on or off: off when the call is answered. */
void room_part_set_ringing(struct room_part *p, bool ringing);
/* Hear only these identities (n 0 with all true = everyone, the default). */
int room_part_subscribe(struct room_part *p, bool all, const char *const *identities, size_t n);
int room_part_send_dtmf(struct room_part *p, const char *keys);
/* Play (on) or stop a call-progress tone into a leg participant (dial tone, ringback, busy;
 * US, UK or EU cadence): it replaces what the room sends it while it plays. */
int room_part_play_tone(struct room_part *p, enum media_tone_kind kind,
			enum media_tone_region region, bool on);
/* New remote/codec for a leg participant (re-INVITE); fds in o are ignored. */
int room_part_update_leg(struct room_part *p, const struct media_leg_opts *o);
/* A stream participant's voice: one frame (stream_rate / 50 samples) into its FIFO. 0,
 * SB_ENORES (FIFO full: not taken), SB_ESTATE (not a stream participant, or leaving). */
int room_part_stream_push(struct room_part *p, const int16_t *pcm);
/* Frames in its FIFO now (the tick takes one every 20 ms). */
size_t room_part_stream_queued(const struct room_part *p);
struct room_stream_stats {
	uint64_t up, up_dropped;   /* frames posted up; dropped: the control side had not taken
				      ROOM_STREAM_UP_SLOTS frames */
	uint64_t down, down_empty; /* frames played; ticks that found the FIFO empty */
};
/* Read on the control loop; the worker's counters are up to a tick old. */
void room_part_stream_stats(const struct room_part *p, struct room_stream_stats *out);
const char *room_part_identity(const struct room_part *p);
const char *room_part_room(const struct room_part *p);

/* A data message from `from` (may be NULL = the server) to everyone else in the room, or only
 * to the given identities. Delivered to participants that take data and reported as
 * ROOM_EV_DATA. SB_ENOTFOUND (no room), SB_ETOOBIG (over 64 kB), SB_ENOMEM, SB_EBUSY. */
int room_send_data(struct room_service *rs, const char *room, const char *from, const char *topic,
		   const uint8_t *data, size_t len, const char *const *to, size_t n_to);

struct room_info {
	const char *name;
	uint32_t participants;
	uint64_t created_ms;
	unsigned worker;
	uint64_t created_unix_ms;
	const char *sid;      /* "RM_..." */
	const char *metadata; /* never NULL */
	uint32_t empty_timeout_s, departure_timeout_s;
	uint32_t max_participants; /* 0 = no limit */
	uint32_t publishers;	   /* participants with an audio track (not ROOM_MEDIA_NONE) */
	uint32_t rate; /* the rate it mixes at now, as its worker last said (0 = not yet): the
			  highest its participants carried so far, room_service_rate at most */
};
/* Rooms known now (control side view): calls fn for each; returns the count. */
size_t room_service_list(struct room_service *rs, void (*fn)(void *arg, const struct room_info *),
			 void *arg);
size_t room_service_room_count(const struct room_service *rs);
/* What /metrics shows of the rooms now (control side; a copy). */
#define ROOM_PART_KINDS (ROOM_PART_INTERNAL + 1)
struct room_counts {
	size_t rooms;			      /* in the directory */
	size_t participants[ROOM_PART_KINDS]; /* by kind: joined or joining, not yet LEFT */
};
void room_service_counts(const struct room_service *rs, struct room_counts *out);
/* "sip", "agent", "web", "internal". */
const char *room_part_kind_name(enum room_part_kind k);

/* ---- the API's view (livekit.RoomService): everything below runs on the control loop ---- */

/* CreateRoom: an empty room that waits empty_timeout for its first participant. An existing
 * room is updated instead: the non-zero timeouts and max_participants and a non-NULL
 * metadata replace its own (a running empty/departure timer restarts with the new value).
 * Zero timeouts of a new room take the service's defaults. *created (may be NULL) says which.
 * 0, SB_EINVAL (name empty or too long, metadata over ROOM_META_MAX), SB_ENOMEM, SB_EBUSY. */
struct room_create_opts {
	const char *name;
	uint32_t empty_timeout_s, departure_timeout_s, max_participants;
	const char *metadata;
};
int room_service_create_room(struct room_service *rs, const struct room_create_opts *o,
			     bool *created);
/* The room named name now: 0 and *out (strings borrowed until the room changes or closes),
 * or SB_ENOTFOUND. */
int room_service_get_room(struct room_service *rs, const char *name, struct room_info *out);
/* 0, SB_ENOTFOUND, SB_EINVAL (over ROOM_META_MAX) or SB_ENOMEM. */
int room_service_set_room_metadata(struct room_service *rs, const char *name, const char *metadata);
/* DeleteRoom: the room leaves the directory at once (a join with its name makes a new room),
 * every participant leaves, and it closes (ROOM_EV_ROOM_FINISHED) once the last one has
 * left. A caller that must end something first (a SIP call) does so before, through
 * room_service_each_part. 0 or SB_ENOTFOUND. */
int room_service_delete_room(struct room_service *rs, const char *name);

/* The control-side handles of a room's participants, oldest first; fn may make them leave
 * (they go on a later loop turn) but must not join or delete rooms. Returns how many, 0 for
 * an unknown room. */
size_t room_service_each_part(struct room_service *rs, const char *room,
			      void (*fn)(void *arg, struct room_part *p), void *arg);
/* The participant identity of room, or NULL (also when it is leaving). */
struct room_part *room_service_find_part(struct room_service *rs, const char *room,
					 const char *identity);

enum room_part_state {
	ROOM_PART_JOINING, /* its media is being set up on the worker */
	ROOM_PART_ACTIVE,  /* ROOM_EV_JOINED came */
	ROOM_PART_LEAVING, /* left or asked to; gone after ROOM_EV_LEFT */
};

struct room_part_info {
	const char *room, *identity, *sid, *name, *metadata; /* never NULL */
	const char *track_sid; /* its audio track ("TR_..."), "" for ROOM_MEDIA_NONE */
	const char *codec;     /* a leg's codec at join ("PCMU", "opus" ...), else "" */
	enum room_part_kind kind;
	enum room_media media;
	enum room_part_state state;
	uint64_t joined_ms; /* Unix ms */
	uint32_t version;   /* bumped on every change of what this struct shows */
	bool muted, held;
	const struct room_attr *attrs; /* sorted by key */
	size_t n_attrs;
	void *arg; /* room_join.arg */
};
/* A snapshot; the strings are borrowed until p changes or leaves. */
void room_part_get_info(const struct room_part *p, struct room_part_info *out);
/* A leg participant's latest media figures (RTP/RTCP counters, jitter, loss, RTT), as its
 * worker reports them about once a second (so up to ~1 s old; *age_ms, may be NULL, says how
 * old). 0, or SB_ENOTFOUND: not a leg, or nothing reported yet. */
int room_part_leg_stats(const struct room_part *p, struct media_leg_stats *out, uint64_t *age_ms);
/* 0, SB_EINVAL (over ROOM_META_MAX / ROOM_IDENTITY_MAX ... ), SB_ENOMEM, SB_ESTATE (leaving). */
int room_part_set_name(struct room_part *p, const char *name);
int room_part_set_metadata(struct room_part *p, const char *metadata);
/* Merge attributes: a key with an empty value is deleted, others are set. All or nothing:
 * SB_EINVAL (key empty, key or value over ROOM_ATTR_MAX), SB_ETOOBIG (more than
 * ROOM_ATTRS_MAX would remain), SB_ENOMEM, SB_ESTATE. */
int room_part_update_attrs(struct room_part *p, const struct room_attr *attrs, size_t n);
/* Subscribe to (or unsubscribe from) these identities' audio, keeping what p hears of the
 * others (by default: everyone). 0, SB_ETOOBIG (more than ROOM_MAX_SUBS exceptions or
 * subscriptions would be needed), SB_ENOMEM, SB_ESTATE. */
int room_part_update_subscriptions(struct room_part *p, const char *const *identities, size_t n,
				   bool subscribe);

/* ---- observer: what happened, for webhooks (all on the control loop) ---- */

/* Callbacks (each may be NULL) with snapshots whose strings are borrowed for the call only.
 * room_started: a room was created (by a join, with no participant yet, or by CreateRoom with
 * its settings applied); room_finished: it closed. participant_joined: its media runs
 * (ROOM_PART_ACTIVE); participant_left: it is gone (only for one that had joined; the snapshot
 * still counts it in the room). dtmf: a digit from a leg. hold: room_part_set_hold(_by)
 * changed the participant's hold state; by_remote says who did (the far end's re-INVITE, or
 * switchboard's own hold; room_part_set_hold says remote). An observer must not join, leave or
 * delete from a callback. */
struct room_observer {
	void (*room_started)(void *arg, const struct room_info *r);
	void (*room_finished)(void *arg, const struct room_info *r);
	void (*participant_joined)(void *arg, const struct room_info *r,
				   const struct room_part_info *p);
	void (*participant_left)(void *arg, const struct room_info *r,
				 const struct room_part_info *p);
	void (*dtmf)(void *arg, const struct room_info *r, const struct room_part_info *p,
		     char digit, uint32_t duration_ms);
	void (*hold)(void *arg, const struct room_info *r, const struct room_part_info *p,
		     bool held, bool by_remote);
	/* participant_updated: its attributes, name, metadata or mute changed (the snapshot
	 * shows the new values; hold has its own callback above). */
	void (*participant_updated)(void *arg, const struct room_info *r,
				    const struct room_part_info *p);
};
/* room_part_set_hold telling the observer who held or resumed: the far end (by_remote) or
 * switchboard itself (an API request). */
void room_part_set_hold_by(struct room_part *p, bool held, bool by_remote);
/* The primary observer (webhooks): one at a time; ob NULL removes it. ob must outlive its
 * registration. */
void room_service_set_observer(struct room_service *rs, const struct room_observer *ob, void *arg);
/* Further observers (the web console ...), called after the primary one in the order added:
 * 0 or SB_ENORES (ROOM_OBSERVERS_MAX in use). Remove with the same ob and arg (no-op when not
 * registered). Neither from inside an observer callback. */
#define ROOM_OBSERVERS_MAX 4
int room_service_add_observer(struct room_service *rs, const struct room_observer *ob, void *arg);
void room_service_remove_observer(struct room_service *rs, const struct room_observer *ob,
				  void *arg);

#endif
