/* livekit.SIP trunk and dispatch-rule requests (Create, Update, Get/Delete, List) -> store
 * records, and applying Update requests to records; with the parse context and typed field
 * readers (protobuf-JSON style, field-named errors) that sip_json_call_in.c shares. */
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

/* ---- Enum names (livekit_sip.proto) ---- */

static const char *const transport_names[] = {"SIP_TRANSPORT_AUTO", "SIP_TRANSPORT_UDP",
					      "SIP_TRANSPORT_TCP", "SIP_TRANSPORT_TLS"};
static const char *const encryption_names[] = {
    "SIP_MEDIA_ENCRYPT_DISABLE", "SIP_MEDIA_ENCRYPT_ALLOW", "SIP_MEDIA_ENCRYPT_REQUIRE"};
static const char *const header_option_names[] = {"SIP_NO_HEADERS", "SIP_X_HEADERS",
						  "SIP_ALL_HEADERS"};

const struct sip_json__enum_def sip_json__transport_enum = {"SIPTransport", transport_names,
							    SB_ARRAY_LEN(transport_names)};
const struct sip_json__enum_def sip_json__encryption_enum = {"SIPMediaEncryption", encryption_names,
							     SB_ARRAY_LEN(encryption_names)};
const struct sip_json__enum_def sip_json__header_option_enum = {
    "SIPHeaderOptions", header_option_names, SB_ARRAY_LEN(header_option_names)};

/* Durations LK accepts in JSON: at most 315576000000 s (protobuf's Duration range). */
#define DURATION_MAX_S	     315576000000LL
#define MEDIA_TIMEOUT_MAX_MS (10 * 60 * 1000)

/* ---- Error messages ---- */

static int nomem_err(char *err, size_t err_len)
{
	if (err && err_len)
		snprintf(err, err_len, "out of memory");
	return SB_ENOMEM;
}

void sip_json__pctx_init(struct sip_json__pctx *c, char *err, size_t err_len)
{
	c->err = err;
	c->err_len = err_len;
	c->path[0] = 0;
	c->plen = 0;
	if (err && err_len)
		err[0] = 0;
}

int sip_json__fail(struct sip_json__pctx *c, const char *fmt, ...)
{
	if (c->err && c->err_len) {
		char msg[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (c->plen)
			snprintf(c->err, c->err_len, "%s: %s", c->path, msg);
		else
			snprintf(c->err, c->err_len, "%s", msg);
	}
	return SB_EINVAL;
}

static int nomem(struct sip_json__pctx *c)
{
	return nomem_err(c->err, c->err_len);
}

/* proto name -> json_name: "sip_trunk_id" -> "sipTrunkId". */
static void to_camel(const char *snake, char *out, size_t cap)
{
	size_t j = 0;
	bool up = false;
	for (const char *p = snake; *p && j + 1 < cap; p++) {
		if (*p == '_') {
			up = true;
			continue;
		}
		out[j++] = up ? (char)toupper((unsigned char)*p) : *p;
		up = false;
	}
	out[j] = 0;
}

static size_t push_raw(struct sip_json__pctx *c, const char *s)
{
	size_t old = c->plen;
	size_t room = sizeof(c->path) - c->plen;
	int n = snprintf(c->path + c->plen, room, "%s", s);
	if (n > 0)
		c->plen += (size_t)n < room ? (size_t)n : room - 1;
	return old;
}

/* Append ".fieldName" (camelCase) to the path; returns the length to pop back to. */
size_t sip_json__push(struct sip_json__pctx *c, const char *snake)
{
	char camel[64];
	size_t old = c->plen;
	to_camel(snake, camel, sizeof(camel));
	if (c->plen)
		push_raw(c, ".");
	push_raw(c, camel);
	return old;
}

static size_t push_index(struct sip_json__pctx *c, size_t i)
{
	char b[32];
	snprintf(b, sizeof(b), "[%zu]", i);
	return push_raw(c, b);
}

static size_t push_key(struct sip_json__pctx *c, const char *key)
{
	char b[64];
	snprintf(b, sizeof(b), "[\"%.40s\"]", key);
	return push_raw(c, b);
}

void sip_json__pop(struct sip_json__pctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = 0;
}

/* ---- Typed field readers ----
 * Each finds snake (or its camelCase form) in o; an absent or null field leaves *dst alone
 * and returns 0. */

static int lookup(struct sip_json__pctx *c, const json_t *o, const char *snake, json_t **out)
{
	char camel[64];
	to_camel(snake, camel, sizeof(camel));
	json_t *a = json_object_get(o, camel);
	json_t *b = strcmp(camel, snake) ? json_object_get(o, snake) : NULL;
	if (a && json_is_null(a))
		a = NULL;
	if (b && json_is_null(b))
		b = NULL;
	*out = NULL;
	if (a && b) {
		size_t old = sip_json__push(c, snake);
		int e = sip_json__fail(c, "given twice (as %s and %s)", camel, snake);
		sip_json__pop(c, old);
		return e;
	}
	*out = a ? a : b;
	return 0;
}

static int take_string(struct sip_json__pctx *c, const json_t *v, char **dst)
{
	if (!json_is_string(v))
		return sip_json__fail(c, "must be a string");
	const char *s = json_string_value(v);
	if (memchr(s, 0, json_string_length(v)))
		return sip_json__fail(c, "must not contain NUL");
	char *d = strdup(s);
	if (!d)
		return nomem(c);
	free(*dst);
	*dst = d;
	return 0;
}

int sip_json__get_str(struct sip_json__pctx *c, const json_t *o, const char *f, char **dst)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	e = take_string(c, v, dst);
	sip_json__pop(c, old);
	return e;
}

int sip_json__get_bool(struct sip_json__pctx *c, const json_t *o, const char *f, bool *dst)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	if (json_is_boolean(v))
		*dst = json_is_true(v);
	else
		e = sip_json__fail(c, "must be true or false");
	sip_json__pop(c, old);
	return e;
}

