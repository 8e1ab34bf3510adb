/* Unit tests for src/sip/digest.c: RFC 2617 / RFC 7616 vectors, the auth-param parser, and our
 * client against our server (stale nonces, replays, wrong password/uri/realm, malformed input). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sip/digest.h"

#define S(lit) SB_SLICE_LIT(lit)

static void vectors(void **state)
{
	(void)state;
	char out[129];
	/* RFC 2617 §3.5 */
	assert_int_equal(sip_digest_compute(SIP_DIGEST_MD5, S("Mufasa"), S("testrealm@host.com"),
					    S("Circle Of Life"), S("GET"), S("/dir/index.html"),
					    S("dcd98b7102dd2f0e8b11d0f600bfb0c093"), S("00000001"),
					    S("0a4f113b"), S("auth"), SB_SLICE_NULL, out),
			 0);
	assert_string_equal(out, "6629fae49393a05397450978507c4ef1");
	/* RFC 7616 §3.9.1 */
	const struct sb_slice nonce = S("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v");
	const struct sb_slice cnonce = S("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ");
	assert_int_equal(sip_digest_compute(SIP_DIGEST_MD5, S("Mufasa"), S("http-auth@example.org"),
					    S("Circle of Life"), S("GET"), S("/dir/index.html"),
					    nonce, S("00000001"), cnonce, S("auth"), SB_SLICE_NULL,
					    out),
			 0);
	assert_string_equal(out, "8ca523f5e9506fed4657c9700eebdbec");
	assert_int_equal(sip_digest_compute(SIP_DIGEST_SHA256, S("Mufasa"),
					    S("http-auth@example.org"), S("Circle of Life"),
					    S("GET"), S("/dir/index.html"), nonce, S("00000001"),
					    cnonce, S("auth"), SB_SLICE_NULL, out),
			 0);
	assert_string_equal(out,
			    "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
	/* SHA-512-256 gives 64 hex digits too, and differs */
	assert_int_equal(sip_digest_compute(SIP_DIGEST_SHA512_256, S("Mufasa"),
					    S("http-auth@example.org"), S("Circle of Life"),
					    S("GET"), S("/dir/index.html"), nonce, S("00000001"),
					    cnonce, S("auth"), SB_SLICE_NULL, out),
			 0);
	assert_int_equal(strlen(out), 64);
	assert_string_not_equal(out,
				"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void parse_rfc7616_challenge(void **state)
{
	(void)state;
	const struct sb_slice v =
	    S("Digest\r\n    realm=\"http-auth@example.org\",\r\n"
	      "    qop=\"auth, auth-int\",\r\n    algorithm=SHA-256,\r\n"
	      "    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
	      "    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
	struct sip_digest_params p;
	size_t off = 0;
	assert_int_equal(sip_digest_parse(v, &off, &p), 0);
	assert_int_equal(off, v.len);
	assert_true(sb_slice_eq_cstr(p.scheme, "Digest"));
	assert_true(sb_slice_eq_cstr(p.realm, "http-auth@example.org"));
	assert_true(sb_slice_eq_cstr(p.algorithm, "SHA-256"));
	assert_true(sb_slice_eq_cstr(p.opaque, "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"));
	assert_true(sip_digest_qop_has(&p, "auth"));
	assert_true(sip_digest_qop_has(&p, "auth-int"));
	assert_false(sip_digest_qop_has(&p, "au"));
	assert_true(p.qop_quoted);
	assert_false(p.stale);
}

static void parse_several_and_escapes(void **state)
{
	(void)state;
	/* Basic with token68, then two Digest challenges in one value; odd case and spacing */
	const struct sb_slice v =
	    S("Basic dXNlcjpwYXNz==, DIGEST REALM = \"a\\\"b\\\\c\" ,NONCE=n1,"
	      "Stale=TRUE, x-ext=\"ignored, really\", Digest realm=r2, nonce=\"n2\"");
	struct sip_digest_params p;
	size_t off = 0;
	assert_int_equal(sip_digest_parse(v, &off, &p), 0);
	assert_true(sb_slice_eq_cstr(p.scheme, "Basic"));
	assert_int_equal(sip_digest_parse(v, &off, &p), 0);
	assert_true(sb_slice_eq_cstr(p.scheme, "DIGEST"));
	assert_true(sb_slice_eq_cstr(p.realm, "a\"b\\c"));
	assert_true(sb_slice_eq_cstr(p.nonce, "n1"));
	assert_true(p.stale);
	assert_int_equal(sip_digest_parse(v, &off, &p), 0);
	assert_true(sb_slice_eq_cstr(p.realm, "r2"));
	assert_true(sb_slice_eq_cstr(p.nonce, "n2"));
	assert_false(p.stale);
	assert_int_equal(off, v.len);
}

static void parse_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "Digest realm=\"abc",		 /* lone quote */
	    "Digest realm=\"abc\\",		 /* escape at the end */
	    "Digest realm=\"a\" nonce=\"b\"",	 /* missing comma */
	    "Digest realm=a nonce=b",		 /* missing comma, tokens */
	    "Digest realm=\"a\", realm=\"b\"",	 /* duplicate */
	    "Digest realm=",			 /* no value */
	    "Digest =x",			 /* no name */
	    "\"Digest\" realm=x",		 /* no scheme */
	    "Digest realm=\"a\x01b\"",		 /* control byte */
	    "Digest realm=\"a\", nonce=\"b\"\"", /* stray quote */
	    "",
	    "   ",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sip_digest_params p;
		size_t off = 0;
		int err = sip_digest_parse(sb_slice_cstr(bad[i]), &off, &p);
		if (err != SB_EMALFORMED)
			fail_msg("case %zu (%s) gave %d", i, bad[i], err);
	}
	/* huge values */
	static char big[8192];
	memcpy(big, "Digest nonce=\"", 14);
	memset(big + 14, 'a', 5000);
	memcpy(big + 5014, "\"", 2);
	struct sip_digest_params p;
	size_t off = 0;
	assert_int_equal(sip_digest_parse(sb_slice_cstr(big), &off, &p), SB_ETOOBIG);
	memcpy(big, "Digest nonce=", 13);
	memset(big + 13, 'a', 5000);
	big[5013] = '\0';
	off = 0;
	assert_int_equal(sip_digest_parse(sb_slice_cstr(big), &off, &p), SB_ETOOBIG);
	/* escapes filling the scratch area */
	size_t n = 0;
	n += (size_t)snprintf(big, sizeof(big), "Digest ");
	for (int k = 0; k < 4; k++) {
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%sx%d=\"", k ? ", " : "", k);
		for (int j = 0; j < 300; j++) {
			big[n++] = '\\';
			big[n++] = 'q';
		}
		big[n++] = '"';
	}
	big[n] = '\0';
	off = 0;
	assert_int_equal(sip_digest_parse(sb_slice_cstr(big), &off, &p), 0); /* unknown: skipped */
	n = (size_t)snprintf(big, sizeof(big), "Digest realm=\"");
	for (int j = 0; j < 1000; j++) {
		big[n++] = '\\';
		big[n++] = 'q';
	}
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\", nonce=\"");
	for (int j = 0; j < 1000; j++) {
		big[n++] = '\\';
		big[n++] = 'q';
	}
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\", opaque=\"");
	for (int j = 0; j < 1000; j++) {
		big[n++] = '\\';
		big[n++] = 'q';
	}
	big[n++] = '"';
	big[n] = '\0';
	off = 0;
	assert_int_equal(sip_digest_parse(sb_slice_cstr(big), &off, &p), SB_ETOOBIG);
}

