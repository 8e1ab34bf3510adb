/* Unit tests for src/sip/msg.c and hdr.c: framing, start line, header tokenising, eager fields,
 * header-body helpers, limits and the bad inputs of research/reliability.md a.3. */
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
#include "sip/msg.h"
#include "sip/msg_int.h"

/* Every parse works on an exact-size heap copy so ASan flags any read past the input. */
struct parsed {
	struct sip_msg m;
	char *buf;
	size_t len;
	int rc;
};

static struct parsed *parse_n(const char *s, size_t len, enum sip_parse_mode mode)
{
	struct parsed *p = malloc(sizeof(*p));
	assert_non_null(p);
	p->buf = malloc(len ? len : 1);
	assert_non_null(p->buf);
	if (len)
		memcpy(p->buf, s, len);
	p->len = len;
	p->rc = sip_msg_parse(&p->m, p->buf, len, mode);
	return p;
}

static struct parsed *parse(const char *s, enum sip_parse_mode mode)
{
	return parse_n(s, strlen(s), mode);
}

static void done(struct parsed *p)
{
	free(p->buf);
	free(p);
}

#define HDRS_MIN                                                                                   \
	"Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport\r\n"                        \
	"Max-Forwards: 70\r\n"                                                                     \
	"To: Bob <sip:bob@example.com>\r\n"                                                        \
	"From: \"Alice\" <sip:alice@example.net>;tag=1928301774\r\n"                               \
	"Call-ID: a84b4c76e66710@pc33.example.net\r\n"                                             \
	"CSeq: 314159 INVITE\r\n"

static const char invite[] =
    "INVITE sip:bob@example.com SIP/2.0\r\n" HDRS_MIN "Contact: <sip:alice@pc33.example.net>\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 4\r\n"
    "\r\n"
    "v=0\n";

static void test_basic_invite(void **state)
{
	(void)state;
	struct parsed *p = parse(invite, SIP_PARSE_DATAGRAM);
	struct sip_msg *m = &p->m;
	assert_int_equal(p->rc, (int)strlen(invite));
	assert_true(m->is_request);
	assert_int_equal(m->method, SIP_METHOD_INVITE);
	assert_true(sb_slice_eq_cstr(m->method_name, "INVITE"));
	assert_int_equal(m->ruri.scheme, SIP_URI_SIP);
	assert_true(sb_slice_eq_cstr(m->ruri.user, "bob"));
	assert_true(sb_slice_eq_cstr(m->via.transport, "UDP"));
	assert_true(sb_slice_eq_cstr(m->via.host, "192.0.2.1"));
	assert_int_equal(m->via.port, 5060);
	assert_true(sb_slice_eq_cstr(m->via.branch, "z9hG4bK776asdhds"));
	assert_true(m->via.rport);
	assert_int_equal(m->via.rport_value, 0);
	assert_true(sb_slice_eq_cstr(m->from.tag, "1928301774"));
	assert_true(sb_slice_eq_cstr(m->from.display, "\"Alice\""));
	assert_true(sb_slice_empty(m->to.tag));
	assert_true(sb_slice_eq_cstr(m->to.display, "Bob"));
	assert_true(sb_slice_eq_cstr(m->call_id, "a84b4c76e66710@pc33.example.net"));
	assert_int_equal(m->cseq.num, 314159);
	assert_int_equal(m->cseq.method, SIP_METHOD_INVITE);
	assert_int_equal(m->max_forwards, 70);
	assert_true(m->has_content_length);
	assert_int_equal(m->content_length, 4);
	assert_true(sb_slice_eq_cstr(m->content_type, "application/sdp"));
	assert_true(sb_slice_eq_cstr(m->body, "v=0\n"));
	assert_int_equal(m->count[SIP_HDR_VIA], 1);
	assert_non_null(sip_msg_hdr(m, SIP_HDR_CONTACT));
	assert_null(sip_msg_hdr(m, SIP_HDR_ROUTE));
	assert_int_equal(m->first[SIP_HDR_ROUTE], UINT16_MAX);
	assert_int_equal(m->error_status, 0);
	done(p);
}

