/* Header-name and method tables generated from SIP_HDR_MAP / SIP_METHOD_MAP, the case-insensitive
 * header lookup (compact forms included) and the RFC 3261 character-class table used by the parser.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "sip/msg.h"
#include "sip/msg_int.h"

/* ---- character classes, computed by the compiler from the RFC 3261 §25.1 sets ---- */

#define CC_IS_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CC_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define CC_IS_ALNUM(c) (CC_IS_ALPHA(c) || CC_IS_DIGIT(c))
#define CC_IS_HEX(c)   (CC_IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))
#define CC_IN(c, a)    ((c) == (a))
#define CC_MARK(c)                                                                                 \
	(CC_IN(c, '-') || CC_IN(c, '_') || CC_IN(c, '.') || CC_IN(c, '!') || CC_IN(c, '~') ||      \
	 CC_IN(c, '*') || CC_IN(c, '\'') || CC_IN(c, '(') || CC_IN(c, ')'))
#define CC_TOKEN(c)                                                                                \
	(CC_IS_ALNUM(c) || CC_IN(c, '-') || CC_IN(c, '.') || CC_IN(c, '!') || CC_IN(c, '%') ||     \
	 CC_IN(c, '*') || CC_IN(c, '_') || CC_IN(c, '+') || CC_IN(c, '`') || CC_IN(c, '\'') ||     \
	 CC_IN(c, '~'))
#define CC_USER(c)                                                                                 \
	(CC_IN(c, '&') || CC_IN(c, '=') || CC_IN(c, '+') || CC_IN(c, '$') || CC_IN(c, ',') ||      \
	 CC_IN(c, ';') || CC_IN(c, '?') || CC_IN(c, '/'))
#define CC_PASS(c)                                                                                 \
	(CC_IN(c, '&') || CC_IN(c, '=') || CC_IN(c, '+') || CC_IN(c, '$') || CC_IN(c, ','))
#define CC_PARAM(c)                                                                                \
	(CC_IN(c, '[') || CC_IN(c, ']') || CC_IN(c, '/') || CC_IN(c, ':') || CC_IN(c, '&') ||      \
	 CC_IN(c, '+') || CC_IN(c, '$'))
#define CC_HNV(c)                                                                                  \
	(CC_IN(c, '[') || CC_IN(c, ']') || CC_IN(c, '/') || CC_IN(c, '?') || CC_IN(c, ':') ||      \
	 CC_IN(c, '+') || CC_IN(c, '$'))
#define CC_WORD(c)                                                                                 \
	(CC_IS_ALNUM(c) || CC_IN(c, '-') || CC_IN(c, '.') || CC_IN(c, '!') || CC_IN(c, '%') ||     \
	 CC_IN(c, '*') || CC_IN(c, '_') || CC_IN(c, '+') || CC_IN(c, '`') || CC_IN(c, '\'') ||     \
	 CC_IN(c, '~') || CC_IN(c, '(') || CC_IN(c, ')') || CC_IN(c, '<') || CC_IN(c, '>') ||      \
	 CC_IN(c, ':') || CC_IN(c, '\\') || CC_IN(c, '"') || CC_IN(c, '/') || CC_IN(c, '[') ||     \
	 CC_IN(c, ']') || CC_IN(c, '?') || CC_IN(c, '{') || CC_IN(c, '}') || CC_IN(c, '@'))
#define CC_HOST(c)   (CC_IS_ALNUM(c) || CC_IN(c, '-') || CC_IN(c, '.') || CC_IN(c, '_'))
#define CC_SCHEME(c) (CC_IS_ALNUM(c) || CC_IN(c, '+') || CC_IN(c, '-') || CC_IN(c, '.'))
#define CC_GVAL(c)   (CC_TOKEN(c) || CC_IN(c, ':') || CC_IN(c, '[') || CC_IN(c, ']'))
#define CC_TEL(c)                                                                                  \
	(CC_IS_HEX(c) || CC_IN(c, '*') || CC_IN(c, '#') || CC_IN(c, '-') || CC_IN(c, '.') ||       \
	 CC_IN(c, '(') || CC_IN(c, ')') || CC_IN(c, '+'))

