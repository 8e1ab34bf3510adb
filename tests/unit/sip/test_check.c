/* Unit tests for src/sip/check.c: the stateless UAS rejections (400/405/406/415/416/420/501)
 * with their extra headers, and the response discard rules. */
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
#include "sip/check.h"

static const enum sip_method methods[] = {SIP_METHOD_INVITE, SIP_METHOD_ACK, SIP_METHOD_CANCEL,
					  SIP_METHOD_BYE, SIP_METHOD_OPTIONS};
static const char *const supported[] = {"timer", "100rel"};
static const char *const accept[] = {"application/sdp", "application/dtmf-relay", "message/sipfrag",
				     "multipart/mixed"};

static const struct sip_check_policy pol = {
    .methods = methods,
    .n_methods = sizeof(methods) / sizeof(methods[0]),
    .supported = supported,
    .n_supported = 2,
    .accept = accept,
    .n_accept = 4,
};

struct req {
	struct sip_msg m;
	char buf[8192];
};

static struct req *mk(const char *method, const char *ruri, const char *cseq_method,
		      const char *extra, const char *body)
{
	struct req *r = malloc(sizeof(*r));
	assert_non_null(r);
	int n = snprintf(r->buf, sizeof(r->buf),
			 "%s %s SIP/2.0\r\n"
			 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc\r\n"
			 "To: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\n"
			 "Call-ID: c1\r\nCSeq: 1 %s\r\n%sContent-Length: %zu\r\n\r\n%s",
			 method, ruri, cseq_method, extra, strlen(body), body);
	assert_true(n > 0 && (size_t)n < sizeof(r->buf));
	int rc = sip_msg_parse(&r->m, r->buf, (size_t)n, SIP_PARSE_DATAGRAM);
	if (rc <= 0)
		fail_msg("test request does not parse: %s", r->m.error_reason);
	return r;
}

static int run(struct req *r, const struct sip_check_policy *p, struct sip_check_result *res)
{
	int st = sip_check_request(&r->m, p, res);
	assert_int_equal(st, res->status);
	free(r);
	return st;
}

static void test_ok(void **state)
{
	(void)state;
	struct sip_check_result res;
	assert_int_equal(run(mk("INVITE", "sip:b@example.com", "INVITE",
				"Content-Type: application/sdp\r\n", "v=0\r\n"),
			     &pol, &res),
			 0);
	assert_int_equal(run(mk("ACK", "sip:b@example.com", "ACK", "", ""), &pol, &res), 0);
	assert_int_equal(
	    run(mk("OPTIONS", "tel:+12125551212", "OPTIONS", "Require: timer\r\n", ""), &pol, &res),
	    0);
	/* Content-Type without a body is fine */
	assert_int_equal(
	    run(mk("BYE", "sip:b@example.com", "BYE", "Content-Type: application/unknown\r\n", ""),
		&pol, &res),
	    0);
	assert_string_equal(res.extra_header, "");
}

static void test_mandatory_and_cseq(void **state)
{
	(void)state;
	struct sip_check_result res;
	static const enum sip_hdr_id ids[] = {SIP_HDR_VIA, SIP_HDR_FROM, SIP_HDR_TO,
					      SIP_HDR_CALL_ID, SIP_HDR_CSEQ};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct req *r = mk("OPTIONS", "sip:b@example.com", "OPTIONS", "", "");
		r->m.count[ids[i]] = 0; /* as if the header were absent */
		assert_int_equal(run(r, &pol, &res), 400);
		assert_non_null(strstr(res.reason, "Missing"));
	}
	assert_int_equal(run(mk("OPTIONS", "sip:b@example.com", "INVITE", "", ""), &pol, &res),
			 400);
	assert_string_equal(res.reason, "CSeq Method Mismatch");
	/* mismatch is a 400 even for an unknown method (RFC 4475 mismatch02, stricter choice) */
	assert_int_equal(run(mk("NEWMETHOD", "sip:b@example.com", "INVITE", "", ""), &pol, &res),
			 400);
	assert_int_equal(run(mk("ACK", "sip:b@example.com", "INVITE", "", ""), &pol, &res), 400);
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE", "Contact: sip:a@b?x=y\r\n", ""), &pol,
		&res),
	    400);
	assert_string_equal(res.reason, "Bad Contact");
}

static struct req *mk_from_to(const char *method, const char *from, const char *to)
{
	struct req *r = malloc(sizeof(*r));
	assert_non_null(r);
	int n =
	    snprintf(r->buf, sizeof(r->buf),
		     "%s sip:b@example.com SIP/2.0\r\n"
		     "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc\r\n"
		     "From: %s\r\nTo: %s\r\nCall-ID: c1\r\nCSeq: 1 %s\r\nContent-Length: 0\r\n\r\n",
		     method, from, to, method);
	assert_true(n > 0 && (size_t)n < sizeof(r->buf));
	int rc = sip_msg_parse(&r->m, r->buf, (size_t)n, SIP_PARSE_DATAGRAM);
	if (rc <= 0)
		fail_msg("test request does not parse: %s", r->m.error_reason);
	return r;
}

