/* getrandom(2) behind a small per-thread pool so a tag costs no syscall. */
#include "base/rand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "base/compat.h"
#include "base/err.h"

static SB_THREAD_LOCAL unsigned char pool[512];
static SB_THREAD_LOCAL size_t pool_left;

static int fill_raw(void *buf, size_t len)
{
	unsigned char *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SB_EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sb_random_bytes(void *buf, size_t len)
{
	if (len > sizeof(pool))
		return fill_raw(buf, len);
	unsigned char *out = buf;
	while (len) {
		if (!pool_left) {
			if (fill_raw(pool, sizeof(pool)))
				return SB_EIO;
			pool_left = sizeof(pool);
		}
		size_t n = len < pool_left ? len : pool_left;
		memcpy(out, pool + sizeof(pool) - pool_left, n);
		memset(pool + sizeof(pool) - pool_left, 0, n);
		pool_left -= n;
		out += n;
		len -= n;
	}
	return 0;
}

uint32_t sb_random_u32(void)
{
	uint32_t v = 0;
	(void)sb_random_bytes(&v, sizeof(v));
	return v;
}

void sb_random_token(char *out, size_t len)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	unsigned char raw[64];
	while (len) {
		size_t n = len < sizeof(raw) ? len : sizeof(raw);
		(void)sb_random_bytes(raw, n);
		for (size_t i = 0; i < n; i++)
			out[i] =
			    alphabet[raw[i] % 36]; /* bias of 256 mod 36 is harmless for tags */
		out += n;
		len -= n;
	}
}
