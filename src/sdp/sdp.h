/* SDP (RFC 4566) zero-copy parse and print, and RFC 3264 offer/answer for one audio stream.
 * Owns the codec table (SDP_CODEC_MAP), direction rules (incl. c=0.0.0.0 hold) and session
 * versions. */
#ifndef SB_SDP_SDP_H
#define SB_SDP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

/* Limits. More m= lines than SDP_MAX_MEDIA: sdp_parse returns SB_ETOOBIG (we could not answer
 * with the same number of lines). More formats than SDP_MAX_FMT on one m= line: all are
 * validated, the first SDP_MAX_FMT kept, fmt_truncated set (browsers offer ~40 video PTs). */
#define SDP_MAX_MEDIA	     8
#define SDP_MAX_FMT	     32
#define SDP_MAX_CRYPTO	     4
#define SDP_MAX_LOCAL_CODECS 8
#define SDP_ADDR_MAX	     256 /* FQDN (253) or IPv6 text (45) plus NUL */

/* X(id, rtpmap name, clock rate, channels, payload type, pt is static (RFC 3551), primary, fmtp)
 * "primary": can be the call's voice codec (telephone-event and CN cannot).
 * "payload type": the static PT, or the dynamic PT we use in our own offers.
 * G.722's RTP clock is 8000 although it samples at 16 kHz (RFC 3551 §4.5.2); Opus is always
 * opus/48000/2 on the wire (RFC 7587) whatever rate it codes. CN (RFC 3389) is understood when
 * it arrives but never chosen as the voice codec. */
#define SDP_CODEC_MAP(X)                                                                           \
	X(PCMU, "PCMU", 8000, 1, 0, true, true, NULL)                                              \
	X(PCMA, "PCMA", 8000, 1, 8, true, true, NULL)                                              \
	X(G722, "G722", 8000, 1, 9, true, true, NULL)                                              \
	X(OPUS, "opus", 48000, 2, 111, false, true, "minptime=10;useinbandfec=1")                  \
	X(TELEPHONE_EVENT, "telephone-event", 8000, 1, 101, false, false, "0-16")                  \
	X(CN, "CN", 8000, 1, 13, true, false, NULL)

/* clang-format off */
enum sdp_codec {
	SDP_CODEC_NONE = 0,
#define SDP__CODEC_ENUM(id, name, rate, ch, pt, st, prim, fmtp) SDP_CODEC_##id,
	SDP_CODEC_MAP(SDP__CODEC_ENUM)
#undef SDP__CODEC_ENUM
	SDP_CODEC__COUNT
};
/* clang-format on */

struct sdp_codec_info {
	const char *name;
	uint32_t rate;
	uint8_t channels;
	uint8_t pt;
	bool static_pt;
	bool primary;
	const char *fmtp; /* what we print in a=fmtp, or NULL */
};

/* NULL for SDP_CODEC_NONE or out of range. */
const struct sdp_codec_info *sdp_codec_info(enum sdp_codec c);

/* Value 0 is sendrecv so a zeroed struct means the RFC 4566 default. */
enum sdp_dir { SDP_SENDRECV = 0, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE };

enum sdp_addrtype { SDP_ADDR_NONE = 0, SDP_ADDR_IP4, SDP_ADDR_IP6, SDP_ADDR_OTHER };

enum sdp_proto {
	SDP_PROTO_OTHER = 0, /* formats are not payload types (udptl, UDP/BFCP, DTLS/SCTP...) */
	SDP_PROTO_RTP_AVP,
	SDP_PROTO_RTP_AVPF,
	SDP_PROTO_RTP_SAVP,
	SDP_PROTO_RTP_SAVPF,
	SDP_PROTO_UDP_TLS_RTP_SAVP,  /* DTLS-SRTP */
	SDP_PROTO_UDP_TLS_RTP_SAVPF, /* DTLS-SRTP, WebRTC */
};

/* Every slice points into the parsed body: the session is valid only while the body is. */
struct sdp_conn {
	enum sdp_addrtype type;	     /* NONE: no c= line */
	struct sb_slice addrtype;    /* as written ("IP4") */
	struct sb_slice addr;	     /* no brackets, without "/ttl[/n]" */
	struct sb_slice addr_suffix; /* "/127" multicast TTL/count, kept for printing */
};

struct sdp_origin {
	struct sb_slice username;
	struct sb_slice sess_id; /* digits, compared as a token */
	uint64_t sess_version;	 /* > UINT64_MAX: malformed */
	struct sdp_conn addr;	 /* nettype IN, addrtype, unicast address */
};

