/* Unit tests for src/sip/build.c: responses built from parsed requests (Via copying, To tag,
 * unfolding, body framing), RFC 3581 Via stamping and the reason-phrase table. */
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
#include "sip/build.h"

static const char req_txt[] = "INVITE sip:b@example.com SIP/2.0\r\n"
			      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtop;rport, "
			      "SIP/2.0/TCP p1.example.com;branch=z9hG4bK2\r\n"
			      "v: SIP/2.0/UDP\r\n p2.example.com;branch=z9hG4bK3\r\n"
			      "To: Bob\r\n <sip:b@example.com>\r\n"
			      "From: <sip:a@example.com>;tag=ft\r\n"
			      "Call-ID: cid@x\r\n"
			      "CSeq: 7 INVITE\r\n"
			      "Timestamp: 54\r\n"
			      "Content-Length: 0\r\n\r\n";

static struct sip_msg *parse_req(const char *txt, size_t len)
{
	struct sip_msg *m = malloc(sizeof(*m));
	assert_non_null(m);
	assert_true(sip_msg_parse(m, txt, len, SIP_PARSE_DATAGRAM) > 0);
	return m;
}

static void test_reason(void **state)
{
	(void)state;
	assert_string_equal(sip_reason_phrase(200), "OK");
	assert_string_equal(sip_reason_phrase(486), "Busy Here");
	assert_string_equal(sip_reason_phrase(416), "Unsupported URI Scheme");
	assert_string_equal(sip_reason_phrase(299), "Unknown Success");
	assert_string_equal(sip_reason_phrase(699), "Unknown Global Failure");
	assert_string_equal(sip_reason_phrase(99), "Unknown");
	assert_string_equal(sip_reason_phrase(700), "Unknown");
	assert_string_equal(sip_method_name(SIP_METHOD_INVITE), "INVITE");
	assert_string_equal(sip_method_name(SIP_METHOD_OTHER), "");
#define CHECK_PHRASE(c, p) assert_string_equal(sip_reason_phrase(c), p);
	SIP_STATUS_MAP(CHECK_PHRASE)
#undef CHECK_PHRASE
}

static void test_response(void **state)
{
	(void)state;
	struct sip_msg *req = parse_req(req_txt, sizeof(req_txt) - 1);
	char small[64]; /* forces growth */
	struct sb_buf b;
	sb_buf_init(&b, small, sizeof(small));
	assert_int_equal(sip_build_response(&b, req, 180, NULL, SB_SLICE_LIT("tt"),
					    SB_SLICE_LIT("Contact: <sip:b@192.0.2.9>\r\n"),
					    SB_SLICE_NULL, SB_SLICE_NULL),
			 0);
	const char *want = "SIP/2.0 180 Ringing\r\n"
			   "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKtop;rport, SIP/2.0/TCP "
			   "p1.example.com;branch=z9hG4bK2\r\n"
			   "Via: SIP/2.0/UDP p2.example.com;branch=z9hG4bK3\r\n"
			   "From: <sip:a@example.com>;tag=ft\r\n"
			   "To: Bob <sip:b@example.com>;tag=tt\r\n"
			   "Call-ID: cid@x\r\n"
			   "CSeq: 7 INVITE\r\n"
			   "Contact: <sip:b@192.0.2.9>\r\n"
			   "Content-Length: 0\r\n\r\n";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.p, want, b.len);

	/* 100 Trying: no tag, Timestamp echoed */
	sb_buf_reset(&b);
	assert_int_equal(sip_build_response(&b, req, 100, NULL, SB_SLICE_LIT("tt"), SB_SLICE_NULL,
					    SB_SLICE_NULL, SB_SLICE_NULL),
			 0);
	assert_null(strstr(b.p, "tag=tt"));
	assert_non_null(strstr(b.p, "\r\nTimestamp: 54\r\n"));

	/* body with Content-Type; our output parses back */
	sb_buf_reset(&b);
	assert_int_equal(sip_build_response(&b, req, 200, "Fine", SB_SLICE_LIT("tt"), SB_SLICE_NULL,
					    SB_SLICE_LIT("application/sdp"),
					    SB_SLICE_LIT("v=0\r\n")),
			 0);
	struct sip_msg *rsp = malloc(sizeof(*rsp));
	assert_non_null(rsp);
	assert_int_equal(sip_msg_parse(rsp, b.p, b.len, SIP_PARSE_STREAM), (int)b.len);
	assert_int_equal(rsp->status, 200);
	assert_true(sb_slice_eq_cstr(rsp->reason, "Fine"));
	assert_true(sb_slice_eq_cstr(rsp->to.tag, "tt"));
	assert_true(sb_slice_eq_cstr(rsp->body, "v=0\r\n"));
	assert_true(sb_slice_eq_cstr(rsp->content_type, "application/sdp"));
	assert_int_equal(sip_hdr_count_values(rsp, SIP_HDR_VIA), 3);
	assert_true(sb_slice_eq_cstr(rsp->via.branch, "z9hG4bKtop"));
	free(rsp);

	assert_int_equal(sip_build_response(&b, req, 99, NULL, SB_SLICE_NULL, SB_SLICE_NULL,
					    SB_SLICE_NULL, SB_SLICE_NULL),
			 SB_EINVAL);
	sb_buf_free(&b);
	free(req);
}

