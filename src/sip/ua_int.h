/* Internals shared by the user agent's files (ua.c: stack and dispatch; call.c: INVITE
 * dialogs). Not part of the SIP module's API. */
#ifndef SB_SIP_UA_INT_H
#define SB_SIP_UA_INT_H

#include "base/arena.h"
#include "base/buf.h"
#include "base/htab.h"
#include "base/timer.h"
#include "sip/digest.h"
#include "sip/transport.h"
#include "sip/txn.h"
#include "sip/ua.h"

#define SIP__MAX_ROUTES 8

struct sip__link;

struct sip_ua {
	uv_loop_t *loop;
	struct sip_ua_handlers h;
	void *arg;
	struct sip_transport *tp;
	struct sb_timers timers;
	uv_timer_t uvtimer;
	uv_prepare_t prep;
	sb_time_ms armed_for;
	struct sip_txn_layer *txl;
	struct sb_htab dialogs;
	struct sip_msg *scratch; /* parse of requests we build (txn needs the parse); never
				  * the message being received, which the transport holds */
	struct sip__link *links; /* every transaction owner record */
	struct sip_call *calls;	 /* every live call, for shutdown */
	size_t ncalls;
	uint32_t max_calls;
	char user_agent[64];
	char auth_realm[64];
	int (*auth_lookup)(struct sb_slice user, char *password, size_t cap, void *arg);
	struct sip_digest_server *auth;
	bool shutting_down;
	void (*shutdown_cb)(void *arg);
	void *shutdown_arg;
	uv_timer_t shutdown_timer;
	sb_time_ms shutdown_deadline;
	size_t closing_handles;
};

enum sip__call_state {
	SIP__CALL_INCOMING,  /* INVITE received, no final sent */
	SIP__CALL_ANSWERED,  /* 2xx sent, waiting for ACK */
	SIP__CALL_CALLING,   /* INVITE sent, no final received */
	SIP__CALL_CONFIRMED, /* dialog confirmed */
	SIP__CALL_ENDING,    /* BYE sent, or final failure sent and waiting */
	SIP__CALL_ENDED,
};

/* Pending completion of an in-dialog request we sent. */
struct sip__op {
	void (*done)(void *arg, int status);
	void *arg;
};

struct sip_call {
	struct sip_ua *ua;
	struct sb_hnode node;
	bool in_table;
	struct sip_call *prev, *next;
	struct sb_arena arena;
	const struct sip_call_handlers *h;
	void *arg;
	bool outgoing;
	enum sip__call_state state;
	struct sip__link *links; /* transactions that point at this call */

	/* dialog */
	struct sb_slice call_id, local_tag, remote_tag;
	struct sb_slice local_uri, remote_uri; /* name-addr without tag, as sent/received */
	struct sb_slice remote_target;
	struct sb_slice routes[SIP__MAX_ROUTES];
	size_t nroutes;
	uint32_t local_cseq, remote_cseq;
	bool remote_cseq_set;
	struct sip_dest dest;	    /* next hop for in-dialog requests */
	struct sip_dest reply_dest; /* where responses to the INVITE go */
	char local_ip[64];
	uint16_t local_port;
	struct sb_slice contact_user;

	/* incoming INVITE: response header block (Via.., From, To;tag, Call-ID, CSeq, RR) */
	struct sb_slice resp_hdrs;
	struct sip_txn *inv_st;
	uint32_t inv_cseq;
	bool inv_has_offer;
	struct sb_slice inv_offer; /* copy of the offer SDP of the pending INVITE */

	/* 2xx retransmission until ACK (RFC 3261 §13.3.1.4) */
	struct sb_timer t2xx;
	sb_time_ms t2xx_interval, t2xx_give_up;
	char *resp2xx;
	size_t resp2xx_len;
	struct sip__op reinvite_in_done; /* unused for incoming */

	/* outgoing INVITE (initial or re-INVITE) */
	struct sip_txn *inv_ct;
	char *ack; /* ACK for the last 2xx, re-sent on 2xx retransmissions */
	size_t ack_len;
	bool cancel_wanted;
	uint32_t initial_cseq;
	struct sip_dial_opts_copy *dial; /* auth data for outgoing calls */
	struct sip__op reinvite_op;
	bool reinvite_hold; /* the pending re-INVITE puts on hold */
	struct sb_timer tglare;

