/* Unit tests for src/rtp/srtp.c: SDES key text, suites, libsrtp's published known-answer
 * packets (RFC 3711 B.3 master key), round trips, tampering and replay. */
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
#include "rtp/srtp.h"

/* RFC 3711 Appendix B.3 master key and salt */
static const uint8_t kat_key[RTP_SRTP_KEY_LEN] = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41,
    0x39, 0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};
static const char kat_key_text[] = "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm";

/* libsrtp's srtp_validate() reference packets for that key (test/srtp_driver.c) */
static const uint8_t kat_rtp[28] = {
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t kat_srtp_80[38] = {
    0x80, 0x0f, 0x12, 0x34, 0xde, 0xca, 0xfb, 0xad, 0xca, 0xfe, 0xba, 0xbe, 0x4e,
    0x55, 0xdc, 0x4c, 0xe7, 0x99, 0x78, 0xd8, 0x8c, 0xa4, 0xd2, 0x15, 0x94, 0x9d,
    0x24, 0x02, 0xb7, 0x8d, 0x6a, 0xcc, 0x99, 0xea, 0x17, 0x9b, 0x8d, 0xbb,
};
/* the 32-bit tag is the first 4 bytes of the same HMAC */
#define KAT_SRTP_32_LEN 32
static const uint8_t kat_rtcp[24] = {
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0xab, 0xab, 0xab, 0xab,
    0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab,
};
static const uint8_t kat_srtcp[38] = {
    0x81, 0xc8, 0x00, 0x0b, 0xca, 0xfe, 0xba, 0xbe, 0x71, 0x28, 0x03, 0x5b, 0xe4,
    0x87, 0xb9, 0xbd, 0xbe, 0xf8, 0x90, 0x41, 0xf9, 0x77, 0xa5, 0xa8, 0x80, 0x00,
    0x00, 0x01, 0x99, 0x3e, 0x08, 0xcd, 0x54, 0xd6, 0xc1, 0x23, 0x07, 0x98,
};

static void suites(void **state)
{
	(void)state;
	static const char n80[] = "AES_CM_128_HMAC_SHA1_80", n32[] = "AES_CM_128_HMAC_SHA1_32";
	assert_int_equal(rtp_srtp_suite_from_name(n80, strlen(n80)),
			 RTP_SRTP_AES_CM_128_HMAC_SHA1_80);
	assert_int_equal(rtp_srtp_suite_from_name(n32, strlen(n32)),
			 RTP_SRTP_AES_CM_128_HMAC_SHA1_32);
	assert_int_equal(rtp_srtp_suite_from_name(n80, strlen(n80) - 1), RTP_SRTP_NONE);
	assert_int_equal(rtp_srtp_suite_from_name("F8_128_HMAC_SHA1_80", 19), RTP_SRTP_NONE);
	assert_int_equal(rtp_srtp_suite_from_name("", 0), RTP_SRTP_NONE);
	assert_string_equal(rtp_srtp_suite_name(RTP_SRTP_AES_CM_128_HMAC_SHA1_80), n80);
	assert_string_equal(rtp_srtp_suite_name(RTP_SRTP_AES_CM_128_HMAC_SHA1_32), n32);
	assert_string_equal(rtp_srtp_suite_name(RTP_SRTP_NONE), "NONE");
	assert_string_equal(rtp_srtp_suite_name((enum rtp_srtp_suite)77), "NONE");
}

static void key_text(void **state)
{
	(void)state;
	uint8_t key[RTP_SRTP_KEY_LEN], k2[RTP_SRTP_KEY_LEN];
	assert_int_equal(rtp_srtp_key_parse(kat_key_text, strlen(kat_key_text), key), 0);
	assert_memory_equal(key, kat_key, sizeof(key));

	char text[48];
	assert_int_equal(rtp_srtp_key_new(key, text, sizeof(text)), 0);
	assert_int_equal(strlen(text), 47);
	assert_memory_equal(text, "inline:", 7);
	assert_int_equal(rtp_srtp_key_parse(text, strlen(text), k2), 0);
	assert_memory_equal(key, k2, sizeof(key));
	char t2[64];
	assert_int_equal(rtp_srtp_key_new(k2, t2, sizeof(t2)), 0);
	assert_memory_not_equal(key, k2, sizeof(key)); /* 2^-240 */
	assert_int_equal(rtp_srtp_key_new(key, text, 47), SB_EINVAL);

	/* lifetimes are accepted and ignored */
	static const char *const good[] = {
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|2^20",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|1048576",
	    "INLINE:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",
	};
	for (size_t i = 0; i < SB_ARRAY_LEN(good); i++) {
		memset(k2, 0, sizeof(k2));
		assert_int_equal(rtp_srtp_key_parse(good[i], strlen(good[i]), k2), 0);
		assert_memory_equal(k2, kat_key, sizeof(k2));
	}
}

static void bad_keys(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "inline:",
	    "inline",
	    "uri:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqv",	   /* 39 chars */
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvmAAAA", /* 33 bytes */
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqv!",	   /* bad character */
	    "inline:4fl6DT4Bi-DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",	   /* base64url is not SDES */
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOq==",	   /* 29 bytes */
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|1:4", /* MKI */
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|2^20|1:4",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|2^",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|abc",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm|20|30",
	    "inline:4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm ",
	    "inline: 4fl6DT4Bi+DWT6MsBt5BOQ7Gda1Jiv7rtpYLOqvm",
	};
	uint8_t key[RTP_SRTP_KEY_LEN];
	for (size_t i = 0; i < SB_ARRAY_LEN(bad); i++)
		assert_int_equal(rtp_srtp_key_parse(bad[i], strlen(bad[i]), key), SB_EMALFORMED);
	/* the length bounds the read: a valid key cut short is bad */
	assert_int_equal(rtp_srtp_key_parse(kat_key_text, strlen(kat_key_text) - 1, key),
			 SB_EMALFORMED);
}

