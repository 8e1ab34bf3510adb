/* libFuzzer harness for src/media/dtmf.c: the input as telephone-event packets through the
 * receiver and the payload parser, and as keys through the sender into a second receiver. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "media/dtmf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The receiver forgets its history after this much silence (RX_FORGET_MS in dtmf.c). */
#define FORGET_MS 2000u
#define MAX_TS	  1024

/* Invariants over one "epoch" (no forgetting inside it):
 * - digits <= packets whose (timestamp, event) differs from the previous parsed packet;
 * - when no timestamp carried two events and all timestamps lie within 2^30 of each other,
 *   digits <= distinct timestamps. */
struct epoch {
	size_t digits, changes, n_ts;
	uint32_t ts[MAX_TS];
	uint8_t ev[MAX_TS];
	bool two_events, wide, have_prev, overflow;
	uint32_t prev_ts, first_ts;
	uint8_t prev_ev;
};

static void epoch_check(const struct epoch *e)
{
	if (e->digits > e->changes)
		abort();
	if (!e->two_events && !e->wide && !e->overflow && e->digits > e->n_ts)
		abort();
}

static void epoch_add(struct epoch *e, uint32_t ts, uint8_t ev)
{
	if (!e->have_prev || ts != e->prev_ts || ev != e->prev_ev)
		e->changes++;
	if (!e->have_prev)
		e->first_ts = ts;
	uint32_t d = ts - e->first_ts;
	if (d > (1u << 30) && d < (3u << 30))
		e->wide = true;
	e->have_prev = true;
	e->prev_ts = ts;
	e->prev_ev = ev;
	for (size_t i = 0; i < e->n_ts; i++) {
		if (e->ts[i] == ts) {
			if (e->ev[i] != ev)
				e->two_events = true;
			return;
		}
	}
	if (e->n_ts == MAX_TS) {
		e->overflow = true;
		return;
	}
	e->ts[e->n_ts] = ts;
	e->ev[e->n_ts++] = ev;
}

/* chunk: flags (bit 0 marker, bits 1-2 payload length - 4, bits 3-6 time step in 10 ms, bit 7
 * a 3 s silence before), 4 bytes timestamp (big-endian), payload (may be cut short) */
static void packets(const uint8_t *data, size_t size)
{
	static struct epoch ep;
	struct media_dtmf_rx rx;
	media_dtmf_rx_init(&rx);
	memset(&ep, 0, sizeof(ep));
	uint64_t now = 1000, last_parsed = 0;
	bool parsed_any = false;
	size_t i = 0;
	while (i < size) {
		uint8_t fl = data[i++];
		uint32_t ts = 0;
		for (int k = 0; k < 4 && i < size; k++)
			ts = ts << 8 | data[i++];
		size_t len = 4 + ((fl >> 1) & 3);
		if (len > size - i)
			len = size - i;
		const uint8_t *pl = data + i;
		i += len;
		now += (uint64_t)((fl >> 3) & 15) * 10 + (fl & 0x80 ? 3000 : 0);

		struct media_dtmf_event e;
		int pr = media_dtmf_event_parse(pl, len, &e);
		if ((pr == 0) != (len >= 4))
			abort();
		if (pr == 0) {
			if (e.volume > 63)
				abort();
			uint8_t b[4];
			struct media_dtmf_event e2;
			if (media_dtmf_event_write(b, 4, &e) != 4 ||
			    media_dtmf_event_parse(b, 4, &e2) != 0 || e2.event != e.event ||
			    e2.end != e.end || e2.volume != e.volume || e2.duration != e.duration)
				abort();
			if (parsed_any && now - last_parsed > FORGET_MS) {
				epoch_check(&ep);
				memset(&ep, 0, sizeof(ep));
			}
			parsed_any = true;
			last_parsed = now;
			epoch_add(&ep, ts, e.event);
		}
		struct media_dtmf_digit d;
		if (media_dtmf_rx_packet(&rx, fl & 1, ts, pl, len, now, &d)) {
			if (pr != 0 || media_dtmf_char_event(d.digit) < 0 ||
			    d.digit != media_dtmf_event_char(e.event))
				abort();
			ep.digits++;
		}
	}
	epoch_check(&ep);
}

/* the same bytes as keys: every key sent comes out of a receiver exactly once */
static void sender(const uint8_t *data, size_t size)
{
	static const char keys[] = "0123456789*#ABCDw,";
	if (size < 3)
		return;
	uint32_t tick = 10u * (1u + data[0] % 3);
	struct media_dtmf_tx tx;
	media_dtmf_tx_init(&tx, data[1] & 1 ? 48000 : 8000, 40u + data[1] % 200u,
			   40u + data[2] % 200u);
	char q[17];
	size_t nq = 0, nkeys = 0;
	for (size_t i = 3; i < size && nq < 16; i++) {
		q[nq] = keys[data[i] % (sizeof(keys) - 1)];
		if (q[nq] != 'w' && q[nq] != ',')
			nkeys++;
		nq++;
	}
	q[nq] = 0;
	if (media_dtmf_tx_queue(&tx, q) != 0)
		abort();
	struct media_dtmf_rx rx;
	media_dtmf_rx_init(&rx);
	char got[17];
	size_t ng = 0;
	uint64_t now = 0;
	for (int t = 0; media_dtmf_tx_busy(&tx); t++) {
		if (t > 10000)
			abort(); /* the sender must finish */
		struct media_dtmf_tx_pkt p[3];
		size_t n = media_dtmf_tx_tick(&tx, tick, p);
		if (n > 3 || (n == 3 && !(p[0].ev.end && p[1].ev.end && p[2].ev.end)))
			abort();
		for (size_t k = 0; k < n; k++) {
			uint8_t b[4];
			struct media_dtmf_digit d;
			media_dtmf_event_write(b, 4, &p[k].ev);
			if (media_dtmf_rx_packet(&rx, p[k].marker, 12345u + p[k].ts_off, b, 4, now,
						 &d)) {
				if (ng >= nkeys)
					abort();
				got[ng++] = d.digit;
			}
		}
		now += tick;
	}
	if (ng != nkeys)
		abort();
	for (size_t i = 0, j = 0; i < nq; i++) {
		if (q[i] == 'w' || q[i] == ',')
			continue;
		if (got[j++] != q[i])
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	packets(data, size);
	sender(data, size);
	return 0;
}
