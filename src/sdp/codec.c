/* The SDP codec table generated from SDP_CODEC_MAP, direction algebra and local defaults.
 * Pure tables and helpers shared by the parser, printer and offer/answer code. */
#include "sdp/sdp.h"

#include <string.h>

#include "base/compat.h"
#include "sdp/sdp_int.h"

/* clang-format off */
static const struct sdp_codec_info codec_table[SDP_CODEC__COUNT] = {
	[SDP_CODEC_NONE] = {NULL, 0, 0, 0, false, false, NULL},
#define SDP__CODEC_ROW(id, n, r, ch, p, st, prim, f) [SDP_CODEC_##id] = {n, r, ch, p, st, prim, f},
	SDP_CODEC_MAP(SDP__CODEC_ROW)
#undef SDP__CODEC_ROW
};
/* clang-format on */

const struct sdp_codec_info *sdp_codec_info(enum sdp_codec c)
{
	if ((int)c <= (int)SDP_CODEC_NONE || (int)c >= (int)SDP_CODEC__COUNT)
		return NULL;
	return &codec_table[c];
}

enum sdp_codec sdp__fmt_codec(const struct sdp_fmt *f)
{
	for (int c = SDP_CODEC_NONE + 1; c < SDP_CODEC__COUNT; c++) {
		const struct sdp_codec_info *ci = &codec_table[c];
		if (f->has_rtpmap) {
			uint8_t ch = f->channels ? f->channels : 1;
			if (f->rate == ci->rate && ch == ci->channels &&
			    sb_slice_eq_cstr_nocase(f->name, ci->name))
				return (enum sdp_codec)c;
		} else if (ci->static_pt && ci->pt == f->pt) {
			return (enum sdp_codec)c;
		}
	}
	return SDP_CODEC_NONE;
}

/* Directions as two bits so answers are intersections. */
#define DIR_SEND 1u
#define DIR_RECV 2u

static unsigned dir_bits(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDRECV:
		return DIR_SEND | DIR_RECV;
	case SDP_SENDONLY:
		return DIR_SEND;
	case SDP_RECVONLY:
		return DIR_RECV;
	case SDP_INACTIVE:
		break;
	}
	return 0;
}

static enum sdp_dir dir_from_bits(unsigned b)
{
	static const enum sdp_dir map[4] = {SDP_INACTIVE, SDP_SENDONLY, SDP_RECVONLY, SDP_SENDRECV};
	return map[b & 3u];
}

const char *sdp_dir_name(enum sdp_dir d)
{
	switch (d) {
	case SDP_SENDRECV:
		return "sendrecv";
	case SDP_SENDONLY:
		return "sendonly";
	case SDP_RECVONLY:
		return "recvonly";
	case SDP_INACTIVE:
		return "inactive";
	}
	return "inactive";
}

bool sdp_dir_sends(enum sdp_dir d)
{
	return (dir_bits(d) & DIR_SEND) != 0;
}

bool sdp_dir_recvs(enum sdp_dir d)
{
	return (dir_bits(d) & DIR_RECV) != 0;
}

enum sdp_dir sdp_dir_answer(enum sdp_dir offered, enum sdp_dir local_wanted)
{
	unsigned o = dir_bits(offered), l = dir_bits(local_wanted), a = 0;
	if ((o & DIR_RECV) && (l & DIR_SEND))
		a |= DIR_SEND;
	if ((o & DIR_SEND) && (l & DIR_RECV))
		a |= DIR_RECV;
	return dir_from_bits(a);
}

const struct sdp_conn *sdp_media_conn(const struct sdp_session *s, size_t idx)
{
	if (idx >= s->n_media)
		return NULL;
	if (s->media[idx].conn.type != SDP_ADDR_NONE)
		return &s->media[idx].conn;
	if (s->conn.type != SDP_ADDR_NONE)
		return &s->conn;
	return NULL;
}

bool sdp_conn_is_hold(const struct sdp_conn *c)
{
	if (!c)
		return false;
	if (c->type == SDP_ADDR_IP4)
		return sb_slice_eq_cstr(c->addr, "0.0.0.0");
	if (c->type == SDP_ADDR_IP6)
		return sb_slice_eq_cstr(c->addr, "::") ||
		       sb_slice_eq_cstr(c->addr, "0:0:0:0:0:0:0:0");
	return false;
}

enum sdp_dir sdp_media_dir(const struct sdp_session *s, size_t idx)
{
	if (idx >= s->n_media)
		return SDP_INACTIVE;
	const struct sdp_media *m = &s->media[idx];
	enum sdp_dir d = m->has_dir ? m->dir : s->has_dir ? s->dir : SDP_SENDRECV;
	if (sdp_conn_is_hold(sdp_media_conn(s, idx)))
		d = dir_from_bits(dir_bits(d) & ~DIR_RECV);
	return d;
}

void sdp_local_init(struct sdp_local *l)
{
	memset(l, 0, sizeof(*l));
	l->addrtype = SDP_ADDR_IP4;
	l->codecs[0] = SDP_CODEC_PCMU;
	l->codecs[1] = SDP_CODEC_PCMA;
	l->n_codecs = 2;
	l->telephone_event = true;
	l->te_pt = codec_table[SDP_CODEC_TELEPHONE_EVENT].pt;
	l->dir = SDP_SENDRECV;
	l->ptime = 20;
}

void sdp_local_next_version(struct sdp_local *l)
{
	if (l->sess_version < UINT64_MAX)
		l->sess_version++;
}
