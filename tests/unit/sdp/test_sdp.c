/* Unit tests for src/sdp/parse.c, print.c and codec.c: real-world bodies, torture bodies,
 * directions and hold, malformed input, and parse -> print -> parse round trips. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "sdp/sdp.h"

#ifndef SB_TESTDATA_DIR
#define SB_TESTDATA_DIR "../shared/testdata"
#endif

static const char twilio[] = "v=0\r\n"
			     "o=root 1818553337 1818553337 IN IP4 54.172.60.1\r\n"
			     "s=Twilio Media Gateway\r\n"
			     "c=IN IP4 54.172.60.1\r\n"
			     "t=0 0\r\n"
			     "m=audio 13956 RTP/AVP 0 8 101\r\n"
			     "a=rtpmap:0 PCMU/8000\r\n"
			     "a=rtpmap:8 PCMA/8000\r\n"
			     "a=rtpmap:101 telephone-event/8000\r\n"
			     "a=fmtp:101 0-16\r\n"
			     "a=ptime:20\r\n"
			     "a=maxptime:150\r\n"
			     "a=sendrecv\r\n";

static const char telnyx[] = "v=0\r\n"
			     "o=- 1680000000 1680000001 IN IP4 192.76.120.10\r\n"
			     "s=Telnyx SIP Session\r\n"
			     "c=IN IP4 192.76.120.10\r\n"
			     "t=0 0\r\n"
			     "m=audio 20000 RTP/AVP 8 0 9 101 13\r\n"
			     "a=rtpmap:8 PCMA/8000\r\n"
			     "a=rtpmap:0 PCMU/8000\r\n"
			     "a=rtpmap:9 G722/8000\r\n"
			     "a=rtpmap:101 telephone-event/8000\r\n"
			     "a=fmtp:101 0-16\r\n"
			     "a=rtpmap:13 CN/8000\r\n"
			     "a=ptime:20\r\n"
			     "a=sendrecv\r\n";

static const char asterisk[] = "v=0\r\n"
			       "o=- 1234567890 1234567892 IN IP4 10.0.0.5\r\n"
			       "s=Asterisk\r\n"
			       "c=IN IP4 10.0.0.5\r\n"
			       "t=0 0\r\n"
			       "m=audio 10000 RTP/AVP 9 0 8 101\r\n"
			       "a=rtpmap:9 G722/8000\r\n"
			       "a=rtpmap:0 PCMU/8000\r\n"
			       "a=rtpmap:8 PCMA/8000\r\n"
			       "a=rtpmap:101 telephone-event/8000\r\n"
			       "a=fmtp:101 0-16\r\n"
			       "a=ptime:20\r\n"
			       "a=maxptime:150\r\n"
			       "a=sendonly\r\n";

static const char baresip[] = "v=0\r\n"
			      "o=- 1957806245 2113418342 IN IP4 192.168.1.20\r\n"
			      "s=-\r\n"
			      "c=IN IP4 192.168.1.20\r\n"
			      "t=0 0\r\n"
			      "a=tool:baresip 3.10.1\r\n"
			      "m=audio 10606 RTP/AVP 96 9 0 8 101\r\n"
			      "b=AS:64\r\n"
			      "a=rtpmap:96 opus/48000/2\r\n"
			      "a=fmtp:96 stereo=1;sprop-stereo=1\r\n"
			      "a=rtpmap:9 G722/8000\r\n"
			      "a=rtpmap:0 PCMU/8000\r\n"
			      "a=rtpmap:8 PCMA/8000\r\n"
			      "a=rtpmap:101 telephone-event/8000\r\n"
			      "a=fmtp:101 0-15\r\n"
			      "a=rtcp-mux\r\n"
			      "a=sendrecv\r\n"
			      "a=label:1\r\n"
			      "a=ssrc:1404264347 cname:6a1e4c4e-8c1d-4b1a-a3f5-2f0f4a2ad2d1\r\n";

static const char linphone[] =
    "v=0\r\n"
    "o=alice 3177 2480 IN IP4 192.168.0.3\r\n"
    "s=Talk\r\n"
    "c=IN IP4 192.168.0.3\r\n"
    "t=0 0\r\n"
    "a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n"
    "a=record:off\r\n"
    "m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=fmtp:96 useinbandfec=1\r\n"
    "a=rtpmap:97 speex/16000\r\n"
    "a=fmtp:97 vbr=on\r\n"
    "a=rtpmap:98 speex/8000\r\n"
    "a=fmtp:98 vbr=on\r\n"
    "a=fmtp:18 annexb=yes\r\n"
    "a=rtpmap:101 telephone-event/48000\r\n"
    "a=rtpmap:99 telephone-event/16000\r\n"
    "a=rtpmap:100 telephone-event/8000\r\n"
    "a=rtcp:7079\r\n"
    "a=rtcp-fb:* trr-int 1000\r\n"
    "a=rtcp-fb:* ccm tmmbr\r\n"
    "m=video 9078 RTP/AVP 96 97\r\n"
    "a=rtpmap:96 VP8/90000\r\n"
    "a=rtpmap:97 H264/90000\r\n"
    "a=fmtp:97 profile-level-id=42801F\r\n"
    "a=rtcp-fb:* trr-int 1000\r\n";

static struct sb_slice S(const char *s) {
	return sb_slice_cstr(s);
}

static int
parse_str(struct sdp_session *s, const char *text)
{
	return sdp_parse(s, S(text));
}

/* Body of a torture .dat file (after the first blank line), malloc'd. */
static char *torture_body(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/sip-torture/%s", SB_TESTDATA_DIR, name);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *data = malloc(65536);
	assert_non_null(data);
	size_t n = fread(data, 1, 65535, f);
	fclose(f);
	data[n] = 0;
	char *sep = strstr(data, "\r\n\r\n");
	assert_non_null(sep);
	size_t off = (size_t)(sep + 4 - data);
	memmove(data, data + off, n - off + 1);
	*len = n - off;
	return data;
}