static void test_response(void **state)
{
	(void)state;
	const char *r = "SIP/2.0 180 Ringing\r\n" HDRS_MIN "Content-Length: 0\r\n\r\n";
	struct parsed *p = parse(r, SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_false(p->m.is_request);
	assert_int_equal(p->m.status, 180);
	assert_true(sb_slice_eq_cstr(p->m.reason, "Ringing"));
	done(p);

	p = parse("SIP/2.0 100 \r\n" HDRS_MIN "\r\n", SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_true(sb_slice_empty(p->m.reason));
	done(p);
}

static void test_bad_status(void **state)
{
	(void)state;
	static const char *const lines[] = {
	    "SIP/2.0 4294967301 Huge\r\n", "SIP/2.0 0 Zero\r\n",    "SIP/2.0 99 Low\r\n",
	    "SIP/2.0 700 High\r\n",	   "SIP/2.0 2000 Four\r\n", "SIP/2.0 20 Two\r\n",
	    "SIP/2.0 2x0 Hex\r\n",	   "SIP/2.0  200 Sp\r\n",   "SIP/3.0 200 OK\r\n",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%s" HDRS_MIN "\r\n", lines[i]);
		struct parsed *p = parse(buf, SIP_PARSE_DATAGRAM);
		assert_int_equal(p->rc, SB_EMALFORMED);
		assert_false(p->m.is_request);
		done(p);
	}
}

static void test_empty_and_crlf(void **state)
{
	(void)state;
	struct parsed *p = parse_n("", 0, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 0);
	done(p);
	p = parse_n("", 0, SIP_PARSE_STREAM);
	assert_int_equal(p->rc, SB_EAGAIN);
	done(p);
	p = parse("\r\n\r\n", SIP_PARSE_STREAM);
	assert_int_equal(p->rc, SB_EAGAIN);
	assert_int_equal(sip_msg_keepalive_len(p->buf, p->len), 4);
	done(p);
	p = parse("\r\n\r\n", SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 0);
	done(p);
	p = parse("x", SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	done(p);
	p = parse("\r", SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	done(p);
}

static void test_leading_crlf_counted(void **state)
{
	(void)state;
	char buf[1024];
	snprintf(buf, sizeof(buf), "\r\n\r\n%s", invite);
	struct parsed *p = parse(buf, SIP_PARSE_STREAM);
	assert_int_equal(p->rc, (int)strlen(buf));
	assert_ptr_equal(p->m.buf, p->buf + 4);
	assert_int_equal(p->m.len, strlen(invite));
	done(p);
}

static void test_bare_lf(void **state)
{
	(void)state;
	const char *s = "OPTIONS sip:a@b.example SIP/2.0\n"
			"Via: SIP/2.0/UDP h.example;branch=z9hG4bK1\n"
			"To: <sip:a@b.example>\nFrom: <sip:c@d.example>;tag=1\n"
			"Call-ID: x\nCSeq: 1 OPTIONS\n"
			"Subject: folded\n continued\n"
			"\nBODY";
	struct parsed *p = parse(s, SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_true(sb_slice_eq_cstr(p->m.body, "BODY"));
	const struct sip_hdr *h = sip_msg_hdr(&p->m, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_true(sb_slice_eq_cstr(h->value, "folded\n continued"));
	done(p);
}

static void test_folding_and_lws(void **state)
{
	(void)state;
	const char *s =
	    "INVITE sip:x@y.example SIP/2.0\r\n"
	    "Via  :\r\n SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=z9hG4bK390\r\n"
	    "TO :\r\n sip:x@y.example ;   tag    = 1918181833n\r\n"
	    "from   : \"J \\\"R\\\"\"  <sip:j@example.com>\r\n  ;\r\n  tag = 98asjd8\r\n"
	    "MaX-fOrWaRdS: 0068\r\n"
	    "i: abc@def\r\n"
	    "cseq: 0009\r\n\tINVITE\r\n"
	    "l: 0\r\n\r\n";
	struct parsed *p = parse(s, SIP_PARSE_DATAGRAM);
	struct sip_msg *m = &p->m;
	assert_true(p->rc > 0);
	assert_true(sb_slice_eq_cstr(m->via.transport, "UDP"));
	assert_true(sb_slice_eq_cstr(m->via.host, "192.0.2.2"));
	assert_true(sb_slice_eq_cstr(m->to.tag, "1918181833n"));
	assert_true(sb_slice_eq_cstr(m->from.tag, "98asjd8"));
	assert_int_equal(m->max_forwards, 68);
	assert_int_equal(m->cseq.num, 9);
	assert_true(sb_slice_eq_cstr(m->call_id, "abc@def"));
	assert_true(m->has_content_length);
	done(p);

	/* a continuation line right after the start line has nothing to continue */
	p = parse("OPTIONS sip:a@b SIP/2.0\r\n folded\r\n" HDRS_MIN "\r\n", SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 400);
	done(p);
}

/* A request the parser accepts and sip_check_request (run by the stack on every request before
 * any state is created) rejects: the parser only delimits what the transaction key does not use. */
static void check_rejected(const char *msg, int status, const char *reason)
{
	static const enum sip_method methods[] = {SIP_METHOD_INVITE, SIP_METHOD_OPTIONS};
	const struct sip_check_policy pol = {.methods = methods, .n_methods = 2};
	struct sip_check_result res;
	struct parsed *p = parse(msg, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, (int)strlen(msg));
	assert_true(p->m.is_request);
	assert_int_equal(p->m.error_status, 0);
	assert_int_equal(sip_check_request(&p->m, &pol, &res), status);
	assert_int_equal(res.status, status);
	assert_string_equal(res.reason, reason);
	done(p);
}

static void test_start_line_errors(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		int status;
		const char
		    *check_reason; /* rejected by sip_check_request with this, not by the parser */
	} cases[] = {
	    {"INVITE  sip:a@b SIP/2.0", 400, NULL},
	    {"INVITE sip:a@b SIP/2.0 ", 400, NULL},
	    {"INVITE sip:a@b", 400, NULL},
	    {"INVITE <sip:a@b> SIP/2.0", 400, NULL},
	    {"INVITE sip:a@b; lr SIP/2.0", 400, NULL},
	    {"INVITE sip:a@b SIP/7.0", 505, NULL},
	    {"INVITE sip:a@b SIP/2.00", 505, NULL},
	    {"INVITE sip:a@b HTTP/1.1", 400, NULL},
	    {"INV\"ITE sip:a@b SIP/2.0", 400, NULL},
	    /* the parser only delimits the Request-URI; its syntax is the UAS check's */
	    {"INVITE sip:2001:db8::1 SIP/2.0", 400, "Bad Request-URI"},
	    {"INVITE sip:a@b?Route=x SIP/2.0", 400, "Headers in Request-URI"},
	    {"INVITE sip:a@b@c SIP/2.0", 400, "Bad Request-URI"},
	    {"INVITE sip:a@256.0.0.1 SIP/2.0", 400, "Bad Request-URI"},
	    {"INVITE sip:a@[::1 SIP/2.0", 400, "Bad Request-URI"},
	    {"INVITE sip:a@b:65536 SIP/2.0", 400, "Bad Request-URI"},
	    {"INVITE sip:a@b;x=\"y SIP/2.0", 400, "Bad Request-URI"},
	    {"INVITE tel:+ SIP/2.0", 400, "Bad Request-URI"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%s\r\n" HDRS_MIN "\r\n", cases[i].line);
		if (cases[i].check_reason) {
			check_rejected(buf, cases[i].status, cases[i].check_reason);
			continue;
		}
		struct parsed *p = parse(buf, SIP_PARSE_DATAGRAM);
		assert_int_equal(p->rc, SB_EMALFORMED);
		assert_true(p->m.is_request);
		assert_int_equal(p->m.error_status, cases[i].status);
		assert_non_null(p->m.error_reason);
		/* partial fields kept so a 400 can be built */
		assert_true(sb_slice_eq_cstr(p->m.call_id, "a84b4c76e66710@pc33.example.net"));
		done(p);
	}
}

static void test_unknown_method(void **state)
{
	(void)state;
	const char *s =
	    "!interesting-Method0123456789_*+`.%indeed'~ sip:a@b SIP/2.0\r\n" HDRS_MIN "\r\n";
	struct parsed *p = parse(s, SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_int_equal(p->m.method, SIP_METHOD_OTHER);
	done(p);
	/* methods are case-sensitive */
	p = parse("invite sip:a@b SIP/2.0\r\n" HDRS_MIN "\r\n", SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_int_equal(p->m.method, SIP_METHOD_OTHER);
	done(p);
}

static void check_bad_header(const char *hdr_lines, int status, const char *reason)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "OPTIONS sip:a@b SIP/2.0\r\n%s\r\n", hdr_lines);
	struct parsed *p = parse(buf, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, status);
	if (reason)
		assert_string_equal(p->m.error_reason, reason);
	done(p);
}

#define V "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
#define T "To: <sip:a@b>\r\n"
#define F "From: <sip:c@d>;tag=1\r\n"
#define C "Call-ID: x\r\n"
#define Q "CSeq: 1 OPTIONS\r\n"

static void test_missing_and_duplicate(void **state)
{
	(void)state;
	check_bad_header(T F C Q, 400, "Missing Via");
	check_bad_header(V F C Q, 400, "Missing To");
	check_bad_header(V T C Q, 400, "Missing From");
	check_bad_header(V T F Q, 400, "Missing Call-ID");
	check_bad_header(V T F C, 400, "Missing CSeq");
	check_bad_header(V T T F C Q, 400, "Multiple To");
	check_bad_header(V T F F C Q, 400, "Multiple From");
	check_bad_header(V T F C "i: y\r\n" Q, 400, "Multiple Call-ID");
	check_bad_header(V T F C Q Q, 400, "Multiple CSeq");
	check_bad_header(V T F C Q "Max-Forwards: 1\r\nMax-Forwards: 1\r\n", 400,
			 "Multiple Max-Forwards");
	check_bad_header(V T F C Q "Content-Length: 0\r\nl: 5\r\n", 400,
			 "Conflicting Content-Length");
	check_bad_header(V T F C Q "Content-Type: a/b\r\nc: a/c\r\n", 400, "Multiple Content-Type");

	/* the same Content-Length twice is harmless */
	struct parsed *p =
	    parse("OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "Content-Length: 0\r\nl: 0\r\n\r\n",
		  SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	done(p);
}

static void test_numbers(void **state)
{
	(void)state;
	check_bad_header(V T F C "CSeq: 2147483648 OPTIONS\r\n", 400, "Bad CSeq");
	check_bad_header(V T F C "CSeq: 36893488147419103232 OPTIONS\r\n", 400, "Bad CSeq");
	check_bad_header(V T F C "CSeq: -1 OPTIONS\r\n", 400, "Bad CSeq");
	check_bad_header(V T F C "CSeq: 1\r\n", 400, "Bad CSeq");
	check_bad_header(V T F C "CSeq: OPTIONS\r\n", 400, "Bad CSeq");
	check_bad_header(V T F C "CSeq: 1 OPTIONS x\r\n", 400, "Bad CSeq");
	check_bad_header(V T F C Q "Max-Forwards: 256\r\n", 400, "Bad Max-Forwards");
	check_bad_header(V T F C Q "Max-Forwards: -1\r\n", 400, "Bad Max-Forwards");
	check_bad_header(V T F C Q "Max-Forwards: \r\n", 400, "Bad Max-Forwards");
	check_bad_header(V T F C Q "Content-Length: -999\r\n", 400, "Bad Content-Length");
	check_bad_header(V T F C Q "Content-Length: 18446744073709551616\r\n", 400,
			 "Bad Content-Length");
	check_bad_header(V T F C Q "Content-Length: 1x\r\n", 400, "Bad Content-Length");
	check_bad_header(V T F C Q "Content-Length: 9999\r\n", 400, "Content-Length Too Large");

	struct parsed *p =
	    parse("OPTIONS sip:a@b SIP/2.0\r\n" V T F C "CSeq: 2147483647 OPTIONS\r\n"
		  "Max-Forwards: 255\r\n\r\n",
		  SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_int_equal(p->m.cseq.num, 2147483647u);
	assert_int_equal(p->m.max_forwards, 255);
	done(p);
}

static void test_quotes(void **state)
{
	(void)state;
	check_bad_header(V "To: \"Mr. J. User <sip:j.user@example.com>\r\n" F C Q, 400, "Bad To");
	check_bad_header(V "To: \"abc\\\r\n" F C Q, 400, "Bad To");   /* lone trailing backslash */
	check_bad_header(V "To: \"abc\\\"\r\n" F C Q, 400, "Bad To"); /* escaped quote at the end */
	check_bad_header(V "To: < sip:a@b >\r\n" F C Q, 400, "Bad To");
	check_bad_header(V "To: <sip:a@b\r\n" F C Q, 400, "Bad To");
	check_bad_header(V "To: *\r\n" F C Q, 400, "Bad To");
	check_bad_header(V "To: <sip:a@b> junk\r\n" F C Q, 400, "Bad To");
	check_bad_header(V "To: <sip:a@b>;x=\"y\r\n" F C Q, 400, "Bad To"); /* unterminated param */
	/* the parser only delimits From/To and picks out the tag; sip_check_request checks the
	 * display name and the header parameters */
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V "To: Bell, Alexander <sip:a@b>\r\n" F C Q
		       "\r\n",
		       400, "Bad To");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V "To: <sip:a@b>;;tag=1\r\n" F C Q "\r\n", 400,
		       "Bad To");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V "To: <sip:a@b>;tag=\r\n" F C Q "\r\n", 400,
		       "Bad To");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V "To: <sip:a@b>;t@g=1\r\n" F C Q "\r\n", 400,
		       "Bad To");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V "To: B\xc3\xb6"
		       "b <sip:a@b>\r\n" F C Q "\r\n",
		       400, "Bad To");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V "To: <sip:a@b>;\r\n" F C Q "\r\n", 400,
		       "Bad To");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T "From: <sip:c@d>;tag=1 2\r\n" C Q "\r\n",
		       400, "Bad From");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T "From: Bob;x <sip:c@d>;tag=1\r\n" C Q
		       "\r\n",
		       400, "Bad From");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T "From: <sip:c@d>;tag=1;\r\n" C Q "\r\n",
		       400, "Bad From");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T "From: sip:c@d;tag=1;=x\r\n" C Q "\r\n",
		       400, "Bad From");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T "From: <sip:c@d@e>;tag=1\r\n" C Q "\r\n",
		       400, "Bad From");
	/* the parser reads only the key's parameters of the top Via; sip_check_request the rest */
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n" T F C Q
		       "\r\n",
		       400, "Bad Via");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;;branch=z9hG4bK1\r\n" T F C Q
		       "\r\n",
		       400, "Bad Via");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9 hG4bK1\r\n" T F C Q
		       "\r\n",
		       400, "Bad Via");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;bra@nch=1\r\n" T F C Q "\r\n",
		       400, "Bad Via");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=\r\n" T F C Q "\r\n",
		       400, "Bad Via");
	check_bad_header("Via: SIP/2.0/UDP\r\n" T F C Q, 400, "Bad Via");
	check_bad_header("Via: SIP/2.0/UDP h:0\r\n" T F C Q, 400, "Bad Via");
	check_bad_header("Via: SIP/2.0/UDP h:65536\r\n" T F C Q, 400, "Bad Via");
	check_bad_header("Via: SIP/2.0/UDP h;rport=x\r\n" T F C Q, 400, "Bad Via");
	check_bad_header("Via: SIP/2.0/UDP [::1\r\n" T F C Q, 400, "Bad Via");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T F "Call-ID: a b\r\n" Q "\r\n", 400,
		       "Bad Call-ID");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T F "Call-ID: a;b\r\n" Q "\r\n", 400,
		       "Bad Call-ID");
	check_rejected("OPTIONS sip:a@b SIP/2.0\r\n" V T F "Call-ID: a\xff\r\n" Q "\r\n", 400,
		       "Bad Call-ID");
	check_bad_header(V T F "Call-ID:\r\n" Q, 400, "Bad Call-ID");

	/* quoted-pairs of NUL, BEL and DEL are legal */
	static const char raw[] =
	    "OPTIONS sip:a@b SIP/2.0\r\n" V "To: \"\\\x00\\\x07\\\x7f\" <sip:a@b>\r\n" F C Q "\r\n";
	struct parsed *p = parse_n(raw, sizeof(raw) - 1, SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_int_equal(p->m.to.display.len, 8);
	done(p);
}

