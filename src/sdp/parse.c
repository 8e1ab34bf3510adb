/* Zero-copy RFC 4566 parser: body slice in, struct sdp_session of slices out.
 * Pure and bounded: never reads past the slice, never assumes a NUL, no allocation or logging. */
#include <string.h>

#include "base/err.h"
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

#define MAX_PT	  127u
#define MAX_PTIME 1000u

static bool is_sp(char c)
{
	return c == ' ' || c == '\t';
}

/* Next token separated by SP/HTAB; false when none is left. */
static bool next_tok(struct sb_slice *s, struct sb_slice *tok)
{
	size_t i = 0;
	while (i < s->len && is_sp(s->p[i]))
		i++;
	size_t start = i;
	while (i < s->len && !is_sp(s->p[i]))
		i++;
	*tok = sb_slice(s->p + start, i - start);
	*s = sb_slice(s->p + i, s->len - i);
	return tok->len > 0;
}

static struct sb_slice skip_sp(struct sb_slice s)
{
	while (s.len && is_sp(s.p[0])) {
		s.p++;
		s.len--;
	}
	return s;
}

static struct sb_slice trim_sp_end(struct sb_slice s)
{
	while (s.len && is_sp(s.p[s.len - 1]))
		s.len--;
	return s;
}

static bool rest_empty(struct sb_slice s)
{
	return skip_sp(s).len == 0;
}

static int parse_u16(struct sb_slice s, uint16_t *out)
{
	uint32_t v;
	if (sb_slice_to_u32(s, 65535, &v))
		return SB_EMALFORMED;
	*out = (uint16_t)v;
	return 0;
}

static int parse_pt(struct sb_slice s, uint8_t *out)
{
	uint32_t v;
	if (sb_slice_to_u32(s, MAX_PT, &v))
		return SB_EMALFORMED;
	*out = (uint8_t)v;
	return 0;
}

static enum sdp_addrtype addrtype_of(struct sb_slice s)
{
	if (sb_slice_eq_cstr_nocase(s, "IP4"))
		return SDP_ADDR_IP4;
	if (sb_slice_eq_cstr_nocase(s, "IP6"))
		return SDP_ADDR_IP6;
	return SDP_ADDR_OTHER;
}

/* Addresses are printed into our own SDP and handed to resolvers: allow only host characters
 * (no brackets in SDP, RFC 5118 §4.6). */
static bool valid_addr(struct sb_slice a)
{
	if (a.len == 0 || a.len >= SDP_ADDR_MAX)
		return false;
	for (size_t i = 0; i < a.len; i++) {
		char c = a.p[i];
		bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
			  (c >= 'A' && c <= 'Z') || c == '.' || c == ':' || c == '-' || c == '_';
		if (!ok)
			return false;
	}
	return true;
}

/* "IN <addrtype> <address>[/ttl[/n]]" (c=, and the tail of o=). */
static int parse_conn_tail(struct sb_slice v, struct sdp_conn *c, bool allow_suffix)
{
	struct sb_slice net, at, addr;
	if (!next_tok(&v, &net) || !next_tok(&v, &at) || !next_tok(&v, &addr) || !rest_empty(v))
		return SB_EMALFORMED;
	if (!sb_slice_eq_cstr_nocase(net, "IN"))
		return SB_EMALFORMED;
	ptrdiff_t slash = sb_slice_find(addr, '/');
	struct sb_slice suffix = SB_SLICE_NULL;
	if (slash >= 0) {
		if (!allow_suffix)
			return SB_EMALFORMED;
		suffix = sb_slice(addr.p + slash, addr.len - (size_t)slash);
		addr.len = (size_t)slash;
		/* "/ttl" or "/ttl/n" or "/n" (IP6): digits only */
		for (size_t i = 0; i < suffix.len; i++) {
			char ch = suffix.p[i];
			if (!(ch == '/' || (ch >= '0' && ch <= '9')))
				return SB_EMALFORMED;
			if (ch == '/' && (i + 1 == suffix.len || suffix.p[i + 1] == '/'))
				return SB_EMALFORMED;
		}
		if (suffix.len > 16)
			return SB_EMALFORMED;
	}
	if (!valid_addr(addr))
		return SB_EMALFORMED;
	c->type = addrtype_of(at);
	c->addrtype = at;
	c->addr = addr;
	c->addr_suffix = suffix;
	return 0;
}