static void test_parse_twilio(void **state)
{
	(void)state;
	struct sdp_session s;
	assert_int_equal(parse_str(&s, twilio), 0);
	assert_true(s.has_origin);
	assert_true(sb_slice_eq_cstr(s.origin.username, "root"));
	assert_true(sb_slice_eq_cstr(s.origin.sess_id, "1818553337"));
	assert_int_equal(s.origin.sess_version, 1818553337ULL);
	assert_int_equal(s.origin.addr.type, SDP_ADDR_IP4);
	assert_true(sb_slice_eq_cstr(s.origin.addr.addr, "54.172.60.1"));
	assert_true(sb_slice_eq_cstr(s.name, "Twilio Media Gateway"));
	assert_true(s.has_time);
	assert_int_equal(s.conn.type, SDP_ADDR_IP4);
	assert_int_equal(s.n_media, 1);
	const struct sdp_media *m = &s.media[0];
	assert_true(sb_slice_eq_cstr(m->type, "audio"));
	assert_int_equal(m->port, 13956);
	assert_int_equal(m->proto, SDP_PROTO_RTP_AVP);
	assert_int_equal(m->n_fmt, 3);
	assert_int_equal(m->fmt[0].pt, 0);
	assert_true(sb_slice_eq_cstr(m->fmt[0].name, "PCMU"));
	assert_int_equal(m->fmt[0].rate, 8000);
	assert_int_equal(m->fmt[2].pt, 101);
	assert_true(sb_slice_eq_cstr(m->fmt[2].fmtp, "0-16"));
	assert_int_equal(m->ptime, 20);
	assert_int_equal(m->maxptime, 150);
	assert_true(m->has_dir);
	assert_int_equal(m->dir, SDP_SENDRECV);
	assert_int_equal(sdp_media_dir(&s, 0), SDP_SENDRECV);
	assert_ptr_equal(sdp_media_conn(&s, 0), &s.conn);
}

