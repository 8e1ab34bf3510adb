/* `sip:` in switchboard.yaml: inbound and outbound trunks and dispatch rules, each entry turned
 * into the JSON of its livekit.SIP Create request and read by the API's own parser. */
#include "app/config_int.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "api/sip_json.h"
#include "base/compat.h"
#include "base/err.h"
#include "base/log.h"
/* ---- sip: trunks and dispatch rules ----
 * Each entry becomes the JSON object of the matching livekit.SIP Create request and goes
 * through the API's own parser and validator, so the file accepts what the API accepts. */

enum decl_kind { DECL_IN, DECL_OUT, DECL_RULE };

static const struct decl_def {
	const char *snake, *camel; /* the key under sip: */
	const char *wrapper;	   /* the Create request's member, as the parser names it */
	const char *wrapper_camel;
	const char *prefix;
	const char *id_snake, *id_camel; /* the record's own id field, taken as `id` */
} decl_defs[] = {
    [DECL_IN] = {"inbound_trunks", "inboundTrunks", "trunk", "trunk", STORE_TRUNK_PFX,
		 "sip_trunk_id", "sipTrunkId"},
    [DECL_OUT] = {"outbound_trunks", "outboundTrunks", "trunk", "trunk", STORE_TRUNK_PFX,
		  "sip_trunk_id", "sipTrunkId"},
    [DECL_RULE] = {"dispatch_rules", "dispatchRules", "dispatch_rule", "dispatchRule",
		   STORE_RULE_PFX, "sip_dispatch_rule_id", "sipDispatchRuleId"},
};

#define JSON_DEPTH_MAX 32

bool config__key_is(const char *k, const char *snake, const char *camel)
{
	return !strcmp(k, snake) || !strcmp(k, camel);
}

/* Enum fields take the short name in the file: `transport: tcp` is SIP_TRANSPORT_TCP. */
static const char *enum_prefix(const char *k)
{
	if (!strcmp(k, "transport"))
		return "SIP_TRANSPORT_";
	if (config__key_is(k, "media_encryption", "mediaEncryption") || !strcmp(k, "encryption"))
		return "SIP_MEDIA_ENCRYPT_";
	if (config__key_is(k, "include_headers", "includeHeaders"))
		return "SIP_";
	return NULL;
}

static bool is_duration_key(const char *k)
{
	return config__key_is(k, "ringing_timeout", "ringingTimeout") ||
	       config__key_is(k, "max_call_duration", "maxCallDuration") ||
	       config__key_is(k, "media_timeout", "mediaTimeout");
}

/* How the scalars below a key become JSON. */
enum jmode {
	J_FIELDS,  /* record fields: strings, with enum short names and durations by key */
	J_STRINGS, /* metadata, attributes, headers: the user's strings, verbatim */
	J_TYPED,   /* room_config: numbers as numbers, as the API takes the JSON object */
};

static enum jmode mode_below(enum jmode m, const char *k)
{
	if (m != J_FIELDS)
		return m;
	if (config__key_is(k, "room_config", "roomConfig"))
		return J_TYPED;
	if (!strcmp(k, "attributes") || !strcmp(k, "headers") || !strcmp(k, "metadata") ||
	    config__key_is(k, "headers_to_attributes", "headersToAttributes") ||
	    config__key_is(k, "attributes_to_headers", "attributesToHeaders"))
		return J_STRINGS;
	return J_FIELDS;
}

/* A plain YAML number (core schema, decimal): as a JSON integer or real, else NULL. */
static json_t *number_json(const char *v)
{
	const char *p = v + (*v == '-' || *v == '+');
	if (!*p || strspn(p, "0123456789.eE+-") != strlen(p) || *p < '0' || *p > '9')
		return NULL;
	char *end;
	errno = 0;
	long long i = strtoll(v, &end, 10);
	if (!*end && !errno)
		return json_integer((json_int_t)i);
	errno = 0;
	double d = strtod(v, &end);
	return !*end && !errno ? json_real(d) : NULL;
}

