/* libFuzzer harness for src/rtp/packet.c rtp_parse and src/rtp/stats.c: parse, check that the
 * parts add up to the input, then drive the receive statistics with a stream made from it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "rtp/packet.h"
#include "rtp/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_hdr h;
	if (rtp_parse(data, size, &h) != 0)
		return 0;

	size_t hdr = RTP_HDR_LEN + (size_t)h.cc * 4 + (h.has_ext ? 4 + h.ext_len : 0);
	if (h.version != 2 || h.cc > RTP_MAX_CSRC || h.pt > 127)
		abort();
	if (h.payload != data + hdr || h.payload_len > size ||
	    h.payload + h.payload_len > data + size)
		abort();
	if (h.payload_len + hdr + h.padding != size)
		abort();
	if (h.has_ext && (h.ext != data + RTP_HDR_LEN + (size_t)h.cc * 4 + 4 || h.ext_len % 4))
		abort();
	if (!h.has_ext && (h.ext || h.ext_len))
		abort();

	/* a stream: every payload byte moves the sequence number and the arrival time */
	struct rtp_rx_stats s;
	struct rtcp_rb rb;
	rtp_rx_stats_init(&s);
	uint32_t arrival = h.ts;
	for (size_t i = 0; i <= h.payload_len; i++) {
		enum rtp_rx_verdict v = rtp_rx_stats_update(&s, &h, arrival);
		if (v != RTP_RX_OK && v != RTP_RX_DUPLICATE && v != RTP_RX_PROBATION &&
		    v != RTP_RX_SSRC_CHANGE)
			abort();
		if (!s.have_ssrc || s.ssrc != h.ssrc)
			abort();
		if (i == h.payload_len)
			break;
		uint8_t b = h.payload[i];
		if (b == 0xff)
			h.ssrc ^= 1;
		else if (b >= 0xf0)
			h.seq = (uint16_t)(h.seq + (b - 0xf0) * 4000);
		else
			h.seq = (uint16_t)(h.seq + (int8_t)b);
		h.ts += 160;
		arrival += 160 + (b & 0x0f);
		if ((b & 0x30) == 0x30) {
			rtp_rx_stats_report(&s, &rb, i * 20);
			rtp_rx_stats_on_sr(&s, (uint64_t)arrival << 24, i * 20);
			rtp_rx_stats_on_rb(&s, &rb, arrival);
		}
	}
	(void)rtp_rx_stats_ext_max(&s);
	(void)rtp_rx_stats_lost(&s);
	(void)rtp_rx_stats_jitter(&s);
	rtp_rx_stats_report(&s, &rb, 1000);
	return 0;
}