static void test_parse_baresip_linphone(void **state)
{
	(void)state;
	struct sdp_session s;
	assert_int_equal(parse_str(&s, baresip), 0);
	assert_int_equal(s.media[0].n_fmt, 5);
	assert_int_equal(s.media[0].fmt[0].channels, 2);
	assert_int_equal(s.media[0].fmt[0].rate, 48000);
	assert_true(sb_slice_eq_cstr(s.media[0].fmt[0].fmtp, "stereo=1;sprop-stereo=1"));
	assert_true(s.media[0].rtcp_mux);

	assert_int_equal(parse_str(&s, linphone), 0);
	assert_int_equal(s.n_media, 2);
	assert_int_equal(s.media[0].n_fmt, 9);
	assert_int_equal(s.media[0].rtcp_port, 7079);
	/* PT 18 has fmtp but no rtpmap */
	assert_int_equal(s.media[0].fmt[5].pt, 18);
	assert_false(s.media[0].fmt[5].has_rtpmap);
	assert_true(sb_slice_eq_cstr(s.media[0].fmt[5].fmtp, "annexb=yes"));
	assert_true(sb_slice_eq_cstr(s.media[1].type, "video"));
	assert_int_equal(s.media[1].fmt[1].rate, 90000);

	assert_int_equal(parse_str(&s, telnyx), 0);
	assert_int_equal(parse_str(&s, asterisk), 0);
	assert_int_equal(s.origin.sess_version, 1234567892ULL);
}

static void test_parse_bare_lf(void **state)
{
	(void)state;
	struct sdp_session s;
	const char *lf = "v=0\no=- 1 2 IN IP4 10.0.0.1\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\n"
			 "m=audio 4000 RTP/AVP 0\na=recvonly\n\n\n";
	assert_int_equal(parse_str(&s, lf), 0);
	assert_int_equal(s.media[0].port, 4000);
	assert_int_equal(sdp_media_dir(&s, 0), SDP_RECVONLY);
	/* no final line end at all */
	assert_int_equal(
	    parse_str(&s, "v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nm=audio 4000 RTP/AVP 0"), 0);
	assert_int_equal(s.media[0].n_fmt, 1);
}

static void test_parse_ipv6_torture(void **state)
{
	(void)state;
	size_t len;
	char *body = torture_body("ipv6-in-sdp.dat", &len);
	struct sdp_session s;
	assert_int_equal(sdp_parse(&s, sb_slice(body, len)), 0);
	assert_int_equal(s.origin.addr.type, SDP_ADDR_IP6);
	assert_true(sb_slice_eq_cstr(s.origin.addr.addr, "2001:db8::20"));
	assert_true(sb_slice_eq_cstr(s.origin.sess_id, "971731711378798081"));
	assert_int_equal(s.conn.type, SDP_ADDR_IP6);
	assert_true(sb_slice_eq_cstr(s.conn.addr, "2001:db8::20"));
	assert_int_equal(s.t_start, 3338481189ULL);
	assert_int_equal(s.n_media, 2);
	assert_true(sb_slice_eq_cstr(s.media[0].fmt[0].name, "G726-32"));
	assert_int_equal(s.media[1].port, 6024);
	free(body);

	body = torture_body("mult-ip-in-sdp.dat", &len);
	assert_int_equal(sdp_parse(&s, sb_slice(body, len)), 0);
	assert_int_equal(s.conn.type, SDP_ADDR_NONE);
	assert_int_equal(s.n_media, 2);
	const struct sdp_conn *c0 = sdp_media_conn(&s, 0), *c1 = sdp_media_conn(&s, 1);
	assert_non_null(c0);
	assert_non_null(c1);
	assert_int_equal(c0->type, SDP_ADDR_IP4);
	assert_true(sb_slice_eq_cstr(c0->addr, "192.0.2.1"));
	assert_int_equal(c1->type, SDP_ADDR_IP6);
	assert_true(sb_slice_eq_cstr(c1->addr, "2001:db8::1"));
	assert_true(sb_slice_eq_cstr(s.origin.addr.addr, "host.example.com"));
	assert_int_equal(s.name.len, 0);
	free(body);
}

/* Every torture file with an SDP body must parse without crashing; the valid ones to 0. */
static void test_parse_torture_bodies(void **state)
{
	(void)state;
	static const char *ok[] = {"ipv6-in-sdp.dat", "mult-ip-in-sdp.dat", "sdp01.dat",
				   "inv2543.dat",     "esc01.dat",	    "wsinv.dat",
				   "lwsstart.dat"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t len;
		char *body = torture_body(ok[i], &len);
		struct sdp_session s;
		int err = sdp_parse(&s, sb_slice(body, len));
		if (err)
			print_error("%s: %s\n", ok[i], sb_err_name(err));
		assert_int_equal(err, 0);
		free(body);
	}
}