/* A scalar as JSON: plain null/true/false as such, everything else a string; in J_FIELDS
 * under key k, enum short names and config-style durations are spelled the protobuf-JSON
 * way; in J_TYPED, plain numbers are numbers. */
static json_t *scalar_json(const yaml_node_t *n, enum jmode m, const char *k)
{
	const char *v = config__scalar(n);
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (config__is_null(n))
			return json_null();
		if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
			return json_true();
		if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
			return json_false();
		json_t *num = m == J_TYPED ? number_json(v) : NULL;
		if (num)
			return num;
	}
	const char *pfx = m == J_FIELDS ? enum_prefix(k) : NULL;
	if (pfx && len > 0 && len < 40 && strncmp(v, "SIP_", 4)) {
		uint64_t num;
		if (!config__parse_u64(v, 1000, &num))
			return json_integer((json_int_t)num);
		char name[80];
		size_t pl = strlen(pfx);
		memcpy(name, pfx, pl);
		for (size_t i = 0; i <= len; i++)
			name[pl + i] = (char)toupper((unsigned char)v[i]);
		return json_string(name);
	}
	uint64_t ms;
	if (m == J_FIELDS && is_duration_key(k) && !config__parse_duration_ms(v, 1000, &ms)) {
		char text[48];
		if (ms % 1000)
			snprintf(text, sizeof(text), "%llu.%03llus",
				 (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
		else
			snprintf(text, sizeof(text), "%llus", (unsigned long long)(ms / 1000));
		return json_string(text);
	}
	return json_stringn(v, len);
}

/* A YAML node as JSON; key is the path written so far for messages, k the mapping key the
 * node is the value of. */
static int node_json(struct yctx *y, yaml_node_t *n, const char *key, enum jmode m, const char *k,
		     int depth, json_t **out)
{
	*out = NULL;
	if (depth > JSON_DEPTH_MAX)
		return config__fail(y, n, key, "nested too deeply");
	if (n->type == YAML_SCALAR_NODE) {
		*out = scalar_json(n, m, k);
		return *out
			   ? 0
			   : config__fail(y, n, key, "cannot convert (out of memory or not UTF-8)");
	}
	json_t *j = n->type == YAML_SEQUENCE_NODE ? json_array() : json_object();
	if (!j)
		return config__fail(y, n, key, "out of memory");
	char sub[256];
	int r = 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		size_t i = 0;
		FOR_ITEMS(n, it)
		{
			json_t *x;
			snprintf(sub, sizeof(sub), "%s[%zu]", key, i++);
			if ((r = node_json(y, config__node(y, *it), sub, m, k, depth + 1, &x)))
				break;
			if (json_array_append_new(j, x)) {
				r = config__fail(y, n, key, "out of memory");
				break;
			}
		}
	} else {
		FOR_PAIRS(n, p)
		{
			yaml_node_t *kn = config__node(y, p->key), *vn = config__node(y, p->value);
			if (kn->type != YAML_SCALAR_NODE) {
				r = config__fail(y, kn, key, "keys must be plain names, not %s",
						 config__type_name(kn));
				break;
			}
			const char *name = config__scalar(kn);
			snprintf(sub, sizeof(sub), "%s.%s", key, name);
			if (json_object_get(j, name)) {
				r = config__fail(y, kn, sub, "given twice");
				break;
			}
			json_t *x;
			if ((r = node_json(y, vn, sub, mode_below(m, name), name, depth + 1, &x)))
				break;
			if (json_object_set_new(j, name, x)) {
				r = config__fail(y, kn, sub, "out of memory");
				break;
			}
		}
	}
	if (r)
		json_decref(j);
	else
		*out = j;
	return r;
}

/* "allowedAddresses" -> "allowed_addresses" (n bytes of in). */
static void snake_case(const char *in, size_t n, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 2 < cap; i++) {
		char ch = in[i];
		if (ch >= 'A' && ch <= 'Z') {
			if (j)
				out[j++] = '_';
			ch = (char)(ch - 'A' + 'a');
		}
		out[j++] = ch;
	}
	out[j] = '\0';
}