static void test_bad_header_lines(void **state)
{
	(void)state;
	check_bad_header(V T F C Q "Foobar roobar\r\n", 400, "Bad Header");
	check_bad_header(V T F C Q ": novalue\r\n", 400, "Bad Header");
	check_bad_header(V T F C Q "Bad Name: x\r\n", 400, "Bad Header");
	check_bad_header(V T F C Q "Via\r: x\r\n", 400, "Bad Header");
	/* extension header names are tokens and never unescaped */
	struct parsed *p =
	    parse("OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "C%6Fntact: <sip:x@y>\r\n\r\n",
		  SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_null(sip_msg_hdr(&p->m, SIP_HDR_CONTACT));
	assert_non_null(sip_msg_hdr_by_name(&p->m, "c%6fntact"));
	done(p);
}

static void test_nul_bytes(void **state)
{
	(void)state;
	static const char raw[] = "MESSAGE sip:a@b SIP/2.0\r\n" V T F C "CSeq: 1 MESSAGE\r\n"
				  "X-Bin: a\x00z\r\n"
				  "Content-Length: 6\r\n\r\n"
				  "\x00\n\x00\r\xff\x00";
	struct parsed *p = parse_n(raw, sizeof(raw) - 1, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, (int)(sizeof(raw) - 1));
	assert_int_equal(p->m.body.len, 6);
	const struct sip_hdr *h = sip_msg_hdr_by_name(&p->m, "x-bin");
	assert_non_null(h);
	assert_int_equal(h->value.len, 3);
	done(p);
}

static void test_datagram_body(void **state)
{
	(void)state;
	/* Content-Length smaller than the datagram: the rest is discarded */
	const char *s =
	    "OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "Content-Length: 2\r\n\r\nabINVITE x";
	struct parsed *p = parse(s, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, (int)(strlen(s) - 8));
	assert_true(sb_slice_eq_cstr(p->m.body, "ab"));
	done(p);
	/* no Content-Length: body is the rest */
	s = "OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "\r\nrest of it";
	p = parse(s, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, (int)strlen(s));
	assert_true(sb_slice_eq_cstr(p->m.body, "rest of it"));
	done(p);
	/* header section never terminated */
	p = parse("OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 400);
	assert_true(sb_slice_eq_cstr(p->m.call_id, "x"));
	done(p);
}

static void test_stream(void **state)
{
	(void)state;
	size_t len = strlen(invite);
	/* every split point: need more until the last byte */
	for (size_t cut = 0; cut < len; cut++) {
		struct parsed *p = parse_n(invite, cut, SIP_PARSE_STREAM);
		assert_int_equal(p->rc, SB_EAGAIN);
		done(p);
	}
	/* two messages in one buffer */
	char two[2048];
	snprintf(two, sizeof(two), "%s%s", invite, invite);
	struct parsed *p = parse(two, SIP_PARSE_STREAM);
	assert_int_equal(p->rc, (int)len);
	struct sip_msg *m2 = malloc(sizeof(*m2));
	assert_non_null(m2);
	assert_int_equal(
	    sip_msg_parse(m2, p->buf + p->rc, p->len - (size_t)p->rc, SIP_PARSE_STREAM), (int)len);
	free(m2);
	done(p);
	/* stream without Content-Length */
	p = parse("OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "\r\n", SIP_PARSE_STREAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_string_equal(p->m.error_reason, "Missing Content-Length");
	done(p);
	/* Content-Length beyond the message limit */
	p = parse("OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "Content-Length: 70000\r\n\r\n",
		  SIP_PARSE_STREAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 413);
	done(p);
}

static void test_limits(void **state)
{
	(void)state;
	/* 10000 headers */
	size_t cap = 200000, n = 0;
	char *big = malloc(cap);
	assert_non_null(big);
	n += (size_t)snprintf(big + n, cap - n, "OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q);
	for (int i = 0; i < 10000; i++)
		n += (size_t)snprintf(big + n, cap - n, "X-H%d: v\r\n", i);
	n += (size_t)snprintf(big + n, cap - n, "\r\n");
	struct parsed *p = parse_n(big, n, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 413);
	assert_int_equal(p->m.nhdrs, SIP_MAX_HEADERS);
	done(p);

	/* 191 Via lines fit, values are all reachable */
	n = (size_t)snprintf(big, cap, "OPTIONS sip:a@b SIP/2.0\r\n" T F C Q);
	for (int i = 0; i < SIP_MAX_HEADERS - 4; i++)
		n += (size_t)snprintf(big + n, cap - n,
				      "v: SIP/2.0/UDP h%d;branch=z9hG4bK%d, SIP/2.0/TCP g\r\n", i,
				      i);
	n += (size_t)snprintf(big + n, cap - n, "\r\n");
	p = parse_n(big, n, SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	assert_int_equal(sip_hdr_count_values(&p->m, SIP_HDR_VIA), 2 * (SIP_MAX_HEADERS - 4));
	done(p);

	/* one header line longer than SIP_MAX_LINE */
	n = (size_t)snprintf(big, cap, "OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q "X-Long: ");
	memset(big + n, 'a', SIP_MAX_LINE + 10);
	n += SIP_MAX_LINE + 10;
	n += (size_t)snprintf(big + n, cap - n, "\r\n\r\n");
	p = parse_n(big, n, SIP_PARSE_DATAGRAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 413);
	done(p);

	/* more than SIP_MAX_MESSAGE bytes without the end of the header section */
	n = (size_t)snprintf(big, cap, "OPTIONS sip:a@b SIP/2.0\r\n");
	while (n < SIP_MAX_MESSAGE + 100)
		n += (size_t)snprintf(big + n, cap - n,
				      "X-Pad: 0123456789012345678901234567890123456789\r\n");
	p = parse_n(big, n, SIP_PARSE_STREAM);
	assert_int_equal(p->rc, SB_EMALFORMED);
	assert_int_equal(p->m.error_status, 413);
	done(p);
	free(big);
}

static void test_hdr_lookup(void **state)
{
	(void)state;
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("via")), SIP_HDR_VIA);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("VIA")), SIP_HDR_VIA);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("v")), SIP_HDR_VIA);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("V")), SIP_HDR_VIA);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("call-id")), SIP_HDR_CALL_ID);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("Call\rID")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("Call_ID")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("p-asserted-IDENTITY")),
			 SIP_HDR_P_ASSERTED_IDENTITY);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("x")), SIP_HDR_SESSION_EXPIRES);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("q")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("")), SIP_HDR_OTHER);
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT("X-Unknown-Header-With-A-Long-Name")),
			 SIP_HDR_OTHER);
	/* every canonical name and compact form maps back to its id; names hold only letters and
	 * '-' (the lookup's case folding is exact only for those) */
