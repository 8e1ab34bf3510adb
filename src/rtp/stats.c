/* Receive statistics of one RTP source: RFC 3550 A.1 sequence validation with a duplicate
 * window, A.3 loss and fraction lost, A.8 jitter, LSR/DLSR and RTT from RTCP. Pure. */
#include "rtp/stats.h"

#include <string.h>

#define RTP_SEQ_MOD    (1u << 16)
#define MAX_DROPOUT    3000
#define MAX_MISORDER   100
#define MIN_SEQUENTIAL 2
#define SEEN_BITS      128 /* covers MAX_MISORDER: every reordered packet is checked */

void rtp_rx_stats_init(struct rtp_rx_stats *s)
{
	memset(s, 0, sizeof(*s));
}

static void seen_clear(struct rtp_rx_stats *s)
{
	s->seen[0] = 1; /* max_seq itself */
	s->seen[1] = 0;
}

static void seen_shift(struct rtp_rx_stats *s, unsigned d)
{
	if (d >= SEEN_BITS) {
		s->seen[0] = s->seen[1] = 0;
	} else if (d >= 64) {
		s->seen[1] = s->seen[0] << (d - 64);
		s->seen[0] = 0;
	} else if (d > 0) {
		s->seen[1] = s->seen[1] << d | s->seen[0] >> (64 - d);
		s->seen[0] <<= d;
	}
	s->seen[0] |= 1;
}

/* Returns true when seq (back packets behind max_seq) was seen; marks it seen. */
static bool seen_test_set(struct rtp_rx_stats *s, unsigned back)
{
	uint64_t *w = &s->seen[back / 64];
	uint64_t bit = (uint64_t)1 << (back % 64);
	bool was = (*w & bit) != 0;
	*w |= bit;
	return was;
}

/* A.1 init_seq */
static void init_seq(struct rtp_rx_stats *s, uint16_t seq)
{
	s->base_seq = seq;
	s->max_seq = seq;
	s->bad_seq = RTP_SEQ_MOD + 1; /* so seq == bad_seq is false */
	s->cycles = 0;
	s->received = 0;
	s->received_prior = 0;
	s->expected_prior = 0;
	seen_clear(s);
}

/* A new source: probation starts, nothing is counted until MIN_SEQUENTIAL in a row. */
static void start_source(struct rtp_rx_stats *s, uint32_t ssrc, uint16_t seq)
{
	/* what the peer reports about our stream is not about its SSRC: keep it */
	struct rtp_rx_stats old = *s;
	rtp_rx_stats_init(s);
	s->ssrc_changes = old.ssrc_changes + (old.have_ssrc ? 1 : 0);
	s->rtt_ms = old.rtt_ms;
	s->remote_fraction_lost = old.remote_fraction_lost;
	s->remote_cum_lost = old.remote_cum_lost;
	s->remote_jitter = old.remote_jitter;
	s->ssrc = ssrc;
	s->have_ssrc = true;
	init_seq(s, seq);
	s->max_seq = (uint16_t)(seq - 1);
	s->probation = MIN_SEQUENTIAL;
}

static void update_jitter(struct rtp_rx_stats *s, const struct rtp_hdr *h, uint32_t arrival_ts)
{
	/* transit differences are taken modulo 2^32, as the timestamps wrap */
	int32_t transit = (int32_t)(arrival_ts - h->ts);
	if (s->have_transit) {
		int64_t d = (int64_t)(int32_t)((uint32_t)transit - (uint32_t)s->last_transit);
		if (d < 0)
			d = -d;
		int64_t j = (int64_t)s->jitter_q4 + d - (((int64_t)s->jitter_q4 + 8) >> 4);
		s->jitter_q4 = j < 0 ? 0 : j > UINT32_MAX ? UINT32_MAX : (uint32_t)j;
	}
	s->last_transit = transit;
	s->have_transit = true;
}