/* The value of the mapping m under a key whose snake_case spelling is name, or NULL. */
static yaml_node_t *map_get(struct yctx *y, yaml_node_t *m, const char *name)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	FOR_PAIRS(m, p)
	{
		yaml_node_t *kn = config__node(y, p->key);
		char s[96];
		if (kn->type != YAML_SCALAR_NODE)
			continue;
		snake_case(config__scalar(kn), kn->data.scalar.length, s, sizeof(s));
		if (!strcmp(s, name) || !strcmp(config__scalar(kn), name))
			return config__node(y, p->value);
	}
	return NULL;
}

/* The parser's message "trunk.allowedAddresses[1]: must be a string" as
 * "FILE:LINE: sip.inbound_trunks[0].allowed_addresses[1]: must be a string", the line that of
 * the field when it can be found under the entry e. */
static int json_fail(struct yctx *y, yaml_node_t *e, const char *entry, const struct decl_def *d,
		     const char *msg)
{
	size_t wl = strlen(d->wrapper_camel);
	const char *s = msg;
	if (!strncmp(s, d->wrapper_camel, wl) && (s[wl] == '.' || s[wl] == ':'))
		s += wl + (s[wl] == '.' ? 1 : 2);
	while (*s == ' ')
		s++;
	/* a leading field path: identifier characters, dots and [N] / ["key"] up to ": " */
	const char *colon = strstr(s, ": ");
	size_t plen = 0;
	if (colon) {
		const char *p = s;
		bool ok = p < colon;
		while (ok && p < colon) {
			if (*p == '"') {
				const char *q = memchr(p + 1, '"', (size_t)(colon - p - 1));
				ok = q != NULL;
				p = q ? q + 1 : p;
			} else {
				ok = isalnum((unsigned char)*p) || strchr("_.[]-", *p);
				p++;
			}
		}
		if (ok)
			plen = (size_t)(colon - s);
	}
	char path[192] = "";
	yaml_node_t *at = e;
	if (plen) {
		/* snake_case outside ["..."], and find the node segment by segment */
		size_t j = 0;
		const char *p = s, *end = s + plen;
		yaml_node_t *cur = e;
		while (p < end && j + 4 < sizeof(path)) {
			if (*p == '.') {
				path[j++] = *p++;
			} else if (*p == '[') {
				const char *q;
				if (p + 2 < end &&
				    p[1] == '"') { /* ["key"]: to the quote before ] */
					q = memchr(p + 2, '"', (size_t)(end - p - 2));
					q = q && q + 1 < end && q[1] == ']' ? q + 1 : NULL;
				} else {
					q = memchr(p, ']', (size_t)(end - p));
				}
				size_t n = q ? (size_t)(q - p + 1) : (size_t)(end - p);
				if (cur && p[1] != '"' && cur->type == YAML_SEQUENCE_NODE) {
					size_t idx = strtoul(p + 1, NULL, 10);
					size_t cnt = (size_t)(cur->data.sequence.items.top -
							      cur->data.sequence.items.start);
					cur = idx < cnt
						  ? config__node(
							y, cur->data.sequence.items.start[idx])
						  : NULL;
				} else if (cur && p[1] == '"' && n > 4) {
					char k[96];
					snprintf(k, sizeof(k), "%.*s", (int)(n - 4), p + 2);
					cur = map_get(y, cur, k);
				} else {
					cur = NULL;
				}
				if (cur)
					at = cur;
				if (n > sizeof(path) - j - 1)
					n = sizeof(path) - j - 1;
				memcpy(path + j, p, n);
				j += n;
				p += n;
			} else {
				size_t n = strcspn(p, ".[");
				if (n > (size_t)(end - p))
					n = (size_t)(end - p);
				char seg[96];
				snake_case(p, n, seg, sizeof(seg));
				cur = map_get(y, cur, seg);
				if (cur)
					at = cur;
				j += (size_t)snprintf(path + j, sizeof(path) - j, "%s", seg);
				if (j >= sizeof(path))
					j = sizeof(path) - 1;
				p += n;
			}
		}
		path[j] = '\0';
		s = colon + 2;
	}
	snprintf(y->err, y->cap, "%s:%zu: %s%s%s: %s", y->path, config__line_of(at), entry,
		 plen ? "." : "", path, s);
	return SB_EINVAL;
}

