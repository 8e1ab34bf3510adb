/* libFuzzer harness for src/rtp/packet.c rtcp_parse/rtcp_build: whatever parses must build
 * again, and the built packet must parse to the same SR/RR, report blocks, CNAME and BYE. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtp/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtcp_info a, b;
	if (rtcp_parse(data, size, &a) != 0)
		return 0;
	if (a.n_rb > RTCP_MAX_RB || memchr(a.cname, '\0', sizeof(a.cname)) == NULL)
		abort();
	(void)rtp_is_rtcp(data, size);

	uint8_t out[28 + RTCP_MAX_RB * 24 + 8 + 260 + 8];
	size_t n = rtcp_build(out, sizeof(out), &a);
	if (n == 0 || n % 4 != 0 || !rtp_is_rtcp(out, n))
		abort();
	if (rtcp_build(out, n - 1, &a) != 0)
		abort();
	if (rtcp_parse(out, n, &b) != 0)
		abort();
	if (a.ssrc != b.ssrc || a.has_sr != b.has_sr || a.n_rb != b.n_rb || a.bye != b.bye)
		abort();
	if (a.has_sr && (a.ntp != b.ntp || a.rtp_ts != b.rtp_ts || a.pkt_count != b.pkt_count ||
			 a.octet_count != b.octet_count))
		abort();
	for (unsigned i = 0; i < a.n_rb; i++) {
		const struct rtcp_rb *x = &a.rb[i], *y = &b.rb[i];
		if (x->ssrc != y->ssrc || x->fraction_lost != y->fraction_lost ||
		    x->cum_lost != y->cum_lost || x->ext_high_seq != y->ext_high_seq ||
		    x->jitter != y->jitter || x->lsr != y->lsr || x->dlsr != y->dlsr)
			abort();
	}
	if (strcmp(a.cname, b.cname) != 0)
		abort();
	return 0;
}