/* An integer as a JSON number (integral) or a decimal string, as protojson accepts. */
static int take_int(struct sip_json__pctx *c, const json_t *v, int64_t min, int64_t max,
		    int64_t *out)
{
	int64_t x;
	if (json_is_integer(v)) {
		x = (int64_t)json_integer_value(v);
	} else if (json_is_real(v)) {
		double d = json_real_value(v);
		if (d != d || d < -9.2e18 || d > 9.2e18 || (double)(int64_t)d != d)
			return sip_json__fail(c, "must be an integer");
		x = (int64_t)d;
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), i = 0;
		bool neg = n > 0 && s[0] == '-';
		i = neg ? 1 : 0;
		if (i == n)
			return sip_json__fail(c, "must be an integer");
		uint64_t u = 0;
		for (; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return sip_json__fail(c, "must be an integer");
			if (u > (UINT64_MAX - 9) / 10)
				return sip_json__fail(c, "out of range");
			u = u * 10 + (uint64_t)(s[i] - '0');
		}
		if (u > (uint64_t)INT64_MAX)
			return sip_json__fail(c, "out of range");
		x = neg ? -(int64_t)u : (int64_t)u;
	} else {
		return sip_json__fail(c, "must be an integer");
	}
	if (x < min || x > max)
		return sip_json__fail(c, "must be between %" PRId64 " and %" PRId64, min, max);
	*out = x;
	return 0;
}

static int get_int(struct sip_json__pctx *c, const json_t *o, const char *f, int64_t min,
		   int64_t max, int64_t *dst)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	e = take_int(c, v, min, max, dst);
	sip_json__pop(c, old);
	return e;
}

int sip_json__get_enum(struct sip_json__pctx *c, const json_t *o, const char *f,
		       const struct sip_json__enum_def *d, int *dst, bool *present)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t i;
		for (i = 0; i < d->n; i++)
			if (strcmp(s, d->names[i]) == 0)
				break;
		if (i < d->n)
			*dst = (int)i;
		else
			e = sip_json__fail(c, "unknown %s value \"%.64s\" (expected %s ... %s)",
					   d->type, s, d->names[0], d->names[d->n - 1]);
	} else if (json_is_integer(v)) {
		json_int_t x = json_integer_value(v);
		if (x >= 0 && (size_t)x < d->n)
			*dst = (int)x;
		else
			e = sip_json__fail(c, "unknown %s value %" JSON_INTEGER_FORMAT, d->type, x);
	} else {
		e = sip_json__fail(c, "must be a %s name such as \"%s\"", d->type,
				   d->names[d->n - 1]);
	}
	if (!e && present)
		*present = true;
	sip_json__pop(c, old);
	return e;
}

/* google.protobuf.Duration: "30s", "1.5s", "-0.25s"; into ms, sub-ms digits dropped. */
static int take_duration(struct sip_json__pctx *c, const json_t *v, int64_t *ms)
{
	if (!json_is_string(v))
		return sip_json__fail(c, "must be a duration string such as \"30s\"");
	const char *s = json_string_value(v);
	size_t n = json_string_length(v), i = 0;
	if (n < 2 || s[n - 1] != 's')
		return sip_json__fail(
		    c, "invalid duration \"%.32s\" (expected a form such as \"30s\")", s);
	n--;
	bool neg = s[0] == '-';
	if (neg)
		i++;
	int64_t sec = 0, frac_ms = 0;
	size_t int_digits = 0, frac_digits = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, int_digits++) {
		sec = sec * 10 + (s[i] - '0');
		if (sec > DURATION_MAX_S)
			return sip_json__fail(c, "duration out of range");
	}
	if (i < n && s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac_digits++)
			if (frac_digits < 3)
				frac_ms = frac_ms * 10 + (s[i] - '0');
		if (frac_digits == 0 || frac_digits > 9)
			return sip_json__fail(c, "invalid duration \"%.32s\"", s);
		for (size_t k = frac_digits; k < 3; k++)
			frac_ms *= 10;
	}
	if (i != n || int_digits == 0)
		return sip_json__fail(
		    c, "invalid duration \"%.32s\" (expected a form such as \"30s\")", s);
	if (neg && (sec || frac_ms))
		return sip_json__fail(c, "must not be negative");
	*ms = sec * 1000 + frac_ms;
	return 0;
}

int sip_json__get_duration(struct sip_json__pctx *c, const json_t *o, const char *f, int64_t *ms)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	e = take_duration(c, v, ms);
	sip_json__pop(c, old);
	return e;
}

/* repeated string; replaces *dst. */
static int get_strv(struct sip_json__pctx *c, const json_t *o, const char *f,
		    struct store_strv *dst)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	struct store_strv a = {0};
	if (!json_is_array(v)) {
		e = sip_json__fail(c, "must be an array of strings");
		goto out;
	}
	size_t n = json_array_size(v);
	if (n) {
		a.v = calloc(n, sizeof(*a.v));
		if (!a.v) {
			e = nomem(c);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_t *x = json_array_get(v, i);
		size_t o2 = push_index(c, i);
		e = json_is_null(x) ? sip_json__fail(c, "must be a string, not null")
				    : take_string(c, x, &a.v[i]);
		sip_json__pop(c, o2);
		if (e)
			goto out;
		a.n = i + 1;
	}
	store_strv_free(dst);
	*dst = a;
	a.v = NULL;
	a.n = 0;
out:
	if (e) {
		a.n = a.v ? json_array_size(v) : 0; /* calloc'd: unset slots are NULL */
		store_strv_free(&a);
	}
	sip_json__pop(c, old);
	return e;
}