/* ---- server and client together ---- */

struct user {
	const char *name;
	const char *pw;
};
static const struct user users[] = {{"alice", "s3cret"}, {"a\"b\\c", "odd"}, {"bob", "pw"}};

static int lookup(void *arg, struct sb_slice username, struct sb_slice realm, char *pw, size_t cap,
		  size_t *len)
{
	(void)realm;
	int *calls = arg;
	if (calls)
		(*calls)++;
	for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
		if (sb_slice_eq_cstr(username, users[i].name)) {
			*len = sb_slice_copy(sb_slice_cstr(users[i].pw), pw, cap);
			return 0;
		}
	return SB_ENOTFOUND;
}

#define REALM "sip.example.com"
#define RURI  "sip:+15551234567@sip.example.com;user=phone"
#define BIND  "198.51.100.7:5060"
#define T0    1700000000u

struct fx {
	struct sip_digest_server *srv;
	struct sb_buf hdrs;
};

static int setup_opts(void **state, size_t nc_slots, bool no_qop, const char *opaque)
{
	struct fx *f = test_calloc(1, sizeof(*f));
	static const char secret[] = "0123456789abcdef0123456789abcdef";
	struct sip_digest_server_cfg cfg = {
	    .realm = S(REALM),
	    .secret = secret,
	    .secret_len = 32,
	    .nonce_ttl_s = 60,
	    .offer_md5 = true,
	    .allow_no_qop = no_qop,
	    .opaque = sb_slice_cstr(opaque),
	    .nc_slots = nc_slots,
	};
	assert_int_equal(sip_digest_server_new(&f->srv, &cfg), 0);
	sb_buf_init(&f->hdrs, NULL, 0);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_opts(state, 64, true, "");
}

