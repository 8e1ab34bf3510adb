/* Unit tests for src/cli/args.c: global options anywhere, command flags (values, =values,
 * bools), positional arguments, "--" and the usage errors. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "base/compat.h"
#include "base/err.h"
#include "cli/args.h"

static const struct cli_flag flags[] = {
    {"name", CLI_FLAG_VALUE, ""},
    {"numbers", CLI_FLAG_VALUE, ""},
    {"wait", CLI_FLAG_BOOL, ""},
    {"direct", CLI_FLAG_BOOL, ""},
};

static void test_globals_anywhere(void **state)
{
	(void)state;
	char *argv[] = {"--url",  "http://h:1", "sip",	       "--json",       "inbound", "list",
			"--name", "x",		"--api-key=K", "--api-secret", "S"};
	struct cli_global g = {0};
	char err[128];
	int n = cli_global_take(&g, (int)SB_ARRAY_LEN(argv), argv, err, sizeof(err));
	assert_int_equal(n, 5);
	assert_string_equal(g.url, "http://h:1");
	assert_string_equal(g.api_key, "K");
	assert_string_equal(g.api_secret, "S");
	assert_true(g.json);
	assert_false(g.help);
	assert_string_equal(argv[0], "sip");
	assert_string_equal(argv[1], "inbound");
	assert_string_equal(argv[2], "list");
	assert_string_equal(argv[3], "--name");
	assert_string_equal(argv[4], "x");
}

static void test_globals_errors(void **state)
{
	(void)state;
	char *argv[] = {"room", "list", "--url"};
	struct cli_global g = {0};
	char err[128];
	assert_int_equal(cli_global_take(&g, 3, argv, err, sizeof(err)), -1);
	assert_string_equal(err, "--url needs a value");
	/* after "--" nothing is global */
	char *argv2[] = {"room", "--", "--json", "-h"};
	struct cli_global g2 = {0};
	assert_int_equal(cli_global_take(&g2, 4, argv2, err, sizeof(err)), 4);
	assert_false(g2.json);
	assert_false(g2.help);
	char *argv3[] = {"sip", "-h"};
	struct cli_global g3 = {0};
	assert_int_equal(cli_global_take(&g3, 2, argv3, err, sizeof(err)), 1);
	assert_true(g3.help);
}

static void test_flags(void **state)
{
	(void)state;
	char *argv[] = {"file.json", "--name",	       "My trunk", "--numbers=+1,+2",
			"--wait",    "--direct=room1", "--",	   "--name"};
	struct cli_args a;
	char err[128];
	assert_int_equal(cli_args_parse(&a, flags, SB_ARRAY_LEN(flags), (int)SB_ARRAY_LEN(argv),
					argv, err, sizeof(err)),
			 0);
	assert_string_equal(cli_arg(&a, "name"), "My trunk");
	assert_string_equal(cli_arg(&a, "numbers"), "+1,+2");
	assert_string_equal(cli_arg(&a, "wait"), "");
	assert_string_equal(cli_arg(&a, "direct"), "room1");
	assert_null(cli_arg(&a, "nope"));
	assert_int_equal(a.n_pos, 2);
	assert_string_equal(a.pos[0], "file.json");
	assert_string_equal(a.pos[1], "--name");
	/* "-" is stdin, a positional argument */
	char *argv2[] = {"-"};
	assert_int_equal(cli_args_parse(&a, flags, SB_ARRAY_LEN(flags), 1, argv2, err, sizeof(err)),
			 0);
	assert_int_equal(a.n_pos, 1);
}

static void test_flag_errors(void **state)
{
	(void)state;
	struct cli_args a;
	char err[128];
	char *unknown[] = {"--nam", "x"};
	assert_int_equal(
	    cli_args_parse(&a, flags, SB_ARRAY_LEN(flags), 2, unknown, err, sizeof(err)),
	    SB_EINVAL);
	assert_string_equal(err, "unknown option --nam");
	char *missing[] = {"--name"};
	assert_int_equal(
	    cli_args_parse(&a, flags, SB_ARRAY_LEN(flags), 1, missing, err, sizeof(err)),
	    SB_EINVAL);
	assert_string_equal(err, "--name needs a value");
	char *many[CLI_MAX_POS + 1];
	for (size_t i = 0; i < SB_ARRAY_LEN(many); i++)
		many[i] = "x";
	assert_int_equal(cli_args_parse(&a, flags, SB_ARRAY_LEN(flags), (int)SB_ARRAY_LEN(many),
					many, err, sizeof(err)),
			 SB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_globals_anywhere),
	    cmocka_unit_test(test_globals_errors),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_flag_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
