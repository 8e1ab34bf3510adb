/* Header-name and method tables generated from SIP_HDR_MAP / SIP_METHOD_MAP, the case-insensitive
 * header lookup (compact forms included) and the RFC 3261 character-class table used by the parser. */
#include <pthread.h>

#include "sip/msg.h"
#include "sip/msg_int.h"

/* ---- character classes, computed by the compiler from the RFC 3261 §25.1 sets ---- */

#define CC_IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CC_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CC_IS_ALNUM(c) (CC_IS_ALPHA(c) || CC_IS_DIGIT(c))
#define CC_IS_HEX(c) (CC_IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CC_IN(c, a) ((c) == (a))
#define CC_MARK(c)                                                                        \
	(CC_IN(c, '-') || CC_IN(c, '_') || CC_IN(c, '.') || CC_IN(c, '!') || CC_IN(c, '~') || \
	 CC_IN(c, '*') || CC_IN(c, '\'') || CC_IN(c, '(') || CC_IN(c, ')'))
#define CC_TOKEN(c)                                                                       \
	(CC_IS_ALNUM(c) || CC_IN(c, '-') || CC_IN(c, '.') || CC_IN(c, '!') || CC_IN(c, '%') || \
	 CC_IN(c, '*') || CC_IN(c, '_') || CC_IN(c, '+') || CC_IN(c, '`') || CC_IN(c, '\'') || \
	 CC_IN(c, '~'))
#define CC_USER(c)                                                                        \
	(CC_IN(c, '&') || CC_IN(c, '=') || CC_IN(c, '+') || CC_IN(c, '$') || CC_IN(c, ',') || \
	 CC_IN(c, ';') || CC_IN(c, '?') || CC_IN(c, '/'))
#define CC_PASS(c) (CC_IN(c, '&') || CC_IN(c, '=') || CC_IN(c, '+') || CC_IN(c, '$') || CC_IN(c, ','))
#define CC_PARAM(c)                                                                       \
	(CC_IN(c, '[') || CC_IN(c, ']') || CC_IN(c, '/') || CC_IN(c, ':') || CC_IN(c, '&') || \
	 CC_IN(c, '+') || CC_IN(c, '$'))
#define CC_HNV(c)                                                                         \
	(CC_IN(c, '[') || CC_IN(c, ']') || CC_IN(c, '/') || CC_IN(c, '?') || CC_IN(c, ':') || \
	 CC_IN(c, '+') || CC_IN(c, '$'))
#define CC_WORD(c)                                                                        \
	(CC_IS_ALNUM(c) || CC_IN(c, '-') || CC_IN(c, '.') || CC_IN(c, '!') || CC_IN(c, '%') || \
	 CC_IN(c, '*') || CC_IN(c, '_') || CC_IN(c, '+') || CC_IN(c, '`') || CC_IN(c, '\'') || \
	 CC_IN(c, '~') || CC_IN(c, '(') || CC_IN(c, ')') || CC_IN(c, '<') || CC_IN(c, '>') ||  \
	 CC_IN(c, ':') || CC_IN(c, '\\') || CC_IN(c, '"') || CC_IN(c, '/') || CC_IN(c, '[') || \
	 CC_IN(c, ']') || CC_IN(c, '?') || CC_IN(c, '{') || CC_IN(c, '}') || CC_IN(c, '@'))
#define CC_HOST(c) (CC_IS_ALNUM(c) || CC_IN(c, '-') || CC_IN(c, '.') || CC_IN(c, '_'))
#define CC_SCHEME(c) (CC_IS_ALNUM(c) || CC_IN(c, '+') || CC_IN(c, '-') || CC_IN(c, '.'))
#define CC_GVAL(c) (CC_TOKEN(c) || CC_IN(c, ':') || CC_IN(c, '[') || CC_IN(c, ']'))
#define CC_TEL(c)                                                                         \
	(CC_IS_HEX(c) || CC_IN(c, '*') || CC_IN(c, '#') || CC_IN(c, '-') || CC_IN(c, '.') ||  \
	 CC_IN(c, '(') || CC_IN(c, ')') || CC_IN(c, '+'))

