/* Unit tests for src/cli/build.c: flags and files -> the Twirp request JSON of each command,
 * the grants of its RPC, durations, and the usage errors. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/cmd.h"

/* The loader of the tests: the "path" is the JSON text itself. */
static int load_text(const char *path, json_t **out, char *err, size_t cap)
{
	json_error_t je;
	*out = json_loads(path, 0, &je);
	if (!*out) {
		snprintf(err, cap, "bad json: %s", je.text);
		return SB_EINVAL;
	}
	return 0;
}

static char result[4096];
static bool no_timeout;

/* The request of `switchboard GROUP VERB ARGS...` as sorted compact JSON, or "ERR: why". */
static const char *build(const char *group, const char *verb, int argc, char **argv)
{
	const struct cli_cmd *c = cli_cmd_find(group, verb);
	assert_non_null(c);
	struct cli_args a;
	char err[256];
	if (cli_args_parse(&a, c->flags, c->n_flags, argc, argv, err, sizeof(err))) {
		snprintf(result, sizeof(result), "ERR: %s", err);
		return result;
	}
	struct cli_build b = {.a = &a, .load = load_text};
	if (cli_cmd_build(c, &b)) {
		assert_null(b.req);
		snprintf(result, sizeof(result), "ERR: %s", b.err);
		return result;
	}
	char *s = json_dumps(b.req, JSON_COMPACT | JSON_SORT_KEYS);
	snprintf(result, sizeof(result), "%s", s);
	free(s);
	no_timeout = b.no_timeout;
	json_decref(b.req);
	return result;
}

#define ARGV(...)                                                                                  \
	(char *[])                                                                                 \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}
#define NARGS(...)	  ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(char *)))
#define BUILD(g, v, ...)  build(g, v, NARGS(__VA_ARGS__), ARGV(__VA_ARGS__))
#define BUILD0(g, v)	  build(g, v, 0, NULL)
#define EXPECT(got, want) assert_string_equal(got, want)

static void test_inbound(void **state)
{
	(void)state;
	EXPECT(BUILD("sip inbound", "create", "--name", "My trunk", "--numbers", "+1555, +1666",
		     "--allowed-addresses", "10.0.0.0/8", "--allowed-numbers", "+1777",
		     "--auth-user", "u", "--auth-pass", "p"),
	       "{\"trunk\":{\"allowed_addresses\":[\"10.0.0.0/8\"],\"allowed_numbers\":[\"+1777\"],"
	       "\"auth_password\":\"p\",\"auth_username\":\"u\",\"name\":\"My trunk\","
	       "\"numbers\":[\"+1555\",\"+1666\"]}}");
	/* a file holding the trunk object, flags over it (the camelCase spelling goes) */
	EXPECT(BUILD("sip inbound", "create", "{\"name\":\"f\",\"allowedNumbers\":[\"+1\"]}",
		     "--allowed-numbers", "+2"),
	       "{\"trunk\":{\"allowed_numbers\":[\"+2\"],\"name\":\"f\"}}");
	/* a file holding the whole request is unwrapped */
	EXPECT(BUILD("sip inbound", "create", "{\"trunk\":{\"name\":\"w\"}}"),
	       "{\"trunk\":{\"name\":\"w\"}}");
	EXPECT(BUILD0("sip inbound", "create"), "ERR: give a JSON file or flags");
	EXPECT(BUILD("sip inbound", "create", "[1]"), "ERR: [1]: not a JSON object");
	assert_memory_equal(BUILD("sip inbound", "create", "{"), "ERR: bad json: ", 15);
	EXPECT(BUILD("sip inbound", "create", "--id", "x"), "ERR: unknown option --id");
	EXPECT(BUILD0("sip inbound", "list"), "{}");
	EXPECT(BUILD("sip inbound", "list", "--ids", "ST_a,ST_b", "--numbers", "+1"),
	       "{\"numbers\":[\"+1\"],\"trunk_ids\":[\"ST_a\",\"ST_b\"]}");
	EXPECT(BUILD("sip inbound", "get", "ST_a"), "{\"sip_trunk_id\":\"ST_a\"}");
	EXPECT(BUILD("sip inbound", "get", "--id", "ST_b"), "{\"sip_trunk_id\":\"ST_b\"}");
	EXPECT(BUILD0("sip inbound", "get"), "ERR: an ID is required");
	EXPECT(BUILD("sip inbound", "delete", "ST_a"), "{\"sip_trunk_id\":\"ST_a\"}");
	EXPECT(BUILD("sip inbound", "delete", "ST_a", "ST_b"), "ERR: unexpected argument 'ST_b'");
}