static void new_fails(void **state)
{
	(void)state;
	struct rtp_srtp *s = NULL;
	assert_int_equal(rtp_srtp_new(&s, RTP_SRTP_NONE, kat_key, true), SB_EINVAL);
	assert_int_equal(rtp_srtp_new(&s, (enum rtp_srtp_suite)9, kat_key, true), SB_EINVAL);
	assert_null(s);
	rtp_srtp_free(NULL);
}

static void known_answer(void **state)
{
	(void)state;
	struct rtp_srtp *tx, *rx;
	uint8_t b[64];
	size_t n;

	assert_int_equal(rtp_srtp_new(&tx, RTP_SRTP_AES_CM_128_HMAC_SHA1_80, kat_key, true), 0);
	assert_int_equal(rtp_srtp_new(&rx, RTP_SRTP_AES_CM_128_HMAC_SHA1_80, kat_key, false), 0);
	memcpy(b, kat_rtp, sizeof(kat_rtp));
	n = sizeof(kat_rtp);
	assert_int_equal(rtp_srtp_protect(tx, b, &n, sizeof(b)), 0);
	assert_int_equal(n, sizeof(kat_srtp_80));
	assert_memory_equal(b, kat_srtp_80, n);
	assert_int_equal(rtp_srtp_unprotect(rx, b, &n), 0);
	assert_int_equal(n, sizeof(kat_rtp));
	assert_memory_equal(b, kat_rtp, n);

	memcpy(b, kat_rtcp, sizeof(kat_rtcp));
	n = sizeof(kat_rtcp);
	assert_int_equal(rtp_srtp_protect_rtcp(tx, b, &n, sizeof(b)), 0);
	assert_int_equal(n, sizeof(kat_srtcp));
	assert_memory_equal(b, kat_srtcp, n);
	assert_int_equal(rtp_srtp_unprotect_rtcp(rx, b, &n), 0);
	assert_int_equal(n, sizeof(kat_rtcp));
	assert_memory_equal(b, kat_rtcp, n);
	rtp_srtp_free(tx);
	rtp_srtp_free(rx);

	/* _32: same keystream, tag cut to 4 bytes; SRTCP keeps the 80-bit tag (RFC 4568) */
	assert_int_equal(rtp_srtp_new(&tx, RTP_SRTP_AES_CM_128_HMAC_SHA1_32, kat_key, true), 0);
	assert_int_equal(rtp_srtp_new(&rx, RTP_SRTP_AES_CM_128_HMAC_SHA1_32, kat_key, false), 0);
	memcpy(b, kat_rtp, sizeof(kat_rtp));
	n = sizeof(kat_rtp);
	assert_int_equal(rtp_srtp_protect(tx, b, &n, sizeof(b)), 0);
	assert_int_equal(n, KAT_SRTP_32_LEN);
	assert_memory_equal(b, kat_srtp_80, n);
	assert_int_equal(rtp_srtp_unprotect(rx, b, &n), 0);
	assert_memory_equal(b, kat_rtp, sizeof(kat_rtp));
	memcpy(b, kat_rtcp, sizeof(kat_rtcp));
	n = sizeof(kat_rtcp);
	assert_int_equal(rtp_srtp_protect_rtcp(tx, b, &n, sizeof(b)), 0);
	assert_int_equal(n, sizeof(kat_srtcp));
	assert_memory_equal(b, kat_srtcp, n);
	assert_int_equal(rtp_srtp_unprotect_rtcp(rx, b, &n), 0);
	assert_memory_equal(b, kat_rtcp, sizeof(kat_rtcp));
	rtp_srtp_free(tx);
	rtp_srtp_free(rx);
}

