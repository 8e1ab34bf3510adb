/* LK's validation rules for SIP trunks and dispatch rules, conflict checks between records,
 * and phone-number normalisation. */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/sip_json.h"
#include "api/sip_json_int.h"
#include "base/compat.h"
#include "base/err.h"

#define HEADER_NAME_MAX 255
#define PIN_MAX		16

SB_PRINTF(3, 4) static int seterr(char *err, size_t err_len, const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return SB_EINVAL;
}

/* ---- Validation ---- */

static bool is_token_char(unsigned char ch)
{
	return isalnum(ch) || (ch && strchr("-.!%*_+`'~", ch));
}

static bool valid_header_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > HEADER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_token_char((unsigned char)s[i]))
			return false;
	return true;
}

/* Headers LK refuses in a trunk's `headers` (the SIP stack owns them). */
static bool forbidden_header(const char *s)
{
	/* clang-format off */
	static const char *const names[] = {
	    "Allow", "Allow-Events", "Call-ID", "Contact", "CSeq", "Event", "Expires", "From",
	    "Max-Forwards", "Record-Route", "Refer-To", "Reply-To",
	    "k", "l", "m", "o", "r", "t", "u", "v", /* compact forms (research §3.4) */
	    "i", "f", "c", "e"};                    /* compact Call-ID, From, Content-Type/-Encoding */
	/* clang-format on */
	if (strncasecmp(s, "Accept", 6) == 0 || strncasecmp(s, "Content-", 8) == 0)
		return true;
	for (size_t i = 0; i < SB_ARRAY_LEN(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return true;
	return false;
}

static int check_headers(const struct store_map *headers, const struct store_map *h2a,
			 const struct store_map *a2h, char *err, size_t err_len)
{
	for (size_t i = 0; i < headers->n; i++) {
		const char *k = headers->v[i].key ? headers->v[i].key : "";
		const char *v = headers->v[i].value ? headers->v[i].value : "";
		if (!valid_header_name(k))
			return seterr(err, err_len, "headers: \"%.64s\" is not a valid header name",
				      k);
		if (forbidden_header(k))
			return seterr(err, err_len, "headers: \"%.64s\" cannot be set", k);
		if (strpbrk(v, "\r\n"))
			return seterr(err, err_len,
				      "headers: the value of \"%.64s\" must not contain CR or LF",
				      k);
	}
	for (size_t i = 0; i < h2a->n; i++)
		if (!valid_header_name(h2a->v[i].key))
			return seterr(err, err_len,
				      "headersToAttributes: \"%.64s\" is not a valid header name",
				      h2a->v[i].key ? h2a->v[i].key : "");
	for (size_t i = 0; i < a2h->n; i++)
		if (!valid_header_name(a2h->v[i].value))
			return seterr(err, err_len,
				      "attributesToHeaders: \"%.64s\" is not a valid header name",
				      a2h->v[i].value ? a2h->v[i].value : "");
	return 0;
}

int sip_json__check_headers(const struct store_map *headers, char *err, size_t err_len)
{
	const struct store_map none = {0};
	return check_headers(headers, &none, &none, err, err_len);
}

int sip_json_validate_inbound_trunk(const struct store_inbound_trunk *t, char *err, size_t err_len)
{
	bool auth = !sip_json__empty(t->auth_username) && !sip_json__empty(t->auth_password);
	if (!auth && t->allowed_addresses.n == 0 && t->numbers.n == 0)
		return seterr(err, err_len,
			      "for security, one of the fields must be set: "
			      "authUsername+authPassword, allowedAddresses or numbers");
	for (size_t i = 0; i < t->numbers.n; i++)
		if (sip_json__empty(t->numbers.v[i]))
			return seterr(err, err_len, "numbers[%zu]: must not be empty", i);
	for (size_t i = 0; i < t->allowed_addresses.n; i++)
		if (sip_json__empty(t->allowed_addresses.v[i]))
			return seterr(err, err_len, "allowedAddresses[%zu]: must not be empty", i);
	return check_headers(&t->headers, &t->headers_to_attributes, &t->attributes_to_headers, err,
			     err_len);
}

int sip_json_validate_outbound_trunk(const struct store_outbound_trunk *t, char *err,
				     size_t err_len)
{
	const char *a = t->address ? t->address : "";
	if (!*a)
		return seterr(err, err_len, "address is required");
	if (strncasecmp(a, "sip:", 4) == 0 || strncasecmp(a, "sips:", 5) == 0)
		return seterr(err, err_len,
			      "address must be a host[:port], not a SIP URI: \"%.64s\"", a);
	if (strpbrk(a, "@;") || strstr(a, "transport="))
		return seterr(err, err_len,
			      "address must be a host[:port] without '@', ';' or transport=: "
			      "\"%.64s\"",
			      a);
	if (strpbrk(a, " \t\r\n"))
		return seterr(err, err_len, "address must not contain spaces: \"%.64s\"", a);
	if (t->numbers.n == 0)
		return seterr(err, err_len, "numbers: at least one number is required");
	for (size_t i = 0; i < t->numbers.n; i++)
		if (sip_json__empty(t->numbers.v[i]))
			return seterr(err, err_len, "numbers[%zu]: must not be empty", i);
	return check_headers(&t->headers, &t->headers_to_attributes, &t->attributes_to_headers, err,
			     err_len);
}

int sip_json_validate_dispatch_rule(const struct store_dispatch_rule *r, char *err, size_t err_len)
{
	const struct store_rule *k = &r->rule;
	if (k->kind == STORE_RULE_NONE)
		return seterr(err, err_len, "rule is required");
	if (k->kind == STORE_RULE_DIRECT && sip_json__empty(k->room_name))
		return seterr(err, err_len, "rule.dispatchRuleDirect.roomName is required");
	const char *pin = k->pin ? k->pin : "";
	if (strlen(pin) > PIN_MAX)
		return seterr(err, err_len, "rule: pin must be at most %d digits", PIN_MAX);
	for (const char *p = pin; *p; p++)
		if (!strchr("0123456789*ABCDabcd", *p))
			return seterr(err, err_len,
				      "rule: pin must hold only DTMF digits (0-9, *, A-D)");
	for (size_t i = 0; i < r->trunk_ids.n; i++)
		if (sip_json__empty(r->trunk_ids.v[i]))
			return seterr(err, err_len, "trunkIds[%zu]: must not be empty", i);
	return 0;
}

/* ---- Conflicts ---- */

void sip_json_normalize_number(const char *num, char *out, size_t out_len)
{
	size_t j = 0;
	if (!out_len)
		return;
	if (!num || !*num) {
		out[0] = 0;
		return;
	}
	/* stripped first, then the '+' test, as LK's NormalizeNumber */
	const char *first = num;
	while (*first && (isspace((unsigned char)*first) || strchr("()-", *first)))
		first++;
	if (*first != '+' && j + 1 < out_len)
		out[j++] = '+';
	for (const char *p = first; *p && j + 1 < out_len; p++)
		if (!isspace((unsigned char)*p) && !strchr("()-", *p))
			out[j++] = *p;
	out[j] = 0;
}

/* Do two lists share a key? An empty list is the single key "". *which gets the shared
 * (normalised) value. */
static bool lists_overlap(const struct store_strv *a, const struct store_strv *b, bool normalise,
			  char *which, size_t which_len)
{
	if (a->n == 0 || b->n == 0) {
		snprintf(which, which_len, "%s", "");
		return a->n == 0 && b->n == 0;
	}
	char x[128], y[128];
	for (size_t i = 0; i < a->n; i++) {
		if (normalise)
			sip_json_normalize_number(a->v[i], x, sizeof(x));
		else
			snprintf(x, sizeof(x), "%s", a->v[i] ? a->v[i] : "");
		for (size_t j = 0; j < b->n; j++) {
			if (normalise)
				sip_json_normalize_number(b->v[j], y, sizeof(y));
			else
				snprintf(y, sizeof(y), "%s", b->v[j] ? b->v[j] : "");
			if (strcmp(x, y) == 0) {
				snprintf(which, which_len, "%s", x);
				return true;
			}
		}
	}
	return false;
}

static bool same_id(const char *a, const char *b)
{
	return !sip_json__empty(a) && !sip_json__empty(b) && strcmp(a, b) == 0;
}

static const char *any(const char *s)
{
	return *s ? s : "any";
}

int sip_json_check_inbound_conflicts(const struct store_inbound_trunk *t,
				     const struct store_inbound_trunk *existing, size_t n,
				     char *err, size_t err_len)
{
	char num[128], allowed[128];
	for (size_t i = 0; i < n; i++) {
		const struct store_inbound_trunk *o = &existing[i];
		if (same_id(o->id, t->id))
			continue;
		if (lists_overlap(&t->numbers, &o->numbers, true, num, sizeof(num)) &&
		    lists_overlap(&t->allowed_numbers, &o->allowed_numbers, true, allowed,
				  sizeof(allowed)))
			return seterr(
			    err, err_len,
			    "Conflicting inbound SIP Trunks: \"%s\" and \"%s\", using the "
			    "same number (%s) and allowed caller number (%s)",
			    o->id ? o->id : "", sip_json__empty(t->id) ? "<new>" : t->id, any(num),
			    any(allowed));
	}
	return 0;
}

int sip_json_check_rule_conflicts(const struct store_dispatch_rule *r,
				  const struct store_dispatch_rule *existing, size_t n, char *err,
				  size_t err_len)
{
	char trunk[128], inb[128], num[128];
	const char *pin = r->rule.pin ? r->rule.pin : "";
	for (size_t i = 0; i < n; i++) {
		const struct store_dispatch_rule *o = &existing[i];
		if (same_id(o->id, r->id))
			continue;
		if (strcmp(pin, o->rule.pin ? o->rule.pin : "") != 0)
			continue;
		if (lists_overlap(&r->trunk_ids, &o->trunk_ids, false, trunk, sizeof(trunk)) &&
		    lists_overlap(&r->inbound_numbers, &o->inbound_numbers, true, inb,
				  sizeof(inb)) &&
		    lists_overlap(&r->numbers, &o->numbers, true, num, sizeof(num)))
			return seterr(
			    err, err_len,
			    "Dispatch rule for the same trunk, inbound number, number, and "
			    "PIN combination already exists in dispatch rule \"%s\" (trunk "
			    "%s, inbound number %s, number %s%s)",
			    o->id ? o->id : "", any(trunk), any(inb), any(num),
			    *pin ? ", same PIN" : ", no PIN");
	}
	return 0;
}
