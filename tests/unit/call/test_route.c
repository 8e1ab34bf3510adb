/* Unit tests for src/call/route.c: number normalisation, CIDR matching, trunk matching and
 * LiveKit's dispatch-rule priorities, room names, PIN modes and the participant's attributes. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "call/route.h"

#define SV(...)                                                                                    \
	((struct store_strv){(char *[]){__VA_ARGS__},                                              \
			     sizeof((char *[]){__VA_ARGS__}) / sizeof(char *)})

static struct call_route_in call_in(void)
{
	struct call_route_in in = {
	    .src_ip = "192.0.2.10",
	    .from_user = "+15550100",
	    .from_host = "pbx.example.com",
	    .to_user = "+15550200",
	    .call_id = "abc@host",
	    .call_tag = "ftag",
	    .sid = "SCL_test00000000",
	    .rand = "RANDOMRANDOM",
	};
	return in;
}

static void test_normalize(void **state)
{
	(void)state;
	char out[64];
	call_route_normalize_number("+1 (555) 010-0", out, sizeof(out));
	assert_string_equal(out, "+15550100");
	call_route_normalize_number("15550100", out, sizeof(out));
	assert_string_equal(out, "+15550100");
	call_route_normalize_number(" -+44 20", out, sizeof(out));
	assert_string_equal(out, "+4420");
	call_route_normalize_number("", out, sizeof(out));
	assert_string_equal(out, "");
	call_route_normalize_number("123456", out, 4);
	assert_string_equal(out, "+12");
}

static void test_cidr(void **state)
{
	(void)state;
	assert_true(call_route_ip_match("10.1.2.3", "10.0.0.0/8"));
	assert_false(call_route_ip_match("11.1.2.3", "10.0.0.0/8"));
	assert_true(call_route_ip_match("192.0.2.10", "192.0.2.10"));
	assert_false(call_route_ip_match("192.0.2.11", "192.0.2.10"));
	assert_true(call_route_ip_match("192.0.2.11", "192.0.2.8/29"));
	assert_false(call_route_ip_match("192.0.2.16", "192.0.2.8/29"));
	assert_true(call_route_ip_match("1.2.3.4", "0.0.0.0/0"));
	assert_true(call_route_ip_match("2001:db8::1", "2001:db8::/32"));
	assert_false(call_route_ip_match("2001:db9::1", "2001:db8::/32"));
	assert_true(call_route_ip_match("2001:db8::1", "2001:db8::1/128"));
	assert_true(call_route_ip_match("::ffff:10.0.0.1", "10.0.0.0/24"));
	/* families do not mix, invalid masks never match */
	assert_false(call_route_ip_match("10.0.0.1", "::/0"));
	assert_false(call_route_ip_match("10.0.0.1", "10.0.0.0/33"));
	assert_false(call_route_ip_match("10.0.0.1", "10.0.0.0/x"));
	assert_false(call_route_ip_match("10.0.0.1", "10.0.0.0/"));
	assert_false(call_route_ip_match("10.0.0.1", "not-an-ip"));
	assert_false(call_route_ip_match("2001:db8::1", "2001:db8::/129"));
}

