/* Unit tests for src/rtp/stats.c: RFC 3550 A.1 validation (probation, wrap, reorder, duplicates,
 * jumps, SSRC change), A.3 loss and fraction lost, A.8 jitter, LSR/DLSR and RTT. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base/compat.h"
#include "rtp/stats.h"

#define SSRC 0x1234abcd

static enum rtp_rx_verdict feed_ssrc(struct rtp_rx_stats *s, uint32_t ssrc, uint16_t seq,
				     uint32_t ts, uint32_t arrival)
{
	struct rtp_hdr h;
	memset(&h, 0, sizeof(h));
	h.version = 2;
	h.ssrc = ssrc;
	h.seq = seq;
	h.ts = ts;
	return rtp_rx_stats_update(s, &h, arrival);
}

static enum rtp_rx_verdict feed(struct rtp_rx_stats *s, uint16_t seq)
{
	/* 20 ms of 8 kHz per sequence number, no network delay variation */
	return feed_ssrc(s, SSRC, seq, (uint32_t)seq * 160, (uint32_t)seq * 160 + 400);
}

static void probation(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	rtp_rx_stats_init(&s);
	assert_int_equal(feed(&s, 100), RTP_RX_PROBATION);
	assert_int_equal(feed(&s, 200), RTP_RX_PROBATION); /* not sequential: start again */
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	assert_int_equal(feed(&s, 201), RTP_RX_OK);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.base_seq, 201);
	assert_int_equal(feed(&s, 202), RTP_RX_OK);
	assert_int_equal(s.received, 2);
	assert_int_equal(rtp_rx_stats_ext_max(&s), 202);
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	assert_int_equal(s.ssrc, SSRC);
	assert_int_equal(s.ssrc_changes, 0);
}

static void wrap(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	rtp_rx_stats_init(&s);
	assert_int_equal(feed(&s, 65534), RTP_RX_PROBATION);
	assert_int_equal(feed(&s, 65535), RTP_RX_OK);
	assert_int_equal(s.cycles, 0);
	assert_int_equal(feed(&s, 0), RTP_RX_OK);
	assert_int_equal(s.cycles, 65536);
	assert_int_equal(feed(&s, 1), RTP_RX_OK);
	assert_int_equal(rtp_rx_stats_ext_max(&s), 65537);
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	/* a late packet from before the wrap does not count a cycle back */
	assert_int_equal(feed(&s, 65535), RTP_RX_DUPLICATE);
	assert_int_equal(s.cycles, 65536);
	/* a wrap with a gap */
	for (uint32_t q = 2; q < 65530; q++)
		assert_int_equal(feed(&s, (uint16_t)q), RTP_RX_OK);
	assert_int_equal(feed(&s, 3), RTP_RX_OK); /* 65529 -> 3: 10 ahead, 9 lost */
	assert_int_equal(s.cycles, 2 * 65536);
	assert_int_equal(rtp_rx_stats_ext_max(&s), 2 * 65536 + 3);
	assert_int_equal(rtp_rx_stats_lost(&s), 9);
}

static void reorder_and_duplicates(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	rtp_rx_stats_init(&s);
	feed(&s, 10);
	assert_int_equal(feed(&s, 11), RTP_RX_OK);
	assert_int_equal(feed(&s, 13), RTP_RX_OK);
	assert_int_equal(rtp_rx_stats_lost(&s), 1);
	assert_int_equal(feed(&s, 12), RTP_RX_OK); /* late but new */
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	assert_int_equal(s.max_seq, 13);
	assert_int_equal(feed(&s, 12), RTP_RX_DUPLICATE);
	assert_int_equal(feed(&s, 13), RTP_RX_DUPLICATE);
	assert_int_equal(feed(&s, 11), RTP_RX_DUPLICATE);
	assert_int_equal(s.duplicates, 3);
	assert_int_equal(s.received, 3);
	assert_int_equal(rtp_rx_stats_lost(&s), 0);

	/* a reordering window of 100 across a 64-bit word boundary: every late one is new once */
	for (uint16_t q = 14; q < 14 + 200; q += 2)
		assert_int_equal(feed(&s, q), RTP_RX_OK);
	assert_int_equal(rtp_rx_stats_lost(&s), 99);
	for (uint16_t q = 15 + 100; q < 14 + 200; q += 2)
		assert_int_equal(feed(&s, q), RTP_RX_OK);
	for (uint16_t q = 15 + 100; q < 14 + 200; q += 2)
		assert_int_equal(feed(&s, q), RTP_RX_DUPLICATE);
	assert_int_equal(rtp_rx_stats_lost(&s), 50); /* 15..113 odd; 213 came in order */
	/* older than MAX_MISORDER: dropped as too old, not counted */
	uint64_t rcv = s.received;
	assert_int_equal(feed(&s, 15), RTP_RX_DUPLICATE);
	assert_int_equal(s.received, rcv);
	/* a big jump forward is held until the next one confirms a restart */
	assert_int_equal(feed(&s, 30000), RTP_RX_PROBATION);
	assert_int_equal(s.received, rcv);
	assert_int_equal(feed(&s, 30001), RTP_RX_OK);
	assert_int_equal(s.base_seq, 30001);
	assert_int_equal(s.received, 1);
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	assert_int_equal(feed(&s, 30002), RTP_RX_OK);
}

