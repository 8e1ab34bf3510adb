/* Unit tests for src/media/dtmf.c: RFC 4733 payloads, the receiver (markers, end triplicates,
 * retransmissions, long events, repeated keys), the sender's timing, in-band generation and
 * detection (also through G.711). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "media/codec.h"
#include "media/dtmf.h"

/* ---- payload ---- */

static void payload(void **state)
{
	(void)state;
	struct media_dtmf_event e = {.event = 11, .end = true, .volume = 10, .duration = 0x1234};
	uint8_t p[8];
	assert_int_equal(media_dtmf_event_write(p, 3, &e), 0);
	assert_int_equal(media_dtmf_event_write(p, sizeof(p), &e), 4);
	static const uint8_t want[] = {11, 0x8A, 0x12, 0x34};
	assert_memory_equal(p, want, 4);
	struct media_dtmf_event d;
	assert_int_equal(media_dtmf_event_parse(p, 4, &d), 0);
	assert_int_equal(d.event, 11);
	assert_true(d.end);
	assert_int_equal(d.volume, 10);
	assert_int_equal(d.duration, 0x1234);
	/* R bit ignored, redundancy bytes after the first 4 ignored */
	static const uint8_t r[] = {5, 0x40 | 7, 0, 160, 9, 9, 9, 9};
	assert_int_equal(media_dtmf_event_parse(r, sizeof(r), &d), 0);
	assert_int_equal(d.event, 5);
	assert_false(d.end);
	assert_int_equal(d.volume, 7);
	assert_int_equal(d.duration, 160);
	/* malformed */
	assert_int_equal(media_dtmf_event_parse(r, 3, &d), SB_EMALFORMED);
	assert_int_equal(media_dtmf_event_parse(r, 0, &d), SB_EMALFORMED);
	assert_int_equal(media_dtmf_event_parse(NULL, 4, &d), SB_EMALFORMED);
	/* keys */
	const char *keys = "0123456789*#ABCD";
	for (int i = 0; i < 16; i++) {
		assert_int_equal(media_dtmf_event_char((uint8_t)i), keys[i]);
		assert_int_equal(media_dtmf_char_event(keys[i]), i);
	}
	assert_int_equal(media_dtmf_event_char(16), 0);
	assert_int_equal(media_dtmf_char_event('d'), 15);
	assert_int_equal(media_dtmf_char_event('E'), -1);
	assert_int_equal(media_dtmf_char_event('w'), -1);
}

/* ---- receiver ---- */

struct rxf {
	struct media_dtmf_rx rx;
	uint64_t now;
	char got[64];
	size_t n;
};

static void rx_pkt(struct rxf *f, bool m, uint32_t ts, uint8_t ev, bool end, uint16_t dur)
{
	struct media_dtmf_event e = {.event = ev, .end = end, .volume = 10, .duration = dur};
	uint8_t p[4];
	struct media_dtmf_digit d;
	media_dtmf_event_write(p, 4, &e);
	f->now += 20;
	if (media_dtmf_rx_packet(&f->rx, m, ts, p, 4, f->now, &d)) {
		assert_true(f->n < sizeof(f->got) - 1);
		f->got[f->n++] = d.digit;
		f->got[f->n] = 0;
	}
}

/* one key as a sender would: growing duration every 20 ms, three end packets */
static void rx_key(struct rxf *f, bool marker, uint32_t ts, uint8_t ev, uint16_t dur)
{
	uint16_t d = 160;
	for (bool first = true; d < dur; d = (uint16_t)(d + 160), first = false)
		rx_pkt(f, marker && first, ts, ev, false, d);
	for (int i = 0; i < 3; i++)
		rx_pkt(f, false, ts, ev, true, dur);
}

static struct rxf *rxf_new(void)
{
	struct rxf *f = test_calloc(1, sizeof(*f));
	media_dtmf_rx_init(&f->rx);
	f->now = 1000;
	return f;
}

static void rx_with_and_without_marker(void **state)
{
	(void)state;
	struct rxf *f = rxf_new();
	rx_key(f, true, 1000, 1, 800);
	rx_key(f, false, 3000, 2, 800);	 /* no marker */
	rx_key(f, true, 5000, 11, 1280); /* # */
	assert_string_equal(f->got, "12#");
	assert_false(f->rx.active);
	test_free(f);
}