static void where_set(struct yctx *y, const yaml_node_t *n, const char *entry,
		      struct sb_config_where *w)
{
	snprintf(w->text, sizeof(w->text), "%s:%zu: %s", y->path, config__line_of(n), entry);
}

void sb_config_sip_free(struct sb_config_sip *s)
{
	for (size_t i = 0; i < s->n_in; i++)
		store_inbound_trunk_free(&s->in[i]);
	for (size_t i = 0; i < s->n_out; i++)
		store_outbound_trunk_free(&s->out[i]);
	for (size_t i = 0; i < s->n_rules; i++)
		store_dispatch_rule_free(&s->rules[i]);
	free(s->in);
	free(s->out);
	free(s->rules);
	free(s->in_where);
	free(s->out_where);
	free(s->rule_where);
	memset(s, 0, sizeof(*s));
}

void config__close_free(struct api_agent_close *a)
{
	free(a->file);
	free(a->target);
	memset(a, 0, sizeof(*a));
}

void sb_config_free(struct sb_config *c)
{
	sb_config_sip_free(&c->sip);
	config__close_free(&c->agent_close);
	sb_config_agents_free(c->agents, c->n_agents);
	c->agents = NULL;
	c->n_agents = 0;
}

/* The id of the record in rec (the first member of every record type). */
static char **rec_id(void *rec)
{
	return (char **)rec;
}

/* Where an id is already declared, or NULL. */
static const char *id_declared(const struct sb_config_sip *s, enum decl_kind kind, const char *id)
{
	if (kind == DECL_RULE) {
		for (size_t i = 0; i < s->n_rules; i++)
			if (!strcmp(s->rules[i].id, id))
				return s->rule_where[i].text;
		return NULL;
	}
	for (size_t i = 0; i < s->n_in; i++)
		if (!strcmp(s->in[i].id, id))
			return s->in_where[i].text;
	for (size_t i = 0; i < s->n_out; i++)
		if (!strcmp(s->out[i].id, id))
			return s->out_where[i].text;
	return NULL;
}

/* The id of an entry: `id` (or the record's own id field), else prefix + the name with
 * characters an id cannot hold turned into '_'. Taken out of the object; *id malloc'd. */
