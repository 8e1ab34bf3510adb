/* Response printer: copies the transaction headers of a parsed request into a growable buffer,
 * stamps the top Via (received/rport), and owns the reason-phrase table from SIP_STATUS_MAP. */
#include "sip/build.h"

#include <string.h>

#include "base/err.h"
#include "sip/msg_int.h"

/* Lives here rather than in hdr.c so that a program linking only the parser does not define
 * it (sofia-sip exports a function of the same name; see bench/parser_others.c). */
const char *sip_method_name(enum sip_method m)
{
	if ((int)m <= 0 || m >= SIP_METHOD__COUNT)
		return "";
	return sip__method_names[m];
}

const char *sip_reason_phrase(int code)
{
	switch (code) {
#define STATUS_CASE(c, phrase)                                                                     \
	case c:                                                                                    \
		return phrase;
		SIP_STATUS_MAP(STATUS_CASE)
#undef STATUS_CASE
	default:
		break;
	}
	static const char *const cls[] = {"Unknown Provisional",  "Unknown Success",
					  "Unknown Redirection",  "Unknown Client Error",
					  "Unknown Server Error", "Unknown Global Failure"};
	if (code >= 100 && code <= 699)
		return cls[code / 100 - 1];
	return "Unknown";
}

/* A CR/LF run followed by SP/HTAB is a fold: dropped, the whitespace stays. The parser also takes
 * a bare CR/LF as LWS, so any other run becomes one SP (keeps "1\rINVITE" a valid CSeq). */
void sip_build_append_unfolded(struct sb_buf *b, struct sb_slice v)
{
	size_t i = 0;
	while (i < v.len) {
		size_t j = i;
		while (j < v.len && v.p[j] != '\r' && v.p[j] != '\n')
			j++;
		sb_buf_append(b, v.p + i, j - i);
		if (j == v.len)
			break;
		size_t k = j;
		while (k < v.len && (v.p[k] == '\r' || v.p[k] == '\n'))
			k++;
		if (j > 0 && k < v.len && v.p[k] != ' ' && v.p[k] != '\t')
			sb_buf_append_char(b, ' ');
		i = k;
	}
}

static void append_hdr(struct sb_buf *b, const char *name, struct sb_slice v)
{
	sb_buf_append_cstr(b, name);
	sb_buf_append(b, ": ", 2);
	sip_build_append_unfolded(b, v);
	sb_buf_append(b, "\r\n", 2);
}

/* Top via-parm rewritten: sent-protocol and sent-by as received, params without received/rport,
 * then ;received= and ;rport=. */
static void stamp_top_via(struct sb_buf *b, const struct sip_via *v, struct sb_slice src_ip,
			  struct sb_slice src_port)
{
	struct sb_slice head = sb_slice(v->raw.p, (size_t)(v->params.p - v->raw.p));
	while (head.len && sip__ws(head.p[head.len - 1]))
		head.len--;
	sip_build_append_unfolded(b, head);
	size_t pos = 0;
	struct sb_slice n, val;
	while (sip__param_next(v->params, &pos, &n, &val)) {
		if (SIP__EQ(n, "received") || SIP__EQ(n, "rport"))
			continue;
		sb_buf_append_char(b, ';');
		sb_buf_append_slice(b, n);
		if (val.len) {
			sb_buf_append_char(b, '=');
			sip_build_append_unfolded(b, val);
		}
	}
	bool same_host = sb_slice_eq_nocase(v->host, src_ip);
	if (src_ip.len && (!same_host || v->rport)) {
		sb_buf_append_cstr(b, ";received=");
		sb_buf_append_slice(b, src_ip);
	}
	if (v->rport) {
		sb_buf_append_cstr(b, ";rport");
		if (src_port.len) {
			sb_buf_append_char(b, '=');
			sb_buf_append_slice(b, src_port);
		} else if (v->rport_value) {
			sb_buf_append_char(b, '=');
			sb_buf_append_u64(b, v->rport_value);
		}
	}
}

void sip_build_response_via(struct sb_buf *b, const struct sip_msg *req, struct sb_slice src_ip,
			    struct sb_slice src_port)
{
	bool first = true;
	for (size_t i = 0; i < req->nhdrs; i++) {
		const struct sip_hdr *h = &req->hdrs[i];
		if (h->id != SIP_HDR_VIA)
			continue;
		bool stamp = first && src_ip.len && req->via.raw.p &&
			     req->via.raw.p >= h->value.p &&
			     req->via.raw.p + req->via.raw.len <= h->value.p + h->value.len;
		first = false;
		if (!stamp) {
			append_hdr(b, "Via", h->value);
			continue;
		}
		sb_buf_append_cstr(b, "Via: ");
		struct sb_slice pre = sb_slice(h->value.p, (size_t)(req->via.raw.p - h->value.p));
		sip_build_append_unfolded(b, pre);
		stamp_top_via(b, &req->via, src_ip, src_port);
		const char *after = req->via.raw.p + req->via.raw.len;
		sip_build_append_unfolded(
		    b, sb_slice(after, (size_t)(h->value.p + h->value.len - after)));
		sb_buf_append(b, "\r\n", 2);
	}
}

int sip_build_response(struct sb_buf *b, const struct sip_msg *req, int status, const char *reason,
		       struct sb_slice to_tag, struct sb_slice extra_headers,
		       struct sb_slice content_type, struct sb_slice body)
{
	if (status < 100 || status > 699)
		return SB_EINVAL;
	if (!reason)
		reason = sip_reason_phrase(status);
	sb_buf_append(b, "SIP/2.0 ", 8);
	sb_buf_append_u64(b, (unsigned)status);
	sb_buf_append_char(b, ' ');
	sb_buf_append_cstr(b, reason);
	sb_buf_append(b, "\r\n", 2);

	sip_build_response_via(b, req, req->src_ip, req->src_port);

	const struct sip_hdr *h;
	if ((h = sip_msg_hdr(req, SIP_HDR_FROM)) != NULL)
		append_hdr(b, "From", h->value);
	if ((h = sip_msg_hdr(req, SIP_HDR_TO)) != NULL) {
		sb_buf_append_cstr(b, "To: ");
		sip_build_append_unfolded(b, h->value);
		if (status > 100 && to_tag.len && req->to.tag.len == 0 &&
		    !sip_param_get(req->to.params, "tag", NULL)) {
			sb_buf_append_cstr(b, ";tag=");
			sb_buf_append_slice(b, to_tag);
		}
		sb_buf_append(b, "\r\n", 2);
	}
	if ((h = sip_msg_hdr(req, SIP_HDR_CALL_ID)) != NULL)
		append_hdr(b, "Call-ID", h->value);
	if ((h = sip_msg_hdr(req, SIP_HDR_CSEQ)) != NULL)
		append_hdr(b, "CSeq", h->value);
	if ((h = sip_msg_hdr(req, SIP_HDR_TIMESTAMP)) != NULL && status == 100)
		append_hdr(b, "Timestamp", h->value); /* RFC 3261 §8.2.6.1 */
	sb_buf_append_slice(b, extra_headers);
	if (body.len && content_type.len)
		append_hdr(b, "Content-Type", content_type);
	sb_buf_append_cstr(b, "Content-Length: ");
	sb_buf_append_u64(b, body.len);
	sb_buf_append(b, "\r\n\r\n", 4);
	sb_buf_append_slice(b, body);
	return b->err;
}
