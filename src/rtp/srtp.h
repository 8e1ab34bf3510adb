/* SRTP with SDES keys (RFC 3711, RFC 4568) over libsrtp2: the a=crypto attribute's key text,
 * and protect/unprotect of RTP and RTCP in place. One context per direction. */
#ifndef SB_RTP_SRTP_H
#define SB_RTP_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rtp_srtp_suite {
	RTP_SRTP_NONE = 0,
	RTP_SRTP_AES_CM_128_HMAC_SHA1_80,
	RTP_SRTP_AES_CM_128_HMAC_SHA1_32,
};

#define RTP_SRTP_KEY_LEN     30 /* 16-byte master key + 14-byte salt */
#define RTP_SRTP_MAX_TRAILER 16 /* bytes protect may add (auth tag, RTCP index) */

/* "AES_CM_128_HMAC_SHA1_80" etc. -> suite; RTP_SRTP_NONE when unknown. */
enum rtp_srtp_suite rtp_srtp_suite_from_name(const char *name, size_t len);
const char *rtp_srtp_suite_name(enum rtp_srtp_suite s);

/* The key-params of an a=crypto line: "inline:<base64 of 30 bytes>[|lifetime][|MKI:len]".
 * 0 or SB_EMALFORMED (bad base64, wrong length, MKI given: not supported). */
int rtp_srtp_key_parse(const char *text, size_t len, uint8_t key[RTP_SRTP_KEY_LEN]);
/* A new random key and its "inline:..." text (NUL-terminated; cap >= 48). 0 or SB_EINVAL. */
int rtp_srtp_key_new(uint8_t key[RTP_SRTP_KEY_LEN], char *text, size_t cap);

struct rtp_srtp; /* one direction: outbound (protect) or inbound (unprotect) */

/* 0, SB_EINVAL (suite) or SB_ENOMEM. libsrtp is initialised once per process (thread-safe). */
int rtp_srtp_new(struct rtp_srtp **out, enum rtp_srtp_suite suite,
		 const uint8_t key[RTP_SRTP_KEY_LEN], bool outbound);
void rtp_srtp_free(struct rtp_srtp *s);
/* In place; *len grows by up to RTP_SRTP_MAX_TRAILER (cap is the buffer size).
 * 0, SB_ETOOBIG (cap) or SB_EIO. */
int rtp_srtp_protect(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int rtp_srtp_protect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len, size_t cap);
/* In place; *len shrinks. 0, SB_EAUTH (authentication or replay failure) or SB_EMALFORMED. */
int rtp_srtp_unprotect(struct rtp_srtp *s, uint8_t *buf, size_t *len);
int rtp_srtp_unprotect_rtcp(struct rtp_srtp *s, uint8_t *buf, size_t *len);

#endif