#define CC(c)                                                                              \
	(uint16_t)((CC_TOKEN(c) ? SIP__CC_TOKEN : 0) |                                     \
		   ((CC_IN(c, ' ') || CC_IN(c, '\t') || CC_IN(c, '\r') || CC_IN(c, '\n'))  \
			    ? SIP__CC_WS                                                   \
			    : 0) |                                                         \
		   (CC_IS_DIGIT(c) ? SIP__CC_DIGIT : 0) | (CC_IS_HEX(c) ? SIP__CC_HEX : 0) | \
		   (CC_IS_ALPHA(c) ? SIP__CC_ALPHA : 0) |                                  \
		   ((CC_IS_ALNUM(c) || CC_MARK(c)) ? SIP__CC_UNRES : 0) |                  \
		   (CC_USER(c) ? SIP__CC_USER : 0) | (CC_PASS(c) ? SIP__CC_PASS : 0) |     \
		   (CC_PARAM(c) ? SIP__CC_PARAM : 0) | (CC_HNV(c) ? SIP__CC_HNV : 0) |     \
		   (CC_WORD(c) ? SIP__CC_WORD : 0) | (CC_HOST(c) ? SIP__CC_HOST : 0) |     \
		   (CC_SCHEME(c) ? SIP__CC_SCHEME : 0) | (CC_TEL(c) ? SIP__CC_TEL : 0) |        \
		   (CC_GVAL(c) ? SIP__CC_GVAL : 0))

#define CC4(b) CC(b), CC((b) + 1), CC((b) + 2), CC((b) + 3)
#define CC16(b) CC4(b), CC4((b) + 4), CC4((b) + 8), CC4((b) + 12)
#define CC64(b) CC16(b), CC16((b) + 16), CC16((b) + 32), CC16((b) + 48)

const uint16_t sip__cc[256] = {CC64(0), CC64(64)}; /* bytes >= 128 have no class */

#define LW(c) (unsigned char)(((c) >= 'A' && (c) <= 'Z') ? (c) + 32 : (c))
#define LW4(b) LW(b), LW((b) + 1), LW((b) + 2), LW((b) + 3)
#define LW16(b) LW4(b), LW4((b) + 4), LW4((b) + 8), LW4((b) + 12)
#define LW64(b) LW16(b), LW16((b) + 16), LW16((b) + 32), LW16((b) + 48)

const unsigned char sip__lower[256] = {LW64(0), LW64(64), LW64(128), LW64(192)};

const struct sip_uri sip__zero_uri;
const struct sip_via sip__zero_via;
const struct sip_name_addr sip__zero_name_addr;

/* ---- header names ---- */

struct hdr_def {
	const char *name;
	unsigned char len;
	char compact;
};

static const struct hdr_def hdr_defs[SIP_HDR__COUNT] = {
	[SIP_HDR_OTHER] = {"", 0, 0},
#define HDR_DEF(id, name, compact) [SIP_HDR_##id] = {name, sizeof(name) - 1, compact},
	SIP_HDR_MAP(HDR_DEF)
#undef HDR_DEF
};

/* Open addressing on (length, first and last letter); built once from hdr_defs.
 * Names hold only letters and '-': a received byte matches a letter of the name when
 * (byte | 0x20) equals the lowercase letter, and a '-' only when equal, so the compare below is
 * exact for any input bytes (no aliasing of CR to '-'), eight bytes at a time. */
#define HTAB_SIZE SIP__HDR_HTAB_SIZE
#define NAME_MAX_LEN 32
#define hdr_htab sip__hdr_htab
#define hdr_lname sip__hdr_lname
#define hdr_mask sip__hdr_mask
struct sip__hdr_slot sip__hdr_htab[SIP__HDR_HTAB_SIZE];
unsigned char sip__hdr_compact[256];                 /* compact letter (any case) -> id */
char sip__hdr_lname[SIP_HDR__COUNT][NAME_MAX_LEN];   /* lowercase names, zero padded */
char sip__hdr_mask[SIP_HDR__COUNT][NAME_MAX_LEN];    /* 0x20 on letters, 0 elsewhere */
char sip__hdr_lenmask[SIP__HDR_FAST_LEN + 1][SIP__HDR_FAST_LEN]; /* 0xff on bytes < len */
#define hdr_compact sip__hdr_compact
static pthread_once_t hdr_once = PTHREAD_ONCE_INIT;
#define hdr_hash sip__hdr_hash