static int parse_origin(struct sb_slice v, struct sdp_origin *o)
{
	struct sb_slice user, id, ver;
	if (!next_tok(&v, &user) || !next_tok(&v, &id) || !next_tok(&v, &ver))
		return SB_EMALFORMED;
	for (size_t i = 0; i < id.len; i++)
		if (id.p[i] < '0' || id.p[i] > '9')
			return SB_EMALFORMED;
	if (sb_slice_to_u64(ver, UINT64_MAX, &o->sess_version))
		return SB_EMALFORMED;
	o->username = user;
	o->sess_id = id;
	return parse_conn_tail(v, &o->addr, false);
}

static enum sdp_proto proto_of(struct sb_slice s)
{
	static const struct {
		const char *name;
		enum sdp_proto p;
	} map[] = {
	    {"RTP/AVP", SDP_PROTO_RTP_AVP},
	    {"RTP/AVPF", SDP_PROTO_RTP_AVPF},
	    {"RTP/SAVP", SDP_PROTO_RTP_SAVP},
	    {"RTP/SAVPF", SDP_PROTO_RTP_SAVPF},
	    {"UDP/TLS/RTP/SAVP", SDP_PROTO_UDP_TLS_RTP_SAVP},
	    {"UDP/TLS/RTP/SAVPF", SDP_PROTO_UDP_TLS_RTP_SAVPF},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (sb_slice_eq_cstr_nocase(s, map[i].name))
			return map[i].p;
	return SDP_PROTO_OTHER;
}

static int parse_media(struct sb_slice v, struct sdp_media *m)
{
	struct sb_slice type, port, proto;
	if (!next_tok(&v, &type) || !next_tok(&v, &port) || !next_tok(&v, &proto))
		return SB_EMALFORMED;
	m->type = type;
	ptrdiff_t slash = sb_slice_find(port, '/');
	if (slash >= 0) {
		if (parse_u16(sb_slice(port.p + slash + 1, port.len - (size_t)slash - 1),
			      &m->port_count) ||
		    m->port_count == 0)
			return SB_EMALFORMED;
		port.len = (size_t)slash;
	}
	if (parse_u16(port, &m->port))
		return SB_EMALFORMED;
	m->proto_str = proto;
	m->proto = proto_of(proto);
	m->fmts_raw = trim_sp_end(skip_sp(v));
	if (m->fmts_raw.len == 0)
		return SB_EMALFORMED; /* RFC 4566: at least one format */
	if (m->proto == SDP_PROTO_OTHER)
		return 0;
	struct sb_slice tok;
	while (next_tok(&v, &tok)) {
		uint8_t pt;
		if (parse_pt(tok, &pt))
			return SB_EMALFORMED;
		bool dup = false;
		for (size_t i = 0; i < m->n_fmt; i++)
			dup = dup || m->fmt[i].pt == pt;
		if (dup)
			continue;
		if (m->n_fmt == SDP_MAX_FMT) {
			m->fmt_truncated = true;
			continue;
		}
		m->fmt[m->n_fmt++].pt = pt;
	}
	return 0;
}

static struct sdp_fmt *find_fmt(struct sdp_media *m, uint8_t pt)
{
	for (size_t i = 0; i < m->n_fmt; i++)
		if (m->fmt[i].pt == pt)
			return &m->fmt[i];
	return NULL;
}

/* "<pt> <name>/<rate>[/<channels>]"; a PT out of 0..127 is malformed (CVE-2018-1000098). */
static int parse_rtpmap(struct sb_slice v, struct sdp_media *m)
{
	struct sb_slice pts, enc;
	uint8_t pt;
	if (!next_tok(&v, &pts) || parse_pt(pts, &pt))
		return SB_EMALFORMED;
	/* A bad encoding part leaves the format without rtpmap: RFC 4475 messages carry
	 * "a=rtpmap:31 LPC" and a PT we cannot name is simply one we do not pick. */
	if (!next_tok(&v, &enc) || !rest_empty(v))
		return 0;
	ptrdiff_t s1 = sb_slice_find(enc, '/');
	if (s1 <= 0)
		return 0;
	struct sb_slice name = sb_slice(enc.p, (size_t)s1);
	struct sb_slice rest = sb_slice(enc.p + s1 + 1, enc.len - (size_t)s1 - 1);
	struct sb_slice rate_s = rest, ch_s = SB_SLICE_NULL;
	ptrdiff_t s2 = sb_slice_find(rest, '/');
	if (s2 >= 0) {
		rate_s = sb_slice(rest.p, (size_t)s2);
		ch_s = sb_slice(rest.p + s2 + 1, rest.len - (size_t)s2 - 1);
	}
	uint32_t rate, ch = 0;
	if (sb_slice_to_u32(rate_s, UINT32_MAX, &rate) || rate == 0)
		return 0;
	if (s2 >= 0 && (sb_slice_to_u32(ch_s, 255, &ch) || ch == 0))
		return 0;
	struct sdp_fmt *f = find_fmt(m, pt);
	if (!f || f->has_rtpmap)
		return 0; /* not in m= (or past the kept ones), or a duplicate: first wins */
	f->has_rtpmap = true;
	f->name = name;
	f->rate = rate;
	f->channels = (uint8_t)ch;
	return 0;
}

/* "<pt> <params>": params are kept raw, never interpreted here. */
static int parse_fmtp(struct sb_slice v, struct sdp_media *m)
{
	struct sb_slice pts;
	uint8_t pt;
	if (!next_tok(&v, &pts) || parse_pt(pts, &pt))
		return SB_EMALFORMED;
	struct sdp_fmt *f = find_fmt(m, pt);
	if (f && f->fmtp.len == 0)
		f->fmtp = trim_sp_end(skip_sp(v));
	return 0;
}

static uint32_t parse_ptime(struct sb_slice v)
{
	uint32_t t;
	if (sb_slice_to_u32(trim_sp_end(v), MAX_PTIME, &t))
		return 0;
	return t;
}

static bool dir_of(struct sb_slice name, enum sdp_dir *d)
{
	static const char *names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
	static const enum sdp_dir dirs[] = {SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE};
	for (size_t i = 0; i < 4; i++)
		if (sb_slice_eq_cstr_nocase(name, names[i])) {
			*d = dirs[i];
			return true;
		}
	return false;
}

/* a=<name>[:<value>]; m is NULL at session level. */
static int parse_attr(struct sb_slice v, struct sdp_session *s, struct sdp_media *m)
{
	struct sb_slice name = v, val = sb_slice(v.p + v.len, 0);
	ptrdiff_t colon = sb_slice_find(v, ':');
	if (colon >= 0) {
		name = sb_slice(v.p, (size_t)colon);
		val = sb_slice(v.p + colon + 1, v.len - (size_t)colon - 1);
	}
	name = trim_sp_end(name);
	if (name.len == 0)
		return SB_EMALFORMED;
	enum sdp_dir d;
	if (dir_of(name, &d)) {
		if (m) {
			m->has_dir = true;
			m->dir = d;
		} else {
			s->has_dir = true;
			s->dir = d;
		}
		return 0;
	}
	if (!m)
		return 0; /* the rest are media-level attributes */
	bool rtp = m->proto != SDP_PROTO_OTHER;
	if (sb_slice_eq_cstr_nocase(name, "rtpmap"))
		return rtp ? parse_rtpmap(val, m) : 0;
	if (sb_slice_eq_cstr_nocase(name, "fmtp"))
		return rtp ? parse_fmtp(val, m) : 0;
	if (sb_slice_eq_cstr_nocase(name, "ptime")) {
		m->ptime = parse_ptime(val);
		return 0;
	}
	if (sb_slice_eq_cstr_nocase(name, "maxptime")) {
		m->maxptime = parse_ptime(val);
		return 0;
	}
	if (sb_slice_eq_cstr_nocase(name, "rtcp-mux")) {
		m->rtcp_mux = true;
		return 0;
	}
	if (sb_slice_eq_cstr_nocase(name, "rtcp")) {
		struct sb_slice port;
		if (!next_tok(&val, &port) || parse_u16(port, &m->rtcp_port))
			return SB_EMALFORMED;
		return 0;
	}
	if (sb_slice_eq_cstr_nocase(name, "crypto")) {
		val = trim_sp_end(skip_sp(val));
		if (val.len == 0)
			return SB_EMALFORMED;
		if (m->n_crypto < SDP_MAX_CRYPTO)
			m->crypto[m->n_crypto++] = val;
		return 0;
	}
	return 0;
}

/* Split off the next line; strips "\n" or "\r\n". A CR anywhere else is malformed. */
static int next_line(struct sb_slice *rest, struct sb_slice *line)
{
	ptrdiff_t nl = sb_slice_find(*rest, '\n');
	size_t len = nl >= 0 ? (size_t)nl : rest->len;
	size_t adv = nl >= 0 ? len + 1 : len;
	*line = sb_slice(rest->p, len);
	*rest = sb_slice(rest->p + adv, rest->len - adv);
	if (line->len && line->p[line->len - 1] == '\r')
		line->len--;
	if (sb_slice_find(*line, '\r') >= 0)
		return SB_EMALFORMED;
	return 0;
}

static bool only_line_ends(struct sb_slice s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i] != '\r' && s.p[i] != '\n')
			return false;
	return true;
}