static int setup_strict(void **state)
{
	return setup_opts(state, 0, false, "op\"aque");
}

static int teardown(void **state)
{
	struct fx *f = *state;
	sip_digest_server_free(f->srv);
	sb_buf_free(&f->hdrs);
	test_free(f);
	return 0;
}

/* Value of the n-th header line of a challenge block. */
static struct sb_slice line_value(const struct sb_buf *b, int n)
{
	struct sb_slice s = sb_buf_slice(b);
	for (;;) {
		ptrdiff_t e = sb_slice_find_str(s, S("\r\n"));
		assert_true(e >= 0);
		if (n-- == 0) {
			ptrdiff_t c = sb_slice_find(s, ':');
			return sb_slice_trim(sb_slice(s.p + c + 1, (size_t)(e - c - 1)));
		}
		s = sb_slice_sub(s, (size_t)e + 2, s.len);
	}
}

static enum sip_digest_verdict check(struct fx *f, struct sb_slice creds, const char *method,
				     const char *ruri, const char *bind, uint64_t now,
				     struct sip_digest_params *out)
{
	struct sip_digest_check c = {
	    .credentials = creds,
	    .method = sb_slice_cstr(method),
	    .request_uri = sb_slice_cstr(ruri),
	    .bind = sb_slice_cstr(bind),
	    .now_s = now,
	    .lookup = lookup,
	};
	return sip_digest_verify(f->srv, &c, out);
}

