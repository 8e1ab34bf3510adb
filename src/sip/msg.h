/* SIP message model and zero-copy parser (RFC 3261 §7, §20, §25).
 * A parsed message is slices into the caller's receive buffer; nothing is allocated. */
#ifndef SB_SIP_MSG_H
#define SB_SIP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"
#include "sip/uri.h"

/* X(id, canonical name, compact form or 0). One list; the tokenizer table is generated from it. */
#define SIP_HDR_MAP(X)                                                                             \
	X(VIA, "Via", 'v')                                                                         \
	X(FROM, "From", 'f')                                                                       \
	X(TO, "To", 't')                                                                           \
	X(CALL_ID, "Call-ID", 'i')                                                                 \
	X(CSEQ, "CSeq", 0)                                                                         \
	X(CONTACT, "Contact", 'm')                                                                 \
	X(CONTENT_LENGTH, "Content-Length", 'l')                                                   \
	X(CONTENT_TYPE, "Content-Type", 'c')                                                       \
	X(CONTENT_ENCODING, "Content-Encoding", 'e')                                               \
	X(CONTENT_DISPOSITION, "Content-Disposition", 0)                                           \
	X(MAX_FORWARDS, "Max-Forwards", 0)                                                         \
	X(ROUTE, "Route", 0)                                                                       \
	X(RECORD_ROUTE, "Record-Route", 0)                                                         \
	X(SUPPORTED, "Supported", 'k')                                                             \
	X(REQUIRE, "Require", 0)                                                                   \
	X(PROXY_REQUIRE, "Proxy-Require", 0)                                                       \
	X(UNSUPPORTED, "Unsupported", 0)                                                           \
	X(ALLOW, "Allow", 0)                                                                       \
	X(ALLOW_EVENTS, "Allow-Events", 'u')                                                       \
	X(ACCEPT, "Accept", 0)                                                                     \
	X(ACCEPT_ENCODING, "Accept-Encoding", 0)                                                   \
	X(ACCEPT_LANGUAGE, "Accept-Language", 0)                                                   \
	X(AUTHORIZATION, "Authorization", 0)                                                       \
	X(PROXY_AUTHORIZATION, "Proxy-Authorization", 0)                                           \
	X(WWW_AUTHENTICATE, "WWW-Authenticate", 0)                                                 \
	X(PROXY_AUTHENTICATE, "Proxy-Authenticate", 0)                                             \
	X(AUTHENTICATION_INFO, "Authentication-Info", 0)                                           \
	X(EXPIRES, "Expires", 0)                                                                   \
	X(MIN_EXPIRES, "Min-Expires", 0)                                                           \
	X(EVENT, "Event", 'o')                                                                     \
	X(SUBSCRIPTION_STATE, "Subscription-State", 0)                                             \
	X(REFER_TO, "Refer-To", 'r')                                                               \
	X(REFERRED_BY, "Referred-By", 'b')                                                         \
	X(REPLACES, "Replaces", 0)                                                                 \
	X(SUBJECT, "Subject", 's')                                                                 \
	X(USER_AGENT, "User-Agent", 0)                                                             \
	X(SERVER, "Server", 0)                                                                     \
	X(RETRY_AFTER, "Retry-After", 0)                                                           \
	X(SESSION_EXPIRES, "Session-Expires", 'x')                                                 \
	X(MIN_SE, "Min-SE", 0)                                                                     \
	X(RSEQ, "RSeq", 0)                                                                         \
	X(RACK, "RAck", 0)                                                                         \
	X(DATE, "Date", 0)                                                                         \
	X(WARNING, "Warning", 0)                                                                   \
	X(TIMESTAMP, "Timestamp", 0)                                                               \
	X(REASON, "Reason", 0)                                                                     \
	X(ORGANIZATION, "Organization", 0)                                                         \
	X(P_ASSERTED_IDENTITY, "P-Asserted-Identity", 0)                                           \
	X(PRIVACY, "Privacy", 0)

enum sip_hdr_id {
	SIP_HDR_OTHER = 0,
#define SIP__HDR_ENUM(id, name, compact) SIP_HDR_##id,
	SIP_HDR_MAP(SIP__HDR_ENUM)
#undef SIP__HDR_ENUM
	    SIP_HDR__COUNT
};