static int entry_id(struct yctx *y, yaml_node_t *e, const char *entry, const struct decl_def *d,
		    json_t *obj, const char *name, char **id)
{
	const char *const fields[] = {"id", d->id_snake, d->id_camel};
	const char *given = NULL, *field = NULL;
	char key[320];
	*id = NULL;
	for (size_t i = 0; i < SB_ARRAY_LEN(fields); i++) {
		json_t *v = json_object_get(obj, fields[i]);
		if (!v || json_is_null(v))
			continue;
		snprintf(key, sizeof(key), "%s.%s", entry, fields[i]);
		yaml_node_t *at = map_get(y, e, fields[i]);
		if (given)
			return config__fail(y, at ? at : e, key,
					    "the id is given twice (as %s and %s)", field,
					    fields[i]);
		if (!json_is_string(v))
			return config__fail(y, at ? at : e, key, "must be a string");
		given = json_string_value(v);
		field = fields[i];
	}
	char buf[STORE_ID_MAX + 8];
	if (given) {
		snprintf(key, sizeof(key), "%s.%s", entry, field);
		yaml_node_t *at = map_get(y, e, field);
		if (!store_id_valid(given, d->prefix))
			return config__fail(
			    y, at ? at : e, key,
			    "'%.80s' is not an id: %s followed by letters, digits, '_' or "
			    "'-', at most %d characters",
			    given, d->prefix, STORE_ID_MAX - 1);
		snprintf(buf, sizeof(buf), "%s", given);
	} else {
		json_t *nv = json_object_get(obj, "name");
		if (nv && !json_is_null(nv) && !json_is_string(nv)) {
			snprintf(key, sizeof(key), "%s.name", entry);
			yaml_node_t *at = map_get(y, e, "name");
			return config__fail(y, at ? at : e, key, "must be a string");
		}
		if (!name || !*name)
			return config__fail(y, e, entry,
					    "needs an id (%s...) or a name to derive one from",
					    d->prefix);
		size_t pl = strlen(d->prefix), n = strlen(name);
		if (pl + n >= STORE_ID_MAX)
			return config__fail(
			    y, e, entry, "the name is too long to derive an id from: give an id");
		memcpy(buf, d->prefix, pl);
		for (size_t i = 0; i <= n; i++) {
			char ch = name[i];
			buf[pl + i] = !ch || isalnum((unsigned char)ch) || ch == '-' ? ch : '_';
		}
	}
	for (size_t i = 0; i < SB_ARRAY_LEN(fields); i++)
		json_object_del(obj, fields[i]);
	if (!(*id = strdup(buf)))
		return config__fail(y, e, entry, "out of memory");
	return 0;
}

/* Grow the record and where arrays of kind by one zeroed slot; its index in *at. */
static int decl_grow(struct sb_config_sip *s, enum decl_kind kind, size_t *at)
{
	size_t *n = kind == DECL_IN ? &s->n_in : kind == DECL_OUT ? &s->n_out : &s->n_rules;
	size_t size = kind == DECL_IN	 ? sizeof(*s->in)
		      : kind == DECL_OUT ? sizeof(*s->out)
					 : sizeof(*s->rules);
	void **recs = kind == DECL_IN	 ? (void **)&s->in
		      : kind == DECL_OUT ? (void **)&s->out
					 : (void **)&s->rules;
	struct sb_config_where **w = kind == DECL_IN	? &s->in_where
				     : kind == DECL_OUT ? &s->out_where
							: &s->rule_where;
	void *nr = realloc(*recs, (*n + 1) * size);
	if (!nr)
		return SB_ENOMEM;
	*recs = nr;
	struct sb_config_where *nw = realloc(*w, (*n + 1) * sizeof(**w));
	if (!nw)
		return SB_ENOMEM;
	*w = nw;
	memset((char *)nr + *n * size, 0, size);
	memset(&nw[*n], 0, sizeof(nw[*n]));
	*at = (*n)++;
	return 0;
}