#define CC_PSCAN(c) (!CC_IN(c, ';') && !CC_IN(c, ',') && !CC_IN(c, '"') && !CC_IN(c, '<'))

#define CC(c)                                                                                      \
	(uint16_t)((CC_TOKEN(c) ? SIP__CC_TOKEN : 0) |                                             \
		   ((CC_IN(c, ' ') || CC_IN(c, '\t') || CC_IN(c, '\r') || CC_IN(c, '\n'))          \
			? SIP__CC_WS                                                               \
			: 0) |                                                                     \
		   (CC_IS_DIGIT(c) ? SIP__CC_DIGIT : 0) | (CC_IS_HEX(c) ? SIP__CC_HEX : 0) |       \
		   (CC_IS_ALPHA(c) ? SIP__CC_ALPHA : 0) |                                          \
		   ((CC_IS_ALNUM(c) || CC_MARK(c)) ? SIP__CC_UNRES : 0) |                          \
		   (CC_USER(c) ? SIP__CC_USER : 0) | (CC_PASS(c) ? SIP__CC_PASS : 0) |             \
		   (CC_PARAM(c) ? SIP__CC_PARAM : 0) | (CC_HNV(c) ? SIP__CC_HNV : 0) |             \
		   (CC_WORD(c) ? SIP__CC_WORD : 0) | (CC_HOST(c) ? SIP__CC_HOST : 0) |             \
		   (CC_SCHEME(c) ? SIP__CC_SCHEME : 0) | (CC_TEL(c) ? SIP__CC_TEL : 0) |           \
		   (CC_GVAL(c) ? SIP__CC_GVAL : 0) | (CC_PSCAN(c) ? SIP__CC_PSCAN : 0))

#define CC4(b)	CC(b), CC((b) + 1), CC((b) + 2), CC((b) + 3)
#define CC16(b) CC4(b), CC4((b) + 4), CC4((b) + 8), CC4((b) + 12)
#define CC64(b) CC16(b), CC16((b) + 16), CC16((b) + 32), CC16((b) + 48)

const uint16_t sip__cc[256] = {CC64(0), CC64(64)}; /* bytes >= 128 have no class */

#define LW(c)	(unsigned char)(((c) >= 'A' && (c) <= 'Z') ? (c) + 32 : (c))
#define LW4(b)	LW(b), LW((b) + 1), LW((b) + 2), LW((b) + 3)
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

static const struct hdr_def hdr_defs[SIP_HDR__COUNT] = {[SIP_HDR_OTHER] = {"", 0, 0},
#define HDR_DEF(id, name, compact) [SIP_HDR_##id] = {name, sizeof(name) - 1, compact},
							SIP_HDR_MAP(HDR_DEF)
#undef HDR_DEF
};

/* Every known name fits the word compare of sip__hdr_lookup_fast. */
#define HDR_LEN_CHECK(id, name, compact)                                                           \
	_Static_assert(sizeof(name) - 1 >= 2 && sizeof(name) - 1 <= SIP__HDR_FAST_LEN,             \
		       "header name " name " does not fit the lookup");
SIP_HDR_MAP(HDR_LEN_CHECK)
#undef HDR_LEN_CHECK

struct sip__hdr_row sip__hdr_rows[1u << SIP__HDR_HASH_BITS];
uint64_t sip__hdr_mul;
unsigned char sip__hdr_compact[256]; /* compact letter (any case) -> id */
uint64_t sip__hdr_lenmask[SIP__HDR_FAST_LEN + 1][SIP__HDR_WORDS]; /* 0xff on bytes < len */
static pthread_once_t hdr_once = PTHREAD_ONCE_INIT;
static atomic_bool hdr_ready;