#define CHECK_ONE(id, name, compact)                                                               \
	for (const char *ch = name; *ch; ch++)                                                     \
		assert_true((*ch >= 'a' && *ch <= 'z') || (*ch >= 'A' && *ch <= 'Z') ||            \
			    *ch == '-');                                                           \
	assert_int_equal(sip_hdr_lookup(SB_SLICE_LIT(name)), SIP_HDR_##id);                        \
	assert_string_equal(sip_hdr_name(SIP_HDR_##id), name);                                     \
	if (compact) {                                                                             \
		char cc = (char)(compact);                                                         \
		assert_int_equal(sip_hdr_lookup(sb_slice(&cc, 1)), SIP_HDR_##id);                  \
	}
	SIP_HDR_MAP(CHECK_ONE)
#undef CHECK_ONE
	assert_int_equal(sip_method_from(SB_SLICE_LIT("PRACK")), SIP_METHOD_PRACK);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("prack")), SIP_METHOD_OTHER);
}

static void test_next_value(void **state)
{
	(void)state;
	const char *s = "OPTIONS sip:a@b SIP/2.0\r\n" V T F C Q
			"Contact: \"A, \\\"B\\\"\" <sip:a@b;x=1,2>;q=0.5 , <sip:c@d>,,\r\n"
			"m: sip:e@f\r\n"
			"Supported: timer,  100rel ,replaces\r\n"
			"Unknown: ;;,,;;,;\r\n"
			"\r\n";
	struct parsed *p = parse(s, SIP_PARSE_DATAGRAM);
	assert_true(p->rc > 0);
	struct sip_hdr_iter it;
	struct sb_slice v;
	sip_hdr_iter_init(&it);
	assert_true(sip_hdr_next_value(&p->m, SIP_HDR_CONTACT, &it, &v));
	assert_true(sb_slice_eq_cstr(v, "\"A, \\\"B\\\"\" <sip:a@b;x=1,2>;q=0.5"));
	struct sip_name_addr na;
	assert_int_equal(sip_name_addr_parse(v, &na), SB_EMALFORMED); /* ',' is not a paramchar */
	assert_true(sip_hdr_next_value(&p->m, SIP_HDR_CONTACT, &it, &v));
	assert_true(sb_slice_eq_cstr(v, "<sip:c@d>"));
	assert_true(sip_hdr_next_value(&p->m, SIP_HDR_CONTACT, &it, &v));
	assert_true(sb_slice_eq_cstr(v, "sip:e@f"));
	assert_false(sip_hdr_next_value(&p->m, SIP_HDR_CONTACT, &it, &v));
	assert_false(sip_hdr_next_value(&p->m, SIP_HDR_CONTACT, &it, &v));
	assert_int_equal(sip_hdr_count_values(&p->m, SIP_HDR_SUPPORTED), 3);
	assert_true(sip_msg_has_tag(&p->m, SIP_HDR_SUPPORTED, "100REL"));
	assert_false(sip_msg_has_tag(&p->m, SIP_HDR_SUPPORTED, "100"));
	assert_false(sip_msg_has_tag(&p->m, SIP_HDR_REQUIRE, "timer"));
	assert_int_equal(sip_hdr_count_values(&p->m, SIP_HDR_ROUTE), 0);
	done(p);
}

static void test_param_get(void **state)
{
	(void)state;
	struct sb_slice v;
	struct sb_slice ps = SB_SLICE_LIT(" ; Tag = abc ;lr; q=0.5;x=\"a;b\"");
	assert_true(sip_param_get(ps, "tag", &v));
	assert_true(sb_slice_eq_cstr(v, "abc"));
	assert_true(sip_param_get(ps, "LR", &v));
	assert_true(sb_slice_empty(v));
	assert_true(sip_param_get(ps, "x", &v));
	assert_true(sb_slice_eq_cstr(v, "\"a;b\""));
	assert_false(sip_param_get(ps, "b\"", &v));
	assert_false(sip_param_get(ps, "ta", &v));
	assert_true(sip_param_get(ps, "q", NULL));
	assert_false(sip_param_get(SB_SLICE_NULL, "q", &v));
	assert_false(sip_param_get(SB_SLICE_LIT(";"), "q", &v));
	assert_false(sip_param_get(SB_SLICE_LIT(";x=\"unterminated"), "y", &v));
}

static void test_name_addr(void **state)
{
	(void)state;
	struct sip_name_addr na;
	assert_int_equal(
	    sip_name_addr_parse(SB_SLICE_LIT("caller<sip:caller@example.com>;tag=323"), &na), 0);
	assert_true(sb_slice_eq_cstr(na.display, "caller"));
	assert_true(sb_slice_eq_cstr(na.tag, "323"));
	assert_int_equal(
	    sip_name_addr_parse(SB_SLICE_LIT("sip:+1972@gw1.example.net;unknownparam"), &na), 0);
	assert_false(na.angle);
	assert_true(sb_slice_empty(na.uri.params));
	assert_true(sb_slice_eq_cstr(na.params, ";unknownparam"));
	assert_int_equal(
	    sip_name_addr_parse(SB_SLICE_LIT("<sip:+1972@gw1.example.net;unknownparam>"), &na), 0);
	assert_true(sb_slice_eq_cstr(na.uri.params, ";unknownparam"));
	assert_true(sb_slice_empty(na.params));
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT(" * "), &na), 0);
	assert_true(na.star);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT("isbn:2983792873"), &na), 0);
	assert_int_equal(na.uri.scheme, SIP_URI_OTHER);
	assert_int_equal(
	    sip_name_addr_parse(SB_SLICE_LIT("sip:user@example.com?Route=%3Csip:x%3E"), &na),
	    SB_EMALFORMED);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT("<sip:a@b>, <sip:c@d>"), &na),
			 SB_EMALFORMED);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT("\"x\" sip:a@b"), &na), SB_EMALFORMED);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT("<sip:a@b> junk"), &na), SB_EMALFORMED);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT(""), &na), SB_EMALFORMED);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT("\"\\"), &na), SB_EMALFORMED);
	assert_int_equal(sip_name_addr_parse(SB_SLICE_LIT("<sip:a@b>;tag"), &na), 0);
	assert_true(sb_slice_empty(na.tag));
}