/* One entry of sip.KIND: parse, id, uniqueness, conflicts with the entries before it. */
static int decl_entry(struct yctx *y, struct sb_config_sip *s, enum decl_kind kind, yaml_node_t *e,
		      const char *entry)
{
	const struct decl_def *d = &decl_defs[kind];
	if (e->type != YAML_MAPPING_NODE)
		return config__fail(y, e, entry, "wants a mapping (the fields of a %s), not %s",
				    kind == DECL_RULE ? "dispatch rule" : "trunk",
				    config__type_name(e));
	json_t *obj = NULL, *req = NULL;
	int r = node_json(y, e, entry, J_FIELDS, "", 0, &obj);
	if (r)
		return r;
	/* the id comes out of the object before the parser sees it (it wants none) */
	json_t *name = json_object_get(obj, "name");
	char *id = NULL;
	char *name_copy = name && json_is_string(name) ? strdup(json_string_value(name)) : NULL;
	r = entry_id(y, e, entry, d, obj, name_copy, &id);
	free(name_copy);
	if (r)
		goto out;
	const char *twin = id_declared(s, kind, id);
	if (twin) {
		r = config__fail(y, e, entry, "id %s is already declared at %s", id, twin);
		goto out;
	}
	if (!(req = json_object()) || json_object_set(req, d->wrapper, obj)) {
		r = config__fail(y, e, entry, "out of memory");
		goto out;
	}
	size_t at;
	if (decl_grow(s, kind, &at)) {
		r = config__fail(y, e, entry, "out of memory");
		goto out;
	}
	char msg[512];
	void *rec = kind == DECL_IN    ? (void *)&s->in[at]
		    : kind == DECL_OUT ? (void *)&s->out[at]
				       : (void *)&s->rules[at];
	if (kind == DECL_IN)
		r = sip_json_parse_create_inbound_trunk(req, &s->in[at], msg, sizeof(msg));
	else if (kind == DECL_OUT)
		r = sip_json_parse_create_outbound_trunk(req, &s->out[at], msg, sizeof(msg));
	else
		r = sip_json_parse_create_dispatch_rule(req, &s->rules[at], msg, sizeof(msg));
	if (!r) {
		free(*rec_id(rec));
		*rec_id(rec) = id;
		id = NULL;
		where_set(y, e, entry,
			  kind == DECL_IN    ? &s->in_where[at]
			  : kind == DECL_OUT ? &s->out_where[at]
					     : &s->rule_where[at]);
		if (kind == DECL_IN)
			r = sip_json_check_inbound_conflicts(&s->in[at], s->in, at, msg,
							     sizeof(msg));
		else if (kind == DECL_RULE)
			r = sip_json_check_rule_conflicts(&s->rules[at], s->rules, at, msg,
							  sizeof(msg));
		if (r) {
			snprintf(y->err, y->cap, "%s:%zu: %s: %s", y->path, config__line_of(e),
				 entry, msg);
			r = SB_EINVAL;
		}
	} else if (r == SB_ENOMEM) {
		r = config__fail(y, e, entry, "out of memory");
	} else {
		r = json_fail(y, e, entry, d, msg);
	}
	if (r) { /* the slot holds nothing to keep */
		if (kind == DECL_IN) {
			store_inbound_trunk_free(&s->in[at]);
			s->n_in--;
		} else if (kind == DECL_OUT) {
			store_outbound_trunk_free(&s->out[at]);
			s->n_out--;
		} else {
			store_dispatch_rule_free(&s->rules[at]);
			s->n_rules--;
		}
	}
out:
	free(id);
	json_decref(req);
	json_decref(obj);
	return r;
}

static int sip_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		    yaml_node_t *v)
{
	(void)name;
	const char *raw = config__scalar(k);
	for (size_t kind = 0; kind < SB_ARRAY_LEN(decl_defs); kind++) {
		const struct decl_def *d = &decl_defs[kind];
		if (!config__key_is(raw, d->snake, d->camel))
			continue;
		if (config__is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return config__fail(y, v, key, "wants a list of %s, not %s",
					    kind == DECL_RULE ? "dispatch rules" : "trunks",
					    config__type_name(v));
		size_t i = 0;
		FOR_ITEMS(v, it)
		{
			char entry[200];
			snprintf(entry, sizeof(entry), "%s[%zu]", key, i++);
			int r = decl_entry(y, y->sip, (enum decl_kind)kind, config__node(y, *it),
					   entry);
			if (r)
				return r;
		}
		return 0;
	}
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

/* sip: {inbound_trunks, outbound_trunks, dispatch_rules}: replaces what an earlier file
 * declared, once the whole section is good. */
int config__section_sip(struct yctx *y, const char *key, yaml_node_t *v)
{
	if (config__is_null(v))
		return 0;
	int r = config__want_mapping(y, v, key);
	if (r)
		return r;
	struct sb_config_sip fresh = {0};
	y->sip = &fresh;
	r = config__walk_section(y, v, key, sip_item);
	y->sip = NULL;
	if (r) {
		sb_config_sip_free(&fresh);
		return r;
	}
	sb_config_sip_free(&y->c->sip);
	y->c->sip = fresh;
	return 0;
}