enum rtp_rx_verdict rtp_rx_stats_update(struct rtp_rx_stats *s, const struct rtp_hdr *h,
					uint32_t arrival_ts)
{
	uint16_t seq = h->seq;
	enum rtp_rx_verdict first = RTP_RX_PROBATION;
	if (!s->have_ssrc || s->ssrc != h->ssrc) {
		first = s->have_ssrc ? RTP_RX_SSRC_CHANGE : RTP_RX_PROBATION;
		start_source(s, h->ssrc, seq);
	}

	if (s->probation) {
		if (seq == (uint16_t)(s->max_seq + 1)) {
			s->probation--;
			s->max_seq = seq;
			if (s->probation == 0) {
				init_seq(s, seq);
				s->received++;
				update_jitter(s, h, arrival_ts);
				return first == RTP_RX_SSRC_CHANGE ? first : RTP_RX_OK;
			}
		} else {
			s->probation = MIN_SEQUENTIAL - 1;
			s->max_seq = seq;
		}
		update_jitter(s, h, arrival_ts);
		return first;
	}

	uint16_t udelta = (uint16_t)(seq - s->max_seq);
	if (udelta == 0) {
		s->duplicates++;
		return RTP_RX_DUPLICATE;
	}
	if (udelta < MAX_DROPOUT) {
		/* in order, with a permissible gap */
		if (seq < s->max_seq)
			s->cycles += RTP_SEQ_MOD;
		s->max_seq = seq;
		seen_shift(s, udelta);
	} else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
		/* a very large jump: two sequential packets mean the sender restarted */
		if (seq == s->bad_seq) {
			init_seq(s, seq);
			s->have_transit = false; /* the timestamps restarted too */
		} else {
			s->bad_seq = (seq + 1u) & (RTP_SEQ_MOD - 1);
			/* behind by more than MAX_MISORDER: too old; ahead: wait for the next one
			 */
			return udelta >= RTP_SEQ_MOD / 2 ? RTP_RX_DUPLICATE : RTP_RX_PROBATION;
		}
	} else {
		/* reordered within MAX_MISORDER: new unless the window saw it */
		if (seen_test_set(s, RTP_SEQ_MOD - udelta)) {
			s->duplicates++;
			return RTP_RX_DUPLICATE;
		}
	}
	s->received++;
	update_jitter(s, h, arrival_ts);
	return RTP_RX_OK;
}

uint32_t rtp_rx_stats_ext_max(const struct rtp_rx_stats *s)
{
	return s->cycles + s->max_seq;
}

static bool validated(const struct rtp_rx_stats *s)
{
	return s->have_ssrc && s->probation == 0;
}

static uint64_t expected(const struct rtp_rx_stats *s)
{
	return (uint64_t)rtp_rx_stats_ext_max(s) - s->base_seq + 1;
}

int64_t rtp_rx_stats_lost(const struct rtp_rx_stats *s)
{
	if (!validated(s))
		return 0;
	return (int64_t)expected(s) - (int64_t)s->received;
}

uint32_t rtp_rx_stats_jitter(const struct rtp_rx_stats *s)
{
	return (s->jitter_q4 + 8) >> 4;
}

void rtp_rx_stats_report(struct rtp_rx_stats *s, struct rtcp_rb *rb, uint64_t now_ms)
{
	memset(rb, 0, sizeof(*rb));
	rb->ssrc = s->ssrc;
	if (validated(s)) {
		uint64_t exp = expected(s);
		int64_t lost = (int64_t)exp - (int64_t)s->received;
		rb->cum_lost = lost > 0x7fffff	  ? 0x7fffff
			       : lost < -0x800000 ? -0x800000
						  : (int32_t)lost;
		uint64_t exp_int = exp - s->expected_prior;
		uint64_t rcv_int = s->received - s->received_prior;
		s->expected_prior = exp;
		s->received_prior = s->received;
		if (exp_int > rcv_int) {
			uint64_t lost_int = exp_int - rcv_int;
			uint64_t f = (lost_int << 8) / exp_int;
			rb->fraction_lost = (uint8_t)(f > 255 ? 255 : f);
		}
		rb->ext_high_seq = rtp_rx_stats_ext_max(s);
		rb->jitter = rtp_rx_stats_jitter(s);
	}
	if (s->last_sr_mid != 0) {
		rb->lsr = s->last_sr_mid;
		if (now_ms > s->last_sr_at_ms) {
			uint64_t d = (now_ms - s->last_sr_at_ms) * 65536 / 1000;
			rb->dlsr = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
		}
	}
}

void rtp_rx_stats_on_sr(struct rtp_rx_stats *s, uint64_t ntp, uint64_t now_ms)
{
	s->last_sr_mid = rtcp_ntp_mid(ntp);
	s->last_sr_at_ms = now_ms;
}

void rtp_rx_stats_on_rb(struct rtp_rx_stats *s, const struct rtcp_rb *rb, uint32_t now_ntp_mid)
{
	s->remote_fraction_lost = rb->fraction_lost;
	s->remote_cum_lost = rb->cum_lost;
	s->remote_jitter = rb->jitter;
	if (rb->lsr == 0)
		return;
	uint32_t since = now_ntp_mid - rb->lsr;
	if (since < rb->dlsr || since >= 0x80000000u) /* clocks disagree: no measure */
		return;
	uint64_t units = since - rb->dlsr;
	uint64_t ms = (units * 1000 + 32768) >> 16;
	s->rtt_ms = ms == 0 ? 1 : (uint32_t)ms;
}
