/* Unit tests for src/rtp/packet.c: RTP header parse/build from hand-written RFC 3550 bytes,
 * malformed and truncated packets, RTCP compound parse/build and RFC 5761 demultiplexing. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base/compat.h"
#include "base/err.h"
#include "rtp/packet.h"

/* ---- RTP ---- */

static void rtp_minimal(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {
	    0x80, 0x00, 0x12, 0x34, /* V=2, PT=0 (PCMU), seq 0x1234 */
	    0x00, 0x00, 0x00, 0xa0, /* ts 160 */
	    0xde, 0xad, 0xbe, 0xef, /* SSRC */
	    0x01, 0x02, 0x03,	    /* payload */
	};
	struct rtp_hdr h;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h.version, 2);
	assert_false(h.marker);
	assert_int_equal(h.pt, 0);
	assert_int_equal(h.seq, 0x1234);
	assert_int_equal(h.ts, 160);
	assert_int_equal(h.ssrc, 0xdeadbeef);
	assert_int_equal(h.cc, 0);
	assert_false(h.has_ext);
	assert_int_equal(h.padding, 0);
	assert_ptr_equal(h.payload, pkt + 12);
	assert_int_equal(h.payload_len, 3);

	/* header only: empty payload is valid */
	assert_int_equal(rtp_parse(pkt, 12, &h), 0);
	assert_int_equal(h.payload_len, 0);
}

static void rtp_csrc_marker(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {
	    0x82, 0xe0, 0xff, 0xff, /* CC=2, M=1, PT=96, seq 65535 */
	    0xff, 0xff, 0xff, 0xff, /* ts */
	    0x01, 0x02, 0x03, 0x04, /* SSRC */
	    0x11, 0x11, 0x11, 0x11, /* CSRC 1 */
	    0x22, 0x22, 0x22, 0x22, /* CSRC 2 */
	    0xaa,		    /* payload */
	};
	struct rtp_hdr h;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	assert_true(h.marker);
	assert_int_equal(h.pt, 96);
	assert_int_equal(h.seq, 65535);
	assert_int_equal(h.ts, 0xffffffffu);
	assert_int_equal(h.cc, 2);
	assert_int_equal(h.csrc[0], 0x11111111);
	assert_int_equal(h.csrc[1], 0x22222222);
	assert_ptr_equal(h.payload, pkt + 20);
	assert_int_equal(h.payload_len, 1);
	/* one CSRC short */
	assert_int_equal(rtp_parse(pkt, 19, &h), SB_EMALFORMED);
}

static void rtp_extension(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {
	    0x90, 0x08, 0x00, 0x01, /* X=1, PT=8 */
	    0x00, 0x00, 0x00, 0x00, /* ts */
	    0x00, 0x00, 0x00, 0x07, /* SSRC */
	    0xbe, 0xde, 0x00, 0x01, /* RFC 8285 one-byte profile, 1 word */
	    0x10, 0xaa, 0x00, 0x00, /* id 1, len 1, value 0xaa, padding */
	    0xd5, 0xd5,		    /* payload */
	};
	struct rtp_hdr h;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	assert_true(h.has_ext);
	assert_int_equal(h.ext_profile, 0xbede);
	assert_ptr_equal(h.ext, pkt + 16);
	assert_int_equal(h.ext_len, 4);
	assert_ptr_equal(h.payload, pkt + 20);
	assert_int_equal(h.payload_len, 2);
	/* extension body past the end, extension header cut */
	assert_int_equal(rtp_parse(pkt, 19, &h), SB_EMALFORMED);
	assert_int_equal(rtp_parse(pkt, 15, &h), SB_EMALFORMED);
	/* an empty extension (length 0) is valid */
	uint8_t e[16];
	memcpy(e, pkt, 16);
	e[15] = 0;
	assert_int_equal(rtp_parse(e, sizeof(e), &h), 0);
	assert_true(h.has_ext);
	assert_int_equal(h.ext_len, 0);
	assert_int_equal(h.payload_len, 0);
}

