/* Unit tests for src/api/sip_json.c: the JSON the node livekit-server-sdk sends for each SIP
 * trunk and dispatch-rule RPC, records back to LK-shaped JSON, updates, lists, validation,
 * conflicts, bad inputs with their messages, and out-of-memory in jansson. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/sip_json.h"
#include "base/err.h"

#define T_CREATED 1700000000123LL /* 2023-11-14T22:13:20.123Z */
#define T_UPDATED 1700000001000LL /* 2023-11-14T22:13:21Z */

static json_t *load(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fail_msg("bad test JSON at %d: %s\n%s", je.position, je.text, text);
	return j;
}

/* Compares j (consumed) with the expected text, both printed sorted and compact. */
static void assert_json(json_t *j, const char *expected)
{
	assert_non_null(j);
	json_t *e = load(expected);
	char *got = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	char *want = json_dumps(e, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(got);
	assert_non_null(want);
	if (strcmp(got, want) != 0)
		fail_msg("JSON differs\n got: %s\nwant: %s", got, want);
	free(got);
	free(want);
	json_decref(e);
	json_decref(j);
}

static char *dump(const json_t *j)
{
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	assert_non_null(s);
	return s;
}

/* ---- Inbound trunks ---- */

/* SipClient.createSipInboundTrunk(name, numbers, opts) with every option set. */
static const char *SDK_CREATE_INBOUND =
    "{\"trunk\":{\"name\":\"my trunk\",\"metadata\":\"m\",\"numbers\":[\"+15105550100\"],"
    "\"allowedAddresses\":[\"1.2.3.4/32\"],\"allowedNumbers\":[\"+15105550123\"],"
    "\"authUsername\":\"u\",\"authPassword\":\"p\",\"headers\":{\"X-A\":\"1\"},"
    "\"headersToAttributes\":{\"X-B\":\"b\"},\"attributesToHeaders\":{\"c\":\"X-C\"},"
    "\"includeHeaders\":\"SIP_X_HEADERS\",\"krispEnabled\":true,"
    "\"mediaEncryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\",\"ringingTimeout\":\"30s\","
    "\"maxCallDuration\":\"1.5s\",\"someFutureField\":{\"x\":1}}}";

static const char *LK_INBOUND =
    "{\"sip_trunk_id\":\"ST_abc\",\"name\":\"my trunk\",\"metadata\":\"m\","
    "\"numbers\":[\"+15105550100\"],\"allowed_addresses\":[\"1.2.3.4/32\"],"
    "\"allowed_numbers\":[\"+15105550123\"],\"auth_username\":\"u\",\"auth_password\":\"p\","
    "\"auth_realm\":\"\",\"headers\":{\"X-A\":\"1\"},\"headers_to_attributes\":{\"X-B\":\"b\"},"
    "\"attributes_to_headers\":{\"c\":\"X-C\"},\"include_headers\":\"SIP_X_HEADERS\","
    "\"ringing_timeout\":\"30s\",\"max_call_duration\":\"1.500s\",\"krisp_enabled\":true,"
    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\",\"media\":{\"only_listed_codecs\":false,"
    "\"codecs\":[],\"encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\"},"
    "\"created_at\":\"2023-11-14T22:13:20.123Z\",\"updated_at\":\"2023-11-14T22:13:21Z\"}";

static void stamp(char **id, const char *v, int64_t *c, int64_t *u)
{
	free(*id);
	*id = strdup(v);
	*c = T_CREATED;
	*u = T_UPDATED;
}

static void test_inbound_roundtrip(void **state)
{
	(void)state;
	char err[256];
	struct store_inbound_trunk t;
	json_t *req = load(SDK_CREATE_INBOUND);
	char *before = dump(req);
	assert_int_equal(sip_json_parse_create_inbound_trunk(req, &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	char *after = dump(req);
	assert_string_equal(before, after); /* the request is only read */
	free(before);
	free(after);
	json_decref(req);
	assert_int_equal(t.ringing_timeout_ms, 30000);
	assert_int_equal(t.max_call_duration_ms, 1500);
	assert_int_equal(t.include_headers, STORE_X_HEADERS);
	assert_int_equal(t.media_encryption, STORE_ENCRYPT_ALLOW);
	assert_null(t.id);
	stamp(&t.id, "ST_abc", &t.created_at_ms, &t.updated_at_ms);
	assert_json(sip_json_inbound_trunk(&t), LK_INBOUND);

	/* What we emit parses back (snake_case, every field) to the same record. */
	json_t *emitted = sip_json_inbound_trunk(&t);
	json_t *upd = json_pack("{s:s, s:O}", "sipTrunkId", "ST_abc", "replace", emitted);
	struct sip_json_update_inbound_req r;
	assert_int_equal(sip_json_parse_update_inbound_trunk(upd, &r, err, sizeof(err)), 0);
	assert_true(r.is_replace);
	r.replace.created_at_ms = T_CREATED;
	r.replace.updated_at_ms = T_UPDATED;
	assert_json(sip_json_inbound_trunk(&r.replace), LK_INBOUND);
	sip_json_update_inbound_req_free(&r);
	json_decref(upd);
	json_decref(emitted);

	assert_json(sip_json_get_inbound_trunk_response(&t),
		    "{\"trunk\":{\"sip_trunk_id\":\"ST_abc\",\"name\":\"my trunk\","
		    "\"metadata\":\"m\",\"numbers\":[\"+15105550100\"],"
		    "\"allowed_addresses\":[\"1.2.3.4/32\"],"
		    "\"allowed_numbers\":[\"+15105550123\"],\"auth_username\":\"u\","
		    "\"auth_password\":\"p\",\"auth_realm\":\"\",\"headers\":{\"X-A\":\"1\"},"
		    "\"headers_to_attributes\":{\"X-B\":\"b\"},"
		    "\"attributes_to_headers\":{\"c\":\"X-C\"},"
		    "\"include_headers\":\"SIP_X_HEADERS\",\"ringing_timeout\":\"30s\","
		    "\"max_call_duration\":\"1.500s\",\"krisp_enabled\":true,"
		    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\","
		    "\"media\":{\"only_listed_codecs\":false,\"codecs\":[],"
		    "\"encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\"},"
		    "\"created_at\":\"2023-11-14T22:13:20.123Z\","
		    "\"updated_at\":\"2023-11-14T22:13:21Z\"}}");
	store_inbound_trunk_free(&t);
}

/* The smallest trunk the SDK sends, snake_case names, enum numbers, nulls as unset. */
static void test_inbound_minimal_and_snake(void **state)
{
	(void)state;
	char err[256];
	struct store_inbound_trunk t;
	json_t *req = load("{\"trunk\":{\"name\":\"n\",\"numbers\":[\"+1\"]}}");
	assert_int_equal(sip_json_parse_create_inbound_trunk(req, &t, err, sizeof(err)), 0);
	json_decref(req);
	assert_json(sip_json_inbound_trunk(&t),
		    "{\"sip_trunk_id\":\"\",\"name\":\"n\",\"metadata\":\"\",\"numbers\":[\"+1\"],"
		    "\"allowed_addresses\":[],\"allowed_numbers\":[],\"auth_username\":\"\","
		    "\"auth_password\":\"\",\"auth_realm\":\"\",\"headers\":{},"
		    "\"headers_to_attributes\":{},\"attributes_to_headers\":{},"
		    "\"include_headers\":\"SIP_NO_HEADERS\",\"krisp_enabled\":false,"
		    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_DISABLE\"}");
	store_inbound_trunk_free(&t);

	req = load("{\"trunk\":{\"auth_username\":\"u\",\"auth_password\":\"p\","
		   "\"include_headers\":2,\"ringing_timeout\":\"0.0005s\",\"metadata\":null,"
		   "\"media\":{\"encryption\":\"SIP_MEDIA_ENCRYPT_REQUIRE\","
		   "\"codecs\":[{\"name\":\"PCMU\"},{\"name\":\"opus\",\"rate\":48000}],"
		   "\"only_listed_codecs\":true,\"media_timeout\":\"15s\"},"
		   "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\"}}");
	assert_int_equal(sip_json_parse_create_inbound_trunk(req, &t, err, sizeof(err)), 0);
	json_decref(req);
	assert_string_equal(t.auth_username, "u");
	assert_int_equal(t.include_headers, STORE_ALL_HEADERS);
	assert_int_equal(t.ringing_timeout_ms, 0); /* sub-millisecond truncated */
	assert_null(t.metadata);
	assert_int_equal(t.media_encryption, STORE_ENCRYPT_REQUIRE); /* media wins */
	store_inbound_trunk_free(&t);
}

static void test_inbound_update(void **state)
{
	(void)state;
	char err[256];
	struct store_inbound_trunk t = {0};
	assert_int_equal(store_strv_push(&t.numbers, "+1"), 0);
	assert_int_equal(store_strv_push(&t.numbers, "+2"), 0);
	assert_int_equal(store_strv_push(&t.allowed_addresses, "10.0.0.1"), 0);
	t.auth_password = strdup("old");
	t.media_encryption = STORE_ENCRYPT_ALLOW;

	/* updateSipInboundTrunkFields(id, {numbers: {add, remove}, name, authPassword: ""}) */
	json_t *req =
	    load("{\"sipTrunkId\":\"ST_x\",\"update\":{\"numbers\":{\"add\":[\"+3\",\"+2\"],"
		 "\"remove\":[\"+1\"]},\"allowedAddresses\":{\"clear\":true},"
		 "\"name\":\"new\",\"authPassword\":\"\",\"media\":{}}}");
	struct sip_json_update_inbound_req r;
	assert_int_equal(sip_json_parse_update_inbound_trunk(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_string_equal(r.id, "ST_x");
	assert_false(r.is_replace);
	assert_true(r.update.numbers.present);
	assert_false(r.update.allowed_numbers.present);
	assert_null(r.update.metadata);
	assert_true(r.update.has_media_encryption);
	assert_int_equal(sip_json_apply_inbound_update(&t, &r.update, err, sizeof(err)), 0);
	assert_int_equal(t.numbers.n, 2);
	assert_string_equal(t.numbers.v[0], "+2");
	assert_string_equal(t.numbers.v[1], "+3");
	assert_int_equal(t.allowed_addresses.n, 0);
	assert_string_equal(t.name, "new");
	assert_string_equal(t.auth_password, "");
	assert_int_equal(t.media_encryption, STORE_ENCRYPT_DISABLE); /* media replaced whole */
	sip_json_update_inbound_req_free(&r);

	/* set, then a change that leaves the trunk open to anyone is refused */
	req = load("{\"sip_trunk_id\":\"ST_x\",\"update\":{\"numbers\":{\"set\":[\"+9\"]}}}");
	assert_int_equal(sip_json_parse_update_inbound_trunk(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_int_equal(sip_json_apply_inbound_update(&t, &r.update, err, sizeof(err)), 0);
	assert_int_equal(t.numbers.n, 1);
	assert_string_equal(t.numbers.v[0], "+9");
	sip_json_update_inbound_req_free(&r);
	req = load("{\"sipTrunkId\":\"ST_x\",\"update\":{\"numbers\":{\"clear\":true}}}");
	assert_int_equal(sip_json_parse_update_inbound_trunk(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_int_equal(sip_json_apply_inbound_update(&t, &r.update, err, sizeof(err)), SB_EINVAL);
	assert_non_null(strstr(err, "for security"));
	sip_json_update_inbound_req_free(&r);
	store_inbound_trunk_free(&t);

	/* updateSipInboundTrunk(id, trunk): replace takes the request's id */
	req = load("{\"sipTrunkId\":\"ST_x\",\"replace\":{\"sipTrunkId\":\"ST_other\","
		   "\"name\":\"r\",\"allowedAddresses\":[\"1.1.1.1\"]}}");
	assert_int_equal(sip_json_parse_update_inbound_trunk(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_true(r.is_replace);
	assert_string_equal(r.replace.id, "ST_x");
	sip_json_update_inbound_req_free(&r);
	sip_json_update_inbound_req_free(&r); /* twice is fine */
}

/* ---- Outbound trunks ---- */

static const char *SDK_CREATE_OUTBOUND =
    "{\"trunk\":{\"name\":\"out\",\"address\":\"sip.telnyx.com\",\"numbers\":[\"+15105550100\"],"
    "\"transport\":\"SIP_TRANSPORT_TCP\",\"authUsername\":\"u\",\"authPassword\":\"p\","
    "\"destinationCountry\":\"US\",\"headers\":{\"X-Acct\":\"42\"},"
    "\"headersToAttributes\":{\"X-Id\":\"id\"},\"attributesToHeaders\":{\"a\":\"X-A\"},"
    "\"includeHeaders\":\"SIP_ALL_HEADERS\",\"fromHost\":\"example.com\","
    "\"metadata\":\"md\"}}";

static const char *LK_OUTBOUND =
    "{\"sip_trunk_id\":\"ST_out\",\"name\":\"out\",\"metadata\":\"md\","
    "\"address\":\"sip.telnyx.com\",\"destination_country\":\"US\","
    "\"transport\":\"SIP_TRANSPORT_TCP\",\"numbers\":[\"+15105550100\"],"
    "\"auth_username\":\"u\",\"auth_password\":\"p\",\"headers\":{\"X-Acct\":\"42\"},"
    "\"headers_to_attributes\":{\"X-Id\":\"id\"},\"attributes_to_headers\":{\"a\":\"X-A\"},"
    "\"include_headers\":\"SIP_ALL_HEADERS\",\"media_encryption\":\"SIP_MEDIA_ENCRYPT_DISABLE\","
    "\"from_host\":\"example.com\",\"created_at\":\"2023-11-14T22:13:20.123Z\","
    "\"updated_at\":\"2023-11-14T22:13:21Z\"}";

static void test_outbound_roundtrip(void **state)
{
	(void)state;
	char err[256];
	struct store_outbound_trunk t;
	json_t *req = load(SDK_CREATE_OUTBOUND);
	assert_int_equal(sip_json_parse_create_outbound_trunk(req, &t, err, sizeof(err)), 0);
	json_decref(req);
	assert_int_equal(t.transport, STORE_TRANSPORT_TCP);
	stamp(&t.id, "ST_out", &t.created_at_ms, &t.updated_at_ms);
	assert_json(sip_json_outbound_trunk(&t), LK_OUTBOUND);

	json_t *emitted = sip_json_outbound_trunk(&t);
	json_t *upd = json_pack("{s:s, s:O}", "sip_trunk_id", "ST_out", "replace", emitted);
	struct sip_json_update_outbound_req r;
	assert_int_equal(sip_json_parse_update_outbound_trunk(upd, &r, err, sizeof(err)), 0);
	r.replace.created_at_ms = T_CREATED;
	r.replace.updated_at_ms = T_UPDATED;
	assert_json(sip_json_outbound_trunk(&r.replace), LK_OUTBOUND);
	sip_json_update_outbound_req_free(&r);
	json_decref(upd);
	json_decref(emitted);

	/* updateSipOutboundTrunkFields: transport as a number, numbers add */
	req = load("{\"sipTrunkId\":\"ST_out\",\"update\":{\"transport\":3,\"address\":"
		   "\"sip.example.net:5061\",\"numbers\":{\"add\":[\"+15105550101\"]},"
		   "\"mediaEncryption\":\"SIP_MEDIA_ENCRYPT_REQUIRE\"}}");
	assert_int_equal(sip_json_parse_update_outbound_trunk(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_true(r.update.has_transport);
	assert_int_equal(sip_json_apply_outbound_update(&t, &r.update, err, sizeof(err)), 0);
	assert_int_equal(t.transport, STORE_TRANSPORT_TLS);
	assert_string_equal(t.address, "sip.example.net:5061");
	assert_int_equal(t.numbers.n, 2);
	assert_int_equal(t.media_encryption, STORE_ENCRYPT_REQUIRE);
	sip_json_update_outbound_req_free(&r);

	assert_json(sip_json_get_outbound_trunk_response(&t),
		    "{\"trunk\":{\"sip_trunk_id\":\"ST_out\",\"name\":\"out\",\"metadata\":\"md\","
		    "\"address\":\"sip.example.net:5061\",\"destination_country\":\"US\","
		    "\"transport\":\"SIP_TRANSPORT_TLS\","
		    "\"numbers\":[\"+15105550100\",\"+15105550101\"],"
		    "\"auth_username\":\"u\",\"auth_password\":\"p\","
		    "\"headers\":{\"X-Acct\":\"42\"},\"headers_to_attributes\":{\"X-Id\":\"id\"},"
		    "\"attributes_to_headers\":{\"a\":\"X-A\"},"
		    "\"include_headers\":\"SIP_ALL_HEADERS\","
		    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_REQUIRE\","
		    "\"media\":{\"only_listed_codecs\":false,\"codecs\":[],"
		    "\"encryption\":\"SIP_MEDIA_ENCRYPT_REQUIRE\"},"
		    "\"from_host\":\"example.com\",\"created_at\":\"2023-11-14T22:13:20.123Z\","
		    "\"updated_at\":\"2023-11-14T22:13:21Z\"}}");

	/* an update that removes the last number is refused */
	req = load("{\"sipTrunkId\":\"ST_out\",\"update\":{\"numbers\":{\"clear\":true}}}");
	assert_int_equal(sip_json_parse_update_outbound_trunk(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_int_equal(sip_json_apply_outbound_update(&t, &r.update, err, sizeof(err)),
			 SB_EINVAL);
	assert_string_equal(err, "numbers: at least one number is required");
	sip_json_update_outbound_req_free(&r);
	store_outbound_trunk_free(&t);
}

/* ---- Dispatch rules ---- */

/* SipClient.createSipDispatchRule(rule, opts): the deprecated top-level form. */
static const char *SDK_CREATE_RULE =
    "{\"rule\":{\"dispatchRuleIndividual\":{\"roomPrefix\":\"call\"}},"
    "\"trunkIds\":[\"ST_x\"],\"hidePhoneNumber\":true,\"name\":\"n\",\"metadata\":\"m\","
    "\"attributes\":{\"a\":\"b\"},\"roomConfig\":{\"agents\":[{\"agentName\":\"agent-1\","
    "\"metadata\":\"{\\\"k\\\":1}\"}],\"emptyTimeout\":30,\"maxParticipants\":null},"
    "\"numbers\":[\"ignored: not a field of the request\"]}";

static const char *LK_RULE =
    "{\"sip_dispatch_rule_id\":\"SDR_1\",\"rule\":{\"dispatch_rule_individual\":"
    "{\"room_prefix\":\"call\",\"pin\":\"\",\"no_randomness\":false}},"
    "\"trunk_ids\":[\"ST_x\"],\"hide_phone_number\":true,\"inbound_numbers\":[],"
    "\"numbers\":[],\"name\":\"n\",\"metadata\":\"m\",\"attributes\":{\"a\":\"b\"},"
    "\"room_preset\":\"\",\"room_config\":{\"agents\":[{\"agent_name\":\"agent-1\","
    "\"metadata\":\"{\\\"k\\\":1}\"}],\"empty_timeout\":30},\"krisp_enabled\":false,"
    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_DISABLE\","
    "\"created_at\":\"2023-11-14T22:13:20.123Z\",\"updated_at\":\"2023-11-14T22:13:21Z\"}";

static void test_rule_legacy_roundtrip(void **state)
{
	(void)state;
	char err[256];
	struct store_dispatch_rule r;
	json_t *req = load(SDK_CREATE_RULE);
	char *before = dump(req);
	assert_int_equal(sip_json_parse_create_dispatch_rule(req, &r, err, sizeof(err)), 0);
	char *after = dump(req);
	assert_string_equal(before, after);
	free(before);
	free(after);
	json_decref(req);
	assert_int_equal(r.rule.kind, STORE_RULE_INDIVIDUAL);
	assert_int_equal(r.numbers.n, 0);
	assert_string_equal(r.room_config_json,
			    "{\"agents\":[{\"agent_name\":\"agent-1\",\"metadata\":\"{\\\"k\\\":1}"
			    "\"}],\"empty_timeout\":30}");
	stamp(&r.id, "SDR_1", &r.created_at_ms, &r.updated_at_ms);
	assert_json(sip_json_dispatch_rule(&r), LK_RULE);

	json_t *emitted = sip_json_dispatch_rule(&r);
	json_t *upd = json_pack("{s:s, s:O}", "sipDispatchRuleId", "SDR_1", "replace", emitted);
	struct sip_json_update_rule_req u;
	assert_int_equal(sip_json_parse_update_dispatch_rule(upd, &u, err, sizeof(err)), 0);
	u.replace.created_at_ms = T_CREATED;
	u.replace.updated_at_ms = T_UPDATED;
	assert_json(sip_json_dispatch_rule(&u.replace), LK_RULE);
	sip_json_update_rule_req_free(&u);
	json_decref(upd);
	json_decref(emitted);
	store_dispatch_rule_free(&r);
}

static void test_rule_current_form(void **state)
{
	(void)state;
	char err[256];
	struct store_dispatch_rule r;
	/* dispatchRule wins over the legacy fields, as LK's DispatchRuleInfo() */
	json_t *req = load(
	    "{\"dispatchRule\":{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"lobby\","
	    "\"pin\":\"1234\"}},\"trunkIds\":[\"ST_a\",\"ST_b\"],\"inboundNumbers\":[\"+1\"],"
	    "\"numbers\":[\"+2\"],\"krispEnabled\":true,\"roomPreset\":\"p\","
	    "\"mediaEncryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\"},"
	    "\"rule\":{\"dispatchRuleCallee\":{\"roomPrefix\":\"ignored\"}},\"name\":\"ignored\"}");
	assert_int_equal(sip_json_parse_create_dispatch_rule(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_null(r.name);
	r.id = strdup("SDR_2");
	assert_json(sip_json_dispatch_rule(&r),
		    "{\"sip_dispatch_rule_id\":\"SDR_2\",\"rule\":{\"dispatch_rule_direct\":"
		    "{\"room_name\":\"lobby\",\"pin\":\"1234\"}},\"trunk_ids\":[\"ST_a\",\"ST_b\"],"
		    "\"hide_phone_number\":false,\"inbound_numbers\":[\"+1\"],\"numbers\":[\"+2\"],"
		    "\"name\":\"\",\"metadata\":\"\",\"attributes\":{},\"room_preset\":\"p\","
		    "\"krisp_enabled\":true,\"media_encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\","
		    "\"media\":{\"only_listed_codecs\":false,\"codecs\":[],"
		    "\"encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\"}}");

	/* updateSipDispatchRuleFields: trunkIds, a new rule, attribute diff */
	assert_int_equal(store_map_set(&r.attributes, "keep", "1"), 0);
	assert_int_equal(store_map_set(&r.attributes, "drop", "2"), 0);
	req = load("{\"sipDispatchRuleId\":\"SDR_2\",\"update\":{\"trunkIds\":{\"remove\":"
		   "[\"ST_a\"]},\"rule\":{\"dispatchRuleCallee\":{\"roomPrefix\":\"c\","
		   "\"randomize\":true}},\"attributes\":{\"drop\":\"\",\"new\":\"3\"},"
		   "\"metadata\":\"md\"}}");
	struct sip_json_update_rule_req u;
	assert_int_equal(sip_json_parse_update_dispatch_rule(req, &u, err, sizeof(err)), 0);
	json_decref(req);
	assert_int_equal(sip_json_apply_rule_update(&r, &u.update, err, sizeof(err)), 0);
	sip_json_update_rule_req_free(&u);
	assert_json(sip_json_dispatch_rule(&r),
		    "{\"sip_dispatch_rule_id\":\"SDR_2\",\"rule\":{\"dispatch_rule_callee\":"
		    "{\"room_prefix\":\"c\",\"pin\":\"\",\"randomize\":true}},"
		    "\"trunk_ids\":[\"ST_b\"],\"hide_phone_number\":false,"
		    "\"inbound_numbers\":[\"+1\"],\"numbers\":[\"+2\"],\"name\":\"\","
		    "\"metadata\":\"md\",\"attributes\":{\"keep\":\"1\",\"new\":\"3\"},"
		    "\"room_preset\":\"p\",\"krisp_enabled\":true,"
		    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\","
		    "\"media\":{\"only_listed_codecs\":false,\"codecs\":[],"
		    "\"encryption\":\"SIP_MEDIA_ENCRYPT_ALLOW\"}}");

	/* deleteSipDispatchRule answers with the deleted rule: same emitter */
	req = load("{\"sipDispatchRuleId\":\"SDR_2\"}");
	char *id;
	assert_int_equal(sip_json_parse_rule_id(req, &id, err, sizeof(err)), 0);
	assert_string_equal(id, "SDR_2");
	free(id);
	json_decref(req);
	store_dispatch_rule_free(&r);
}

/* Found by fuzz/api_sip_json.c: long camelCase keys in room_config were truncated, so the
 * stored form did not survive a second pass. */
static void test_room_config_long_key(void **state)
{
	(void)state;
	char err[256], key[301], text[600];
	for (size_t i = 0; i < 300; i++)
		key[i] = i % 2 ? 'E' : 'a';
	key[300] = 0;
	snprintf(text, sizeof(text),
		 "{\"rule\":{\"dispatchRuleIndividual\":{}},\"roomConfig\":{\"%s\":1}}", key);
	json_t *req = load(text);
	struct store_dispatch_rule r, r2;
	assert_int_equal(sip_json_parse_create_dispatch_rule(req, &r, err, sizeof(err)), 0);
	json_decref(req);
	assert_int_equal(strlen(r.room_config_json), strlen("{\"\":1}") + 450);
	req = json_pack("{s:o}", "dispatchRule", sip_json_dispatch_rule(&r));
	assert_int_equal(sip_json_parse_create_dispatch_rule(req, &r2, err, sizeof(err)), 0);
	json_decref(req);
	assert_string_equal(r.room_config_json, r2.room_config_json);
	store_dispatch_rule_free(&r);
	store_dispatch_rule_free(&r2);
}

/* ---- Get, Delete, List ---- */

static void test_ids_and_lists(void **state)
{
	(void)state;
	char err[256];
	char *id = NULL;
	json_t *req = load("{\"sipTrunkId\":\"ST_1\"}");
	assert_int_equal(sip_json_parse_trunk_id(req, &id, err, sizeof(err)), 0);
	assert_string_equal(id, "ST_1");
	free(id);
	json_decref(req);
	req = load("{\"sip_trunk_id\":\"ST_2\"}");
	assert_int_equal(sip_json_parse_trunk_id(req, &id, err, sizeof(err)), 0);
	assert_string_equal(id, "ST_2");
	free(id);
	json_decref(req);

	assert_json(sip_json_delete_trunk_response("ST_1"),
		    "{\"sip_trunk_id\":\"ST_1\",\"kind\":\"TRUNK_LEGACY\","
		    "\"inbound_addresses\":[],\"outbound_address\":\"\",\"outbound_number\":\"\","
		    "\"transport\":\"SIP_TRANSPORT_AUTO\",\"inbound_numbers_regex\":[],"
		    "\"inbound_numbers\":[],\"inbound_username\":\"\",\"inbound_password\":\"\","
		    "\"outbound_username\":\"\",\"outbound_password\":\"\",\"name\":\"\","
		    "\"metadata\":\"\"}");

	/* ListSIPTrunk's items: LK's AsTrunkInfo */
	char *nums[] = {"+1", "+2"}, *addrs[] = {"10.0.0.1"};
	struct store_inbound_trunk lin = {.id = "ST_i",
					  .name = "n",
					  .numbers = {nums, 2},
					  .allowed_addresses = {addrs, 1},
					  .allowed_numbers = {nums + 1, 1},
					  .auth_username = "u",
					  .auth_password = "p"};
	assert_json(sip_json_inbound_trunk_legacy(&lin),
		    "{\"sip_trunk_id\":\"ST_i\",\"kind\":\"TRUNK_INBOUND\","
		    "\"inbound_addresses\":[\"10.0.0.1\"],\"outbound_address\":\"\","
		    "\"outbound_number\":\"+1\",\"transport\":\"SIP_TRANSPORT_AUTO\","
		    "\"inbound_numbers_regex\":[],\"inbound_numbers\":[\"+2\"],"
		    "\"inbound_username\":\"u\",\"inbound_password\":\"p\","
		    "\"outbound_username\":\"\",\"outbound_password\":\"\",\"name\":\"n\","
		    "\"metadata\":\"\"}");
	struct store_outbound_trunk ob = {.id = "ST_o",
					  .address = "example.com",
					  .transport = STORE_TRANSPORT_TLS,
					  .numbers = {nums + 1, 1},
					  .auth_username = "ou",
					  .metadata = "m"};
	assert_json(sip_json_outbound_trunk_legacy(&ob),
		    "{\"sip_trunk_id\":\"ST_o\",\"kind\":\"TRUNK_OUTBOUND\","
		    "\"inbound_addresses\":[],\"outbound_address\":\"example.com\","
		    "\"outbound_number\":\"+2\",\"transport\":\"SIP_TRANSPORT_TLS\","
		    "\"inbound_numbers_regex\":[],\"inbound_numbers\":[],"
		    "\"inbound_username\":\"\",\"inbound_password\":\"\","
		    "\"outbound_username\":\"ou\",\"outbound_password\":\"\",\"name\":\"\","
		    "\"metadata\":\"m\"}");

	/* listSipInboundTrunk({page, trunkIds, numbers}) */
	struct sip_json_list_req l;
	struct store_filter f;
	req = load("{\"page\":{\"afterId\":\"ST_a\",\"limit\":10},\"trunkIds\":[\"ST_1\",\"ST_2\"],"
		   "\"numbers\":[\"+1\"]}");
	assert_int_equal(sip_json_parse_list_trunks(req, &l, err, sizeof(err)), 0);
	json_decref(req);
	sip_json_list_req_filter(&l, &f);
	assert_int_equal(f.n_ids, 2);
	assert_string_equal(f.ids[1], "ST_2");
	assert_int_equal(f.n_numbers, 1);
	assert_string_equal(f.after_id, "ST_a");
	assert_int_equal(f.limit, 10);
	assert_int_equal(f.n_trunk_ids, 0);
	sip_json_list_req_free(&l);

	req = load("{\"page\":{\"limit\":\"5\"},\"dispatch_rule_ids\":[\"SDR_1\"],"
		   "\"trunkIds\":[\"ST_1\"]}");
	assert_int_equal(sip_json_parse_list_rules(req, &l, err, sizeof(err)), 0);
	json_decref(req);
	sip_json_list_req_filter(&l, &f);
	assert_int_equal(f.n_ids, 1);
	assert_int_equal(f.n_trunk_ids, 1);
	assert_null(f.after_id);
	assert_int_equal(f.limit, 5);
	sip_json_list_req_free(&l);

	req = load("{}");
	assert_int_equal(sip_json_parse_list_rules(req, &l, err, sizeof(err)), 0);
	json_decref(req);
	sip_json_list_req_filter(&l, &f);
	assert_int_equal(f.n_ids + f.n_trunk_ids + f.limit, 0);
	sip_json_list_req_free(&l);

	/* an unknown id leaves a slot with a NULL id: {} not null */
	struct store_inbound_trunk in[2] = {{0}};
	in[0].id = "ST_1";
	in[0].numbers.v = (char *[]){"+1"};
	in[0].numbers.n = 1;
	assert_json(sip_json_inbound_trunk_list(in, 2),
		    "{\"items\":[{\"sip_trunk_id\":\"ST_1\",\"name\":\"\",\"metadata\":\"\","
		    "\"numbers\":[\"+1\"],\"allowed_addresses\":[],\"allowed_numbers\":[],"
		    "\"auth_username\":\"\",\"auth_password\":\"\",\"auth_realm\":\"\","
		    "\"headers\":{},\"headers_to_attributes\":{},\"attributes_to_headers\":{},"
		    "\"include_headers\":\"SIP_NO_HEADERS\",\"krisp_enabled\":false,"
		    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_DISABLE\"},{}]}");
	assert_json(sip_json_outbound_trunk_list(NULL, 0), "{\"items\":[]}");
	struct store_outbound_trunk out[1] = {{0}};
	assert_json(sip_json_outbound_trunk_list(out, 1), "{\"items\":[{}]}");
	struct store_dispatch_rule rules[2] = {{0}};
	rules[1].id = "SDR_9";
	assert_json(
	    sip_json_dispatch_rule_list(rules, 2),
	    "{\"items\":[{},{\"sip_dispatch_rule_id\":\"SDR_9\",\"trunk_ids\":[],"
	    "\"hide_phone_number\":false,\"inbound_numbers\":[],\"numbers\":[],"
	    "\"name\":\"\",\"metadata\":\"\",\"attributes\":{},\"room_preset\":\"\","
	    "\"krisp_enabled\":false,\"media_encryption\":\"SIP_MEDIA_ENCRYPT_DISABLE\"}]}");
}

/* ---- Emitting odd records ---- */

static void test_emit_edges(void **state)
{
	(void)state;
	struct store_outbound_trunk t = {0};
	t.id = "ST_\xff";
	t.name = "caf\xc3\xa9 \xed\xa0\x80"; /* a valid é, then an encoded surrogate */
	t.numbers.v = (char *[]){NULL, "+1"};
	t.numbers.n = 2;
	t.headers.v = (struct store_pair[]){{"X-\xfe", NULL}};
	t.headers.n = 1;
	t.transport = (enum store_transport)42; /* out of range: the zero name */
	t.created_at_ms = 1;
	assert_json(sip_json_outbound_trunk(&t),
		    "{\"sip_trunk_id\":\"ST_\xef\xbf\xbd\",\"name\":\"caf\xc3\xa9 "
		    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",\"metadata\":\"\",\"address\":\"\","
		    "\"destination_country\":\"\",\"transport\":\"SIP_TRANSPORT_AUTO\","
		    "\"numbers\":[\"\",\"+1\"],\"auth_username\":\"\",\"auth_password\":\"\","
		    "\"headers\":{\"X-\xef\xbf\xbd\":\"\"},\"headers_to_attributes\":{},"
		    "\"attributes_to_headers\":{},\"include_headers\":\"SIP_NO_HEADERS\","
		    "\"media_encryption\":\"SIP_MEDIA_ENCRYPT_DISABLE\",\"from_host\":\"\","
		    "\"created_at\":\"1970-01-01T00:00:00.001Z\"}");

	struct store_inbound_trunk in = {0};
	in.ringing_timeout_ms = 180000;
	in.max_call_duration_ms = 86400001;
	json_t *j = sip_json_inbound_trunk(&in);
	assert_string_equal(json_string_value(json_object_get(j, "ringing_timeout")), "180s");
	assert_string_equal(json_string_value(json_object_get(j, "max_call_duration")),
			    "86400.001s");
	json_decref(j);

	/* a stored room_config that is not an object is left out, never emitted broken */
	struct store_dispatch_rule r = {0};
	r.room_config_json = "[1";
	j = sip_json_dispatch_rule(&r);
	assert_null(json_object_get(j, "room_config"));
	assert_null(json_object_get(j, "rule"));
	json_decref(j);
}

/* ---- Bad input ---- */

enum kind {
	K_IN,
	K_OUT,
	K_RULE,
	K_UPD_IN,
	K_UPD_OUT,
	K_UPD_RULE,
	K_LIST_T,
	K_LIST_R,
	K_TID,
	K_RID
};

static int run(enum kind k, const json_t *req, char *err, size_t n)
{
	int e = -1;
	switch (k) {
	case K_IN: {
		struct store_inbound_trunk t;
		e = sip_json_parse_create_inbound_trunk(req, &t, err, n);
		if (e) { /* nothing to free, nothing left */
			assert_null(t.id);
			assert_null(t.numbers.v);
			assert_null(t.headers.v);
		}
		store_inbound_trunk_free(&t);
		break;
	}
	case K_OUT: {
		struct store_outbound_trunk t;
		e = sip_json_parse_create_outbound_trunk(req, &t, err, n);
		store_outbound_trunk_free(&t);
		break;
	}
	case K_RULE: {
		struct store_dispatch_rule r;
		e = sip_json_parse_create_dispatch_rule(req, &r, err, n);
		if (e)
			assert_null(r.rule.room_prefix);
		store_dispatch_rule_free(&r);
		break;
	}
	case K_UPD_IN: {
		struct sip_json_update_inbound_req r;
		e = sip_json_parse_update_inbound_trunk(req, &r, err, n);
		if (e)
			assert_null(r.id);
		sip_json_update_inbound_req_free(&r);
		break;
	}
	case K_UPD_OUT: {
		struct sip_json_update_outbound_req r;
		e = sip_json_parse_update_outbound_trunk(req, &r, err, n);
		sip_json_update_outbound_req_free(&r);
		break;
	}
	case K_UPD_RULE: {
		struct sip_json_update_rule_req r;
		e = sip_json_parse_update_dispatch_rule(req, &r, err, n);
		sip_json_update_rule_req_free(&r);
		break;
	}
	case K_LIST_T:
	case K_LIST_R: {
		struct sip_json_list_req l;
		e = k == K_LIST_T ? sip_json_parse_list_trunks(req, &l, err, n)
				  : sip_json_parse_list_rules(req, &l, err, n);
		sip_json_list_req_free(&l);
		break;
	}
	case K_TID:
	case K_RID: {
		char *id = (char *)"poison";
		e = k == K_TID ? sip_json_parse_trunk_id(req, &id, err, n)
			       : sip_json_parse_rule_id(req, &id, err, n);
		if (e)
			assert_null(id);
		free(id);
		break;
	}
	}
	return e;
}

static void test_bad_input(void **state)
{
	(void)state;
	static const struct {
		enum kind k;
		const char *json;
		const char *msg;
	} cases[] = {
	    {K_IN, "[]", "the request body must be a JSON object"},
	    {K_IN, "{}", "trunk is required"},
	    {K_IN, "{\"trunk\":null}", "trunk is required"},
	    {K_IN, "{\"trunk\":\"x\"}", "trunk: must be an object"},
	    {K_IN, "{\"trunk\":{\"numbers\":\"+1\"}}",
	     "trunk.numbers: must be an array of strings"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\",5]}}", "trunk.numbers[1]: must be a string"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\",null]}}",
	     "trunk.numbers[1]: must be a string, not null"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"includeHeaders\":\"SIP_SOME_HEADERS\"}}",
	     "trunk.includeHeaders: unknown SIPHeaderOptions value \"SIP_SOME_HEADERS\" (expected "
	     "SIP_NO_HEADERS ... SIP_ALL_HEADERS)"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"includeHeaders\":true}}",
	     "trunk.includeHeaders: must be a SIPHeaderOptions name such as \"SIP_ALL_HEADERS\""},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"mediaEncryption\":7}}",
	     "trunk.mediaEncryption: unknown SIPMediaEncryption value 7"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"ringingTimeout\":\"30\"}}",
	     "trunk.ringingTimeout: invalid duration \"30\" (expected a form such as \"30s\")"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"ringingTimeout\":30}}",
	     "trunk.ringingTimeout: must be a duration string such as \"30s\""},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"ringingTimeout\":\"1.s\"}}",
	     "trunk.ringingTimeout: invalid duration \"1.s\""},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"ringingTimeout\":\"1m\"}}",
	     "trunk.ringingTimeout: invalid duration \"1m\""},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"maxCallDuration\":\"-1.5s\"}}",
	     "trunk.maxCallDuration: must not be negative"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"maxCallDuration\":\"99999999999999s\"}}",
	     "trunk.maxCallDuration: duration out of range"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"krispEnabled\":\"yes\"}}",
	     "trunk.krispEnabled: must be true or false"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"name\":\"a\\u0000b\"}}",
	     "trunk.name: must not contain NUL"},
	    {K_IN,
	     "{\"trunk\":{\"numbers\":[\"+1\"],\"allowedNumbers\":[],\"allowed_numbers\":[]}}",
	     "trunk.allowedNumbers: given twice (as allowedNumbers and allowed_numbers)"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headers\":{\"X-A\":5}}}",
	     "trunk.headers[\"X-A\"]: must be a string"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headers\":[]}}",
	     "trunk.headers: must be an object of strings"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headers\":{\"Call-ID\":\"x\"}}}",
	     "headers: \"Call-ID\" cannot be set"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headers\":{\"content-type\":\"x\"}}}",
	     "headers: \"content-type\" cannot be set"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headers\":{\"X A\":\"x\"}}}",
	     "headers: \"X A\" is not a valid header name"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headers\":{\"X-A\":\"a\\r\\nVia: x\"}}}",
	     "headers: the value of \"X-A\" must not contain CR or LF"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"headersToAttributes\":{\"\":\"a\"}}}",
	     "headersToAttributes: \"\" is not a valid header name"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"attributesToHeaders\":{\"a\":\"X:\"}}}",
	     "attributesToHeaders: \"X:\" is not a valid header name"},
	    {K_IN, "{\"trunk\":{\"name\":\"x\",\"authUsername\":\"u\"}}",
	     "for security, one of the fields must be set: authUsername+authPassword, "
	     "allowedAddresses or numbers"},
	    {K_IN, "{\"trunk\":{\"sipTrunkId\":\"ST_1\",\"numbers\":[\"+1\"]}}",
	     "trunk ID must be empty"},
	    {K_IN,
	     "{\"trunk\":{\"numbers\":[\"+1\"],\"media\":{\"codecs\":[{\"name\":\"opus\"}]}}}",
	     "trunk.media.codecs[0]: rate is required for codec \"opus\""},
	    {K_IN,
	     "{\"trunk\":{\"numbers\":[\"+1\"],\"media\":{\"codecs\":[{\"name\":\"PCMU/8000\"}]}}}",
	     "trunk.media.codecs[0]: name must not contain '/' (give the rate in rate)"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"media\":{\"codecs\":[{\"rate\":-1}]}}}",
	     "trunk.media.codecs[0].rate: must be between 0 and 4294967295"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"media\":{\"mediaTimeout\":\"601s\"}}}",
	     "trunk.media.mediaTimeout: must be at most 10 minutes"},
	    {K_IN, "{\"trunk\":{\"numbers\":[\"+1\"],\"media\":{\"encryption\":\"ALLOW\"}}}",
	     "trunk.media.encryption: unknown SIPMediaEncryption value \"ALLOW\""},
	    {K_OUT, "{\"trunk\":{\"numbers\":[\"+1\"]}}", "address is required"},
	    {K_OUT, "{\"trunk\":{\"address\":\"sip:pbx.example.com\",\"numbers\":[\"+1\"]}}",
	     "address must be a host[:port], not a SIP URI: \"sip:pbx.example.com\""},
	    {K_OUT, "{\"trunk\":{\"address\":\"u@pbx.example.com\",\"numbers\":[\"+1\"]}}",
	     "address must be a host[:port] without '@', ';' or transport=: \"u@pbx.example.com\""},
	    {K_OUT, "{\"trunk\":{\"address\":\"pbx;transport=tcp\",\"numbers\":[\"+1\"]}}",
	     "address must be a host[:port] without '@', ';' or transport=: \"pbx;transport=tcp\""},
	    {K_OUT, "{\"trunk\":{\"address\":\"pbx.example.com\"}}",
	     "numbers: at least one number is required"},
	    {K_OUT, "{\"trunk\":{\"address\":\"pbx\",\"numbers\":[\"+1\"],\"transport\":\"TCP\"}}",
	     "trunk.transport: unknown SIPTransport value \"TCP\" (expected SIP_TRANSPORT_AUTO ... "
	     "SIP_TRANSPORT_TLS)"},
	    {K_OUT, "{\"trunk\":{\"address\":\"pbx\",\"numbers\":[\"+1\"],\"transport\":4}}",
	     "trunk.transport: unknown SIPTransport value 4"},
	    {K_OUT,
	     "{\"trunk\":{\"address\":\"pbx\",\"numbers\":[\"+1\"],\"headers\":{\"From\":\"x\"}}}",
	     "headers: \"From\" cannot be set"},
	    {K_RULE, "{\"trunkIds\":[\"ST_1\"],\"name\":\"x\"}", "rule is required"},
	    {K_RULE, "{\"rule\":{}}", "rule is required"},
	    {K_RULE, "{\"rule\":\"direct\"}", "rule: must be an object"},
	    {K_RULE,
	     "{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"a\"},\"dispatchRuleCallee\":{}}}",
	     "rule: only one of dispatchRuleDirect, dispatchRuleIndividual and dispatchRuleCallee "
	     "may be set"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleDirect\":{}}}",
	     "rule.dispatchRuleDirect.roomName is required"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleIndividual\":{\"roomPrefix\":1}}}",
	     "rule.dispatchRuleIndividual.roomPrefix: must be a string"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleCallee\":{\"randomize\":1}}}",
	     "rule.dispatchRuleCallee.randomize: must be true or false"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"r\",\"pin\":\"12#\"}}}",
	     "rule: pin must hold only DTMF digits (0-9, *, A-D)"},
	    {K_RULE,
	     "{\"rule\":{\"dispatchRuleDirect\":{\"roomName\":\"r\",\"pin\":\"12345678901234567\"}}"
	     "}",
	     "rule: pin must be at most 16 digits"},
	    {K_RULE,
	     "{\"dispatchRule\":{\"sipDispatchRuleId\":\"SDR_x\",\"rule\":{\"dispatchRuleDirect\":"
	     "{\"roomName\":\"r\"}}}}",
	     "rule id must not be set"},
	    {K_RULE, "{\"dispatchRule\":[]}", "dispatchRule: must be an object"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleIndividual\":{}},\"roomConfig\":5}",
	     "roomConfig: must be an object"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleIndividual\":{}},\"roomConfig\":{\"agents\":{}}}",
	     "roomConfig.agents: must be an array"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleIndividual\":{}},\"roomConfig\":{\"agents\":[1]}}",
	     "roomConfig.agents[0]: must be an object"},
	    {K_RULE,
	     "{\"rule\":{\"dispatchRuleIndividual\":{}},\"roomConfig\":{\"emptyTimeout\":1,"
	     "\"empty_timeout\":2}}",
	     "roomConfig.empty_timeout: given twice"},
	    {K_RULE, "{\"rule\":{\"dispatchRuleIndividual\":{}},\"attributes\":{\"a\":null}}",
	     "attributes[\"a\"]: must be a string"},
	    {K_RULE,
	     "{\"dispatchRule\":{\"rule\":{\"dispatchRuleIndividual\":{}},\"trunkIds\":[\"\"]}}",
	     "trunkIds[0]: must not be empty"},
	    {K_UPD_IN, "{\"update\":{}}", "trunk ID is required"},
	    {K_UPD_IN, "{\"sipTrunkId\":\"\",\"update\":{}}", "trunk ID is required"},
	    {K_UPD_IN, "{\"sipTrunkId\":\"ST_1\"}", "replace or update is required"},
	    {K_UPD_IN, "{\"sipTrunkId\":\"ST_1\",\"update\":{},\"replace\":{}}",
	     "only one of replace and update may be set"},
	    {K_UPD_IN, "{\"sipTrunkId\":\"ST_1\",\"replace\":{\"name\":\"x\"}}", "for security"},
	    {K_UPD_IN, "{\"sipTrunkId\":\"ST_1\",\"update\":{\"numbers\":[\"+1\"]}}",
	     "update.numbers: must be an object"},
	    {K_UPD_IN,
	     "{\"sipTrunkId\":\"ST_1\",\"update\":{\"numbers\":{\"clear\":true,\"add\":[\"+1\"]}}}",
	     "update.numbers: clear cannot be combined with set, add or remove"},
	    {K_UPD_IN,
	     "{\"sipTrunkId\":\"ST_1\",\"update\":{\"allowedNumbers\":{\"set\":[\"+1\"],"
	     "\"remove\":[\"+2\"]}}}",
	     "update.allowedNumbers: set cannot be combined with add or remove"},
	    {K_UPD_IN, "{\"sipTrunkId\":\"ST_1\",\"update\":{\"authRealm\":7}}",
	     "update.authRealm: must be a string"},
	    {K_UPD_OUT, "{\"sipTrunkId\":\"ST_1\",\"update\":{\"transport\":\"UDP\"}}",
	     "update.transport: unknown SIPTransport value \"UDP\""},
	    {K_UPD_OUT, "{\"sipTrunkId\":\"ST_1\",\"replace\":{\"address\":\"x\"}}",
	     "numbers: at least one number is required"},
	    {K_UPD_RULE, "{\"update\":{}}", "dispatch rule ID is required"},
	    {K_UPD_RULE, "{\"sipDispatchRuleId\":\"SDR_1\",\"update\":{\"rule\":{}}}",
	     "update: rule: one of dispatchRuleDirect, dispatchRuleIndividual or "
	     "dispatchRuleCallee "
	     "is required"},
	    {K_UPD_RULE,
	     "{\"sipDispatchRuleId\":\"SDR_1\",\"update\":{\"trunkIds\":{\"add\":[1]}}}",
	     "update.trunkIds.add[0]: must be a string"},
	    {K_LIST_T, "{\"page\":{\"limit\":-1}}", "page.limit: must be between 0 and 2147483647"},
	    {K_LIST_T, "{\"page\":{\"limit\":1.5}}", "page.limit: must be an integer"},
	    {K_LIST_T, "{\"page\":{\"limit\":\"1x\"}}", "page.limit: must be an integer"},
	    {K_LIST_T, "{\"page\":7}", "page: must be an object"},
	    {K_LIST_T, "{\"trunkIds\":\"ST_1\"}", "trunkIds: must be an array of strings"},
	    {K_LIST_R, "{\"dispatchRuleIds\":[null]}",
	     "dispatchRuleIds[0]: must be a string, not null"},
	    {K_TID, "{}", "trunk ID is required"},
	    {K_TID, "{\"sipTrunkId\":5}", "sipTrunkId: must be a string"},
	    {K_TID, "7", "the request body must be a JSON object"},
	    {K_RID, "{\"sipTrunkId\":\"ST_1\"}", "dispatch rule ID is required"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "stale";
		json_t *req = json_loads(cases[i].json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		if (!req)
			fail_msg("case %zu: bad test JSON %s", i, cases[i].json);
		int e = run(cases[i].k, req, err, sizeof(err));
		json_decref(req);
		if (e != SB_EINVAL || strstr(err, cases[i].msg) != err)
			fail_msg("case %zu %s\n got %d \"%s\"\nwant \"%s\"", i, cases[i].json, e,
				 err, cases[i].msg);
	}
	/* a NULL or tiny error buffer is fine */
	json_t *req = load("{}");
	struct store_inbound_trunk t;
	assert_int_equal(sip_json_parse_create_inbound_trunk(req, &t, NULL, 0), SB_EINVAL);
	char tiny[4];
	assert_int_equal(sip_json_parse_create_inbound_trunk(req, &t, tiny, sizeof(tiny)),
			 SB_EINVAL);
	assert_string_equal(tiny, "tru");
	json_decref(req);
}

/* ---- Conflicts ---- */

static struct store_strv sv(char **v, size_t n)
{
	return (struct store_strv){v, n};
}

static void test_inbound_conflicts(void **state)
{
	(void)state;
	char err[256];
	struct store_inbound_trunk ex[3] = {{0}};
	ex[0].id = "ST_a";
	ex[0].numbers = sv((char *[]){"+1 (510) 555-0100"}, 1);
	ex[1].id = "ST_b";
	ex[1].numbers = sv((char *[]){"+15105550199"}, 1);
	ex[1].allowed_numbers = sv((char *[]){"+44 20 7946 0000"}, 1);
	ex[2].id = "ST_default";
	ex[2].allowed_addresses = sv((char *[]){"10.0.0.0/8"}, 1);

	struct store_inbound_trunk t = {0};
	t.numbers = sv((char *[]){"15105550100"}, 1);
	assert_int_equal(sip_json_check_inbound_conflicts(&t, ex, 3, err, sizeof(err)), SB_EINVAL);
	assert_string_equal(err,
			    "Conflicting inbound SIP Trunks: \"ST_a\" and \"<new>\", using the "
			    "same number (+15105550100) and allowed caller number (any)");
	/* the same trunk updated in place does not conflict with itself */
	t.id = "ST_a";
	assert_int_equal(sip_json_check_inbound_conflicts(&t, ex, 3, err, sizeof(err)), 0);
	/* allowed_numbers that differ separate two trunks on one number */
	t.id = NULL;
	t.numbers = sv((char *[]){"+15105550199"}, 1);
	t.allowed_numbers = sv((char *[]){"+33"}, 1);
	assert_int_equal(sip_json_check_inbound_conflicts(&t, ex, 3, err, sizeof(err)), 0);
	t.allowed_numbers = sv((char *[]){"+33", "+442079460000"}, 2);
	assert_int_equal(sip_json_check_inbound_conflicts(&t, ex, 3, err, sizeof(err)), SB_EINVAL);
	assert_non_null(strstr(err, "\"ST_b\""));
	/* empty allowed_numbers vs a list: no overlap */
	t.allowed_numbers = sv(NULL, 0);
	assert_int_equal(sip_json_check_inbound_conflicts(&t, ex, 3, err, sizeof(err)), 0);
	/* two default trunks (no numbers) conflict */
	t.numbers = sv(NULL, 0);
	t.auth_username = "u";
	assert_int_equal(sip_json_check_inbound_conflicts(&t, ex, 3, err, sizeof(err)), SB_EINVAL);
	assert_string_equal(err, "Conflicting inbound SIP Trunks: \"ST_default\" and \"<new>\", "
				 "using the same number (any) and allowed caller number (any)");
	assert_int_equal(sip_json_check_inbound_conflicts(&t, NULL, 0, err, sizeof(err)), 0);

	char n[32];
	sip_json_normalize_number(" +1 (510) 555-0100 ", n, sizeof(n));
	assert_string_equal(n, "+15105550100");
	sip_json_normalize_number("442079460000", n, sizeof(n));
	assert_string_equal(n, "+442079460000");
	sip_json_normalize_number("", n, sizeof(n));
	assert_string_equal(n, "");
	sip_json_normalize_number(NULL, n, sizeof(n));
	assert_string_equal(n, "");
	sip_json_normalize_number("123456", n, 4);
	assert_string_equal(n, "+12");
}

static void test_rule_conflicts(void **state)
{
	(void)state;
	char err[512];
	struct store_dispatch_rule ex[2] = {{0}};
	ex[0].id = "SDR_a";
	ex[0].rule.kind = STORE_RULE_INDIVIDUAL;
	ex[0].trunk_ids = sv((char *[]){"ST_1", "ST_2"}, 2);
	ex[1].id = "SDR_wild";
	ex[1].rule.kind = STORE_RULE_DIRECT;
	ex[1].rule.room_name = "lobby";
	ex[1].rule.pin = "";

	struct store_dispatch_rule r = {0};
	r.rule.kind = STORE_RULE_CALLEE;
	r.trunk_ids = sv((char *[]){"ST_2"}, 1);
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), SB_EINVAL);
	assert_string_equal(err,
			    "Dispatch rule for the same trunk, inbound number, number, and PIN "
			    "combination already exists in dispatch rule \"SDR_a\" (trunk "
			    "ST_2, inbound number any, number any, no PIN)");
	/* a PIN makes it a different key */
	r.rule.pin = "1234";
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), 0);
	r.rule.pin = NULL;
	/* a called number narrows it */
	r.numbers = sv((char *[]){"+1"}, 1);
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), 0);
	/* a specific trunk does not conflict with a wildcard rule; two wildcards do */
	r.numbers = sv(NULL, 0);
	r.trunk_ids = sv((char *[]){"ST_3"}, 1);
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), 0);
	r.trunk_ids = sv(NULL, 0);
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), SB_EINVAL);
	assert_non_null(strstr(err, "\"SDR_wild\" (trunk any,"));
	r.id = "SDR_wild"; /* updating itself */
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), 0);
	/* inbound numbers compare normalised */
	r.id = NULL;
	ex[1].inbound_numbers = sv((char *[]){"+1 555 0100"}, 1);
	r.inbound_numbers = sv((char *[]){"15550100"}, 1);
	assert_int_equal(sip_json_check_rule_conflicts(&r, ex, 2, err, sizeof(err)), SB_EINVAL);
	assert_non_null(strstr(err, "inbound number +15550100"));
}

static void test_validators_direct(void **state)
{
	(void)state;
	char err[256];
	struct store_inbound_trunk in = {0};
	in.auth_username = "u";
	in.auth_password = "p";
	assert_int_equal(sip_json_validate_inbound_trunk(&in, err, sizeof(err)), 0);
	in.headers.v = (struct store_pair[]){{"X-Ok", "v"}, {"Max-Forwards", "1"}};
	in.headers.n = 2;
	assert_int_equal(sip_json_validate_inbound_trunk(&in, err, sizeof(err)), SB_EINVAL);
	assert_string_equal(err, "headers: \"Max-Forwards\" cannot be set");
	in.headers.n = 1;
	assert_int_equal(sip_json_validate_inbound_trunk(&in, err, sizeof(err)), 0);
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	in.headers_to_attributes.v = (struct store_pair[]){{longname, "x"}};
	in.headers_to_attributes.n = 1;
	assert_int_equal(sip_json_validate_inbound_trunk(&in, err, sizeof(err)), SB_EINVAL);
	assert_non_null(strstr(err, "is not a valid header name"));

	struct store_outbound_trunk out = {0};
	out.address = "pbx.example.com:5080";
	out.numbers = sv((char *[]){"+1"}, 1);
	assert_int_equal(sip_json_validate_outbound_trunk(&out, err, sizeof(err)), 0);
	out.address = "SIPS:pbx";
	assert_int_equal(sip_json_validate_outbound_trunk(&out, err, sizeof(err)), SB_EINVAL);
	out.address = "pbx example";
	assert_int_equal(sip_json_validate_outbound_trunk(&out, err, sizeof(err)), SB_EINVAL);
	assert_string_equal(err, "address must not contain spaces: \"pbx example\"");

	struct store_dispatch_rule r = {0};
	r.rule.kind = STORE_RULE_INDIVIDUAL;
	r.rule.pin = "0123456789*ABCD#";
	assert_int_equal(sip_json_validate_dispatch_rule(&r, err, sizeof(err)), SB_EINVAL);
	r.rule.pin = "0123456789*ABCDd";
	assert_int_equal(sip_json_validate_dispatch_rule(&r, err, sizeof(err)), 0);
}

/* ---- Out of memory inside jansson ---- */

static int alloc_left = -1; /* < 0: no limit */

static void *limited_malloc(size_t n)
{
	if (alloc_left == 0)
		return NULL;
	if (alloc_left > 0)
		alloc_left--;
	return malloc(n);
}

static void test_oom(void **state)
{
	(void)state;
	char err[256];
	json_t *req = load(SDK_CREATE_RULE);
	struct store_dispatch_rule r;
	assert_int_equal(sip_json_parse_create_dispatch_rule(req, &r, err, sizeof(err)), 0);
	stamp(&r.id, "SDR_1", &r.created_at_ms, &r.updated_at_ms);
	json_set_alloc_funcs(limited_malloc, free);
	bool done_rule = false, done_parse = false;
	for (int limit = 0; limit < 400 && !(done_rule && done_parse); limit++) {
		alloc_left = limit;
		json_t *j = sip_json_dispatch_rule(&r);
		alloc_left = -1;
		if (j) {
			done_rule = true;
			assert_json(j, LK_RULE);
		}
		struct store_dispatch_rule p;
		alloc_left = limit;
		int e = sip_json_parse_create_dispatch_rule(req, &p, err, sizeof(err));
		alloc_left = -1;
		if (e == 0)
			done_parse = true;
		else
			assert_int_equal(e, SB_ENOMEM);
		store_dispatch_rule_free(&p);
	}
	json_set_alloc_funcs(malloc, free);
	assert_true(done_rule);
	assert_true(done_parse);
	json_decref(req);
	store_dispatch_rule_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inbound_roundtrip),
	    cmocka_unit_test(test_inbound_minimal_and_snake),
	    cmocka_unit_test(test_inbound_update),
	    cmocka_unit_test(test_outbound_roundtrip),
	    cmocka_unit_test(test_rule_legacy_roundtrip),
	    cmocka_unit_test(test_rule_current_form),
	    cmocka_unit_test(test_room_config_long_key),
	    cmocka_unit_test(test_ids_and_lists),
	    cmocka_unit_test(test_emit_edges),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_inbound_conflicts),
	    cmocka_unit_test(test_rule_conflicts),
	    cmocka_unit_test(test_validators_direct),
	    cmocka_unit_test(test_oom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