static void test_via(void **state)
{
	(void)state;
	struct sip_via v;
	assert_int_equal(
	    sip_via_parse(SB_SLICE_LIT("SIP/2.0/TCP [2001:db8::9:255]:5061;branch=z9hG4bK451jj;"
				       "received=192.0.2.200;rport=5070"),
			  &v),
	    0);
	assert_true(sb_slice_eq_cstr(v.host, "2001:db8::9:255"));
	assert_int_equal(v.port, 5061);
	assert_true(sb_slice_eq_cstr(v.received, "192.0.2.200"));
	assert_true(v.rport);
	assert_int_equal(v.rport_value, 5070);
	assert_true(sb_slice_eq_cstr(v.protocol, "SIP/2.0"));
	assert_int_equal(
	    sip_via_parse(
		SB_SLICE_LIT("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9"), &v),
	    0);
	assert_true(sb_slice_eq_cstr(v.received, "2001:db8::9:255"));
	assert_true(sb_slice_eq_cstr(v.branch, "z9"));
	assert_int_equal(sip_via_parse(SB_SLICE_LIT("SIP/2.0/UDP a, SIP/2.0/UDP b"), &v),
			 SB_EMALFORMED);
	assert_int_equal(sip_via_parse(SB_SLICE_LIT("SIP/2.0 UDP a"), &v), SB_EMALFORMED);
	assert_int_equal(sip_via_parse(SB_SLICE_LIT("SIP/2.0/UDP a junk"), &v), SB_EMALFORMED);
	assert_int_equal(sip_via_parse(SB_SLICE_LIT("SIP/2.0/UDP a;branch="), &v), SB_EMALFORMED);
	assert_int_equal(sip_via_parse(SB_SLICE_LIT("SIP/2.0/UDP [2001:db8:::1]"), &v),
			 SB_EMALFORMED);
	assert_int_equal(sip_via_parse(SB_SLICE_LIT(""), &v), SB_EMALFORMED);
	struct sip_cseq c;
	assert_int_equal(sip_cseq_parse(SB_SLICE_LIT(" 0009\r\n INVITE "), &c), 0);
	assert_int_equal(c.num, 9);
	assert_int_equal(c.method, SIP_METHOD_INVITE);
}