static void test_inbound_update(void **state)
{
	(void)state;
	EXPECT(BUILD("sip inbound", "update", "ST_a", "--name", "n", "--numbers", "+1,+2"),
	       "{\"sip_trunk_id\":\"ST_a\",\"update\":{\"name\":\"n\",\"numbers\":{\"set\":[\"+1\","
	       "\"+2\"]}}}");
	EXPECT(
	    BUILD("sip inbound", "update", "--id", "ST_a", "{\"name\":\"r\"}", "--auth-user", "u"),
	    "{\"replace\":{\"auth_username\":\"u\",\"name\":\"r\"},\"sip_trunk_id\":\"ST_a\"}");
	EXPECT(BUILD("sip inbound", "update", "ST_a", "{\"name\":\"r\"}"),
	       "{\"replace\":{\"name\":\"r\"},\"sip_trunk_id\":\"ST_a\"}");
	EXPECT(BUILD("sip inbound", "update", "ST_a"),
	       "ERR: nothing to update: give a JSON file or flags");
	EXPECT(BUILD("sip inbound", "update", "--id", "ST_a", "{}", "x"),
	       "ERR: too many arguments");
}

static void test_outbound(void **state)
{
	(void)state;
	EXPECT(BUILD("sip outbound", "create", "--name", "o", "--address", "sip.example.com:5061",
		     "--transport", "TLS", "--numbers", "+1555"),
	       "{\"trunk\":{\"address\":\"sip.example.com:5061\",\"name\":\"o\",\"numbers\":["
	       "\"+1555\"],\"transport\":\"SIP_TRANSPORT_TLS\"}}");
	EXPECT(BUILD("sip outbound", "create", "--transport", "sctp"),
	       "ERR: --transport: want udp, tcp, tls or auto, not 'sctp'");
	EXPECT(BUILD("sip outbound", "update", "ST_o", "--transport", "udp", "--numbers", "+2"),
	       "{\"sip_trunk_id\":\"ST_o\",\"update\":{\"numbers\":{\"set\":[\"+2\"]},"
	       "\"transport\":\"SIP_TRANSPORT_UDP\"}}");
	EXPECT(BUILD("sip outbound", "get", "ST_o"), "{\"sip_trunk_id\":\"ST_o\"}");
}

