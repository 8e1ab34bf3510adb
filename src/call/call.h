/* The call manager: where SIP calls meet rooms. Routes incoming calls (dev routing until trunks
 * and dispatch rules exist: loopback callers only; user room-NAME joins room NAME, any other
 * user a fresh room with the echo participant; then LiveKit's trunk matching, digest auth and
 * dispatch rules, call/route.h), binds their RTP ports, answers, joins the room with an RTP
 * leg, follows hold, DTMF and re-INVITEs, and ends calls on media timeouts.
 * Runs on the control loop. */
#ifndef SB_CALL_CALL_H
#define SB_CALL_CALL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "media/codec.h"
#include "media/leg.h"
#include "media/worker.h"
#include "room/room.h"
#include "rtp/pool.h"
#include "sdp/sdp.h"
#include "sip/ua.h"

struct call_mgr;
struct room_service;
struct room_part;
struct store;

struct call_mgr_opts {
	uv_loop_t *loop;
	struct sip_ua *ua; /* for outbound calls (call_mgr_dial); may be set after creation */
	struct media_engine *engine;
	struct rtp_pool *pool; /* RTP ports (even; RTCP on +1 unless muxed) */
	const char *rtp_ip;    /* address to bind and to put in SDP */
	enum sdp_codec
	    codecs[SDP_MAX_LOCAL_CODECS]; /* preference; n_codecs 0 = PCMU PCMA G722 opus */
	uint8_t n_codecs;
	struct media_codec_opts opus;  /* rate (0 = 48000), complexity (-1 = 5), FEC */
	uint32_t room_rate;	       /* 0 = 16000 */
	uint32_t rtp_timeout_ms;       /* 0 = 15000 */
	uint32_t first_rtp_timeout_ms; /* 0 = 30000 */
	uint32_t answer_delay_ms;      /* ring first (tests of CANCEL) */
	enum sdp_srtp_mode srtp;       /* SDES: DISABLE, ALLOW (answer SRTP offers), REQUIRE */
	uint32_t room_empty_timeout_ms, room_departure_timeout_ms; /* 0 = room defaults */
	/* Inbound trunks and dispatch rules (borrowed; must outlive the manager). NULL, or a store
	 * with neither, means dev routing. */
	struct store *store;
	bool no_call_records;	 /* do not write a record of each call to the store */
	uint32_t pin_timeout_ms; /* PIN entry: '#' within this after the answer; 0 = 30000 */
	/* Hold without re-INVITE, for providers that reject it: every call (hold_local) or the
	 * calls of these trunks (ids, copied). The held caller hears moh_file (a WAV, looped;
	 * NULL or unreadable: silence) and its media keeps running. */
	bool hold_local;
	const char *const *hold_local_trunks;
	size_t n_hold_local_trunks;
	const char *moh_file;
};

int call_mgr_new(struct call_mgr **out, const struct call_mgr_opts *o);
/* The UA the manager dials with (it is usually created after the manager). */
void call_mgr_set_ua(struct call_mgr *m, struct sip_ua *ua);
/* Agents to dial (api/agent_dial.h): fn runs once per agent when a call routed by a dispatch
 * rule whose roomConfig.agents[] names agents has joined its room, and when a dev call to
 * sip:agent-NAME@ (a fresh room, no echo) has joined. caller is the call's participant
 * (joining). fn must not call back into the manager before it returns. fn NULL: none. */
void call_mgr_set_agent_dispatch(struct call_mgr *m,
				 void (*fn)(void *arg, const char *room, const char *agent_name,
					    struct room_part *caller),
				 void *arg);
/* The UA's incoming-call handler hands every new INVITE here. */
void call_mgr_incoming(struct call_mgr *m, struct sip_call *c, const struct sip_incoming *in);
/* An outbound call that joins a room once answered. The app's handlers (may be NULL) see
 * every SIP event after the call manager has handled it. */
struct call_dial_opts {
	struct sip_dial_opts sip; /* target, transport, proxy, auth; media is filled in here */
	const char *room;	  /* NULL: a fresh room with the echo participant */
	const struct sip_call_handlers *h;
	void *arg;
	/* The participant (CreateSIPParticipant): identity NULL = "sip_<callee>", name NULL =
	 * "Phone <callee>"; attrs are added to the sip.* ones (an empty value is not stored). */
	const char *identity, *name, *metadata;
	const char *trunk_id; /* for the call record (may be NULL) */
	const struct room_attr *attrs;
	size_t n_attrs;
	bool hide_phone_number; /* no sip.phoneNumber / sip.trunkPhoneNumber */
	bool ringback;		/* the room hears ringback while it rings (play_dialtone) */
	enum media_tone_region ring_region;
	const char *dtmf;	       /* sent once answered ('w' = 0.5 s pause); NULL = none */
	uint32_t ringing_timeout_ms;   /* no answer by then: CANCEL; 0 = 180 s */
	uint32_t max_call_duration_ms; /* then BYE; 0 = 24 h */
	/* How the setup ended, exactly once (may be NULL): sip_status 200 once answered and the
	 * DTMF sent; else the final failure response (486 ...), or 0 with ring_timeout when
	 * nobody answered in time, or 0 when the call was hung up or failed before any answer
	 * (reason says why). */
	void (*outcome)(void *arg, int sip_status, const char *reason, bool ring_timeout);
	void *outcome_arg;
};
/* The participant joins the room at once, with sip.callStatus "dialing" ("ringing" on a 180 or
 * 183, "active" once answered, "hangup" at the end), neither heard nor fed until answered.
 * 0, SB_ENORES (no RTP port), SB_ESTATE (closing), SB_EEXISTS (identity taken in the room),
 * SB_EINVAL, or sip_dial's errors; outcome never runs after an error. *out is the SIP call
 * (valid until its ended handler returns); call_id (may be NULL, CALL_ID_MAX bytes) gets
 * its sip.callID. */