static void roundtrip(const char *text)
{
	struct sdp_session a, b;
	struct sb_buf p1, p2;
	char small[16];
	sb_buf_init(&p1, small, sizeof(small)); /* forces growth from caller storage */
	sb_buf_init(&p2, NULL, 0);
	assert_int_equal(parse_str(&a, text), 0);
	assert_int_equal(sdp_print(&p1, &a), 0);
	assert_int_equal(sdp_parse(&b, sb_buf_slice(&p1)), 0);
	assert_int_equal(sdp_print(&p2, &b), 0);
	assert_int_equal(p1.len, p2.len);
	assert_memory_equal(p1.p, p2.p, p1.len);
	/* structure survives */
	assert_int_equal(a.n_media, b.n_media);
	assert_int_equal(a.origin.sess_version, b.origin.sess_version);
	for (size_t i = 0; i < a.n_media; i++) {
		assert_int_equal(a.media[i].n_fmt, b.media[i].n_fmt);
		assert_int_equal(a.media[i].port, b.media[i].port);
		assert_int_equal(sdp_media_dir(&a, i), sdp_media_dir(&b, i));
		for (size_t j = 0; j < a.media[i].n_fmt; j++) {
			assert_int_equal(a.media[i].fmt[j].pt, b.media[i].fmt[j].pt);
			assert_int_equal(a.media[i].fmt[j].rate, b.media[i].fmt[j].rate);
			assert_true(sb_slice_eq(a.media[i].fmt[j].name, b.media[i].fmt[j].name));
			assert_true(sb_slice_eq(a.media[i].fmt[j].fmtp, b.media[i].fmt[j].fmtp));
		}
	}
	sb_buf_free(&p1);
	sb_buf_free(&p2);
}

static void test_roundtrip(void **state)
{
	(void)state;
	roundtrip(twilio);
	roundtrip(telnyx);
	roundtrip(asterisk);
	roundtrip(baresip);
	roundtrip(linphone);
	roundtrip("v=0\r\no=- 1 2 IN IP4 a.example\r\ns=x\r\nc=IN IP4 224.2.1.1/127/3\r\nt=0 0\r\n"
		  "m=audio 5000/2 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc\r\n"
		  "m=image 6000 udptl t38\r\nc=IN IP6 ::1\r\na=inactive\r\n");
}

static void test_print_exact(void **state)
{
	(void)state;
	struct sdp_session s;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(parse_str(&s, twilio), 0);
	assert_int_equal(sdp_print(&b, &s), 0);
	assert_string_equal(b.p, twilio);
	sb_buf_free(&b);
	/* an output limit is reported, not overflowed */
	sb_buf_init(&b, NULL, 0);
	b.limit = 40;
	assert_int_equal(sdp_print(&b, &s), SB_ETOOBIG);
	sb_buf_free(&b);
}