static void rtp_padding(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {
	    0xa0, 0x00, 0x00, 0x05, /* P=1 */
	    0x00, 0x00, 0x01, 0x40, 0x00, 0x00,
	    0x00, 0x09, 0x61, 0x62, 0x63, 0x64, /* payload "abcd" */
	    0x00, 0x00, 0x03,			/* 3 bytes of padding, count last */
	};
	struct rtp_hdr h;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h.padding, 3);
	assert_int_equal(h.payload_len, 4);
	assert_memory_equal(h.payload, "abcd", 4);

	uint8_t b[sizeof(pkt)];
	memcpy(b, pkt, sizeof(b));
	b[sizeof(b) - 1] = 0; /* the count includes itself: 0 is invalid */
	assert_int_equal(rtp_parse(b, sizeof(b), &h), SB_EMALFORMED);
	b[sizeof(b) - 1] = 7; /* padding eats all of the payload: valid, empty */
	assert_int_equal(rtp_parse(b, sizeof(b), &h), 0);
	assert_int_equal(h.payload_len, 0);
	assert_int_equal(h.padding, 7);
	b[sizeof(b) - 1] = 8; /* into the header */
	assert_int_equal(rtp_parse(b, sizeof(b), &h), SB_EMALFORMED);
	b[sizeof(b) - 1] = 255;
	assert_int_equal(rtp_parse(b, sizeof(b), &h), SB_EMALFORMED);
}

static void rtp_all_fields(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {
	    0xb1, 0x65, 0x00, 0x02, /* P, X, CC=1, PT=101 */
	    0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* CSRC */
	    0x10, 0x00, 0x00, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* ext */
	    0x05, 0x80, 0x00, 0xa0, /* RFC 4733 event 5, E bit */
	    0x00, 0x02,		    /* padding */
	};
	struct rtp_hdr h;
	assert_int_equal(rtp_parse(pkt, sizeof(pkt), &h), 0);
	assert_int_equal(h.cc, 1);
	assert_int_equal(h.csrc[0], 2);
	assert_int_equal(h.ext_profile, 0x1000);
	assert_int_equal(h.ext_len, 8);
	assert_int_equal(h.padding, 2);
	assert_ptr_equal(h.payload, pkt + 28);
	assert_int_equal(h.payload_len, 4);
}

static void rtp_malformed(void **state)
{
	(void)state;
	uint8_t b[64];
	struct rtp_hdr h;
	memset(b, 0, sizeof(b));
	b[0] = 0x80;
	for (size_t n = 0; n < RTP_HDR_LEN; n++)
		assert_int_equal(rtp_parse(b, n, &h), SB_EMALFORMED);
	assert_int_equal(rtp_parse(b, 12, &h), 0);
	b[0] = 0x40; /* version 1 */
	assert_int_equal(rtp_parse(b, 12, &h), SB_EMALFORMED);
	b[0] = 0xc0; /* version 3 */
	assert_int_equal(rtp_parse(b, 12, &h), SB_EMALFORMED);
	b[0] = 0x00;
	assert_int_equal(rtp_parse(b, 12, &h), SB_EMALFORMED);
	b[0] = 0x8f; /* 15 CSRCs need 72 bytes */
	assert_int_equal(rtp_parse(b, 64, &h), SB_EMALFORMED);
	b[0] = 0x90; /* ext header with 0xffff words */
	b[14] = 0xff;
	b[15] = 0xff;
	assert_int_equal(rtp_parse(b, 64, &h), SB_EMALFORMED);
	b[0] = 0xa0; /* padding with only the header */
	b[11] = 1;
	assert_int_equal(rtp_parse(b, 12, &h), SB_EMALFORMED);
}

static void rtp_write(void **state)
{
	(void)state;
	uint8_t b[16];
	static const uint8_t want[] = {0x80, 0x88, 0xab, 0xcd, 0x12, 0x34,
				       0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0};
	assert_int_equal(rtp_write_header(b, 11, 8, true, 0xabcd, 0x12345678, 0x9abcdef0), 0);
	assert_int_equal(rtp_write_header(b, sizeof(b), 8, true, 0xabcd, 0x12345678, 0x9abcdef0),
			 RTP_HDR_LEN);
	assert_memory_equal(b, want, sizeof(want));
	struct rtp_hdr h;
	assert_int_equal(rtp_parse(b, RTP_HDR_LEN, &h), 0);
	assert_true(h.marker);
	assert_int_equal(h.pt, 8);
	assert_int_equal(h.seq, 0xabcd);
	/* pt is masked to 7 bits */
	rtp_write_header(b, sizeof(b), 0xff, false, 0, 0, 0);
	assert_int_equal(b[1], 0x7f);
}

