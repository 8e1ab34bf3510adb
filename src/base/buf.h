/* Growable byte buffer for building outgoing messages.
 * Owns its storage; an allocation failure is sticky (err) so builders check once at the end. */
#ifndef SB_BASE_BUF_H
#define SB_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/compat.h"
#include "base/slice.h"

struct sb_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t limit; /* 0 = no limit */
	int err;      /* first error (SB_ENOMEM, SB_ETOOBIG), sticky */
	char *fixed;  /* caller storage used before growing, not freed */
	size_t fixed_cap;
};

/* Start empty; optional caller storage (stack buffer) used until it overflows. */
void sb_buf_init(struct sb_buf *b, char *storage, size_t storage_cap);
void sb_buf_free(struct sb_buf *b);
void sb_buf_reset(struct sb_buf *b);
int sb_buf_reserve(struct sb_buf *b, size_t extra);
void sb_buf_append(struct sb_buf *b, const void *p, size_t len);
void sb_buf_append_slice(struct sb_buf *b, struct sb_slice s);
void sb_buf_append_cstr(struct sb_buf *b, const char *s);
void sb_buf_append_char(struct sb_buf *b, char c);
void sb_buf_append_u64(struct sb_buf *b, unsigned long long v);
void sb_buf_printf(struct sb_buf *b, const char *fmt, ...) SB_PRINTF(2, 3);
void sb_buf_vprintf(struct sb_buf *b, const char *fmt, va_list ap) SB_PRINTF(2, 0);
static inline struct sb_slice sb_buf_slice(const struct sb_buf *b)
{
	return sb_slice(b->p, b->len);
}

#endif
