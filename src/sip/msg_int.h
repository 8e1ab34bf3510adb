/* Private helpers shared by the SIP parser files (msg.c, hdr.c, uri.c, check.c, build.c):
 * the generated character-class table and header-name lookup internals. Not for other modules. */
#ifndef SB_SIP_MSG_INT_H
#define SB_SIP_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"
#include "sip/msg.h"

/* Character classes of RFC 3261 §25.1, one bit each. */
enum {
	SIP__CC_TOKEN = 1 << 0,    /* token */
	SIP__CC_WS = 1 << 1,       /* SP HTAB CR LF */
	SIP__CC_DIGIT = 1 << 2,    /* 0-9 */
	SIP__CC_HEX = 1 << 3,      /* 0-9 a-f A-F */
	SIP__CC_ALPHA = 1 << 4,    /* a-z A-Z */
	SIP__CC_UNRES = 1 << 5,    /* unreserved = alphanum / mark */
	SIP__CC_USER = 1 << 6,     /* user-unreserved & = + $ , ; ? / */
	SIP__CC_PASS = 1 << 7,     /* & = + $ , (password extras) */
	SIP__CC_PARAM = 1 << 8,    /* param-unreserved [ ] / : & + $ */
	SIP__CC_HNV = 1 << 9,      /* hnv-unreserved [ ] / ? : + $ */
	SIP__CC_WORD = 1 << 10,    /* word (Call-ID) */
	SIP__CC_HOST = 1 << 11,    /* hostname chars: alphanum - . _ */
	SIP__CC_SCHEME = 1 << 12,  /* alphanum + - . */
	SIP__CC_TEL = 1 << 13,     /* tel number: digits hex * # - . ( ) + */
	SIP__CC_GVAL = 1 << 14,    /* generic-param value: token / host chars (: [ ]) */
};

extern const uint16_t sip__cc[256];
extern const unsigned char sip__lower[256];

static inline bool sip__is(unsigned char c, unsigned cls)
{
	return (sip__cc[c] & cls) != 0;
}

static inline bool sip__ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trim SP, HTAB, CR, LF at both ends. */
static inline struct sb_slice sip__trim(struct sb_slice s)
{
	while (s.len && sip__ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && sip__ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

/* Method names indexed by enum sip_method, generated from SIP_METHOD_MAP ("" for OTHER). */
extern const char *const sip__method_names[SIP_METHOD__COUNT];

/* Field-by-field clearing of the parse outputs. memset of these ~150-byte structs compiles to
 * `rep stos` here, which costs more than the whole parse of a short header; keep these in sync
 * with the structs in msg.h / uri.h when adding fields. */
static inline void sip__uri_clear(struct sip_uri *u)
{
	u->scheme = SIP_URI_OTHER;
	u->scheme_name = u->user = u->password = u->host = SB_SLICE_NULL;
	u->host_ipv6 = false;
	u->port = 0;
	u->params = u->headers = u->raw = SB_SLICE_NULL;
}

static inline void sip__via_clear(struct sip_via *v)
{
	v->protocol = v->transport = v->host = v->branch = v->received = SB_SLICE_NULL;
	v->port = 0;
	v->rport = false;
	v->rport_value = 0;
	v->params = v->raw = SB_SLICE_NULL;
}

static inline void sip__name_addr_clear(struct sip_name_addr *n)
{
	n->display = SB_SLICE_NULL;
	sip__uri_clear(&n->uri);
	n->params = n->tag = n->raw = SB_SLICE_NULL;
	n->angle = n->star = false;
}

/* Make sure the header-name hash table is built (thread-safe, once). */
void sip__hdr_init(void);
/* Lookup after sip__hdr_init(); name must be non-empty. */
enum sip_hdr_id sip__hdr_lookup(const char *p, size_t len);

/* End of a quoted string starting at s[i] == '"': index after the closing quote,
 * or 0 when unterminated (or a lone backslash ends the input). */
size_t sip__quoted_end(struct sb_slice s, size_t i);

/* Parse a generic-param list ";a=b ; c" (SWS allowed) and check its syntax.
 * Returns 0 or SB_EMALFORMED. Empty input is valid. */
int sip__params_check(struct sb_slice params);

/* Iterate the parameters of a raw list: *pos starts at 0. Returns false at the end or on junk. */
bool sip__param_next(struct sb_slice params, size_t *pos, struct sb_slice *name, struct sb_slice *value);

/* Validate an IPv6 address (RFC 4291 text form, RFC 5954 ABNF); no brackets. */
bool sip__ipv6_valid(struct sb_slice s);
bool sip__ipv4_valid(struct sb_slice s);

/* Case-insensitive compare of a slice with a lowercase C literal of known length. */
static inline bool sip__eq_lit(struct sb_slice s, const char *lit, size_t n)
{
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sip__lower[(unsigned char)s.p[i]] != (unsigned char)lit[i])
			return false;
	return true;
}
#define SIP__EQ(s, lit) sip__eq_lit((s), (lit), sizeof(lit) - 1)

#endif