static void loss_and_fraction(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	struct rtcp_rb rb;
	rtp_rx_stats_init(&s);
	feed(&s, 999);
	/* interval 1: 1000..1099 expected, 10 lost (every tenth) */
	for (uint16_t q = 1000; q < 1100; q++)
		if (q % 10 != 5)
			assert_int_equal(feed(&s, q), RTP_RX_OK);
	assert_int_equal(rtp_rx_stats_lost(&s), 10);
	rtp_rx_stats_report(&s, &rb, 0);
	assert_int_equal(rb.ssrc, SSRC);
	assert_int_equal(rb.fraction_lost, 10 * 256 / 100);
	assert_int_equal(rb.cum_lost, 10);
	assert_int_equal(rb.ext_high_seq, 1099);
	/* interval 2: nothing lost; cumulative stays */
	for (uint16_t q = 1100; q < 1200; q++)
		feed(&s, q);
	rtp_rx_stats_report(&s, &rb, 0);
	assert_int_equal(rb.fraction_lost, 0);
	assert_int_equal(rb.cum_lost, 10);
	/* interval 3: half lost */
	for (uint16_t q = 1200; q < 1300; q += 2)
		feed(&s, q);
	rtp_rx_stats_report(&s, &rb, 0);
	assert_int_equal(rb.ext_high_seq, 1298);
	assert_int_equal(rb.fraction_lost, 49 * 256 / 99);
	assert_int_equal(rb.cum_lost, 59);
	/* interval 4: nothing arrived */
	rtp_rx_stats_report(&s, &rb, 0);
	assert_int_equal(rb.fraction_lost, 0);
	assert_int_equal(rb.cum_lost, 59);

	/* before validation a report says nothing was lost */
	rtp_rx_stats_init(&s);
	feed(&s, 1);
	rtp_rx_stats_report(&s, &rb, 0);
	assert_int_equal(rb.cum_lost, 0);
	assert_int_equal(rb.fraction_lost, 0);
}

static void ssrc_change(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	rtp_rx_stats_init(&s);
	for (uint16_t q = 0; q < 50; q += 1)
		if (q != 20)
			feed(&s, q);
	assert_int_equal(rtp_rx_stats_lost(&s), 1);
	rtp_rx_stats_on_sr(&s, 0x1111222233334444ull, 5);
	assert_int_equal(feed_ssrc(&s, 0x999, 7000, 0, 0), RTP_RX_SSRC_CHANGE);
	assert_int_equal(s.ssrc, 0x999);
	assert_int_equal(s.ssrc_changes, 1);
	assert_int_equal(s.received, 0);
	assert_int_equal(s.last_sr_mid, 0); /* the old sender's SR is not this one's */
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	assert_int_equal(feed_ssrc(&s, 0x999, 7001, 160, 160), RTP_RX_OK);
	assert_int_equal(s.base_seq, 7001);
	assert_int_equal(feed_ssrc(&s, 0x999, 7002, 320, 320), RTP_RX_OK);
	assert_int_equal(rtp_rx_stats_ext_max(&s), 7002);
	assert_int_equal(rtp_rx_stats_lost(&s), 0);
	/* and back */
	assert_int_equal(feed(&s, 50), RTP_RX_SSRC_CHANGE);
	assert_int_equal(s.ssrc_changes, 2);
}

