/* Golden offer -> answer checker (rtpengine style): each case file holds local config, an
 * offer and the expected answer (or error) plus a result summary. SB_GOLDEN_UPDATE=1 rewrites.
 *
 * Case file sections, each started by a line "[name]":
 *   [local]   key=value lines (see apply_local); defaults from sdp_local_init()
 *   [offer]   the offer; LF line ends are sent as CRLF unless [local] has lf=1
 *   [answer]  expected answer (LF in the file, CRLF compared), or
 *   [error]   expected error name (NOTFOUND -> the SIP layer answers 488)
 *   [result]  expected summary of struct sdp_result
 * Lines before the first section starting with '#' are comments and are kept on update. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "sdp/sdp.h"

struct section {
	const char *name;
	struct sb_slice text;
	bool present;
};

enum { SEC_LOCAL, SEC_OFFER, SEC_ANSWER, SEC_ERROR, SEC_RESULT, SEC__COUNT };

static const char *sec_names[SEC__COUNT] = {"local", "offer", "answer", "error", "result"};

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct sb_buf b;
	sb_buf_init(&b, NULL, 0);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sb_buf_append(&b, chunk, n);
	fclose(f);
	if (b.err || !b.p) {
		sb_buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.p; /* heap: allocated by sb_buf without caller storage */
}

/* Split the file into sections; the comment header is returned in *head. */
static int split(struct sb_slice file, struct section *secs, struct sb_slice *head)
{
	struct section *cur = NULL;
	size_t pos = 0;
	*head = sb_slice(file.p, 0);
	while (pos < file.len) {
		size_t end = pos;
		while (end < file.len && file.p[end] != '\n')
			end++;
		struct sb_slice line = sb_slice(file.p + pos, end - pos);
		size_t next = end < file.len ? end + 1 : end;
		if (line.len > 2 && line.p[0] == '[' && line.p[line.len - 1] == ']') {
			struct sb_slice name = sb_slice(line.p + 1, line.len - 2);
			cur = NULL;
			for (int i = 0; i < SEC__COUNT; i++)
				if (sb_slice_eq_cstr(name, sec_names[i]))
					cur = &secs[i];
			if (!cur) {
				fprintf(stderr, "unknown section " SB_SLICE_FMT "\n",
					SB_SLICE_ARG(name));
				return -1;
			}
			cur->present = true;
			cur->text = sb_slice(file.p + next, 0);
		} else if (cur) {
			cur->text.len = next - (size_t)(cur->text.p - file.p);
		} else {
			head->len = next;
		}
		pos = next;
	}
	return 0;
}

static void to_crlf(struct sb_buf *out, struct sb_slice in)
{
	for (size_t i = 0; i < in.len; i++) {
		if (in.p[i] == '\n' && (i == 0 || in.p[i - 1] != '\r'))
			sb_buf_append_char(out, '\r');
		sb_buf_append_char(out, in.p[i]);
	}
}

static void to_lf(struct sb_buf *out, struct sb_slice in)
{
	for (size_t i = 0; i < in.len; i++)
		if (!(in.p[i] == '\r' && i + 1 < in.len && in.p[i + 1] == '\n'))
			sb_buf_append_char(out, in.p[i]);
}

static bool parse_dir(struct sb_slice v, enum sdp_dir *d)
{
	static const enum sdp_dir all[] = {SDP_SENDRECV, SDP_SENDONLY, SDP_RECVONLY, SDP_INACTIVE};
	for (size_t i = 0; i < 4; i++)
		if (sb_slice_eq_cstr(v, sdp_dir_name(all[i]))) {
			*d = all[i];
			return true;
		}
	return false;
}

static bool parse_codec(struct sb_slice v, enum sdp_codec *c)
{
	for (int i = SDP_CODEC_NONE + 1; i < SDP_CODEC__COUNT; i++)
		if (sb_slice_eq_cstr_nocase(v, sdp_codec_info((enum sdp_codec)i)->name)) {
			*c = (enum sdp_codec)i;
			return true;
		}
	return false;
}

