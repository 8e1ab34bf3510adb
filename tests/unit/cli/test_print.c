/* Unit tests for src/cli/print.c: tables of trunks, rules, rooms and participants, the
 * "Label: value" lines of one object, --json, and a dispatch rule that is not there. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/print.h"

static char out_text[8192], err_text[1024];
static int code;

/* Runs a printer on the JSON text; its stdout and stderr land in out_text / err_text. */
static void run(int (*print)(const struct cli_out *, const json_t *), const char *text, bool json,
		const struct cli_args *a)
{
	char *ob = NULL, *eb = NULL;
	size_t ol = 0, el = 0;
	FILE *o = open_memstream(&ob, &ol), *e = open_memstream(&eb, &el);
	json_t *resp = json_loads(text, 0, NULL);
	assert_non_null(resp);
	struct cli_args none = {0};
	struct cli_out co = {.out = o, .err = e, .a = a ? a : &none, .json = json, .raw = text};
	code = print(&co, resp);
	json_decref(resp);
	fclose(o);
	fclose(e);
	snprintf(out_text, sizeof(out_text), "%s", ob);
	snprintf(err_text, sizeof(err_text), "%s", eb);
	free(ob);
	free(eb);
}

static void test_inbound_list(void **state)
{
	(void)state;
	run(cli_print_inbound_list,
	    "{\"items\":[{\"sip_trunk_id\":\"ST_a\",\"name\":\"one\",\"numbers\":[\"+1\",\"+2\"],"
	    "\"allowed_addresses\":[],\"auth_username\":\"u\"},{\"sip_trunk_id\":\"ST_bb\","
	    "\"name\":\"\",\"numbers\":[]}]}",
	    false, NULL);
	assert_int_equal(code, 0);
	assert_string_equal(out_text,
			    "ID     NAME  NUMBERS  ALLOWED ADDRESSES  ALLOWED NUMBERS  AUTH USER\n"
			    "ST_a   one   +1, +2   -                  -                u\n"
			    "ST_bb  -     -        -                  -                -\n");
	run(cli_print_inbound_list, "{\"items\":[]}", false, NULL);
	assert_string_equal(out_text, "no inbound trunks\n");
	run(cli_print_inbound_list, "{\"items\":[]}", true, NULL);
	assert_string_equal(out_text, "{\"items\":[]}\n");
}

static void test_trunk_lines(void **state)
{
	(void)state;
	run(cli_print_outbound,
	    "{\"trunk\":{\"sip_trunk_id\":\"ST_o\",\"name\":\"o\",\"address\":\"h\",\"transport\":"
	    "\"SIP_TRANSPORT_TLS\",\"numbers\":[\"+1\"],\"created_at\":\"2024-05-01T12:00:00Z\"}}",
	    false, NULL);
	assert_string_equal(out_text, "ID:                ST_o\n"
				      "Name:              o\n"
				      "Address:           h\n"
				      "Transport:         tls\n"
				      "Numbers:           +1\n"
				      "Created:           2024-05-01T12:00:00Z\n");
}

static void test_rules(void **state)
{
	(void)state;
	const char *list =
	    "{\"items\":[{\"sip_dispatch_rule_id\":\"SDR_1\",\"name\":\"r\",\"trunk_ids\":[],"
	    "\"rule\":{\"dispatch_rule_direct\":{\"room_name\":\"demo\",\"pin\":\"12\"}}},"
	    "{\"sip_dispatch_rule_id\":\"SDR_2\",\"trunk_ids\":[\"ST_a\"],\"rule\":{"
	    "\"dispatch_rule_individual\":{\"room_prefix\":\"c-\",\"pin\":\"\"}}}]}";
	run(cli_print_rule_list, list, false, NULL);
	assert_string_equal(out_text, "ID     NAME  TRUNKS  TYPE        ROOM  PIN\n"
				      "SDR_1  r     (all)   direct      demo  12\n"
				      "SDR_2  -     ST_a    individual  c-    -\n");
	run(cli_print_rule_found, list, false, NULL);
	assert_int_equal(code, 0);
	assert_string_equal(out_text, "ID:                SDR_1\n"
				      "Name:              r\n"
				      "Trunks:            (all)\n"
				      "Type:              direct\n"
				      "Room:              demo\n"
				      "PIN:               12\n");
	run(cli_print_rule_found, "{\"items\":[{}]}", false, NULL);
	assert_int_equal(code, 1);
	assert_string_equal(err_text,
			    "error: not_found: requested sip dispatch rule does not exist\n");
	run(cli_print_rule_found, "{\"items\":[]}", true, NULL);
	assert_int_equal(code, 1);
}

static void test_rooms(void **state)
{
	(void)state;
	run(cli_print_rooms,
	    "{\"rooms\":[{\"name\":\"demo\",\"sid\":\"RM_1\",\"num_participants\":2,"
	    "\"creation_time\":\"1714564800\"}]}",
	    false, NULL);
	assert_string_equal(out_text, "NAME  SID   PARTICIPANTS  CREATED\n"
				      "demo  RM_1  2             2024-05-01 12:00:00 UTC\n");
	run(cli_print_participants,
	    "{\"participants\":[{\"identity\":\"sip_+1\",\"sid\":\"PA_1\",\"kind\":\"SIP\","
	    "\"state\":\"ACTIVE\",\"name\":\"\",\"attributes\":{\"sip.phoneNumber\":\"+1\","
	    "\"sip.callStatus\":\"active\"}}]}",
	    false, NULL);
	assert_string_equal(out_text, "IDENTITY  SID   KIND  STATE   NAME  PHONE  STATUS  HOLD\n"
				      "sip_+1    PA_1  SIP   ACTIVE  -     +1     active  -\n");
	run(cli_print_hold, "{\"hold_status\":\"holding\"}", false, NULL);
	assert_string_equal(out_text, "hold status: holding\n");
	const char *argv_id[] = {"ST_x"};
	struct cli_args a = {.n_pos = 1};
	a.pos[0] = argv_id[0];
	run(cli_print_deleted, "{}", false, &a);
	assert_string_equal(out_text, "deleted ST_x\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_inbound_list),
	    cmocka_unit_test(test_trunk_lines),
	    cmocka_unit_test(test_rules),
	    cmocka_unit_test(test_rooms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