static void test_directions(void **state)
{
	(void)state;
	struct sdp_session s;
	const char *head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n";
	char text[1024];

	/* session attribute applies, media attribute overrides */
	snprintf(text, sizeof(text),
		 "%sc=IN IP4 10.0.0.1\r\nt=0 0\r\na=sendonly\r\nm=audio 1 RTP/AVP 0\r\n"
		 "m=audio 2 RTP/AVP 0\r\na=inactive\r\n",
		 head);
	assert_int_equal(parse_str(&s, text), 0);
	assert_int_equal(sdp_media_dir(&s, 0), SDP_SENDONLY);
	assert_int_equal(sdp_media_dir(&s, 1), SDP_INACTIVE);
	assert_int_equal(sdp_media_dir(&s, 2), SDP_INACTIVE); /* out of range */

	/* legacy hold: c=0.0.0.0 removes "recv" */
	static const struct {
		const char *attr;
		enum sdp_dir want;
	} hold[] = {
	    {"", SDP_SENDONLY},
	    {"a=sendrecv\r\n", SDP_SENDONLY},
	    {"a=sendonly\r\n", SDP_SENDONLY},
	    {"a=recvonly\r\n", SDP_INACTIVE},
	    {"a=inactive\r\n", SDP_INACTIVE},
	};
	for (size_t i = 0; i < sizeof(hold) / sizeof(hold[0]); i++) {
		snprintf(text, sizeof(text),
			 "%sc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n%s", head,
			 hold[i].attr);
		assert_int_equal(parse_str(&s, text), 0);
		assert_true(sdp_conn_is_hold(sdp_media_conn(&s, 0)));
		assert_int_equal(sdp_media_dir(&s, 0), hold[i].want);
	}
	/* media c= wins over a session 0.0.0.0, and IP6 :: is hold too */
	snprintf(text, sizeof(text),
		 "%sc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n"
		 "c=IN IP4 10.1.1.1\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP6 ::\r\n",
		 head);
	assert_int_equal(parse_str(&s, text), 0);
	assert_int_equal(sdp_media_dir(&s, 0), SDP_SENDRECV);
	assert_int_equal(sdp_media_dir(&s, 1), SDP_SENDONLY);
	assert_false(sdp_conn_is_hold(NULL));

	/* answer algebra */
	static const enum sdp_dir all[] = {SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE};
	static const enum sdp_dir table[4][4] = {
	    /* local: sendrecv     sendonly      recvonly      inactive */
	    {SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE}, /* offered sendrecv */
	    {SDP_RECVONLY, SDP_INACTIVE, SDP_RECVONLY, SDP_INACTIVE}, /* offered sendonly */
	    {SDP_SENDONLY, SDP_SENDONLY, SDP_INACTIVE, SDP_INACTIVE}, /* offered recvonly */
	    {SDP_INACTIVE, SDP_INACTIVE, SDP_INACTIVE, SDP_INACTIVE}, /* offered inactive */
	};
	for (size_t o = 0; o < 4; o++)
		for (size_t l = 0; l < 4; l++)
			assert_int_equal(sdp_dir_answer(all[o], all[l]), table[o][l]);
	assert_string_equal(sdp_dir_name(SDP_RECVONLY), "recvonly");
	assert_true(sdp_dir_sends(SDP_SENDONLY));
	assert_false(sdp_dir_recvs(SDP_SENDONLY));
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *why;
		const char *text;
		size_t len; /* 0: strlen */
	} bad[] = {
	    {"empty", "", 0},
	    {"no v=", "o=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\n", 0},
	    {"v=1", "v=1\r\no=- 1 1 IN IP4 1.1.1.1\r\n", 0},
	    {"v twice", "v=0\r\nv=0\r\no=- 1 1 IN IP4 1.1.1.1\r\n", 0},
	    {"no o=", "v=0\r\ns=-\r\nt=0 0\r\n", 0},
	    {"1-char line", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\na\r\n", 0},
	    {"missing =", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nmaudio 1 RTP/AVP 0\r\n", 0},
	    {"m =video", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm =video 1 RTP/AVP 0\r\n", 0},
	    {"upper type", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nM=audio 1 RTP/AVP 0\r\n", 0},
	    {"empty a=", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\na=\r\n", 0},
	    {"empty x=", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nx=\r\n", 0},
	    {"blank line inside", "v=0\r\n\r\no=- 1 1 IN IP4 1.1.1.1\r\n", 0},
	    {"bare CR", "v=0\ro=- 1 1 IN IP4 1.1.1.1\r\n", 0},
	    {"PT 128", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 128\r\n", 0},
	    {"PT 2^32", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 17002 RTP/AVP 4294967296\r\n", 0},
	    {"PT negative", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP -1\r\n", 0},
	    {"port 65536", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 65536 RTP/AVP 0\r\n", 0},
	    {"port count 0", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1/0 RTP/AVP 0\r\n", 0},
	    {"port range", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1/ RTP/AVP 0\r\n", 0},
	    {"no formats", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP\r\n", 0},
	    {"m= before o=", "v=0\r\nm=audio 1 RTP/AVP 0\r\no=- 1 1 IN IP4 1.1.1.1\r\n", 0},
	    {"o= short", "v=0\r\no=- 1 1 IN IP4\r\n", 0},
	    {"o= version overflow", "v=0\r\no=- 1 18446744073709551616 IN IP4 1.1.1.1\r\n", 0},
	    {"o= version sign", "v=0\r\no=- 1 -5 IN IP4 1.1.1.1\r\n", 0},
	    {"o= id letters", "v=0\r\no=- abc 1 IN IP4 1.1.1.1\r\n", 0},
	    {"c= brackets", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nc=IN IP6 [2001:db8::1]\r\n", 0},
	    {"c= no addr", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nc=IN IP4\r\n", 0},
	    {"c= not IN", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nc=XX IP4 1.1.1.1\r\n", 0},
	    {"c= bad ttl", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nc=IN IP4 224.0.0.1/x\r\n", 0},
	    {"c= twice",
	     "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nc=IN IP4 1.1.1.1\r\nc=IN IP4 1.1.1.2\r\n", 0},
	    {"t= garbage", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nt=now later\r\n", 0},

	    {"rtpmap PT 300",
	     "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 0\r\na=rtpmap:300 PCMU/8000\r\n",
	     0},

	    {"fmtp no PT", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 0\r\na=fmtp:\r\n",
	     0},
	    {"rtcp bad port",
	     "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 0\r\na=rtcp:70000\r\n", 0},
	    {"rtcp no value", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 0\r\na=rtcp\r\n",
	     0},
	    {"attr no name", "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\na=:x\r\n", 0},
	    {"NUL in fmtp",
	     "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 101\r\na=fmtp:101 0-\0"
	     "16\r\n",
	     sizeof("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\nm=audio 1 RTP/AVP 101\r\na=fmtp:101 0-\0"
		    "16\r\n") -
		 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sdp_session s;
		size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
		int err = sdp_parse(&s, sb_slice(bad[i].text, len));
		if (err != SB_EMALFORMED)
			print_error("case '%s' gave %d\n", bad[i].why, err);
		assert_int_equal(err, SB_EMALFORMED);
		assert_int_equal(s.n_media, 0); /* cleared on failure */
	}
	struct sdp_session s;
	assert_int_equal(sdp_parse(&s, sb_slice(NULL, 0)), SB_EMALFORMED);
}

static void test_limits(void **state)
{
	(void)state;
	struct sdp_session s;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	sb_buf_append_cstr(&b,
			   "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\nt=0 0\r\n");

	/* 1000 payload types (duplicates) and 40 distinct ones */
	sb_buf_append_cstr(&b, "m=audio 1000 RTP/AVP");
	for (int i = 0; i < 1000; i++)
		sb_buf_printf(&b, " %d", i % 8);
	sb_buf_append_cstr(&b, "\r\nm=video 2000 RTP/AVP");
	for (int i = 0; i < 40; i++)
		sb_buf_printf(&b, " %d", 80 + i);
	sb_buf_append_cstr(&b, "\r\na=rtpmap:119 VP8/90000\r\na=rtpmap:81 H264/90000\r\n");
	assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), 0);
	assert_int_equal(s.media[0].n_fmt, 8);
	assert_false(s.media[0].fmt_truncated);
	assert_int_equal(s.media[1].n_fmt, SDP_MAX_FMT);
	assert_true(s.media[1].fmt_truncated);
	assert_true(s.media[1].fmt[1].has_rtpmap);

	/* SDP_MAX_MEDIA m= lines fit, one more is too big */
	size_t keep = b.len;
	for (int i = 2; i < SDP_MAX_MEDIA; i++)
		sb_buf_append_cstr(&b, "m=text 0 RTP/AVP 98\r\n");
	assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), 0);
	assert_int_equal(s.n_media, SDP_MAX_MEDIA);
	sb_buf_append_cstr(&b, "m=text 0 RTP/AVP 98\r\n");
	assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), SB_ETOOBIG);
	b.len = keep;
	for (int i = 0; i < 100; i++)
		sb_buf_append_cstr(&b, "m=audio 9 RTP/AVP 0\r\n");
	assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), SB_ETOOBIG);
	sb_buf_free(&b);
}

static void test_lenient(void **state)
{
	(void)state;
	struct sdp_session s;
	/* absurd ptime ignored; rtpmap for a PT not in m= ignored; duplicate rtpmap: first wins;
	 * unknown transport keeps raw formats; hostname c=; 5 crypto lines keep 4; garbage fmtp
	 * kept raw */
	const char *t =
	    "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 media.example.com\r\nt=0 0\r\n"
	    "m=audio 1 RTP/SAVP 0 8\r\n"
	    "a=ptime:0\r\na=maxptime:1000000000\r\n"
	    "a=rtpmap:99 foo/8000\r\n"
	    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:8 PCMU/8000\r\n"
	    "a=fmtp:8 \x01\x02garbage;;;==\r\n"
	    "a=crypto:1 a\r\na=crypto:2 b\r\na=crypto:3 c\r\na=crypto:4 d\r\na=crypto:5 e\r\n"
	    "a=candidate:1 99 udp 1 1.1.1.1 1 typ host\r\n"
	    "m=audio 3 RTP/AVP 0 31 96\r\na=rtpmap:0 PCMU/0\r\na=rtpmap:31 LPC\r\n"
	    "a=rtpmap:96 opus/48000/0\r\n"
	    "m=application 9 UDP/BFCP *\r\n"
	    "a=rtpmap:zz bogus\r\n"
	    "m=audio 2 RTP/AVP 0\r\na=ptime:30\r\n";
	assert_int_equal(parse_str(&s, t), 0);
	assert_int_equal(s.media[0].ptime, 0);
	assert_int_equal(s.media[0].maxptime, 0);
	assert_int_equal(s.media[0].proto, SDP_PROTO_RTP_SAVP);
	assert_true(sb_slice_eq_cstr(s.media[0].fmt[1].name, "PCMA"));
	assert_int_equal(s.media[0].n_crypto, SDP_MAX_CRYPTO);
	assert_true(sb_slice_eq_cstr(s.media[0].crypto[3], "4 d"));
	/* bad rtpmap encodings leave the format unnamed */
	assert_int_equal(s.media[1].n_fmt, 3);
	for (size_t i = 0; i < 3; i++)
		assert_false(s.media[1].fmt[i].has_rtpmap);
	assert_int_equal(s.media[2].proto, SDP_PROTO_OTHER);
	assert_int_equal(s.media[2].n_fmt, 0);
	assert_true(sb_slice_eq_cstr(s.media[2].fmts_raw, "*"));
	assert_int_equal(s.media[3].ptime, 30);
	assert_true(sb_slice_eq_cstr(s.conn.addr, "media.example.com"));
	roundtrip(t);

	/* missing c= everywhere still parses (negotiation refuses it) */
	assert_int_equal(
	    parse_str(&s, "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nm=audio 1 RTP/AVP 0\r\n"), 0);
	assert_null(sdp_media_conn(&s, 0));
	/* no m= at all */
	assert_int_equal(parse_str(&s, "v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"), 0);
	assert_int_equal(s.n_media, 0);
}

static void test_codec_table(void **state)
{
	(void)state;
	assert_null(sdp_codec_info(SDP_CODEC_NONE));
	assert_null(sdp_codec_info(SDP_CODEC__COUNT));
	const struct sdp_codec_info *ci = sdp_codec_info(SDP_CODEC_PCMA);
	assert_non_null(ci);
	assert_string_equal(ci->name, "PCMA");
	assert_int_equal(ci->pt, 8);
	assert_true(ci->static_pt);
	ci = sdp_codec_info(SDP_CODEC_TELEPHONE_EVENT);
	assert_false(ci->primary);
	assert_string_equal(ci->fmtp, "0-16");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_twilio),
	    cmocka_unit_test(test_parse_baresip_linphone),
	    cmocka_unit_test(test_parse_bare_lf),
	    cmocka_unit_test(test_parse_ipv6_torture),
	    cmocka_unit_test(test_parse_torture_bodies),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_print_exact),
	    cmocka_unit_test(test_directions),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_lenient),
	    cmocka_unit_test(test_codec_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
