/* RFC 3264 offer/answer for one audio stream: our offers, negotiating and printing answers,
 * checking answers to our offers. Pure: sessions and local config in, results and text out. */
#include <string.h>

#include "base/err.h"
#include "sdp/sdp.h"
#include "sdp/sdp_int.h"

/* Is c one of the primary codecs we offer / accept (in l->codecs)? */
static bool local_has(const struct sdp_local *l, enum sdp_codec c)
{
	const struct sdp_codec_info *ci = sdp_codec_info(c);
	if (!ci || !ci->primary)
		return false;
	size_t n = l->n_codecs < SDP_MAX_LOCAL_CODECS ? l->n_codecs : SDP_MAX_LOCAL_CODECS;
	for (size_t i = 0; i < n; i++)
		if (l->codecs[i] == c)
			return true;
	return false;
}

static bool is_savp(enum sdp_proto p)
{
	return p == SDP_PROTO_RTP_SAVP || p == SDP_PROTO_RTP_SAVPF;
}

static bool is_audio_rtp(const struct sdp_media *m)
{
	return sb_slice_eq_cstr_nocase(m->type, "audio") &&
	       (m->proto == SDP_PROTO_RTP_AVP || m->proto == SDP_PROTO_RTP_AVPF ||
		is_savp(m->proto));
}

const char *sdp_crypto_suite_name(enum sdp_crypto_suite s)
{
	switch (s) {
	case SDP_CRYPTO_AES_CM_128_HMAC_SHA1_80:
		return "AES_CM_128_HMAC_SHA1_80";
	case SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32:
		return "AES_CM_128_HMAC_SHA1_32";
	case SDP_CRYPTO_NONE:
		break;
	}
	return "";
}

/* "<tag> <suite> <key-params>[ <session-params>]" (RFC 4568 §9.1); key-params must be an
 * inline: key. Unknown suites give SDP_CRYPTO_NONE (the line is skipped, not an error). */
static bool parse_crypto(struct sb_slice v, unsigned *tag, enum sdp_crypto_suite *suite,
			 struct sb_slice *key)
{
	size_t i = 0, t = 0;
	while (i < v.len && v.p[i] >= '0' && v.p[i] <= '9' && i < 9)
		t = t * 10 + (size_t)(v.p[i++] - '0');
	if (i == 0 || i >= v.len || v.p[i] != ' ')
		return false;
	size_t s0 = ++i;
	while (i < v.len && v.p[i] != ' ')
		i++;
	struct sb_slice name = sb_slice(v.p + s0, i - s0);
	if (i >= v.len)
		return false;
	size_t k0 = ++i;
	while (i < v.len && v.p[i] != ' ')
		i++;
	*key = sb_slice(v.p + k0, i - k0);
	*tag = (unsigned)t;
	*suite = SDP_CRYPTO_NONE;
	if (sb_slice_eq_cstr(name, "AES_CM_128_HMAC_SHA1_80"))
		*suite = SDP_CRYPTO_AES_CM_128_HMAC_SHA1_80;
	else if (sb_slice_eq_cstr(name, "AES_CM_128_HMAC_SHA1_32"))
		*suite = SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32;
	return key->len > 7 && key->len < SDP_CRYPTO_KEY_MAX &&
	       sb_slice_starts_with_nocase(*key, "inline:");
}

/* The first a=crypto line of m with a suite we support (and, when only_tag, that tag). */
static bool pick_crypto(const struct sdp_media *m, int only_tag, struct sdp_result *out)
{
	for (size_t i = 0; i < m->n_crypto; i++) {
		unsigned tag;
		enum sdp_crypto_suite suite;
		struct sb_slice key;
		if (!parse_crypto(m->crypto[i], &tag, &suite, &key) || suite == SDP_CRYPTO_NONE)
			continue;
		if (only_tag >= 0 && tag != (unsigned)only_tag)
			continue;
		out->crypto_suite = suite;
		out->crypto_tag = tag;
		sb_slice_copy(key, out->remote_crypto_key, sizeof(out->remote_crypto_key));
		return true;
	}
	return false;
}