static void rx_end_packets_only_and_retransmissions(void **state)
{
	(void)state;
	struct rxf *f = rxf_new();
	/* every packet but the ends lost */
	for (int i = 0; i < 3; i++)
		rx_pkt(f, false, 1000, 7, true, 800);
	assert_string_equal(f->got, "7");
	/* retransmitted start, duplicated updates, ends, out of order */
	rx_pkt(f, true, 4000, 8, false, 160);
	assert_true(f->rx.active);
	rx_pkt(f, true, 4000, 8, false, 160);
	rx_pkt(f, false, 4000, 8, false, 480);
	rx_pkt(f, false, 4000, 8, false, 320);
	rx_pkt(f, false, 4000, 8, true, 800);
	rx_pkt(f, false, 4000, 8, false, 640); /* late, after the end */
	rx_pkt(f, false, 4000, 8, true, 800);
	rx_pkt(f, true, 4000, 8, true, 800);
	/* a late end packet of the previous key after the next key began */
	rx_pkt(f, true, 6000, 9, false, 160);
	rx_pkt(f, false, 4000, 8, true, 800);
	rx_pkt(f, false, 6000, 9, true, 320);
	assert_string_equal(f->got, "789");
	test_free(f);
}

static void rx_same_key_twice(void **state)
{
	(void)state;
	struct rxf *f = rxf_new();
	rx_key(f, true, 1000, 5, 800);
	rx_key(f, true, 2600, 5, 800); /* right after the gap, new timestamp */
	assert_string_equal(f->got, "55");
	/* all end packets of the first press lost: the new timestamp still says new press */
	rx_pkt(f, true, 10000, 3, false, 160);
	rx_pkt(f, false, 10000, 3, false, 320);
	rx_pkt(f, true, 11600, 3, false, 160);
	rx_pkt(f, false, 11600, 3, true, 800);
	assert_string_equal(f->got, "5533");
	/* a different event on the same timestamp (senders that do not advance it) */
	rx_pkt(f, true, 20000, 1, true, 800);
	rx_pkt(f, true, 20000, 2, true, 800);
	assert_string_equal(f->got, "553312");
	test_free(f);
}

/* RFC 4733 §2.5.1.3: segments of 0xFFFF; the next one starts at ts + 0xFFFF */
static void rx_long_event(void **state)
{
	(void)state;
	struct rxf *f = rxf_new();
	uint32_t ts = 0xFFFF0000u; /* across the 32-bit wrap as well */
	rx_pkt(f, true, ts, 4, false, 160);
	rx_pkt(f, false, ts, 4, false, 30000);
	rx_pkt(f, false, ts, 4, false, 0xFFFF);
	rx_pkt(f, false, ts + 0xFFFF, 4, false, 160);
	rx_pkt(f, false, ts + 0xFFFF, 4, false, 0xFFFF);
	/* third segment, the tail of the second was lost (last seen 0xFF00) */
	rx_pkt(f, false, ts + 2 * 0xFFFF, 4, false, 0xFF00);
	rx_pkt(f, false, ts + 3 * 0xFFFF, 4, false, 160);
	for (int i = 0; i < 3; i++)
		rx_pkt(f, false, ts + 3 * 0xFFFF, 4, true, 4000);
	assert_string_equal(f->got, "4");
	/* segments with a shorter duration than 0xFFFF continue at ts + duration */
	rx_pkt(f, true, 1000000, 6, false, 8000);
	rx_pkt(f, false, 1008000, 6, false, 160);
	rx_pkt(f, false, 1008000, 6, true, 800);
	assert_string_equal(f->got, "46");
	test_free(f);
}

static void rx_other_events_and_restart(void **state)
{
	(void)state;
	struct rxf *f = rxf_new();
	rx_key(f, true, 1000, 16, 800); /* flash: tracked, not a digit */
	rx_key(f, true, 3000, 0, 800);
	assert_string_equal(f->got, "0");
	/* the timestamps restart lower after a pause (re-INVITE, new SSRC) */
	f->now += 5000;
	rx_key(f, true, 100, 0, 800);
	assert_string_equal(f->got, "00");
	/* short payload */
	uint8_t p[3] = {1, 0, 0};
	struct media_dtmf_digit d;
	assert_false(media_dtmf_rx_packet(&f->rx, true, 9999, p, 3, f->now, &d));
	test_free(f);
}

/* ---- sender ---- */

