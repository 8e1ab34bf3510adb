/* RTP and RTCP wire format (RFC 3550, RFC 5761 §4): bounded parsers and builders.
 * Owns byte layout only; no allocation, no clock, no logging. */
#include "rtp/packet.h"

#include <string.h>

#include "base/err.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int rtp_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h)
{
	if (len < RTP_HDR_LEN || (buf[0] >> 6) != 2)
		return SB_EMALFORMED;
	h->version = 2;
	h->marker = (buf[1] & 0x80) != 0;
	h->pt = buf[1] & 0x7f;
	h->seq = rd16(buf + 2);
	h->ts = rd32(buf + 4);
	h->ssrc = rd32(buf + 8);
	h->cc = buf[0] & 0x0f;
	size_t off = RTP_HDR_LEN;
	if (len - off < (size_t)h->cc * 4)
		return SB_EMALFORMED;
	for (unsigned i = 0; i < h->cc; i++, off += 4)
		h->csrc[i] = rd32(buf + off);

	h->has_ext = (buf[0] & 0x10) != 0;
	h->ext_profile = 0;
	h->ext = NULL;
	h->ext_len = 0;
	if (h->has_ext) {
		if (len - off < 4)
			return SB_EMALFORMED;
		h->ext_profile = rd16(buf + off);
		size_t ext_len = (size_t)rd16(buf + off + 2) * 4;
		off += 4;
		if (len - off < ext_len)
			return SB_EMALFORMED;
		h->ext = buf + off;
		h->ext_len = ext_len;
		off += ext_len;
	}

	h->padding = 0;
	size_t end = len;
	if (buf[0] & 0x20) {
		/* the count includes itself, so 0 is not a valid padding */
		uint8_t pad = buf[len - 1];
		if (pad == 0 || pad > len - off)
			return SB_EMALFORMED;
		h->padding = pad;
		end -= pad;
	}
	h->payload = buf + off;
	h->payload_len = end - off;
	return 0;
}

