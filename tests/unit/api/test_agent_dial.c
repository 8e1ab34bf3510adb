/* Unit tests for src/api/agent_dial.c: the ws:// / wss:// URL split the dialer connects with.
 * (The connections themselves are tested end to end: tests/agents/dialout.sh.) */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "api/agent_dial.h"

static void test_agent_url(void **state)
{
	(void)state;
	struct api_agent_url u;
	assert_int_equal(api_agent_url_parse("ws://127.0.0.1:9000/media?x=1#frag", &u), 0);
	assert_false(u.tls);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 9000);
	assert_string_equal(u.path, "/media?x=1");
	assert_int_equal(api_agent_url_parse("WSS://example.com", &u), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	assert_int_equal(api_agent_url_parse("ws://h?q=1", &u), 0);
	assert_int_equal(u.port, 80);
	assert_string_equal(u.path, "/?q=1");
	assert_int_equal(api_agent_url_parse("ws://[::1]:8080/a", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 8080);
	assert_int_not_equal(api_agent_url_parse("http://h/", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://user@h/", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws:///x", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://h:0/", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://h:1x/", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://[::1/", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://h/a b", &u), 0);
	assert_int_not_equal(api_agent_url_parse(NULL, &u), 0);
}

static void test_agent_url_limits(void **state)
{
	(void)state;
	struct api_agent_url u;
	char long_host[300], long_path[1100];
	snprintf(long_host, sizeof(long_host), "ws://%0256d/", 0);
	assert_int_not_equal(api_agent_url_parse(long_host, &u), 0);
	snprintf(long_path, sizeof(long_path), "ws://h/%01030d", 0);
	assert_int_not_equal(api_agent_url_parse(long_path, &u), 0);
	assert_int_equal(api_agent_url_parse("ws://h:65535", &u), 0);
	assert_int_equal(u.port, 65535);
	assert_int_not_equal(api_agent_url_parse("ws://h:65536", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://[::1]x/", &u), 0);
	assert_int_not_equal(api_agent_url_parse("ws://[]/", &u), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_agent_url),
	    cmocka_unit_test(test_agent_url_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
