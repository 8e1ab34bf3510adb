/* SIP digest authentication (RFC 3261 §22, RFC 7616, RFC 8760; RFC 2617/2069 compatibility):
 * parsing of challenges/credentials, stateless HMAC nonces, verification and client answers. */
#ifndef SB_SIP_DIGEST_H
#define SB_SIP_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/slice.h"
#include "sip/msg.h"

enum sip_digest_alg {
	SIP_DIGEST_MD5,
	SIP_DIGEST_MD5_SESS,
	SIP_DIGEST_SHA256,
	SIP_DIGEST_SHA256_SESS,
	SIP_DIGEST_SHA512_256,
	SIP_DIGEST_SHA512_256_SESS,
	SIP_DIGEST_ALG__COUNT
};

/* "MD5", "SHA-256-sess" ... */
const char *sip_digest_alg_name(enum sip_digest_alg a);
/* Case-insensitive; an empty name is MD5 (RFC 2617 default). 0 or SB_EUNSUPPORTED. */
int sip_digest_alg_from(struct sb_slice name, enum sip_digest_alg *out);

/* ---- parsing ---- */

#define SIP_DIGEST_MAX_VALUE 1024 /* longest parameter value accepted */
#define SIP_DIGEST_SCRATCH   2048 /* room for unescaped quoted values of one challenge */

/*
 * One challenge (WWW-/Proxy-Authenticate) or one credentials value (Authorization /
 * Proxy-Authorization). Slices point into the parsed input, or into scratch when a quoted
 * value held backslash escapes; so the struct must outlive neither. Absent → empty slice.
 */
struct sip_digest_params {
	struct sb_slice scheme; /* "Digest", "Basic" ... as received */
	struct sb_slice realm, nonce, opaque, algorithm, qop, domain;
	struct sb_slice username, uri, response, cnonce, nc;
	bool stale;	     /* stale=true */
	bool userhash;	     /* userhash=true (RFC 7616; not supported, refused) */
	bool qop_quoted;     /* qop was a quoted-string (challenge form) */
	unsigned dup_params; /* known parameters that appeared more than once */
	char scratch[SIP_DIGEST_SCRATCH];
	size_t scratch_used;
};

/*
 * Parse the challenge or credentials starting at *off in a header value; on success *off moves
 * past it (and its separating comma), so a value holding several challenges
 * ("Digest realm=a, nonce=b, Digest realm=c ...") is walked by calling again until *off ==
 * value.len. Quoted strings keep escapes out (\x → x), names are case-insensitive, unknown
 * parameters are skipped. 0, SB_EMALFORMED (lone quote, missing comma, no '=', control bytes,
 * duplicates of known parameters) or SB_ETOOBIG (a value over SIP_DIGEST_MAX_VALUE).
 * Pure and bounded: no allocation.
 */
int sip_digest_parse(struct sb_slice value, size_t *off, struct sip_digest_params *out);

/* Does the comma list in p->qop (challenge: qop="auth,auth-int") contain option? */
bool sip_digest_qop_has(const struct sip_digest_params *p, const char *option);

/* ---- server ---- */

struct sip_digest_server;

struct sip_digest_server_cfg {
	struct sb_slice realm; /* required (copied) */
	const void *secret;    /* HMAC key for nonces; NULL = 32 random bytes (nonces then */
	size_t secret_len;     /*  die with the process); at least 16 bytes otherwise */
	uint32_t nonce_ttl_s;  /* 0 = 300: older nonces are STALE */
	bool offer_md5;	       /* also challenge with MD5 after SHA-256 (RFC 8760 order) */
	bool md5_first;	   /* with offer_md5: MD5 first, for UAs that read only the first challenge
			    * and know only MD5 (SIPp, older phones) */
	bool allow_no_qop; /* accept RFC 2069 credentials without qop */
	struct sb_slice opaque; /* sent in challenges and required back when not empty */
	size_t nc_slots;	/* 0 = no replay table; else nonce-count slots kept */
};

enum sip_digest_verdict {
	SIP_DIGEST_OK,	      /* credentials right, nonce fresh */
	SIP_DIGEST_STALE,     /* right password, but the nonce is too old or nc was replayed:
			       * challenge again with stale=true */
	SIP_DIGEST_FAIL,      /* wrong password, unknown user, foreign realm or nonce, wrong uri */
	SIP_DIGEST_MALFORMED, /* unparseable or missing parameters: answer 400 or challenge */
};

const char *sip_digest_verdict_name(enum sip_digest_verdict v);

/* 0, SB_EINVAL (no realm, short secret), SB_ENOMEM or SB_EIO (no randomness). */
int sip_digest_server_new(struct sip_digest_server **out, const struct sip_digest_server_cfg *cfg);
void sip_digest_server_free(struct sip_digest_server *s);

/*
 * Write a fresh nonce-bearing challenge for one algorithm into out (the header value, without
 * the header name): Digest realm="..", nonce="..", [opaque="..",] algorithm=.., qop="auth"
 * [, stale=true]. The nonce is time || salt || HMAC-SHA256(secret, time || salt || realm ||
 * bind), base64url; bind is whatever the caller ties it to (source address, Call-ID) and must be
 * given again to verify. now_s is wall-clock seconds (sb_clock_wall_s). 0 or out's error.
 */
