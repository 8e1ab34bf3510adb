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

enum room_part_kind { ROOM_PART_SIP, ROOM_PART_AGENT, ROOM_PART_WEB, ROOM_PART_INTERNAL };

enum room_media {
	ROOM_MEDIA_LEG,	   /* an RTP leg (a SIP call) */
	ROOM_MEDIA_ECHO,   /* built-in: returns what it hears */
	ROOM_MEDIA_PLAYER, /* built-in: plays a WAV (announcement, music on hold) */
	ROOM_MEDIA_NONE,   /* listens to nothing and says nothing (data only) */
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

struct room_service_handlers {
	void (*event)(void *arg, const struct room_event *ev); /* on the control loop */
};

struct room_service_opts {
	uv_loop_t *loop; /* control loop */
	struct media_engine *engine;
	uint32_t rate;		       /* room PCM rate, 0 = 16000 */
	uint32_t empty_timeout_ms;     /* a room nobody joined closes after this; 0 = 300000 */
	uint32_t departure_timeout_ms; /* after the last participant left; 0 = 20000 */
	const struct room_service_handlers *h;
	void *arg;
};

int room_service_new(struct room_service **out, const struct room_service_opts *o);
/* Remove every participant, close every room, then cb (may be NULL) once all media is closed. */
void room_service_close(struct room_service *rs, void (*cb)(void *arg), void *arg);

struct room_join {
	const char *room;     /* created when absent */
	const char *identity; /* unique in the room; NULL = generated */
	enum room_part_kind kind;
	enum room_media media;
	struct media_leg_opts leg; /* ROOM_MEDIA_LEG: fds and handlers are taken over (h/arg are
				      set by the room) */
	struct media_wav wav;	   /* ROOM_MEDIA_PLAYER: taken over (freed by the room) */
	bool loop;		   /* PLAYER: repeat */
	bool close_when_empty;	   /* if this join creates the room: close it as soon as it is
				      empty again (a per-call room), not after the departure
				      timeout */
	void *arg;		   /* echoed in this participant's events */
};

/* Join a room (created on first use). 0, SB_EINVAL, SB_EEXISTS (identity taken), SB_ENOMEM or
 * SB_EBUSY (worker queue full). On error nothing was taken over except the leg fds, which are
 * closed. */
int room_join(struct room_service *rs, const struct room_join *j, struct room_part **out);
/* Leave: the media closes on the worker; ROOM_EV_LEFT follows, after which p is freed. */
void room_part_leave(struct room_part *p);
void room_part_set_hold(struct room_part *p, bool held);
void room_part_set_mute(struct room_part *p, bool muted);
/* Hear only these identities (n 0 with all true = everyone, the default). */
int room_part_subscribe(struct room_part *p, bool all, const char *const *identities, size_t n);
int room_part_send_dtmf(struct room_part *p, const char *keys);
/* Play (on) or stop a call-progress tone into a leg participant (dial tone, ringback, busy;
 * US, UK or EU cadence): it replaces what the room sends it while it plays. */
int room_part_play_tone(struct room_part *p, enum media_tone_kind kind,
			enum media_tone_region region, bool on);
/* New remote/codec for a leg participant (re-INVITE); fds in o are ignored. */
int room_part_update_leg(struct room_part *p, const struct media_leg_opts *o);
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
};
/* Rooms known now (control side view): calls fn for each; returns the count. */
size_t room_service_list(struct room_service *rs, void (*fn)(void *arg, const struct room_info *),
			 void *arg);
size_t room_service_room_count(const struct room_service *rs);

#endif