/* The first primary format of m that we support, in m's order; -1 if none. */
static int pick_codec(const struct sdp_media *m, const struct sdp_local *l)
{
	for (size_t i = 0; i < m->n_fmt; i++)
		if (local_has(l, sdp__fmt_codec(&m->fmt[i])))
			return (int)i;
	return -1;
}

static int find_te(const struct sdp_media *m)
{
	for (size_t i = 0; i < m->n_fmt; i++)
		if (sdp__fmt_codec(&m->fmt[i]) == SDP_CODEC_TELEPHONE_EVENT)
			return m->fmt[i].pt;
	return -1;
}

/* Fill the remote half of *out from media idx of s and the chosen format. */
static int fill_result(const struct sdp_session *s, size_t idx, int fi, const struct sdp_local *l,
		       bool want_te, struct sdp_result *out)
{
	const struct sdp_media *m = &s->media[idx];
	const struct sdp_conn *c = sdp_media_conn(s, idx);
	if (!c)
		return SB_EMALFORMED;
	out->media_idx = (uint8_t)idx;
	out->n_media = s->n_media;
	out->codec = sdp__fmt_codec(&m->fmt[fi]);
	out->pt = m->fmt[fi].pt;
	out->te_pt = (int16_t)(want_te ? find_te(m) : -1);
	out->remote_addrtype = c->type;
	sb_slice_copy(c->addr, out->remote_addr, sizeof(out->remote_addr));
	out->remote_port = m->port;
	out->remote_rtcp_port = m->rtcp_port;
	out->remote_ptime = m->ptime;
	out->rtcp_mux = m->rtcp_mux && l->rtcp_mux;
	out->remote_dir = sdp_media_dir(s, idx);
	out->local_dir = sdp_dir_answer(out->remote_dir, l->dir);
	out->remote_hold = !sdp_dir_recvs(out->remote_dir);
	return 0;
}

static void reset_result(struct sdp_result *out)
{
	memset(out, 0, sizeof(*out));
	out->te_pt = -1;
}

int sdp_negotiate_answer(const struct sdp_session *offer, const struct sdp_local *l,
			 struct sdp_result *out)
{
	reset_result(out);
	for (size_t i = 0; i < offer->n_media; i++) {
		const struct sdp_media *m = &offer->media[i];
		if (m->port == 0 || !is_audio_rtp(m))
			continue;
		/* SRTP per the local mode: RTP/SAVP needs a=crypto we can use; plain RTP is
		 * refused when SRTP is required */
		if (is_savp(m->proto) ? l->srtp == SDP_SRTP_DISABLE || !l->crypto_key.len
				      : l->srtp == SDP_SRTP_REQUIRE)
			continue;
		int fi = pick_codec(m, l);
		if (fi < 0)
			continue;
		struct sdp_result crypto;
		reset_result(&crypto);
		if (is_savp(m->proto) && !pick_crypto(m, -1, &crypto))
			continue;
		int err = fill_result(offer, i, fi, l, l->telephone_event, out);
		if (err) {
			reset_result(out);
			return err;
		}
		out->crypto_suite = crypto.crypto_suite;
		out->crypto_tag = crypto.crypto_tag;
		memcpy(out->remote_crypto_key, crypto.remote_crypto_key,
		       sizeof(out->remote_crypto_key));
		return 0;
	}
	return SB_ENOTFOUND;
}

static void print_head(struct sb_buf *b, const struct sdp_local *l, const char *at)
{
	struct sb_slice user = l->username.len ? l->username : SB_SLICE_LIT("-");
	struct sb_slice name = l->session_name.len ? l->session_name : SB_SLICE_LIT("-");
	sb_buf_printf(b,
		      "v=0\r\n"
		      "o=" SB_SLICE_FMT " %llu %llu IN %s " SB_SLICE_FMT "\r\n"
		      "s=" SB_SLICE_FMT "\r\n"
		      "c=IN %s " SB_SLICE_FMT "\r\n"
		      "t=0 0\r\n",
		      SB_SLICE_ARG(user), (unsigned long long)l->sess_id,
		      (unsigned long long)l->sess_version, at, SB_SLICE_ARG(l->origin_addr),
		      SB_SLICE_ARG(name), at, SB_SLICE_ARG(l->conn_addr));
}

