/* The SIP user agent: the application API of the SIP stack, centred on calls (INVITE dialogs).
 * Owns transports, the transaction layer, dialogs and their timers on the control loop.
 * Completions are callbacks with one void *arg; a function that returns an error never also
 * calls its callback. */
#ifndef SB_SIP_UA_H
#define SB_SIP_UA_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "base/slice.h"
#include "sdp/sdp.h"
#include "sip/msg.h"
#include "sip/transport.h"

struct sip_ua;
struct sip_call;

/* Where the local media is; the UA builds offers and answers from it. */
struct sip_media_local {
	char addr[64]; /* numeric IP for c= and o= */
	uint16_t port;
	enum sdp_codec codecs[SDP_MAX_LOCAL_CODECS]; /* preference; n_codecs 0 = PCMU, PCMA */
	uint8_t n_codecs;
	bool telephone_event;
	bool rtcp_mux;			     /* offer / accept RTCP on the RTP port (RFC 5761) */
	enum sdp_srtp_mode srtp;	     /* SDES: DISABLE (default), ALLOW, REQUIRE */
	char crypto_key[SDP_CRYPTO_KEY_MAX]; /* our key-params "inline:..." unless DISABLE */
};

/* The negotiated media of a call, reported on answer and on every re-INVITE/UPDATE. */
struct sip_media_state {
	enum sdp_codec codec;
	uint8_t pt;
	int16_t te_pt; /* -1 = no telephone-event */
	char remote_addr[SDP_ADDR_MAX];
	uint16_t remote_port;
	uint16_t remote_rtcp_port; /* a=rtcp or remote_port + 1; equal to remote_port with mux */
	bool rtcp_mux;
	enum sdp_dir remote_dir; /* what the peer said (sendonly/inactive = it holds us) */
	enum sdp_dir local_dir;	 /* what we may do now */
	uint32_t ptime;
	enum sdp_crypto_suite crypto_suite;	    /* NONE = plain RTP */
	char remote_crypto_key[SDP_CRYPTO_KEY_MAX]; /* what the remote encrypts with */
};

struct sip_refer_request {
	struct sb_slice refer_to;    /* raw Refer-To value */
	struct sb_slice referred_by; /* may be empty */
	struct sb_slice replaces;    /* from the Refer-To URI headers, may be empty */
};

/* Events of one call. Any may be NULL. */
struct sip_call_handlers {
	/* Outgoing call: provisional response (180/183). */
	void (*progress)(struct sip_call *c, int status, void *arg);
	/* Outgoing call answered (ACK sent) or incoming call confirmed (ACK received). */
	void (*established)(struct sip_call *c, void *arg);
	/* Media negotiated or changed (answer, re-INVITE, UPDATE). */
	void (*media)(struct sip_call *c, const struct sip_media_state *m, void *arg);
	/* The remote put us on hold (dir sendonly/inactive) or resumed (sendrecv/recvonly). */
	void (*hold)(struct sip_call *c, bool held, enum sdp_dir remote_dir, void *arg);
	/* DTMF received by SIP INFO (application/dtmf-relay or application/dtmf). */
	void (*dtmf)(struct sip_call *c, char digit, uint32_t duration_ms, void *arg);
	/* REFER received in the dialog; answer with sip_call_refer_accept/_reject. */
	void (*refer)(struct sip_call *c, const struct sip_refer_request *r, void *arg);
	/* The call is over: status is the final SIP status (e.g. 200 after BYE, 487, 486, 408)
	 * and reason a short text ("bye", "remote bye", "cancelled", "timeout", ...; for a failure
	 * response to our INVITE its reason phrase, "Busy Here").
	 * After this returns the call object is freed: drop every pointer to it. */
	void (*ended)(struct sip_call *c, int status, const char *reason, void *arg);
};

struct sip_incoming {
	const struct sip_msg *invite;
	struct sip_dest src;
	struct sb_slice from_user, to_user; /* unescaped user parts, R-URI user for to_user */
};

struct sip_ua_handlers {
	/* A new INVITE outside any dialog. The application sets the call's handlers with
	 * sip_call_set_handlers and, now or later, calls ringing/answer/reject. */
	void (*incoming)(struct sip_ua *ua, struct sip_call *c, const struct sip_incoming *in,
			 void *arg);
};

struct sip_ua_opts {
	uv_loop_t *loop;
	const struct sip_ua_handlers *handlers;
	void *arg;
	uint32_t t1_ms, t2_ms, t4_ms; /* 0 = 500, 4000, 5000 */
	const char *user_agent;	      /* NULL = "switchboard" */
	const char *tls_cert_file, *tls_key_file, *tls_ca_file;
	/* Digest challenge for incoming INVITEs when auth_lookup is set. */
	const char *auth_realm;
	int (*auth_lookup)(struct sb_slice user, char *password, size_t cap, void *arg);
	bool auth_md5_first; /* challenge with MD5 before SHA-256 (for MD5-only UAs) */
	uint32_t max_calls;  /* 0 = unlimited; over it INVITEs get 503 with Retry-After */
};

int sip_ua_new(struct sip_ua **out, const struct sip_ua_opts *o);
/* Listen for SIP; type UDP, TCP or TLS. */
int sip_ua_listen(struct sip_ua *ua, enum sip_tp_type type, const char *host, uint16_t port);
uint16_t sip_ua_port(const struct sip_ua *ua, enum sip_tp_type type);
size_t sip_ua_call_count(const struct sip_ua *ua);
/* What /metrics shows of the SIP stack: messages by method and status, transport totals and
 * the calls (INVITE dialogs) alive now. A copy; read-only. */
