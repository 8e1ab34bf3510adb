/* The non-owning string view used everywhere: struct sb_slice {p, len}.
 * Owns comparison, trimming and strict number parsing on slices; never writes to bytes. */
#ifndef SB_BASE_SLICE_H
#define SB_BASE_SLICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sb_slice {
	const char *p;
	size_t len;
};

#define SB_SLICE_FMT	  "%.*s"
#define SB_SLICE_ARG(s)	  (int)(s).len, (s).p
#define SB_SLICE_LIT(lit) ((struct sb_slice){(lit), sizeof(lit) - 1})
#define SB_SLICE_NULL	  ((struct sb_slice){NULL, 0})

static inline struct sb_slice sb_slice(const char *p, size_t len)
{
	return (struct sb_slice){p, len};
}

static inline struct sb_slice sb_slice_cstr(const char *s)
{
	return (struct sb_slice){s, s ? strlen(s) : 0};
}

static inline bool sb_slice_empty(struct sb_slice s)
{
	return s.len == 0;
}

bool sb_slice_eq(struct sb_slice a, struct sb_slice b);
bool sb_slice_eq_nocase(struct sb_slice a, struct sb_slice b);
bool sb_slice_eq_cstr(struct sb_slice a, const char *s);
bool sb_slice_eq_cstr_nocase(struct sb_slice a, const char *s);
bool sb_slice_starts_with_nocase(struct sb_slice a, const char *prefix);

/* Strip SP, HTAB, CR and LF at both ends. */
struct sb_slice sb_slice_trim(struct sb_slice s);
/* Index of the first c, or -1 (as ptrdiff_t) when absent. */
ptrdiff_t sb_slice_find(struct sb_slice s, char c);
/* Index of the first occurrence of needle, or -1. */
ptrdiff_t sb_slice_find_str(struct sb_slice s, struct sb_slice needle);
/* Sub-slice from off (clamped) of at most len bytes. */
struct sb_slice sb_slice_sub(struct sb_slice s, size_t off, size_t len);

/* Decimal digits only (no sign, no space), value <= max; 0 or SB_EMALFORMED / SB_ETOOBIG. */
int sb_slice_to_u64(struct sb_slice s, uint64_t max, uint64_t *out);
int sb_slice_to_u32(struct sb_slice s, uint32_t max, uint32_t *out);

/* Copy into a NUL-terminated buffer of size cap (truncates); returns bytes copied. */
size_t sb_slice_copy(struct sb_slice s, char *dst, size_t cap);

uint64_t sb_hash(const void *p, size_t len);
uint64_t sb_hash_nocase(const void *p, size_t len);

#endif
