/* libFuzzer harness for SIP/SIPS/tel URIs: parse, unescape, print and re-parse (the printed
 * form must parse to an equal URI), tel → sip mapping; also name-addr and Via on the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sip/msg.h"
#include "sip/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	struct sb_slice in = sb_slice(buf, size);
	struct sip_uri u;
	if (sip_uri_parse(in, &u) == 0) {
		char tmp[256];
		(void)sip_unescape(u.user, tmp, sizeof(tmp));
		(void)sip_unescape(u.password, tmp, sizeof(tmp));
		if (!sip_uri_equal(&u, &u))
			abort();
		struct sb_buf b;
		sb_buf_init(&b, NULL, 0);
		sip_uri_print(&b, &u);
		struct sip_uri v;
		if (b.err == 0) {
			if (sip_uri_parse(sb_buf_slice(&b), &v) != 0)
				abort();
			if (u.headers.len == 0 && !sip_uri_equal(&u, &v))
				abort();
		}
		if (u.scheme == SIP_URI_TEL) {
			sb_buf_reset(&b);
			sip_uri_tel_to_sip(&b, &u, SB_SLICE_LIT("gw.example.com"), 5060);
			if (b.err == 0 && sip_uri_parse(sb_buf_slice(&b), &v) != 0)
				abort();
		}
		sb_buf_free(&b);
	}
	struct sip_name_addr na;
	struct sip_via via;
	struct sip_cseq cs;
	struct sb_slice pv;
	(void)sip_name_addr_parse(in, &na);
	(void)sip_via_parse(in, &via);
	(void)sip_cseq_parse(in, &cs);
	(void)sip_param_get(in, "tag", &pv);
	free(buf);
	return 0;
}