static void tx_timing(void **state)
{
	(void)state;
	struct media_dtmf_tx tx;
	struct media_dtmf_tx_pkt p[3];
	media_dtmf_tx_init(&tx, 8000, 100, 100);
	assert_false(media_dtmf_tx_busy(&tx));
	assert_int_equal(media_dtmf_tx_tick(&tx, 20, p), 0); /* idle tick: t = 0..20 ms */
	assert_int_equal(media_dtmf_tx_queue(&tx, "1#"), 0);
	assert_true(media_dtmf_tx_busy(&tx));
	/* key 1 from t = 20 ms = 160 units */
	for (int i = 1; i <= 4; i++) {
		assert_int_equal(media_dtmf_tx_tick(&tx, 20, p), 1);
		assert_int_equal(p[0].ev.event, 1);
		assert_false(p[0].ev.end);
		assert_int_equal(p[0].marker, i == 1);
		assert_int_equal(p[0].ev.duration, 160 * i);
		assert_int_equal(p[0].ts_off, 160);
		assert_int_equal(media_dtmf_tx_current(&tx), '1');
	}
	assert_int_equal(media_dtmf_tx_tick(&tx, 20, p), 3);
	for (int i = 0; i < 3; i++) {
		assert_true(p[i].ev.end);
		assert_false(p[i].marker);
		assert_int_equal(p[i].ev.duration, 800);
		assert_int_equal(p[i].ts_off, 160);
		assert_int_equal(p[i].ev.event, 1);
	}
	assert_int_equal(media_dtmf_tx_current(&tx), '1');
	/* 100 ms gap */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(media_dtmf_tx_tick(&tx, 20, p), 0);
		assert_int_equal(media_dtmf_tx_current(&tx), 0);
		assert_true(media_dtmf_tx_busy(&tx));
	}
	/* # at t = 20 + 100 + 100 ms */
	assert_int_equal(media_dtmf_tx_tick(&tx, 20, p), 1);
	assert_int_equal(p[0].ev.event, 11);
	assert_true(p[0].marker);
	assert_int_equal(p[0].ts_off, 220 * 8);
	size_t ticks = 1;
	while (media_dtmf_tx_busy(&tx)) {
		media_dtmf_tx_tick(&tx, 20, p);
		ticks++;
	}
	assert_int_equal(ticks, 10); /* 100 ms tone, 100 ms gap */
	assert_int_equal(media_dtmf_tx_tick(&tx, 20, p), 0);
}

/* 'w' = 500 ms, ',' = 1 s, at 48 kHz timestamps and 10 ms ticks */
static void tx_pauses(void **state)
{
	(void)state;
	struct media_dtmf_tx tx;
	struct media_dtmf_tx_pkt p[3];
	media_dtmf_tx_init(&tx, 48000, 0, 0); /* defaults 100/100 */
	assert_int_equal(media_dtmf_tx_queue(&tx, "1w2,3"), 0);
	uint32_t starts[3];
	size_t ns = 0, ends = 0;
	for (int t = 0; t < 400 && media_dtmf_tx_busy(&tx); t++) {
		size_t n = media_dtmf_tx_tick(&tx, 10, p);
		for (size_t i = 0; i < n; i++) {
			if (p[i].marker)
				starts[ns++] = p[i].ts_off;
			if (p[i].ev.end)
				ends++;
		}
	}
	assert_false(media_dtmf_tx_busy(&tx));
	assert_int_equal(ns, 3);
	assert_int_equal(ends, 9);
	assert_int_equal(starts[0], 0);
	assert_int_equal(starts[1], (100 + 100 + 500) * 48); /* tone, gap, pause */
	assert_int_equal(starts[2], (700 + 200 + 1000) * 48);
}

static void tx_queue_errors(void **state)
{
	(void)state;
	struct media_dtmf_tx tx;
	media_dtmf_tx_init(&tx, 8000, 100, 100);
	assert_int_equal(media_dtmf_tx_queue(&tx, "12x"), SB_EINVAL);
	assert_false(media_dtmf_tx_busy(&tx)); /* nothing queued */
	assert_int_equal(media_dtmf_tx_queue(&tx, NULL), SB_EINVAL);
	char many[MEDIA_DTMF_TX_MAX + 1];
	memset(many, '5', MEDIA_DTMF_TX_MAX);
	many[MEDIA_DTMF_TX_MAX] = 0;
	assert_int_equal(media_dtmf_tx_queue(&tx, many), 0);
	assert_int_equal(media_dtmf_tx_queue(&tx, "1"), SB_ETOOBIG);
	assert_int_equal(media_dtmf_tx_queue(&tx, ""), 0);
}

