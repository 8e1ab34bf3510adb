/* SIP/SIPS/tel URI parsing (RFC 3261 §19.1, §25.1; RFC 3966; RFC 5118/5954 IPv6 references),
 * percent-decoding, comparison (§19.1.4), printing and the tel → sip mapping (§19.1.6). */
#include "sip/uri.h"

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>

#include "base/err.h"
#include "sip/msg_int.h"

static inline int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = sip__lower[c];
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

bool sip__ipv4_valid(struct sb_slice s)
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part) {
			if (i >= s.len || s.p[i] != '.')
				return false;
			i++;
		}
		size_t d0 = i;
		unsigned v = 0;
		while (i < s.len && i - d0 < 3 && sip__is((unsigned char)s.p[i], SIP__CC_DIGIT))
			v = v * 10 + (unsigned)(s.p[i++] - '0');
		if (i == d0 || v > 255)
			return false;
	}
	return i == s.len;
}

bool sip__ipv6_valid(struct sb_slice s)
{
	size_t i = 0;
	int groups = 0;
	bool dbl = false;
	if (s.len < 2 || s.len > 45)
		return false;
	if (s.p[0] == ':') {
		if (s.p[1] != ':')
			return false;
		dbl = true;
		i = 2;
		if (i == s.len)
			return true; /* "::" */
	}
	for (;;) {
		/* one group: 1-4 hex digits, or a trailing IPv4 address */
		size_t g0 = i;
		while (i < s.len && i - g0 < 4 && sip__is((unsigned char)s.p[i], SIP__CC_HEX))
			i++;
		if (i < s.len && s.p[i] == '.') {
			if (!sip__ipv4_valid(sb_slice(s.p + g0, s.len - g0)))
				return false;
			groups += 2;
			i = s.len;
			break;
		}
		if (i == g0)
			return false;
		groups++;
		if (i == s.len)
			break;
		if (s.p[i] != ':')
			return false;
		i++;
		if (i < s.len && s.p[i] == ':') {
			if (dbl)
				return false;
			dbl = true;
			i++;
			if (i == s.len)
				break;
		} else if (i == s.len) {
			return false;
		}
	}
	return dbl ? groups <= 7 : groups == 8;
}

/* Index after the run of bytes in cls or valid %HH escapes starting at i. */
static size_t scan_chars(struct sb_slice s, size_t i, unsigned cls)
{
	while (i < s.len) {
		i = sip__span(s.p, i, s.len, cls);
		if (i >= s.len)
			break;
		unsigned char c = (unsigned char)s.p[i];
		if (sip__is(c, cls)) {
			i++;
		} else if (c == '%' && s.len - i >= 3 && hexval((unsigned char)s.p[i + 1]) >= 0 &&
			   hexval((unsigned char)s.p[i + 2]) >= 0) {
			i += 3;
		} else {
			break;
		}
	}
	return i;
}

static int parse_params_headers(struct sb_slice s, size_t i, struct sip_uri *out)
{
	/* uri-parameters = *( ";" pname [ "=" pvalue ] ), pname/pvalue = 1*paramchar */
	size_t p0 = i;
	while (i < s.len && s.p[i] == ';') {
		size_t n0 = ++i;
		i = scan_chars(s, i, SIP__CC_PARAM | SIP__CC_UNRES);
		if (i == n0)
			return SB_EMALFORMED;
		if (i < s.len && s.p[i] == '=') {
			size_t v0 = ++i;
			i = scan_chars(s, i, SIP__CC_PARAM | SIP__CC_UNRES);
			if (i == v0)
				return SB_EMALFORMED;
		}
	}
	out->params = sb_slice(s.p + p0, i - p0);
	if (i == s.len)
		return 0;
	if (s.p[i] != '?')
		return SB_EMALFORMED;
	/* headers = "?" header *( "&" header ), header = hname "=" hvalue */
	size_t h0 = ++i;
	for (;;) {
		size_t n0 = i;
		i = scan_chars(s, i, SIP__CC_HNV | SIP__CC_UNRES);
		if (i == n0 || i >= s.len || s.p[i] != '=')
			return SB_EMALFORMED;
		i = scan_chars(s, i + 1, SIP__CC_HNV | SIP__CC_UNRES);
		if (i == s.len)
			break;
		if (s.p[i] != '&')
			return SB_EMALFORMED;
		i++;
	}
	out->headers = sb_slice(s.p + h0, s.len - h0);
	return 0;
}

