/* DTMF: RFC 4733 telephone-event payloads, the receiver that reports each key press once, the
 * timed sender, and in-band detection (spandsp dtmf_rx) and generation (two sines, tone.c). */
#include "media/dtmf.h"

#include <stdlib.h>
#include <string.h>

#ifndef SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES /* dtmf_rx_state_t embedded in our detector */
#endif
#include <spandsp.h>

#include "base/err.h"
#include "media/tone.h"

/* ---- payload (RFC 4733 §2.3) ---- */

int media_dtmf_event_parse(const uint8_t *p, size_t len, struct media_dtmf_event *e)
{
	if (!p || len < 4)
		return SB_EMALFORMED;
	e->event = p[0];
	e->end = (p[1] & 0x80) != 0;
	e->volume = p[1] & 0x3F; /* the R bit (0x40) is ignored on receipt */
	e->duration = (uint16_t)((p[2] << 8) | p[3]);
	return 0;
}

size_t media_dtmf_event_write(uint8_t *p, size_t cap, const struct media_dtmf_event *e)
{
	if (cap < 4)
		return 0;
	p[0] = e->event;
	p[1] = (uint8_t)((e->end ? 0x80 : 0) | (e->volume & 0x3F));
	p[2] = (uint8_t)(e->duration >> 8);
	p[3] = (uint8_t)e->duration;
	return 4;
}

static const char dtmf_keys[] = "0123456789*#ABCD";

char media_dtmf_event_char(uint8_t event)
{
	return event < 16 ? dtmf_keys[event] : 0;
}

int media_dtmf_char_event(char c)
{
	if (c >= 'a' && c <= 'd')
		c = (char)(c - 'a' + 'A');
	for (int i = 0; i < 16; i++)
		if (dtmf_keys[i] == c)
			return i;
	return -1;
}

/* ---- receiver ---- */

/* Silence on the event stream after which the history is forgotten (a re-INVITE or SSRC
 * change may restart timestamps anywhere). */
#define RX_FORGET_MS 2000u
/* A segment shorter than the maximum by less than this still counts as a full one when its
 * tail packets were lost (200 ms at 8 kHz). */
#define RX_SEGMENT_SLACK 1600u

void media_dtmf_rx_init(struct media_dtmf_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
}

/* RFC 4733 §2.5.1.3: the next segment of a long event starts at the previous segment's
 * timestamp plus its duration (0xFFFF at most). */
static bool continues_segment(const struct media_dtmf_rx *rx, uint32_t ts)
{
	uint32_t seen = rx->last_end_ts - rx->last_ts, d = ts - rx->last_ts;
	if (d == seen)
		return true;
	return seen >= 0xFFFFu - RX_SEGMENT_SLACK && d > seen && d <= 0xFFFFu;
}

bool media_dtmf_rx_packet(struct media_dtmf_rx *rx, bool marker, uint32_t ts,
			  const uint8_t *payload, size_t len, uint64_t now_ms,
			  struct media_dtmf_digit *out)
{
	struct media_dtmf_event e;
	/* the marker bit is not needed: a new timestamp or event code says as much, and a
	 * retransmitted first packet carries it again */
	(void)marker;
	if (media_dtmf_event_parse(payload, len, &e) != 0)
		return false;
	if (rx->have_last && now_ms > rx->last_at_ms && now_ms - rx->last_at_ms > RX_FORGET_MS) {
		rx->have_last = false;
		rx->active = false;
	}
	rx->last_at_ms = now_ms;
	uint32_t end = ts + e.duration;
	if (rx->have_last) {
		int32_t d = (int32_t)(ts - rx->last_ts);
		if (d == 0 && e.event == rx->last_event) {
			/* update, retransmission or one of the end packets of the current event */
			if ((int32_t)(end - rx->last_end_ts) > 0)
				rx->last_end_ts = end;
			if (e.end) {
				rx->last_ended = true;
				rx->active = false;
			}
			return false;
		}
		if (d < 0) /* late packet of an earlier event */
			return false;
		if (d > 0 && e.event == rx->last_event && !rx->last_ended &&
		    continues_segment(rx, ts)) {
			rx->last_ts = ts;
			rx->last_end_ts = end;
			rx->last_ended = e.end;
			rx->active = !e.end;
			return false;
		}
	}
	rx->have_last = true;
	rx->last_ts = ts;
	rx->last_event = e.event;
	rx->last_end_ts = end;
	rx->last_ended = e.end;
	rx->active = !e.end;
	char c = media_dtmf_event_char(e.event);
	if (!c) /* flash and other events are tracked but not reported */
		return false;
	out->digit = c;
	out->duration = e.duration;
	return true;
}