/* the sender's packets through the receiver give the keys back, once each */
static void tx_into_rx(void **state)
{
	(void)state;
	struct media_dtmf_tx tx;
	struct media_dtmf_tx_pkt p[3];
	struct rxf *f = rxf_new();
	media_dtmf_tx_init(&tx, 8000, 80, 60);
	assert_int_equal(media_dtmf_tx_queue(&tx, "0123456789*#abcd55w1"), 0);
	const uint32_t base = 0xFFFFF000u;
	while (media_dtmf_tx_busy(&tx)) {
		size_t n = media_dtmf_tx_tick(&tx, 20, p);
		for (size_t i = 0; i < n; i++) {
			uint8_t b[4];
			struct media_dtmf_digit d;
			media_dtmf_event_write(b, 4, &p[i].ev);
			if (media_dtmf_rx_packet(&f->rx, p[i].marker, base + p[i].ts_off, b, 4,
						 f->now, &d))
				f->got[f->n++] = d.digit;
		}
		f->now += 20;
	}
	assert_string_equal(f->got, "0123456789*#ABCD551");
	test_free(f);
}

/* ---- in-band ---- */

/* 100 ms per key and 100 ms of silence, as media_dtmf_tx_current would drive it */
static size_t play(struct media_dtmf_gen *g, const char *keys, int16_t *pcm)
{
	size_t n = 0;
	for (const char *k = keys; *k; k++) {
		for (int i = 0; i < 5; i++, n += 160)
			media_dtmf_gen_fill(g, *k, pcm + n, 160);
		for (int i = 0; i < 5; i++, n += 160)
			media_dtmf_gen_fill(g, 0, pcm + n, 160);
	}
	return n;
}

static void inband(void **state)
{
	(void)state;
	struct media_dtmf_gen *g;
	struct media_dtmf_detector *d;
	assert_int_equal(media_dtmf_gen_new(&g), 0);
	assert_int_equal(media_dtmf_detector_new(&d), 0);
	static int16_t pcm[8000 * 4];
	size_t n = play(g, "123#", pcm);
	/* silence really is silence, and the level is about -10 dBm0 per tone */
	assert_int_equal(pcm[160 * 5 + 7], 0);
	int peak = 0;
	for (size_t i = 0; i < 800; i++)
		peak = pcm[i] > peak ? pcm[i] : peak;
	printf("# DTMF '1' peak %d (two tones of 7218 at -10 dBm0)\n", peak);
	assert_true(peak > 12000 && peak <= 14436);
	char got[16];
	size_t ng = 0;
	for (size_t off = 0; off < n; off += 160)
		ng += media_dtmf_detect(d, pcm + off, 160, got + ng, sizeof(got) - ng);
	assert_int_equal(ng, 4);
	assert_memory_equal(got, "123#", 4);
	media_dtmf_detector_free(d);

	/* through PCMU and PCMA */
	for (int id = MEDIA_CODEC_PCMU; id <= MEDIA_CODEC_PCMA; id++) {
		struct media_codec *c;
		assert_int_equal(media_codec_new(&c, (enum media_codec_id)id, NULL), 0);
		assert_int_equal(media_dtmf_detector_new(&d), 0);
		static int16_t back[8000 * 4];
		for (size_t off = 0; off < n; off += 160) {
			uint8_t pay[160];
			assert_int_equal(media_codec_encode(c, pcm + off, 160, pay, sizeof(pay)),
					 160);
			assert_int_equal(media_codec_decode(c, pay, 160, back + off, 160), 160);
		}
		ng = media_dtmf_detect(d, back, n, got, sizeof(got));
		assert_int_equal(ng, 4);
		assert_memory_equal(got, "123#", 4);
		/* out array capacity is respected */
		media_dtmf_detector_free(d);
		assert_int_equal(media_dtmf_detector_new(&d), 0);
		assert_int_equal(media_dtmf_detect(d, back, n, got, 2), 2);
		assert_memory_equal(got, "12", 2);
		media_dtmf_detector_free(d);
		media_codec_free(c);
	}
	/* the remaining keys */
	assert_int_equal(media_dtmf_detector_new(&d), 0);
	n = play(g, "0*ABCD9", pcm);
	ng = media_dtmf_detect(d, pcm, n, got, sizeof(got));
	assert_int_equal(ng, 7);
	assert_memory_equal(got, "0*ABCD9", 7);
	media_dtmf_detector_free(d);
	media_dtmf_gen_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(payload),
	    cmocka_unit_test(rx_with_and_without_marker),
	    cmocka_unit_test(rx_end_packets_only_and_retransmissions),
	    cmocka_unit_test(rx_same_key_twice),
	    cmocka_unit_test(rx_long_event),
	    cmocka_unit_test(rx_other_events_and_restart),
	    cmocka_unit_test(tx_timing),
	    cmocka_unit_test(tx_pauses),
	    cmocka_unit_test(tx_queue_errors),
	    cmocka_unit_test(tx_into_rx),
	    cmocka_unit_test(inband),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
