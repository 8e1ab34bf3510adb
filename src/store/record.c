/* Record values of the store: deep copy and free of trunks, rules and call records, string
 * lists and maps, and ID generation. Every string here is malloc'd and owned by its record. */
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/rand.h"
#include "store/store.h"
#include "store/store_int.h"

char *store__strdup(const char *s)
{
	return strdup(s ? s : "");
}

/* Copies src into *dst; on failure *dst is NULL and *err becomes SB_ENOMEM (sticky). */
static void dup_into(char **dst, const char *src, int *err)
{
	*dst = NULL;
	if (*err)
		return;
	*dst = store__strdup(src);
	if (!*dst)
		*err = SB_ENOMEM;
}

void store_strv_free(struct store_strv *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

int store_strv_copy(struct store_strv *dst, const struct store_strv *src)
{
	dst->v = NULL;
	dst->n = 0;
	if (!src->n)
		return 0;
	dst->v = calloc(src->n, sizeof(*dst->v));
	if (!dst->v)
		return SB_ENOMEM;
	int err = 0;
	for (size_t i = 0; i < src->n; i++) {
		dup_into(&dst->v[i], src->v[i], &err);
		dst->n = i + 1;
	}
	if (err)
		store_strv_free(dst);
	return err;
}

int store_strv_push(struct store_strv *a, const char *s)
{
	if (!s)
		return SB_EINVAL;
	char *c = strdup(s);
	if (!c)
		return SB_ENOMEM;
	char **v = realloc(a->v, (a->n + 1) * sizeof(*v));
	if (!v) {
		free(c);
		return SB_ENOMEM;
	}
	v[a->n++] = c;
	a->v = v;
	return 0;
}

bool store_strv_contains(const struct store_strv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i] ? a->v[i] : "", s ? s : "") == 0)
			return true;
	return false;
}

void store_map_free(struct store_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].key);
		free(m->v[i].value);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

int store_map_copy(struct store_map *dst, const struct store_map *src)
{
	dst->v = NULL;
	dst->n = 0;
	if (!src->n)
		return 0;
	dst->v = calloc(src->n, sizeof(*dst->v));
	if (!dst->v)
		return SB_ENOMEM;
	int err = 0;
	for (size_t i = 0; i < src->n; i++) {
		dup_into(&dst->v[i].key, src->v[i].key, &err);
		dup_into(&dst->v[i].value, src->v[i].value, &err);
		dst->n = i + 1;
	}
	if (err)
		store_map_free(dst);
	return err;
}

int store_map_set(struct store_map *m, const char *key, const char *value)
{
	if (!key || !value)
		return SB_EINVAL;
	char *v = strdup(value);
	if (!v)
		return SB_ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->v[i].key, key) == 0) {
			free(m->v[i].value);
			m->v[i].value = v;
			return 0;
		}
	}
	char *k = strdup(key);
	struct store_pair *p = k ? realloc(m->v, (m->n + 1) * sizeof(*p)) : NULL;
	if (!p) {
		free(k);
		free(v);
		return SB_ENOMEM;
	}
	p[m->n].key = k;
	p[m->n].value = v;
	m->v = p;
	m->n++;
	return 0;
}

const char *store_map_get(const struct store_map *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].key && strcmp(m->v[i].key, key) == 0)
			return m->v[i].value;
	return NULL;
}

void store_inbound_trunk_free(struct store_inbound_trunk *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->metadata);
	store_strv_free(&t->numbers);
	store_strv_free(&t->allowed_addresses);
	store_strv_free(&t->allowed_numbers);
	free(t->auth_username);
	free(t->auth_password);
	free(t->auth_realm);
	store_map_free(&t->headers);
	store_map_free(&t->headers_to_attributes);
	store_map_free(&t->attributes_to_headers);
	memset(t, 0, sizeof(*t));
}