struct sdp_fmt {
	uint8_t pt; /* 0..127 */
	bool has_rtpmap;
	uint8_t channels;     /* from rtpmap, 0 when not given (means 1) */
	uint32_t rate;	      /* from rtpmap, 0 when no rtpmap */
	struct sb_slice name; /* rtpmap encoding name */
	struct sb_slice fmtp; /* a=fmtp parameters, empty when none */
};

struct sdp_media {
	struct sb_slice type; /* "audio", "video", "image", ... */
	uint16_t port;
	uint16_t port_count; /* "/2" in m=; 0 when absent */
	struct sb_slice proto_str;
	enum sdp_proto proto;
	struct sb_slice fmts_raw; /* everything after proto, for echoing in rejections */
	uint8_t n_fmt;		  /* RTP protos only; 0 for SDP_PROTO_OTHER */
	bool fmt_truncated;
	struct sdp_fmt fmt[SDP_MAX_FMT];
	struct sdp_conn conn; /* type NONE: use the session c= */
	bool has_dir;
	enum sdp_dir dir;  /* the attribute as written; see sdp_media_dir() */
	uint32_t ptime;	   /* ms, 0 = absent or out of range (1..1000) */
	uint32_t maxptime; /* ms, 0 = absent or out of range (1..1000) */
	bool rtcp_mux;
	uint16_t rtcp_port; /* a=rtcp:<port>, 0 = absent */
	uint8_t n_crypto;   /* extra a=crypto lines beyond SDP_MAX_CRYPTO are dropped */
	struct sb_slice crypto[SDP_MAX_CRYPTO]; /* value after "a=crypto:" */
};

struct sdp_session {
	bool has_origin;
	struct sdp_origin origin;
	struct sb_slice name; /* s= (may be empty) */
	bool has_time;
	uint64_t t_start, t_stop;
	struct sdp_conn conn; /* session c=, type NONE when absent */
	bool has_dir;
	enum sdp_dir dir;
	uint8_t n_media;
	struct sdp_media media[SDP_MAX_MEDIA];
};

/* Parse a body (not NUL-terminated; CRLF or bare LF; trailing blank lines allowed).
 * 0, SB_EMALFORMED, or SB_ETOOBIG (more than SDP_MAX_MEDIA m= lines). Unknown
 * attributes and b=/i=/u=/e=/p=/z=/k=/r= lines are ignored. *s is overwritten either way. */
int sdp_parse(struct sdp_session *s, struct sb_slice body);

/* Re-print a parsed session (the fields above only; ignored lines are lost).
 * Returns b->err (0, SB_ENOMEM, SB_ETOOBIG). */
int sdp_print(struct sb_buf *b, const struct sdp_session *s);

/* ---- direction ---- */

const char *sdp_dir_name(enum sdp_dir d); /* "sendrecv" ... */
bool sdp_dir_sends(enum sdp_dir d);
bool sdp_dir_recvs(enum sdp_dir d);
/* Answer to an offered direction given what we want: we send only if they receive and we
 * want to send; we receive only if they send and we want to receive.
 * sendonly->recvonly, recvonly->sendonly, inactive->inactive, sendrecv->local. */
enum sdp_dir sdp_dir_answer(enum sdp_dir offered, enum sdp_dir local_wanted);

/* Connection of media idx: its own c= else the session c=; NULL when neither exists. */
const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, size_t idx);
/* c= address 0.0.0.0 or :: (RFC 2543 hold; RFC 3264 §8.4 "do not send to me"). */
bool sdp_conn_is_hold(const struct sdp_conn *c);
/* Effective direction of media idx from the sender's point of view: the media attribute,
 * else the session attribute, else sendrecv; then if its connection is 0.0.0.0 / :: the
 * receive half is removed (sendrecv->sendonly, recvonly->inactive). So both hold spellings
 * (a=sendonly and c=0.0.0.0) give a direction without "recv", and the answer is recvonly
 * or inactive through sdp_dir_answer(). */
enum sdp_dir sdp_media_dir(const struct sdp_session *s, size_t idx);

/* ---- SDES (RFC 4568): a=crypto:<tag> <suite> inline:<key>[|...] ---- */

enum sdp_srtp_mode {
	SDP_SRTP_DISABLE = 0, /* plain RTP only; RTP/SAVP offers are refused */
	SDP_SRTP_ALLOW,	      /* answer SRTP offers with SRTP, plain ones plainly; offer plain */
	SDP_SRTP_REQUIRE,     /* offer and accept only RTP/SAVP with a=crypto */
};

enum sdp_crypto_suite {
	SDP_CRYPTO_NONE = 0,
	SDP_CRYPTO_AES_CM_128_HMAC_SHA1_80,
	SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32,
};

#define SDP_CRYPTO_KEY_MAX 96 /* "inline:" + base64 of 30 bytes + "|2^31" and some */