static void rtcp_demux(void **state)
{
	(void)state;
	uint8_t b[2] = {0x80, 0};
	for (unsigned v = 0; v < 256; v++) {
		b[1] = (uint8_t)v;
		assert_int_equal(rtp_is_rtcp(b, 2), v >= 192 && v <= 223);
	}
	b[1] = 200;
	assert_false(rtp_is_rtcp(b, 1));
	assert_false(rtp_is_rtcp(b, 0));
	b[1] = 0x80 | 64; /* RTP PT 64 with the marker: 192 is reserved for exactly this reason */
	assert_true(rtp_is_rtcp(b, 2));
	b[1] = 0x80 | 96; /* dynamic PT 96 with marker = 224 */
	assert_false(rtp_is_rtcp(b, 2));
}

/* ---- RTCP ---- */

/* SR with one report block + SDES CNAME "bob@lab" (RFC 3550 §6.4.1, §6.5) */
static const uint8_t sr_sdes[] = {
    0x81, 0xc8, 0x00, 0x0c,			     /* V=2 RC=1 SR, 13 words */
    0x11, 0x22, 0x33, 0x44,			     /* sender SSRC */
    0xe8, 0x9a, 0x4b, 0x2c,			     /* NTP seconds */
    0x80, 0x00, 0x00, 0x00,			     /* NTP fraction: .5 */
    0x00, 0x01, 0xe2, 0x40,			     /* RTP ts 123456 */
    0x00, 0x00, 0x00, 0x64,			     /* 100 packets */
    0x00, 0x00, 0x3e, 0x80,			     /* 16000 octets */
    0x55, 0x66, 0x77, 0x88,			     /* block: SSRC */
    0x40, 0xff, 0xff, 0xfe,			     /* fraction 64/256, cumulative -2 */
    0x00, 0x01, 0x00, 0x05,			     /* ext highest seq */
    0x00, 0x00, 0x00, 0x20,			     /* jitter 32 */
    0x4b, 0x2c, 0x80, 0x00,			     /* LSR */
    0x00, 0x01, 0x00, 0x00,			     /* DLSR 1 s */
    0x81, 0xca, 0x00, 0x04,			     /* SDES SC=1, 5 words */
    0x11, 0x22, 0x33, 0x44,			     /* chunk SSRC */
    0x01, 0x07, 'b',  'o',  'b', '@', 'l', 'a', 'b', /* CNAME */
    0x00, 0x00, 0x00,				     /* end of list and padding */
};

static void rtcp_sr_sdes(void **state)
{
	(void)state;
	struct rtcp_info info;
	assert_int_equal(rtcp_parse(sr_sdes, sizeof(sr_sdes), &info), 0);
	assert_true(info.has_sr);
	assert_int_equal(info.ssrc, 0x11223344);
	assert_true(info.ntp == ((uint64_t)0xe89a4b2c << 32 | 0x80000000u));
	assert_int_equal(info.rtp_ts, 123456);
	assert_int_equal(info.pkt_count, 100);
	assert_int_equal(info.octet_count, 16000);
	assert_int_equal(info.n_rb, 1);
	assert_int_equal(info.rb[0].ssrc, 0x55667788);
	assert_int_equal(info.rb[0].fraction_lost, 64);
	assert_int_equal(info.rb[0].cum_lost, -2);
	assert_int_equal(info.rb[0].ext_high_seq, 0x10005);
	assert_int_equal(info.rb[0].jitter, 32);
	assert_int_equal(info.rb[0].lsr, 0x4b2c8000);
	assert_int_equal(info.rb[0].dlsr, 65536);
	assert_string_equal(info.cname, "bob@lab");
	assert_false(info.bye);

	/* every cut is rejected (never a read past the end: ASan watches) */
	for (size_t n = 0; n < sizeof(sr_sdes); n++)
		if (n != 52) /* 52: the SR alone, a valid compound */
			assert_int_equal(rtcp_parse(sr_sdes, n, &info), SB_EMALFORMED);
	assert_int_equal(rtcp_parse(sr_sdes, 52, &info), 0);
	assert_string_equal(info.cname, "");
	assert_int_equal(rtcp_parse(sr_sdes, sizeof(sr_sdes), &info), 0);

	/* our own builder gives the same bytes */
	uint8_t out[128];
	assert_int_equal(rtcp_build(out, sizeof(out), &info), sizeof(sr_sdes));
	assert_memory_equal(out, sr_sdes, sizeof(sr_sdes));
}

