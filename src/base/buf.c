/* Growable buffer with optional caller storage and a sticky error.
 * Used by message printers; never aborts on allocation failure. */
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

void sb_buf_init(struct sb_buf *b, char *storage, size_t storage_cap)
{
	b->p = storage;
	b->len = 0;
	b->cap = storage ? storage_cap : 0;
	b->limit = 0;
	b->err = 0;
	b->fixed = storage;
	b->fixed_cap = storage ? storage_cap : 0;
}

void sb_buf_free(struct sb_buf *b)
{
	if (b->p && b->p != b->fixed)
		free(b->p);
	b->p = b->fixed;
	b->cap = b->fixed_cap;
	b->len = 0;
}

void sb_buf_reset(struct sb_buf *b)
{
	b->len = 0;
	b->err = 0;
}

int sb_buf_reserve(struct sb_buf *b, size_t extra)
{
	if (b->err)
		return b->err;
	if (extra > SIZE_MAX / 2 - b->len) {
		b->err = SB_ETOOBIG;
		return b->err;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	if (b->limit && need > b->limit + 1) {
		b->err = SB_ETOOBIG;
		return b->err;
	}
	size_t ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	char *np;
	if (b->p && b->p != b->fixed) {
		np = realloc(b->p, ncap);
	} else {
		np = malloc(ncap);
		if (np && b->len)
			memcpy(np, b->p, b->len);
	}
	if (!np) {
		b->err = SB_ENOMEM;
		return b->err;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void sb_buf_append(struct sb_buf *b, const void *p, size_t len)
{
	if (sb_buf_reserve(b, len))
		return;
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void sb_buf_append_slice(struct sb_buf *b, struct sb_slice s)
{
	sb_buf_append(b, s.p, s.len);
}

void sb_buf_append_cstr(struct sb_buf *b, const char *s)
{
	sb_buf_append(b, s, strlen(s));
}

void sb_buf_append_char(struct sb_buf *b, char c)
{
	sb_buf_append(b, &c, 1);
}

void sb_buf_append_u64(struct sb_buf *b, unsigned long long v)
{
	char tmp[24];
	size_t n = 0;
	do {
		tmp[sizeof(tmp) - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_buf_append(b, tmp + sizeof(tmp) - n, n);
}

void sb_buf_vprintf(struct sb_buf *b, const char *fmt, va_list ap)
{
	if (b->err)
		return;
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = SB_EINVAL;
		return;
	}
	if ((size_t)n >= room) {
		if (sb_buf_reserve(b, (size_t)n))
			return;
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void sb_buf_printf(struct sb_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_buf_vprintf(b, fmt, ap);
	va_end(ap);
}