int store_inbound_trunk_copy(struct store_inbound_trunk *dst, const struct store_inbound_trunk *src)
{
	int err = 0;
	*dst = *src;
	dup_into(&dst->id, src->id, &err);
	dup_into(&dst->name, src->name, &err);
	dup_into(&dst->metadata, src->metadata, &err);
	dup_into(&dst->auth_username, src->auth_username, &err);
	dup_into(&dst->auth_password, src->auth_password, &err);
	dup_into(&dst->auth_realm, src->auth_realm, &err);
	/* the containers still alias src until each copy below replaces them */
	memset(&dst->numbers, 0, sizeof(dst->numbers));
	memset(&dst->allowed_addresses, 0, sizeof(dst->allowed_addresses));
	memset(&dst->allowed_numbers, 0, sizeof(dst->allowed_numbers));
	memset(&dst->headers, 0, sizeof(dst->headers));
	memset(&dst->headers_to_attributes, 0, sizeof(dst->headers_to_attributes));
	memset(&dst->attributes_to_headers, 0, sizeof(dst->attributes_to_headers));
	if (!err)
		err = store_strv_copy(&dst->numbers, &src->numbers);
	if (!err)
		err = store_strv_copy(&dst->allowed_addresses, &src->allowed_addresses);
	if (!err)
		err = store_strv_copy(&dst->allowed_numbers, &src->allowed_numbers);
	if (!err)
		err = store_map_copy(&dst->headers, &src->headers);
	if (!err)
		err = store_map_copy(&dst->headers_to_attributes, &src->headers_to_attributes);
	if (!err)
		err = store_map_copy(&dst->attributes_to_headers, &src->attributes_to_headers);
	if (err)
		store_inbound_trunk_free(dst);
	return err;
}

void store_outbound_trunk_free(struct store_outbound_trunk *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->name);
	free(t->metadata);
	free(t->address);
	free(t->destination_country);
	store_strv_free(&t->numbers);
	free(t->auth_username);
	free(t->auth_password);
	free(t->from_host);
	store_map_free(&t->headers);
	store_map_free(&t->headers_to_attributes);
	store_map_free(&t->attributes_to_headers);
	memset(t, 0, sizeof(*t));
}

int store_outbound_trunk_copy(struct store_outbound_trunk *dst,
			      const struct store_outbound_trunk *src)
{
	int err = 0;
	*dst = *src;
	dup_into(&dst->id, src->id, &err);
	dup_into(&dst->name, src->name, &err);
	dup_into(&dst->metadata, src->metadata, &err);
	dup_into(&dst->address, src->address, &err);
	dup_into(&dst->destination_country, src->destination_country, &err);
	dup_into(&dst->auth_username, src->auth_username, &err);
	dup_into(&dst->auth_password, src->auth_password, &err);
	dup_into(&dst->from_host, src->from_host, &err);
	memset(&dst->numbers, 0, sizeof(dst->numbers));
	memset(&dst->headers, 0, sizeof(dst->headers));
	memset(&dst->headers_to_attributes, 0, sizeof(dst->headers_to_attributes));
	memset(&dst->attributes_to_headers, 0, sizeof(dst->attributes_to_headers));
	if (!err)
		err = store_strv_copy(&dst->numbers, &src->numbers);
	if (!err)
		err = store_map_copy(&dst->headers, &src->headers);
	if (!err)
		err = store_map_copy(&dst->headers_to_attributes, &src->headers_to_attributes);
	if (!err)
		err = store_map_copy(&dst->attributes_to_headers, &src->attributes_to_headers);
	if (err)
		store_outbound_trunk_free(dst);
	return err;
}

void store_dispatch_rule_free(struct store_dispatch_rule *r)
{
	if (!r)
		return;
	free(r->id);
	free(r->rule.room_name);
	free(r->rule.room_prefix);
	free(r->rule.pin);
	store_strv_free(&r->trunk_ids);
	store_strv_free(&r->inbound_numbers);
	store_strv_free(&r->numbers);
	free(r->name);
	free(r->metadata);
	store_map_free(&r->attributes);
	free(r->room_preset);
	free(r->room_config_json);
	memset(r, 0, sizeof(*r));
}

int store_dispatch_rule_copy(struct store_dispatch_rule *dst, const struct store_dispatch_rule *src)
{
	int err = 0;
	*dst = *src;
	dup_into(&dst->id, src->id, &err);
	dup_into(&dst->rule.room_name, src->rule.room_name, &err);
	dup_into(&dst->rule.room_prefix, src->rule.room_prefix, &err);
	dup_into(&dst->rule.pin, src->rule.pin, &err);
	dup_into(&dst->name, src->name, &err);
	dup_into(&dst->metadata, src->metadata, &err);
	dup_into(&dst->room_preset, src->room_preset, &err);
	dup_into(&dst->room_config_json, src->room_config_json, &err);
	memset(&dst->trunk_ids, 0, sizeof(dst->trunk_ids));
	memset(&dst->inbound_numbers, 0, sizeof(dst->inbound_numbers));
	memset(&dst->numbers, 0, sizeof(dst->numbers));
	memset(&dst->attributes, 0, sizeof(dst->attributes));
	if (!err)
		err = store_strv_copy(&dst->trunk_ids, &src->trunk_ids);
	if (!err)
		err = store_strv_copy(&dst->inbound_numbers, &src->inbound_numbers);
	if (!err)
		err = store_strv_copy(&dst->numbers, &src->numbers);
	if (!err)
		err = store_map_copy(&dst->attributes, &src->attributes);
	if (err)
		store_dispatch_rule_free(dst);
	return err;
}