static void round_trip(void **state)
{
	struct fx *f = *state;
	assert_int_equal(
	    sip_digest_challenge_headers(f->srv, "WWW-Authenticate", T0, S(BIND), false, &f->hdrs),
	    0);
	/* SHA-256 first, then MD5, same nonce (RFC 8760) */
	struct sb_slice v0 = line_value(&f->hdrs, 0), v1 = line_value(&f->hdrs, 1);
	assert_true(sb_slice_starts_with_nocase(
	    sb_buf_slice(&f->hdrs), "WWW-Authenticate: Digest realm=\"" REALM "\", nonce=\""));
	assert_true(sb_slice_find_str(v0, S("algorithm=SHA-256, qop=\"auth\"")) > 0);
	assert_true(sb_slice_find_str(v1, S("algorithm=MD5, qop=\"auth\"")) > 0);
	assert_true(sb_slice_find_str(v0, S("stale")) < 0);

	struct sip_digest_client c;
	sip_digest_client_init(&c);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &f->hdrs),
			 SB_ESTATE);
	assert_int_equal(sip_digest_client_take(&c, v0, S(REALM)), 0);
	assert_int_equal(c.alg, SIP_DIGEST_SHA256);
	assert_true(c.qop_auth);
	assert_int_equal(c.nonces, 1);

	struct sb_buf a;
	sb_buf_init(&a, NULL, 0);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("nc=00000001")) > 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("algorithm=SHA-256")) > 0);
	struct sip_digest_params p;
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 1, &p),
			 SIP_DIGEST_OK);
	assert_true(sb_slice_eq_cstr(p.username, "alice"));
	/* the same credentials again: nc replay */
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 2, NULL),
			 SIP_DIGEST_STALE);
	/* wrong uri, method, bind */
	assert_int_equal(
	    check(f, sb_buf_slice(&a), "INVITE", "sip:other@sip.example.com", BIND, T0 + 2, NULL),
	    SIP_DIGEST_FAIL);
	assert_int_equal(check(f, sb_buf_slice(&a), "BYE", RURI, BIND, T0 + 2, NULL),
			 SIP_DIGEST_FAIL);
	assert_int_equal(
	    check(f, sb_buf_slice(&a), "INVITE", RURI, "203.0.113.9:5060", T0 + 2, NULL),
	    SIP_DIGEST_FAIL);

	/* next request with the same nonce: nc 2, fine */
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("BYE"), S(RURI),
						     SB_SLICE_NULL, &a),
			 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("nc=00000002")) > 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "BYE", RURI, BIND, T0 + 3, NULL),
			 SIP_DIGEST_OK);

	/* after the TTL: right password → STALE; wrong password → FAIL */
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 61, NULL),
			 SIP_DIGEST_STALE);
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("wrong"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 61, NULL),
			 SIP_DIGEST_FAIL);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 5, NULL),
			 SIP_DIGEST_FAIL);

	/* unknown user: FAIL, and the lookup was asked */
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("mallory"), S("x"), S("INVITE"), S(RURI),
						     SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 5, NULL),
			 SIP_DIGEST_FAIL);

	/* a re-challenge with stale=true and a new nonce resets nc */
	sb_buf_reset(&f->hdrs);
	assert_int_equal(
	    sip_digest_challenge(f->srv, SIP_DIGEST_MD5, T0 + 61, S(BIND), true, &f->hdrs), 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&f->hdrs), S(", stale=true")) > 0);
	assert_int_equal(sip_digest_client_take(&c, sb_buf_slice(&f->hdrs), S(REALM)), 0);
	assert_true(c.stale);
	assert_int_equal(c.alg, SIP_DIGEST_MD5);
	assert_int_equal(c.nc, 0);
	assert_int_equal(c.nonces, 2);
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("nc=00000001")) > 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0 + 62, NULL),
			 SIP_DIGEST_OK);
	/* the same challenge taken again keeps nc */
	assert_int_equal(sip_digest_client_take(&c, sb_buf_slice(&f->hdrs), S(REALM)), 0);
	assert_int_equal(c.nc, 1);
	assert_int_equal(c.nonces, 2);
	sb_buf_free(&a);
}

static void round_trip_odd_user_and_sess(void **state)
{
	struct fx *f = *state;
	assert_int_equal(
	    sip_digest_challenge(f->srv, SIP_DIGEST_SHA256_SESS, T0, S(BIND), false, &f->hdrs), 0);
	struct sip_digest_client c;
	sip_digest_client_init(&c);
	assert_int_equal(sip_digest_client_take(&c, sb_buf_slice(&f->hdrs), SB_SLICE_NULL), 0);
	assert_int_equal(c.alg, SIP_DIGEST_SHA256_SESS);
	struct sb_buf a;
	sb_buf_init(&a, NULL, 0);
	assert_int_equal(sip_digest_client_authorize(&c, S("a\"b\\c"), S("odd"), S("REGISTER"),
						     S("sip:sip.example.com"), SB_SLICE_NULL, &a),
			 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("username=\"a\\\"b\\\\c\"")) > 0);
	struct sip_digest_params p;
	assert_int_equal(
	    check(f, sb_buf_slice(&a), "REGISTER", "sip:sip.example.com", BIND, T0, &p),
	    SIP_DIGEST_OK);
	assert_true(sb_slice_eq_cstr(p.username, "a\"b\\c"));
	/* injection attempts are refused before anything is built */
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("x\r\nVia: evil"), S("odd"),
						     S("REGISTER"), S("sip:sip.example.com"),
						     SB_SLICE_NULL, &a),
			 SB_EINVAL);
	assert_int_equal(sip_digest_client_authorize(&c, S("x"), S("odd"), S("REGISTER"),
						     S("sip:a\"@b"), SB_SLICE_NULL, &a),
			 SB_EINVAL);
	sb_buf_free(&a);
}