static void rtcp_rr_two_blocks(void **state)
{
	(void)state;
	static const uint8_t rr[] = {
	    0x82, 0xc9, 0x00, 0x0d, /* RC=2 RR, 14 words */
	    0xca, 0xfe, 0xba, 0xbe, /* sender */
	    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* block 1 */
	    0x00, 0x00, 0x00, 0x02, 0xff, 0x7f, 0xff, 0xff, 0x00, 0x02, 0x00, 0x00,
	    0x00, 0x00, 0x01, 0x00, 0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x80, 0x00, /* block 2 */
	};
	struct rtcp_info info;
	assert_int_equal(rtcp_parse(rr, sizeof(rr), &info), 0);
	assert_false(info.has_sr);
	assert_int_equal(info.ssrc, 0xcafebabe);
	assert_int_equal(info.n_rb, 2);
	assert_int_equal(info.rb[0].ssrc, 1);
	assert_int_equal(info.rb[0].cum_lost, 0);
	assert_int_equal(info.rb[0].ext_high_seq, 0xffff);
	assert_int_equal(info.rb[1].ssrc, 2);
	assert_int_equal(info.rb[1].fraction_lost, 255);
	assert_int_equal(info.rb[1].cum_lost, 0x7fffff);
	assert_int_equal(info.rb[1].ext_high_seq, 0x20000);
	assert_int_equal(info.rb[1].jitter, 256);
	assert_int_equal(info.rb[1].lsr, 0x12345678);
	assert_int_equal(info.rb[1].dlsr, 0x8000);
	assert_string_equal(info.cname, "");

	/* RC says 3 blocks but the length holds 2 */
	uint8_t b[sizeof(rr)];
	memcpy(b, rr, sizeof(b));
	b[0] = 0x83;
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	/* length says more than there is */
	memcpy(b, rr, sizeof(b));
	b[3] = 0x0e;
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	/* version 1 */
	memcpy(b, rr, sizeof(b));
	b[0] = 0x42;
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	/* a shorter length leaves a tail that is not a packet */
	memcpy(b, rr, sizeof(b));
	b[3] = 0x07;
	b[0] = 0x81;
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	assert_int_equal(rtcp_parse(b, 32, &info), 0);
	assert_int_equal(info.n_rb, 1);
}

static void rtcp_bye_and_skips(void **state)
{
	(void)state;
	static const uint8_t pkt[] = {
	    0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09,			    /* empty RR */
	    0x80, 0xcc, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 'n',  'a',	'm',  'e',  /* APP */
	    0x81, 0xce, 0x00, 0x02, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x01, /* PSFB PLI */
	    0x81, 0xcb, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09,			    /* BYE */
	    0x05, 'h',	'e',  'l',  'l',  'o',	0x00, 0x00,			    /* reason */
	};
	struct rtcp_info info;
	assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &info), 0);
	assert_int_equal(info.ssrc, 9);
	assert_int_equal(info.n_rb, 0);
	assert_true(info.bye);

	uint8_t b[sizeof(pkt)];
	memcpy(b, pkt, sizeof(b));
	b[40] = 7; /* a reason of 7 still fits in the packet's padding */
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), 0);
	b[40] = 8; /* reason longer than the packet */
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	memcpy(b, pkt, sizeof(b));
	b[32] = 0x84; /* 4 sources in 3 words */
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	memcpy(b, pkt, sizeof(b));
	b[11] = 0x01; /* APP without its name */
	b[8] = 0x80;
	assert_int_equal(rtcp_parse(b, 16, &info), SB_EMALFORMED);

	/* a lone BYE (some stacks send one) */
	static const uint8_t bye[] = {0x81, 0xcb, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04};
	assert_int_equal(rtcp_parse(bye, sizeof(bye), &info), 0);
	assert_true(info.bye);
	assert_int_equal(info.n_rb, 0);
}