const char *sdp_crypto_suite_name(enum sdp_crypto_suite s);

/* ---- local description ---- */

struct sdp_local {
	uint64_t sess_id;
	uint64_t sess_version;	      /* sdp_local_next_version() before every new offer */
	struct sb_slice username;     /* o= username; empty prints "-" */
	struct sb_slice session_name; /* s=; empty prints "-" */
	enum sdp_addrtype addrtype;   /* of origin_addr and conn_addr: IP4 or IP6 */
	struct sb_slice origin_addr;
	struct sb_slice conn_addr;
	uint16_t rtp_port;
	enum sdp_codec codecs[SDP_MAX_LOCAL_CODECS]; /* preference order, primary codecs only */
	uint8_t n_codecs;
	bool telephone_event; /* offer/accept telephone-event/8000 */
	uint8_t te_pt;	      /* dynamic PT for telephone-event in our offers (101) */
	bool rtcp_mux;	      /* offer/accept a=rtcp-mux */
	enum sdp_dir dir;     /* what we want (sendonly to put the peer on hold) */
	uint32_t ptime;	      /* ms, 0 = do not print */
	enum sdp_srtp_mode srtp;
	struct sb_slice crypto_key; /* our key-params ("inline:..."), required unless DISABLE */
};

/* Defaults: IP4, codecs PCMU then PCMA, telephone-event on PT 101, sendrecv, ptime 20,
 * no rtcp-mux, version 0. The caller fills ids, addresses and port. */
void sdp_local_init(struct sdp_local *l);
/* RFC 3264 §8: increment the o= version before sending a changed (re-)offer. Saturates. */
void sdp_local_next_version(struct sdp_local *l);

/* ---- offer/answer ---- */

struct sdp_result {
	uint8_t media_idx; /* the negotiated audio m= line */
	uint8_t n_media;   /* m= lines in the offer (= in the answer) */
	enum sdp_codec codec;
	uint8_t pt;    /* PT of codec as numbered in the offer (answerer side) or
			  in the answer (offerer side): the PT both send with */
	int16_t te_pt; /* telephone-event PT, -1 when not negotiated */
	enum sdp_addrtype remote_addrtype;
	char remote_addr[SDP_ADDR_MAX]; /* copied, NUL-terminated; may be a hostname */
	uint16_t remote_port;
	uint16_t remote_rtcp_port; /* a=rtcp, 0 = not given (use remote_port+1 unless rtcp_mux) */
	uint32_t remote_ptime;	   /* 0 = not given */
	bool rtcp_mux;		   /* both sides agreed */
	enum sdp_dir remote_dir;   /* effective (sdp_media_dir) */
	enum sdp_dir local_dir;	   /* what we answer / may do */
	bool remote_hold; /* remote does not want to receive (sendonly, inactive, c=0.0.0.0) */
	/* SRTP agreed (suite NONE = plain RTP): the remote's key-params (what it encrypts with)
	 * and the tag of the chosen a=crypto line */
	enum sdp_crypto_suite crypto_suite;
	unsigned crypto_tag;
	char remote_crypto_key[SDP_CRYPTO_KEY_MAX];
};

/* Print an offer: one m=audio with local codecs in order (+ telephone-event). Returns b->err. */
int sdp_make_offer(struct sb_buf *b, const struct sdp_local *l);

/* Answerer side. Picks the first m=audio line with a non-zero port, an RTP/AVP or RTP/AVPF
 * transport and a connection address, and in it the first offered format we support (the
 * offerer's preference order wins, RFC 3264 §6.1 lets the answerer choose; honouring the
 * offerer keeps both ends agreed without a re-offer), keeping the offerer's PT numbers.
 * Every other m= line is rejected (port 0) in the answer. 0, SB_ENOTFOUND (no common audio
 * codec: answer 488), SB_EMALFORMED (the chosen line has no c= anywhere). */
int sdp_negotiate_answer(const struct sdp_session *offer, const struct sdp_local *l,
			 struct sdp_result *out);
/* Print the answer to `offer` from a successful sdp_negotiate_answer(). Returns b->err. */
int sdp_make_answer(struct sb_buf *b, const struct sdp_local *l, const struct sdp_session *offer,
		    const struct sdp_result *r);

/* Offerer side: check the answer to our offer from sdp_make_offer(l). 0; SB_ENOTFOUND when
 * the answer rejects audio (port 0); SB_EMALFORMED when it has a different number of m= lines
 * or no format we offered (formats we did not offer are ignored), or no c=. */
int sdp_process_answer(const struct sdp_session *answer, const struct sdp_local *our_offer,
		       struct sdp_result *out);

#endif
