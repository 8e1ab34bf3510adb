/* Unit tests for src/sdp/oa.c: offers, answers, versions, hold, telephone-event,
 * rejected streams, the offerer's answer check, and a full offer -> answer loop. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "sdp/sdp.h"

static void local_std(struct sdp_local *l)
{
	sdp_local_init(l);
	l->sess_id = 4242;
	l->sess_version = 1;
	l->origin_addr = SB_SLICE_LIT("203.0.113.5");
	l->conn_addr = SB_SLICE_LIT("203.0.113.5");
	l->rtp_port = 30000;
}

static const char *HEAD =
    "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=-\r\nc=IN IP4 198.51.100.1\r\nt=0 0\r\n";

/* Parse HEAD + media, negotiate with l. */
static int nego(const char *media, const struct sdp_local *l, struct sdp_session *s,
		struct sdp_result *r)
{
	static char text[4096];
	snprintf(text, sizeof(text), "%s%s", HEAD, media);
	assert_int_equal(sdp_parse(s, sb_slice_cstr(text)), 0);
	return sdp_negotiate_answer(s, l, r);
}

static void test_offer_text(void **state)
{
	(void)state;
	struct sdp_local l;
	local_std(&l);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_offer(&b, &l), 0);
	assert_string_equal(b.p, "v=0\r\n"
				 "o=- 4242 1 IN IP4 203.0.113.5\r\n"
				 "s=-\r\n"
				 "c=IN IP4 203.0.113.5\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 0 8 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n");
	/* our offer is valid SDP */
	struct sdp_session s;
	assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), 0);
	assert_int_equal(s.media[0].n_fmt, 3);

	/* IPv6, hold, no DTMF, PCMA only, rtcp-mux, names */
	sb_buf_reset(&b);
	l.addrtype = SDP_ADDR_IP6;
	l.origin_addr = SB_SLICE_LIT("2001:db8::5");
	l.conn_addr = SB_SLICE_LIT("2001:db8::6");
	l.codecs[0] = SDP_CODEC_PCMA;
	l.codecs[1] = SDP_CODEC_PCMA; /* duplicates are dropped */
	l.telephone_event = false;
	l.rtcp_mux = true;
	l.dir = SDP_SENDONLY;
	l.ptime = 0;
	l.username = SB_SLICE_LIT("switchboard");
	l.session_name = SB_SLICE_LIT("call");
	assert_int_equal(sdp_make_offer(&b, &l), 0);
	assert_string_equal(b.p, "v=0\r\n"
				 "o=switchboard 4242 1 IN IP6 2001:db8::5\r\n"
				 "s=call\r\n"
				 "c=IN IP6 2001:db8::6\r\n"
				 "t=0 0\r\n"
				 "m=audio 30000 RTP/AVP 8\r\n"
				 "a=rtpmap:8 PCMA/8000\r\n"
				 "a=rtcp-mux\r\n"
				 "a=sendonly\r\n");
	sb_buf_free(&b);
}

static void test_offer_invalid(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	local_std(&l);
	l.n_codecs = 0;
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	local_std(&l);
	l.codecs[0] = SDP_CODEC_TELEPHONE_EVENT; /* not primary: skipped */
	l.n_codecs = 1;
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	local_std(&l);
	l.conn_addr = SB_SLICE_LIT("1.2.3.4\r\na=evil");
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	local_std(&l);
	l.conn_addr = SB_SLICE_NULL;
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	local_std(&l);
	l.addrtype = SDP_ADDR_OTHER;
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	local_std(&l);
	l.te_pt = 8; /* collides with PCMA */
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	local_std(&l);
	l.te_pt = 200;
	assert_int_equal(sdp_make_offer(&b, &l), SB_EINVAL);
	assert_int_equal(b.len, 0); /* nothing printed on refusal */
	sb_buf_free(&b);
}