static void print_rtpmap(struct sb_buf *b, unsigned pt, enum sdp_codec c)
{
	const struct sdp_codec_info *ci = sdp_codec_info(c);
	sb_buf_printf(b, "a=rtpmap:%u %s/%lu", pt, ci->name, (unsigned long)ci->rate);
	if (ci->channels > 1)
		sb_buf_printf(b, "/%u", (unsigned)ci->channels);
	sb_buf_append_cstr(b, "\r\n");
	if (ci->fmtp)
		sb_buf_printf(b, "a=fmtp:%u %s\r\n", pt, ci->fmtp);
}

static void print_crypto(struct sb_buf *b, unsigned tag, enum sdp_crypto_suite suite,
			 struct sb_slice key)
{
	sb_buf_printf(b, "a=crypto:%u %s " SB_SLICE_FMT "\r\n", tag, sdp_crypto_suite_name(suite),
		      SB_SLICE_ARG(key));
}

static void print_tail(struct sb_buf *b, const struct sdp_local *l, bool mux, enum sdp_dir dir)
{
	if (l->ptime)
		sb_buf_printf(b, "a=ptime:%lu\r\n", (unsigned long)l->ptime);
	if (mux)
		sb_buf_append_cstr(b, "a=rtcp-mux\r\n");
	sb_buf_printf(b, "a=%s\r\n", sdp_dir_name(dir));
}

/* Addresses come from config; refuse ones that would break the SDP line structure. */
static bool safe_text(struct sb_slice s, bool allow_empty)
{
	if (s.len == 0)
		return allow_empty;
	for (size_t i = 0; i < s.len; i++)
		if ((unsigned char)s.p[i] <= ' ' || s.p[i] == 0x7f)
			return false;
	return true;
}

static const char *check_local(const struct sdp_local *l)
{
	if (!safe_text(l->origin_addr, false) || !safe_text(l->conn_addr, false) ||
	    !safe_text(l->username, true))
		return NULL;
	for (size_t i = 0; i < l->session_name.len; i++)
		if (l->session_name.p[i] == '\r' || l->session_name.p[i] == '\n' ||
		    l->session_name.p[i] == '\0')
			return NULL;
	return sdp__addrtype_name(l->addrtype);
}

int sdp_make_offer(struct sb_buf *b, const struct sdp_local *l)
{
	const char *at = check_local(l);
	if (!at || l->te_pt > 127)
		return SB_EINVAL;
	enum sdp_codec list[SDP_MAX_LOCAL_CODECS];
	size_t n = 0;
	size_t nc = l->n_codecs < SDP_MAX_LOCAL_CODECS ? l->n_codecs : SDP_MAX_LOCAL_CODECS;
	for (size_t i = 0; i < nc; i++) {
		const struct sdp_codec_info *ci = sdp_codec_info(l->codecs[i]);
		if (!ci || !ci->primary)
			continue;
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup = dup || sdp_codec_info(list[j])->pt == ci->pt;
		if (dup)
			continue;
		if (l->telephone_event && ci->pt == l->te_pt)
			return SB_EINVAL;
		list[n++] = l->codecs[i];
	}
	if (n == 0)
		return SB_EINVAL;
	bool srtp = l->srtp == SDP_SRTP_REQUIRE;
	if (srtp && !safe_text(l->crypto_key, false))
		return SB_EINVAL;
	print_head(b, l, at);
	sb_buf_printf(b, "m=audio %u %s", (unsigned)l->rtp_port, srtp ? "RTP/SAVP" : "RTP/AVP");
	for (size_t i = 0; i < n; i++)
		sb_buf_printf(b, " %u", (unsigned)sdp_codec_info(list[i])->pt);
	if (l->telephone_event)
		sb_buf_printf(b, " %u", (unsigned)l->te_pt);
	sb_buf_append_cstr(b, "\r\n");
	for (size_t i = 0; i < n; i++)
		print_rtpmap(b, sdp_codec_info(list[i])->pt, list[i]);
	if (l->telephone_event)
		print_rtpmap(b, l->te_pt, SDP_CODEC_TELEPHONE_EVENT);
	if (srtp) {
		print_crypto(b, 1, SDP_CRYPTO_AES_CM_128_HMAC_SHA1_80, l->crypto_key);
		print_crypto(b, 2, SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32, l->crypto_key);
	}
	print_tail(b, l, l->rtcp_mux, l->dir);
	return b->err;
}