#define CALL_ID_MAX 24
int call_mgr_dial(struct call_mgr *m, const struct call_dial_opts *o, struct sip_call **out,
		  char *call_id);

/* Leave every room (the SIP side ends its calls itself, see sip_ua_shutdown), close the rooms,
 * then cb once all media is closed and every port is back in the pool. */
void call_mgr_close(struct call_mgr *m, void (*cb)(void *arg), void *arg);
size_t call_mgr_calls(const struct call_mgr *m);

/* The room service calls join (the manager owns it; the API reads and changes rooms there). */
struct room_service *call_mgr_rooms(struct call_mgr *m);
/*
 * A call's SIP participant carries LiveKit's attributes (research §6.1): sip.callID ("SCL_"
 * + 12 characters), sip.callIDFull (the Call-ID), sip.phoneNumber (inbound: the caller,
 * From user; outbound: the callee, the target's user), sip.trunkPhoneNumber (inbound: the
 * called number, To user; outbound: our From user) and sip.callStatus ("active" once in the
 * room, "hangup" while it is being hung up); its name is "Phone <phoneNumber>". Inbound calls
 * routed by trunks and rules also carry sip.callTag, sip.trunkID, sip.ruleID, sip.hostname,
 * sip.h.* and the trunk's headers_to_attributes and the rule's attributes (call/route.h);
 * their identity is "sip_<caller>". A rule with a PIN answers at once and holds the call in
 * a private room "pin-<sip.callID>" until '#' (RFC 4733 or SIP INFO); a wrong PIN or none
 * within pin_timeout_ms hangs up.
 */
/* End the SIP call behind participant p (BYE once answered; CANCEL or 480 before) and take p
 * out of its room (sip.callStatus becomes "hangup" first). 0, or SB_ENOTFOUND when p is no
 * call's SIP participant (the caller then makes it leave itself). */
int call_mgr_hangup_participant(struct call_mgr *m, struct room_part *p);

/*
 * Hold from our side (switchboard.Calls HoldParticipant / ResumeParticipant). hold: a re-INVITE
 * with a=sendonly and a new SDP version (the far end plays its music on hold); the participant
 * is held at once (not heard, not fed, its media timeouts suspended), and back as it was if
 * the far end refuses. resume: a re-INVITE with a=sendrecv; the participant is fed again once
 * the far end accepts it. The outcome is reported on the participant's attributes:
 *   sip.hold           "local" (we hold it), "remote" (it holds us: its re-INVITE said
 *                      sendonly/inactive), "both"; absent when neither
 *   sip.holdStatus     "holding" / "resuming" while our re-INVITE is pending, then "held" /
 *                      "resumed" (2xx) or "failed"
 *   sip.holdSipStatus  the final status of our last hold/resume re-INVITE ("200", "488" ...;
 *                      "487" when the call ended first)
 * *status (may be NULL) gets the sip.holdStatus value after the call ("held" / "resumed" at
 * once when the call is in that state already: then no re-INVITE is sent).
 * 0; SB_ENOTFOUND: p is no call's participant; SB_ESTATE: the call is not established (or
 * ending); SB_EBUSY: a re-INVITE of ours is pending (one at a time); the SIP layer's errors.
 */
int call_mgr_hold_participant(struct call_mgr *m, struct room_part *p, bool hold,
			      const char **status);

/*
 * Cold transfer (TransferSIPParticipant): REFER the far end of p's call to target (sip:, sips:
 * or tel:) with extra_headers ("Name: value\r\n" lines, may be NULL), and wait up to
 * timeout_ms (0 = 30 s) for the NOTIFY whose sipfrag is final. With ringback, p hears
 * ringback meanwhile (its room audio is restored if the transfer fails). done runs once:
 * status 200 on success (then the call is hung up), else the REFER's failure response, the
 * final NOTIFY's status (486, 603 ...), 408 when no final NOTIFY came in time, or 487 when the
 * call ended first (not a success). 0; SB_ENOTFOUND (no call's participant), SB_ESTATE (not
 * established), SB_EBUSY (a transfer is pending), the SIP layer's errors.
 */
int call_mgr_transfer_participant(struct call_mgr *m, struct room_part *p, const char *target,
				  const char *extra_headers, uint32_t timeout_ms, bool ringback,
				  void (*done)(void *arg, int status, const char *reason),
				  void *arg);