static void test_version(void **state)
{
	(void)state;
	struct sdp_local l;
	local_std(&l);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	struct sdp_session s;
	uint64_t prev = 0;
	for (int i = 0; i < 3; i++) {
		sdp_local_next_version(&l);
		sb_buf_reset(&b);
		assert_int_equal(sdp_make_offer(&b, &l), 0);
		assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), 0);
		assert_true(s.origin.sess_version > prev);
		assert_true(sb_slice_eq_cstr(s.origin.sess_id, "4242"));
		prev = s.origin.sess_version;
	}
	assert_int_equal(prev, 4);
	l.sess_version = UINT64_MAX - 1;
	sdp_local_next_version(&l);
	assert_true(l.sess_version == UINT64_MAX);
	sdp_local_next_version(&l);
	assert_true(l.sess_version == UINT64_MAX); /* saturates, never wraps to 0 */
	sb_buf_reset(&b);
	assert_int_equal(sdp_make_offer(&b, &l), 0);
	assert_int_equal(sdp_parse(&s, sb_buf_slice(&b)), 0);
	assert_true(s.origin.sess_version == UINT64_MAX);
	sb_buf_free(&b);
}

static void test_negotiate_basic(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	/* offerer's order wins: PCMA first although we prefer PCMU */
	assert_int_equal(
	    nego("m=audio 20000 RTP/AVP 9 8 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
		 "a=ptime:30\r\n",
		 &l, &s, &r),
	    0);
	assert_int_equal(r.codec, SDP_CODEC_PCMA);
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.te_pt, 101);
	assert_string_equal(r.remote_addr, "198.51.100.1");
	assert_int_equal(r.remote_addrtype, SDP_ADDR_IP4);
	assert_int_equal(r.remote_port, 20000);
	assert_int_equal(r.remote_ptime, 30);
	assert_int_equal(r.remote_dir, SDP_SENDRECV);
	assert_int_equal(r.local_dir, SDP_SENDRECV);
	assert_false(r.remote_hold);
	assert_int_equal(r.media_idx, 0);
	assert_int_equal(r.n_media, 1);

	/* rtpmap names are case-insensitive and win over the PT number; offerer's dynamic PTs kept
	 */
	assert_int_equal(nego("m=audio 20000 RTP/AVP 96 97\r\na=rtpmap:96 pcmu/8000\r\n"
			      "a=rtpmap:97 TELEPHONE-EVENT/8000\r\n",
			      &l, &s, &r),
			 0);
	assert_int_equal(r.codec, SDP_CODEC_PCMU);
	assert_int_equal(r.pt, 96);
	assert_int_equal(r.te_pt, 97);

	/* dynamic PT without rtpmap is unknown; static PT without rtpmap is fine */
	assert_int_equal(nego("m=audio 20000 RTP/AVP 96 0\r\n", &l, &s, &r), 0);
	assert_int_equal(r.pt, 0);
	assert_int_equal(r.te_pt, -1);

	/* PCMU at the wrong clock rate is not PCMU */
	assert_int_equal(nego("m=audio 20000 RTP/AVP 0 8\r\na=rtpmap:0 PCMU/16000\r\n", &l, &s, &r),
			 0);
	assert_int_equal(r.codec, SDP_CODEC_PCMA);

	/* per-media c= overrides the session c=; a=rtcp and rtcp-mux */
	l.rtcp_mux = true;
	assert_int_equal(nego("m=audio 20000 RTP/AVP 0\r\nc=IN IP6 2001:db8::77\r\na=rtcp:20009\r\n"
			      "a=rtcp-mux\r\n",
			      &l, &s, &r),
			 0);
	assert_string_equal(r.remote_addr, "2001:db8::77");
	assert_int_equal(r.remote_addrtype, SDP_ADDR_IP6);
	assert_int_equal(r.remote_rtcp_port, 20009);
	assert_true(r.rtcp_mux);
	l.rtcp_mux = false;
	assert_int_equal(nego("m=audio 20000 RTP/AVP 0\r\na=rtcp-mux\r\n", &l, &s, &r), 0);
	assert_false(r.rtcp_mux);
}