/* map<string,string>; replaces *dst. */
int sip_json__get_map(struct sip_json__pctx *c, const json_t *o, const char *f,
		      struct store_map *dst)
{
	json_t *v;
	int e = lookup(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	struct store_map m = {0};
	if (!json_is_object(v)) {
		e = sip_json__fail(c, "must be an object of strings");
		goto out;
	}
	const char *k;
	size_t klen;
	json_t *x;
	json_object_keylen_foreach(v, k, klen, x)
	{
		size_t o2 = push_key(c, k);
		if (!json_is_string(x))
			e = sip_json__fail(c, "must be a string");
		else if (memchr(json_string_value(x), 0, json_string_length(x)))
			e = sip_json__fail(c, "must not contain NUL");
		else if (strlen(k) != klen)
			e = sip_json__fail(c, "key must not contain NUL");
		else if (store_map_set(&m, k, json_string_value(x)))
			e = nomem(c);
		sip_json__pop(c, o2);
		if (e)
			goto out;
	}
	store_map_free(dst);
	*dst = m;
	m.v = NULL;
	m.n = 0;
out:
	store_map_free(&m);
	sip_json__pop(c, old);
	return e;
}

int sip_json__get_object(struct sip_json__pctx *c, const json_t *o, const char *f, json_t **out)
{
	int e = lookup(c, o, f, out);
	if (e || !*out)
		return e;
	if (!json_is_object(*out)) {
		size_t old = sip_json__push(c, f);
		e = sip_json__fail(c, "must be an object");
		sip_json__pop(c, old);
	}
	return e;
}

static void list_update_free(struct sip_json_list_update *u)
{
	store_strv_free(&u->set);
	store_strv_free(&u->add);
	store_strv_free(&u->remove);
	memset(u, 0, sizeof(*u));
}

/* ListUpdate {set, add, remove, clear}. */
static int get_list_update(struct sip_json__pctx *c, const json_t *o, const char *f,
			   struct sip_json_list_update *u)
{
	json_t *v;
	int e = sip_json__get_object(c, o, f, &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, f);
	e = get_strv(c, v, "set", &u->set);
	e = e ? e : get_strv(c, v, "add", &u->add);
	e = e ? e : get_strv(c, v, "remove", &u->remove);
	e = e ? e : sip_json__get_bool(c, v, "clear", &u->clear);
	if (!e && u->clear && (u->set.n || u->add.n || u->remove.n))
		e = sip_json__fail(c, "clear cannot be combined with set, add or remove");
	if (!e && u->set.n && (u->add.n || u->remove.n))
		e = sip_json__fail(c, "set cannot be combined with add or remove");
	u->present = !e;
	sip_json__pop(c, old);
	return e;
}

/* SIPMediaConfig: validates the whole message, returns its encryption when set. */
static int get_media(struct sip_json__pctx *c, const json_t *o, bool *present, int *enc,
		     bool *has_enc)
{
	json_t *v;
	int e = sip_json__get_object(c, o, "media", &v);
	if (e || !v)
		return e;
	*present = true;
	size_t old = sip_json__push(c, "media");
	bool only = false;
	int64_t timeout = 0;
	e = sip_json__get_bool(c, v, "only_listed_codecs", &only);
	e = e ? e
	      : sip_json__get_enum(c, v, "encryption", &sip_json__encryption_enum, enc, has_enc);
	e = e ? e : sip_json__get_duration(c, v, "media_timeout", &timeout);
	if (!e && timeout > MEDIA_TIMEOUT_MAX_MS) {
		size_t o2 = sip_json__push(c, "media_timeout");
		e = sip_json__fail(c, "must be at most 10 minutes");
		sip_json__pop(c, o2);
	}
	json_t *codecs = NULL;
	e = e ? e : lookup(c, v, "codecs", &codecs);
	if (!e && codecs) {
		size_t o2 = sip_json__push(c, "codecs");
		if (!json_is_array(codecs))
			e = sip_json__fail(c, "must be an array of {name, rate}");
		for (size_t i = 0; !e && i < json_array_size(codecs); i++) {
			json_t *x = json_array_get(codecs, i);
			size_t o3 = push_index(c, i);
			char *name = NULL;
			int64_t rate = 0;
			if (!json_is_object(x))
				e = sip_json__fail(c, "must be an object {name, rate}");
			e = e ? e : sip_json__get_str(c, x, "name", &name);
			e = e ? e : get_int(c, x, "rate", 0, UINT32_MAX, &rate);
			if (!e && (!name || !*name))
				e = sip_json__fail(c, "name is required");
			if (!e && strchr(name, '/'))
				e = sip_json__fail(
				    c, "name must not contain '/' (give the rate in rate)");
			if (!e && rate == 0 && strcasecmp(name, "PCMU") &&
			    strcasecmp(name, "PCMA") && strcasecmp(name, "G722") &&
			    strcasecmp(name, "AMR-WB"))
				e = sip_json__fail(c, "rate is required for codec \"%.32s\"", name);
			free(name);
			sip_json__pop(c, o3);
		}
		sip_json__pop(c, o2);
	}
	sip_json__pop(c, old);
	return e;
}

/* The media_encryption (dep) + media pair of a record: media.encryption wins. */
static int get_encryption(struct sip_json__pctx *c, const json_t *o,
			  enum store_media_encryption *dst, bool *changed)
{
	int dep = (int)*dst, enc = 0;
	bool has_dep = false, has_media = false, has_enc = false;
	int e = sip_json__get_enum(c, o, "media_encryption", &sip_json__encryption_enum, &dep,
				   &has_dep);
	e = e ? e : get_media(c, o, &has_media, &enc, &has_enc);
	if (e)
		return e;
	if (has_enc)
		*dst = (enum store_media_encryption)enc;
	else if (has_dep)
		*dst = (enum store_media_encryption)dep;
	else if (has_media) /* a whole new media config without encryption */
		*dst = STORE_ENCRYPT_DISABLE;
	if (changed)
		*changed = has_dep || has_media;
	return 0;
}

/* RoomConfiguration: keys of the object and of each agents[] entry in snake_case. */
static int snake_keys(struct sip_json__pctx *c, const json_t *in, json_t **out)
{
	json_t *o = json_object();
	if (!o)
		return nomem(c);
	const char *k;
	json_t *v;
	int e = 0;
	json_object_foreach((json_t *)in, k, v)
	{
		if (json_is_null(v))
			continue;
		size_t kn = strlen(k), j = 0;
		char *s = malloc(2 * kn + 1);
		if (!s) {
			e = nomem(c);
			break;
		}
		for (const char *p = k; *p; p++) {
			if (isupper((unsigned char)*p)) {
				s[j++] = '_';
				s[j++] = (char)tolower((unsigned char)*p);
			} else {
				s[j++] = *p;
			}
		}
		s[j] = 0;
		if (json_object_get(o, s)) {
			size_t old = push_raw(c, ".");
			push_raw(c, s);
			e = sip_json__fail(c, "given twice");
			sip_json__pop(c, old);
		} else if (json_object_set(o, s, v)) {
			e = nomem(c);
		}
		free(s);
		if (e)
			break;
	}
	if (e) {
		json_decref(o);
		return e;
	}
	*out = o;
	return 0;
}

static int get_room_config(struct sip_json__pctx *c, const json_t *o, char **dst)
{
	json_t *v, *canon = NULL;
	int e = sip_json__get_object(c, o, "room_config", &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, "room_config");
	e = snake_keys(c, v, &canon);
	json_t *agents = e ? NULL : json_object_get(canon, "agents");
	if (agents) {
		/* a new array: canon's members are still the request's own values */
		size_t o2 = sip_json__push(c, "agents");
		json_t *na = json_array();
		if (!na)
			e = nomem(c);
		else if (!json_is_array(agents))
			e = sip_json__fail(c, "must be an array");
		for (size_t i = 0; !e && i < json_array_size(agents); i++) {
			json_t *a = json_array_get(agents, i), *sa = NULL;
			size_t o3 = push_index(c, i);
			if (!json_is_object(a))
				e = sip_json__fail(c, "must be an object");
			else
				e = snake_keys(c, a, &sa);
			if (!e && json_array_append_new(na, sa))
				e = nomem(c);
			sip_json__pop(c, o3);
		}
		if (!e && json_object_set_new(canon, "agents", na))
			e = nomem(c);
		else if (e)
			json_decref(na);
		sip_json__pop(c, o2);
	}
	if (!e) {
		char *text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
		if (!text) {
			e = nomem(c);
		} else {
			free(*dst);
			*dst = text;
		}
	}
	json_decref(canon);
	sip_json__pop(c, old);
	return e;
}

/* ---- Messages ---- */

static int parse_inbound(struct sip_json__pctx *c, const json_t *o, struct store_inbound_trunk *t)
{
	int inc = (int)t->include_headers;
	int e = sip_json__get_str(c, o, "sip_trunk_id", &t->id);
	e = e ? e : sip_json__get_str(c, o, "name", &t->name);
	e = e ? e : sip_json__get_str(c, o, "metadata", &t->metadata);
	e = e ? e : get_strv(c, o, "numbers", &t->numbers);
	e = e ? e : get_strv(c, o, "allowed_addresses", &t->allowed_addresses);
	e = e ? e : get_strv(c, o, "allowed_numbers", &t->allowed_numbers);
	e = e ? e : sip_json__get_str(c, o, "auth_username", &t->auth_username);
	e = e ? e : sip_json__get_str(c, o, "auth_password", &t->auth_password);
	e = e ? e : sip_json__get_str(c, o, "auth_realm", &t->auth_realm);
	e = e ? e : sip_json__get_map(c, o, "headers", &t->headers);
	e = e ? e : sip_json__get_map(c, o, "headers_to_attributes", &t->headers_to_attributes);
	e = e ? e : sip_json__get_map(c, o, "attributes_to_headers", &t->attributes_to_headers);
	e = e ? e
	      : sip_json__get_enum(c, o, "include_headers", &sip_json__header_option_enum, &inc,
				   NULL);
	e = e ? e : sip_json__get_duration(c, o, "ringing_timeout", &t->ringing_timeout_ms);
	e = e ? e : sip_json__get_duration(c, o, "max_call_duration", &t->max_call_duration_ms);
	e = e ? e : sip_json__get_bool(c, o, "krisp_enabled", &t->krisp_enabled);
	e = e ? e : get_encryption(c, o, &t->media_encryption, NULL);
	t->include_headers = (enum store_header_options)inc;
	return e;
}

static int parse_outbound(struct sip_json__pctx *c, const json_t *o, struct store_outbound_trunk *t)
{
	int inc = (int)t->include_headers, tr = (int)t->transport;
	int e = sip_json__get_str(c, o, "sip_trunk_id", &t->id);
	e = e ? e : sip_json__get_str(c, o, "name", &t->name);
	e = e ? e : sip_json__get_str(c, o, "metadata", &t->metadata);
	e = e ? e : sip_json__get_str(c, o, "address", &t->address);
	e = e ? e : sip_json__get_str(c, o, "destination_country", &t->destination_country);
	e = e ? e : sip_json__get_enum(c, o, "transport", &sip_json__transport_enum, &tr, NULL);
	e = e ? e : get_strv(c, o, "numbers", &t->numbers);
	e = e ? e : sip_json__get_str(c, o, "auth_username", &t->auth_username);
	e = e ? e : sip_json__get_str(c, o, "auth_password", &t->auth_password);
	e = e ? e : sip_json__get_map(c, o, "headers", &t->headers);
	e = e ? e : sip_json__get_map(c, o, "headers_to_attributes", &t->headers_to_attributes);
	e = e ? e : sip_json__get_map(c, o, "attributes_to_headers", &t->attributes_to_headers);
	e = e ? e
	      : sip_json__get_enum(c, o, "include_headers", &sip_json__header_option_enum, &inc,
				   NULL);
	e = e ? e : get_encryption(c, o, &t->media_encryption, NULL);
	e = e ? e : sip_json__get_str(c, o, "from_host", &t->from_host);
	t->include_headers = (enum store_header_options)inc;
	t->transport = (enum store_transport)tr;
	return e;
}

static void rule_free(struct store_rule *r)
{
	free(r->room_name);
	free(r->room_prefix);
	free(r->pin);
	memset(r, 0, sizeof(*r));
}

/* SIPDispatchRule: a oneof of direct, individual, callee. *present: the field was given. */
static int parse_rule(struct sip_json__pctx *c, const json_t *o, struct store_rule *r,
		      bool *present)
{
	static const char *const members[] = {"dispatch_rule_direct", "dispatch_rule_individual",
					      "dispatch_rule_callee"};
	json_t *v, *m[3];
	int e = sip_json__get_object(c, o, "rule", &v);
	if (e || !v)
		return e;
	size_t old = sip_json__push(c, "rule");
	int which = -1, count = 0;
	for (int i = 0; !e && i < 3; i++) {
		e = sip_json__get_object(c, v, members[i], &m[i]);
		if (!e && m[i]) {
			which = i;
			count++;
		}
	}
	if (!e && count > 1)
		e = sip_json__fail(c, "only one of dispatchRuleDirect, dispatchRuleIndividual and "
				      "dispatchRuleCallee may be set");
	struct store_rule n = {0};
	if (!e && which >= 0) {
		size_t o2 = sip_json__push(c, members[which]);
		json_t *x = m[which];
		e = sip_json__get_str(c, x, "pin", &n.pin);
		if (which == 0) {
			n.kind = STORE_RULE_DIRECT;
			e = e ? e : sip_json__get_str(c, x, "room_name", &n.room_name);
		} else {
			n.kind = which == 1 ? STORE_RULE_INDIVIDUAL : STORE_RULE_CALLEE;
			e = e ? e : sip_json__get_str(c, x, "room_prefix", &n.room_prefix);
			if (!e && which == 1)
				e = sip_json__get_bool(c, x, "no_randomness", &n.no_randomness);
			if (!e && which == 2)
				e = sip_json__get_bool(c, x, "randomize", &n.randomize);
		}
		sip_json__pop(c, o2);
	}
	if (e) {
		rule_free(&n);
	} else {
		rule_free(r);
		*r = n;
		*present = true;
	}
	sip_json__pop(c, old);
	return e;
}

/* SIPDispatchRuleInfo, or (legacy) the deprecated top level of CreateSIPDispatchRuleRequest. */
static int parse_rule_info(struct sip_json__pctx *c, const json_t *o, struct store_dispatch_rule *r,
			   bool legacy)
{
	bool has_rule = false;
	int e = legacy ? 0 : sip_json__get_str(c, o, "sip_dispatch_rule_id", &r->id);
	e = e ? e : parse_rule(c, o, &r->rule, &has_rule);
	e = e ? e : get_strv(c, o, "trunk_ids", &r->trunk_ids);
	e = e ? e : sip_json__get_bool(c, o, "hide_phone_number", &r->hide_phone_number);
	e = e ? e : get_strv(c, o, "inbound_numbers", &r->inbound_numbers);
	if (!e && !legacy)
		e = get_strv(c, o, "numbers", &r->numbers);
	e = e ? e : sip_json__get_str(c, o, "name", &r->name);
	e = e ? e : sip_json__get_str(c, o, "metadata", &r->metadata);
	e = e ? e : sip_json__get_map(c, o, "attributes", &r->attributes);
	e = e ? e : sip_json__get_str(c, o, "room_preset", &r->room_preset);
	e = e ? e : get_room_config(c, o, &r->room_config_json);
	if (!e && !legacy)
		e = sip_json__get_bool(c, o, "krisp_enabled", &r->krisp_enabled);
	if (!e && !legacy)
		e = get_encryption(c, o, &r->media_encryption, NULL);
	return e;
}

bool sip_json__empty(const char *s)
{
	return !s || !*s;
}

int sip_json__need_object(struct sip_json__pctx *c, const json_t *req)
{
	return json_is_object(req) ? 0
				   : sip_json__fail(c, "the request body must be a JSON object");
}

/* ---- Create ---- */

int sip_json_parse_create_inbound_trunk(const json_t *req, struct store_inbound_trunk *out,
					char *err, size_t err_len)
{
	struct sip_json__pctx c;
	json_t *v = NULL;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_object(&c, req, "trunk", &v);
	if (!e && !v)
		e = sip_json__fail(&c, "trunk is required");
	if (!e) {
		size_t old = sip_json__push(&c, "trunk");
		e = parse_inbound(&c, v, out);
		sip_json__pop(&c, old);
	}
	if (!e && !sip_json__empty(out->id))
		e = sip_json__fail(&c, "trunk ID must be empty");
	e = e ? e : sip_json_validate_inbound_trunk(out, err, err_len);
	if (e)
		store_inbound_trunk_free(out);
	return e;
}

int sip_json_parse_create_outbound_trunk(const json_t *req, struct store_outbound_trunk *out,
					 char *err, size_t err_len)
{
	struct sip_json__pctx c;
	json_t *v = NULL;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_object(&c, req, "trunk", &v);
	if (!e && !v)
		e = sip_json__fail(&c, "trunk is required");
	if (!e) {
		size_t old = sip_json__push(&c, "trunk");
		e = parse_outbound(&c, v, out);
		sip_json__pop(&c, old);
	}
	if (!e && !sip_json__empty(out->id))
		e = sip_json__fail(&c, "trunk ID must be empty");
	e = e ? e : sip_json_validate_outbound_trunk(out, err, err_len);
	if (e)
		store_outbound_trunk_free(out);
	return e;
}

int sip_json_parse_create_dispatch_rule(const json_t *req, struct store_dispatch_rule *out,
					char *err, size_t err_len)
{
	struct sip_json__pctx c;
	json_t *v = NULL;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_object(&c, req, "dispatch_rule", &v);
	if (!e && v) {
		size_t old = sip_json__push(&c, "dispatch_rule");
		e = parse_rule_info(&c, v, out, false);
		sip_json__pop(&c, old);
	} else if (!e) {
		e = parse_rule_info(&c, req, out, true);
	}
	if (!e && !sip_json__empty(out->id))
		e = sip_json__fail(&c, "rule id must not be set");
	e = e ? e : sip_json_validate_dispatch_rule(out, err, err_len);
	if (e)
		store_dispatch_rule_free(out);
	return e;
}

/* ---- Get / Delete ---- */

static int parse_id(const json_t *req, const char *field, const char *what, char **id, char *err,
		    size_t err_len)
{
	struct sip_json__pctx c;
	sip_json__pctx_init(&c, err, err_len);
	*id = NULL;
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_str(&c, req, field, id);
	if (!e && sip_json__empty(*id))
		e = sip_json__fail(&c, "%s ID is required", what);
	if (e) {
		free(*id);
		*id = NULL;
	}
	return e;
}

int sip_json_parse_trunk_id(const json_t *req, char **id, char *err, size_t err_len)
{
	return parse_id(req, "sip_trunk_id", "trunk", id, err, err_len);
}

int sip_json_parse_rule_id(const json_t *req, char **id, char *err, size_t err_len)
{
	return parse_id(req, "sip_dispatch_rule_id", "dispatch rule", id, err, err_len);
}

/* ---- Update ---- */

/* The shared head of the Update requests: the id and which action is present. */
static int parse_update_head(struct sip_json__pctx *c, const json_t *req, const char *id_field,
			     const char *what, char **id, json_t **replace, json_t **update)
{
	int e = sip_json__need_object(c, req);
	e = e ? e : sip_json__get_str(c, req, id_field, id);
	if (!e && sip_json__empty(*id))
		e = sip_json__fail(c, "%s ID is required", what);
	e = e ? e : sip_json__get_object(c, req, "replace", replace);
	e = e ? e : sip_json__get_object(c, req, "update", update);
	if (!e && *replace && *update)
		e = sip_json__fail(c, "only one of replace and update may be set");
	if (!e && !*replace && !*update)
		e = sip_json__fail(c, "replace or update is required");
	return e;
}

static int replace_id(struct sip_json__pctx *c, char **dst, const char *id)
{
	char *d = strdup(id);
	if (!d)
		return nomem(c);
	free(*dst);
	*dst = d;
	return 0;
}

void sip_json_update_inbound_req_free(struct sip_json_update_inbound_req *r)
{
	if (!r)
		return;
	struct sip_json_inbound_update *u = &r->update;
	free(r->id);
	store_inbound_trunk_free(&r->replace);
	list_update_free(&u->numbers);
	list_update_free(&u->allowed_addresses);
	list_update_free(&u->allowed_numbers);
	free(u->auth_username);
	free(u->auth_password);
	free(u->auth_realm);
	free(u->name);
	free(u->metadata);
	memset(r, 0, sizeof(*r));
}

int sip_json_parse_update_inbound_trunk(const json_t *req, struct sip_json_update_inbound_req *out,
					char *err, size_t err_len)
{
	struct sip_json__pctx c;
	json_t *rep = NULL, *upd = NULL;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = parse_update_head(&c, req, "sip_trunk_id", "trunk", &out->id, &rep, &upd);
	if (!e && rep) {
		out->is_replace = true;
		size_t old = sip_json__push(&c, "replace");
		e = parse_inbound(&c, rep, &out->replace);
		sip_json__pop(&c, old);
		e = e ? e : replace_id(&c, &out->replace.id, out->id);
		e = e ? e : sip_json_validate_inbound_trunk(&out->replace, err, err_len);
	} else if (!e) {
		struct sip_json_inbound_update *u = &out->update;
		size_t old = sip_json__push(&c, "update");
		e = get_list_update(&c, upd, "numbers", &u->numbers);
		e = e ? e : get_list_update(&c, upd, "allowed_addresses", &u->allowed_addresses);
		e = e ? e : get_list_update(&c, upd, "allowed_numbers", &u->allowed_numbers);
		e = e ? e : sip_json__get_str(&c, upd, "auth_username", &u->auth_username);
		e = e ? e : sip_json__get_str(&c, upd, "auth_password", &u->auth_password);
		e = e ? e : sip_json__get_str(&c, upd, "auth_realm", &u->auth_realm);
		e = e ? e : sip_json__get_str(&c, upd, "name", &u->name);
		e = e ? e : sip_json__get_str(&c, upd, "metadata", &u->metadata);
		if (!e) {
			enum store_media_encryption me = STORE_ENCRYPT_DISABLE;
			e = get_encryption(&c, upd, &me, &u->has_media_encryption);
			u->media_encryption = me;
		}
		sip_json__pop(&c, old);
	}
	if (e)
		sip_json_update_inbound_req_free(out);
	return e;
}

void sip_json_update_outbound_req_free(struct sip_json_update_outbound_req *r)
{
	if (!r)
		return;
	struct sip_json_outbound_update *u = &r->update;
	free(r->id);
	store_outbound_trunk_free(&r->replace);
	list_update_free(&u->numbers);
	free(u->address);
	free(u->destination_country);
	free(u->auth_username);
	free(u->auth_password);
	free(u->name);
	free(u->metadata);
	free(u->from_host);
	memset(r, 0, sizeof(*r));
}

int sip_json_parse_update_outbound_trunk(const json_t *req,
					 struct sip_json_update_outbound_req *out, char *err,
					 size_t err_len)
{
	struct sip_json__pctx c;
	json_t *rep = NULL, *upd = NULL;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = parse_update_head(&c, req, "sip_trunk_id", "trunk", &out->id, &rep, &upd);
	if (!e && rep) {
		out->is_replace = true;
		size_t old = sip_json__push(&c, "replace");
		e = parse_outbound(&c, rep, &out->replace);
		sip_json__pop(&c, old);
		e = e ? e : replace_id(&c, &out->replace.id, out->id);
		e = e ? e : sip_json_validate_outbound_trunk(&out->replace, err, err_len);
	} else if (!e) {
		struct sip_json_outbound_update *u = &out->update;
		int tr = 0;
		size_t old = sip_json__push(&c, "update");
		e = sip_json__get_str(&c, upd, "address", &u->address);
		e = e ? e
		      : sip_json__get_enum(&c, upd, "transport", &sip_json__transport_enum, &tr,
					   &u->has_transport);
		e = e ? e
		      : sip_json__get_str(&c, upd, "destination_country", &u->destination_country);
		e = e ? e : sip_json__get_str(&c, upd, "auth_username", &u->auth_username);
		e = e ? e : sip_json__get_str(&c, upd, "auth_password", &u->auth_password);
		e = e ? e : sip_json__get_str(&c, upd, "name", &u->name);
		e = e ? e : sip_json__get_str(&c, upd, "metadata", &u->metadata);
		e = e ? e : sip_json__get_str(&c, upd, "from_host", &u->from_host);
		e = e ? e : get_list_update(&c, upd, "numbers", &u->numbers);
		if (!e) {
			enum store_media_encryption me = STORE_ENCRYPT_DISABLE;
			e = get_encryption(&c, upd, &me, &u->has_media_encryption);
			u->media_encryption = me;
		}
		u->transport = (enum store_transport)tr;
		sip_json__pop(&c, old);
	}
	if (e)
		sip_json_update_outbound_req_free(out);
	return e;
}

void sip_json_update_rule_req_free(struct sip_json_update_rule_req *r)
{
	if (!r)
		return;
	struct sip_json_rule_update *u = &r->update;
	free(r->id);
	store_dispatch_rule_free(&r->replace);
	list_update_free(&u->trunk_ids);
	rule_free(&u->rule);
	free(u->name);
	free(u->metadata);
	store_map_free(&u->attributes);
	memset(r, 0, sizeof(*r));
}

int sip_json_parse_update_dispatch_rule(const json_t *req, struct sip_json_update_rule_req *out,
					char *err, size_t err_len)
{
	struct sip_json__pctx c;
	json_t *rep = NULL, *upd = NULL;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = parse_update_head(&c, req, "sip_dispatch_rule_id", "dispatch rule", &out->id, &rep,
				  &upd);
	if (!e && rep) {
		out->is_replace = true;
		size_t old = sip_json__push(&c, "replace");
		e = parse_rule_info(&c, rep, &out->replace, false);
		sip_json__pop(&c, old);
		e = e ? e : replace_id(&c, &out->replace.id, out->id);
		e = e ? e : sip_json_validate_dispatch_rule(&out->replace, err, err_len);
	} else if (!e) {
		struct sip_json_rule_update *u = &out->update;
		size_t old = sip_json__push(&c, "update");
		e = get_list_update(&c, upd, "trunk_ids", &u->trunk_ids);
		e = e ? e : parse_rule(&c, upd, &u->rule, &u->has_rule);
		if (!e && u->has_rule && u->rule.kind == STORE_RULE_NONE)
			e = sip_json__fail(
			    &c, "rule: one of dispatchRuleDirect, dispatchRuleIndividual or "
				"dispatchRuleCallee is required");
		e = e ? e : sip_json__get_str(&c, upd, "name", &u->name);
		e = e ? e : sip_json__get_str(&c, upd, "metadata", &u->metadata);
		e = e ? e : sip_json__get_map(&c, upd, "attributes", &u->attributes);
		if (!e) {
			enum store_media_encryption me = STORE_ENCRYPT_DISABLE;
			e = get_encryption(&c, upd, &me, &u->has_media_encryption);
			u->media_encryption = me;
		}
		sip_json__pop(&c, old);
	}
	if (e)
		sip_json_update_rule_req_free(out);
	return e;
}

/* Apply one ListUpdate: clear; else set; else remove, then add (deduplicated). */
static int apply_list(struct store_strv *a, const struct sip_json_list_update *u)
{
	if (!u->present)
		return 0;
	if (u->clear) {
		store_strv_free(a);
		return 0;
	}
	if (u->set.n) {
		struct store_strv n;
		if (store_strv_copy(&n, &u->set))
			return SB_ENOMEM;
		store_strv_free(a);
		*a = n;
		return 0;
	}
	for (size_t r = 0; r < u->remove.n; r++) {
		size_t j = 0;
		for (size_t i = 0; i < a->n; i++) {
			if (strcmp(a->v[i] ? a->v[i] : "", u->remove.v[r]) == 0)
				free(a->v[i]);
			else
				a->v[j++] = a->v[i];
		}
		a->n = j;
	}
	for (size_t i = 0; i < u->add.n; i++)
		if (!store_strv_contains(a, u->add.v[i]) && store_strv_push(a, u->add.v[i]))
			return SB_ENOMEM;
	return 0;
}

static int apply_str(char **dst, const char *src)
{
	if (!src)
		return 0;
	char *d = strdup(src);
	if (!d)
		return SB_ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

int sip_json_apply_inbound_update(struct store_inbound_trunk *t,
				  const struct sip_json_inbound_update *u, char *err,
				  size_t err_len)
{
	int e = apply_list(&t->numbers, &u->numbers);
	e = e ? e : apply_list(&t->allowed_addresses, &u->allowed_addresses);
	e = e ? e : apply_list(&t->allowed_numbers, &u->allowed_numbers);
	e = e ? e : apply_str(&t->auth_username, u->auth_username);
	e = e ? e : apply_str(&t->auth_password, u->auth_password);
	e = e ? e : apply_str(&t->auth_realm, u->auth_realm);
	e = e ? e : apply_str(&t->name, u->name);
	e = e ? e : apply_str(&t->metadata, u->metadata);
	if (e)
		return nomem_err(err, err_len);
	if (u->has_media_encryption)
		t->media_encryption = u->media_encryption;
	return sip_json_validate_inbound_trunk(t, err, err_len);
}

int sip_json_apply_outbound_update(struct store_outbound_trunk *t,
				   const struct sip_json_outbound_update *u, char *err,
				   size_t err_len)
{
	int e = apply_list(&t->numbers, &u->numbers);
	e = e ? e : apply_str(&t->address, u->address);
	e = e ? e : apply_str(&t->destination_country, u->destination_country);
	e = e ? e : apply_str(&t->auth_username, u->auth_username);
	e = e ? e : apply_str(&t->auth_password, u->auth_password);
	e = e ? e : apply_str(&t->name, u->name);
	e = e ? e : apply_str(&t->metadata, u->metadata);
	e = e ? e : apply_str(&t->from_host, u->from_host);
	if (e)
		return nomem_err(err, err_len);
	if (u->has_transport)
		t->transport = u->transport;
	if (u->has_media_encryption)
		t->media_encryption = u->media_encryption;
	return sip_json_validate_outbound_trunk(t, err, err_len);
}

static void map_delete(struct store_map *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->v[i].key ? m->v[i].key : "", key) != 0)
			continue;
		free(m->v[i].key);
		free(m->v[i].value);
		memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof(m->v[0]));
		m->n--;
		return;
	}
}