int sip_digest_challenge(struct sip_digest_server *s, enum sip_digest_alg alg, uint64_t now_s,
			 struct sb_slice bind, bool stale, struct sb_buf *out);

/* Full header lines for a 401 or 407: "<hdr_name>: <challenge>\r\n" for SHA-256, then MD5 when
 * offer_md5, all with the same nonce. hdr_name is "WWW-Authenticate" or "Proxy-Authenticate". */
int sip_digest_challenge_headers(struct sip_digest_server *s, const char *hdr_name, uint64_t now_s,
				 struct sb_slice bind, bool stale, struct sb_buf *out);

/* Find the password of username in realm: write it to pw (cap bytes), set *len, return 0; or
 * SB_ENOTFOUND (the verifier then burns the same work on a dummy and answers FAIL). */
typedef int (*sip_digest_lookup_fn)(void *arg, struct sb_slice username, struct sb_slice realm,
				    char *pw, size_t cap, size_t *len);

struct sip_digest_check {
	struct sb_slice credentials; /* the Authorization / Proxy-Authorization value */
	struct sb_slice method;	     /* the request's method name */
	struct sb_slice request_uri; /* Request-URI as received: the uri parameter must equal it */
	struct sb_slice body;	     /* for qop=auth-int */
	struct sb_slice bind;	     /* same as given to the challenge */
	uint64_t now_s;
	sip_digest_lookup_fn lookup;
	void *lookup_arg;
};

/*
 * Verify credentials. creds (may be NULL) receives the parse, so the caller can read
 * creds->username (e.g. to compare with the From user). Responses compare in constant time;
 * STALE is answered only to a correct response. Supports qop=auth, qop=auth-int, no qop
 * (when allow_no_qop), MD5/SHA-256/SHA-512-256 and their -sess forms.
 */
enum sip_digest_verdict sip_digest_verify(struct sip_digest_server *s,
					  const struct sip_digest_check *c,
					  struct sip_digest_params *creds);

/* ---- client ---- */

#define SIP_DIGEST_MAX_STORED 512

/* What a UAC keeps between a 401/407 and its retries (a plain value; one per trunk/dialog). */
struct sip_digest_client {
	enum sip_digest_alg alg;
	bool qop_auth;	   /* answer with qop=auth (offered); else RFC 2069 style */
	bool qop_auth_int; /* only auth-int was offered */
	bool stale;	   /* last challenge said stale=true */
	uint32_t nc;	   /* nonce count already used with this nonce */
	unsigned nonces;   /* how many different nonces were taken (cap retries on this,
			    * CVE-2020-28242: a server changing the nonce on every try) */
	char realm[SIP_DIGEST_MAX_STORED];
	size_t realm_len;
	char nonce[SIP_DIGEST_MAX_STORED];
	size_t nonce_len;
	char opaque[SIP_DIGEST_MAX_STORED];
	size_t opaque_len;
	bool has_opaque;
};

/* Start empty. */
void sip_digest_client_init(struct sip_digest_client *c);

/*
 * Take the first Digest challenge of a header value whose algorithm we support (RFC 8760:
 * in the order offered). With expected_realm non-empty, challenges of another realm are
 * skipped (digest-leak protection, CVE-2021-41158). Keeps nc when the nonce is unchanged,
 * resets it otherwise. 0, SB_EAUTH (only foreign realms), SB_EUNSUPPORTED (no usable
 * challenge), SB_EMALFORMED or SB_ETOOBIG.
 */
int sip_digest_client_take(struct sip_digest_client *c, struct sb_slice challenge_value,
			   struct sb_slice expected_realm);

/* The same over every WWW-Authenticate (401) or Proxy-Authenticate (407) header of rsp, in
 * order; id is SIP_HDR_WWW_AUTHENTICATE or SIP_HDR_PROXY_AUTHENTICATE. */
int sip_digest_client_take_msg(struct sip_digest_client *c, const struct sip_msg *rsp,
			       enum sip_hdr_id id, struct sb_slice expected_realm);

/*
 * Append the Authorization / Proxy-Authorization value for one request to out: increments nc,
 * draws a fresh cnonce, answers with qop=auth when offered (auth-int when only that was offered,
 * using body). uri is the Request-URI of the request being sent. 0, SB_ESTATE (no challenge
 * taken), SB_EINVAL (CR, LF or NUL in an input), SB_EIO or out's error.
 */
int sip_digest_client_authorize(struct sip_digest_client *c, struct sb_slice username,
				struct sb_slice password, struct sb_slice method,
				struct sb_slice uri, struct sb_slice body, struct sb_buf *out);

/*
 * The bare computation (RFC 7616 §3.4.1), exposed for test vectors: writes the lowercase hex
 * response (NUL-terminated) to out (at least 129 bytes). qop empty = RFC 2069 form; body is used
 * only for qop=auth-int. 0 or SB_EINVAL / SB_EIO.
 */
int sip_digest_compute(enum sip_digest_alg alg, struct sb_slice username, struct sb_slice realm,
		       struct sb_slice password, struct sb_slice method, struct sb_slice uri,
		       struct sb_slice nonce, struct sb_slice nc, struct sb_slice cnonce,
		       struct sb_slice qop, struct sb_slice body, char out[129]);

#endif
