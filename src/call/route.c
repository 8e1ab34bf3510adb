/* Inbound routing: LiveKit's trunk matching (numbers, allowed_addresses with CIDR,
 * allowed_numbers), dispatch-rule priorities, room names and the participant's attributes. */
#include "call/route.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int call_route_sip_status(enum call_route_status s)
{
	switch (s) {
	case CALL_ROUTE_OK:
	case CALL_ROUTE_NEED_PIN:
		return 0;
	case CALL_ROUTE_NO_TRUNK:
	case CALL_ROUTE_NO_RULE:
		return 480;
	case CALL_ROUTE_NOMEM:
		return 503;
	case CALL_ROUTE_CONFLICT:
	default:
		return 500;
	}
}

const char *call_route_status_name(enum call_route_status s)
{
	switch (s) {
	case CALL_ROUTE_OK:
		return "ok";
	case CALL_ROUTE_NEED_PIN:
		return "need pin";
	case CALL_ROUTE_NO_TRUNK:
		return "no trunk accepts the call";
	case CALL_ROUTE_NO_RULE:
		return "no dispatch rule matches";
	case CALL_ROUTE_CONFLICT:
		return "conflicting trunks";
	case CALL_ROUTE_NOMEM:
		return "out of memory";
	}
	return "?";
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

void call_route_normalize_number(const char *num, char *out, size_t out_len)
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

/* A number equal to one of list, raw or both normalised. */
static bool number_in(const struct store_strv *list, const char *num)
{
	char a[CALL_ROUTE_NUMBER_MAX], b[CALL_ROUTE_NUMBER_MAX];
	call_route_normalize_number(num, a, sizeof(a));
	for (size_t i = 0; i < list->n; i++) {
		const char *x = nz(list->v[i]);
		if (!strcmp(x, nz(num)))
			return true;
		call_route_normalize_number(x, b, sizeof(b));
		if (a[0] && !strcmp(a, b))
			return true;
	}
	return false;
}

static bool exact_in(const struct store_strv *list, const char *s)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(nz(list->v[i]), nz(s)))
			return true;
	return false;
}

static bool parse_ip(const char *s, unsigned char addr[16], int *family)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

bool call_route_ip_match(const char *ip, const char *cidr)
{
	if (!ip || !cidr || !*ip || !*cidr)
		return false;
	unsigned char a[16], n[16];
	int fa, fn;
	if (!parse_ip(ip, a, &fa))
		return false;
	char net[64];
	const char *slash = strchr(cidr, '/');
	size_t len = slash ? (size_t)(slash - cidr) : strlen(cidr);
	if (len >= sizeof(net))
		return false;
	memcpy(net, cidr, len);
	net[len] = 0;
	if (!parse_ip(net, n, &fn))
		return false;
	/* an IPv4 caller seen through a v4-mapped IPv6 socket address */
	if (fa == AF_INET6 && fn == AF_INET) {
		static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		if (memcmp(a, mapped, 12))
			return false;
		memmove(a, a + 12, 4);
		fa = AF_INET;
	}
	if (fa != fn)
		return false;
	unsigned max = fa == AF_INET ? 32 : 128;
	unsigned bits = max;
	if (slash) {
		const char *p = slash + 1;
		if (!*p || strlen(p) > 3)
			return false;
		bits = 0;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return false;
	}
	size_t full = bits / 8;
	if (memcmp(a, n, full))
		return false;
	unsigned rest = bits % 8;
	if (rest) {
		unsigned char mask = (unsigned char)(0xffu << (8 - rest));
		if ((a[full] & mask) != (n[full] & mask))
			return false;
	}
	return true;
}

static bool address_allowed(const struct store_inbound_trunk *t, const struct call_route_in *in)
{
	if (!t->allowed_addresses.n)
		return true;
	for (size_t i = 0; i < t->allowed_addresses.n; i++) {
		const char *a = nz(t->allowed_addresses.v[i]);
		if (call_route_ip_match(in->src_ip, a))
			return true;
		if (in->from_host && *in->from_host && !strcasecmp(a, in->from_host))
			return true;
	}
	return false;
}

