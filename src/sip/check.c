/* The UAS's stateless checks of RFC 3261 §8.2 (method, headers, URI scheme, extensions, content)
 * and the §8.1.3.3 response sanity checks; pure functions of the parsed message and a policy. */
#include "sip/check.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "sip/msg_int.h"

static int reject(struct sip_check_result *out, int status, const char *reason)
{
	out->status = status;
	out->reason = reason;
	return status;
}

/* Append to the fixed extra_header buffer; false when it does not fit (nothing written). */
static bool extra_add(struct sip_check_result *out, size_t *len, const char *p, size_t n)
{
	if (*len + n + 3 > sizeof(out->extra_header)) /* room for "\r\n" and NUL */
		return false;
	memcpy(out->extra_header + *len, p, n);
	*len += n;
	out->extra_header[*len] = '\0';
	return true;
}

static void extra_finish(struct sip_check_result *out, size_t len)
{
	memcpy(out->extra_header + len, "\r\n", 3);
}

static void extra_simple(struct sip_check_result *out, enum sip_check_extra kind, const char *name,
			 const char *value)
{
	size_t len = 0;
	out->extra = kind;
	extra_add(out, &len, name, strlen(name));
	extra_add(out, &len, ": ", 2);
	extra_add(out, &len, value, strlen(value));
	extra_finish(out, len);
}

static bool method_allowed(const struct sip_check_policy *p, enum sip_method m)
{
	for (size_t i = 0; i < p->n_methods; i++)
		if (p->methods[i] == m)
			return true;
	return false;
}

static void extra_allow(struct sip_check_result *out, const struct sip_check_policy *p)
{
	if (p->allow) {
		extra_simple(out, SIP_CHECK_EXTRA_ALLOW, "Allow", p->allow);
		return;
	}
	size_t len = 0;
	out->extra = SIP_CHECK_EXTRA_ALLOW;
	extra_add(out, &len, "Allow: ", 7);
	for (size_t i = 0; i < p->n_methods; i++) {
		const char *n = sip_method_name(p->methods[i]);
		if (i)
			extra_add(out, &len, ", ", 2);
		extra_add(out, &len, n, strlen(n));
	}
	extra_finish(out, len);
}

static bool in_list(struct sb_slice v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sb_slice_eq_cstr_nocase(v, list[i]))
			return true;
	return false;
}

/* "type/subtype" of a media type with parameters. */
static struct sb_slice media_type(struct sb_slice ct)
{
	ptrdiff_t semi = sb_slice_find(ct, ';');
	if (semi >= 0)
		ct.len = (size_t)semi;
	return sip__trim(ct);
}

static bool accept_has_sdp(const struct sip_msg *m)
{
	struct sip_hdr_iter it;
	struct sb_slice v;
	sip_hdr_iter_init(&it);
	while (sip_hdr_next_value(m, SIP_HDR_ACCEPT, &it, &v)) {
		struct sb_slice t = media_type(v);
		if (SIP__EQ(t, "application/sdp") || SIP__EQ(t, "application/*") ||
		    SIP__EQ(t, "*/*"))
			return true;
	}
	return false;
}

static bool date_is_gmt(struct sb_slice d)
{
	d = sip__trim(d);
	return d.len >= 4 && memcmp(d.p + d.len - 4, " GMT", 4) == 0;
}

