/* Private helpers shared by the SIP parser files (msg.c, hdr.c, uri.c, check.c, build.c):
 * the generated character-class table and header-name lookup internals. Not for other modules. */
#ifndef SB_SIP_MSG_INT_H
#define SB_SIP_MSG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

#include "base/compat.h"
#include "base/slice.h"
#include "sip/msg.h"

/* Character classes of RFC 3261 §25.1, one bit each. */
enum {
	SIP__CC_TOKEN = 1 << 0,	  /* token */
	SIP__CC_WS = 1 << 1,	  /* SP HTAB CR LF */
	SIP__CC_DIGIT = 1 << 2,	  /* 0-9 */
	SIP__CC_HEX = 1 << 3,	  /* 0-9 a-f A-F */
	SIP__CC_ALPHA = 1 << 4,	  /* a-z A-Z */
	SIP__CC_UNRES = 1 << 5,	  /* unreserved = alphanum / mark */
	SIP__CC_USER = 1 << 6,	  /* user-unreserved & = + $ , ; ? / */
	SIP__CC_PASS = 1 << 7,	  /* & = + $ , (password extras) */
	SIP__CC_PARAM = 1 << 8,	  /* param-unreserved [ ] / : & + $ */
	SIP__CC_HNV = 1 << 9,	  /* hnv-unreserved [ ] / ? : + $ */
	SIP__CC_WORD = 1 << 10,	  /* word (Call-ID) */
	SIP__CC_HOST = 1 << 11,	  /* hostname chars: alphanum - . _ */
	SIP__CC_SCHEME = 1 << 12, /* alphanum + - . */
	SIP__CC_TEL = 1 << 13,	  /* tel number: digits hex * # - . ( ) + */
	SIP__CC_GVAL = 1 << 14,	  /* generic-param value: token / host chars (: [ ]) */
	SIP__CC_PSCAN = 1 << 15,  /* ASCII but ; , " < (the eager Via parameter scan) */
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

/* Index after the run of bytes of class cls starting at i (s[i..n)). Four table lookups per step
 * when the run is long: independent loads and one branch instead of four. */
static inline size_t sip__span(const char *p, size_t i, size_t n, unsigned cls)
{
	while (i + 4 <= n &&
	       (sip__cc[(unsigned char)p[i]] & sip__cc[(unsigned char)p[i + 1]] &
		sip__cc[(unsigned char)p[i + 2]] & sip__cc[(unsigned char)p[i + 3]] & cls))
		i += 4;
	while (i < n && (sip__cc[(unsigned char)p[i]] & cls))
		i++;
	return i;
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

/* Clearing of the parse outputs by copying zero templates: memset and compound-literal zeroing
 * of these 128-200 byte structs compile to `rep stos`, several times slower than the vector
 * copy a struct assignment gives, and this runs several times per packet. */
extern const struct sip_uri sip__zero_uri;
extern const struct sip_via sip__zero_via;
extern const struct sip_name_addr sip__zero_name_addr;

static inline void sip__uri_clear(struct sip_uri *u)
{
	*u = sip__zero_uri;
}

static inline void sip__via_clear(struct sip_via *v)
{
	*v = sip__zero_via;
}

static inline void sip__name_addr_clear(struct sip_name_addr *n)
{
	*n = sip__zero_name_addr;
}

static inline uint64_t sip__ld8(const char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

/* 0x80 in each byte of w (as loaded by sip__ld8) equal to c, 0 elsewhere; exact, no carries. */
static inline uint64_t sip__byte_eq(uint64_t w, unsigned char c)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fu;
	uint64_t x = w ^ (0x0101010101010101u * c);
	return ~(((x & lo7) + lo7) | x | lo7);
}

/* Offset of the first marked byte of a non-zero sip__byte_eq mask. */
static inline size_t sip__first_marked(uint64_t mask)
{
	return (size_t)(SB_BIG_ENDIAN ? SB_CLZ64(mask) : SB_CTZ64(mask)) / 8;
}

/* Where SSE2 is there (every x86-64), a bit per byte of the 32 bytes at p equal to c, bit i for
 * p[i]: one window gives the end and the colon of most header lines without a loop. */
#if defined(__SSE2__)
#include <emmintrin.h>
#define SIP__HAVE_MASK32 1
static inline uint32_t sip__mask32(const char *p, char c)
{
	__m128i v = _mm_set1_epi8(c);
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	uint32_t ma = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a, v));
	uint32_t mb = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(b, v));
	return ma | mb << 16;
}
#else
#define SIP__HAVE_MASK32 0
#endif