static void test_telephone_event(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	/* only 8000 Hz telephone-event counts (Linphone offers several) */
	assert_int_equal(
	    nego("m=audio 1 RTP/AVP 0 101 99 100\r\na=rtpmap:101 telephone-event/48000\r\n"
		 "a=rtpmap:99 telephone-event/16000\r\na=rtpmap:100 telephone-event/8000\r\n",
		 &l, &s, &r),
	    0);
	assert_int_equal(r.te_pt, 100);
	assert_int_equal(
	    nego("m=audio 1 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/48000\r\n", &l, &s, &r),
	    0);
	assert_int_equal(r.te_pt, -1);
	/* we do not want it */
	l.telephone_event = false;
	assert_int_equal(
	    nego("m=audio 1 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", &l, &s, &r),
	    0);
	assert_int_equal(r.te_pt, -1);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_answer(&b, &l, &s, &r), 0);
	assert_null(strstr(b.p, "telephone-event"));
	assert_non_null(strstr(b.p, "m=audio 30000 RTP/AVP 0\r\n"));
	sb_buf_free(&b);
	/* telephone-event alone is not a codec */
	l.telephone_event = true;
	assert_int_equal(
	    nego("m=audio 1 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", &l, &s, &r),
	    SB_ENOTFOUND);
}

static void test_no_common_codec(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	assert_int_equal(nego("m=audio 1 RTP/AVP 9 18\r\n", &l, &s, &r), SB_ENOTFOUND);
	assert_int_equal(r.te_pt, -1);
	assert_int_equal(nego("m=video 1 RTP/AVP 0\r\n", &l, &s, &r), SB_ENOTFOUND);
	assert_int_equal(nego("m=audio 0 RTP/AVP 0\r\n", &l, &s, &r), SB_ENOTFOUND);
	assert_int_equal(
	    nego("m=audio 1 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x\r\n", &l, &s,
		 &r),
	    SB_ENOTFOUND);
	assert_int_equal(nego("m=image 1 udptl t38\r\n", &l, &s, &r), SB_ENOTFOUND);
	l.codecs[0] = SDP_CODEC_PCMA;
	l.n_codecs = 1;
	assert_int_equal(nego("m=audio 1 RTP/AVP 0\r\n", &l, &s, &r), SB_ENOTFOUND);
	/* no m= at all */
	assert_int_equal(nego("", &l, &s, &r), SB_ENOTFOUND);
}

static void test_missing_conn(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	assert_int_equal(
	    sdp_parse(&s, sb_slice_cstr("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\nt=0 0\r\n"
					"m=audio 1 RTP/AVP 0\r\n")),
	    0);
	assert_int_equal(sdp_negotiate_answer(&s, &l, &r), SB_EMALFORMED);
	assert_int_equal(r.te_pt, -1);
	assert_int_equal(r.remote_port, 0);
}

static void test_hold(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	static const struct {
		const char *media;
		enum sdp_dir remote, answer;
		bool hold;
	} cases[] = {
	    {"m=audio 1 RTP/AVP 0\r\n", SDP_SENDRECV, SDP_SENDRECV, false},
	    {"m=audio 1 RTP/AVP 0\r\na=sendonly\r\n", SDP_SENDONLY, SDP_RECVONLY, true},
	    {"m=audio 1 RTP/AVP 0\r\na=recvonly\r\n", SDP_RECVONLY, SDP_SENDONLY, false},
	    {"m=audio 1 RTP/AVP 0\r\na=inactive\r\n", SDP_INACTIVE, SDP_INACTIVE, true},
	    {"m=audio 1 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n", SDP_SENDONLY, SDP_RECVONLY, true},
	    {"m=audio 1 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=sendonly\r\n", SDP_SENDONLY,
	     SDP_RECVONLY, true},
	    {"m=audio 1 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n", SDP_INACTIVE,
	     SDP_INACTIVE, true},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(nego(cases[i].media, &l, &s, &r), 0);
		assert_int_equal(r.remote_dir, cases[i].remote);
		assert_int_equal(r.local_dir, cases[i].answer);
		assert_int_equal(r.remote_hold, cases[i].hold);
	}
	/* session-level a=sendonly */
	assert_int_equal(
	    sdp_parse(&s,
		      sb_slice_cstr("v=0\r\no=- 1 2 IN IP4 1.1.1.1\r\ns=-\r\nc=IN IP4 1.1.1.1\r\n"
				    "t=0 0\r\na=sendonly\r\nm=audio 1 RTP/AVP 8\r\n")),
	    0);
	assert_int_equal(sdp_negotiate_answer(&s, &l, &r), 0);
	assert_int_equal(r.local_dir, SDP_RECVONLY);
	assert_true(r.remote_hold);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_answer(&b, &l, &s, &r), 0);
	assert_non_null(strstr(b.p, "a=recvonly\r\n"));
	sb_buf_free(&b);

	/* we put the peer on hold: we want sendonly */
	l.dir = SDP_SENDONLY;
	assert_int_equal(nego("m=audio 1 RTP/AVP 0\r\n", &l, &s, &r), 0);
	assert_int_equal(r.local_dir, SDP_SENDONLY);
	assert_false(r.remote_hold);
	assert_int_equal(nego("m=audio 1 RTP/AVP 0\r\na=sendonly\r\n", &l, &s, &r), 0);
	assert_int_equal(r.local_dir, SDP_INACTIVE);
}