enum call_route_status call_route_trunk(const struct call_route_in *in,
					const struct store_inbound_trunk *trunks, size_t n_trunks,
					const struct store_inbound_trunk **out)
{
	const struct store_inbound_trunk *by_number = NULL, *by_default = NULL;
	bool refused = false;
	*out = NULL;
	for (size_t i = 0; i < n_trunks; i++) {
		const struct store_inbound_trunk *t = &trunks[i];
		bool serves = !t->numbers.n || number_in(&t->numbers, in->to_user);
		if (t->allowed_numbers.n && !number_in(&t->allowed_numbers, in->from_user)) {
			refused |= serves;
			continue;
		}
		if (!address_allowed(t, in)) {
			refused |= serves;
			continue;
		}
		if (!t->numbers.n) {
			if (by_default)
				return CALL_ROUTE_CONFLICT;
			by_default = t;
		} else if (serves) {
			if (by_number)
				return CALL_ROUTE_CONFLICT;
			by_number = t;
		}
	}
	*out = by_number ? by_number : by_default;
	/* LK would go on with wildcard rules; a trunk that names this call and turned its
	 * source away must not be bypassed that way. */
	if (!*out && refused)
		return CALL_ROUTE_NO_TRUNK;
	return CALL_ROUTE_OK;
}

static const char *rule_pin(const struct store_dispatch_rule *r)
{
	return nz(r->rule.pin);
}

/* The room name or prefix, for ties. */
static const char *rule_room_key(const struct store_dispatch_rule *r)
{
	return r->rule.kind == STORE_RULE_DIRECT ? nz(r->rule.room_name) : nz(r->rule.room_prefix);
}

static int rule_priority(const struct store_dispatch_rule *r)
{
	int p;
	bool pin = rule_pin(r)[0] != 0;
	switch (r->rule.kind) {
	case STORE_RULE_DIRECT:
		p = pin ? 0 : 100;
		break;
	case STORE_RULE_INDIVIDUAL:
		p = pin ? 1 : 101;
		break;
	case STORE_RULE_CALLEE:
		p = pin ? 2 : 102;
		break;
	default:
		return -1;
	}
	if (!r->inbound_numbers.n)
		p += 1000;
	if (!r->numbers.n)
		p += 1000;
	return p;
}

static bool rule_better(const struct store_dispatch_rule *a, const struct store_dispatch_rule *b)
{
	if (!b)
		return true;
	int pa = rule_priority(a), pb = rule_priority(b);
	if (pa != pb)
		return pa < pb;
	return strcmp(rule_room_key(a), rule_room_key(b)) < 0;
}

enum call_route_status call_route_rule(const struct call_route_in *in,
				       const struct store_inbound_trunk *trunk,
				       const struct store_dispatch_rule *rules, size_t n_rules,
				       const struct store_dispatch_rule **out)
{
	const struct store_dispatch_rule *specific = NULL, *wildcard = NULL;
	const char *tid = trunk ? nz(trunk->id) : NULL;
	*out = NULL;
	for (size_t i = 0; i < n_rules; i++) {
		const struct store_dispatch_rule *r = &rules[i];
		if (rule_priority(r) < 0)
			continue;
		if (r->inbound_numbers.n && !exact_in(&r->inbound_numbers, in->from_user))
			continue;
		if (r->numbers.n && !exact_in(&r->numbers, in->to_user))
			continue;
		const char *pin = rule_pin(r);
		if (in->pin && !in->pin[0] && pin[0])
			continue; /* no-pin mode */
		if (in->pin && in->pin[0] && strcmp(pin, in->pin))
			continue; /* a PIN was entered: only rules with that PIN */
		if (!r->trunk_ids.n) {
			if (rule_better(r, wildcard))
				wildcard = r;
		} else if (tid && exact_in(&r->trunk_ids, tid)) {
			if (rule_better(r, specific))
				specific = r;
		}
	}
	*out = specific ? specific : wildcard;
	if (!*out)
		return CALL_ROUTE_NO_RULE;
	if (!in->pin && rule_pin(*out)[0])
		return CALL_ROUTE_NEED_PIN;
	return CALL_ROUTE_OK;
}

/* ---- the participant ---- */

static int attr_set(struct call_route_out *o, const char *key, const char *value)
{
	if (!key || !*key)
		return 0;
	value = nz(value);
	for (size_t i = 0; i < o->n_attrs; i++) {
		if (!strcmp(o->attrs[i].key, key)) {
			char *v = strdup(value);
			if (!v)
				return -1;
			free(o->attrs[i].value);
			o->attrs[i].value = v;
			return 0;
		}
	}
	struct call_route_attr *a = realloc(o->attrs, (o->n_attrs + 1) * sizeof(*a));
	if (!a)
		return -1;
	o->attrs = a;
	char *k = strdup(key), *v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return -1;
	}
	o->attrs[o->n_attrs].key = k;
	o->attrs[o->n_attrs].value = v;
	o->n_attrs++;
	return 0;
}