static void test_trunk_numbers(void **state)
{
	(void)state;
	struct store_inbound_trunk t[3] = {
	    {.id = "ST_a", .numbers = SV("+1 555 0200")},
	    {.id = "ST_b", .numbers = SV("+15550300")},
	    {.id = "ST_def"},
	};
	struct call_route_in in = call_in();
	const struct store_inbound_trunk *got;
	/* normalised number match wins over the default trunk */
	assert_int_equal(call_route_trunk(&in, t, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "ST_a");
	in.to_user = "15550300";
	assert_int_equal(call_route_trunk(&in, t, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "ST_b");
	/* nobody claims the number: the default trunk */
	in.to_user = "+15550999";
	assert_int_equal(call_route_trunk(&in, t, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "ST_def");
	/* without a default: no trunk, which is not an error (wildcard rules may apply) */
	assert_int_equal(call_route_trunk(&in, t, 2, &got), CALL_ROUTE_OK);
	assert_null(got);
	assert_int_equal(call_route_trunk(&in, NULL, 0, &got), CALL_ROUTE_OK);
	assert_null(got);
	/* two trunks for one number, two defaults: conflicts */
	struct store_inbound_trunk dup[2] = {{.id = "ST_x", .numbers = SV("+15550200")},
					     {.id = "ST_y", .numbers = SV("15550200")}};
	in.to_user = "+15550200";
	assert_int_equal(call_route_trunk(&in, dup, 2, &got), CALL_ROUTE_CONFLICT);
	struct store_inbound_trunk defs[2] = {{.id = "ST_x"}, {.id = "ST_y"}};
	assert_int_equal(call_route_trunk(&in, defs, 2, &got), CALL_ROUTE_CONFLICT);
	assert_int_equal(call_route_sip_status(CALL_ROUTE_CONFLICT), 500);
}

static void test_trunk_filters(void **state)
{
	(void)state;
	struct call_route_in in = call_in();
	const struct store_inbound_trunk *got;
	/* allowed_addresses: CIDR, exact address, From host */
	struct store_inbound_trunk t = {.id = "ST_a", .allowed_addresses = SV("10.0.0.0/8")};
	assert_int_equal(call_route_trunk(&in, &t, 1, &got), CALL_ROUTE_NO_TRUNK);
	assert_int_equal(call_route_sip_status(CALL_ROUTE_NO_TRUNK), 480);
	t.allowed_addresses = SV("10.0.0.0/8", "192.0.2.0/24");
	assert_int_equal(call_route_trunk(&in, &t, 1, &got), CALL_ROUTE_OK);
	assert_ptr_equal(got, &t);
	t.allowed_addresses = SV("bad/99", "PBX.example.com");
	assert_int_equal(call_route_trunk(&in, &t, 1, &got), CALL_ROUTE_OK);
	in.src_ip = "2001:db8::5";
	t.allowed_addresses = SV("2001:db8::/64");
	assert_int_equal(call_route_trunk(&in, &t, 1, &got), CALL_ROUTE_OK);
	t.allowed_addresses = SV("2001:db8:1::/64");
	assert_int_equal(call_route_trunk(&in, &t, 1, &got), CALL_ROUTE_NO_TRUNK);
	/* allowed_numbers, raw or normalised */
	in = call_in();
	struct store_inbound_trunk n = {.id = "ST_n", .allowed_numbers = SV("1 555 0100")};
	assert_int_equal(call_route_trunk(&in, &n, 1, &got), CALL_ROUTE_OK);
	assert_ptr_equal(got, &n);
	in.from_user = "+15550101";
	assert_int_equal(call_route_trunk(&in, &n, 1, &got), CALL_ROUTE_NO_TRUNK);
	/* a refused trunk for another number does not block the default */
	struct store_inbound_trunk two[2] = {
	    {.id = "ST_other", .numbers = SV("+15550999"), .allowed_addresses = SV("10.0.0.1")},
	    {.id = "ST_def"},
	};
	in = call_in();
	assert_int_equal(call_route_trunk(&in, two, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "ST_def");
	/* the number's own trunk refuses: the default trunk takes the call (LK order) */
	two[0].numbers = SV("+15550200");
	assert_int_equal(call_route_trunk(&in, two, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "ST_def");
	/* alone, the refusal is a 480 */
	assert_int_equal(call_route_trunk(&in, two, 1, &got), CALL_ROUTE_NO_TRUNK);
}

static void test_rule_priorities(void **state)
{
	(void)state;
	struct store_inbound_trunk tr = {.id = "ST_t"};
	struct call_route_in in = call_in();
	const struct store_dispatch_rule *got;
	struct store_dispatch_rule r[] = {
	    {.id = "SDR_callee", .rule = {.kind = STORE_RULE_CALLEE, .room_prefix = "c"}},
	    {.id = "SDR_indiv", .rule = {.kind = STORE_RULE_INDIVIDUAL, .room_prefix = "i"}},
	    {.id = "SDR_direct", .rule = {.kind = STORE_RULE_DIRECT, .room_name = "d"}},
	};
	/* direct 100 < individual 101 < callee 102 */
	assert_int_equal(call_route_rule(&in, &tr, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_direct");
	assert_int_equal(call_route_rule(&in, &tr, r, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_indiv");
	/* numbers set: -1000, so a callee rule that names the number beats an open direct */
	r[0].numbers = SV("+15550200");
	assert_int_equal(call_route_rule(&in, &tr, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_callee");
	/* numbers is an exact filter on the called number (not normalised) */
	r[0].numbers = SV("15550200");
	assert_int_equal(call_route_rule(&in, &tr, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_direct");
	/* inbound_numbers filters on the caller, exactly, and lowers the priority value */
	r[0].numbers = (struct store_strv){0};
	r[1].inbound_numbers = SV("+15550100");
	assert_int_equal(call_route_rule(&in, &tr, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_indiv");
	in.from_user = "+15550101";
	assert_int_equal(call_route_rule(&in, &tr, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_direct");
	/* ties: the smaller room name / prefix */
	struct store_dispatch_rule tie[] = {
	    {.id = "SDR_1", .rule = {.kind = STORE_RULE_DIRECT, .room_name = "zeta"}},
	    {.id = "SDR_2", .rule = {.kind = STORE_RULE_DIRECT, .room_name = "alpha"}},
	};
	assert_int_equal(call_route_rule(&in, &tr, tie, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_2");
	assert_int_equal(call_route_rule(&in, &tr, NULL, 0, &got), CALL_ROUTE_NO_RULE);
	assert_int_equal(call_route_sip_status(CALL_ROUTE_NO_RULE), 480);
}

static void test_rule_trunks(void **state)
{
	(void)state;
	struct store_inbound_trunk ta = {.id = "ST_a"}, tb = {.id = "ST_b"};
	struct call_route_in in = call_in();
	const struct store_dispatch_rule *got;
	struct store_dispatch_rule r[] = {
	    /* a wildcard with a better priority value than the specific one */
	    {.id = "SDR_wild",
	     .rule = {.kind = STORE_RULE_DIRECT, .room_name = "w"},
	     .numbers = SV("+15550200")},
	    {.id = "SDR_a", .rule = {.kind = STORE_RULE_CALLEE}, .trunk_ids = SV("ST_x", "ST_a")},
	};
	/* trunk-specific beats wildcard whatever the priorities */
	assert_int_equal(call_route_rule(&in, &ta, r, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_a");
	/* another trunk, or none: the wildcard */
	assert_int_equal(call_route_rule(&in, &tb, r, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_wild");
	assert_int_equal(call_route_rule(&in, NULL, r, 2, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_wild");
	/* a rule with trunk_ids never matches a call without a trunk */
	assert_int_equal(call_route_rule(&in, NULL, r + 1, 1, &got), CALL_ROUTE_NO_RULE);
}

static void test_rule_pin(void **state)
{
	(void)state;
	struct call_route_in in = call_in();
	const struct store_dispatch_rule *got;
	struct store_dispatch_rule r[] = {
	    {.id = "SDR_open", .rule = {.kind = STORE_RULE_DIRECT, .room_name = "open"}},
	    {.id = "SDR_pin",
	     .rule = {.kind = STORE_RULE_DIRECT, .room_name = "secret", .pin = "1234"}},
	    {.id = "SDR_pin2",
	     .rule = {.kind = STORE_RULE_INDIVIDUAL, .room_prefix = "p", .pin = "99"}},
	};
	/* no PIN yet: the PIN rule has priority 0 and asks for it */
	assert_int_equal(call_route_rule(&in, NULL, r, 3, &got), CALL_ROUTE_NEED_PIN);
	assert_string_equal(got->id, "SDR_pin");
	assert_int_equal(call_route_sip_status(CALL_ROUTE_NEED_PIN), 0);
	/* the right PIN: that rule; another rule's PIN: that one */
	in.pin = "1234";
	assert_int_equal(call_route_rule(&in, NULL, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_pin");
	in.pin = "99";
	assert_int_equal(call_route_rule(&in, NULL, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_pin2");
	/* a wrong PIN: no rule (open rules are skipped once a PIN was entered) */
	in.pin = "0000";
	assert_int_equal(call_route_rule(&in, NULL, r, 3, &got), CALL_ROUTE_NO_RULE);
	/* bare '#': no-pin mode, only open rules */
	in.pin = "";
	assert_int_equal(call_route_rule(&in, NULL, r, 3, &got), CALL_ROUTE_OK);
	assert_string_equal(got->id, "SDR_open");
	assert_int_equal(call_route_rule(&in, NULL, r + 1, 2, &got), CALL_ROUTE_NO_RULE);
	/* only open rules: no PIN asked */
	in.pin = NULL;
	assert_int_equal(call_route_rule(&in, NULL, r, 1, &got), CALL_ROUTE_OK);
}

static void test_room_names(void **state)
{
	(void)state;
	struct call_route_in in = call_in();
	struct call_route_out o;
	struct store_dispatch_rule r = {
	    .id = "SDR_r", .rule = {.kind = STORE_RULE_INDIVIDUAL, .room_prefix = "call"}};
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "call_+15550100_RANDOMRANDOM");
	call_route_out_free(&o);
	r.rule.no_randomness = true;
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "call_+15550100");
	call_route_out_free(&o);
	r.rule.room_prefix = NULL;
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "+15550100");
	call_route_out_free(&o);
	r.rule = (struct store_rule){.kind = STORE_RULE_CALLEE, .room_prefix = "to"};
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "to_+15550200");
	call_route_out_free(&o);
	r.rule.randomize = true;
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "to_+15550200_RANDOMRANDOM");
	call_route_out_free(&o);
	r.rule = (struct store_rule){.kind = STORE_RULE_DIRECT, .room_name = "lobby"};
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "lobby");
	assert_string_equal(o.identity, "sip_+15550100");
	assert_string_equal(o.name, "Phone +15550100");
	call_route_out_free(&o);
}

static void test_attributes(void **state)
{
	(void)state;
	struct call_route_hdr h[] = {
	    {SB_SLICE_LIT("Via"), SB_SLICE_LIT("SIP/2.0/UDP x")},
	    {SB_SLICE_LIT("X-Customer"), SB_SLICE_LIT("42")},
	    {SB_SLICE_LIT("x-twilio-callsid"), SB_SLICE_LIT("CA1")},
	    {SB_SLICE_LIT("Subject"), SB_SLICE_LIT("hello")},
	};
	struct call_route_in in = call_in();
	in.hdrs = h;
	in.n_hdrs = 4;
	struct store_pair h2a[] = {{"subject", "topic"}};
	struct store_inbound_trunk t = {
	    .id = "ST_t", .include_headers = STORE_X_HEADERS, .headers_to_attributes = {h2a, 1}};
	struct store_pair ra[] = {{"team", "blue"}, {"sip.callStatus", "overridden"}};
	struct store_dispatch_rule r = {.id = "SDR_r",
					.rule = {.kind = STORE_RULE_DIRECT, .room_name = "x"},
					.metadata = "meta",
					.attributes = {ra, 2}};
	struct call_route_out o;
	assert_int_equal(call_route(&in, &t, 1, &r, 1, &o), CALL_ROUTE_OK);
	assert_ptr_equal(o.trunk, &t);
	assert_ptr_equal(o.rule, &r);
	assert_string_equal(o.metadata, "meta");
	assert_string_equal(call_route_attr(&o, "team"), "blue");
	assert_string_equal(call_route_attr(&o, "sip.callID"), "SCL_test00000000");
	assert_string_equal(call_route_attr(&o, "sip.callIDFull"), "abc@host");
	assert_string_equal(call_route_attr(&o, "sip.callTag"), "ftag");
	assert_string_equal(call_route_attr(&o, "sip.trunkID"), "ST_t");
	assert_string_equal(call_route_attr(&o, "sip.ruleID"), "SDR_r");
	assert_string_equal(call_route_attr(&o, "sip.phoneNumber"), "+15550100");
	assert_string_equal(call_route_attr(&o, "sip.hostname"), "pbx.example.com");
	assert_string_equal(call_route_attr(&o, "sip.trunkPhoneNumber"), "+15550200");
	assert_string_equal(call_route_attr(&o, "sip.callStatus"), "active");
	assert_string_equal(call_route_attr(&o, "sip.h.x-customer"), "42");
	assert_string_equal(call_route_attr(&o, "sip.h.x-twilio-callsid"), "CA1");
	assert_string_equal(call_route_attr(&o, "sip.twilio.callSid"), "CA1");
	assert_string_equal(call_route_attr(&o, "topic"), "hello");
	assert_null(call_route_attr(&o, "sip.h.via"));
	assert_null(call_route_attr(&o, "sip.h.subject"));
	call_route_out_free(&o);
	/* every header */
	t.include_headers = STORE_ALL_HEADERS;
	assert_int_equal(call_route(&in, &t, 1, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(call_route_attr(&o, "sip.h.via"), "SIP/2.0/UDP x");
	assert_string_equal(call_route_attr(&o, "sip.h.subject"), "hello");
	call_route_out_free(&o);
	/* no trunk: sip.trunkID is empty, no header mapping but the built-ins */
	t.include_headers = STORE_NO_HEADERS;
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(call_route_attr(&o, "sip.trunkID"), "");
	assert_null(call_route_attr(&o, "sip.h.x-customer"));
	assert_string_equal(call_route_attr(&o, "sip.twilio.callSid"), "CA1");
	call_route_out_free(&o);
}

static void test_hide_phone_number(void **state)
{
	(void)state;
	struct call_route_in in = call_in();
	struct store_dispatch_rule r = {
	    .id = "SDR_h",
	    .rule = {.kind = STORE_RULE_INDIVIDUAL, .room_prefix = "c", .no_randomness = true},
	    .hide_phone_number = true};
	struct call_route_out o;
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	/* sha256("+15550100") starts 1e3a... whatever it is, 16 hex characters */
	assert_int_equal(strlen(o.identity), 4 + 16);
	assert_memory_equal(o.identity, "sip_", 4);
	assert_string_equal(o.name, "Phone 0100");
	char want[300];
	snprintf(want, sizeof(want), "c_%.*s", 16, o.identity + 4);
	assert_string_equal(o.room, want);
	assert_null(call_route_attr(&o, "sip.phoneNumber"));
	assert_null(call_route_attr(&o, "sip.hostname"));
	assert_null(call_route_attr(&o, "sip.trunkPhoneNumber"));
	assert_non_null(call_route_attr(&o, "sip.callID"));
	call_route_out_free(&o);
}

/* The rule's room_config comes out parsed; a malformed one is ignored. */
static void test_room_config(void **state)
{
	(void)state;
	struct call_route_in in = call_in();
	struct store_dispatch_rule r = {
	    .id = "SDR_rc",
	    .rule = {.kind = STORE_RULE_DIRECT, .room_name = "conf"},
	    .room_config_json =
		"{\"empty_timeout\":60,\"departure_timeout\":\"5\",\"max_participants\":3,"
		"\"metadata\":\"m1\",\"agents\":[{\"agent_name\":\"bot\"},{\"metadata\":\"x\"},"
		"{\"agent_name\":\"helper\"}]}"};
	struct call_route_out o;
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_true(o.room_config.set);
	assert_int_equal(o.room_config.empty_timeout_s, 60);
	assert_int_equal(o.room_config.departure_timeout_s, 5);
	assert_int_equal(o.room_config.max_participants, 3);
	assert_string_equal(o.room_config.metadata, "m1");
	assert_int_equal(o.room_config.n_agents, 2);
	assert_string_equal(o.room_config.agents[0], "bot");
	assert_string_equal(o.room_config.agents[1], "helper");
	call_route_out_free(&o);

	r.room_config_json = "{not json";
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_false(o.room_config.set);
	call_route_out_free(&o);
	r.room_config_json = "";
	assert_int_equal(call_route(&in, NULL, 0, &r, 1, &o), CALL_ROUTE_OK);
	assert_false(o.room_config.set);
	call_route_out_free(&o);
}

static void test_full_route(void **state)
{
	(void)state;
	struct store_inbound_trunk t[] = {
	    {.id = "ST_main", .numbers = SV("+15550200"), .allowed_addresses = SV("192.0.2.0/24")},
	};
	struct store_dispatch_rule r[] = {
	    {.id = "SDR_main",
	     .rule = {.kind = STORE_RULE_DIRECT, .room_name = "main"},
	     .trunk_ids = SV("ST_main")},
	};
	struct call_route_in in = call_in();
	struct call_route_out o;
	assert_int_equal(call_route(&in, t, 1, r, 1, &o), CALL_ROUTE_OK);
	assert_string_equal(o.room, "main");
	call_route_out_free(&o);
	/* another number: no trunk, and the rule needs one */
	in.to_user = "+15550999";
	assert_int_equal(call_route(&in, t, 1, r, 1, &o), CALL_ROUTE_NO_RULE);
	call_route_out_free(&o);
	/* a source outside allowed_addresses */
	in = call_in();
	in.src_ip = "127.0.0.1";
	assert_int_equal(call_route(&in, t, 1, r, 1, &o), CALL_ROUTE_NO_TRUNK);
	call_route_out_free(&o);
	assert_string_equal(call_route_status_name(CALL_ROUTE_NO_TRUNK),
			    "no trunk accepts the call");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_trunk_numbers),   cmocka_unit_test(test_trunk_filters),
	    cmocka_unit_test(test_rule_priorities), cmocka_unit_test(test_rule_trunks),
	    cmocka_unit_test(test_rule_pin),	    cmocka_unit_test(test_room_names),
	    cmocka_unit_test(test_attributes),	    cmocka_unit_test(test_hide_phone_number),
	    cmocka_unit_test(test_full_route),	    cmocka_unit_test(test_room_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