static int parse_sip(struct sb_slice s, struct sip_uri *out)
{
	/* userinfo first: a user run ending in '@' or ':' password '@'; otherwise it was the host
	 */
	size_t i = scan_chars(s, 0, SIP__CC_UNRES | SIP__CC_USER);
	if (i < s.len && s.p[i] == ':') {
		size_t p0 = i + 1;
		size_t e = scan_chars(s, p0, SIP__CC_UNRES | SIP__CC_PASS);
		if (e < s.len && s.p[e] == '@') {
			if (i == 0)
				return SB_EMALFORMED;
			out->user = sb_slice(s.p, i);
			out->password = sb_slice(s.p + p0, e - p0);
			i = e + 1;
		} else {
			i = 0;
		}
	} else if (i < s.len && s.p[i] == '@') {
		if (i == 0)
			return SB_EMALFORMED;
		out->user = sb_slice(s.p, i);
		i++;
	} else {
		i = 0;
	}
	if (i == 0 && memchr(s.p, '@', s.len))
		return SB_EMALFORMED; /* an '@' after bad userinfo characters */
	if (i >= s.len)
		return SB_EMALFORMED;
	if (s.p[i] == '[') {
		const char *e = memchr(s.p + i, ']', s.len - i);
		if (!e)
			return SB_EMALFORMED;
		out->host = sb_slice(s.p + i + 1, (size_t)(e - s.p) - i - 1);
		out->host_ipv6 = true;
		if (!sip__ipv6_valid(out->host))
			return SB_EMALFORMED;
		i = (size_t)(e - s.p) + 1;
	} else {
		size_t h0 = i;
		i = sip__span(s.p, i, s.len, SIP__CC_HOST);
		out->host = sb_slice(s.p + h0, i - h0);
		if (!out->host.len)
			return SB_EMALFORMED;
		if (sip__is((unsigned char)out->host.p[0], SIP__CC_DIGIT)) {
			/* all digits and dots: must be an IPv4 address (a toplabel starts with a
			 * letter) */
			size_t k = 0;
			while (k < out->host.len &&
			       (sip__is((unsigned char)out->host.p[k], SIP__CC_DIGIT) ||
				out->host.p[k] == '.'))
				k++;
			if (k == out->host.len && !sip__ipv4_valid(out->host))
				return SB_EMALFORMED;
		}
	}
	if (i < s.len && s.p[i] == ':') {
		size_t d0 = ++i;
		uint32_t v = 0;
		while (i < s.len && sip__is((unsigned char)s.p[i], SIP__CC_DIGIT)) {
			v = v * 10 + (uint32_t)(s.p[i] - '0');
			if (v > 65535)
				return SB_EMALFORMED;
			i++;
		}
		if (i == d0)
			return SB_EMALFORMED;
		out->port = (uint16_t)v;
	}
	return parse_params_headers(s, i, out);
}

static int parse_tel(struct sb_slice s, struct sip_uri *out)
{
	size_t i = 0;
	while (i < s.len && s.p[i] != ';')
		i++;
	out->user = sb_slice(s.p, i);
	if (scan_chars(out->user, 0, SIP__CC_TEL) != i || i == 0)
		return SB_EMALFORMED;
	if (out->user.p[0] == '+' && out->user.len < 2)
		return SB_EMALFORMED;
	int err = parse_params_headers(s, i, out);
	if (err || out->headers.len)
		return SB_EMALFORMED;
	return 0;
}

/* scheme ":" rest with rest non-empty: sets raw, scheme_name and scheme (out already cleared);
 * *rest gets what follows. */
static int parse_scheme(struct sb_slice in, struct sip_uri *out, struct sb_slice *rest)
{
	out->raw = in;
	/* "sip:" in any case, folded four bytes at once (exact: see sip__hdr_fold) */
	if (in.len > 4) {
		uint32_t w, sip;
		memcpy(&w, in.p, 4);
		memcpy(&sip, "sip:", 4);
		if ((w | ((w >> 1) & 0x20202020u)) == sip) {
			out->scheme = SIP_URI_SIP;
			out->scheme_name = sb_slice(in.p, 3);
			*rest = sb_slice(in.p + 4, in.len - 4);
			return 0;
		}
	}
	if (in.len == 0 || !sip__is((unsigned char)in.p[0], SIP__CC_ALPHA))
		return SB_EMALFORMED;
	size_t i = sip__span(in.p, 1, in.len, SIP__CC_SCHEME);
	if (i >= in.len || in.p[i] != ':')
		return SB_EMALFORMED;
	out->scheme_name = sb_slice(in.p, i);
	*rest = sb_slice(in.p + i + 1, in.len - i - 1);
	if (rest->len == 0)
		return SB_EMALFORMED;
	if (SIP__EQ(out->scheme_name, "sip"))
		out->scheme = SIP_URI_SIP;
	else if (SIP__EQ(out->scheme_name, "sips"))
		out->scheme = SIP_URI_SIPS;
	else if (SIP__EQ(out->scheme_name, "tel"))
		out->scheme = SIP_URI_TEL;
	return 0;
}

