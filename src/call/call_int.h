/* The call manager's private parts, shared by call.c (calls: answer, media, dialing, room
 * events, their life), call_inbound.c (routing a new INVITE: dev routing, trunk digest auth,
 * PIN entry) and call_ops.c (what the API does to a call's participant: hang-up, hold,
 * transfers, statistics, observers, metrics). */
#ifndef SB_CALL_CALL_INT_H
#define SB_CALL_CALL_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "call/call.h"
#include "call/route.h"
#include "store/store.h"

#define CALL_XFERS_MAX 4 /* transfer outcomes kept for the call record (the last ones) */

struct call {
	struct call_mgr *m;
	struct call *next, *prev;
	struct sip_call *sip;
	char id[80];			   /* Call-ID, for logs */
	char sid[24];			   /* SCL_..., the sip.callID attribute */
	char phone[128], trunk_phone[128]; /* sip.phoneNumber, sip.trunkPhoneNumber */
	char room[ROOM_NAME_MAX];
	uint16_t port;
	int rtp_fd, rtcp_fd; /* ours until handed to the room */
	struct room_part *part, *echo;
	char echo_tag; /* its address tells the echo participant's events apart */
	bool want_echo, sip_gone, part_gone, echo_gone, port_back;
	char agent[64]; /* dev routing's agent-NAME: its room gets that agent, not the echo */
	uv_timer_t answer_timer;
	bool timer_used, timer_closed;
	const char *fail_reason;
	uint8_t srtp_key[RTP_SRTP_KEY_LEN]; /* what we encrypt with (SDES) */
	char srtp_text[SDP_CRYPTO_KEY_MAX];
	const struct sip_call_handlers *app_h; /* outbound: the dialer's own handlers */
	void *app_arg;
	/* real routing */
	bool routed;		     /* route holds the participant to join as */
	struct call_route_out route; /* identity, name, metadata, attributes */
	bool pin_wait;		     /* answered; collecting a PIN in the lobby room */
	bool moving;		     /* the lobby participant is leaving; then join route.room */
	char pin[CALL_ROUTE_PIN_MAX + 1];
	size_t n_pin;
	int spare_rtp, spare_rtcp; /* copies of the sockets for the join after the lobby */
	struct sip_media_state ms; /* the last negotiated media */
	bool have_ms;
	/* what routing again with the PIN needs (the INVITE is gone by then) */
	char src_ip[64], from_host[128], from_tag[128];
	char *invite_copy; /* the INVITE's bytes; hdrs point into it */
	struct call_route_hdr *hdrs;
	size_t n_hdrs;
	/* hold (ours and the far end's) and the call's clock, for switchboard.Calls */
	bool local_hold, remote_hold, hold_pending, hold_want, outbound;
	const char *hold_status; /* sip.holdStatus; NULL = never held by us */
	int hold_sip_status;
	uint64_t created_ms, answered_ms, held_since_ms, held_total_ms; /* 0 = not (yet) */
	/* outbound (call_mgr_dial): answer_timer runs the ringing timeout, then the wait for
	 * the DTMF string, then max_call_duration */
	enum { OUT_NONE, OUT_RINGING, OUT_DTMF, OUT_UP } out_phase;
	char *dtmf;
	uint32_t max_duration_ms;
	bool ring_timed_out, ringing_reported;
	void (*outcome)(void *arg, int sip_status, const char *reason, bool ring_timeout);
	void *outcome_arg;
	/* the call record (written to the store when the call ends) */
	char trunk_id[STORE_ID_MAX], rule_id[STORE_ID_MAX];
	struct store_transfer xfers[CALL_XFERS_MAX]; /* outcomes, oldest first */
	size_t n_xfers;
	/* transfer (call_mgr_transfer_participant) */
	void (*xfer_done)(void *arg, int status, const char *reason);
	void *xfer_arg;
	char *xfer_target;
	bool xfer_ringback, xfer_attended;
	bool held_reported;	    /* the last call_hold / call_resume room event */
	bool m_counted, m_outbound; /* /metrics: counted as started, and its direction */
};

/* One digest server per realm (nonces are bound to the realm). */
struct call_auth {
	struct call_auth *next;
	char realm[128];
	struct sip_digest_server *srv;
};

struct call_mgr {
	struct call_mgr_opts o;
	struct room_service *rooms;
	struct call *calls;
	size_t n_calls;
	bool closing;
	void (*closed_cb)(void *arg);
	void *closed_arg;
	struct call_auth *auths;
	struct {
		const struct call_observer *ob;
		void *arg;
	} obs[CALL_OBSERVERS_MAX]; /* [0]: call_mgr_set_observer's */
	struct media_wav moh;	   /* music on hold at the room rate (silence without a file) */
	char **hold_trunks;	   /* copies of o.hold_local_trunks */
	void (*agent_dispatch)(void *arg, const char *room, const char *agent_name,
			       struct room_part *caller);
	void *agent_arg;
	/* /metrics (call_mgr_metrics): calls started and ended, starts per second in a ring of
	 * one-second buckets, and the RTP figures of the legs that have left */
	uint64_t m_started[2], m_ended[2][2];
	uint64_t m_cps_sec[CALL_METRICS_CPS_WINDOW_S], m_cps_n[CALL_METRICS_CPS_WINDOW_S];
	uint64_t m_rtp_rx, m_rtp_tx, m_rtp_lost, m_rtp_rx_bytes, m_rtp_tx_bytes;
};

/* call.c */
void call__hold_apply(struct call *c, bool by_remote);
void call__set_status(struct call *c, const char *status);
/* The SIP dialog's handlers of every call. */
extern const struct sip_call_handlers call__handlers;
/* A new call, linked into the manager (NULL when out of memory). */
struct call *call__new(struct call_mgr *m);
/* The call's dialog, its Call-ID for the logs, and the call counted as started. */
void call__set_sip(struct call *c, struct sip_call *sc);
/* A private room of its own (call-TOKEN), with the echo. */
void call__fresh_room(struct call *c);
/* Bind the ports and answer (now, or after answer_delay_ms); the call's room is chosen. */
void call__accept(struct call *c, const struct sip_incoming *in);

/* call_inbound.c */
/* A DTMF digit while a PIN is wanted: '#' ends it and routes the call again. */
void call__pin_digit(struct call *c, char digit);

/* call_ops.c */
/* A room event on topic sip_bridge_events; extra (taken, may be NULL) adds members. */
void call__bridge_event(struct call *c, const char *event, json_t *extra);
void call__metrics_started(struct call *c);
void call__metrics_ended(struct call *c);
void call__metrics_leg_left(struct call_mgr *m, const struct media_leg_stats *st);

#endif