static void rtcp_sdes_cases(void **state)
{
	(void)state;
	/* two chunks; the report sender's CNAME wins over the first one; NOTE items skipped */
	static const uint8_t pkt[] = {
	    0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,			    /* RR from 2 */
	    0x82, 0xca, 0x00, 0x06,						    /* SDES SC=2 */
	    0x00, 0x00, 0x00, 0x01, 0x01, 0x02, 'a',  'a',  0x00, 0x00, 0x00, 0x00, /* chunk 1 */
	    0x00, 0x00, 0x00, 0x02, 0x07, 0x01, 'n',  0x01, 0x01, 'b',	0x00, 0x00, /* chunk 2 */
	};
	struct rtcp_info info;
	assert_int_equal(rtcp_parse(pkt, sizeof(pkt), &info), 0);
	assert_string_equal(info.cname, "b");

	uint8_t b[sizeof(pkt)];
	memcpy(b, pkt, sizeof(b));
	b[31] = 0x02; /* CNAME length past the chunk's end */
	b[33] = 0x01;
	b[34] = 0x01;
	b[35] = 0x01;
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);
	memcpy(b, pkt, sizeof(b));
	b[8] = 0x83; /* a third chunk that is not there */
	assert_int_equal(rtcp_parse(b, sizeof(b), &info), SB_EMALFORMED);

	/* padding bit on the last sub-packet: pad count checked */
	static const uint8_t padded[] = {
	    0xa0, 0xc9, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04,
	};
	assert_int_equal(rtcp_parse(padded, sizeof(padded), &info), 0);
	memcpy(b, padded, sizeof(padded));
	b[11] = 0;
	assert_int_equal(rtcp_parse(b, sizeof(padded), &info), SB_EMALFORMED);
	b[11] = 9; /* into the header */
	assert_int_equal(rtcp_parse(b, sizeof(padded), &info), SB_EMALFORMED);
	b[11] = 5; /* leaves 7 bytes: not enough for an RR */
	assert_int_equal(rtcp_parse(b, sizeof(padded), &info), SB_EMALFORMED);
}

static void rtcp_build_round_trip(void **state)
{
	(void)state;
	struct rtcp_info in, out;
	memset(&in, 0, sizeof(in));
	in.ssrc = 0xa1b2c3d4;
	in.has_sr = true;
	in.ntp = 0x0123456789abcdefull;
	in.rtp_ts = 42;
	in.pkt_count = 7;
	in.octet_count = 1120;
	in.n_rb = RTCP_MAX_RB;
	for (unsigned i = 0; i < RTCP_MAX_RB; i++) {
		in.rb[i].ssrc = i + 1;
		in.rb[i].fraction_lost = (uint8_t)i;
		in.rb[i].cum_lost = (int32_t)i * 1000 - 10000;
		in.rb[i].ext_high_seq = i << 16;
		in.rb[i].jitter = i * 3;
		in.rb[i].lsr = ~i;
		in.rb[i].dlsr = i * 65536;
	}
	strcpy(in.cname, "user@192.0.2.1");
	in.bye = true;
	uint8_t b[1024];
	size_t n = rtcp_build(b, sizeof(b), &in);
	assert_int_equal(n, 28 + 31 * 24 + 4 + 24 + 8);
	assert_int_equal(n % 4, 0);
	assert_int_equal(rtcp_build(b, n - 1, &in), 0);
	assert_int_equal(rtcp_parse(b, n, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));

	/* RR, no CNAME, no BYE: one sub-packet; n_rb beyond 31 is refused */
	in.has_sr = false;
	in.n_rb = 2;
	in.cname[0] = '\0';
	in.bye = false;
	n = rtcp_build(b, sizeof(b), &in);
	assert_int_equal(n, 8 + 48);
	assert_int_equal(rtcp_parse(b, n, &out), 0);
	assert_false(out.has_sr);
	assert_int_equal(out.n_rb, 2);
	assert_int_equal(out.rb[1].cum_lost, -9000);
	in.n_rb = 32;
	assert_int_equal(rtcp_build(b, sizeof(b), &in), 0);

	/* cumulative loss is clamped to 24 bits */
	in.n_rb = 1;
	in.rb[0].cum_lost = -20000000;
	n = rtcp_build(b, sizeof(b), &in);
	assert_int_equal(rtcp_parse(b, n, &out), 0);
	assert_int_equal(out.rb[0].cum_lost, -0x800000);
	in.rb[0].cum_lost = 20000000;
	n = rtcp_build(b, sizeof(b), &in);
	assert_int_equal(rtcp_parse(b, n, &out), 0);
	assert_int_equal(out.rb[0].cum_lost, 0x7fffff);
}

