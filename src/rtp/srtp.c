/* SRTP/SRTCP for one direction of a media leg over libsrtp2, and the SDES key text of
 * RFC 4568 (inline: base64 key || salt). Owns the process-wide srtp_init. */
#include "rtp/srtp.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <srtp2/srtp.h>

#include "base/err.h"
#include "base/rand.h"

#define B64_KEY_LEN 40 /* 30 bytes, no padding */

struct rtp_srtp {
	srtp_t ctx;
	enum rtp_srtp_suite suite;
	bool outbound;
};

static const char *const suite_names[] = {
    [RTP_SRTP_NONE] = "NONE",
    [RTP_SRTP_AES_CM_128_HMAC_SHA1_80] = "AES_CM_128_HMAC_SHA1_80",
    [RTP_SRTP_AES_CM_128_HMAC_SHA1_32] = "AES_CM_128_HMAC_SHA1_32",
};

enum rtp_srtp_suite rtp_srtp_suite_from_name(const char *name, size_t len)
{
	for (size_t i = RTP_SRTP_NONE + 1; i < sizeof(suite_names) / sizeof(suite_names[0]); i++)
		if (strlen(suite_names[i]) == len && memcmp(suite_names[i], name, len) == 0)
			return (enum rtp_srtp_suite)i;
	return RTP_SRTP_NONE;
}

const char *rtp_srtp_suite_name(enum rtp_srtp_suite s)
{
	if ((size_t)s >= sizeof(suite_names) / sizeof(suite_names[0]))
		return suite_names[RTP_SRTP_NONE];
	return suite_names[s];
}

/* ---- base64 (RFC 4648 §4, the alphabet RFC 4568 uses) ---- */

static const char b64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Writes exactly out_len bytes or fails: trailing '=' allowed, nothing else, no spare bits. */
static int b64_decode_exact(const char *s, size_t len, uint8_t *out, size_t out_len)
{
	while (len > 0 && s[len - 1] == '=')
		len--;
	if ((len * 6) / 8 != out_len || len % 4 == 1)
		return SB_EMALFORMED;
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_val(s[i]);
		if (v < 0)
			return SB_EMALFORMED;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (acc & ((1u << bits) - 1)) /* non-canonical: bits left over */
		return SB_EMALFORMED;
	return 0;
}

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64_alpha[v >> 18 & 63];
		out[o++] = b64_alpha[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64_alpha[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64_alpha[v & 63] : '=';
	}
	return o;
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int rtp_srtp_key_parse(const char *text, size_t len, uint8_t key[RTP_SRTP_KEY_LEN])
{
	static const char method[] = "inline:";
	const size_t mlen = sizeof(method) - 1;
	if (len < mlen || strncasecmp(text, method, mlen) != 0)
		return SB_EMALFORMED;
	const char *p = text + mlen, *end = text + len;
	const char *bar = memchr(p, '|', (size_t)(end - p));
	const char *kend = bar ? bar : end;
	uint8_t tmp[RTP_SRTP_KEY_LEN];
	if (b64_decode_exact(p, (size_t)(kend - p), tmp, sizeof(tmp)) != 0)
		return SB_EMALFORMED;
	/* optional "|lifetime" (decimal or 2^n), then "|MKI:length" which we do not support */
	for (unsigned field = 0; bar; field++) {
		const char *f = bar + 1;
		bar = memchr(f, '|', (size_t)(end - f));
		size_t flen = (size_t)((bar ? bar : end) - f);
		bool lifetime = all_digits(f, flen) || (flen > 2 && f[0] == '2' && f[1] == '^' &&
							all_digits(f + 2, flen - 2));
		if (field > 0 || !lifetime) {
			memset(tmp, 0, sizeof(tmp));
			return SB_EMALFORMED;
		}
	}
	memcpy(key, tmp, sizeof(tmp));
	memset(tmp, 0, sizeof(tmp));
	return 0;
}

int rtp_srtp_key_new(uint8_t key[RTP_SRTP_KEY_LEN], char *text, size_t cap)
{
	static const char method[] = "inline:";
	const size_t mlen = sizeof(method) - 1;
	if (cap < mlen + B64_KEY_LEN + 1)
		return SB_EINVAL;
	int err = sb_random_bytes(key, RTP_SRTP_KEY_LEN);
	if (err)
		return err;
	memcpy(text, method, mlen);
	size_t n = b64_encode(key, RTP_SRTP_KEY_LEN, text + mlen);
	text[mlen + n] = '\0';
	return 0;
}

/* ---- libsrtp ---- */

static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static srtp_err_status_t srtp_init_status = srtp_err_status_init_fail;

static void srtp_init_once(void)
{
	srtp_init_status = srtp_init();
}

int rtp_srtp_new(struct rtp_srtp **out, enum rtp_srtp_suite suite,
		 const uint8_t key[RTP_SRTP_KEY_LEN], bool outbound)
{
	if (suite != RTP_SRTP_AES_CM_128_HMAC_SHA1_80 && suite != RTP_SRTP_AES_CM_128_HMAC_SHA1_32)
		return SB_EINVAL;
	if (pthread_once(&srtp_once, srtp_init_once) != 0 || srtp_init_status != srtp_err_status_ok)
		return SB_EIO;

	struct rtp_srtp *s = calloc(1, sizeof(*s));
	if (!s)
		return SB_ENOMEM;
	s->suite = suite;
	s->outbound = outbound;

	/* libsrtp derives the session keys in srtp_create and keeps no pointer to this copy */
	unsigned char master[RTP_SRTP_KEY_LEN];
	memcpy(master, key, sizeof(master));
	srtp_policy_t policy;
	memset(&policy, 0, sizeof(policy));
	if (suite == RTP_SRTP_AES_CM_128_HMAC_SHA1_80)
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
	else
		srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&policy.rtp);
	/* RFC 4568 §6.2: SRTCP keeps the 80-bit tag with either suite */
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
	policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
	policy.key = master;
	policy.window_size = 128;
	policy.allow_repeat_tx = 0;
	policy.next = NULL;
	srtp_err_status_t st = srtp_create(&s->ctx, &policy);
	memset(master, 0, sizeof(master));
	if (st != srtp_err_status_ok) {
		free(s);
		return st == srtp_err_status_alloc_fail ? SB_ENOMEM : SB_EINVAL;
	}
	*out = s;
	return 0;
}

