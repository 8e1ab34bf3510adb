/* Slice helpers: comparisons, trimming, strict decimal parsing and hashing.
 * Pure functions over borrowed bytes. */
#include "base/slice.h"

#include "base/err.h"

static inline unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool sb_slice_eq(struct sb_slice a, struct sb_slice b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool sb_slice_eq_nocase(struct sb_slice a, struct sb_slice b)
{
	if (a.len != b.len)
		return false;
	for (size_t i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool sb_slice_eq_cstr(struct sb_slice a, const char *s)
{
	return sb_slice_eq(a, sb_slice_cstr(s));
}

bool sb_slice_eq_cstr_nocase(struct sb_slice a, const char *s)
{
	return sb_slice_eq_nocase(a, sb_slice_cstr(s));
}

bool sb_slice_starts_with_nocase(struct sb_slice a, const char *prefix)
{
	size_t n = strlen(prefix);
	return a.len >= n && sb_slice_eq_nocase(sb_slice(a.p, n), sb_slice(prefix, n));
}

static inline bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct sb_slice sb_slice_trim(struct sb_slice s)
{
	while (s.len && is_ws(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len && is_ws(s.p[s.len - 1]))
		s.len--;
	return s;
}

ptrdiff_t sb_slice_find(struct sb_slice s, char c)
{
	if (!s.len)
		return -1;
	const char *q = memchr(s.p, c, s.len);
	return q ? q - s.p : -1;
}

ptrdiff_t sb_slice_find_str(struct sb_slice s, struct sb_slice needle)
{
	if (needle.len == 0)
		return 0;
	if (needle.len > s.len)
		return -1;
	for (size_t i = 0; i + needle.len <= s.len; i++)
		if (s.p[i] == needle.p[0] && memcmp(s.p + i, needle.p, needle.len) == 0)
			return (ptrdiff_t)i;
	return -1;
}

struct sb_slice sb_slice_sub(struct sb_slice s, size_t off, size_t len)
{
	if (off > s.len)
		off = s.len;
	if (len > s.len - off)
		len = s.len - off;
	return sb_slice(s.p + off, len);
}

int sb_slice_to_u64(struct sb_slice s, uint64_t max, uint64_t *out)
{
	if (s.len == 0)
		return SB_EMALFORMED;
	uint64_t v = 0;
	size_t i = 0;
	/* nineteen digits cannot overflow (10^19 - 1 < 2^64): no check for them */
	for (; i < s.len && i < 19; i++) {
		unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
		if (d > 9)
			return SB_EMALFORMED;
		v = v * 10 + d;
	}
	for (; i < s.len; i++) {
		unsigned d = (unsigned)(unsigned char)s.p[i] - '0';
		if (d > 9)
			return SB_EMALFORMED;
		if (v > (UINT64_MAX - d) / 10)
			return SB_ETOOBIG;
		v = v * 10 + d;
	}
	if (v > max)
		return SB_ETOOBIG;
	*out = v;
	return 0;
}

int sb_slice_to_u32(struct sb_slice s, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int err = sb_slice_to_u64(s, max, &v);
	if (err)
		return err;
	*out = (uint32_t)v;
	return 0;
}

size_t sb_slice_copy(struct sb_slice s, char *dst, size_t cap)
{
	if (cap == 0)
		return 0;
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	if (n)
		memcpy(dst, s.p, n);
	dst[n] = '\0';
	return n;
}

/* FNV-1a, 64 bit: short keys (Call-IDs, branches), no need for more. */
uint64_t sb_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

uint64_t sb_hash_nocase(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++) {
		h ^= lower(b[i]);
		h *= 1099511628211ULL;
	}
	return h;
}
