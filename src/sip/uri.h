/* SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966): zero-copy parse, compare, print,
 * and the tel → sip mapping of RFC 3261 §19.1.6. */
#ifndef SB_SIP_URI_H
#define SB_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"

enum sip_uri_scheme { SIP_URI_OTHER = 0, SIP_URI_SIP, SIP_URI_SIPS, SIP_URI_TEL };

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct sb_slice scheme_name;
	struct sb_slice user;	  /* still escaped; for tel: the telephone-subscriber number */
	struct sb_slice password; /* still escaped */
	struct sb_slice host;	  /* IPv6 references without the brackets */
	bool host_ipv6;
	uint16_t port;		 /* 0 when absent */
	struct sb_slice params;	 /* raw ";a=b;c" (for tel: the parameters after the number) */
	struct sb_slice headers; /* raw after '?', without the '?' */
	struct sb_slice raw;
};

/* Parse a whole URI (no surrounding <> or spaces allowed). Schemes other than sip/sips/tel
 * parse as SIP_URI_OTHER with only scheme_name and raw set. 0 or SB_EMALFORMED. */
int sip_uri_parse(struct sb_slice in, struct sip_uri *out);

/* Percent-decode into out (cap bytes, no NUL added); returns length or SB_EMALFORMED/SB_ETOOBIG. */
int sip_unescape(struct sb_slice in, char *out, size_t cap);

/* Compare per RFC 3261 §19.1.4 (user and password case-sensitive after unescaping,
 * host case-insensitive, parameters compared as the RFC says for the common ones). */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* Print "sip:user@host:port;params" (headers omitted); IPv6 hosts are bracketed. */
void sip_uri_print(struct sb_buf *b, const struct sip_uri *u);

/* RFC 3261 §19.1.6: tel:+1-212-555-0101;phone-context=x →
 * sip:+1-212-555-0101;phone-context=x@host;user=phone. host (and port, 0 for none) name the gateway
 * the call goes to. */
void sip_uri_tel_to_sip(struct sb_buf *b, const struct sip_uri *tel, struct sb_slice host,
			uint16_t port);

#endif