void rtp_srtp_free(struct rtp_srtp *s)
{
	if (!s)
		return;
	srtp_dealloc(s->ctx);
	free(s);
}

static size_t trailer(const struct rtp_srtp *s, bool rtcp)
{
	if (rtcp)
		return 4 + 10; /* E flag and SRTCP index, 80-bit tag */
	return s->suite == RTP_SRTP_AES_CM_128_HMAC_SHA1_32 ? 4 : 10;
}

static int protect(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t cap, bool rtcp)
{
	if (!s->outbound)
		return SB_EIO;
	if (*len > cap || cap - *len < trailer(s, rtcp) || *len > INT_MAX - RTP_SRTP_MAX_TRAILER)
		return SB_ETOOBIG;
	int n = (int)*len;
	srtp_err_status_t st =
	    rtcp ? srtp_protect_rtcp(s->ctx, buf, &n) : srtp_protect(s->ctx, buf, &n);
	if (st != srtp_err_status_ok)
		return SB_EIO;
	*len = (size_t)n;
	return 0;
}

static int unprotect(struct rtp_srtp *s, uint8_t *buf, size_t *len, bool rtcp)
{
	if (s->outbound || *len > INT_MAX)
		return SB_EMALFORMED;
	int n = (int)*len;
	srtp_err_status_t st =
	    rtcp ? srtp_unprotect_rtcp(s->ctx, buf, &n) : srtp_unprotect(s->ctx, buf, &n);
	switch (st) {
	case srtp_err_status_ok:
		*len = (size_t)n;
		return 0;
	case srtp_err_status_auth_fail:
	case srtp_err_status_replay_fail:
	case srtp_err_status_replay_old:
		return SB_EAUTH;
	default:
		return SB_EMALFORMED;
	}
}

int rtp_srtp_protect(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
	return protect(s, buf, len, cap, false);
}

int rtp_srtp_protect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
	return protect(s, buf, len, cap, true);
}

int rtp_srtp_unprotect(struct rtp_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, buf, len, false);
}

int rtp_srtp_unprotect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len)
{
	return unprotect(s, buf, len, true);
}
