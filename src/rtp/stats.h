/* Per-leg RTP receive statistics (RFC 3550 A.1, A.3, A.8) and round-trip time from RTCP.
 * Pure: the arrival time is passed in, nothing reads a clock. */
#ifndef SB_RTP_STATS_H
#define SB_RTP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "rtp/packet.h"

struct rtp_rx_stats {
	uint32_t ssrc;
	bool have_ssrc;
	uint16_t max_seq;
	uint32_t cycles; /* shifted count of sequence wraps (<< 16) */
	uint32_t base_seq, bad_seq, probation;
	uint64_t received, received_prior, expected_prior;
	uint64_t duplicates;
	/* private: bit i set = sequence number max_seq - i was received (duplicate detection) */
	uint64_t seen[2];
	/* interarrival jitter, timestamp units << 4 (RFC 3550 A.8) */
	uint32_t jitter_q4;
	int64_t last_transit;
	bool have_transit;
	uint32_t ssrc_changes;
	/* from the last SR received: for our RR's LSR/DLSR */
	uint32_t last_sr_mid;
	uint64_t last_sr_at_ms;
	/* from RRs about our stream */
	uint32_t rtt_ms; /* 0 until measured */
	uint8_t remote_fraction_lost;
	int32_t remote_cum_lost;
	uint32_t remote_jitter;
};

enum rtp_rx_verdict {
	RTP_RX_OK = 0,	    /* in order or reordered but new: use it */
	RTP_RX_DUPLICATE,   /* seen already (or too old): drop */
	RTP_RX_PROBATION,   /* new source not yet validated (MIN_SEQUENTIAL): keep but note */
	RTP_RX_SSRC_CHANGE, /* a new SSRC replaced the old one: stats were reset; use it */
};

void rtp_rx_stats_init(struct rtp_rx_stats *s);
/* One received packet; arrival in the stream's clock units (e.g. ms * rate / 1000). */
enum rtp_rx_verdict rtp_rx_stats_update(struct rtp_rx_stats *s, const struct rtp_hdr *h,
					uint32_t arrival_ts);
/* Extended highest sequence number received. */
uint32_t rtp_rx_stats_ext_max(const struct rtp_rx_stats *s);
/* Cumulative packets lost (expected - received; may be negative with duplicates). */
int64_t rtp_rx_stats_lost(const struct rtp_rx_stats *s);
/* Jitter in timestamp units. */
uint32_t rtp_rx_stats_jitter(const struct rtp_rx_stats *s);
/* Fill a report block about this source (fraction lost since the previous call) at now_ms. */
void rtp_rx_stats_report(struct rtp_rx_stats *s, struct rtcp_rb *rb, uint64_t now_ms);
/* An SR from this source arrived at now_ms: keep its NTP for our LSR/DLSR. */
void rtp_rx_stats_on_sr(struct rtp_rx_stats *s, uint64_t ntp, uint64_t now_ms);
/* A report block about our stream arrived at now_ntp_mid (our clock, middle NTP bits):
 * RTT = now - LSR - DLSR (RFC 3550 §6.4.1) when lsr != 0. */
void rtp_rx_stats_on_rb(struct rtp_rx_stats *s, const struct rtcp_rb *rb, uint32_t now_ntp_mid);

#endif