static size_t make_rtp(uint8_t *b, uint16_t seq)
{
	size_t n = rtp_write_header(b, 12, 0, false, seq, (uint32_t)seq * 160, 0x5eed);
	for (size_t i = 0; i < 160; i++)
		b[n + i] = (uint8_t)(i ^ seq);
	return n + 160;
}

static size_t make_rtcp(uint8_t *b, uint32_t pkts)
{
	struct rtcp_info in;
	memset(&in, 0, sizeof(in));
	in.ssrc = 0x5eed;
	in.has_sr = true;
	in.ntp = 0xe89a4b2c00000000ull + pkts;
	in.pkt_count = pkts;
	strcpy(in.cname, "gw@example.net");
	return rtcp_build(b, 200, &in);
}

static void round_trip_suite(enum rtp_srtp_suite suite, size_t tag)
{
	uint8_t key[RTP_SRTP_KEY_LEN];
	char text[48];
	assert_int_equal(rtp_srtp_key_new(key, text, sizeof(text)), 0);
	/* the receiver learns the key from the text, as from an a=crypto line */
	uint8_t rkey[RTP_SRTP_KEY_LEN];
	assert_int_equal(rtp_srtp_key_parse(text, strlen(text), rkey), 0);
	struct rtp_srtp *tx, *rx, *other;
	assert_int_equal(rtp_srtp_new(&tx, suite, key, true), 0);
	assert_int_equal(rtp_srtp_new(&rx, suite, rkey, false), 0);
	rkey[0] ^= 1;
	assert_int_equal(rtp_srtp_new(&other, suite, rkey, false), 0);

	uint8_t b[256], plain[256], saved[256];
	for (uint16_t seq = 65530; seq != 10; seq++) { /* across the rollover */
		size_t n = make_rtp(b, seq), pn = n;
		memcpy(plain, b, n);
		assert_int_equal(rtp_srtp_protect(tx, b, &n, sizeof(b)), 0);
		assert_int_equal(n, pn + tag);
		assert_memory_not_equal(b + 12, plain + 12, 160);
		size_t sn = n;
		memcpy(saved, b, n);
		if (seq == 3) { /* tampered payload, then tag: authentication fails */
			b[40] ^= 0x01;
			assert_int_equal(rtp_srtp_unprotect(rx, b, &n), SB_EAUTH);
			memcpy(b, saved, sn);
			b[sn - 1] ^= 0x80;
			assert_int_equal(rtp_srtp_unprotect(rx, b, &n), SB_EAUTH);
			memcpy(b, saved, sn);
			n = sn;
			assert_int_equal(rtp_srtp_unprotect(other, b, &n),
					 SB_EAUTH); /* wrong key */
			memcpy(b, saved, sn);
			n = sn;
		}
		assert_int_equal(rtp_srtp_unprotect(rx, b, &n), 0);
		assert_int_equal(n, pn);
		assert_memory_equal(b, plain, pn);
		/* the same packet again is a replay */
		memcpy(b, saved, sn);
		n = sn;
		assert_int_equal(rtp_srtp_unprotect(rx, b, &n), SB_EAUTH);
	}

	for (uint32_t i = 1; i < 5; i++) {
		size_t n = make_rtcp(b, i), pn = n;
		memcpy(plain, b, n);
		assert_int_equal(rtp_srtp_protect_rtcp(tx, b, &n, sizeof(b)), 0);
		assert_int_equal(n, pn + 14);
		size_t sn = n;
		memcpy(saved, b, n);
		b[20] ^= 0x40;
		assert_int_equal(rtp_srtp_unprotect_rtcp(rx, b, &n), SB_EAUTH);
		memcpy(b, saved, sn);
		n = sn;
		assert_int_equal(rtp_srtp_unprotect_rtcp(rx, b, &n), 0);
		assert_int_equal(n, pn);
		assert_memory_equal(b, plain, pn);
		struct rtcp_info info;
		assert_int_equal(rtcp_parse(b, n, &info), 0);
		assert_int_equal(info.pkt_count, i);
		memcpy(b, saved, sn);
		n = sn;
		assert_int_equal(rtp_srtp_unprotect_rtcp(rx, b, &n), SB_EAUTH);
	}
	rtp_srtp_free(tx);
	rtp_srtp_free(rx);
	rtp_srtp_free(other);
}