static void uppercase_hex_and_tampering(void **state)
{
	struct fx *f = *state;
	assert_int_equal(
	    sip_digest_challenge(f->srv, SIP_DIGEST_SHA256, T0, S(BIND), false, &f->hdrs), 0);
	struct sip_digest_client c;
	sip_digest_client_init(&c);
	assert_int_equal(sip_digest_client_take(&c, sb_buf_slice(&f->hdrs), S(REALM)), 0);
	struct sb_buf a;
	sb_buf_init(&a, NULL, 0);
	assert_int_equal(sip_digest_client_authorize(&c, S("bob"), S("pw"), S("INVITE"), S(RURI),
						     SB_SLICE_NULL, &a),
			 0);
	sb_buf_append_char(&a, '\0');
	char *txt = a.p;
	char *r = strstr(txt, "response=\"") + 10;
	char saved[65];
	memcpy(saved, r, 64);
	for (int i = 0; i < 64; i++)
		if (r[i] >= 'a' && r[i] <= 'f')
			r[i] = (char)(r[i] - 'a' + 'A');
	assert_int_equal(check(f, sb_slice_cstr(txt), "INVITE", RURI, BIND, T0, NULL),
			 SIP_DIGEST_OK);
	memcpy(r, saved, 64);
	r[3] = r[3] == '0' ? '1' : '0';
	assert_int_equal(check(f, sb_slice_cstr(txt), "INVITE", RURI, BIND, T0, NULL),
			 SIP_DIGEST_FAIL);
	memcpy(r, saved, 64);
	/* flip one character of the nonce (HMAC no longer matches) */
	char *n = strstr(txt, "nonce=\"") + 7;
	n[10] = n[10] == 'A' ? 'B' : 'A';
	assert_int_equal(check(f, sb_slice_cstr(txt), "INVITE", RURI, BIND, T0, NULL),
			 SIP_DIGEST_FAIL);
	/* a nonce from the future */
	sb_buf_reset(&f->hdrs);
	assert_int_equal(
	    sip_digest_challenge(f->srv, SIP_DIGEST_SHA256, T0 + 3600, S(BIND), false, &f->hdrs),
	    0);
	assert_int_equal(sip_digest_client_take(&c, sb_buf_slice(&f->hdrs), S(REALM)), 0);
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("bob"), S("pw"), S("INVITE"), S(RURI),
						     SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0, NULL),
			 SIP_DIGEST_FAIL);
	sb_buf_free(&a);
}

