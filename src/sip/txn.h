/* SIP transactions (RFC 3261 §17 with the RFC 6026 Accepted states): the four state machines,
 * Timers A–M, matching of requests, responses and CANCELs, ACK generation for non-2xx finals. */
#ifndef SB_SIP_TXN_H
#define SB_SIP_TXN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/slice.h"
#include "base/timer.h"
#include "sip/msg.h"

/*
 * The layer is pure: no sockets and no clock reads. Every entry point takes `now`; timers are
 * armed on the struct sb_timers the layer was created with, and fire from sb_timers_run(now)
 * in the owner's loop. Bytes leave only through the send handler of each transaction.
 *
 * Lifetime rule: a transaction is never freed inside a call its owner makes on it (recv_*,
 * respond, send, transport_error, cancel); it dies only from a timer callback (the terminated
 * handler runs, then the layer frees it) or from sip_txn_terminate(). States the RFC ends
 * "immediately" (reliable transports: D, I, J, K = 0; transport errors) arm a timer due at
 * `now`, so the terminated handler runs on the next sb_timers_run().
 */

struct sip_txn;
struct sip_txn_layer;

/* RFC 3261 timer bases in milliseconds; 0 takes the default (500 / 4000 / 5000). */
struct sip_txn_cfg {
	sb_time_ms t1;
	sb_time_ms t2;
	sb_time_ms t4;
	size_t max_transactions; /* 0 = unlimited; beyond it *_new answers SB_ENORES */
};

enum sip_txn_kind {
	SIP_TXN_CLIENT_INVITE,
	SIP_TXN_CLIENT_NON_INVITE,
	SIP_TXN_SERVER_INVITE,
	SIP_TXN_SERVER_NON_INVITE,
};

enum sip_txn_state {
	SIP_TXN_CALLING,    /* INVITE client: request sent, nothing received */
	SIP_TXN_TRYING,	    /* non-INVITE client and server: nothing sent / received yet */
	SIP_TXN_PROCEEDING, /* a provisional was received (client) or the TU is working (server) */
	SIP_TXN_COMPLETED,  /* a final was received (client) or a non-2xx final sent (server) */
	SIP_TXN_CONFIRMED,  /* INVITE server: ACK for the non-2xx final received (Timer I) */
	SIP_TXN_ACCEPTED,   /* RFC 6026: 2xx to INVITE received (Timer M) or sent (Timer L) */
	SIP_TXN_TERMINATED, /* waiting for the terminated handler to run */
};

/*
 * Callbacks to the owner (TU). The struct must outlive every transaction that uses it (static
 * const is the usual). arg is the owner's; it also carries the destination (transport and
 * address) that send uses, fixed when the transaction was created.
 */
struct sip_txn_handlers {
	/* Transmit bytes to the transaction's peer. Return 0, or a negative code for a transport
	 * error (the transaction then follows RFC 3261 §17.1.4 / §17.2.4). Required. */
	int (*send)(struct sip_txn *t, struct sb_slice bytes, void *arg);
	/* Client: every provisional, the first final, and in Accepted every further 2xx (so the
	 * TU re-ACKs each copy and each fork). Retransmitted non-2xx finals are absorbed. */
	void (*response)(struct sip_txn *t, const struct sip_msg *rsp, void *arg);
	/* Server INVITE, optional: the ACK for our non-2xx final came (Completed → Confirmed). */
	void (*ack)(struct sip_txn *t, const struct sip_msg *ack, void *arg);
	/* The transaction failed: err is SB_ETIMEDOUT (Timer B or F; Timer H on a server: no
	 * ACK; 64*T1 after a CANCEL without a final) or SB_EIO (transport error). A client TU
	 * treats it as a 408. The terminated handler follows. Optional. */
	void (*timeout)(struct sip_txn *t, int err, void *arg);
	/* The transaction is gone: when this returns the layer frees it; drop every pointer to
	 * it. Optional. */
	void (*terminated)(struct sip_txn *t, void *arg);
};

/* "z9hG4bK" + 24 random [0-9a-z] + NUL. */
#define SIP_TXN_BRANCH_SIZE 32