static void round_trip_80(void **state)
{
	(void)state;
	round_trip_suite(RTP_SRTP_AES_CM_128_HMAC_SHA1_80, 10);
}

static void round_trip_32(void **state)
{
	(void)state;
	round_trip_suite(RTP_SRTP_AES_CM_128_HMAC_SHA1_32, 4);
}

static void limits(void **state)
{
	(void)state;
	struct rtp_srtp *tx, *rx;
	assert_int_equal(rtp_srtp_new(&tx, RTP_SRTP_AES_CM_128_HMAC_SHA1_80, kat_key, true), 0);
	assert_int_equal(rtp_srtp_new(&rx, RTP_SRTP_AES_CM_128_HMAC_SHA1_80, kat_key, false), 0);
	uint8_t b[64];
	memcpy(b, kat_rtp, sizeof(kat_rtp));
	size_t n = sizeof(kat_rtp);
	/* no room for the tag: refused, buffer untouched */
	assert_int_equal(rtp_srtp_protect(tx, b, &n, sizeof(kat_rtp) + 9), SB_ETOOBIG);
	assert_int_equal(n, sizeof(kat_rtp));
	assert_memory_equal(b, kat_rtp, n);
	assert_int_equal(rtp_srtp_protect_rtcp(tx, b, &n, sizeof(kat_rtp) + 13), SB_ETOOBIG);
	n = 70;
	assert_int_equal(rtp_srtp_protect(tx, b, &n, 64), SB_ETOOBIG);
	/* exactly enough */
	n = sizeof(kat_rtp);
	assert_int_equal(rtp_srtp_protect(tx, b, &n, sizeof(kat_rtp) + 10), 0);
	assert_memory_equal(b, kat_srtp_80, n);

	/* too short to carry a header and a tag */
	memcpy(b, kat_srtp_80, sizeof(kat_srtp_80));
	n = 11;
	assert_int_not_equal(rtp_srtp_unprotect(rx, b, &n), 0);
	n = 14;
	assert_int_not_equal(rtp_srtp_unprotect(rx, b, &n), 0);
	n = 0;
	assert_int_not_equal(rtp_srtp_unprotect_rtcp(rx, b, &n), 0);
	/* the wrong direction */
	n = sizeof(kat_srtp_80);
	assert_int_not_equal(rtp_srtp_unprotect(tx, b, &n), 0);
	n = sizeof(kat_rtp);
	memcpy(b, kat_rtp, n);
	assert_int_not_equal(rtp_srtp_protect(rx, b, &n, sizeof(b)), 0);
	rtp_srtp_free(tx);
	rtp_srtp_free(rx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(suites),	     cmocka_unit_test(key_text),
	    cmocka_unit_test(bad_keys),	     cmocka_unit_test(new_fails),
	    cmocka_unit_test(known_answer),  cmocka_unit_test(round_trip_80),
	    cmocka_unit_test(round_trip_32), cmocka_unit_test(limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