int sip__uri_bounds(struct sb_slice in, struct sip_uri *out)
{
	struct sb_slice rest;
	/* out was cleared with the name-addr holding it */
	if (parse_scheme(in, out, &rest))
		return SB_EMALFORMED;
	if (out->scheme == SIP_URI_TEL) {
		const char *semi = memchr(rest.p, ';', rest.len);
		out->user = sb_slice(rest.p, semi ? (size_t)(semi - rest.p) : rest.len);
	} else if (out->scheme != SIP_URI_OTHER) {
		/* '@' and ':' occur in a valid sip URI only after the user and the password */
		const char *at = memchr(rest.p, '@', rest.len);
		if (at) {
			const char *colon = memchr(rest.p, ':', (size_t)(at - rest.p));
			out->user = sb_slice(rest.p, (size_t)((colon ? colon : at) - rest.p));
		}
	}
	return 0;
}

int sip__uri_split(struct sb_slice in, struct sip_uri *out)
{
	struct sb_slice rest;
	/* out is the message's, cleared by its reset */
	if (parse_scheme(in, out, &rest))
		return SB_EMALFORMED;
	const char *p = rest.p, *end = rest.p + rest.len;
	size_t n = rest.len, i = 0;
	if (out->scheme == SIP_URI_TEL) {
		const char *semi = sip__find_byte(p, end, end, ';');
		i = semi ? (size_t)(semi - p) : n;
		out->user = sb_slice(p, i);
		out->params = sb_slice(p + i, n - i);
		return 0;
	}
	if (out->scheme == SIP_URI_OTHER)
		return 0;
	/* '@' and ':' occur in a valid sip URI only after the user and the password */
	const char *at = sip__find_byte(p, end, end, '@');
	if (at) {
		const char *colon = sip__find_byte(p, at, end, ':');
		out->user = sb_slice(p, (size_t)((colon ? colon : at) - p));
		if (colon)
			out->password = sb_slice(colon + 1, (size_t)(at - colon - 1));
		i = (size_t)(at - p) + 1;
	}
	if (i < n && p[i] == '[') {
		const char *rb = sip__find_byte(p + i, end, end, ']');
		if (!rb)
			return 0;
		out->host = sb_slice(p + i + 1, (size_t)(rb - p) - i - 1);
		out->host_ipv6 = true;
		i = (size_t)(rb - p) + 1;
	} else {
		size_t h0 = i;
		i = sip__span(p, i, n, SIP__CC_HOST);
		out->host = sb_slice(p + h0, i - h0);
	}
	if (i < n && p[i] == ':') {
		size_t d0 = ++i;
		uint32_t v = 0;
		while (i < n && i - d0 < 5 && sip__is((unsigned char)p[i], SIP__CC_DIGIT))
			v = v * 10 + (uint32_t)(p[i++] - '0');
		out->port = v <= 65535 ? (uint16_t)v : 0;
	}
	out->params = sb_slice(p + i, 0);
	if (i < n && p[i] == ';') {
		const char *q = sip__find_byte(p + i, end, end, '?');
		size_t e = q ? (size_t)(q - p) : n;
		out->params = sb_slice(p + i, e - i);
		i = e;
	}
	if (i < n && p[i] == '?')
		out->headers = sb_slice(p + i + 1, n - i - 1);
	return 0;
}

int sip_uri_parse(struct sb_slice in, struct sip_uri *out)
{
	struct sb_slice rest;
	sip__uri_clear(out);
	if (parse_scheme(in, out, &rest))
		return SB_EMALFORMED;
	if (out->scheme == SIP_URI_OTHER) {
		for (size_t k = 0; k < rest.len; k++) {
			unsigned char c = (unsigned char)rest.p[k];
			if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
				return SB_EMALFORMED;
		}
		return 0;
	}
	int err = out->scheme == SIP_URI_TEL ? parse_tel(rest, out) : parse_sip(rest, out);
	if (err) {
		enum sip_uri_scheme sc = out->scheme;
		struct sb_slice sn = out->scheme_name;
		memset(out, 0, sizeof(*out));
		out->raw = in;
		out->scheme = sc;
		out->scheme_name = sn;
	}
	return err;
}