/* Write a fresh RFC 3261 branch (magic cookie + random token), NUL-terminated. */
void sip_txn_new_branch(char out[SIP_TXN_BRANCH_SIZE]);

/* Create a layer bound to a timer heap (not owned; must outlive the layer).
 * 0, SB_ENOMEM or SB_EINVAL (t2 < t1). */
int sip_txn_layer_new(struct sip_txn_layer **out, const struct sip_txn_cfg *cfg,
		      struct sb_timers *timers);
/* Free every remaining transaction (no handler is called, timers are disarmed) and the layer. */
void sip_txn_layer_free(struct sip_txn_layer *l);
/* Transactions alive (including Terminated ones whose handler has not run yet). */
size_t sip_txn_layer_count(const struct sip_txn_layer *l);
/* The effective timer bases (defaults filled in). */
const struct sip_txn_cfg *sip_txn_layer_cfg(const struct sip_txn_layer *l);

/*
 * Start a client transaction. request is the full request as it goes on the wire (copied);
 * parsed is its parse (needs method, top Via branch, CSeq; for INVITE also the Request-URI,
 * From, To, Call-ID and Route headers, from which ACK and CANCEL are built). The top Via branch
 * must carry the z9hG4bK cookie (see sip_txn_new_branch). ACK requests have no transaction
 * (SB_EINVAL). reliable = TCP/TLS/WS: no retransmissions, Timers D and K are 0.
 * Sends the request at once and arms A/B (INVITE) or E/F. Returns 0 and writes *out, or
 * SB_EINVAL, SB_ENOMEM, SB_ENORES, SB_EEXISTS (branch already used by a client transaction of
 * that method), or the send handler's error (no transaction is left behind, no handler runs).
 */
int sip_txn_client_new(struct sip_txn_layer *l, struct sb_slice request,
		       const struct sip_msg *parsed, bool reliable,
		       const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
		       struct sip_txn **out);

/*
 * Build the CANCEL for a client INVITE transaction into out (RFC 3261 §9.1): same
 * Request-URI, top Via (so the same branch), Route headers, From, To (as in the INVITE),
 * Call-ID and CSeq number with method CANCEL; Max-Forwards 70, Content-Length 0.
 * extra_headers (may be empty) is inserted verbatim before Content-Length and must end in
 * CRLF, e.g. "Reason: SIP;cause=480\r\n". 0, SB_EINVAL (not an INVITE client) or the buffer's
 * sticky error.
 */
int sip_txn_build_cancel(const struct sip_txn *invite, struct sb_slice extra_headers,
			 struct sb_buf *out);

/*
 * Build the CANCEL (as sip_txn_build_cancel) and start its non-INVITE client transaction,
 * sending it at once. Allowed only in Proceeding (§9.1: not before a provisional, not after a
 * final): SB_ESTATE otherwise, so a TU that wants to cancel in Calling waits for the first
 * provisional. Also arms 64*T1 on the INVITE: if no final arrives by then the INVITE
 * transaction reports SB_ETIMEDOUT and terminates (§9.1). Other errors as sip_txn_client_new.
 */
int sip_txn_client_cancel(struct sip_txn *invite, struct sb_slice extra_headers,
			  const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
			  struct sip_txn **out);

/*
 * Start a server transaction for a request that matched none (sip_txn_match_request returned
 * NULL). Copies the matching key from req (request bytes are not needed). ACK gets none
 * (SB_EINVAL). reliable = it arrived over TCP/TLS/WS. INVITE starts in Proceeding: the TU must
 * send 100 Trying (via sip_txn_respond) unless it answers within 200 ms; others in Trying.
 * No timer runs before the TU's final: a server transaction never answered lives until
 * sip_txn_terminate (the TU owns that deadline).
 * 0 and *out, SB_EINVAL, SB_ENOMEM or SB_ENORES.
 */
int sip_txn_server_new(struct sip_txn_layer *l, const struct sip_msg *req, bool reliable,
		       const struct sip_txn_handlers *h, void *arg, sb_time_ms now,
		       struct sip_txn **out);