static void test_dispatch(void **state)
{
	(void)state;
	EXPECT(BUILD("sip dispatch", "create", "--name", "r", "--room", "demo", "--pin", "12",
		     "--trunks", "ST_a,ST_b"),
	       "{\"dispatch_rule\":{\"name\":\"r\",\"rule\":{\"dispatch_rule_direct\":{\"pin\":"
	       "\"12\",\"room_name\":\"demo\"}},\"trunk_ids\":[\"ST_a\",\"ST_b\"]}}");
	EXPECT(
	    BUILD("sip dispatch", "create", "--direct", "--room", "demo"),
	    "{\"dispatch_rule\":{\"rule\":{\"dispatch_rule_direct\":{\"room_name\":\"demo\"}}}}");
	EXPECT(
	    BUILD("sip dispatch", "create", "--direct=demo"),
	    "{\"dispatch_rule\":{\"rule\":{\"dispatch_rule_direct\":{\"room_name\":\"demo\"}}}}");
	EXPECT(BUILD("sip dispatch", "create", "--individual", "--room-prefix", "call-"),
	       "{\"dispatch_rule\":{\"rule\":{\"dispatch_rule_individual\":{\"room_prefix\":"
	       "\"call-\"}}}}");
	EXPECT(BUILD("sip dispatch", "create", "--room-prefix", "c"),
	       "{\"dispatch_rule\":{\"rule\":{\"dispatch_rule_individual\":{\"room_prefix\":\"c\"}}"
	       "}}");
	EXPECT(BUILD("sip dispatch", "create", "--individual=p"),
	       "{\"dispatch_rule\":{\"rule\":{\"dispatch_rule_individual\":{\"room_prefix\":\"p\"}}"
	       "}}");
	EXPECT(BUILD("sip dispatch", "create", "--name", "x"),
	       "ERR: a rule is needed: --room ROOM (direct) or --individual [--room-prefix P]");
	EXPECT(BUILD("sip dispatch", "create", "--direct", "--individual", "--room", "r"),
	       "ERR: --direct and --individual exclude each other");
	EXPECT(BUILD("sip dispatch", "create", "--room", "r", "--room-prefix", "p"),
	       "ERR: --room (direct) and --room-prefix (individual) exclude each other");
	EXPECT(BUILD("sip dispatch", "create", "--direct"), "ERR: --direct needs --room ROOM");
	EXPECT(BUILD("sip dispatch", "create", "--individual", "--room", "r"),
	       "ERR: --individual takes --room-prefix, not --room");
	EXPECT(BUILD("sip dispatch", "create", "--pin", "1"),
	       "ERR: --pin needs --room or --individual");
	/* a file without a rule is left to the server to judge */
	EXPECT(BUILD("sip dispatch", "create", "{\"dispatchRule\":{\"name\":\"f\"}}"),
	       "{\"dispatch_rule\":{\"name\":\"f\"}}");
	EXPECT(
	    BUILD("sip dispatch", "update", "SDR_a", "--room", "b", "--trunks", "ST_x"),
	    "{\"sip_dispatch_rule_id\":\"SDR_a\",\"update\":{\"rule\":{\"dispatch_rule_direct\":{"
	    "\"room_name\":\"b\"}},\"trunk_ids\":{\"set\":[\"ST_x\"]}}}");
	EXPECT(BUILD("sip dispatch", "get", "SDR_a"), "{\"dispatch_rule_ids\":[\"SDR_a\"]}");
	EXPECT(BUILD("sip dispatch", "delete", "SDR_a"), "{\"sip_dispatch_rule_id\":\"SDR_a\"}");
	EXPECT(BUILD("sip dispatch", "list", "--trunks", "ST_a"), "{\"trunk_ids\":[\"ST_a\"]}");
}

static void test_participant(void **state)
{
	(void)state;
	EXPECT(BUILD("sip participant", "create", "--trunk", "ST_o", "--call", "+1555", "--room",
		     "demo", "--number", "+1666", "--identity", "bob", "--name", "Bob", "--dtmf",
		     "12w3", "--wait", "--ringing-timeout", "1.5m", "--play-dialtone"),
	       "{\"dtmf\":\"12w3\",\"participant_identity\":\"bob\",\"participant_name\":\"Bob\","
	       "\"play_dialtone\":true,\"ringing_timeout\":\"90s\",\"room_name\":\"demo\","
	       "\"sip_call_to\":\"+1555\",\"sip_number\":\"+1666\",\"sip_trunk_id\":\"ST_o\","
	       "\"wait_until_answered\":true}");
	assert_true(no_timeout);
	EXPECT(BUILD("sip participant", "create", "--trunk", "ST_o", "--call", "+1", "--room", "r"),
	       "{\"room_name\":\"r\",\"sip_call_to\":\"+1\",\"sip_trunk_id\":\"ST_o\"}");
	assert_false(no_timeout);
	EXPECT(BUILD("sip participant", "create", "--trunk", "ST_o", "--room", "r"),
	       "ERR: --call is required");
	EXPECT(BUILD("sip participant", "create", "--trunk", "t", "--call", "c", "--room", "r",
		     "--ringing-timeout", "soon"),
	       "ERR: --ringing-timeout: bad duration 'soon' (want e.g. 30s, 500ms, 2m)");
	EXPECT(BUILD("sip participant", "transfer", "--room", "r", "--identity", "i", "--to",
		     "tel:+1555", "--play-dialtone"),
	       "{\"participant_identity\":\"i\",\"play_dialtone\":true,\"room_name\":\"r\","
	       "\"transfer_to\":\"tel:+1555\"}");
	assert_true(no_timeout);
	EXPECT(BUILD("sip participant", "transfer", "--room", "r", "--identity", "i"),
	       "ERR: --to is required");
	EXPECT(BUILD("sip participant", "hold", "--room", "r", "--identity", "i"),
	       "{\"identity\":\"i\",\"room\":\"r\"}");
	EXPECT(BUILD("sip participant", "resume", "--identity", "i"), "ERR: --room is required");
	EXPECT(BUILD("sip participant", "dtmf", "--room", "r", "--identity", "i", "--digits", "1#"),
	       "{\"digits\":\"1#\",\"identity\":\"i\",\"room\":\"r\"}");
	EXPECT(BUILD("sip participant", "dtmf", "--room", "r", "--identity", "i"),
	       "ERR: --digits is required");
}