/* Attended transfer (switchboard.Calls AttendedTransfer): REFER the far end of p's call to the
 * far end of to's call with Replaces naming to's dialog (RFC 5589 §7), so the two far ends talk
 * to each other and to's far end drops its call with us. done as above (on success p's call
 * is hung up; to's call is ended by its far end once replaced). SB_EINVAL when p and to are
 * the same call; otherwise the errors of call_mgr_transfer_participant, for either call. */
int call_mgr_attended_transfer(struct call_mgr *m, struct room_part *p, struct room_part *to,
			       uint32_t timeout_ms,
			       void (*done)(void *arg, int status, const char *reason), void *arg);
/* What the call manager reports beyond the room's own events (for webhooks). */
struct call_transfer_result {
	const char *target; /* the Refer-To URI */
	bool attended;
	int sip_status; /* 200 success; else the failure (408 no final NOTIFY, 487 call ended) */
	const char *reason; /* its reason phrase or our explanation; never NULL */
};
struct call_observer {
	/* a transfer of a call is over; snapshots of its room and participant, as a room
	 * observer gets them (strings borrowed for the call only) */
	void (*transfer)(void *arg, const struct room_info *room, const struct room_part_info *p,
			 const struct call_transfer_result *r);
};
/* The first observer slot (ob NULL empties it); ob must outlive its registration. */
void call_mgr_set_observer(struct call_mgr *m, const struct call_observer *ob, void *arg);
/* More observers (the console): 0 or SB_ENORES when CALL_OBSERVERS_MAX are there. */
#define CALL_OBSERVERS_MAX 4
int call_mgr_add_observer(struct call_mgr *m, const struct call_observer *ob, void *arg);
void call_mgr_remove_observer(struct call_mgr *m, const struct call_observer *ob, void *arg);

/* sip.callID of p's call ("" when p is no call's participant). */
const char *call_mgr_participant_call_id(struct call_mgr *m, const struct room_part *p);

/* What switchboard.Calls GetCallStats shows of the call behind a participant. */
struct call_stats {
	char call_id[24];     /* sip.callID ("SCL_...") */
	char sip_call_id[80]; /* the Call-ID header */
	bool outbound;	      /* we dialled it */
	char codec[16];	      /* "PCMU", "opus" ...; "" before media was negotiated */
	uint8_t pt;	      /* its RTP payload type */
	bool rfc4733;	      /* DTMF as RFC 4733 events (else in-band) */
	bool local_hold;      /* held by us (after a hold was accepted, or while it is pending) */
	bool remote_hold;     /* the far end holds us */
	bool hold_pending;    /* a re-INVITE of ours has no final answer yet */
	const char *hold_status; /* sip.holdStatus, "" when never held */
	int hold_sip_status;	 /* sip.holdSipStatus, 0 when none */
	uint64_t duration_ms;	 /* since the INVITE */
	uint64_t answered_ms;	 /* since the answer (0 = not answered) */
	uint64_t active_ms;	 /* of answered_ms, not on hold (either side) */
	uint64_t held_ms;	 /* of answered_ms, on hold */
	bool have_media;	 /* media below holds the leg's figures */
	struct media_leg_stats media;
	uint64_t media_age_ms; /* how old they are (reported about once a second) */
};
/* 0, or SB_ENOTFOUND when p is no call's SIP participant. */
int call_mgr_participant_stats(struct call_mgr *m, struct room_part *p, struct call_stats *out);

/*
 * What /metrics shows of the calls: a copy, on the control loop. Index [0] is inbound, [1]
 * outbound. A call is "ringing" until answered (the ACK of an inbound call, the 2xx of an
 * outbound one), then "active" or "held" (either side holds), and "ending" once its SIP side
 * is over while its media leaves the room. The RTP figures come from the per-leg reports the
 * workers send about once a second (room_part_leg_stats): counters are the ended legs' final
 * figures plus the live legs' latest, so they only grow; jitter is over the live legs.
 */
#define CALL_METRICS_CPS_WINDOW_S 10
enum call_metric_state {
	CALL_METRIC_RINGING,
	CALL_METRIC_ACTIVE,
	CALL_METRIC_HELD,
	CALL_METRIC_ENDING,
	CALL_METRIC__STATES
};
struct call_metrics {
	uint64_t calls[2][CALL_METRIC__STATES]; /* calls now by direction and state */
	uint64_t started[2];			/* calls started (INVITE received / sent) */
	uint64_t ended[2][2];			/* [dir][answered]: calls over and freed */
	double cps; /* calls started per second over the last CPS_WINDOW_S */
	uint64_t rtp_rx_packets, rtp_tx_packets, rtp_lost, rtp_rx_bytes, rtp_tx_bytes;
	uint32_t legs;	       /* live legs with a report (the jitter figures' population) */
	double jitter_mean_ms; /* interarrival jitter (RFC 3550), mean over those legs */
	uint32_t jitter_max_ms;
};
void call_mgr_metrics(const struct call_mgr *m, struct call_metrics *out);
/* "ringing", "active", "held", "ending". */
const char *call_metric_state_name(enum call_metric_state s);

#endif