/*
 * Send a response through a server transaction; bytes are the full response (copied when it
 * must be retransmitted). 1xx: kept as the last provisional (→ Proceeding). Non-2xx final:
 * → Completed, Timer G (unreliable) and H (INVITE) or J (non-INVITE). 2xx to INVITE:
 * → Accepted, Timer L (RFC 6026); further 2xx in Accepted (the TU's retransmissions, §13.3.1.4)
 * are sent as they come. Anything else after a final: SB_ESTATE. Returns 0, SB_EINVAL,
 * SB_ESTATE, SB_ENOMEM or the send error (then the transaction terminates on the next timer
 * run, the timeout handler is not called).
 */
int sip_txn_respond(struct sip_txn *t, int status, struct sb_slice bytes, sb_time_ms now);

/* Send arbitrary bytes to the transaction's peer through its send handler (e.g. a 2xx
 * retransmission). 0 or the send handler's error; no state change. */
int sip_txn_send(struct sip_txn *t, struct sb_slice bytes);

/*
 * Matching. Server (§17.2.3): branch with z9hG4bK → branch + sent-by + method (ACK matches the
 * INVITE, but only while it is Completed or Confirmed: an ACK for a 2xx matches nothing and
 * belongs to the dialog); otherwise the RFC 2543 rule (Request-URI, From tag, To tag, Call-ID,
 * CSeq, top Via; for ACK the To tag of our final response). Returns NULL when nothing matches.
 */
struct sip_txn *sip_txn_match_request(struct sip_txn_layer *l, const struct sip_msg *req);
/* The server transaction (INVITE or other, never CANCEL) a CANCEL targets (§9.2), or NULL
 * (answer 481). */
struct sip_txn *sip_txn_match_cancel(struct sip_txn_layer *l, const struct sip_msg *cancel);
/* The client transaction of a response (§17.1.3: top Via branch and CSeq method), or NULL. */
struct sip_txn *sip_txn_match_response(struct sip_txn_layer *l, const struct sip_msg *rsp);

/* Feed a request that matched t: retransmissions get the last response again (nothing when
 * none was sent), an ACK moves Completed → Confirmed (Timer I); Accepted absorbs INVITEs. */
void sip_txn_recv_request(struct sip_txn *t, const struct sip_msg *req, sb_time_ms now);
/* Feed a response that matched t (see the response handler for what reaches the TU). */
void sip_txn_recv_response(struct sip_txn *t, const struct sip_msg *rsp, sb_time_ms now);
/* The transport below t failed (TCP reset, ICMP): the timeout handler runs with SB_EIO unless
 * the RFC says to ignore it (client Accepted/Completed), then t terminates on the next run. */
void sip_txn_transport_error(struct sip_txn *t, sb_time_ms now);

/* Free t now without calling any handler (an owner that goes away). Safe from inside a
 * handler of t (then freed after the handler returns). t must not be used afterwards. */
void sip_txn_terminate(struct sip_txn *t);

/* Hand t to another owner (NULL h keeps the handlers, only arg changes). */
void sip_txn_set_owner(struct sip_txn *t, const struct sip_txn_handlers *h, void *arg);

enum sip_txn_kind sip_txn_kind(const struct sip_txn *t);
enum sip_txn_state sip_txn_state(const struct sip_txn *t);
enum sip_method sip_txn_method(const struct sip_txn *t);
void *sip_txn_arg(const struct sip_txn *t);
bool sip_txn_reliable(const struct sip_txn *t);
/* Top Via branch of the request (for 2543 server transactions possibly empty). */
struct sb_slice sip_txn_branch(const struct sip_txn *t);
struct sb_slice sip_txn_call_id(const struct sip_txn *t);
/* Status of the last response received (client) or sent (server); 0 before any. */
int sip_txn_last_status(const struct sip_txn *t);
/* Client: the request bytes as sent. Server: empty. */
struct sb_slice sip_txn_request(const struct sip_txn *t);
/* Client INVITE: the ACK generated for the non-2xx final (empty before one). */
struct sb_slice sip_txn_ack(const struct sip_txn *t);
const char *sip_txn_state_name(enum sip_txn_state s);

#endif