int sdp_make_answer(struct sb_buf *b, const struct sdp_local *l, const struct sdp_session *offer,
		    const struct sdp_result *r)
{
	const char *at = check_local(l);
	if (!at || r->media_idx >= offer->n_media || !sdp_codec_info(r->codec) || r->pt > 127 ||
	    r->te_pt > 127 ||
	    (r->crypto_suite != SDP_CRYPTO_NONE && !safe_text(l->crypto_key, false)))
		return SB_EINVAL;
	print_head(b, l, at);
	for (size_t i = 0; i < offer->n_media; i++) {
		const struct sdp_media *m = &offer->media[i];
		if (i != r->media_idx) {
			/* RFC 3264 §6: same number of m= lines, rejected ones with port 0 */
			sb_buf_printf(b,
				      "m=" SB_SLICE_FMT " 0 " SB_SLICE_FMT " " SB_SLICE_FMT "\r\n",
				      SB_SLICE_ARG(m->type), SB_SLICE_ARG(m->proto_str),
				      SB_SLICE_ARG(m->fmts_raw));
			continue;
		}
		sb_buf_printf(b, "m=" SB_SLICE_FMT " %u " SB_SLICE_FMT " %u", SB_SLICE_ARG(m->type),
			      (unsigned)l->rtp_port, SB_SLICE_ARG(m->proto_str), (unsigned)r->pt);
		if (r->te_pt >= 0)
			sb_buf_printf(b, " %d", (int)r->te_pt);
		sb_buf_append_cstr(b, "\r\n");
		print_rtpmap(b, r->pt, r->codec);
		if (r->te_pt >= 0)
			print_rtpmap(b, (unsigned)r->te_pt, SDP_CODEC_TELEPHONE_EVENT);
		if (r->crypto_suite != SDP_CRYPTO_NONE)
			print_crypto(b, r->crypto_tag, r->crypto_suite, l->crypto_key);
		print_tail(b, l, r->rtcp_mux, r->local_dir);
	}
	return b->err;
}

int sdp_process_answer(const struct sdp_session *answer, const struct sdp_local *our_offer,
		       struct sdp_result *out)
{
	reset_result(out);
	/* sdp_make_offer() sends exactly one m=audio RTP/AVP (or RTP/SAVP) line */
	if (answer->n_media != 1)
		return SB_EMALFORMED;
	const struct sdp_media *m = &answer->media[0];
	if (!sb_slice_eq_cstr_nocase(m->type, "audio"))
		return SB_EMALFORMED;
	if (m->port == 0)
		return SB_ENOTFOUND;
	bool srtp = our_offer->srtp == SDP_SRTP_REQUIRE;
	if (m->proto != (srtp ? SDP_PROTO_RTP_SAVP : SDP_PROTO_RTP_AVP))
		return SB_EMALFORMED;
	int fi = pick_codec(m, our_offer);
	if (fi < 0)
		return SB_EMALFORMED;
	struct sdp_result crypto;
	reset_result(&crypto);
	/* the answer picks one of our two lines by its tag, with the same suite */
	if (srtp &&
	    !(pick_crypto(m, 1, &crypto) &&
	      crypto.crypto_suite == SDP_CRYPTO_AES_CM_128_HMAC_SHA1_80) &&
	    !(pick_crypto(m, 2, &crypto) &&
	      crypto.crypto_suite == SDP_CRYPTO_AES_CM_128_HMAC_SHA1_32))
		return SB_EMALFORMED;
	int err = fill_result(answer, 0, fi, our_offer, our_offer->telephone_event, out);
	if (err) {
		reset_result(out);
		return err;
	}
	out->crypto_suite = crypto.crypto_suite;
	out->crypto_tag = crypto.crypto_tag;
	memcpy(out->remote_crypto_key, crypto.remote_crypto_key, sizeof(out->remote_crypto_key));
	return 0;
}