/* sip__span(p, i, n, SIP__CC_PSCAN), sixteen bytes a step where SSE2 is there: a byte stops the
 * run when it is one of ; , " < or not ASCII (its high bit). The last step loads the final
 * sixteen bytes again, overlapping, and ignores those before i. */
static inline size_t sip__pscan(const char *p, size_t i, size_t n)
{
#if SIP__HAVE_MASK32
	if (n >= 16 && i < n) {
		const __m128i semi = _mm_set1_epi8(';'), comma = _mm_set1_epi8(',');
		const __m128i quote = _mm_set1_epi8('"'), lt = _mm_set1_epi8('<');
		for (;;) {
			size_t at = i + 16 <= n ? i : n - 16;
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
			__m128i stop = _mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(v, semi), _mm_cmpeq_epi8(v, comma)),
			    _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, lt)));
			uint32_t mk = (uint32_t)_mm_movemask_epi8(_mm_or_si128(stop, v));
			mk &= ~0u << (i - at);
			if (mk)
				return at + SB_CTZ32(mk);
			if (at + 16 >= n)
				return n;
			i = at + 16;
		}
	}
#endif
	return sip__span(p, i, n, SIP__CC_PSCAN);
}

/* First c in [p, lim), or NULL. Reads whole 8-byte words while they lie before end (end >= lim):
 * one branch per word, where a byte loop mispredicts its exit once per call anyway. */
static inline const char *sip__find_byte(const char *p, const char *lim, const char *end,
					 unsigned char c)
{
	while (p < lim && end - p >= 8) {
		uint64_t mk = sip__byte_eq(sip__ld8(p), c);
		if (mk) {
			p += sip__first_marked(mk);
			return p < lim ? p : NULL;
		}
		p += 8;
	}
	while (p < lim && (unsigned char)*p != c)
		p++;
	return p < lim ? p : NULL;
}

/* Header-name lookup (hdr.c), exposed so the parser can inline it. A name is read as three
 * 8-byte words (zero past its length) and case-folded; a multiplicative hash of the words, made
 * collision-free for the known names when the table is built, picks the one row to compare.
 * No probing and no loop: a fixed, short sequence of independent loads per header line. */
#define SIP__HDR_WORDS	   3
#define SIP__HDR_FAST_LEN  (8 * SIP__HDR_WORDS) /* longest name the lookup can know */
#define SIP__HDR_HASH_BITS 8
struct sip__hdr_row {
	uint64_t w[SIP__HDR_WORDS]; /* the name folded by sip__hdr_fold, zero padded; 0 = empty */
	uint64_t id;
};
extern struct sip__hdr_row sip__hdr_rows[1u << SIP__HDR_HASH_BITS];
extern uint64_t sip__hdr_mul; /* odd multiplier chosen by hdr.c for a perfect hash */
extern unsigned char sip__hdr_compact[256];
extern uint64_t sip__hdr_lenmask[SIP__HDR_FAST_LEN + 1][SIP__HDR_WORDS];

/* ASCII case folding of eight bytes at once: bit 5 is set on every byte that has bit 6 set.
 * Known names hold only letters and '-', and for them this is exact on any input byte: a byte
 * folds to a lowercase letter only from that letter in either case, and to '-' (0x2D, bit 6
 * clear) only from '-' itself, so neither CR (0x0D) nor any other byte aliases. */
static inline uint64_t sip__hdr_fold(uint64_t w)
{
	return w | ((w >> 1) & 0x2020202020202020u);
}

/* Row of a name: from its first folded word and its length only, so the lookup's dependency
 * chain is short; the row's three words are then compared in full. */
static inline unsigned sip__hdr_hash(uint64_t w0, size_t len, uint64_t mul)
{
	return (unsigned)(((w0 + len) * mul) >> (64 - SIP__HDR_HASH_BITS));
}

/* Make sure the header-name tables are built (thread-safe, once). */
void sip__hdr_init(void);

/* Lookup after sip__hdr_init(); name must be non-empty. Reads the 24 bytes at p when avail (the
 * bytes readable from p, len included) allows, else a zero-padded copy: never past p + avail. */