static int apply_local(struct sdp_local *l, struct sb_slice text, bool *lf)
{
	size_t pos = 0;
	while (pos < text.len) {
		size_t end = pos;
		while (end < text.len && text.p[end] != '\n')
			end++;
		struct sb_slice line = sb_slice_trim(sb_slice(text.p + pos, end - pos));
		pos = end + 1;
		if (line.len == 0 || line.p[0] == '#')
			continue;
		ptrdiff_t eq = sb_slice_find(line, '=');
		if (eq <= 0)
			return -1;
		struct sb_slice k = sb_slice(line.p, (size_t)eq);
		struct sb_slice v = sb_slice(line.p + eq + 1, line.len - (size_t)eq - 1);
		uint64_t n = 0;
		bool num = sb_slice_to_u64(v, UINT64_MAX, &n) == 0;
		if (sb_slice_eq_cstr(k, "sess_id") && num)
			l->sess_id = n;
		else if (sb_slice_eq_cstr(k, "sess_version") && num)
			l->sess_version = n;
		else if (sb_slice_eq_cstr(k, "username"))
			l->username = v;
		else if (sb_slice_eq_cstr(k, "session_name"))
			l->session_name = v;
		else if (sb_slice_eq_cstr(k, "addrtype"))
			l->addrtype = sb_slice_eq_cstr(v, "IP6") ? SDP_ADDR_IP6 : SDP_ADDR_IP4;
		else if (sb_slice_eq_cstr(k, "origin"))
			l->origin_addr = v;
		else if (sb_slice_eq_cstr(k, "conn"))
			l->conn_addr = v;
		else if (sb_slice_eq_cstr(k, "port") && num && n <= 65535)
			l->rtp_port = (uint16_t)n;
		else if (sb_slice_eq_cstr(k, "telephone_event") && num)
			l->telephone_event = n != 0;
		else if (sb_slice_eq_cstr(k, "te_pt") && num && n <= 127)
			l->te_pt = (uint8_t)n;
		else if (sb_slice_eq_cstr(k, "rtcp_mux") && num)
			l->rtcp_mux = n != 0;
		else if (sb_slice_eq_cstr(k, "ptime") && num && n <= 1000)
			l->ptime = (uint32_t)n;
		else if (sb_slice_eq_cstr(k, "lf") && num)
			*lf = n != 0;
		else if (sb_slice_eq_cstr(k, "dir")) {
			if (!parse_dir(v, &l->dir))
				return -1;
		} else if (sb_slice_eq_cstr(k, "codecs")) {
			l->n_codecs = 0;
			while (v.len) {
				ptrdiff_t c = sb_slice_find(v, ',');
				size_t tl = c >= 0 ? (size_t)c : v.len;
				if (l->n_codecs == SDP_MAX_LOCAL_CODECS ||
				    !parse_codec(sb_slice(v.p, tl), &l->codecs[l->n_codecs]))
					return -1;
				l->n_codecs++;
				v = sb_slice_sub(v, c >= 0 ? tl + 1 : tl, SIZE_MAX);
			}
		} else {
			fprintf(stderr, "bad [local] line: " SB_SLICE_FMT "\n", SB_SLICE_ARG(line));
			return -1;
		}
	}
	return 0;
}

static void print_result(struct sb_buf *b, const struct sdp_result *r)
{
	sb_buf_printf(b, "media_idx=%u n_media=%u\n", (unsigned)r->media_idx, (unsigned)r->n_media);
	sb_buf_printf(b, "codec=%s pt=%u te_pt=%d\n", sdp_codec_info(r->codec)->name,
		      (unsigned)r->pt, (int)r->te_pt);
	sb_buf_printf(b, "remote=%s %s port=%u rtcp_port=%u ptime=%lu rtcp_mux=%d\n",
		      r->remote_addrtype == SDP_ADDR_IP6 ? "IP6" : "IP4", r->remote_addr,
		      (unsigned)r->remote_port, (unsigned)r->remote_rtcp_port,
		      (unsigned long)r->remote_ptime, (int)r->rtcp_mux);
	sb_buf_printf(b, "remote_dir=%s local_dir=%s hold=%d\n", sdp_dir_name(r->remote_dir),
		      sdp_dir_name(r->local_dir), (int)r->remote_hold);
}

static bool same(struct sb_slice a, struct sb_slice b)
{
	return sb_slice_eq(sb_slice_trim(a), sb_slice_trim(b));
}