static int attr_set_slice(struct call_route_out *o, const char *key, struct sb_slice v)
{
	char *s = malloc(v.len + 1);
	if (!s)
		return -1;
	memcpy(s, v.p, v.len);
	s[v.len] = 0;
	int r = attr_set(o, key, s);
	free(s);
	return r;
}

const char *call_route_attr(const struct call_route_out *out, const char *key)
{
	for (size_t i = 0; i < out->n_attrs; i++)
		if (!strcmp(out->attrs[i].key, key))
			return out->attrs[i].value;
	return NULL;
}

static uint32_t u32_of(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	json_int_t x = json_is_integer(v)			      ? json_integer_value(v)
		       : json_is_string(v) && json_string_value(v)[0] ? atoll(json_string_value(v))
								      : 0;
	return x > 0 && x <= UINT32_MAX ? (uint32_t)x : 0;
}

/* RoomConfiguration as the API stored it (snake_case JSON text, "" = none): the settings a
 * new room takes and the agents to dispatch. A malformed text is ignored (the API validated
 * it); only out of memory is an error (-1). */
static int room_config(const char *text, struct call_route_room_config *out)
{
	memset(out, 0, sizeof(*out));
	if (!text || !text[0])
		return 0;
	json_t *o = json_loads(text, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	out->set = true;
	out->empty_timeout_s = u32_of(o, "empty_timeout");
	out->departure_timeout_s = u32_of(o, "departure_timeout");
	out->max_participants = u32_of(o, "max_participants");
	const json_t *md = json_object_get(o, "metadata");
	int err = 0;
	if (json_is_string(md) && json_string_value(md)[0] &&
	    !(out->metadata = strdup(json_string_value(md))))
		err = -1;
	const json_t *agents = json_object_get(o, "agents");
	size_t i;
	const json_t *a;
	json_array_foreach(agents, i, a)
	{
		const json_t *name = json_object_get(a, "agent_name");
		if (out->n_agents < CALL_ROUTE_AGENTS_MAX && json_is_string(name) &&
		    json_string_value(name)[0])
			snprintf(out->agents[out->n_agents++], CALL_ROUTE_NAME_MAX, "%s",
				 json_string_value(name));
	}
	json_decref(o);
	return err;
}

void call_route_out_free(struct call_route_out *out)
{
	for (size_t i = 0; i < out->n_attrs; i++) {
		free(out->attrs[i].key);
		free(out->attrs[i].value);
	}
	free(out->attrs);
	free(out->metadata);
	free(out->room_config.metadata);
	memset(out, 0, sizeof(*out));
}

/* Headers providers set, mapped as LK does whatever include_headers says. */
static const struct {
	const char *hdr, *attr;
} builtin_hdrs[] = {
    {"X-Twilio-AccountSid", "sip.twilio.accountSid"},
    {"X-Twilio-CallSid", "sip.twilio.callSid"},
    {"X-call_leg_id", "sip.telnyx.callLegID"},
    {"X-call_session_id", "sip.telnyx.callSessionID"},
    {"X-Amzn-ConnectContactId", "sip.amazon.contactId"},
    {"X-Amzn-ConnectInitialContactId", "sip.amazon.initialContactId"},
    {"X-Amzn-SourceAccount", "sip.amazon.sourceAccount"},
    {"X-Amzn-SourceArn", "sip.amazon.sourceArn"},
    {"X-Amzn-TargetArn", "sip.amazon.targetArn"},
};

static int header_attrs(const struct call_route_in *in, const struct store_inbound_trunk *t,
			struct call_route_out *o)
{
	enum store_header_options inc = t ? t->include_headers : STORE_NO_HEADERS;
	for (size_t i = 0; i < in->n_hdrs; i++) {
		const struct call_route_hdr *h = &in->hdrs[i];
		for (size_t b = 0; b < sizeof(builtin_hdrs) / sizeof(builtin_hdrs[0]); b++)
			if (sb_slice_eq_cstr_nocase(h->name, builtin_hdrs[b].hdr) &&
			    attr_set_slice(o, builtin_hdrs[b].attr, h->value))
				return -1;
		bool x = h->name.len > 2 && (h->name.p[0] == 'X' || h->name.p[0] == 'x') &&
			 h->name.p[1] == '-';
		if (inc == STORE_ALL_HEADERS || (inc == STORE_X_HEADERS && x)) {
			char key[CALL_ROUTE_NAME_MAX + 8];
			size_t n = h->name.len < CALL_ROUTE_NAME_MAX ? h->name.len
								     : CALL_ROUTE_NAME_MAX - 1;
			memcpy(key, "sip.h.", 6);
			for (size_t k = 0; k < n; k++)
				key[6 + k] = (char)tolower((unsigned char)h->name.p[k]);
			key[6 + n] = 0;
			if (attr_set_slice(o, key, h->value))
				return -1;
		}
	}
	if (!t)
		return 0;
	for (size_t m = 0; m < t->headers_to_attributes.n; m++) {
		const struct store_pair *p = &t->headers_to_attributes.v[m];
		for (size_t i = 0; i < in->n_hdrs; i++) {
			if (sb_slice_eq_cstr_nocase(in->hdrs[i].name, nz(p->key))) {
				if (attr_set_slice(o, nz(p->value), in->hdrs[i].value))
					return -1;
				break;
			}
		}
	}
	return 0;
}

static void room_name(const struct call_route_in *in, const struct store_dispatch_rule *r,
		      const char *caller, char *out, size_t cap)
{
	const char *prefix = nz(r->rule.room_prefix);
	const char *sep = prefix[0] ? "_" : "";
	const char *rnd = nz(in->rand);
	switch (r->rule.kind) {
	case STORE_RULE_DIRECT:
		snprintf(out, cap, "%s", nz(r->rule.room_name));
		break;
	case STORE_RULE_INDIVIDUAL:
		if (r->rule.no_randomness)
			snprintf(out, cap, "%s%s%s", prefix, sep, caller);
		else
			snprintf(out, cap, "%s%s%s_%.*s", prefix, sep, caller, CALL_ROUTE_RAND_LEN,
				 rnd);
		break;
	case STORE_RULE_CALLEE:
		if (r->rule.randomize)
			snprintf(out, cap, "%s%s%s_%.*s", prefix, sep, nz(in->to_user),
				 CALL_ROUTE_RAND_LEN, rnd);
		else
			snprintf(out, cap, "%s%s%s", prefix, sep, nz(in->to_user));
		break;
	default:
		out[0] = 0;
	}
}

enum call_route_status call_route(const struct call_route_in *in,
				  const struct store_inbound_trunk *trunks, size_t n_trunks,
				  const struct store_dispatch_rule *rules, size_t n_rules,
				  struct call_route_out *out)
{
	memset(out, 0, sizeof(*out));
	enum call_route_status st = call_route_trunk(in, trunks, n_trunks, &out->trunk);
	if (st != CALL_ROUTE_OK)
		return st;
	st = call_route_rule(in, out->trunk, rules, n_rules, &out->rule);
	if (st != CALL_ROUTE_OK)
		return st;
	const struct store_dispatch_rule *r = out->rule;
	const char *from = nz(in->from_user);
	char masked[17];
	const char *caller = from;
	if (r->hide_phone_number) {
		unsigned char h[SHA256_DIGEST_LENGTH];
		SHA256((const unsigned char *)from, strlen(from), h);
		for (int i = 0; i < 8; i++)
			snprintf(masked + 2 * i, 3, "%02x", h[i]);
		caller = masked;
		size_t len = strlen(from), keep = len <= 4 ? 1 : 4;
		snprintf(out->identity, sizeof(out->identity), "sip_%s", masked);
		snprintf(out->name, sizeof(out->name), "Phone %s", len ? from + len - keep : "");
	} else {
		snprintf(out->identity, sizeof(out->identity), "sip_%s", from);
		snprintf(out->name, sizeof(out->name), "Phone %s", from);
	}
	room_name(in, r, caller, out->room, sizeof(out->room));
	out->metadata = strdup(nz(r->metadata));
	if (!out->metadata || room_config(r->room_config_json, &out->room_config))
		return CALL_ROUTE_NOMEM;
	out->max_call_duration_ms = out->trunk ? out->trunk->max_call_duration_ms : 0;
	for (size_t i = 0; i < r->attributes.n; i++)
		if (attr_set(out, r->attributes.v[i].key, r->attributes.v[i].value))
			return CALL_ROUTE_NOMEM;
	int e = attr_set(out, "sip.callID", in->sid);
	e |= attr_set(out, "sip.callIDFull", in->call_id);
	e |= attr_set(out, "sip.callTag", in->call_tag);
	e |= attr_set(out, "sip.trunkID", out->trunk ? nz(out->trunk->id) : "");
	e |= attr_set(out, "sip.ruleID", r->id);
	if (!r->hide_phone_number) {
		e |= attr_set(out, "sip.phoneNumber", from);
		e |= attr_set(out, "sip.hostname", in->from_host);
		e |= attr_set(out, "sip.trunkPhoneNumber", in->to_user);
	}
	e |= attr_set(out, "sip.callStatus", "active");
	if (e || header_attrs(in, out->trunk, out))
		return CALL_ROUTE_NOMEM;
	return CALL_ROUTE_OK;
}