static bool slice_same(struct sb_slice a, struct sb_slice b)
{
	return a.len == b.len && (a.len == 0 || a.p == b.p);
}

/* The eager top Via and Request-URI are only delimited, but for valid input they must be exactly
 * what the full parsers give. */
static void test_eager_equals_full(void **state)
{
	(void)state;
	static const char *const vias[] = {
	    "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds;rport",
	    "SIP/2.0/TCP "
	    "[2001:db8::9:255]:5061;branch=z9hG4bK451jj;received=192.0.2.200;rport=5070",
	    "SIP / 2.0 / UDP h.example.com ; branch = z9hG4bK1 ; rport = 1 ; received = 10.0.0.1",
	    "SIP/2.0/UDP h;x=\"a;b,c\";branch=z9hG4bKq, SIP/2.0/UDP g;branch=z9hG4bK2",
	    "SIP/2.0/UDP h;BRANCH=z9hG4bK3;Received=[2001:db8::1];RPort;ttl=5;maddr=224.2.0.1",
	    "sip/2.0/sctp h:1;branch=z9hG4bK4 ,SIP/2.0/UDP g",
	    "SIP/2.0/UDP h",
	};
	static const char *const ruris[] = {
	    "sip:bob@example.com",
	    "sips:alice:secret@[2001:db8::10]:5061;transport=tcp;lr",
	    "sip:user;par=u%40example.net@example.com",
	    "sip:+1-212-555-0101@gw.example.com;user=phone",
	    "sip:192.0.2.4:5070",
	    "tel:+1-212-555-0101;phone-context=example.com",
	    "urn:service:sos",
	    "SIP:%61lice@example.com;maddr=239.255.255.1",
	};
	for (size_t i = 0; i < sizeof(vias) / sizeof(vias[0]); i++) {
		for (size_t k = 0; k < sizeof(ruris) / sizeof(ruris[0]); k++) {
			char buf[1024];
			snprintf(buf, sizeof(buf),
				 "OPTIONS %s SIP/2.0\r\nVia: %s\r\n" T F C Q "\r\n", ruris[k],
				 vias[i]);
			struct parsed *p = parse(buf, SIP_PARSE_DATAGRAM);
			assert_true(p->rc > 0);
			struct sip_hdr_iter it;
			struct sb_slice v;
			sip_hdr_iter_init(&it);
			assert_true(sip_hdr_next_value(&p->m, SIP_HDR_VIA, &it, &v));
			struct sip_via full;
			assert_int_equal(sip_via_parse(v, &full), 0);
			const struct sip_via *e = &p->m.via;
			assert_true(slice_same(e->protocol, full.protocol));
			assert_true(slice_same(e->transport, full.transport));
			assert_true(slice_same(e->host, full.host));
			assert_int_equal(e->port, full.port);
			assert_true(slice_same(e->branch, full.branch));
			assert_true(slice_same(e->received, full.received));
			assert_int_equal(e->rport, full.rport);
			assert_int_equal(e->rport_value, full.rport_value);
			assert_true(slice_same(e->params, full.params));
			assert_true(slice_same(e->raw, full.raw));
			struct sip_uri u;
			assert_int_equal(sip_uri_parse(p->m.ruri_raw, &u), 0);
			const struct sip_uri *r = &p->m.ruri;
			assert_int_equal(r->scheme, u.scheme);
			assert_true(slice_same(r->scheme_name, u.scheme_name));
			assert_true(slice_same(r->user, u.user));
			assert_true(slice_same(r->password, u.password));
			assert_true(slice_same(r->host, u.host));
			assert_int_equal(r->host_ipv6, u.host_ipv6);
			assert_int_equal(r->port, u.port);
			assert_true(slice_same(r->params, u.params));
			assert_true(slice_same(r->headers, u.headers));
			assert_true(slice_same(r->raw, u.raw));
			done(p);
		}
	}
}