static int run_case(const char *path, bool update)
{
	size_t flen;
	char *file = read_file(path, &flen);
	if (!file) {
		fprintf(stderr, "%s: cannot read\n", path);
		return 1;
	}
	int rc = 1;
	struct section secs[SEC__COUNT] = {{0}};
	struct sb_slice head;
	struct sb_buf offer_text, answer, expect, result;
	sb_buf_init(&offer_text, NULL, 0);
	sb_buf_init(&answer, NULL, 0);
	sb_buf_init(&expect, NULL, 0);
	sb_buf_init(&result, NULL, 0);
	if (split(sb_slice(file, flen), secs, &head) || !secs[SEC_OFFER].present) {
		fprintf(stderr, "%s: bad case file\n", path);
		goto out;
	}
	struct sdp_local l;
	sdp_local_init(&l);
	l.sess_id = 1000;
	l.sess_version = 1;
	l.origin_addr = SB_SLICE_LIT("192.0.2.10");
	l.conn_addr = SB_SLICE_LIT("192.0.2.10");
	l.rtp_port = 30000;
	bool lf = false;
	if (secs[SEC_LOCAL].present && apply_local(&l, secs[SEC_LOCAL].text, &lf)) {
		fprintf(stderr, "%s: bad [local]\n", path);
		goto out;
	}
	if (lf)
		sb_buf_append_slice(&offer_text, secs[SEC_OFFER].text);
	else
		to_crlf(&offer_text, secs[SEC_OFFER].text);

	struct sdp_session offer;
	struct sdp_result r;
	int err = sdp_parse(&offer, sb_buf_slice(&offer_text));
	if (!err)
		err = sdp_negotiate_answer(&offer, &l, &r);
	if (!err)
		err = sdp_make_answer(&answer, &l, &offer, &r);
	if (!err) {
		print_result(&result, &r);
		/* our answer must itself be valid SDP with as many m= lines as the offer */
		struct sdp_session a;
		if (sdp_parse(&a, sb_buf_slice(&answer)) || a.n_media != offer.n_media) {
			fprintf(stderr, "%s: answer does not re-parse\n", path);
			goto out;
		}
	}

	struct sb_buf lfans;
	sb_buf_init(&lfans, NULL, 0);
	to_lf(&lfans, sb_buf_slice(&answer));
	if (update) {
		FILE *f = fopen(path, "wb");
		if (!f)
			goto out_lf;
		fwrite(head.p, 1, head.len, f);
		fprintf(f, "[local]\n" SB_SLICE_FMT, SB_SLICE_ARG(secs[SEC_LOCAL].text));
		fprintf(f, "[offer]\n" SB_SLICE_FMT, SB_SLICE_ARG(secs[SEC_OFFER].text));
		if (err) {
			fprintf(f, "[error]\n%s\n", sb_err_name(err));
		} else {
			fprintf(f, "[answer]\n%.*s", (int)lfans.len, lfans.p ? lfans.p : "");
			fprintf(f, "[result]\n%.*s", (int)result.len, result.p);
		}
		fclose(f);
		rc = 0;
		goto out_lf;
	}
	if (err) {
		if (!secs[SEC_ERROR].present ||
		    !same(secs[SEC_ERROR].text, sb_slice_cstr(sb_err_name(err)))) {
			fprintf(stderr, "%s: unexpected error %s\n", path, sb_err_name(err));
			goto out_lf;
		}
	} else {
		if (!secs[SEC_ANSWER].present || !secs[SEC_RESULT].present) {
			fprintf(stderr, "%s: expected error, got an answer:\n%.*s", path,
				(int)lfans.len, lfans.p);
			goto out_lf;
		}
		to_crlf(&expect, secs[SEC_ANSWER].text);
		if (!sb_slice_eq(sb_buf_slice(&expect), sb_buf_slice(&answer))) {
			fprintf(stderr, "%s: answer differs; got:\n%.*s", path, (int)lfans.len,
				lfans.p);
			goto out_lf;
		}
		if (!same(secs[SEC_RESULT].text, sb_buf_slice(&result))) {
			fprintf(stderr, "%s: result differs; got:\n%.*s", path, (int)result.len,
				result.p);
			goto out_lf;
		}
	}
	rc = 0;
out_lf:
	sb_buf_free(&lfans);
out:
	sb_buf_free(&offer_text);
	sb_buf_free(&answer);
	sb_buf_free(&expect);
	sb_buf_free(&result);
	free(file);
	return rc;
}

int main(int argc, char **argv)
{
	const char *u = getenv("SB_GOLDEN_UPDATE");
	bool update = u && strcmp(u, "1") == 0;
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		int one = run_case(argv[i], update);
		printf("%s %s\n", one ? "FAIL" : "ok  ", argv[i]);
		rc |= one;
	}
	return rc;
}