/* The parser only delimits the From/To URIs (eager for the transaction key); their syntax is
 * checked here, before any other rejection. */
static void test_from_to_uri(void **state)
{
	(void)state;
	struct sip_check_result res;
	assert_int_equal(
	    run(mk_from_to("OPTIONS", "<sip:a b@example.com>;tag=1", "<sip:b@example.com>"), &pol,
		&res),
	    400);
	assert_string_equal(res.reason, "Bad From");
	assert_int_equal(
	    run(mk_from_to("OPTIONS", "sip:a@example.com;tag=1", "\"B\" <sip:b@exa mple.com>"),
		&pol, &res),
	    400);
	assert_string_equal(res.reason, "Bad To");
	assert_int_equal(
	    run(mk_from_to("OPTIONS", "<sip:a@example.com>;tag=1", "<sip:b@[::1>"), &pol, &res),
	    400);
	/* before the method checks */
	assert_int_equal(
	    run(mk_from_to("FOO", "<sip:a@example.com>;tag=1", "<sip:b@example.com:99999>"), &pol,
		&res),
	    400);
	assert_string_equal(res.reason, "Bad To");

	/* the eager tag: ";tag=" inside the URI or the quoted display name is not the tag */
	struct req *r = mk_from_to("OPTIONS", "\"x;tag=2\" <sip:a@example.com;tag=3>;tag=1",
				   "<sip:b@example.com;tag=4>");
	assert_true(sb_slice_eq_cstr(r->m.from.tag, "1"));
	assert_true(sb_slice_empty(r->m.to.tag));
	assert_true(sb_slice_eq_cstr(r->m.from.uri.raw, "sip:a@example.com;tag=3"));
	assert_true(sb_slice_eq_cstr(r->m.from.uri.user, "a"));
	assert_int_equal(run(r, &pol, &res), 0);
	r = mk_from_to("OPTIONS", "sip:u:pw@example.com;tag=9", "tel:+1-212-555-0101;x=y");
	assert_true(sb_slice_eq_cstr(r->m.from.tag, "9"));
	assert_true(sb_slice_eq_cstr(r->m.from.uri.user, "u"));
	assert_true(sb_slice_eq_cstr(r->m.to.uri.user, "+1-212-555-0101"));
	assert_int_equal(r->m.to.uri.scheme, SIP_URI_TEL);
	assert_int_equal(run(r, &pol, &res), 0);
}

static void test_methods(void **state)
{
	(void)state;
	struct sip_check_result res;
	assert_int_equal(run(mk("FOO", "sip:b@example.com", "FOO", "", ""), &pol, &res), 501);
	assert_int_equal(res.extra, SIP_CHECK_EXTRA_ALLOW);
	assert_string_equal(res.extra_header, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n");
	assert_int_equal(run(mk("REGISTER", "sip:example.com", "REGISTER", "", ""), &pol, &res),
			 405);
	assert_string_equal(res.extra_header, "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n");
	struct sip_check_policy p2 = pol;
	p2.allow = "INVITE, BYE";
	assert_int_equal(run(mk("SUBSCRIBE", "sip:b@example.com", "SUBSCRIBE", "", ""), &p2, &res),
			 405);
	assert_string_equal(res.extra_header, "Allow: INVITE, BYE\r\n");
}

static void test_scheme(void **state)
{
	(void)state;
	struct sip_check_result res;
	assert_int_equal(
	    run(mk("OPTIONS", "nobodyKnowsThisScheme:x", "OPTIONS", "", ""), &pol, &res), 416);
	struct sip_check_policy p2 = pol;
	p2.flags = SIP_CHECK_NO_TEL;
	assert_int_equal(run(mk("OPTIONS", "tel:+1", "OPTIONS", "", ""), &p2, &res), 416);
	assert_int_equal(run(mk("OPTIONS", "sips:b@example.com", "OPTIONS", "", ""), &p2, &res), 0);
}

static void test_require(void **state)
{
	(void)state;
	struct sip_check_result res;
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE",
		   "Require: timer, foo\r\nRequire: bar\r\nProxy-Require: baz\r\n", ""),
		&pol, &res),
	    420);
	assert_int_equal(res.extra, SIP_CHECK_EXTRA_UNSUPPORTED);
	assert_string_equal(res.extra_header, "Unsupported: foo, bar\r\n");
	/* never for ACK and CANCEL */
	assert_int_equal(
	    run(mk("ACK", "sip:b@example.com", "ACK", "Require: foo\r\n", ""), &pol, &res), 0);
	assert_int_equal(
	    run(mk("CANCEL", "sip:b@example.com", "CANCEL", "Require: foo\r\n", ""), &pol, &res),
	    0);
	/* a long list is cut at a tag, still a well-formed header line */
	char extra[4096];
	size_t n = (size_t)snprintf(extra, sizeof(extra), "Require: ");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(extra + n, sizeof(extra) - n, "%stag-number-%d",
				      i ? ", " : "", i);
	snprintf(extra + n, sizeof(extra) - n, "\r\n");
	assert_int_equal(run(mk("OPTIONS", "sip:b@example.com", "OPTIONS", extra, ""), &pol, &res),
			 420);
	size_t len = strlen(res.extra_header);
	assert_true(len < sizeof(res.extra_header));
	assert_string_equal(res.extra_header + len - 2, "\r\n");
	assert_null(strstr(res.extra_header, ", \r\n"));
	assert_non_null(strstr(res.extra_header, "tag-number-0, tag-number-1"));
}