static void hdr_words(const struct hdr_def *d, uint64_t w[SIP__HDR_WORDS])
{
	char b[SIP__HDR_FAST_LEN] = {0};
	memcpy(b, d->name, d->len);
	for (size_t i = 0; i < SIP__HDR_WORDS; i++)
		w[i] = sip__hdr_fold(sip__ld8(b + 8 * i));
}

/* Does mul give every known name its own row? Fills the rows when it does. */
static bool hdr_try(uint64_t mul)
{
	memset(sip__hdr_rows, 0, sizeof(sip__hdr_rows));
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		uint64_t w[SIP__HDR_WORDS];
		hdr_words(&hdr_defs[id], w);
		struct sip__hdr_row *r = &sip__hdr_rows[sip__hdr_hash(w[0], hdr_defs[id].len, mul)];
		if (r->id)
			return false;
		memcpy(r->w, w, sizeof(r->w));
		r->id = (uint64_t)id;
	}
	return true;
}

static void hdr_build(void)
{
	for (size_t l = 0; l <= SIP__HDR_FAST_LEN; l++) {
		unsigned char m[SIP__HDR_FAST_LEN] = {0};
		memset(m, 0xff, l);
		memcpy(sip__hdr_lenmask[l], m, sizeof(m));
	}
	/* Deterministic search for a perfect hash: with ~50 names in 256 rows about one odd
	 * multiplier in a hundred works. test_hdr_lookup checks every name maps back. */
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (unsigned tries = 0; tries < 100000; tries++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		if (hdr_try(x | 1)) {
			sip__hdr_mul = x | 1;
			break;
		}
	}
	for (int id = 1; id < SIP_HDR__COUNT; id++) {
		char c = hdr_defs[id].compact;
		if (c) {
			sip__hdr_compact[sip__lower[(unsigned char)c]] = (unsigned char)id;
			sip__hdr_compact[(unsigned char)c & ~0x20u] = (unsigned char)id;
		}
	}
}

void sip__hdr_init(void)
{
	/* the flag spares the common case the call into pthread_once */
	if (!atomic_load_explicit(&hdr_ready, memory_order_acquire)) {
		pthread_once(&hdr_once, hdr_build);
		atomic_store_explicit(&hdr_ready, true, memory_order_release);
	}
}

enum sip_hdr_id sip_hdr_lookup(struct sb_slice name)
{
	if (name.len == 0)
		return SIP_HDR_OTHER;
	sip__hdr_init();
	return sip__hdr_lookup_fast(name.p, name.len, name.len);
}

const char *sip_hdr_name(enum sip_hdr_id id)
{
	if ((int)id <= 0 || id >= SIP_HDR__COUNT)
		return "";
	return hdr_defs[id].name;
}

/* ---- methods ---- */

const char *const sip__method_names[SIP_METHOD__COUNT] = {[SIP_METHOD_OTHER] = "",
#define METHOD_NAME(m) [SIP_METHOD_##m] = #m,
							  SIP_METHOD_MAP(METHOD_NAME)
#undef METHOD_NAME
};

static inline bool method_is(struct sb_slice n, const char *lit, size_t len)
{
	if (n.len != len)
		return false;
	if (len <= 8)
		return sip__ld_n(n.p, len) == sip__ld_n(lit, len);
	return memcmp(n.p, lit, len) == 0;
}

/* Methods are case-sensitive (RFC 3261 §7.1). One word compare per method of the same length:
 * the literal's word is folded into a constant. */
enum sip_method sip_method_from(struct sb_slice n)
{
#define METHOD_TRY(m)                                                                              \
	if (method_is(n, #m, sizeof(#m) - 1))                                                      \
		return SIP_METHOD_##m;
	SIP_METHOD_MAP(METHOD_TRY)
#undef METHOD_TRY
	return SIP_METHOD_OTHER;
}