static void verify_malformed(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "",
	    "Basic YWxpY2U6czNjcmV0",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI "\"",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"0123\"",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"6629fae49393a05397450978507c4ef1\", qop=auth",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"6629fae49393a05397450978507c4ef1\", qop=auth, nc=1, cnonce=\"c\"",
	    "Digest username=\"alice\" realm=\"" REALM "\"",
	    "Digest username=\"alice, realm=x",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"zz29fae49393a05397450978507c4ef1\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum sip_digest_verdict v =
		    check(f, sb_slice_cstr(bad[i]), "INVITE", RURI, BIND, T0, NULL);
		if (v != SIP_DIGEST_MALFORMED)
			fail_msg("case %zu gave %s", i, sip_digest_verdict_name(v));
	}
	/* well-formed but foreign */
	static const char *const fail[] = {
	    "Digest username=\"alice\", realm=\"evil.example\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"6629fae49393a05397450978507c4ef1\"",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"6629fae49393a05397450978507c4ef1\"",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"6629fae49393a05397450978507c4ef1\", algorithm=SHA-1",
	    "Digest username=\"alice\", realm=\"" REALM "\", nonce=\"x\", uri=\"" RURI
	    "\", response=\"6629fae49393a05397450978507c4ef1\", qop=bogus, nc=00000001, "
	    "cnonce=\"c\"",
	};
	for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++) {
		enum sip_digest_verdict v =
		    check(f, sb_slice_cstr(fail[i]), "INVITE", RURI, BIND, T0, NULL);
		if (v != SIP_DIGEST_FAIL)
			fail_msg("fail case %zu gave %s", i, sip_digest_verdict_name(v));
	}
}

static void no_qop_rfc2069(void **state)
{
	struct fx *f = *state;
	/* a challenge without qop (as an old server would send) */
	char nonce[128];
	assert_int_equal(sip_digest_challenge(f->srv, SIP_DIGEST_MD5, T0, S(BIND), false, &f->hdrs),
			 0);
	struct sip_digest_params p;
	size_t off = 0;
	assert_int_equal(sip_digest_parse(sb_buf_slice(&f->hdrs), &off, &p), 0);
	sb_slice_copy(p.nonce, nonce, sizeof(nonce));
	char ch[512];
	snprintf(ch, sizeof(ch), "Digest realm=\"%s\", nonce=\"%s\"", REALM, nonce);
	struct sip_digest_client c;
	sip_digest_client_init(&c);
	assert_int_equal(sip_digest_client_take(&c, sb_slice_cstr(ch), S(REALM)), 0);
	assert_false(c.qop_auth);
	struct sb_buf a;
	sb_buf_init(&a, NULL, 0);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("qop")) < 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("cnonce")) < 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0, NULL), SIP_DIGEST_OK);
	sb_buf_free(&a);
}

static void strict_server(void **state)
{
	struct fx *f = *state;
	/* no-qop refused; opaque must come back */
	assert_int_equal(
	    sip_digest_challenge(f->srv, SIP_DIGEST_SHA256, T0, S(BIND), false, &f->hdrs), 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&f->hdrs), S("opaque=\"op\\\"aque\"")) > 0);
	struct sip_digest_client c;
	sip_digest_client_init(&c);
	assert_int_equal(sip_digest_client_take(&c, sb_buf_slice(&f->hdrs), S(REALM)), 0);
	struct sb_buf a;
	sb_buf_init(&a, NULL, 0);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0, NULL), SIP_DIGEST_OK);
	/* without nc table the replay is not caught (documented) */
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0, NULL), SIP_DIGEST_OK);
	c.has_opaque = false;
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0, NULL),
			 SIP_DIGEST_FAIL);
	c.has_opaque = true;
	c.qop_auth = false;
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("INVITE"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "INVITE", RURI, BIND, T0, NULL),
			 SIP_DIGEST_FAIL);
	/* auth-int when that is all that is offered */
	c.qop_auth_int = true;
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&c, S("alice"), S("s3cret"), S("MESSAGE"),
						     S(RURI), S("hello"), &a),
			 0);
	assert_true(sb_slice_find_str(sb_buf_slice(&a), S("qop=auth-int")) > 0);
	struct sip_digest_check ck = {
	    .credentials = sb_buf_slice(&a),
	    .method = S("MESSAGE"),
	    .request_uri = S(RURI),
	    .body = S("hello"),
	    .bind = S(BIND),
	    .now_s = T0,
	    .lookup = lookup,
	};
	assert_int_equal(sip_digest_verify(f->srv, &ck, NULL), SIP_DIGEST_OK);
	ck.body = S("hellO");
	assert_int_equal(sip_digest_verify(f->srv, &ck, NULL), SIP_DIGEST_FAIL);
	sb_buf_free(&a);
}

