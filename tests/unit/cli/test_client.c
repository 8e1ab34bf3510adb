/* Unit tests for src/cli/client.c: endpoint URLs, the grants and token of each RPC (verified
 * with api_token_verify), Twirp error text with SIP status, a refused connection. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "cli/client.h"

static void test_endpoint(void **state)
{
	(void)state;
	char u[256];
	assert_int_equal(cli_endpoint("http://127.0.0.1:7880", "livekit.SIP", "ListSIPInboundTrunk",
				      u, sizeof(u)),
			 0);
	assert_string_equal(u, "http://127.0.0.1:7880/twirp/livekit.SIP/ListSIPInboundTrunk");
	assert_int_equal(cli_endpoint("https://sb.example.com/", "S", "M", u, sizeof(u)), 0);
	assert_string_equal(u, "https://sb.example.com/twirp/S/M");
	assert_int_equal(cli_endpoint("wss://lk.example.com", "S", "M", u, sizeof(u)), 0);
	assert_string_equal(u, "https://lk.example.com/twirp/S/M");
	assert_int_equal(cli_endpoint("WS://h:1//", "S", "M", u, sizeof(u)), 0);
	assert_string_equal(u, "http://h:1/twirp/S/M");
	assert_int_equal(cli_endpoint("h:1", "S", "M", u, sizeof(u)), 0);
	assert_string_equal(u, "http://h:1/twirp/S/M");
	assert_int_equal(cli_endpoint("ftp://h", "S", "M", u, sizeof(u)), SB_EINVAL);
	assert_int_equal(cli_endpoint("", "S", "M", u, sizeof(u)), SB_EINVAL);
	assert_int_equal(cli_endpoint("http://h", "S", "M", u, 10), SB_EINVAL);
}

static void test_grants(void **state)
{
	(void)state;
	struct api_claims g;
	json_t *req = json_pack("{s:s}", "room_name", "demo");
	cli_grants("livekit.SIP", "TransferSIPParticipant", API_PERM_NONE, req, &g);
	assert_true(g.has_sip && g.sip.call && !g.sip.admin);
	assert_true(g.video.room_admin);
	assert_string_equal(g.video.room, "demo");
	json_decref(req);

	cli_grants("livekit.SIP", "ListSIPDispatchRule", API_PERM_NONE, NULL, &g);
	assert_true(g.sip.admin && !g.sip.call && !g.video.room_admin);

	req = json_pack("{s:s,s:s}", "room", "r1", "identity", "x");
	cli_grants("switchboard.Calls", "HoldParticipant", API_PERM_ROOM_ADMIN, req, &g);
	assert_true(g.video.room_admin && !g.has_sip);
	assert_string_equal(g.video.room, "r1");
	json_decref(req);

	cli_grants("livekit.RoomService", "ListRooms", API_PERM_NONE, NULL, &g);
	assert_true(g.video.room_list && !g.video.room_admin);
}

static void test_token(void **state)
{
	(void)state;
	struct cli_conn c = {.url = "http://x", .api_key = "devkey", .api_secret = "secret"};
	struct api_claims g, got;
	json_t *req = json_pack("{s:s}", "room", "demo");
	cli_grants("livekit.RoomService", "RemoveParticipant", API_PERM_NONE, req, &g);
	json_decref(req);
	char *t = NULL;
	assert_int_equal(cli_token(&c, &g, 1700000000u, &t), 0);
	static const struct api_key keys_v[] = {{"devkey", "secret"}};
	const struct api_keyring keys = {keys_v, 1};
	char why[128];
	assert_int_equal(
	    api_token_verify(&keys, sb_slice_cstr(t), 1700000010u, &got, why, sizeof(why)), 0);
	assert_true(api_perm_check(&got, API_PERM_ROOM_ADMIN, sb_slice_cstr("demo")));
	assert_false(api_perm_check(&got, API_PERM_ROOM_ADMIN, sb_slice_cstr("other")));
	assert_int_equal(got.exp, 1700000600);
	free(t);
	/* another secret does not verify */
	c.api_secret = "wrong";
	assert_int_equal(cli_token(&c, &g, 1700000000u, &t), 0);
	assert_int_equal(
	    api_token_verify(&keys, sb_slice_cstr(t), 1700000010u, &got, why, sizeof(why)),
	    SB_EAUTH);
	free(t);
}

static void test_twirp_error(void **state)
{
	(void)state;
	char out[512];
	cli_twirp_error(404,
			"{\"code\":\"not_found\",\"msg\":\"requested sip trunk does not exist\"}",
			out, sizeof(out));
	assert_string_equal(out, "error: not_found: requested sip trunk does not exist");
	cli_twirp_error(503,
			"{\"code\":\"unavailable\",\"msg\":\"call failed\",\"meta\":{"
			"\"sip_status_code\":\"486\",\"sip_status\":\"Busy Here\"}}",
			out, sizeof(out));
	assert_string_equal(out, "error: unavailable: call failed\nSIP 486 Busy Here");
	cli_twirp_error(500,
			"{\"code\":\"internal\",\"msg\":\"x\",\"meta\":{\"sip_status_code\":408}}",
			out, sizeof(out));
	assert_string_equal(out, "error: internal: x\nSIP 408");
	cli_twirp_error(502, "<html>Bad gateway</html>\nmore", out, sizeof(out));
	assert_string_equal(out, "error: HTTP 502: <html>Bad gateway</html>");
	cli_twirp_error(500, "", out, sizeof(out));
	assert_string_equal(out, "error: HTTP 500");
}

static void test_refused(void **state)
{
	(void)state;
	struct cli_reply r;
	char err[512];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	assert_int_equal(
	    cli_post("http://127.0.0.1:1/twirp/S/M", "t", "{}", false, &r, err, sizeof(err)),
	    SB_EIO);
	assert_non_null(strstr(err, "onnect"));
	assert_null(r.body);
	curl_global_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoint), cmocka_unit_test(test_grants),
	    cmocka_unit_test(test_token),    cmocka_unit_test(test_twirp_error),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