/* ---- sender ---- */

enum { TX_IDLE, TX_TONE, TX_WAIT };

/* Event volume sent: 10 = -10 dBm0, what media_dtmf_gen_fill plays per tone. */
#define TX_VOLUME 10

void media_dtmf_tx_init(struct media_dtmf_tx *tx, uint32_t rate, uint32_t digit_ms, uint32_t gap_ms)
{
	memset(tx, 0, sizeof(*tx));
	tx->rate = rate ? rate : 8000;
	tx->digit_ms = digit_ms ? digit_ms : 100;
	tx->gap_ms = gap_ms ? gap_ms : 100;
	/* one segment only (no §2.5.1.3 splitting): the duration must fit 16 bits */
	uint32_t max_ms = (uint32_t)(0xFFFFull * 1000u / tx->rate);
	if (tx->digit_ms > max_ms)
		tx->digit_ms = max_ms;
	tx->state = TX_IDLE;
}

static bool is_pause(char c)
{
	return c == 'w' || c == 'W' || c == ',';
}

uint64_t media_dtmf_tx_keys_ms(const char *keys, uint32_t digit_ms, uint32_t gap_ms)
{
	uint64_t ms = 0;
	for (const char *k = keys; k && *k; k++)
		ms += is_pause(*k) ? (*k == ',' ? 1000u : 500u) : (uint64_t)digit_ms + gap_ms;
	return ms;
}

int media_dtmf_tx_queue(struct media_dtmf_tx *tx, const char *keys)
{
	if (!keys)
		return SB_EINVAL;
	size_t len = strlen(keys);
	for (size_t i = 0; i < len; i++)
		if (!is_pause(keys[i]) && media_dtmf_char_event(keys[i]) < 0)
			return SB_EINVAL;
	if (len > MEDIA_DTMF_TX_MAX - tx->n)
		return SB_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		char c = keys[i];
		if (c >= 'a' && c <= 'd')
			c = (char)(c - 'a' + 'A');
		tx->queue[(tx->head + tx->n) % MEDIA_DTMF_TX_MAX] = c;
		tx->n++;
	}
	return 0;
}

bool media_dtmf_tx_busy(const struct media_dtmf_tx *tx)
{
	return tx->state != TX_IDLE || tx->n > 0;
}

char media_dtmf_tx_current(const struct media_dtmf_tx *tx)
{
	return tx->cur;
}

static uint16_t to_ts(const struct media_dtmf_tx *tx, uint32_t ms)
{
	uint64_t d = (uint64_t)ms * tx->rate / 1000u;
	return (uint16_t)(d > 0xFFFF ? 0xFFFF : d);
}

/* Each tick covers [clock, clock + ms): a key starting in it has its timestamp at clock, and
 * the packets returned describe the event up to the end of the tick. */
size_t media_dtmf_tx_tick(struct media_dtmf_tx *tx, uint32_t ms, struct media_dtmf_tx_pkt pkts[3])
{
	size_t np = 0;
	if (ms == 0) /* time stands still: nothing to send */
		return 0;
	if (tx->state != TX_TONE) /* the key of the previous tick has finished */
		tx->cur = 0;
	if (tx->state == TX_IDLE && tx->n > 0) {
		char c = tx->queue[tx->head];
		tx->head = (tx->head + 1) % MEDIA_DTMF_TX_MAX;
		tx->n--;
		tx->elapsed_ms = 0;
		if (is_pause(c)) {
			tx->state = TX_WAIT;
			tx->wait_ms = c == ',' ? 1000 : 500;
		} else {
			tx->state = TX_TONE;
			tx->cur = c;
			tx->end_sent = 0;
			tx->ts_off = (uint32_t)(tx->clock_ms * tx->rate / 1000u);
		}
	}
	switch (tx->state) {
	case TX_TONE: {
		bool first = tx->elapsed_ms == 0;
		tx->elapsed_ms += ms;
		struct media_dtmf_event ev = {
		    .event = (uint8_t)media_dtmf_char_event(tx->cur),
		    .end = false,
		    .volume = TX_VOLUME,
		    .duration = to_ts(tx, tx->elapsed_ms),
		};
		if (tx->elapsed_ms >= tx->digit_ms) {
			ev.end = true;
			for (np = 0; np < 3; np++)
				pkts[np] =
				    (struct media_dtmf_tx_pkt){ev, first && np == 0, tx->ts_off};
			tx->end_sent = 3;
			tx->state = TX_WAIT;
			tx->wait_ms = tx->gap_ms;
			tx->elapsed_ms = 0;
		} else {
			pkts[np++] = (struct media_dtmf_tx_pkt){ev, first, tx->ts_off};
		}
		break;
	}
	case TX_WAIT:
		tx->elapsed_ms += ms;
		if (tx->elapsed_ms >= tx->wait_ms) {
			tx->state = TX_IDLE;
			tx->elapsed_ms = 0;
		}
		break;
	default:
		break;
	}
	tx->clock_ms += ms;
	return np;
}