static void client_choice_and_realm(void **state)
{
	(void)state;
	struct sip_digest_client c;
	sip_digest_client_init(&c);
	/* unsupported algorithms and qops are skipped; first usable wins */
	const struct sb_slice v =
	    S("Digest realm=\"r\", nonce=\"n0\", algorithm=SHA-1, qop=\"auth\", "
	      "Digest realm=\"r\", nonce=\"n1\", algorithm=MD5, qop=\"auth-conf\", "
	      "Digest realm=\"r\", nonce=\"n2\", algorithm=md5-SESS, qop=\"auth-int,auth\", "
	      "Digest realm=\"r\", nonce=\"n3\", algorithm=SHA-256");
	assert_int_equal(sip_digest_client_take(&c, v, SB_SLICE_NULL), 0);
	assert_int_equal(c.alg, SIP_DIGEST_MD5_SESS);
	assert_memory_equal(c.nonce, "n2", 2);
	assert_true(c.qop_auth);
	/* digest-leak protection: foreign realm refused, ours taken even when second */
	sip_digest_client_init(&c);
	assert_int_equal(sip_digest_client_take(&c, S("Digest realm=\"attacker\", nonce=\"x\""),
						S("carrier.example")),
			 SB_EAUTH);
	assert_int_equal(c.nonce_len, 0);
	assert_int_equal(sip_digest_client_take(&c,
						S("Digest realm=\"attacker\", nonce=\"x\", "
						  "Digest realm=\"carrier.example\", nonce=\"y\""),
						S("carrier.example")),
			 0);
	assert_memory_equal(c.nonce, "y", 1);
	assert_int_equal(sip_digest_client_take(&c, S("Basic realm=\"x\""), SB_SLICE_NULL),
			 SB_EUNSUPPORTED);
	assert_int_equal(sip_digest_client_take(&c, S("Digest realm=\"x"), SB_SLICE_NULL),
			 SB_EMALFORMED);
	assert_int_equal(sip_digest_client_take(&c, S("Digest realm=\"x\""), SB_SLICE_NULL),
			 SB_EUNSUPPORTED);
}

static void client_take_msg(void **state)
{
	(void)state;
	/* a hand-made 407 with a broken header, a foreign one and a good one */
	static struct sip_msg m;
	memset(&m, 0, sizeof(m));
	const char *vals[] = {
	    "Digest realm=\"bad", "Digest realm=\"other\", nonce=\"o\"",
	    "Digest realm=\"carrier\", nonce=\"good\", algorithm=SHA-256, qop=\"auth\""};
	for (size_t i = 0; i < 3; i++) {
		m.hdrs[i].id = SIP_HDR_PROXY_AUTHENTICATE;
		m.hdrs[i].value = sb_slice_cstr(vals[i]);
	}
	m.hdrs[3].id = SIP_HDR_WWW_AUTHENTICATE;
	m.hdrs[3].value = S("Digest realm=\"carrier\", nonce=\"www\"");
	m.nhdrs = 4;
	struct sip_digest_client c;
	sip_digest_client_init(&c);
	assert_int_equal(
	    sip_digest_client_take_msg(&c, &m, SIP_HDR_PROXY_AUTHENTICATE, S("carrier")), 0);
	assert_memory_equal(c.nonce, "good", 4);
	assert_int_equal(c.alg, SIP_DIGEST_SHA256);
	sip_digest_client_init(&c);
	m.nhdrs = 2;
	assert_int_equal(
	    sip_digest_client_take_msg(&c, &m, SIP_HDR_PROXY_AUTHENTICATE, S("carrier")), SB_EAUTH);
	m.nhdrs = 1;
	assert_int_equal(
	    sip_digest_client_take_msg(&c, &m, SIP_HDR_PROXY_AUTHENTICATE, S("carrier")),
	    SB_EMALFORMED);
}