size_t rtp_write_header(uint8_t *buf, size_t cap, uint8_t pt, bool marker, uint16_t seq,
			uint32_t ts, uint32_t ssrc)
{
	if (cap < RTP_HDR_LEN)
		return 0;
	buf[0] = 0x80;
	buf[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
	wr16(buf + 2, seq);
	wr32(buf + 4, ts);
	wr32(buf + 8, ssrc);
	return RTP_HDR_LEN;
}

bool rtp_is_rtcp(const uint8_t *buf, size_t len)
{
	return len >= 2 && buf[1] >= 192 && buf[1] <= 223;
}

/* ---- RTCP ---- */

#define RTCP_RB_LEN 24

static void rb_read(struct rtcp_rb *rb, const uint8_t *p)
{
	rb->ssrc = rd32(p);
	rb->fraction_lost = p[4];
	uint32_t cl = (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	rb->cum_lost = (cl & 0x800000) ? (int32_t)cl - 0x1000000 : (int32_t)cl;
	rb->ext_high_seq = rd32(p + 8);
	rb->jitter = rd32(p + 12);
	rb->lsr = rd32(p + 16);
	rb->dlsr = rd32(p + 20);
}

static void rb_write(uint8_t *p, const struct rtcp_rb *rb)
{
	int32_t cl = rb->cum_lost;
	if (cl > 0x7fffff)
		cl = 0x7fffff;
	if (cl < -0x800000)
		cl = -0x800000;
	uint32_t u = (uint32_t)cl & 0xffffff;
	wr32(p, rb->ssrc);
	p[4] = rb->fraction_lost;
	p[5] = (uint8_t)(u >> 16);
	p[6] = (uint8_t)(u >> 8);
	p[7] = (uint8_t)u;
	wr32(p + 8, rb->ext_high_seq);
	wr32(p + 12, rb->jitter);
	wr32(p + 16, rb->lsr);
	wr32(p + 20, rb->dlsr);
}

/* SR or RR body (p points at the sub-packet header, n its length without padding). */
static int parse_report(const uint8_t *p, size_t n, struct rtcp_info *out, bool *have_report)
{
	unsigned rc = p[0] & 0x1f;
	bool sr = p[1] == RTCP_SR;
	size_t fixed = sr ? 28 : 8;
	if (n < fixed || (n - fixed) / RTCP_RB_LEN < rc)
		return SB_EMALFORMED;
	if (*have_report)
		return 0;
	*have_report = true;
	out->ssrc = rd32(p + 4);
	out->has_sr = sr;
	if (sr) {
		out->ntp = (uint64_t)rd32(p + 8) << 32 | rd32(p + 12);
		out->rtp_ts = rd32(p + 16);
		out->pkt_count = rd32(p + 20);
		out->octet_count = rd32(p + 24);
	}
	out->n_rb = (uint8_t)rc;
	for (unsigned i = 0; i < rc; i++)
		rb_read(&out->rb[i], p + fixed + i * RTCP_RB_LEN);
	return 0;
}

/* Every chunk and item is bounded; the CNAME kept is the report sender's, else the first. */
static int parse_sdes(const uint8_t *p, size_t n, struct rtcp_info *out, bool have_report,
		      bool *cname_from_sender)
{
	unsigned sc = p[0] & 0x1f;
	size_t off = 4;
	for (unsigned c = 0; c < sc; c++) {
		if (n - off < 4)
			return SB_EMALFORMED;
		uint32_t ssrc = rd32(p + off);
		off += 4;
		for (;;) {
			if (off >= n)
				return SB_EMALFORMED;
			uint8_t type = p[off];
			if (type == 0) {
				/* end of list: the chunk ends on the next 32-bit boundary */
				off = (off + 4) & ~(size_t)3;
				if (off > n)
					return SB_EMALFORMED;
				break;
			}
			if (n - off < 2 || n - off - 2 < p[off + 1])
				return SB_EMALFORMED;
			size_t ilen = p[off + 1];
			if (type == 1 && !*cname_from_sender) {
				bool from_sender = have_report && ssrc == out->ssrc;
				if (from_sender || out->cname[0] == '\0') {
					memcpy(out->cname, p + off + 2, ilen);
					out->cname[ilen] = '\0';
					*cname_from_sender = from_sender;
				}
			}
			off += 2 + ilen;
		}
	}
	return 0;
}

static int parse_bye(const uint8_t *p, size_t n, struct rtcp_info *out)
{
	size_t sc = p[0] & 0x1f;
	if ((n - 4) / 4 < sc)
		return SB_EMALFORMED;
	size_t off = 4 + sc * 4;
	if (off < n && (size_t)p[off] > n - off - 1) /* reason for leaving */
		return SB_EMALFORMED;
	out->bye = true;
	return 0;
}

int rtcp_parse(const uint8_t *buf, size_t len, struct rtcp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 4 || len % 4 != 0)
		return SB_EMALFORMED;
	bool have_report = false, cname_from_sender = false;
	size_t off = 0;
	while (off < len) {
		const uint8_t *p = buf + off;
		if (len - off < 4 || (p[0] >> 6) != 2)
			return SB_EMALFORMED;
		size_t plen = ((size_t)rd16(p + 2) + 1) * 4;
		if (plen > len - off)
			return SB_EMALFORMED;
		size_t n = plen;
		if (p[0] & 0x20) {
			uint8_t pad = p[plen - 1];
			if (pad == 0 || pad > plen - 4)
				return SB_EMALFORMED;
			n -= pad;
		}
		int err = 0;
		switch (p[1]) {
		case RTCP_SR:
		case RTCP_RR:
			err = parse_report(p, n, out, &have_report);
			break;
		case RTCP_SDES:
			err = parse_sdes(p, n, out, have_report, &cname_from_sender);
			break;
		case RTCP_BYE:
			err = parse_bye(p, n, out);
			break;
		case RTCP_APP:
			if (n < 12)
				err = SB_EMALFORMED;
			break;
		default: /* feedback, XR and the rest: not ours to read */
			break;
		}
		if (err)
			return err;
		off += plen;
	}
	return 0;
}

static void rtcp_hdr(uint8_t *p, unsigned count, uint8_t pt, size_t plen)
{
	p[0] = (uint8_t)(0x80 | (count & 0x1f));
	p[1] = pt;
	wr16(p + 2, (uint16_t)(plen / 4 - 1));
}

size_t rtcp_build(uint8_t *buf, size_t cap, const struct rtcp_info *in)
{
	if (in->n_rb > RTCP_MAX_RB)
		return 0;
	size_t fixed = in->has_sr ? 28 : 8;
	size_t rlen = fixed + (size_t)in->n_rb * RTCP_RB_LEN;
	size_t cname_len = strnlen(in->cname, sizeof(in->cname) - 1);
	/* SDES: header, SSRC, CNAME item, then at least one null octet up to a 32-bit boundary */
	size_t slen = cname_len ? (4 + 4 + 2 + cname_len + 1 + 3) & ~(size_t)3 : 0;
	size_t blen = in->bye ? 8 : 0;
	size_t total = rlen + slen + blen;
	if (cap < total)
		return 0;

	uint8_t *p = buf;
	rtcp_hdr(p, in->n_rb, in->has_sr ? RTCP_SR : RTCP_RR, rlen);
	wr32(p + 4, in->ssrc);
	if (in->has_sr) {
		wr32(p + 8, (uint32_t)(in->ntp >> 32));
		wr32(p + 12, (uint32_t)in->ntp);
		wr32(p + 16, in->rtp_ts);
		wr32(p + 20, in->pkt_count);
		wr32(p + 24, in->octet_count);
	}
	for (unsigned i = 0; i < in->n_rb; i++)
		rb_write(p + fixed + i * RTCP_RB_LEN, &in->rb[i]);
	p += rlen;

	if (slen) {
		rtcp_hdr(p, 1, RTCP_SDES, slen);
		wr32(p + 4, in->ssrc);
		p[8] = 1; /* CNAME */
		p[9] = (uint8_t)cname_len;
		memcpy(p + 10, in->cname, cname_len);
		memset(p + 10 + cname_len, 0, slen - 10 - cname_len);
		p += slen;
	}
	if (blen) {
		rtcp_hdr(p, 1, RTCP_BYE, blen);
		wr32(p + 4, in->ssrc);
	}
	return total;
}

uint64_t rtcp_ntp_from_unix_ns(uint64_t unix_ns)
{
	const uint64_t ns_per_s = 1000000000u;
	uint64_t sec = unix_ns / ns_per_s + 2208988800u; /* 1900 -> 1970 */
	uint64_t frac = ((unix_ns % ns_per_s) << 32) / ns_per_s;
	return sec << 32 | frac;
}