static void jitter(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	rtp_rx_stats_init(&s);
	/* constant delay: transit never changes */
	for (uint32_t i = 0; i < 500; i++)
		feed_ssrc(&s, SSRC, (uint16_t)i, 12345 + i * 160, 999 + i * 160);
	assert_int_equal(rtp_rx_stats_jitter(&s), 0);
	assert_int_equal(s.jitter_q4, 0);

	/* delays alternating 0 and 40 units: |D| = 40 every packet, J -> 40 (J += (|D| - J)/16) */
	rtp_rx_stats_init(&s);
	for (uint32_t i = 0; i < 500; i++)
		feed_ssrc(&s, SSRC, (uint16_t)(i + 65000), 4000000000u + i * 160,
			  i * 160 + (i % 2 ? 40 : 0));
	assert_int_equal(rtp_rx_stats_jitter(&s), 40);

	/* one step of A.8: after the first difference J = |D| / 16 */
	rtp_rx_stats_init(&s);
	feed_ssrc(&s, SSRC, 1, 0, 1000);
	feed_ssrc(&s, SSRC, 2, 160, 1000 + 160 + 320);
	assert_int_equal(s.jitter_q4, 320);
	assert_int_equal(rtp_rx_stats_jitter(&s), 20);
	struct rtcp_rb rb;
	rtp_rx_stats_report(&s, &rb, 0);
	assert_int_equal(rb.jitter, 20);

	/* duplicates do not move the estimate */
	uint32_t j = s.jitter_q4;
	feed_ssrc(&s, SSRC, 2, 160, 99999);
	assert_int_equal(s.jitter_q4, j);
}

static void lsr_dlsr_rtt(void **state)
{
	(void)state;
	struct rtp_rx_stats s;
	struct rtcp_rb rb;
	rtp_rx_stats_init(&s);
	feed(&s, 1);
	feed(&s, 2);
	rtp_rx_stats_report(&s, &rb, 1000);
	assert_int_equal(rb.lsr, 0); /* no SR yet */
	assert_int_equal(rb.dlsr, 0);

	uint64_t ntp = 0xe89a4b2c80000000ull;
	rtp_rx_stats_on_sr(&s, ntp, 10000);
	rtp_rx_stats_report(&s, &rb, 10500);
	assert_int_equal(rb.lsr, 0x4b2c8000);
	assert_int_equal(rb.dlsr, 32768); /* 500 ms */
	rtp_rx_stats_report(&s, &rb, 10000);
	assert_int_equal(rb.dlsr, 0);

	/* RFC 3550 §6.4.1 example: A = 0xb710:8000, LSR = 0xb705:2000, DLSR = 0x0005:4000 */
	memset(&rb, 0, sizeof(rb));
	rb.lsr = 0xb7052000u;
	rb.dlsr = 0x00054000u;
	rb.fraction_lost = 3;
	rb.cum_lost = -1;
	rb.jitter = 77;
	rtp_rx_stats_on_rb(&s, &rb, 0xb7108000u);
	/* 0x6:0x2000 = 6.125 s */
	assert_int_equal(s.rtt_ms, 6125);
	assert_int_equal(s.remote_fraction_lost, 3);
	assert_int_equal(s.remote_cum_lost, -1);
	assert_int_equal(s.remote_jitter, 77);

	/* 100 ms */
	rb.lsr = 0x10000000u;
	rb.dlsr = 65536;
	rtp_rx_stats_on_rb(&s, &rb, 0x10000000u + 65536 + 6554);
	assert_int_equal(s.rtt_ms, 100);
	/* no LSR: no measure; a negative one (clock trouble): ignored */
	rb.lsr = 0;
	rtp_rx_stats_on_rb(&s, &rb, 0x20000000u);
	assert_int_equal(s.rtt_ms, 100);
	rb.lsr = 0x10000000u;
	rb.dlsr = 65536;
	rtp_rx_stats_on_rb(&s, &rb, 0x10000000u + 100);
	assert_int_equal(s.rtt_ms, 100);
	/* across the wrap of the middle 32 bits */
	rb.lsr = 0xffff0000u;
	rb.dlsr = 0x8000;
	rtp_rx_stats_on_rb(&s, &rb, 0x00008000u + 0x1000);
	assert_int_equal(s.rtt_ms, 1063); /* 0x1:0x1000 s = 1.0625 s */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(probation),
	    cmocka_unit_test(wrap),
	    cmocka_unit_test(reorder_and_duplicates),
	    cmocka_unit_test(loss_and_fraction),
	    cmocka_unit_test(ssrc_change),
	    cmocka_unit_test(jitter),
	    cmocka_unit_test(lsr_dlsr_rtt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