static void server_cfg(void **state)
{
	(void)state;
	struct sip_digest_server *s = NULL;
	struct sip_digest_server_cfg cfg = {.realm = SB_SLICE_NULL};
	assert_int_equal(sip_digest_server_new(&s, &cfg), SB_EINVAL);
	cfg.realm = S("r");
	cfg.secret = "short";
	cfg.secret_len = 5;
	assert_int_equal(sip_digest_server_new(&s, &cfg), SB_EINVAL);
	cfg.secret = NULL; /* random secret */
	assert_int_equal(sip_digest_server_new(&s, &cfg), 0);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(
	    sip_digest_challenge_headers(s, "Proxy-Authenticate", T0, SB_SLICE_NULL, false, &b), 0);
	/* offer_md5 off: a single SHA-256 challenge */
	assert_true(sb_slice_find_str(sb_buf_slice(&b), S("MD5")) < 0);
	assert_true(sb_slice_starts_with_nocase(sb_buf_slice(&b),
						"Proxy-Authenticate: Digest realm=\"r\""));
	sb_buf_free(&b);
	sip_digest_server_free(s);
	enum sip_digest_alg a;
	assert_int_equal(sip_digest_alg_from(S("sha-512-256-SESS"), &a), 0);
	assert_int_equal(a, SIP_DIGEST_SHA512_256_SESS);
	assert_int_equal(sip_digest_alg_from(SB_SLICE_NULL, &a), 0);
	assert_int_equal(a, SIP_DIGEST_MD5);
	assert_int_equal(sip_digest_alg_from(S("SHA-1"), &a), SB_EUNSUPPORTED);
}

static void nc_table_bounded(void **state)
{
	struct fx *f = *state;
	/* many nonces through a 64-slot table: each first use passes, replays of recent ones fail
	 */
	struct sip_digest_client cl[100];
	struct sb_buf a;
	sb_buf_init(&a, NULL, 0);
	for (int i = 0; i < 100; i++) {
		sb_buf_reset(&f->hdrs);
		assert_int_equal(
		    sip_digest_challenge(f->srv, SIP_DIGEST_MD5, T0, S(BIND), false, &f->hdrs), 0);
		sip_digest_client_init(&cl[i]);
		assert_int_equal(sip_digest_client_take(&cl[i], sb_buf_slice(&f->hdrs), S(REALM)),
				 0);
		sb_buf_reset(&a);
		assert_int_equal(sip_digest_client_authorize(&cl[i], S("bob"), S("pw"),
							     S("OPTIONS"), S(RURI), SB_SLICE_NULL,
							     &a),
				 0);
		assert_int_equal(check(f, sb_buf_slice(&a), "OPTIONS", RURI, BIND, T0 + 1, NULL),
				 SIP_DIGEST_OK);
	}
	/* nc going backwards on a nonce still in the table */
	cl[99].nc = 0;
	sb_buf_reset(&a);
	assert_int_equal(sip_digest_client_authorize(&cl[99], S("bob"), S("pw"), S("OPTIONS"),
						     S(RURI), SB_SLICE_NULL, &a),
			 0);
	assert_int_equal(check(f, sb_buf_slice(&a), "OPTIONS", RURI, BIND, T0 + 1, NULL),
			 SIP_DIGEST_STALE);
	sb_buf_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(vectors),
	    cmocka_unit_test(parse_rfc7616_challenge),
	    cmocka_unit_test(parse_several_and_escapes),
	    cmocka_unit_test(parse_malformed),
	    cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(round_trip_odd_user_and_sess, setup, teardown),
	    cmocka_unit_test_setup_teardown(uppercase_hex_and_tampering, setup, teardown),
	    cmocka_unit_test_setup_teardown(verify_malformed, setup, teardown),
	    cmocka_unit_test_setup_teardown(no_qop_rfc2069, setup, teardown),
	    cmocka_unit_test_setup_teardown(strict_server, setup_strict, teardown),
	    cmocka_unit_test(client_choice_and_realm),
	    cmocka_unit_test(client_take_msg),
	    cmocka_unit_test(server_cfg),
	    cmocka_unit_test_setup_teardown(nc_table_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