void store_transfer_free(struct store_transfer *t)
{
	if (!t)
		return;
	free(t->target);
	free(t->reason);
	memset(t, 0, sizeof(*t));
}

static int transfer_copy(struct store_transfer *dst, const struct store_transfer *src)
{
	int err = 0;
	*dst = *src;
	dup_into(&dst->target, src->target, &err);
	dup_into(&dst->reason, src->reason, &err);
	if (err)
		store_transfer_free(dst);
	return err;
}

void store_call_free(struct store_call *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->sip_call_id);
	free(c->room_name);
	free(c->participant_identity);
	free(c->from_number);
	free(c->to_number);
	free(c->trunk_id);
	free(c->dispatch_rule_id);
	free(c->reason);
	for (size_t i = 0; i < c->n_transfers; i++)
		store_transfer_free(&c->transfers[i]);
	free(c->transfers);
	memset(c, 0, sizeof(*c));
}

int store_call_copy(struct store_call *dst, const struct store_call *src)
{
	int err = 0;
	*dst = *src;
	dup_into(&dst->id, src->id, &err);
	dup_into(&dst->sip_call_id, src->sip_call_id, &err);
	dup_into(&dst->room_name, src->room_name, &err);
	dup_into(&dst->participant_identity, src->participant_identity, &err);
	dup_into(&dst->from_number, src->from_number, &err);
	dup_into(&dst->to_number, src->to_number, &err);
	dup_into(&dst->trunk_id, src->trunk_id, &err);
	dup_into(&dst->dispatch_rule_id, src->dispatch_rule_id, &err);
	dup_into(&dst->reason, src->reason, &err);
	dst->transfers = NULL;
	dst->n_transfers = 0;
	if (!err && src->n_transfers) {
		dst->transfers = calloc(src->n_transfers, sizeof(*dst->transfers));
		if (!dst->transfers)
			err = SB_ENOMEM;
		for (size_t i = 0; !err && i < src->n_transfers; i++) {
			err = transfer_copy(&dst->transfers[i], &src->transfers[i]);
			if (!err)
				dst->n_transfers = i + 1;
		}
	}
	if (err)
		store_call_free(dst);
	return err;
}

int store_call_push_transfer(struct store_call *c, const struct store_transfer *t)
{
	struct store_transfer copy;
	int err = transfer_copy(&copy, t);
	if (err)
		return err;
	struct store_transfer *v = realloc(c->transfers, (c->n_transfers + 1) * sizeof(*v));
	if (!v) {
		store_transfer_free(&copy);
		return SB_ENOMEM;
	}
	v[c->n_transfers++] = copy;
	c->transfers = v;
	return 0;
}

void store__calls_free(struct store_call *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		store_call_free(&v[i]);
	free(v);
}

int store_new_id(char *out, const char *prefix)
{
	static const char alphabet[] = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
	const unsigned base = sizeof(alphabet) - 1; /* 57 */
	size_t plen = strlen(prefix);
	if (plen + STORE_ID_RANDOM >= STORE_ID_MAX)
		return SB_EINVAL;
	memcpy(out, prefix, plen);
	size_t have = 0;
	unsigned char raw[32];
	while (have < STORE_ID_RANDOM) {
		if (sb_random_bytes(raw, sizeof(raw)))
			return SB_EIO;
		/* rejection sampling: 228 = 4 * 57, so every character is equally likely */
		for (size_t i = 0; i < sizeof(raw) && have < STORE_ID_RANDOM; i++)
			if (raw[i] < 4 * base)
				out[plen + have++] = alphabet[raw[i] % base];
	}
	out[plen + STORE_ID_RANDOM] = '\0';
	return 0;
}