int sip_json_apply_rule_update(struct store_dispatch_rule *r, const struct sip_json_rule_update *u,
			       char *err, size_t err_len)
{
	int e = apply_list(&r->trunk_ids, &u->trunk_ids);
	if (!e && u->has_rule) {
		struct store_rule n = {.kind = u->rule.kind,
				       .randomize = u->rule.randomize,
				       .no_randomness = u->rule.no_randomness};
		if (apply_str(&n.room_name, u->rule.room_name ? u->rule.room_name : "") ||
		    apply_str(&n.room_prefix, u->rule.room_prefix ? u->rule.room_prefix : "") ||
		    apply_str(&n.pin, u->rule.pin ? u->rule.pin : "")) {
			rule_free(&n);
			e = SB_ENOMEM;
		} else {
			rule_free(&r->rule);
			r->rule = n;
		}
	}
	e = e ? e : apply_str(&r->name, u->name);
	e = e ? e : apply_str(&r->metadata, u->metadata);
	for (size_t i = 0; !e && i < u->attributes.n; i++) {
		const struct store_pair *p = &u->attributes.v[i];
		if (sip_json__empty(p->value))
			map_delete(&r->attributes, p->key);
		else
			e = store_map_set(&r->attributes, p->key, p->value);
	}
	if (e)
		return nomem_err(err, err_len);
	if (u->has_media_encryption)
		r->media_encryption = u->media_encryption;
	return sip_json_validate_dispatch_rule(r, err, err_len);
}