/* ---- in-band detection (spandsp) ---- */

struct media_dtmf_detector {
	dtmf_rx_state_t rx;
	char *out; /* valid during media_dtmf_detect only */
	size_t cap, n;
};

static void on_digits(void *arg, const char *digits, int len)
{
	struct media_dtmf_detector *d = arg;
	for (int i = 0; i < len; i++)
		if (d->n < d->cap)
			d->out[d->n++] = digits[i];
}

int media_dtmf_detector_new(struct media_dtmf_detector **out)
{
	struct media_dtmf_detector *d = calloc(1, sizeof(*d));
	if (!d)
		return SB_ENOMEM;
	if (!dtmf_rx_init(&d->rx, on_digits, d)) {
		free(d);
		return SB_ENOMEM;
	}
	*out = d;
	return 0;
}

void media_dtmf_detector_free(struct media_dtmf_detector *d)
{
	free(d); /* dtmf_rx_release has nothing to release for an embedded state */
}

size_t media_dtmf_detect(struct media_dtmf_detector *d, const int16_t *pcm, size_t n, char *out,
			 size_t cap)
{
	d->out = out;
	d->cap = cap;
	d->n = 0;
	while (n > 0) {
		int chunk = n > 8000 ? 8000 : (int)n;
		dtmf_rx(&d->rx, pcm, chunk);
		pcm += chunk;
		n -= (size_t)chunk;
	}
	d->out = NULL;
	d->cap = 0;
	return d->n;
}

/* ---- in-band generation: the two sines of a key, steady for as long as it is asked ---- */

struct media_dtmf_gen {
	struct media_tone t; /* continuous two-frequency tone, 8000 Hz */
	char key;
};

/* -10 dBm0 per tone (Q.23 / Q.24 allow -6 to -15 at the sender) */
#define GEN_LEVEL_DBM0 (-10)

int media_dtmf_gen_new(struct media_dtmf_gen **out)
{
	struct media_dtmf_gen *g = calloc(1, sizeof(*g));
	if (!g)
		return SB_ENOMEM;
	/* any two-frequency continuous tone gives rate, level and a continuous cadence */
	if (media_tone_init(&g->t, MEDIA_TONE_DIAL, MEDIA_TONE_US, 8000, GEN_LEVEL_DBM0) != 0) {
		free(g);
		return SB_EINVAL;
	}
	g->t.f1 = g->t.f2 = 0;
	*out = g;
	return 0;
}

void media_dtmf_gen_free(struct media_dtmf_gen *g)
{
	free(g);
}

void media_dtmf_gen_fill(struct media_dtmf_gen *g, char key, int16_t *pcm, size_t n)
{
	static const uint16_t row[4] = {697, 770, 852, 941};
	static const uint16_t col[4] = {1209, 1336, 1477, 1633};
	/* keypad position of events 0-15: 0-9, *, #, A-D */
	static const uint8_t pos[16][2] = {{3, 1}, {0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 1},
					   {1, 2}, {2, 0}, {2, 1}, {2, 2}, {3, 0}, {3, 2},
					   {0, 3}, {1, 3}, {2, 3}, {3, 3}};
	int ev = key ? media_dtmf_char_event(key) : -1;
	if (ev < 0) {
		memset(pcm, 0, n * sizeof(*pcm));
		g->t.n += n;
		g->key = 0;
		return;
	}
	if (g->key != key) {
		g->t.f1 = row[pos[ev][0]];
		g->t.f2 = col[pos[ev][1]];
		g->t.n = 0; /* each key starts at phase zero */
		g->key = key;
	}
	media_tone_fill(&g->t, pcm, n);
}