int sip_unescape(struct sb_slice in, char *out, size_t cap)
{
	size_t o = 0;
	if (cap > INT_MAX)
		cap = INT_MAX;
	for (size_t i = 0; i < in.len; i++) {
		unsigned char c = (unsigned char)in.p[i];
		if (c == '%') {
			if (in.len - i < 3)
				return SB_EMALFORMED;
			int h = hexval((unsigned char)in.p[i + 1]),
			    l = hexval((unsigned char)in.p[i + 2]);
			if (h < 0 || l < 0)
				return SB_EMALFORMED;
			c = (unsigned char)(h * 16 + l);
			i += 2;
		}
		if (o >= cap)
			return SB_ETOOBIG;
		out[o++] = (char)c;
	}
	return (int)o;
}

/* Next decoded byte of s at *i (invalid escapes are taken literally); -1 at the end. */
static int dec_next(struct sb_slice s, size_t *i)
{
	if (*i >= s.len)
		return -1;
	unsigned char c = (unsigned char)s.p[*i];
	if (c == '%' && s.len - *i >= 3) {
		int h = hexval((unsigned char)s.p[*i + 1]), l = hexval((unsigned char)s.p[*i + 2]);
		if (h >= 0 && l >= 0) {
			*i += 3;
			return h * 16 + l;
		}
	}
	(*i)++;
	return c;
}

static bool esc_eq(struct sb_slice a, struct sb_slice b, bool nocase)
{
	size_t i = 0, j = 0;
	for (;;) {
		int x = dec_next(a, &i), y = dec_next(b, &j);
		if (x < 0 || y < 0)
			return x == y;
		if (nocase) {
			x = sip__lower[x];
			y = sip__lower[y];
		}
		if (x != y)
			return false;
	}
}

static bool uri_param_next(struct sb_slice s, size_t *pos, struct sb_slice *n, struct sb_slice *v)
{
	size_t i = *pos;
	if (i >= s.len || s.p[i] != ';')
		return false;
	size_t n0 = ++i;
	while (i < s.len && s.p[i] != ';' && s.p[i] != '=')
		i++;
	*n = sb_slice(s.p + n0, i - n0);
	*v = sb_slice(s.p + i, 0);
	if (i < s.len && s.p[i] == '=') {
		size_t v0 = ++i;
		while (i < s.len && s.p[i] != ';')
			i++;
		*v = sb_slice(s.p + v0, i - v0);
	}
	*pos = i;
	return true;
}

static bool special_param(struct sb_slice n)
{
	static const char *const names[] = {"user", "ttl", "method", "maddr", "transport"};
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (esc_eq(n, sb_slice_cstr(names[k]), true))
			return true;
	return false;
}

/* One direction of §19.1.4 parameter matching; all_special for tel (every param must match).
 * A repeated name matches when any occurrence in b carries an equal value. */
static bool params_sub(struct sb_slice a, struct sb_slice b, bool all_special)
{
	size_t pos = 0;
	struct sb_slice n, v;
	while (uri_param_next(a, &pos, &n, &v)) {
		size_t pb = 0;
		struct sb_slice m, w;
		bool named = false, same = false;
		while (!same && uri_param_next(b, &pb, &m, &w)) {
			if (esc_eq(n, m, true)) {
				named = true;
				same = esc_eq(v, w, true);
			}
		}
		if (same)
			continue;
		if (named || all_special || special_param(n))
			return false;
	}
	return true;
}

static bool hdr_next(struct sb_slice s, size_t *pos, struct sb_slice *n, struct sb_slice *v)
{
	size_t i = *pos;
	if (i >= s.len)
		return false;
	size_t n0 = i;
	while (i < s.len && s.p[i] != '=' && s.p[i] != '&')
		i++;
	*n = sb_slice(s.p + n0, i - n0);
	*v = sb_slice(s.p + i, 0);
	if (i < s.len && s.p[i] == '=') {
		size_t v0 = ++i;
		while (i < s.len && s.p[i] != '&')
			i++;
		*v = sb_slice(s.p + v0, i - v0);
	}
	*pos = i < s.len ? i + 1 : i;
	return true;
}

static bool headers_sub(struct sb_slice a, struct sb_slice b)
{
	size_t pa = 0;
	struct sb_slice n, v;
	while (hdr_next(a, &pa, &n, &v)) {
		size_t pb = 0;
		struct sb_slice m, w;
		bool found = false;
		while (!found && hdr_next(b, &pb, &m, &w))
			found = esc_eq(n, m, true) && esc_eq(v, w, false);
		if (!found)
			return false;
	}
	return true;
}