int sdp_parse(struct sdp_session *s, struct sb_slice body)
{
	memset(s, 0, sizeof(*s));
	if (body.len == 0 || memchr(body.p, '\0', body.len))
		return SB_EMALFORMED;
	struct sb_slice rest = body, line;
	struct sdp_media *m = NULL;
	bool first = true, conn_seen = false;
	int err;
	while (rest.len) {
		if ((err = next_line(&rest, &line)))
			goto fail;
		if (line.len == 0) {
			if (only_line_ends(rest))
				break; /* trailing blank lines */
			err = SB_EMALFORMED;
			goto fail;
		}
		err = SB_EMALFORMED;
		if (line.len < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
			goto fail;
		char type = line.p[0];
		struct sb_slice v = sb_slice(line.p + 2, line.len - 2);
		if (v.len == 0 && type != 's' && type != 'i')
			goto fail;
		if (first != (type == 'v'))
			goto fail; /* v= first and only once */
		first = false;
		switch (type) {
		case 'v':
			if (!sb_slice_eq_cstr(v, "0"))
				goto fail;
			break;
		case 'o':
			if (m || s->has_origin || parse_origin(v, &s->origin))
				goto fail;
			s->has_origin = true;
			break;
		case 's':
			if (!m)
				s->name = v;
			break;
		case 't':
			if (!m && !s->has_time) {
				struct sb_slice a, b;
				if (!next_tok(&v, &a) || !next_tok(&v, &b) || !rest_empty(v) ||
				    sb_slice_to_u64(a, UINT64_MAX, &s->t_start) ||
				    sb_slice_to_u64(b, UINT64_MAX, &s->t_stop))
					goto fail;
				s->has_time = true;
			}
			break;
		case 'c':
			if (conn_seen || parse_conn_tail(v, m ? &m->conn : &s->conn, true))
				goto fail;
			conn_seen = true;
			break;
		case 'm':
			if (!s->has_origin)
				goto fail;
			if (s->n_media == SDP_MAX_MEDIA) {
				err = SB_ETOOBIG;
				goto fail;
			}
			m = &s->media[s->n_media++];
			if (parse_media(v, m))
				goto fail;
			conn_seen = false;
			break;
		case 'a':
			if (parse_attr(v, s, m))
				goto fail;
			break;
		default:
			break; /* i u e p b z k r and unknown letters */
		}
	}
	err = SB_EMALFORMED;
	if (first || !s->has_origin)
		goto fail;
	return 0;
fail:
	memset(s, 0, sizeof(*s));
	return err;
}
