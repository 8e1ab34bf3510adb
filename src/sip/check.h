/* Stateless validation of received SIP messages before any state is created (RFC 3261 §8.2,
 * §8.1.3.3): which rejection a UAS sends to a request, whether a response must be discarded. */
#ifndef SB_SIP_CHECK_H
#define SB_SIP_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "sip/build.h"
#include "sip/msg.h"

/* Stricter-than-default checks (RFC 4475 leaves the choice to the element). */
enum {
	SIP_CHECK_STRICT_BRANCH =
	    1 << 0, /* 400 when the top Via branch is exactly "z9hG4bK" (4475 §3.2.1) */
	SIP_CHECK_STRICT_DATE = 1 << 1, /* 400 when a Date header is not in GMT (4475 §3.1.2.12) */
	SIP_CHECK_REGISTRAR = 1 << 2, /* REGISTER: To must be a sip/sips URI (400, 4475 §3.3.4) */
	SIP_CHECK_NO_TEL = 1 << 3,    /* 416 for a tel: Request-URI */
};

struct sip_check_policy {
	const enum sip_method *methods; /* methods we serve */
	size_t n_methods;
	const char *allow; /* value for the Allow header of 405/501, e.g. "INVITE, ACK" */
	const char *const *supported; /* option tags we support (Require → 420 otherwise) */
	size_t n_supported;
	const char *const *accept; /* body media types we accept, lowercase ("application/sdp") */
	size_t n_accept;
	unsigned flags; /* SIP_CHECK_* */
};

enum sip_check_extra {
	SIP_CHECK_EXTRA_NONE = 0,
	SIP_CHECK_EXTRA_ALLOW,		 /* 405, 501 */
	SIP_CHECK_EXTRA_UNSUPPORTED,	 /* 420 */
	SIP_CHECK_EXTRA_ACCEPT,		 /* 415 (media type) */
	SIP_CHECK_EXTRA_ACCEPT_ENCODING, /* 415 (content coding) */
};

struct sip_check_result {
	int status;		    /* 0 = go on, else the rejection to send */
	const char *reason;	    /* static phrase for the status line */
	enum sip_check_extra extra; /* which header extra_header holds */
	char extra_header[512];	    /* "Name: value\r\n" or ""; long lists are cut at an item */
};

/* Decide the stateless rejection for a successfully parsed request. Returns out->status:
 * 0, or 400 (Request-URI, top Via, From/To URI syntax the parser left unchecked, mandatory
 * header missing, CSeq method mismatch, bad Contact, strict checks),
 * 405/501 (+Allow), 416, 420 (+Unsupported listing the unknown Require tags; never for ACK
 * and CANCEL), 415 (+Accept or +Accept-Encoding), 406 (INVITE with SDP whose Accept lacks
 * application/sdp). ACK is checked like any request; callers never answer an ACK. */
int sip_check_request(const struct sip_msg *m, const struct sip_check_policy *p,
		      struct sip_check_result *out);

/* For a successfully parsed response: 0 to process it, SB_EMALFORMED to discard it silently
 * (more or fewer than one Via, status outside 100-699, mandatory header missing). */
int sip_check_response(const struct sip_msg *m);

#endif