	/* media */
	struct sdp_local sdp;
	char sdp_addr[64];
	char sdp_crypto_key[SDP_CRYPTO_KEY_MAX]; /* our SDES key-params */
	bool have_local_media;
	struct sip_media_state media;
	bool local_hold, remote_hold;

	/* BYE / REFER / INFO */
	struct sip__op bye_op;
	struct sip__op info_op;
	void (*refer_done)(void *arg, int status, const char *reason);
	void *refer_arg;
	bool refer_active;
	struct sb_timer trefer;
	bool refer_in_active;
	uint32_t refer_in_cseq;

	int end_status;
	const char *end_reason;
	bool ended_reported;
	struct sb_timer tfree;
};

/* A transaction's owner record: the call (NULL once the call is gone) and where to send. */
struct sip__link {
	struct sip_ua *ua;
	struct sip_call *call;
	struct sip__link *next;		       /* in call->links */
	struct sip__link *all_prev, *all_next; /* in ua->links, so shutdown frees leftovers */
	struct sip_dest dest;
	enum sip_method method;
	uint32_t cseq;
	bool auth_tried; /* this request already carries an answer to a challenge */
};

/* ua.c */
sb_time_ms sip__now(const struct sip_ua *ua);
struct sip__link *sip__link_new(struct sip_ua *ua, struct sip_call *c, const struct sip_dest *d);
void sip__link_free(struct sip__link *l);
extern const struct sip_txn_handlers sip__txn_handlers;
void sip__render_resp_headers(struct sb_buf *b, const struct sip_msg *req,
			      const struct sip_dest *src, struct sb_slice to_tag,
			      bool record_route);
int sip__respond(struct sip_ua *ua, struct sip_txn *st, const struct sip_msg *req,
		 const struct sip_dest *src, int status, const char *reason, struct sb_slice to_tag,
		 const char *extra, struct sb_slice ctype, struct sb_slice body);
int sip__resolve(struct sb_slice uri_text, enum sip_tp_type def_tp, struct sip_dest *out);
void sip__local_addr(struct sip_ua *ua, const struct sip_dest *d, char *ip, size_t cap,
		     uint16_t *port);
const char *sip__allow(void);

/* call.c */
void sip__call_incoming(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src,
			struct sip_txn *st);
void sip__call_in_dialog(struct sip_ua *ua, struct sip_call *c, const struct sip_msg *m,
			 const struct sip_dest *src);
void sip__call_ack(struct sip_call *c, const struct sip_msg *m);
void sip__call_cancel(struct sip_call *c);
struct sip_call *sip__call_find(struct sip_ua *ua, struct sb_slice call_id,
				struct sb_slice local_tag);
void sip__call_stray_2xx(struct sip_ua *ua, const struct sip_msg *m, const struct sip_dest *src);
void sip__call_shutdown(struct sip_call *c);
/* shared by call.c and indialog.c */
void sip__call_end(struct sip_call *c, int status, const char *reason);
int sip__call_send(struct sip_call *c, enum sip_method method, const char *extra,
		   struct sb_slice ctype, struct sb_slice body, struct sip_txn **out);
int sip__call_respond_invite(struct sip_call *c, struct sip_txn *st, int status, const char *reason,
			     struct sb_slice hdrs, const char *extra, struct sb_slice body,
			     bool keep_2xx);
int sip__call_answer_offer(struct sip_call *c, struct sb_slice offer_body, struct sb_buf *b,
			   struct sdp_result *r);
void sip__call_media_changed(struct sip_call *c, const struct sdp_result *r);
void sip__op_done(struct sip__op *op, int status);
void sip__call_tglare_fire(struct sb_timer *t, sb_time_ms now);
void sip__call_trefer_fire(struct sb_timer *t, sb_time_ms now);
void sip__call_txn_response(struct sip_call *c, struct sip_txn *t, const struct sip_msg *rsp);
void sip__call_txn_timeout(struct sip_call *c, struct sip_txn *t, int err);
void sip__call_txn_gone(struct sip_call *c, struct sip_txn *t);

#endif
