/* libFuzzer harness for the SIP message parser: parse (datagram and stream), walk every header
 * value through the header-body parsers, run the UAS checks, build a response and re-parse it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "sip/build.h"
#include "sip/check.h"
#include "sip/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum sip_method methods[] = {SIP_METHOD_INVITE, SIP_METHOD_ACK, SIP_METHOD_BYE,
					  SIP_METHOD_CANCEL, SIP_METHOD_OPTIONS};
static const char *const tags[] = {"timer", "100rel"};
static const char *const types[] = {"application/sdp", "multipart/mixed"};

static struct sip_msg m, rsp;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy so reads past the end are caught even when data is larger */
	char *buf = calloc(1, size ? size : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);

	(void)sip_msg_parse(&m, buf, size, SIP_PARSE_STREAM);
	int n = sip_msg_parse(&m, buf, size, SIP_PARSE_DATAGRAM);
	if (n > 0) {
		if ((size_t)n > size)
			abort();
		for (int id = 1; id < SIP_HDR__COUNT; id++) {
			struct sip_hdr_iter it;
			struct sb_slice v;
			sip_hdr_iter_init(&it);
			while (sip_hdr_next_value(&m, (enum sip_hdr_id)id, &it, &v)) {
				struct sip_name_addr na;
				struct sip_via via;
				struct sb_slice pv;
				if (v.p < buf || v.p + v.len > buf + size)
					abort();
				if (id == SIP_HDR_VIA)
					(void)sip_via_parse(v, &via);
				else
					(void)sip_name_addr_parse(v, &na);
				(void)sip_param_get(v, "tag", &pv);
			}
		}
		(void)sip_msg_hdr_by_name(&m, "X-Foo");
		struct sb_buf b;
		sb_buf_init(&b, NULL, 0);
		if (m.is_request) {
			struct sip_check_policy pol = {
			    .methods = methods,
			    .n_methods = 5,
			    .supported = tags,
			    .n_supported = 2,
			    .accept = types,
			    .n_accept = 2,
			    .flags = SIP_CHECK_STRICT_BRANCH,
			};
			struct sip_check_result res;
			int st = sip_check_request(&m, &pol, &res);
			m.src_ip = SB_SLICE_LIT("192.0.2.99");
			m.src_port = SB_SLICE_LIT("5099");
			if (sip_build_response(&b, &m, st ? st : 200, NULL, SB_SLICE_LIT("fuzztag"),
					       sb_slice_cstr(res.extra_header),
					       SB_SLICE_LIT("text/plain"),
					       SB_SLICE_LIT("x")) == 0) {
				/* a response built from a request we accepted must parse */
				if (sip_msg_parse(&rsp, b.p, b.len, SIP_PARSE_STREAM) != (int)b.len)
					abort();
				if (sip_check_response(&rsp) != 0 &&
				    sip_hdr_count_values(&m, SIP_HDR_VIA) == 1)
					abort();
			}
		} else {
			(void)sip_check_response(&m);
		}
		sb_buf_free(&b);
	}
	free(buf);
	return 0;
}