/* The eager From/To parse only delimits, but for valid input it must give exactly the fields the
 * strict sip_name_addr_parse gives, the tag above all (never one inside quotes or <>). */
static void test_eager_name_addr_equals_full(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		const char *tag;
	} cases[] = {
	    {"\"Alice Caller\" <sip:+14155550100@trunk.example.net;user=phone>;tag=as6f3c2b1a",
	     "as6f3c2b1a"},
	    {"<sip:bob@example.com>", ""},
	    {"sip:bob@example.com;tag=abc", "abc"},
	    {"sip:bob@example.com", ""},
	    {"Bob <sip:bob@example.com> ; TaG = 12 ; x=y", "12"},
	    {"Bob\t<sip:a@b>;Tag=q;lr", "q"},
	    {"\"J \\\"R\\\"\" <sip:j@example.com>;tag=98asjd8", "98asjd8"},
	    {"\"a;tag=no\" <sip:a;tag=no@b;tag=no?x=y>;TAG=yes", "yes"},
	    {"\"x;tag=1\" <sip:a@b>", ""},
	    {"<sip:a@b;tag=no>", ""},
	    {"<sip:a@b>;x=\"q;tag=no\";tag=yes", "yes"},
	    {"<sip:a@b>;tag=yes;x=\"q;tag=no\"", "yes"},
	    {"sip:a@b;tag=1;tag=2", "2"},
	    {"<tel:+1-212-555-0101;phone-context=example.com>;tag=t", "t"},
	    {"\"\" <sip:a@b>;tag", ""},
	    {"<sips:alice:pw@[2001:db8::1]:5061;transport=tls>;tag=x;other", "x"},
	    {"urn:service:sos;tag=z", "z"},
	    {"\"\xc3\xa9l\xc3\xa8ve\" <sip:e@x>;tag=u", "u"},
	    {"<sip:a@b>;tag=x\r\n ;y=z", "x"},
	    {"\"<sip:no@x>;tag=no\"   <sip:a@b>;tag=[2001:db8::1]", "[2001:db8::1]"},
	    {"caller<sip:caller@example.com>;tag=323", "323"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char buf[1024];
		snprintf(buf, sizeof(buf),
			 "OPTIONS sip:a@b SIP/2.0\r\n" V "From: %s\r\nTo: %s\r\n" C Q "\r\n",
			 cases[i].value, cases[i].value);
		struct parsed *p = parse(buf, SIP_PARSE_DATAGRAM);
		assert_true(p->rc > 0);
		const struct sip_name_addr *eager[] = {&p->m.from, &p->m.to};
		const enum sip_hdr_id ids[] = {SIP_HDR_FROM, SIP_HDR_TO};
		for (size_t k = 0; k < 2; k++) {
			struct sip_name_addr full;
			assert_int_equal(
			    sip_name_addr_parse(sip_msg_hdr(&p->m, ids[k])->value, &full), 0);
			const struct sip_name_addr *e = eager[k];
			assert_true(sb_slice_eq_cstr(e->tag, cases[i].tag));
			assert_true(slice_same(e->tag, full.tag));
			assert_true(slice_same(e->display, full.display));
			assert_true(slice_same(e->params, full.params));
			assert_true(slice_same(e->raw, full.raw));
			assert_int_equal(e->angle, full.angle);
			assert_int_equal(e->star, full.star);
			assert_true(slice_same(e->uri.raw, full.uri.raw));
			assert_int_equal(e->uri.scheme, full.uri.scheme);
			assert_true(slice_same(e->uri.scheme_name, full.uri.scheme_name));
			assert_true(slice_same(e->uri.user, full.uri.user));
		}
		static const enum sip_method methods[] = {SIP_METHOD_OPTIONS};
		const struct sip_check_policy pol = {.methods = methods, .n_methods = 1};
		struct sip_check_result res;
		assert_int_equal(sip_check_request(&p->m, &pol, &res), 0);
		done(p);
	}
}

