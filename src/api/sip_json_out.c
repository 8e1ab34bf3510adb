/* store records -> livekit.SIP response messages, protobuf-JSON style.
 * Owns response emitting: records, Get/List/legacy responses, UTF-8 repair of strings. */
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

/* ---- Emitting ---- */

static const char *enum_name(const struct sip_json__enum_def *d, int v)
{
	return v >= 0 && (size_t)v < d->n ? d->names[v] : d->names[0];
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* A copy of s with every invalid byte replaced by U+FFFD, or NULL when out of memory. */
static char *utf8_fix(const char *s)
{
	size_t n = strlen(s), j = 0;
	char *d = malloc(n * 3 + 1);
	if (!d)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t l = utf8_seq((const unsigned char *)s + i, n - i);
		if (l) {
			memcpy(d + j, s + i, l);
			j += l;
			i += l;
		} else {
			memcpy(d + j, "\xEF\xBF\xBD", 3);
			j += 3;
			i++;
		}
	}
	d[j] = 0;
	return d;
}

static json_t *jstr(const char *s)
{
	json_t *v = json_string(s ? s : "");
	if (!v && s) {
		char *f = utf8_fix(s);
		if (f)
			v = json_string(f);
		free(f);
	}
	return v;
}

/* Builds an object; any failure makes the result NULL (sticky). */
struct jb {
	json_t *o;
	bool bad;
};

static void jb_init(struct jb *b)
{
	b->o = json_object();
	b->bad = !b->o;
}

static void put(struct jb *b, const char *key, json_t *v)
{
	if (!v) {
		b->bad = true;
		return;
	}
	if (b->bad) {
		json_decref(v);
		return;
	}
	if (json_object_set_new(b->o, key, v)) /* releases v itself */
		b->bad = true;
}

static json_t *jb_done(struct jb *b)
{
	if (b->bad) {
		json_decref(b->o);
		return NULL;
	}
	return b->o;
}