static void test_answer_rejects_other_streams(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	l.sess_version = 7;
	assert_int_equal(
	    nego("m=video 5000 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\n"
		 "m=audio 0 RTP/AVP 0\r\n"
		 "m=audio 6000 RTP/AVP 9 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
		 "a=fmtp:101 0-15\r\n"
		 "m=audio 7000 RTP/AVP 0\r\n"
		 "m=application 9 UDP/BFCP *\r\n",
		 &l, &s, &r),
	    0);
	assert_int_equal(r.media_idx, 2);
	assert_int_equal(r.n_media, 5);
	assert_int_equal(r.pt, 0);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_answer(&b, &l, &s, &r), 0);
	assert_string_equal(b.p, "v=0\r\n"
				 "o=- 4242 7 IN IP4 203.0.113.5\r\n"
				 "s=-\r\n"
				 "c=IN IP4 203.0.113.5\r\n"
				 "t=0 0\r\n"
				 "m=video 0 RTP/AVP 96 97\r\n"
				 "m=audio 0 RTP/AVP 0\r\n"
				 "m=audio 30000 RTP/AVP 0 101\r\n"
				 "a=rtpmap:0 PCMU/8000\r\n"
				 "a=rtpmap:101 telephone-event/8000\r\n"
				 "a=fmtp:101 0-16\r\n"
				 "a=ptime:20\r\n"
				 "a=sendrecv\r\n"
				 "m=audio 0 RTP/AVP 0\r\n"
				 "m=application 0 UDP/BFCP *\r\n");
	/* the answer parses and has as many m= lines as the offer */
	struct sdp_session a;
	assert_int_equal(sdp_parse(&a, sb_buf_slice(&b)), 0);
	assert_int_equal(a.n_media, s.n_media);

	/* a result that does not belong to this offer is refused */
	struct sdp_result bad = r;
	bad.media_idx = 9;
	sb_buf_reset(&b);
	assert_int_equal(sdp_make_answer(&b, &l, &s, &bad), SB_EINVAL);
	bad = r;
	bad.codec = SDP_CODEC_NONE;
	assert_int_equal(sdp_make_answer(&b, &l, &s, &bad), SB_EINVAL);
	sb_buf_free(&b);
}

