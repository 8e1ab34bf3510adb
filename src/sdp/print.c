/* Re-printing a parsed SDP session (round trips, logging, proxying).
 * Output size comes from the data through sb_buf; no fixed buffers. */
#include "base/err.h"
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

const char *sdp__addrtype_name(enum sdp_addrtype t)
{
	switch (t) {
	case SDP_ADDR_IP4:
		return "IP4";
	case SDP_ADDR_IP6:
		return "IP6";
	case SDP_ADDR_NONE:
	case SDP_ADDR_OTHER:
		break;
	}
	return NULL;
}

static void print_addr(struct sb_buf *b, const struct sdp_conn *c)
{
	const char *at = sdp__addrtype_name(c->type);
	sb_buf_append_cstr(b, "IN ");
	if (at)
		sb_buf_append_cstr(b, at);
	else
		sb_buf_append_slice(b, c->addrtype);
	sb_buf_append_char(b, ' ');
	sb_buf_append_slice(b, c->addr);
	sb_buf_append_slice(b, c->addr_suffix);
}

void sdp__print_conn(struct sb_buf *b, const struct sdp_conn *c)
{
	sb_buf_append_cstr(b, "c=");
	print_addr(b, c);
	sb_buf_append_cstr(b, "\r\n");
}

static void print_media(struct sb_buf *b, const struct sdp_media *m)
{
	sb_buf_printf(b, "m=" SB_SLICE_FMT " %u", SB_SLICE_ARG(m->type), (unsigned)m->port);
	if (m->port_count)
		sb_buf_printf(b, "/%u", (unsigned)m->port_count);
	sb_buf_printf(b, " " SB_SLICE_FMT, SB_SLICE_ARG(m->proto_str));
	if (m->proto == SDP_PROTO_OTHER) {
		sb_buf_printf(b, " " SB_SLICE_FMT, SB_SLICE_ARG(m->fmts_raw));
	} else {
		for (size_t i = 0; i < m->n_fmt; i++)
			sb_buf_printf(b, " %u", (unsigned)m->fmt[i].pt);
	}
	sb_buf_append_cstr(b, "\r\n");
	if (m->conn.type != SDP_ADDR_NONE)
		sdp__print_conn(b, &m->conn);
	for (size_t i = 0; i < m->n_fmt; i++) {
		const struct sdp_fmt *f = &m->fmt[i];
		if (f->has_rtpmap) {
			sb_buf_printf(b, "a=rtpmap:%u " SB_SLICE_FMT "/%lu", (unsigned)f->pt,
				      SB_SLICE_ARG(f->name), (unsigned long)f->rate);
			if (f->channels)
				sb_buf_printf(b, "/%u", (unsigned)f->channels);
			sb_buf_append_cstr(b, "\r\n");
		}
		if (f->fmtp.len)
			sb_buf_printf(b, "a=fmtp:%u " SB_SLICE_FMT "\r\n", (unsigned)f->pt,
				      SB_SLICE_ARG(f->fmtp));
	}
	if (m->ptime)
		sb_buf_printf(b, "a=ptime:%lu\r\n", (unsigned long)m->ptime);
	if (m->maxptime)
		sb_buf_printf(b, "a=maxptime:%lu\r\n", (unsigned long)m->maxptime);
	if (m->rtcp_port)
		sb_buf_printf(b, "a=rtcp:%u\r\n", (unsigned)m->rtcp_port);
	if (m->rtcp_mux)
		sb_buf_append_cstr(b, "a=rtcp-mux\r\n");
	for (size_t i = 0; i < m->n_crypto; i++)
		sb_buf_printf(b, "a=crypto:" SB_SLICE_FMT "\r\n", SB_SLICE_ARG(m->crypto[i]));
	if (m->has_dir)
		sb_buf_printf(b, "a=%s\r\n", sdp_dir_name(m->dir));
}

int sdp_print(struct sb_buf *b, const struct sdp_session *s)
{
	sb_buf_append_cstr(b, "v=0\r\n");
	if (s->has_origin) {
		const struct sdp_origin *o = &s->origin;
		sb_buf_printf(b, "o=" SB_SLICE_FMT " " SB_SLICE_FMT " %llu ",
			      SB_SLICE_ARG(o->username), SB_SLICE_ARG(o->sess_id),
			      (unsigned long long)o->sess_version);
		print_addr(b, &o->addr);
		sb_buf_append_cstr(b, "\r\n");
	}
	if (s->name.len)
		sb_buf_printf(b, "s=" SB_SLICE_FMT "\r\n", SB_SLICE_ARG(s->name));
	else
		sb_buf_append_cstr(b, "s=-\r\n");
	if (s->conn.type != SDP_ADDR_NONE)
		sdp__print_conn(b, &s->conn);
	if (s->has_time)
		sb_buf_printf(b, "t=%llu %llu\r\n", (unsigned long long)s->t_start,
			      (unsigned long long)s->t_stop);
	if (s->has_dir)
		sb_buf_printf(b, "a=%s\r\n", sdp_dir_name(s->dir));
	for (size_t i = 0; i < s->n_media; i++)
		print_media(b, &s->media[i]);
	return b->err;
}