static void test_existing_tag(void **state)
{
	(void)state;
	static const char txt[] =
	    "BYE sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	    "To: <sip:b@x>;tag=orig\r\nFrom: <sip:a@x>;tag=1\r\nCall-ID: c\r\n"
	    "CSeq: 2 BYE\r\n\r\n";
	struct sip_msg *req = parse_req(txt, sizeof(txt) - 1);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sip_build_response(&b, req, 200, NULL, SB_SLICE_LIT("new"), SB_SLICE_NULL,
					    SB_SLICE_NULL, SB_SLICE_NULL),
			 0);
	assert_non_null(strstr(b.p, "To: <sip:b@x>;tag=orig\r\n"));
	assert_null(strstr(b.p, "new"));
	sb_buf_free(&b);
	free(req);
}

static void via_line(const char *via, const char *ip, const char *port, const char *want)
{
	char txt[1024];
	int n = snprintf(
	    txt, sizeof(txt),
	    "OPTIONS sip:b@x SIP/2.0\r\nVia: %s\r\nTo: <sip:b@x>\r\nFrom: <sip:a@x>;tag=1\r\n"
	    "Call-ID: c\r\nCSeq: 1 OPTIONS\r\n\r\n",
	    via);
	struct sip_msg *req = parse_req(txt, (size_t)n);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	sip_build_response_via(&b, req, sb_slice_cstr(ip), sb_slice_cstr(port));
	assert_int_equal(b.err, 0);
	if (strcmp(b.p, want) != 0)
		fail_msg("via stamping of '%s':\n got  '%s'\n want '%s'", via, b.p, want);
	/* the same through sip_build_response with src_ip/src_port on the message */
	req->src_ip = sb_slice_cstr(ip);
	req->src_port = sb_slice_cstr(port);
	sb_buf_reset(&b);
	assert_int_equal(sip_build_response(&b, req, 200, NULL, SB_SLICE_NULL, SB_SLICE_NULL,
					    SB_SLICE_NULL, SB_SLICE_NULL),
			 0);
	assert_non_null(strstr(b.p, want));
	sb_buf_free(&b);
	free(req);
}

static void test_via_stamp(void **state)
{
	(void)state;
	/* RFC 3581 §4: rport asked → received (even if equal) and rport=port */
	via_line(
	    "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;rport", "192.0.2.1", "5061",
	    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.1;rport=5061\r\n");
	/* RFC 3261 §18.2.1: received only when the sent-by host differs */
	via_line("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1", "192.0.2.1", "5060",
		 "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n");
	via_line("SIP/2.0/UDP pc.example.com;branch=z9hG4bK1", "198.51.100.3", "5060",
		 "Via: SIP/2.0/UDP pc.example.com;branch=z9hG4bK1;received=198.51.100.3\r\n");
	/* existing received/rport replaced; other Vias of the line kept */
	via_line("SIP/2.0/UDP h ; received=1.1.1.1 ;rport=9; branch=z9hG4bK1 , SIP/2.0/TCP "
		 "g;branch=z9hG4bK2",
		 "2001:db8::1", "7000",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bK1;received=2001:db8::1;rport=7000 , SIP/2.0/TCP "
		 "g;branch=z9hG4bK2\r\n");
	/* no source address: copied unchanged */
	via_line("SIP/2.0/UDP h;branch=z9hG4bK1;rport", "", "",
		 "Via: SIP/2.0/UDP h;branch=z9hG4bK1;rport\r\n");
}

static void test_unfold(void **state)
{
	(void)state;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	sip_build_append_unfolded(&b, SB_SLICE_LIT("a\r\n b\n\tc\r\n  d"));
	assert_string_equal(b.p, "a b\tc  d");
	sb_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reason),	 cmocka_unit_test(test_response),
	    cmocka_unit_test(test_existing_tag), cmocka_unit_test(test_via_stamp),
	    cmocka_unit_test(test_unfold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