/* The word-at-a-time helpers against their byte loops: every start, length and stop position,
 * on exact-size heap copies so ASan flags a read past the end (the vector scan's overlapping
 * last load must stay inside). */
static void test_scan_helpers(void **state)
{
	(void)state;
	const char stops[] = {';', ',', '"', '<', (char)0xC3, 'a'};
	for (size_t n = 0; n <= 40; n++) {
		char *b = malloc(n ? n : 1);
		assert_non_null(b);
		for (size_t k = 0; k < sizeof(stops); k++) {
			for (size_t at = 0; at <= n; at++) {
				memset(b, 'x', n);
				if (at < n)
					b[at] = stops[k];
				for (size_t i = 0; i <= n; i++)
					assert_int_equal(sip__pscan(b, i, n),
							 sip__span(b, i, n, SIP__CC_PSCAN));
			}
		}
		free(b);
	}
	for (size_t n = 1; n <= 8; n++) {
		char *b = malloc(n);
		assert_non_null(b);
		uint64_t want = 0;
		for (size_t i = 0; i < n; i++) {
			b[i] = (char)(0x80 + 3 * i);
			want |= (uint64_t)(unsigned char)b[i] << (8 * i);
		}
		if (!SB_BIG_ENDIAN)
			assert_true(sip__ld_n(b, n) == want);
		free(b);
	}
	assert_true(SIP__EQ_ALPHA(SB_SLICE_LIT("BRANCH"), "branch"));
	assert_true(SIP__EQ_ALPHA(SB_SLICE_LIT("bRaNcH"), "branch"));
	assert_false(SIP__EQ_ALPHA(SB_SLICE_LIT("branc"), "branch"));
	assert_false(SIP__EQ_ALPHA(SB_SLICE_LIT("branch "), "branch"));
	assert_false(SIP__EQ_ALPHA(SB_SLICE_LIT("bran\x03h"), "branch"));
	assert_true(SIP__EQ_ALPHA(SB_SLICE_LIT("Received"), "received"));
	assert_false(SIP__EQ_ALPHA(SB_SLICE_LIT("receive@"), "received"));
	assert_true(SIP__EQ_ALPHA(SB_SLICE_LIT("TAG"), "tag"));
	assert_false(SIP__EQ_ALPHA(SB_SLICE_LIT("ta"), "tag"));
	assert_int_equal(sip_method_from(SB_SLICE_LIT("INVITE")), SIP_METHOD_INVITE);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("invite")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("SUBSCRIBE")), SIP_METHOD_SUBSCRIBE);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("SUBSCRIBX")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("ACK")), SIP_METHOD_ACK);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("ACKS")), SIP_METHOD_OTHER);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("BYE")), SIP_METHOD_BYE);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("INFO")), SIP_METHOD_INFO);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("PUBLISH")), SIP_METHOD_PUBLISH);
	assert_int_equal(sip_method_from(SB_SLICE_LIT("")), SIP_METHOD_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_invite),
	    cmocka_unit_test(test_response),
	    cmocka_unit_test(test_bad_status),
	    cmocka_unit_test(test_empty_and_crlf),
	    cmocka_unit_test(test_leading_crlf_counted),
	    cmocka_unit_test(test_bare_lf),
	    cmocka_unit_test(test_folding_and_lws),
	    cmocka_unit_test(test_start_line_errors),
	    cmocka_unit_test(test_unknown_method),
	    cmocka_unit_test(test_missing_and_duplicate),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_quotes),
	    cmocka_unit_test(test_bad_header_lines),
	    cmocka_unit_test(test_nul_bytes),
	    cmocka_unit_test(test_datagram_body),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_hdr_lookup),
	    cmocka_unit_test(test_scan_helpers),
	    cmocka_unit_test(test_next_value),
	    cmocka_unit_test(test_param_get),
	    cmocka_unit_test(test_name_addr),
	    cmocka_unit_test(test_via),
	    cmocka_unit_test(test_eager_equals_full),
	    cmocka_unit_test(test_eager_name_addr_equals_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