/* clang-format off */
#define SIP_METHOD_MAP(X) \
	X(INVITE) \
	X(ACK) \
	X(BYE) \
	X(CANCEL) \
	X(OPTIONS) \
	X(REGISTER) \
	X(PRACK) \
	X(UPDATE) \
	X(INFO) \
	X(REFER) \
	X(NOTIFY) \
	X(SUBSCRIBE) \
	X(MESSAGE) \
	X(PUBLISH)
/* clang-format on */

enum sip_method {
	SIP_METHOD_OTHER = 0,
#define SIP__METHOD_ENUM(m) SIP_METHOD_##m,
	SIP_METHOD_MAP(SIP__METHOD_ENUM)
#undef SIP__METHOD_ENUM
	    SIP_METHOD__COUNT
};

/* Limits that bound every parse. */
#define SIP_MAX_HEADERS 192
#define SIP_MAX_LINE	8192
#define SIP_MAX_MESSAGE 65535

struct sip_hdr {
	enum sip_hdr_id id;
	struct sb_slice name;  /* as received */
	struct sb_slice value; /* trimmed; may contain folded CRLF+WS */
};

/* One via-parm (RFC 3261 §20.42). */
struct sip_via {
	struct sb_slice protocol;  /* "SIP/2.0" with inner LWS removed only logically */
	struct sb_slice transport; /* "UDP", "TCP", "TLS", ... */
	struct sb_slice host;	   /* IPv6 without brackets */
	uint16_t port;		   /* 0 when absent */
	struct sb_slice branch;
	struct sb_slice received;
	bool rport;		/* rport parameter present */
	uint16_t rport_value;	/* 0 when present without a value */
	struct sb_slice params; /* raw ";..." after sent-by */
	struct sb_slice raw;	/* the whole via-parm */
};

/* name-addr or addr-spec with header parameters (From, To, Contact, Route, Refer-To ...). */
struct sip_name_addr {
	struct sb_slice display; /* raw: quotes kept, may be empty */
	struct sip_uri uri;
	struct sb_slice params; /* raw ";..." after the URI (header params), may be empty */
	struct sb_slice tag;	/* value of ;tag=, empty when absent */
	bool angle;		/* URI was inside <> */
	bool star;		/* Contact: * */
	struct sb_slice raw;
};

struct sip_cseq {
	uint32_t num;
	struct sb_slice method_name;
	enum sip_method method;
};

struct sip_msg {
	const char *buf; /* start of the message in the caller's buffer */
	size_t len;	 /* bytes of this message (headers + body) */

	bool is_request;
	/* request line */
	enum sip_method method;
	struct sb_slice method_name;
	struct sb_slice ruri_raw;
	/* scheme SIP_URI_OTHER when not sip/sips/tel. Only delimited by the parser (every field is
	 * filled, no character checked); sip_check_request checks its syntax (400 Bad Request-URI,
	 * Headers in Request-URI). */
	struct sip_uri ruri;
	/* status line */
	int status;
	struct sb_slice reason;

	struct sip_hdr hdrs[SIP_MAX_HEADERS];
	size_t nhdrs;
	/* 16-byte aligned: reset() clears them with vector stores, none split across lines */
	_Alignas(16) uint16_t
	    first[SIP_HDR__COUNT]; /* index of the first header with that id, UINT16_MAX if none */
	_Alignas(16) uint16_t count[SIP_HDR__COUNT]; /* number of header lines with that id */

	/* Parsed eagerly: the transaction key and framing. */
	/* Top via-parm: sent-protocol, sent-by, branch, received and rport as sip_via_parse gives
	 * them; the other parameters are only split at ';'. sip_check_request checks the whole
	 * via-parm (400 Bad Via). */
	struct sip_via via;
	/* From/To: display, params, tag, angle, raw and of the URI only raw, scheme, scheme_name
	 * and user are filled, found by delimiters (quotes and <> respected); the display name, the
	 * header parameters and the URI are checked by sip_check_request (400 Bad From/To), so in a
	 * response they may be malformed. For the other URI fields use
	 * sip_uri_parse(m->from.uri.raw, &u). */
	struct sip_name_addr from, to;
	struct sb_slice
	    call_id; /* non-empty; its syntax is checked by sip_check_request (400 Bad Call-ID) */
	struct sip_cseq cseq;
	int32_t max_forwards; /* -1 when absent */
	bool has_content_length;
	size_t content_length;
	struct sb_slice content_type; /* trimmed media type with parameters, may be empty */
	struct sb_slice body;