static void test_room(void **state)
{
	(void)state;
	EXPECT(BUILD0("room", "list"), "{}");
	EXPECT(BUILD("room", "list", "a", "b"), "{\"names\":[\"a\",\"b\"]}");
	EXPECT(BUILD("room", "participants", "demo"), "{\"room\":\"demo\"}");
	EXPECT(BUILD0("room", "participants"), "ERR: missing arguments: ROOM");
	EXPECT(BUILD("room", "remove", "demo", "bob"), "{\"identity\":\"bob\",\"room\":\"demo\"}");
	EXPECT(BUILD("room", "remove", "demo"), "ERR: missing arguments: ROOM IDENTITY");
	assert_null(cli_cmd_find("room", "nope"));
	assert_true(cli_cmd_group_exists("sip"));
	assert_true(cli_cmd_group_exists("sip dispatch"));
	assert_false(cli_cmd_group_exists("sip disp"));
}

/* The token grant of each command is the one the server asks of its RPC. */
static void test_perms(void **state)
{
	(void)state;
	static const char *const all[][2] = {
	    {"sip inbound", "create"},	     {"sip outbound", "update"},
	    {"sip dispatch", "get"},	     {"sip participant", "create"},
	    {"sip participant", "transfer"}, {"room", "list"},
	    {"room", "participants"},	     {"room", "remove"},
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		const struct cli_cmd *c = cli_cmd_find(all[i][0], all[i][1]);
		assert_non_null(c);
		assert_int_equal(c->perm,
				 api_rpc_perm(sb_slice_cstr(c->service), sb_slice_cstr(c->method)));
	}
	assert_int_equal(cli_cmd_find("sip participant", "hold")->perm, API_PERM_ROOM_ADMIN);
}

static void test_duration(void **state)
{
	(void)state;
	char d[32];
	assert_int_equal(cli_duration("30", d, sizeof(d)), 0);
	assert_string_equal(d, "30s");
	assert_int_equal(cli_duration("30s", d, sizeof(d)), 0);
	assert_string_equal(d, "30s");
	assert_int_equal(cli_duration("500ms", d, sizeof(d)), 0);
	assert_string_equal(d, "0.500s");
	assert_int_equal(cli_duration("1.25s", d, sizeof(d)), 0);
	assert_string_equal(d, "1.250s");
	assert_int_equal(cli_duration("2m", d, sizeof(d)), 0);
	assert_string_equal(d, "120s");
	assert_int_equal(cli_duration("1h", d, sizeof(d)), 0);
	assert_string_equal(d, "3600s");
	assert_int_equal(cli_duration("-1s", d, sizeof(d)), SB_EINVAL);
	assert_int_equal(cli_duration("5d", d, sizeof(d)), SB_EINVAL);
	assert_int_equal(cli_duration("", d, sizeof(d)), SB_EINVAL);
}

static void test_usage(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	assert_non_null(f);
	cli_cmd_usage(f, "sip dispatch");
	fclose(f);
	assert_non_null(strstr(text, "switchboard sip dispatch create [FILE|-] [flags]"));
	assert_non_null(strstr(text, "--room-prefix P"));
	assert_null(strstr(text, "sip inbound"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inbound),	cmocka_unit_test(test_inbound_update),
	    cmocka_unit_test(test_outbound),	cmocka_unit_test(test_dispatch),
	    cmocka_unit_test(test_participant), cmocka_unit_test(test_room),
	    cmocka_unit_test(test_perms),	cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_usage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
