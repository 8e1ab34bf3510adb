/* Applies the `sip:` records of the config file to the store: conflict checks against what
 * the API created, then create-or-replace under the declared ids (store_*_put). */
#include "app/declared.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sip_json.h"
#include "base/err.h"
#include "base/log.h"

static bool trunk_declared(const struct sb_config_sip *d, const char *id)
{
	for (size_t i = 0; i < d->n_in; i++)
		if (!strcmp(d->in[i].id, id))
			return true;
	for (size_t i = 0; i < d->n_out; i++)
		if (!strcmp(d->out[i].id, id))
			return true;
	return false;
}

static bool rule_declared(const struct sb_config_sip *d, const char *id)
{
	for (size_t i = 0; i < d->n_rules; i++)
		if (!strcmp(d->rules[i].id, id))
			return true;
	return false;
}

/* The inbound trunks as they will be: the store's undeclared ones and the declared ones, as
 * shallow copies (borrowed strings) for the conflict check. */
static int check_inbound(struct store *s, const struct sb_config_sip *d, char *err, size_t cap)
{
	size_t n;
	const struct store_inbound_trunk *cur = store_inbound_trunks(s, &n);
	struct store_inbound_trunk *all = calloc(n + d->n_in + 1, sizeof(*all));
	if (!all)
		return SB_ENOMEM;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!trunk_declared(d, cur[i].id))
			all[m++] = cur[i];
	for (size_t i = 0; i < d->n_in; i++)
		all[m++] = d->in[i];
	int r = 0;
	char msg[512];
	for (size_t i = 0; i < d->n_in && !r; i++) {
		r = sip_json_check_inbound_conflicts(&d->in[i], all, m, msg, sizeof(msg));
		if (r)
			snprintf(err, cap, "%s: %s", d->in_where[i].text, msg);
	}
	free(all);
	return r;
}

static int check_rules(struct store *s, const struct sb_config_sip *d, char *err, size_t cap)
{
	size_t n;
	const struct store_dispatch_rule *cur = store_dispatch_rules(s, &n);
	struct store_dispatch_rule *all = calloc(n + d->n_rules + 1, sizeof(*all));
	if (!all)
		return SB_ENOMEM;
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!rule_declared(d, cur[i].id))
			all[m++] = cur[i];
	for (size_t i = 0; i < d->n_rules; i++)
		all[m++] = d->rules[i];
	int r = 0;
	char msg[512];
	for (size_t i = 0; i < d->n_rules && !r; i++) {
		r = sip_json_check_rule_conflicts(&d->rules[i], all, m, msg, sizeof(msg));
		if (r)
			snprintf(err, cap, "%s: %s", d->rule_where[i].text, msg);
	}
	free(all);
	return r;
}

/* arg: the declared id, which lives as long as the config (the whole run). */
static void on_written(void *arg, int err)
{
	if (err)
		SB_ERROR("config", "%s from the config file was not saved: %s", (const char *)arg,
			 sb_strerror(err));
}

static bool has_inbound(struct store *s, const char *id)
{
	size_t n;
	const struct store_inbound_trunk *v = store_inbound_trunks(s, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return true;
	return false;
}

static bool has_outbound(struct store *s, const char *id)
{
	size_t n;
	const struct store_outbound_trunk *v = store_outbound_trunks(s, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return true;
	return false;
}

static bool has_rule(struct store *s, const char *id)
{
	size_t n;
	const struct store_dispatch_rule *v = store_dispatch_rules(s, &n);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].id, id))
			return true;
	return false;
}

static int put_failed(const char *where, int r, char *err, size_t cap)
{
	snprintf(err, cap, "%s: cannot store it: %s", where, sb_strerror(r));
	return r;
}

int sb_declared_apply(struct store *s, const struct sb_config_sip *d, char *err, size_t cap)
{
	if (cap)
		err[0] = '\0';
	int r = check_inbound(s, d, err, cap);
	if (!r)
		r = check_rules(s, d, err, cap);
	if (r == SB_ENOMEM)
		snprintf(err, cap, "out of memory");
	if (r)
		return r;
	for (size_t i = 0; i < d->n_in; i++) {
		const char *id = d->in[i].id, *where = d->in_where[i].text;
		bool old = has_inbound(s, id);
		if (!old && has_outbound(s, id) &&
		    (r = store_trunk_delete(s, id, on_written, (void *)id)))
			return put_failed(where, r, err, cap);
		if ((r = store_inbound_trunk_put(s, &d->in[i], NULL, on_written, (void *)id)))
			return put_failed(where, r, err, cap);
		SB_INFO("config", "%s: inbound trunk %s %s", where, id,
			old ? "replaced" : "created");
	}
	for (size_t i = 0; i < d->n_out; i++) {
		const char *id = d->out[i].id, *where = d->out_where[i].text;
		bool old = has_outbound(s, id);
		if (!old && has_inbound(s, id) &&
		    (r = store_trunk_delete(s, id, on_written, (void *)id)))
			return put_failed(where, r, err, cap);
		if ((r = store_outbound_trunk_put(s, &d->out[i], NULL, on_written, (void *)id)))
			return put_failed(where, r, err, cap);
		SB_INFO("config", "%s: outbound trunk %s %s", where, id,
			old ? "replaced" : "created");
	}
	for (size_t i = 0; i < d->n_rules; i++) {
		const char *id = d->rules[i].id, *where = d->rule_where[i].text;
		bool old = has_rule(s, id);
		if ((r = store_dispatch_rule_put(s, &d->rules[i], NULL, on_written, (void *)id)))
			return put_failed(where, r, err, cap);
		SB_INFO("config", "%s: dispatch rule %s %s", where, id,
			old ? "replaced" : "created");
	}
	return 0;
}