/* ---- List ---- */

void sip_json_list_req_free(struct sip_json_list_req *r)
{
	if (!r)
		return;
	store_strv_free(&r->ids);
	store_strv_free(&r->numbers);
	store_strv_free(&r->trunk_ids);
	free(r->after_id);
	memset(r, 0, sizeof(*r));
}

static int parse_list(const json_t *req, bool rules, struct sip_json_list_req *out, char *err,
		      size_t err_len)
{
	struct sip_json__pctx c;
	json_t *page = NULL;
	int64_t limit = 0;
	sip_json__pctx_init(&c, err, err_len);
	memset(out, 0, sizeof(*out));
	int e = sip_json__need_object(&c, req);
	e = e ? e : sip_json__get_object(&c, req, "page", &page);
	if (!e && page) {
		size_t old = sip_json__push(&c, "page");
		e = sip_json__get_str(&c, page, "after_id", &out->after_id);
		e = e ? e : get_int(&c, page, "limit", 0, INT32_MAX, &limit);
		sip_json__pop(&c, old);
	}
	out->limit = (uint32_t)limit;
	if (!e && rules)
		e = get_strv(&c, req, "dispatch_rule_ids", &out->ids);
	if (!e && rules)
		e = get_strv(&c, req, "trunk_ids", &out->trunk_ids);
	if (!e && !rules)
		e = get_strv(&c, req, "trunk_ids", &out->ids);
	if (!e && !rules)
		e = get_strv(&c, req, "numbers", &out->numbers);
	if (e)
		sip_json_list_req_free(out);
	return e;
}

int sip_json_parse_list_trunks(const json_t *req, struct sip_json_list_req *out, char *err,
			       size_t err_len)
{
	return parse_list(req, false, out, err, err_len);
}

int sip_json_parse_list_rules(const json_t *req, struct sip_json_list_req *out, char *err,
			      size_t err_len)
{
	return parse_list(req, true, out, err, err_len);
}

void sip_json_list_req_filter(const struct sip_json_list_req *r, struct store_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->ids = (const char *const *)r->ids.v;
	f->n_ids = r->ids.n;
	f->numbers = (const char *const *)r->numbers.v;
	f->n_numbers = r->numbers.n;
	f->trunk_ids = (const char *const *)r->trunk_ids.v;
	f->n_trunk_ids = r->trunk_ids.n;
	f->after_id = sip_json__empty(r->after_id) ? NULL : r->after_id;
	f->limit = r->limit;
}