static json_t *jstrv(const struct store_strv *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < a->n; i++) {
		if (json_array_append_new(arr, jstr(a->v[i]))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *jmap(const struct store_map *m)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < m->n; i++) {
		const char *k = m->v[i].key ? m->v[i].key : "";
		json_t *v = jstr(m->v[i].value);
		if (v && json_object_set_new(o, k, v) == 0)
			continue;
		/* out of memory, or a key that is not UTF-8 (set_new released v) */
		char *f = v ? utf8_fix(k) : NULL;
		v = f ? jstr(m->v[i].value) : NULL;
		int r = v ? json_object_set_new(o, f, v) : -1;
		free(f);
		if (r) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

/* Duration as protojson prints it: "30s", "1.500s". */
static json_t *jduration(int64_t ms)
{
	char b[48];
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	if (a % 1000)
		snprintf(b, sizeof(b), "%s%" PRIu64 ".%03" PRIu64 "s", ms < 0 ? "-" : "", a / 1000,
			 a % 1000);
	else
		snprintf(b, sizeof(b), "%s%" PRIu64 "s", ms < 0 ? "-" : "", a / 1000);
	return json_string(b);
}

/* Timestamp as protojson prints it: RFC 3339 UTC, 0 or 3 fraction digits. */
static json_t *jtimestamp(int64_t ms)
{
	int64_t sec = ms / 1000, frac = ms % 1000;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	time_t tt = (time_t)sec;
	struct tm tm;
	char b[64], f[8] = "";
	if (!gmtime_r(&tt, &tm))
		return json_string("1970-01-01T00:00:00Z");
	if (frac)
		snprintf(f, sizeof(f), ".%03d", (int)frac);
	snprintf(b, sizeof(b), "%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, f);
	return json_string(b);
}

static void put_times(struct jb *b, int64_t created, int64_t updated)
{
	if (created)
		put(b, "created_at", jtimestamp(created));
	if (updated)
		put(b, "updated_at", jtimestamp(updated));
}

/* media_encryption (dep) always; media {..., encryption} only when not DISABLE. */
static void put_encryption(struct jb *b, enum store_media_encryption enc)
{
	put(b, "media_encryption", json_string(enum_name(&sip_json__encryption_enum, (int)enc)));
	if (enc == STORE_ENCRYPT_DISABLE)
		return;
	struct jb m;
	jb_init(&m);
	put(&m, "only_listed_codecs", json_false());
	put(&m, "codecs", json_array());
	put(&m, "encryption", json_string(enum_name(&sip_json__encryption_enum, (int)enc)));
	put(b, "media", jb_done(&m));
}

json_t *sip_json_inbound_trunk(const struct store_inbound_trunk *t)
{
	struct jb b;
	jb_init(&b);
	put(&b, "sip_trunk_id", jstr(t->id));
	put(&b, "name", jstr(t->name));
	put(&b, "metadata", jstr(t->metadata));
	put(&b, "numbers", jstrv(&t->numbers));
	put(&b, "allowed_addresses", jstrv(&t->allowed_addresses));
	put(&b, "allowed_numbers", jstrv(&t->allowed_numbers));
	put(&b, "auth_username", jstr(t->auth_username));
	put(&b, "auth_password", jstr(t->auth_password));
	put(&b, "auth_realm", jstr(t->auth_realm));
	put(&b, "headers", jmap(&t->headers));
	put(&b, "headers_to_attributes", jmap(&t->headers_to_attributes));
	put(&b, "attributes_to_headers", jmap(&t->attributes_to_headers));
	put(&b, "include_headers",
	    json_string(enum_name(&sip_json__header_option_enum, (int)t->include_headers)));
	if (t->ringing_timeout_ms)
		put(&b, "ringing_timeout", jduration(t->ringing_timeout_ms));
	if (t->max_call_duration_ms)
		put(&b, "max_call_duration", jduration(t->max_call_duration_ms));
	put(&b, "krisp_enabled", json_boolean(t->krisp_enabled));
	put_encryption(&b, t->media_encryption);
	put_times(&b, t->created_at_ms, t->updated_at_ms);
	return jb_done(&b);
}

json_t *sip_json_outbound_trunk(const struct store_outbound_trunk *t)
{
	struct jb b;
	jb_init(&b);
	put(&b, "sip_trunk_id", jstr(t->id));
	put(&b, "name", jstr(t->name));
	put(&b, "metadata", jstr(t->metadata));
	put(&b, "address", jstr(t->address));
	put(&b, "destination_country", jstr(t->destination_country));
	put(&b, "transport", json_string(enum_name(&sip_json__transport_enum, (int)t->transport)));
	put(&b, "numbers", jstrv(&t->numbers));
	put(&b, "auth_username", jstr(t->auth_username));
	put(&b, "auth_password", jstr(t->auth_password));
	put(&b, "headers", jmap(&t->headers));
	put(&b, "headers_to_attributes", jmap(&t->headers_to_attributes));
	put(&b, "attributes_to_headers", jmap(&t->attributes_to_headers));
	put(&b, "include_headers",
	    json_string(enum_name(&sip_json__header_option_enum, (int)t->include_headers)));
	put_encryption(&b, t->media_encryption);
	put(&b, "from_host", jstr(t->from_host));
	put_times(&b, t->created_at_ms, t->updated_at_ms);
	return jb_done(&b);
}

static json_t *jrule(const struct store_rule *r)
{
	struct jb m, b;
	const char *member;
	jb_init(&m);
	put(&m, "pin", jstr(r->pin));
	switch (r->kind) {
	case STORE_RULE_DIRECT:
		member = "dispatch_rule_direct";
		put(&m, "room_name", jstr(r->room_name));
		break;
	case STORE_RULE_INDIVIDUAL:
		member = "dispatch_rule_individual";
		put(&m, "room_prefix", jstr(r->room_prefix));
		put(&m, "no_randomness", json_boolean(r->no_randomness));
		break;
	case STORE_RULE_CALLEE:
		member = "dispatch_rule_callee";
		put(&m, "room_prefix", jstr(r->room_prefix));
		put(&m, "randomize", json_boolean(r->randomize));
		break;
	default:
		json_decref(m.o);
		return json_object(); /* a oneof with no member set */
	}
	jb_init(&b);
	put(&b, member, jb_done(&m));
	return jb_done(&b);
}

json_t *sip_json_dispatch_rule(const struct store_dispatch_rule *r)
{
	struct jb b;
	jb_init(&b);
	put(&b, "sip_dispatch_rule_id", jstr(r->id));
	if (r->rule.kind != STORE_RULE_NONE)
		put(&b, "rule", jrule(&r->rule));
	put(&b, "trunk_ids", jstrv(&r->trunk_ids));
	put(&b, "hide_phone_number", json_boolean(r->hide_phone_number));
	put(&b, "inbound_numbers", jstrv(&r->inbound_numbers));
	put(&b, "numbers", jstrv(&r->numbers));
	put(&b, "name", jstr(r->name));
	put(&b, "metadata", jstr(r->metadata));
	put(&b, "attributes", jmap(&r->attributes));
	put(&b, "room_preset", jstr(r->room_preset));
	if (!sip_json__empty(r->room_config_json)) {
		json_error_t je;
		json_t *rc = json_loads(r->room_config_json, 0, &je);
		if (json_is_object(rc))
			put(&b, "room_config", rc);
		else if (!rc && json_error_code(&je) == json_error_out_of_memory)
			b.bad = true;
		else
			json_decref(rc); /* not ours: left out rather than emitted broken */
	}
	put(&b, "krisp_enabled", json_boolean(r->krisp_enabled));
	put_encryption(&b, r->media_encryption);
	put_times(&b, r->created_at_ms, r->updated_at_ms);
	return jb_done(&b);
}

static json_t *wrap(const char *key, json_t *v)
{
	struct jb b;
	jb_init(&b);
	put(&b, key, v);
	return jb_done(&b);
}

json_t *sip_json_get_inbound_trunk_response(const struct store_inbound_trunk *t)
{
	return wrap("trunk", sip_json_inbound_trunk(t));
}

json_t *sip_json_get_outbound_trunk_response(const struct store_outbound_trunk *t)
{
	return wrap("trunk", sip_json_outbound_trunk(t));
}

/* {"items": [...]} with {} for a record whose id is NULL. */
static json_t *jlist(const void *v, size_t n, size_t size, const char *(*id)(const void *),
		     json_t *(*one)(const void *))
{
	json_t *items = json_array();
	for (size_t i = 0; items && i < n; i++) {
		const void *rec = (const char *)v + i * size;
		json_t *x = id(rec) ? one(rec) : json_object();
		if (json_array_append_new(items, x)) {
			json_decref(items);
			items = NULL;
		}
	}
	return wrap("items", items);
}

static const char *in_id(const void *p)
{
	return ((const struct store_inbound_trunk *)p)->id;
}
static json_t *in_one(const void *p)
{
	return sip_json_inbound_trunk(p);
}
static const char *out_id(const void *p)
{
	return ((const struct store_outbound_trunk *)p)->id;
}
static json_t *out_one(const void *p)
{
	return sip_json_outbound_trunk(p);
}
static const char *rule_id(const void *p)
{
	return ((const struct store_dispatch_rule *)p)->id;
}
static json_t *rule_one(const void *p)
{
	return sip_json_dispatch_rule(p);
}

json_t *sip_json_inbound_trunk_list(const struct store_inbound_trunk *v, size_t n)
{
	return jlist(v, n, sizeof(*v), in_id, in_one);
}

json_t *sip_json_outbound_trunk_list(const struct store_outbound_trunk *v, size_t n)
{
	return jlist(v, n, sizeof(*v), out_id, out_one);
}

json_t *sip_json_dispatch_rule_list(const struct store_dispatch_rule *v, size_t n)
{
	return jlist(v, n, sizeof(*v), rule_id, rule_one);
}

/* SIPTrunkInfo (dep) with every field present; NULL members read as "" or []. */
struct legacy_trunk {
	const char *id, *kind;
	const struct store_strv *inbound_addresses, *inbound_numbers;
	const char *outbound_address, *outbound_number;
	enum store_transport transport;
	const char *inbound_username, *inbound_password, *outbound_username, *outbound_password,
	    *name, *metadata;
};

static json_t *legacy_trunk(const struct legacy_trunk *l)
{
	static const struct store_strv none;
	struct jb b;
	jb_init(&b);
	put(&b, "sip_trunk_id", jstr(l->id));
	put(&b, "kind", json_string(l->kind));
	put(&b, "inbound_addresses", jstrv(l->inbound_addresses ? l->inbound_addresses : &none));
	put(&b, "outbound_address", jstr(l->outbound_address));
	put(&b, "outbound_number", jstr(l->outbound_number));
	put(&b, "transport", json_string(enum_name(&sip_json__transport_enum, (int)l->transport)));
	put(&b, "inbound_numbers_regex", json_array());
	put(&b, "inbound_numbers", jstrv(l->inbound_numbers ? l->inbound_numbers : &none));
	put(&b, "inbound_username", jstr(l->inbound_username));
	put(&b, "inbound_password", jstr(l->inbound_password));
	put(&b, "outbound_username", jstr(l->outbound_username));
	put(&b, "outbound_password", jstr(l->outbound_password));
	put(&b, "name", jstr(l->name));
	put(&b, "metadata", jstr(l->metadata));
	return jb_done(&b);
}

json_t *sip_json_inbound_trunk_legacy(const struct store_inbound_trunk *t)
{
	struct legacy_trunk l = {
	    .id = t->id,
	    .kind = "TRUNK_INBOUND",
	    .inbound_addresses = &t->allowed_addresses,
	    .inbound_numbers = &t->allowed_numbers,
	    .outbound_number = t->numbers.n ? t->numbers.v[0] : NULL,
	    .inbound_username = t->auth_username,
	    .inbound_password = t->auth_password,
	    .name = t->name,
	    .metadata = t->metadata,
	};
	return legacy_trunk(&l);
}

json_t *sip_json_outbound_trunk_legacy(const struct store_outbound_trunk *t)
{
	struct legacy_trunk l = {
	    .id = t->id,
	    .kind = "TRUNK_OUTBOUND",
	    .outbound_address = t->address,
	    .outbound_number = t->numbers.n ? t->numbers.v[0] : NULL,
	    .transport = t->transport,
	    .outbound_username = t->auth_username,
	    .outbound_password = t->auth_password,
	    .name = t->name,
	    .metadata = t->metadata,
	};
	return legacy_trunk(&l);
}

json_t *sip_json_delete_trunk_response(const char *id)
{
	struct legacy_trunk l = {.id = id, .kind = "TRUNK_LEGACY"};
	return legacy_trunk(&l);
}