static void test_process_answer(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	const char *h =
	    "v=0\r\no=peer 9 9 IN IP4 192.0.2.9\r\ns=-\r\nc=IN IP4 192.0.2.9\r\nt=0 0\r\n";
	char text[1024];
#define ANSWER(media)                                                                              \
	(snprintf(text, sizeof(text), "%s%s", h, media),                                           \
	 assert_int_equal(sdp_parse(&s, sb_slice_cstr(text)), 0), sdp_process_answer(&s, &l, &r))

	assert_int_equal(ANSWER("m=audio 4000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n"
				"a=recvonly\r\n"),
			 0);
	assert_int_equal(r.codec, SDP_CODEC_PCMA);
	assert_int_equal(r.pt, 8);
	assert_int_equal(r.te_pt, 96); /* the answerer's numbering */
	assert_string_equal(r.remote_addr, "192.0.2.9");
	assert_int_equal(r.remote_port, 4000);
	assert_int_equal(r.remote_dir, SDP_RECVONLY);
	assert_int_equal(r.local_dir, SDP_SENDONLY);

	/* formats we never offered are ignored when one we offered is there */
	assert_int_equal(ANSWER("m=audio 4000 RTP/AVP 9 0\r\n"), 0);
	assert_int_equal(r.codec, SDP_CODEC_PCMU);
	/* ... but an answer with none of ours is a violation */
	assert_int_equal(ANSWER("m=audio 4000 RTP/AVP 9 18\r\n"), SB_EMALFORMED);
	assert_int_equal(
	    ANSWER("m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n"),
	    SB_EMALFORMED);
	/* streams added by the answer (CVE-2019-13161) */
	assert_int_equal(ANSWER("m=audio 4000 RTP/AVP 0\r\nm=image 4002 udptl t38\r\n"),
			 SB_EMALFORMED);
	assert_int_equal(ANSWER("m=video 4000 RTP/AVP 0\r\n"), SB_EMALFORMED);
	assert_int_equal(ANSWER("m=audio 4000 RTP/SAVP 0\r\n"), SB_EMALFORMED);
	assert_int_equal(ANSWER(""), SB_EMALFORMED);
	/* rejected */
	assert_int_equal(ANSWER("m=audio 0 RTP/AVP 0\r\n"), SB_ENOTFOUND);
	/* codec we did not offer this time */
	l.codecs[0] = SDP_CODEC_PCMA;
	l.n_codecs = 1;
	assert_int_equal(ANSWER("m=audio 4000 RTP/AVP 0\r\n"), SB_EMALFORMED);
	/* hold in the answer */
	assert_int_equal(ANSWER("m=audio 4000 RTP/AVP 8\r\nc=IN IP4 0.0.0.0\r\n"), 0);
	assert_true(r.remote_hold);
	assert_int_equal(r.local_dir, SDP_RECVONLY);
	/* no c= */
	assert_int_equal(sdp_parse(&s, sb_slice_cstr("v=0\r\no=- 1 1 IN IP4 1.1.1.1\r\ns=-\r\n"
						     "m=audio 4000 RTP/AVP 8\r\n")),
			 0);
	assert_int_equal(sdp_process_answer(&s, &l, &r), SB_EMALFORMED);
#undef ANSWER
}

/* UAC offer -> UAS negotiate/answer -> UAC process, both ends agree. */
static void test_full_loop(void **state)
{
	(void)state;
	struct sdp_local uac, uas;
	local_std(&uac);
	local_std(&uas);
	uas.origin_addr = SB_SLICE_LIT("192.0.2.200");
	uas.conn_addr = SB_SLICE_LIT("192.0.2.201");
	uas.rtp_port = 40000;
	uas.codecs[0] = SDP_CODEC_PCMA;
	uas.codecs[1] = SDP_CODEC_PCMU;
	uac.rtcp_mux = uas.rtcp_mux = true;
	uac.dir = SDP_SENDONLY; /* the UAC puts the call on hold */

	struct sb_buf ob, ab;
	sb_buf_init(&ob, NULL, 0);
	sb_buf_init(&ab, NULL, 0);
	struct sdp_session offer, answer;
	struct sdp_result rs, rc;
	assert_int_equal(sdp_make_offer(&ob, &uac), 0);
	assert_int_equal(sdp_parse(&offer, sb_buf_slice(&ob)), 0);
	assert_int_equal(sdp_negotiate_answer(&offer, &uas, &rs), 0);
	assert_int_equal(rs.codec, SDP_CODEC_PCMU); /* offerer's order */
	assert_true(rs.remote_hold);
	assert_int_equal(rs.local_dir, SDP_RECVONLY);
	assert_int_equal(sdp_make_answer(&ab, &uas, &offer, &rs), 0);
	assert_int_equal(sdp_parse(&answer, sb_buf_slice(&ab)), 0);
	assert_int_equal(sdp_process_answer(&answer, &uac, &rc), 0);
	assert_int_equal(rc.codec, rs.codec);
	assert_int_equal(rc.pt, rs.pt);
	assert_int_equal(rc.te_pt, 101);
	assert_true(rc.rtcp_mux && rs.rtcp_mux);
	assert_string_equal(rc.remote_addr, "192.0.2.201");
	assert_int_equal(rc.remote_port, 40000);
	assert_string_equal(rs.remote_addr, "203.0.113.5");
	assert_int_equal(rs.remote_port, 30000);
	assert_int_equal(rc.remote_dir, SDP_RECVONLY);
	assert_int_equal(rc.local_dir, SDP_SENDONLY);
	sb_buf_free(&ob);
	sb_buf_free(&ab);
}