static void test_content(void **state)
{
	(void)state;
	struct sip_check_result res;
	assert_int_equal(run(mk("INVITE", "sip:b@example.com", "INVITE",
				"Content-Type: application/unknownformat\r\n", "x"),
			     &pol, &res),
			 415);
	assert_int_equal(res.extra, SIP_CHECK_EXTRA_ACCEPT);
	assert_string_equal(res.extra_header, "Accept: application/sdp, application/dtmf-relay, "
					      "message/sipfrag, multipart/mixed\r\n");
	assert_int_equal(run(mk("INVITE", "sip:b@example.com", "INVITE",
				"Content-Type: Application/SDP ; charset=x\r\n", "v=0\r\n"),
			     &pol, &res),
			 0);
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE",
		   "Content-Type: application/sdp\r\nContent-Encoding: gzip\r\n", "v=0\r\n"),
		&pol, &res),
	    415);
	assert_string_equal(res.extra_header, "Accept-Encoding: identity\r\n");
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE", "", "v=0\r\n"), &pol, &res), 400);
	/* Accept without application/sdp on an INVITE offer: 406 */
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE",
		   "Content-Type: application/sdp\r\nAccept: text/nobodyKnowsThis\r\n", "v=0\r\n"),
		&pol, &res),
	    406);
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE",
		   "Content-Type: application/sdp\r\nAccept: text/plain, application/*\r\n",
		   "v=0\r\n"),
		&pol, &res),
	    0);
	assert_int_equal(
	    run(mk("INVITE", "sip:b@example.com", "INVITE",
		   "Content-Type: application/sdp\r\nAccept: application/sdp;level=1\r\n",
		   "v=0\r\n"),
		&pol, &res),
	    0);
}

static void test_strict(void **state)
{
	(void)state;
	struct sip_check_result res;
	struct sip_check_policy p2 = pol;
	static const char cookie_only[] =
	    "OPTIONS sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK\r\n"
	    "To: <sip:b@x>\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\n"
	    "CSeq: 1 OPTIONS\r\n\r\n";
	struct sip_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	assert_true(sip_msg_parse(m, cookie_only, sizeof(cookie_only) - 1, SIP_PARSE_DATAGRAM) > 0);
	assert_int_equal(sip_check_request(m, &p2, &res), 0);
	p2.flags = SIP_CHECK_STRICT_BRANCH;
	assert_int_equal(sip_check_request(m, &p2, &res), 400);
	assert_string_equal(res.reason, "Bad Branch");
	free(m);
	p2.flags = 0;
	struct req *r;
	r = mk("OPTIONS", "sip:b@example.com", "OPTIONS", "Date: Sat, 13 Nov 2010 23:29:00 EST\r\n",
	       "");
	assert_int_equal(run(r, &p2, &res), 0);
	p2.flags = SIP_CHECK_STRICT_DATE;
	r = mk("OPTIONS", "sip:b@example.com", "OPTIONS", "Date: Sat, 13 Nov 2010 23:29:00 EST\r\n",
	       "");
	assert_int_equal(run(r, &p2, &res), 400);
	r = mk("OPTIONS", "sip:b@example.com", "OPTIONS", "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n",
	       "");
	assert_int_equal(run(r, &p2, &res), 0);
}

static void test_response(void **state)
{
	(void)state;
	static const char one[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
				  "To: <sip:b@x>;tag=2\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\n"
				  "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	static const char two[] =
	    "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/UDP 255.255.255.255\r\n"
	    "To: <sip:b@x>;tag=2\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\n"
	    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	assert_true(sip_msg_parse(m, one, sizeof(one) - 1, SIP_PARSE_DATAGRAM) > 0);
	assert_int_equal(sip_check_response(m), 0);
	assert_true(sip_msg_parse(m, two, sizeof(two) - 1, SIP_PARSE_DATAGRAM) > 0);
	assert_int_equal(sip_check_response(m), SB_EMALFORMED);
	free(m);
	struct req *r = mk("OPTIONS", "sip:b@example.com", "OPTIONS", "", "");
	assert_int_equal(sip_check_response(&r->m), SB_EMALFORMED);
	struct sip_check_result res;
	assert_int_equal(run(r, &pol, &res), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ok),		cmocka_unit_test(test_mandatory_and_cseq),
	    cmocka_unit_test(test_from_to_uri), cmocka_unit_test(test_methods),
	    cmocka_unit_test(test_scheme),	cmocka_unit_test(test_require),
	    cmocka_unit_test(test_content),	cmocka_unit_test(test_strict),
	    cmocka_unit_test(test_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