int sip_check_request(const struct sip_msg *m, const struct sip_check_policy *p,
		      struct sip_check_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!m->is_request)
		return reject(out, 400, "Not a Request");
	/* The parser only delimited the Request-URI (sip__uri_split): its syntax is checked here.
	 */
	struct sip_uri u;
	if (sip_uri_parse(m->ruri_raw, &u))
		return reject(out, 400, "Bad Request-URI");
	if (u.headers.len)
		return reject(out, 400, "Headers in Request-URI");

	/* §8.1.1: mandatory headers (Max-Forwards is optional for RFC 2543 peers) */
	if (!m->count[SIP_HDR_VIA])
		return reject(out, 400, "Missing Via");
	if (!m->count[SIP_HDR_FROM])
		return reject(out, 400, "Missing From");
	if (!m->count[SIP_HDR_TO])
		return reject(out, 400, "Missing To");
	if (!m->count[SIP_HDR_CALL_ID])
		return reject(out, 400, "Missing Call-ID");
	if (!m->count[SIP_HDR_CSEQ])
		return reject(out, 400, "Missing CSeq");
	/* The parser read the top Via's sent-by and key parameters but only split the other
	 * parameters at ';' (eager for the transaction key only); the whole via-parm is checked
	 * here. */
	struct sip_via via;
	if (sip__via_parse_first(sip_msg_hdr(m, SIP_HDR_VIA)->value, &via))
		return reject(out, 400, "Bad Via");
	/* The parser only delimited From and To (display name, URI, header parameters) and picked
	 * out the tags (eager for the dialog key only); their whole syntax is checked here. */
	struct sip_name_addr na;
	if (sip_name_addr_parse(sip_msg_hdr(m, SIP_HDR_FROM)->value, &na) || na.star)
		return reject(out, 400, "Bad From");
	if (sip_name_addr_parse(sip_msg_hdr(m, SIP_HDR_TO)->value, &na) || na.star)
		return reject(out, 400, "Bad To");
	/* The parser took the Call-ID as it is (the dialog key needs only its bounds). */
	if (sip__span(m->call_id.p, 0, m->call_id.len, SIP__CC_WORD) != m->call_id.len)
		return reject(out, 400, "Bad Call-ID");
	if (!sb_slice_eq(m->cseq.method_name, m->method_name))
		return reject(out, 400, "CSeq Method Mismatch");

	struct sip_hdr_iter it;
	struct sb_slice v;
	sip_hdr_iter_init(&it);
	while (sip_hdr_next_value(m, SIP_HDR_CONTACT, &it, &v)) {
		if (sip_name_addr_parse(v, &na))
			return reject(out, 400, "Bad Contact");
	}
	if ((p->flags & SIP_CHECK_STRICT_BRANCH) && sb_slice_eq_cstr(m->via.branch, "z9hG4bK"))
		return reject(out, 400, "Bad Branch");
	if (p->flags & SIP_CHECK_STRICT_DATE) {
		const struct sip_hdr *d = sip_msg_hdr(m, SIP_HDR_DATE);
		if (d && !date_is_gmt(d->value))
			return reject(out, 400, "Bad Date");
	}

	/* §8.2.1 method inspection */
	if (m->method == SIP_METHOD_OTHER) {
		extra_allow(out, p);
		return reject(out, 501, "Not Implemented");
	}
	if (!method_allowed(p, m->method)) {
		extra_allow(out, p);
		return reject(out, 405, "Method Not Allowed");
	}

	/* §8.2.2 header inspection */
	if (m->method == SIP_METHOD_REGISTER && (p->flags & SIP_CHECK_REGISTRAR) &&
	    m->to.uri.scheme != SIP_URI_SIP && m->to.uri.scheme != SIP_URI_SIPS)
		return reject(out, 400, "Bad To URI");
	if (m->ruri.scheme == SIP_URI_OTHER ||
	    (m->ruri.scheme == SIP_URI_TEL && (p->flags & SIP_CHECK_NO_TEL)))
		return reject(out, 416, "Unsupported URI Scheme");

	if (m->method != SIP_METHOD_ACK && m->method != SIP_METHOD_CANCEL) {
		size_t len = 0;
		bool any = false;
		sip_hdr_iter_init(&it);
		while (sip_hdr_next_value(m, SIP_HDR_REQUIRE, &it, &v)) {
			if (in_list(v, p->supported, p->n_supported))
				continue;
			if (!any)
				extra_add(out, &len, "Unsupported: ", 13);
			else if (!extra_add(out, &len, ", ", 2))
				continue;
			if (!extra_add(out, &len, v.p, v.len) && any)
				len -= 2, out->extra_header[len] = '\0';
			any = true;
		}
		if (any) {
			extra_finish(out, len);
			out->extra = SIP_CHECK_EXTRA_UNSUPPORTED;
			return reject(out, 420, "Bad Extension");
		}
	}

	/* §8.2.3 content processing */
	if (m->body.len) {
		sip_hdr_iter_init(&it);
		while (sip_hdr_next_value(m, SIP_HDR_CONTENT_ENCODING, &it, &v)) {
			if (!SIP__EQ(v, "identity")) {
				extra_simple(out, SIP_CHECK_EXTRA_ACCEPT_ENCODING,
					     "Accept-Encoding", "identity");
				return reject(out, 415, "Unsupported Media Type");
			}
		}
		struct sb_slice t = media_type(m->content_type);
		if (!t.len)
			return reject(out, 400, "Missing Content-Type");
		if (!in_list(t, p->accept, p->n_accept)) {
			size_t len = 0;
			out->extra = SIP_CHECK_EXTRA_ACCEPT;
			extra_add(out, &len, "Accept: ", 8);
			for (size_t i = 0; i < p->n_accept; i++) {
				if (i && !extra_add(out, &len, ", ", 2))
					break;
				if (!extra_add(out, &len, p->accept[i], strlen(p->accept[i]))) {
					if (i)
						len -= 2, out->extra_header[len] = '\0';
					break;
				}
			}
			extra_finish(out, len);
			return reject(out, 415, "Unsupported Media Type");
		}
		/* RFC 3261 §8.2.3/§13.3.1.1: we cannot answer in SDP if the offerer does not accept
		 * it */
		if (m->method == SIP_METHOD_INVITE && SIP__EQ(t, "application/sdp") &&
		    m->count[SIP_HDR_ACCEPT] && !accept_has_sdp(m))
			return reject(out, 406, "Not Acceptable");
	}
	return 0;
}

int sip_check_response(const struct sip_msg *m)
{
	if (m->is_request || m->status < 100 || m->status > 699)
		return SB_EMALFORMED;
	if (!m->count[SIP_HDR_FROM] || !m->count[SIP_HDR_TO] || !m->count[SIP_HDR_CALL_ID] ||
	    !m->count[SIP_HDR_CSEQ])
		return SB_EMALFORMED;
	/* §8.1.3.3: more than one Via value → discard */
	if (sip_hdr_count_values(m, SIP_HDR_VIA) != 1)
		return SB_EMALFORMED;
	return 0;
}
