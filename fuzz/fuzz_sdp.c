/* libFuzzer harness for src/sdp/: parse, re-print and re-parse, negotiate, answer, check answers.
 * Aborts on broken invariants (a printed session or our own answer that does not re-parse). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sdp/sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void local_cfg(struct sdp_local *l, unsigned variant)
{
	sdp_local_init(l);
	l->sess_id = 1;
	l->sess_version = 2;
	l->origin_addr = SB_SLICE_LIT("192.0.2.1");
	l->conn_addr = SB_SLICE_LIT("192.0.2.1");
	l->rtp_port = 40000;
	if (variant & 1) {
		l->codecs[0] = SDP_CODEC_PCMA;
		l->n_codecs = 1;
		l->telephone_event = false;
	}
	if (variant & 2) {
		l->rtcp_mux = true;
		l->dir = SDP_SENDONLY;
	}
	if (variant & 4) {
		l->srtp = (variant & 1) ? SDP_SRTP_REQUIRE : SDP_SRTP_ALLOW;
		l->crypto_key = SB_SLICE_LIT("inline:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk");
		l->codecs[1] = SDP_CODEC_OPUS;
		l->codecs[2] = SDP_CODEC_G722;
		l->n_codecs = 3;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the copy makes ASan catch any read past the slice */
	char *body = malloc(size ? size : 1);
	if (!body)
		return 0;
	if (size)
		memcpy(body, data, size);
	struct sdp_session s, s2, a;
	struct sb_buf p1, p2, ans;
	sb_buf_init(&p1, NULL, 0);
	sb_buf_init(&p2, NULL, 0);
	sb_buf_init(&ans, NULL, 0);
	if (sdp_parse(&s, sb_slice(body, size)) != 0)
		goto out;

	if (sdp_print(&p1, &s) == 0) {
		if (sdp_parse(&s2, sb_buf_slice(&p1)) != 0)
			abort();
		if (sdp_print(&p2, &s2) != 0 || p1.len != p2.len || memcmp(p1.p, p2.p, p1.len) != 0)
			abort();
	}
	for (size_t i = 0; i <= s.n_media; i++)
		(void)sdp_media_dir(&s, i);

	for (unsigned v = 0; v < 8; v++) {
		struct sdp_local l;
		struct sdp_result r;
		local_cfg(&l, v);
		if (sdp_negotiate_answer(&s, &l, &r) == 0) {
			sb_buf_reset(&ans);
			if (sdp_make_answer(&ans, &l, &s, &r) != 0)
				abort();
			if (sdp_parse(&a, sb_buf_slice(&ans)) != 0 || a.n_media != s.n_media)
				abort();
		}
		(void)sdp_process_answer(&s, &l, &r);
	}
out:
	sb_buf_free(&p1);
	sb_buf_free(&p2);
	sb_buf_free(&ans);
	free(body);
	return 0;
}