struct sip_counters {
	struct sip_msg_counters msgs;
	struct sip_transport_stats transport;
	size_t calls;
};
void sip_ua_counters(const struct sip_ua *ua, struct sip_counters *out);
/* End every call (BYE for confirmed, CANCEL or reject for pending), then close everything;
 * cb runs when all is closed and the UA freed. */
void sip_ua_shutdown(struct sip_ua *ua, void (*cb)(void *arg), void *arg);

void sip_call_set_handlers(struct sip_call *c, const struct sip_call_handlers *h, void *arg);
void *sip_call_arg(const struct sip_call *c);
struct sb_slice sip_call_id(const struct sip_call *c);
bool sip_call_is_outgoing(const struct sip_call *c);
/* The dialog's identity (slices valid while the call lives; tags empty before a dialog). */
struct sip_dialog_id {
	struct sb_slice call_id, local_tag, remote_tag, remote_target;
};
void sip_call_dialog_id(const struct sip_call *c, struct sip_dialog_id *out);
/* For an attended transfer (REFER with Replaces, RFC 3891 / RFC 5589): this call's remote
 * target with a Replaces header naming this dialog, as a URI for another call's REFER
 * ("sip:carol@host?Replaces=id%3Bto-tag%3Dt1%3Bfrom-tag%3Dt2"). 0, SB_ESTATE (no confirmed
 * dialog) or SB_ETOOBIG. */
int sip_call_replaces_target(const struct sip_call *c, char *out, size_t cap);
bool sip_call_on_hold(const struct sip_call *c); /* we put the remote on hold */
bool sip_call_remote_hold(const struct sip_call *c);

/* Incoming call: 180 Ringing (or 183 with early media when local is given). */
int sip_call_ringing(struct sip_call *c, const struct sip_media_local *early_media);
/* Incoming call: 200 with an SDP answer to the offer (or an offer when the INVITE had none).
 * SB_ENOTFOUND when no codec is common (then reject with 488). */
int sip_call_answer(struct sip_call *c, const struct sip_media_local *local);
/* Incoming call: final failure response (3xx-6xx). The call ends (ended is called). 503 and
 * 480 carry Retry-After. */
int sip_call_reject(struct sip_call *c, int status, const char *reason);
/* The same with extra header lines ("Name: value\r\n" each, e.g. a 401's WWW-Authenticate;
 * NULL = none) instead of the default Retry-After. */
int sip_call_reject_with(struct sip_call *c, int status, const char *reason,
			 const char *extra_headers);

struct sip_dial_opts {
	const char *target;    /* sip:, sips: or tel: URI */
	const char *from_user; /* NULL = "switchboard" */
	const char *from_display;
	const char *proxy; /* optional host[:port] to send to instead of the target host */
	enum sip_tp_type transport;
	const char *auth_user, *auth_password, *auth_realm; /* realm NULL = any */
	const char *extra_headers;			    /* "Name: value\r\n" lines */
	struct sip_media_local media;
};
/* Place a call. The handlers report progress, answer (established + media) and the end. */
int sip_dial(struct sip_ua *ua, const struct sip_dial_opts *o, const struct sip_call_handlers *h,
	     void *arg, struct sip_call **out);

/* Hang up: BYE when confirmed, CANCEL when ringing (outgoing), 480 when not answered
 * (incoming). done (may be NULL) runs when the BYE got its final response or timed out;
 * ended runs in any case. */
int sip_call_hangup(struct sip_call *c, void (*done)(void *arg, int status), void *arg);
/* Put the remote on hold (re-INVITE with sendonly and a new SDP version) or resume it
 * (sendrecv). done gets the re-INVITE's final status (491 glare is retried internally). */
int sip_call_hold(struct sip_call *c, void (*done)(void *arg, int status), void *arg);
int sip_call_resume(struct sip_call *c, void (*done)(void *arg, int status), void *arg);
/* REFER the remote to target; done gets the final status: the REFER's failure code, or the
 * status line of the final NOTIFY sipfrag (200, 486, 603 ...), or 408 on timeout. */
int sip_call_refer(struct sip_call *c, const char *target, const char *referred_by,
		   uint32_t timeout_ms, void (*done)(void *arg, int status, const char *reason),
		   void *arg);
/* The same with extra REFER header lines ("Name: value\r\n" each; NULL = none). */
int sip_call_refer_with(struct sip_call *c, const char *target, const char *referred_by,
			const char *extra_headers, uint32_t timeout_ms,
			void (*done)(void *arg, int status, const char *reason), void *arg);
/* Send one DTMF digit by SIP INFO (application/dtmf-relay). */
int sip_call_send_info_dtmf(struct sip_call *c, char digit, uint32_t duration_ms,
			    void (*done)(void *arg, int status), void *arg);
/* Answer a received REFER: accept sends 202 then NOTIFY 100 Trying; report the outcome with
 * sip_call_refer_notify (final when status >= 200). reject sends the given code. */
int sip_call_refer_accept(struct sip_call *c);
int sip_call_refer_reject(struct sip_call *c, int status);
int sip_call_refer_notify(struct sip_call *c, int status, const char *reason);

#endif