static bool host_eq(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->host_ipv6 != b->host_ipv6)
		return false;
	if (a->host_ipv6) {
		char x[64], y[64];
		unsigned char bx[16], by[16];
		sb_slice_copy(a->host, x, sizeof(x));
		sb_slice_copy(b->host, y, sizeof(y));
		if (inet_pton(AF_INET6, x, bx) == 1 && inet_pton(AF_INET6, y, by) == 1)
			return memcmp(bx, by, 16) == 0;
	}
	return sb_slice_eq_nocase(a->host, b->host);
}

static inline bool tel_visual(char c)
{
	return c == '-' || c == '.' || c == '(' || c == ')';
}

static bool tel_num_eq(struct sb_slice a, struct sb_slice b)
{
	size_t i = 0, j = 0;
	for (;;) {
		while (i < a.len && tel_visual(a.p[i]))
			i++;
		while (j < b.len && tel_visual(b.p[j]))
			j++;
		if (i == a.len || j == b.len)
			return i == a.len && j == b.len;
		if (sip__lower[(unsigned char)a.p[i]] != sip__lower[(unsigned char)b.p[j]])
			return false;
		i++;
		j++;
	}
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	switch (a->scheme) {
	case SIP_URI_OTHER:
		return sb_slice_eq_nocase(a->scheme_name, b->scheme_name) &&
		       sb_slice_eq(
			   sb_slice(a->raw.p + a->scheme_name.len, a->raw.len - a->scheme_name.len),
			   sb_slice(b->raw.p + b->scheme_name.len,
				    b->raw.len - b->scheme_name.len));
	case SIP_URI_TEL:
		return tel_num_eq(a->user, b->user) && params_sub(a->params, b->params, true) &&
		       params_sub(b->params, a->params, true);
	default:
		break;
	}
	if (!esc_eq(a->user, b->user, false) || !esc_eq(a->password, b->password, false))
		return false;
	if (!host_eq(a, b) || a->port != b->port)
		return false;
	if (!params_sub(a->params, b->params, false) || !params_sub(b->params, a->params, false))
		return false;
	return headers_sub(a->headers, b->headers) && headers_sub(b->headers, a->headers);
}

void sip_uri_print(struct sb_buf *b, const struct sip_uri *u)
{
	switch (u->scheme) {
	case SIP_URI_OTHER:
		sb_buf_append_slice(b, u->raw);
		return;
	case SIP_URI_TEL:
		sb_buf_append_cstr(b, "tel:");
		sb_buf_append_slice(b, u->user);
		sb_buf_append_slice(b, u->params);
		return;
	case SIP_URI_SIP:
		sb_buf_append_cstr(b, "sip:");
		break;
	case SIP_URI_SIPS:
		sb_buf_append_cstr(b, "sips:");
		break;
	}
	if (u->user.len) {
		sb_buf_append_slice(b, u->user);
		if (u->password.len) {
			sb_buf_append_char(b, ':');
			sb_buf_append_slice(b, u->password);
		}
		sb_buf_append_char(b, '@');
	}
	if (u->host_ipv6)
		sb_buf_append_char(b, '[');
	sb_buf_append_slice(b, u->host);
	if (u->host_ipv6)
		sb_buf_append_char(b, ']');
	if (u->port) {
		sb_buf_append_char(b, ':');
		sb_buf_append_u64(b, u->port);
	}
	sb_buf_append_slice(b, u->params);
}

static void append_user_escaped(struct sb_buf *b, struct sb_slice s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.p[i];
		if (sip__is(c, SIP__CC_UNRES | SIP__CC_USER)) {
			sb_buf_append_char(b, (char)c);
		} else if (c == '%' && s.len - i >= 3 && hexval((unsigned char)s.p[i + 1]) >= 0 &&
			   hexval((unsigned char)s.p[i + 2]) >= 0) {
			sb_buf_append(b, s.p + i, 3);
			i += 2;
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			sb_buf_append(b, e, 3);
		}
	}
}

void sip_uri_tel_to_sip(struct sb_buf *b, const struct sip_uri *tel, struct sb_slice host,
			uint16_t port)
{
	if (tel->scheme != SIP_URI_TEL) {
		sip_uri_print(b, tel);
		return;
	}
	sb_buf_append_cstr(b, "sip:");
	append_user_escaped(b, tel->user);
	append_user_escaped(b, tel->params);
	sb_buf_append_char(b, '@');
	bool v6 = memchr(host.p, ':', host.len) != NULL && host.len && host.p[0] != '[';
	if (v6)
		sb_buf_append_char(b, '[');
	sb_buf_append_slice(b, host);
	if (v6)
		sb_buf_append_char(b, ']');
	if (port) {
		sb_buf_append_char(b, ':');
		sb_buf_append_u64(b, port);
	}
	sb_buf_append_cstr(b, ";user=phone");
}
