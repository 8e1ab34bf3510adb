/* RTP and RTCP packets (RFC 3550, 3551, 5761): parse and build, no allocation.
 * Owns the wire format only; statistics are in rtp/stats.h, sockets in rtp/sock.h. */
#ifndef SB_RTP_PACKET_H
#define SB_RTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTP_HDR_LEN  12
#define RTP_MAX_CSRC 15

/* A parsed RTP packet: pointers into the caller's buffer. */
struct rtp_hdr {
	uint8_t version; /* always 2 after a successful parse */
	bool marker;
	uint8_t pt;
	uint16_t seq;
	uint32_t ts;
	uint32_t ssrc;
	uint8_t cc;
	uint32_t csrc[RTP_MAX_CSRC];
	bool has_ext;
	uint16_t ext_profile;
	const uint8_t *ext; /* extension body (ext_len bytes, after the 4-byte ext header) */
	size_t ext_len;
	uint8_t padding; /* padding bytes removed from the payload */
	const uint8_t *payload;
	size_t payload_len;
};

/* 0 or SB_EMALFORMED (short, version != 2, CSRC/extension/padding past the end). */
int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h);
/* Write a 12-byte header (no CSRC, no extension); returns RTP_HDR_LEN, or 0 if cap is short. */
size_t rtp_write_header(uint8_t *buf, size_t cap, uint8_t pt, bool marker, uint16_t seq,
			uint32_t ts, uint32_t ssrc);
/* RFC 5761 §4 demultiplexing: true when the second byte is an RTCP packet type (192-223). */
bool rtp_is_rtcp(const uint8_t *buf, size_t len);

/* ---- RTCP ---- */

#define RTCP_SR	  200
#define RTCP_RR	  201
#define RTCP_SDES 202
#define RTCP_BYE  203
#define RTCP_APP  204

#define RTCP_MAX_RB 31

struct rtcp_rb { /* report block (RFC 3550 §6.4.1) */
	uint32_t ssrc;
	uint8_t fraction_lost; /* fixed point /256 */
	int32_t cum_lost;      /* signed 24-bit */
	uint32_t ext_high_seq;
	uint32_t jitter; /* timestamp units */
	uint32_t lsr;	 /* middle 32 bits of the last SR's NTP time */
	uint32_t dlsr;	 /* delay since that SR, 1/65536 s */
};

/* What a compound RTCP packet said (the first SR or RR, CNAME of its sender, BYE). */
struct rtcp_info {
	uint32_t ssrc; /* sender of the SR/RR */
	bool has_sr;
	uint64_t ntp; /* SR: NTP timestamp, 32.32 */
	uint32_t rtp_ts;
	uint32_t pkt_count, octet_count;
	uint8_t n_rb;
	struct rtcp_rb rb[RTCP_MAX_RB];
	char cname[256]; /* "" when absent */
	bool bye;
};

/* Parse a compound packet: every sub-packet's length checked, unknown types skipped.
 * 0 or SB_EMALFORMED. */
int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_info *out);

/* Build a compound SR (has_sr) or RR with n_rb report blocks and an SDES CNAME chunk.
 * Returns the length, or 0 when cap is short. */
size_t rtcp_build(uint8_t *buf, size_t cap, const struct rtcp_info *in);

/* NTP time (32.32) of a CLOCK_REALTIME-like wall time in nanoseconds since 1970. */
uint64_t rtcp_ntp_from_unix_ns(uint64_t unix_ns);
/* The middle 32 bits of an NTP time (the LSR / DLSR unit 1/65536 s). */
static inline uint32_t rtcp_ntp_mid(uint64_t ntp)
{
	return (uint32_t)(ntp >> 16);
}

#endif
