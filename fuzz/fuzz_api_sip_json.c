/* libFuzzer harness for the livekit.SIP JSON mapping (src/api/sip_json.c): the first byte picks
 * the request type ('0'..'4' or any byte mod 5), the rest is its JSON; an accepted record must
 * emit, and the emitted JSON must parse back (as an Update's replace) to a record that emits the
 * very same JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/sip_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dump(json_t *j)
{
	if (!j)
		abort(); /* an accepted record must always emit */
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	if (!s)
		abort();
	return s;
}

static void same(char *a, char *b)
{
	if (strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
}

static json_t *as_replace(const char *idkey, char *emitted)
{
	json_t *rec = json_loads(emitted, 0, NULL);
	json_t *req = json_pack("{s:s, s:o}", idkey, "X_1", "replace", rec);
	if (!req)
		abort();
	return req;
}

static void inbound(const json_t *req)
{
	char err[256];
	struct store_inbound_trunk t;
	if (sip_json_parse_create_inbound_trunk(req, &t, err, sizeof(err)))
		return;
	struct store_inbound_trunk existing[1] = {t};
	(void)sip_json_check_inbound_conflicts(&t, existing, 1, err, sizeof(err));
	t.id = strdup("X_1");
	char *a = dump(sip_json_inbound_trunk(&t));
	json_t *r = as_replace("sipTrunkId", a);
	struct sip_json_update_inbound_req u;
	if (sip_json_parse_update_inbound_trunk(r, &u, err, sizeof(err)))
		abort();
	same(a, dump(sip_json_inbound_trunk(&u.replace)));
	sip_json_update_inbound_req_free(&u);
	json_decref(r);
	store_inbound_trunk_free(&t);
}

static void outbound(const json_t *req)
{
	char err[256];
	struct store_outbound_trunk t;
	if (sip_json_parse_create_outbound_trunk(req, &t, err, sizeof(err)))
		return;
	t.id = strdup("X_1");
	char *a = dump(sip_json_outbound_trunk(&t));
	json_t *r = as_replace("sipTrunkId", a);
	struct sip_json_update_outbound_req u;
	if (sip_json_parse_update_outbound_trunk(r, &u, err, sizeof(err)))
		abort();
	same(a, dump(sip_json_outbound_trunk(&u.replace)));
	sip_json_update_outbound_req_free(&u);
	json_decref(r);
	store_outbound_trunk_free(&t);
}

static void rule(const json_t *req)
{
	char err[256];
	struct store_dispatch_rule d;
	if (sip_json_parse_create_dispatch_rule(req, &d, err, sizeof(err)))
		return;
	struct store_dispatch_rule existing[1] = {d};
	(void)sip_json_check_rule_conflicts(&d, existing, 1, err, sizeof(err));
	d.id = strdup("X_1");
	char *a = dump(sip_json_dispatch_rule(&d));
	json_t *r = as_replace("sipDispatchRuleId", a);
	struct sip_json_update_rule_req u;
	if (sip_json_parse_update_dispatch_rule(r, &u, err, sizeof(err)))
		abort();
	same(a, dump(sip_json_dispatch_rule(&u.replace)));
	sip_json_update_rule_req_free(&u);
	json_decref(r);
	store_dispatch_rule_free(&d);
}

/* Updates applied to a fixed valid record; the result must still emit. */
static void updates(const json_t *req)
{
	char err[256];
	struct sip_json_update_inbound_req ui;
	if (!sip_json_parse_update_inbound_trunk(req, &ui, err, sizeof(err)) && !ui.is_replace) {
		struct store_inbound_trunk t = {0};
		store_strv_push(&t.numbers, "+1");
		if (!sip_json_apply_inbound_update(&t, &ui.update, err, sizeof(err)))
			free(dump(sip_json_inbound_trunk(&t)));
		store_inbound_trunk_free(&t);
	}
	sip_json_update_inbound_req_free(&ui);
	struct sip_json_update_outbound_req uo;
	if (!sip_json_parse_update_outbound_trunk(req, &uo, err, sizeof(err)) && !uo.is_replace) {
		struct store_outbound_trunk t = {0};
		t.address = strdup("pbx");
		store_strv_push(&t.numbers, "+1");
		if (!sip_json_apply_outbound_update(&t, &uo.update, err, sizeof(err)))
			free(dump(sip_json_outbound_trunk(&t)));
		store_outbound_trunk_free(&t);
	}
	sip_json_update_outbound_req_free(&uo);
	struct sip_json_update_rule_req ur;
	if (!sip_json_parse_update_dispatch_rule(req, &ur, err, sizeof(err)) && !ur.is_replace) {
		struct store_dispatch_rule d = {0};
		d.rule.kind = STORE_RULE_INDIVIDUAL;
		if (!sip_json_apply_rule_update(&d, &ur.update, err, sizeof(err)))
			free(dump(sip_json_dispatch_rule(&d)));
		store_dispatch_rule_free(&d);
	}
	sip_json_update_rule_req_free(&ur);
}

static void others(const json_t *req)
{
	char err[256], *id = NULL;
	struct sip_json_list_req l;
	struct store_filter f;
	if (!sip_json_parse_list_trunks(req, &l, err, sizeof(err)))
		sip_json_list_req_filter(&l, &f);
	sip_json_list_req_free(&l);
	if (!sip_json_parse_list_rules(req, &l, err, sizeof(err)))
		sip_json_list_req_filter(&l, &f);
	sip_json_list_req_free(&l);
	if (!sip_json_parse_trunk_id(req, &id, err, sizeof(err)))
		free(dump(sip_json_delete_trunk_response(id)));
	free(id);
	id = NULL;
	if (!sip_json_parse_rule_id(req, &id, err, sizeof(err)))
		free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	json_t *req =
	    json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!req)
		return 0;
	/* '0'..'4' (the committed seeds) or any byte modulo 5 */
	unsigned sel = data[0] >= '0' && data[0] <= '4' ? (unsigned)(data[0] - '0') : data[0] % 5u;
	switch (sel) {
	case 0:
		inbound(req);
		break;
	case 1:
		outbound(req);
		break;
	case 2:
		rule(req);
		break;
	case 3:
		updates(req);
		break;
	default:
		others(req);
		break;
	}
	json_decref(req);
	return 0;
}