	/* When parsing fails (SB_EMALFORMED) the fields above that were reached stay filled,
	 * so a 400 can still be answered; these say what went wrong. */
	int error_status;	  /* 400, 505, 413 ... or 0 */
	const char *error_reason; /* static text, e.g. "Bad CSeq" */

	/* Source address of a received request as text, filled by the transport after parsing
	 * (sip_msg_parse clears them). When src_ip is set, sip_build_response() stamps the top Via
	 * with received= and, if the request asked for it, rport= (RFC 3261 §18.2.1, RFC 3581). */
	struct sb_slice src_ip;
	struct sb_slice src_port;

	bool eager_done; /* internal: the eager header parse ran */
	/* Fields added to this struct must be cleared in reset() in msg.c (no memset there: too
	 * slow). */
};

enum sip_parse_mode {
	SIP_PARSE_DATAGRAM, /* whole message in one buffer; bytes past Content-Length ignored */
	SIP_PARSE_STREAM,   /* Content-Length required; may answer SB_EAGAIN */
};

/* Parse one message at buf. Returns bytes consumed (> 0), SB_EAGAIN (stream: need more),
 * or SB_EMALFORMED (m->error_status / error_reason say why; partial fields kept). */
int sip_msg_parse(struct sip_msg *m, const char *buf, size_t len, enum sip_parse_mode mode);
/* Notes on sip_msg_parse:
 * - Leading CR/LF bytes (keep-alives, RFC 5626 §3.5.1) are skipped and counted in the return value;
 *   a buffer of only CR/LF gives SB_EAGAIN on a stream and SB_EMALFORMED with error_status 0
 *   (nothing to answer) on a datagram. Use sip_msg_keepalive_len() to consume them on a stream.
 * - error_status 0 with SB_EMALFORMED: drop silently. Responses are never answered (discard).
 * - Bare LF line ends are accepted as well as CRLF. */
size_t sip_msg_keepalive_len(const char *buf, size_t len);

const char *sip_method_name(enum sip_method m);
enum sip_method sip_method_from(struct sb_slice name);
const char *sip_hdr_name(enum sip_hdr_id id);
/* Header id from a name as received (case-insensitive, compact forms). */
enum sip_hdr_id sip_hdr_lookup(struct sb_slice name);

/* First header with that id, or NULL. */
const struct sip_hdr *sip_msg_hdr(const struct sip_msg *m, enum sip_hdr_id id);
/* First header with that name (for extension headers such as X-Foo). */
const struct sip_hdr *sip_msg_hdr_by_name(const struct sip_msg *m, const char *name);

/* Walks every comma-separated value of every header with id (quotes and <> respected). */
struct sip_hdr_iter {
	size_t hdr;  /* next header index to look at */
	size_t off;  /* offset inside the current header value */
	bool in_hdr; /* inside a header */
};
void sip_hdr_iter_init(struct sip_hdr_iter *it);
/* Empty elements (",,") are skipped; values are trimmed of LWS. */
bool sip_hdr_next_value(const struct sip_msg *m, enum sip_hdr_id id, struct sip_hdr_iter *it,
			struct sb_slice *value);
/* Number of values sip_hdr_next_value() would return (e.g. the Via count). */
size_t sip_hdr_count_values(const struct sip_msg *m, enum sip_hdr_id id);

/* Parsers for header bodies (pure, bounded). 0 or SB_EMALFORMED. */
int sip_via_parse(struct sb_slice in, struct sip_via *out);
int sip_name_addr_parse(struct sb_slice in, struct sip_name_addr *out);
int sip_cseq_parse(struct sb_slice in, struct sip_cseq *out);

/* Find ;name[=value] in a raw parameter list such as ";a=b;lr". The name is case-insensitive.
 * value is empty for a parameter without '='; a quoted-string value keeps its quotes.
 * SWS around ';' and '=' is allowed (header params); value may be NULL. */
bool sip_param_get(struct sb_slice params, const char *name, struct sb_slice *value);

/* Does an option tag appear in Require/Supported/... (comma lists)? */
bool sip_msg_has_tag(const struct sip_msg *m, enum sip_hdr_id id, const char *tag);

#endif