static void hdr_build(void)
{
	for (size_t l = 0; l <= SIP__HDR_FAST_LEN; l++)
		for (size_t i = 0; i < l; i++)
			sip__hdr_lenmask[l][i] = (char)0xff;
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		const struct hdr_def *d = &hdr_defs[id];
		for (size_t i = 0; i < d->len && i < NAME_MAX_LEN; i++) {
			unsigned char c = (unsigned char)d->name[i];
			hdr_lname[id][i] = (char)sip__lower[c];
			hdr_mask[id][i] = sip__is(c, SIP__CC_ALPHA) ? 0x20 : 0;
		}
		unsigned h = hdr_hash(d->name, d->len);
		while (hdr_htab[h].id)
			h = (h + 1) & (HTAB_SIZE - 1);
		hdr_htab[h].id = (unsigned char)id;
		hdr_htab[h].len = d->len;
		if (d->compact) {
			hdr_compact[sip__lower[(unsigned char)d->compact]] = (unsigned char)id;
			hdr_compact[(unsigned char)d->compact & ~0x20u] = (unsigned char)id;
		}
	}
}

void sip__hdr_init(void)
{
	pthread_once(&hdr_once, hdr_build);
}

static inline uint64_t ld8(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t ld4(const char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t ld2(const char *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* Overlapping word loads so no byte loop runs and nothing outside [p, p+len) is read. */
static inline bool name_eq(const char *p, size_t len, unsigned id)
{
	const char *ln = hdr_lname[id], *mk = hdr_mask[id];
	if (len >= 8) {
		size_t i = 0;
		for (; i + 8 <= len; i += 8)
			if ((ld8(p + i) | ld8(mk + i)) != ld8(ln + i))
				return false;
		size_t t = len - 8;
		return (ld8(p + t) | ld8(mk + t)) == ld8(ln + t);
	}
	if (len >= 4) {
		size_t t = len - 4;
		return (ld4(p) | ld4(mk)) == ld4(ln) && (ld4(p + t) | ld4(mk + t)) == ld4(ln + t);
	}
	/* len 2 or 3 (1 is handled by the compact table) */
	size_t t = len - 2;
	return (uint16_t)(ld2(p) | ld2(mk)) == ld2(ln) && (uint16_t)(ld2(p + t) | ld2(mk + t)) == ld2(ln + t);
}

enum sip_hdr_id sip__hdr_lookup(const char *p, size_t len)
{
	if (len == 1)
		return (enum sip_hdr_id)hdr_compact[(unsigned char)p[0]];
	if (len >= NAME_MAX_LEN)
		return SIP_HDR_OTHER;
	unsigned h = hdr_hash(p, len);
	for (;;) {
		const struct sip__hdr_slot *sl = &hdr_htab[h];
		if (!sl->id)
			return SIP_HDR_OTHER;
		if (sl->len == len && name_eq(p, len, sl->id))
			return (enum sip_hdr_id)sl->id;
		h = (h + 1) & (HTAB_SIZE - 1);
	}
}

enum sip_hdr_id sip_hdr_lookup(struct sb_slice name)
{
	if (name.len == 0)
		return SIP_HDR_OTHER;
	sip__hdr_init();
	return sip__hdr_lookup(name.p, name.len);
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	if ((int)id <= 0 || id >= SIP_HDR__COUNT)
		return "";
	return hdr_defs[id].name;
}

/* ---- methods ---- */

const char *const sip__method_names[SIP_METHOD__COUNT] = {
	[SIP_METHOD_OTHER] = "",
#define METHOD_NAME(m) [SIP_METHOD_##m] = #m,
	SIP_METHOD_MAP(METHOD_NAME)
#undef METHOD_NAME
};

static const unsigned char method_lens[SIP_METHOD__COUNT] = {
	[SIP_METHOD_OTHER] = 0,
#define METHOD_LEN(m) [SIP_METHOD_##m] = sizeof(#m) - 1,
	SIP_METHOD_MAP(METHOD_LEN)
#undef METHOD_LEN
};

/* Methods are case-sensitive (RFC 3261 §7.1). */
enum sip_method sip_method_from(struct sb_slice n)
{
	if (n.len < 3 || n.len > 9)
		return SIP_METHOD_OTHER;
	for (int m = 1; m < SIP_METHOD__COUNT; m++) {
		const char *s = sip__method_names[m];
		if (method_lens[m] == n.len && s[0] == n.p[0] && memcmp(s, n.p, n.len) == 0)
			return (enum sip_method)m;
	}
	return SIP_METHOD_OTHER;
}