#define OUR_KEY	  "inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
#define THEIR_KEY "inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

/* SDES (RFC 4568): which offers each mode accepts, the chosen line, our key in the answer. */
static void test_srtp_answer(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	l.srtp = SDP_SRTP_ALLOW;
	l.crypto_key = SB_SLICE_LIT(OUR_KEY);
	const char *savp = "m=audio 4000 RTP/SAVP 0\r\n"
			   "a=crypto:1 F8_128_HMAC_SHA1_80 inline:AAAA\r\n"
			   "a=crypto:2 AES_CM_128_HMAC_SHA1_32 " THEIR_KEY "|2^20\r\n"
			   "a=crypto:3 AES_CM_128_HMAC_SHA1_80 " THEIR_KEY "\r\n";
	assert_int_equal(nego(savp, &l, &s, &r), 0);
	assert_int_equal(r.crypto_suite, SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32); /* first usable */
	assert_int_equal(r.crypto_tag, 2);
	assert_string_equal(r.remote_crypto_key, THEIR_KEY "|2^20");
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_answer(&b, &l, &s, &r), 0);
	assert_non_null(strstr(b.p, "m=audio 30000 RTP/SAVP 0\r\n"));
	assert_non_null(strstr(b.p, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 " OUR_KEY "\r\n"));
	sb_buf_free(&b);
	/* a plain offer is answered plainly in ALLOW, refused in REQUIRE */
	const char *avp = "m=audio 4000 RTP/AVP 0\r\n";
	assert_int_equal(nego(avp, &l, &s, &r), 0);
	assert_int_equal(r.crypto_suite, SDP_CRYPTO_NONE);
	l.srtp = SDP_SRTP_REQUIRE;
	assert_int_equal(nego(avp, &l, &s, &r), SB_ENOTFOUND);
	/* SAVP without a usable line, or with SRTP disabled: refused */
	assert_int_equal(nego("m=audio 4000 RTP/SAVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 "
			      "inline:AAAA\r\n",
			      &l, &s, &r),
			 SB_ENOTFOUND);
	l.srtp = SDP_SRTP_DISABLE;
	assert_int_equal(nego(savp, &l, &s, &r), SB_ENOTFOUND);
	/* SRTP line picked even when a plain stream comes first but is not acceptable */
	l.srtp = SDP_SRTP_REQUIRE;
	assert_int_equal(nego("m=audio 4000 RTP/AVP 0\r\n"
			      "m=audio 4002 RTP/SAVP 8\r\n"
			      "a=crypto:7 AES_CM_128_HMAC_SHA1_80 " THEIR_KEY "\r\n",
			      &l, &s, &r),
			 0);
	assert_int_equal(r.media_idx, 1);
	assert_int_equal(r.crypto_tag, 7);
}

static void test_srtp_offer_and_answer_check(void **state)
{
	(void)state;
	struct sdp_local l;
	local_std(&l);
	l.srtp = SDP_SRTP_REQUIRE;
	l.crypto_key = SB_SLICE_LIT(OUR_KEY);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_offer(&b, &l), 0);
	assert_non_null(strstr(b.p, "m=audio 30000 RTP/SAVP 0 8 101\r\n"));
	assert_non_null(strstr(b.p, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 " OUR_KEY "\r\n"));
	assert_non_null(strstr(b.p, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 " OUR_KEY "\r\n"));
	sb_buf_free(&b);
	static char text[1024];
	struct sdp_session s;
	struct sdp_result r;
	snprintf(text, sizeof(text),
		 "%sm=audio 5000 RTP/SAVP 0\r\na=crypto:2 "
		 "AES_CM_128_HMAC_SHA1_32 " THEIR_KEY "\r\n",
		 HEAD);
	assert_int_equal(sdp_parse(&s, sb_slice_cstr(text)), 0);
	assert_int_equal(sdp_process_answer(&s, &l, &r), 0);
	assert_int_equal(r.crypto_suite, SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32);
	assert_string_equal(r.remote_crypto_key, THEIR_KEY);
	/* tag 1 with the 32-bit suite was never offered; a plain answer to SAVP is wrong */
	snprintf(text, sizeof(text),
		 "%sm=audio 5000 RTP/SAVP 0\r\na=crypto:1 "
		 "AES_CM_128_HMAC_SHA1_32 " THEIR_KEY "\r\n",
		 HEAD);
	assert_int_equal(sdp_parse(&s, sb_slice_cstr(text)), 0);
	assert_int_equal(sdp_process_answer(&s, &l, &r), SB_EMALFORMED);
	snprintf(text, sizeof(text), "%sm=audio 5000 RTP/AVP 0\r\n", HEAD);
	assert_int_equal(sdp_parse(&s, sb_slice_cstr(text)), 0);
	assert_int_equal(sdp_process_answer(&s, &l, &r), SB_EMALFORMED);
}

/* G.722 and Opus are negotiated by name and clock (opus/48000/2 with its dynamic PT). */
static void test_wideband_codecs(void **state)
{
	(void)state;
	struct sdp_local l;
	struct sdp_session s;
	struct sdp_result r;
	local_std(&l);
	l.codecs[0] = SDP_CODEC_OPUS;
	l.codecs[1] = SDP_CODEC_G722;
	l.codecs[2] = SDP_CODEC_PCMU;
	l.n_codecs = 3;
	assert_int_equal(
	    nego("m=audio 4000 RTP/AVP 96 9 0\r\na=rtpmap:96 opus/48000/2\r\n", &l, &s, &r), 0);
	assert_int_equal(r.codec, SDP_CODEC_OPUS);
	assert_int_equal(r.pt, 96);
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(sdp_make_answer(&b, &l, &s, &r), 0);
	assert_non_null(
	    strstr(b.p, "a=rtpmap:96 opus/48000/2\r\na=fmtp:96 minptime=10;useinbandfec=1"));
	sb_buf_reset(&b);
	assert_int_equal(nego("m=audio 4000 RTP/AVP 9 0\r\n", &l, &s, &r), 0);
	assert_int_equal(r.codec, SDP_CODEC_G722);
	/* opus/48000 with one channel is not RFC 7587 opus */
	assert_int_equal(nego("m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000\r\n", &l, &s, &r),
			 SB_ENOTFOUND);
	/* CN is understood but never the voice codec */
	assert_int_equal(nego("m=audio 4000 RTP/AVP 13\r\n", &l, &s, &r), SB_ENOTFOUND);
	sb_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offer_text),
	    cmocka_unit_test(test_offer_invalid),
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_negotiate_basic),
	    cmocka_unit_test(test_telephone_event),
	    cmocka_unit_test(test_no_common_codec),
	    cmocka_unit_test(test_missing_conn),
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_answer_rejects_other_streams),
	    cmocka_unit_test(test_process_answer),
	    cmocka_unit_test(test_full_loop),
	    cmocka_unit_test(test_srtp_answer),
	    cmocka_unit_test(test_srtp_offer_and_answer_check),
	    cmocka_unit_test(test_wideband_codecs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