static inline enum sip_hdr_id sip__hdr_lookup_fast(const char *p, size_t len, size_t avail)
{
	if (len == 1)
		return (enum sip_hdr_id)sip__hdr_compact[(unsigned char)p[0]];
	if (len > SIP__HDR_FAST_LEN)
		return SIP_HDR_OTHER;
	char tmp[SIP__HDR_FAST_LEN];
	if (avail < SIP__HDR_FAST_LEN) {
		memset(tmp, 0, sizeof(tmp));
		memcpy(tmp, p, len);
		p = tmp;
	}
	const uint64_t *lm = sip__hdr_lenmask[len];
	uint64_t w0 = sip__hdr_fold(sip__ld8(p) & lm[0]);
	uint64_t w1 = sip__hdr_fold(sip__ld8(p + 8) & lm[1]);
	uint64_t w2 = sip__hdr_fold(sip__ld8(p + 16) & lm[2]);
	const struct sip__hdr_row *r = &sip__hdr_rows[sip__hdr_hash(w0, len, sip__hdr_mul)];
	uint64_t d = (w0 ^ r->w[0]) | (w1 ^ r->w[1]) | (w2 ^ r->w[2]);
	return (enum sip_hdr_id)(d ? SIP_HDR_OTHER : r->id);
}

/* End of a quoted string starting at s[i] == '"': index after the closing quote,
 * or 0 when unterminated (or a lone backslash ends the input). */
size_t sip__quoted_end(struct sb_slice s, size_t i);

/* Parse a generic-param list ";a=b ; c" (SWS allowed) and check its syntax.
 * Returns 0 or SB_EMALFORMED. Empty input is valid. */
int sip__params_check(struct sb_slice params);

/* The strict parse of the first via-parm of a Via header value (what follows a top-level ',' is
 * not looked at). 0 or SB_EMALFORMED. */
int sip__via_parse_first(struct sb_slice in, struct sip_via *out);

/* Iterate the parameters of a raw list: *pos starts at 0. Returns false at the end or on junk. */
bool sip__param_next(struct sb_slice params, size_t *pos, struct sb_slice *name,
		     struct sb_slice *value);

/* The delimiting part of sip_uri_parse, no character checked: writes raw, scheme_name, scheme
 * and, for sip/sips/tel, user (found by '@', ':' and ';') into an already cleared *out. For any
 * URI sip_uri_parse accepts these equal what it gives. SB_EMALFORMED only for a bad scheme. */
int sip__uri_bounds(struct sb_slice in, struct sip_uri *out);

/* The delimiting part of sip_uri_parse for every field it fills (the eager Request-URI): found by
 * '@', ':', '[', ';' and '?', only the host run and port digits looked at. For any URI
 * sip_uri_parse accepts these equal what it gives; for others they are some split of the text,
 * within it. Writes into an already cleared *out. SB_EMALFORMED only for a bad scheme. */
int sip__uri_split(struct sb_slice in, struct sip_uri *out);

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

/* The n (1 to 8) bytes at p as a little-endian word, zero above: two overlapping loads, not a
 * copy into a zeroed word (whose partial stores then stall the 8-byte load that reads them). */
static inline uint64_t sip__ld_n(const char *p, size_t n)
{
	uint32_t a, b;
	uint16_t c, d;
	if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, p + n - 4, 4);
		return (uint64_t)a | (uint64_t)b << (8 * (n - 4));
	}
	if (n >= 2) {
		memcpy(&c, p, 2);
		memcpy(&d, p + n - 2, 2);
		return (uint64_t)c | (uint64_t)d << (8 * (n - 2));
	}
	return (unsigned char)p[0];
}

/* SIP__EQ for a literal of 1 to 8 lowercase letters only: one folded word compare (OR 0x20 maps
 * a byte to a lowercase letter only from that letter in either case). Little-endian only. */
static inline bool sip__eq_alpha(struct sb_slice s, const char *lit, size_t n)
{
	if (SB_BIG_ENDIAN)
		return sip__eq_lit(s, lit, n);
	if (s.len != n)
		return false;
	return (sip__ld_n(s.p, n) | (0x2020202020202020u >> (64 - 8 * n))) == sip__ld_n(lit, n);
}
#define SIP__EQ_ALPHA(s, lit) sip__eq_alpha((s), (lit), sizeof(lit) - 1)

#endif