/* The SDES chunk ends with at least one null octet, padded to a 32-bit boundary. */
static void rtcp_build_sdes_padding(void **state)
{
	(void)state;
	struct rtcp_info in, out;
	uint8_t b[512];
	for (size_t len = 1; len <= 255; len++) {
		memset(&in, 0, sizeof(in));
		in.ssrc = 5;
		memset(in.cname, 'x', len);
		size_t n = rtcp_build(b, sizeof(b), &in);
		size_t chunk = (4 + 2 + len + 1 + 3) / 4 * 4;
		assert_int_equal(n, 8 + 4 + chunk);
		assert_int_equal(b[8 + 2] * 256 + b[8 + 3], (4 + chunk) / 4 - 1);
		assert_int_equal(b[8 + 4 + 4 + 2 + len], 0);
		for (size_t i = 8 + 4 + 4 + 2 + len; i < n; i++)
			assert_int_equal(b[i], 0);
		assert_int_equal(rtcp_parse(b, n, &out), 0);
		assert_int_equal(strlen(out.cname), len);
	}
	/* exact fits: "a" gives 4+2+1+1 = 8, no extra padding */
	memset(&in, 0, sizeof(in));
	strcpy(in.cname, "a");
	assert_int_equal(rtcp_build(b, sizeof(b), &in), 8 + 4 + 8);
	/* a CNAME of 256 non-NUL bytes is cut at 255 */
	memset(in.cname, 'y', sizeof(in.cname));
	size_t n = rtcp_build(b, sizeof(b), &in);
	assert_int_equal(rtcp_parse(b, n, &out), 0);
	assert_int_equal(strlen(out.cname), 255);
}

static void rtcp_malformed_misc(void **state)
{
	(void)state;
	struct rtcp_info info;
	static const uint8_t rr[] = {0x80, 0xc9, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09};
	assert_int_equal(rtcp_parse(rr, 0, &info), SB_EMALFORMED);
	assert_int_equal(rtcp_parse(rr, 6, &info), SB_EMALFORMED);
	uint8_t b[12];
	memcpy(b, rr, 8);
	memset(b + 8, 0, 4);
	assert_int_equal(rtcp_parse(b, 10, &info), SB_EMALFORMED); /* not a word multiple */
	assert_int_equal(rtcp_parse(b, 12, &info), SB_EMALFORMED); /* version 0 tail */
	b[1] = RTCP_SR;						   /* SR too short */
	assert_int_equal(rtcp_parse(b, 8, &info), SB_EMALFORMED);
}

static void ntp_time(void **state)
{
	(void)state;
	assert_true(rtcp_ntp_from_unix_ns(0) == (uint64_t)2208988800u << 32);
	uint64_t t = rtcp_ntp_from_unix_ns(1500000000ull);
	assert_true(t == ((uint64_t)(2208988800u + 1) << 32 | 0x80000000u));
	/* 2024-01-01T00:00:00Z = 1704067200 */
	t = rtcp_ntp_from_unix_ns(1704067200ull * 1000000000ull + 250000000ull);
	assert_true(t >> 32 == ((1704067200ull + 2208988800ull) & 0xffffffffu));
	assert_int_equal((uint32_t)t, 0x40000000u);
	assert_int_equal(rtcp_ntp_mid(0x0011223344556677ull), 0x22334455u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(rtp_minimal),
	    cmocka_unit_test(rtp_csrc_marker),
	    cmocka_unit_test(rtp_extension),
	    cmocka_unit_test(rtp_padding),
	    cmocka_unit_test(rtp_all_fields),
	    cmocka_unit_test(rtp_malformed),
	    cmocka_unit_test(rtp_write),
	    cmocka_unit_test(rtcp_demux),
	    cmocka_unit_test(rtcp_sr_sdes),
	    cmocka_unit_test(rtcp_rr_two_blocks),
	    cmocka_unit_test(rtcp_bye_and_skips),
	    cmocka_unit_test(rtcp_sdes_cases),
	    cmocka_unit_test(rtcp_build_round_trip),
	    cmocka_unit_test(rtcp_build_sdes_padding),
	    cmocka_unit_test(rtcp_malformed_misc),
	    cmocka_unit_test(ntp_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
