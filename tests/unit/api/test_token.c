/* Unit tests for src/api/token.c: verification (valid, expired, not yet valid, wrong secret,
 * unknown key, wrong algorithm, malformed), grants per RPC, creation and webhook signing. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api/token.h"
#include "base/err.h"

#define NOW 1700000000u

static const struct api_key keys_v[] = {{"devkey", "secret"}, {"APIother", "other-secret"}};
static const struct api_keyring keys = {keys_v, 2};

static char *make(const char *key, const char *secret, uint64_t now, uint32_t ttl,
		  const struct api_claims *g)
{
	struct api_token_opts o = {
	    .key = key, .secret = secret, .now = now, .ttl_s = ttl, .grants = g};
	char *t = NULL;
	assert_int_equal(api_token_create(&o, &t), 0);
	assert_non_null(t);
	return t;
}

static int verify(const char *token, uint64_t now, struct api_claims *c)
{
	char why[128];
	return api_token_verify(&keys, sb_slice_cstr(token), now, c, why, sizeof(why));
}

static void test_valid(void **state)
{
	(void)state;
	struct api_claims g = {.has_video = true, .has_sip = true};
	g.sip.admin = true;
	g.video.room_admin = true;
	strcpy(g.video.room, "room-1");
	char *t = make("devkey", "secret", NOW, 600, &g);
	struct api_claims c;
	assert_int_equal(verify(t, NOW + 10, &c), 0);
	assert_string_equal(c.iss, "devkey");
	assert_true(c.sip.admin);
	assert_false(c.sip.call);
	assert_true(c.video.room_admin);
	assert_false(c.video.room_create);
	assert_string_equal(c.video.room, "room-1");
	assert_true(c.has_video && c.has_sip);
	assert_true(c.nbf == NOW && c.exp == NOW + 600);
	assert_string_equal(c.sub, "");
	free(t);

	/* the second key of the ring */
	t = make("APIother", "other-secret", NOW, 0, NULL);
	assert_int_equal(verify(t, NOW, &c), 0);
	assert_string_equal(c.iss, "APIother");
	assert_false(c.has_video);
	assert_true(c.exp == NOW + 600); /* default ttl */
	free(t);
}

/* A token shaped as the node SDK (jose) makes them: {"alg":"HS256"} without typ, an empty
 * video grant, sip.admin, no iat; signed with "secret" (HMAC computed outside this file). */
static void test_sdk_token(void **state)
{
	(void)state;
	const char *t =
	    "eyJhbGciOiJIUzI1NiJ9.eyJ2aWRlbyI6e30sInNpcCI6eyJhZG1pbiI6dHJ1ZX0sImlzcyI6"
	    "ImRldmtleSIsIm5iZiI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAwNjAwfQ.AdbuGtP-IENNzhfx-"
	    "AUgl37arp6af0VV2ttGD0lvizc";
	struct api_claims c;
	assert_int_equal(verify(t, NOW + 1, &c), 0);
	assert_true(c.has_video && c.has_sip);
	assert_true(c.sip.admin);
	assert_true(api_perm_check(
	    &c, api_rpc_perm(SB_SLICE_LIT("livekit.SIP"), SB_SLICE_LIT("CreateSIPInboundTrunk")),
	    SB_SLICE_LIT("")));
	assert_false(api_perm_check(
	    &c, api_rpc_perm(SB_SLICE_LIT("livekit.SIP"), SB_SLICE_LIT("CreateSIPParticipant")),
	    SB_SLICE_LIT("")));
}

static void test_time_window(void **state)
{
	(void)state;
	char *t = make("devkey", "secret", NOW, 600, NULL);
	struct api_claims c;
	/* exp = NOW+600, with 60 s of leeway */
	assert_int_equal(verify(t, NOW + 600 + API_TOKEN_LEEWAY_S, &c), 0);
	assert_int_equal(verify(t, NOW + 600 + API_TOKEN_LEEWAY_S + 1, &c), SB_EAUTH);
	/* nbf = NOW */
	assert_int_equal(verify(t, NOW - API_TOKEN_LEEWAY_S, &c), 0);
	assert_int_equal(verify(t, NOW - API_TOKEN_LEEWAY_S - 1, &c), SB_EAUTH);
	free(t);
	char why[128];
	t = make("devkey", "secret", NOW - 3600, 60, NULL);
	assert_int_equal(api_token_verify(&keys, sb_slice_cstr(t), NOW, &c, why, sizeof(why)),
			 SB_EAUTH);
	assert_string_equal(why, "token expired");
	assert_string_equal(c.iss, ""); /* nothing is handed out on failure */
	free(t);
}

static void test_wrong_secret_unknown_key(void **state)
{
	(void)state;
	struct api_claims c;
	char why[128];
	char *t = make("devkey", "not-the-secret", NOW, 600, NULL);
	assert_int_equal(api_token_verify(&keys, sb_slice_cstr(t), NOW, &c, why, sizeof(why)),
			 SB_EAUTH);
	assert_string_equal(why, "invalid token signature");
	free(t);
	/* signed with the other key's secret but claiming devkey */
	t = make("devkey", "other-secret", NOW, 600, NULL);
	assert_int_equal(verify(t, NOW, &c), SB_EAUTH);
	free(t);
	t = make("nobody", "secret", NOW, 600, NULL);
	assert_int_equal(api_token_verify(&keys, sb_slice_cstr(t), NOW, &c, why, sizeof(why)),
			 SB_EAUTH);
	assert_string_equal(why, "unknown API key");
	free(t);
	/* an empty keyring knows nobody */
	struct api_keyring none = {NULL, 0};
	t = make("devkey", "secret", NOW, 600, NULL);
	assert_int_equal(api_token_verify(&none, sb_slice_cstr(t), NOW, &c, NULL, 0), SB_EAUTH);
	free(t);
}

static void test_malformed(void **state)
{
	(void)state;
	struct api_claims c;
	assert_int_equal(verify("", NOW, &c), SB_EMALFORMED);
	assert_int_equal(verify("abc", NOW, &c), SB_EMALFORMED);
	assert_int_equal(verify("a.b", NOW, &c), SB_EMALFORMED);
	assert_int_equal(verify("a.b.c.d", NOW, &c), SB_EMALFORMED);
	assert_int_equal(verify("!!!.???.***", NOW, &c), SB_EMALFORMED);
	/* alg none: {"alg":"none"}.{"iss":"devkey"}. */
	assert_int_not_equal(verify("eyJhbGciOiJub25lIn0.eyJpc3MiOiJkZXZrZXkifQ.", NOW, &c), 0);
	/* a NUL inside the slice */
	char *t = make("devkey", "secret", NOW, 600, NULL);
	size_t n = strlen(t);
	t[n / 2] = '\0';
	assert_int_equal(api_token_verify(&keys, sb_slice(t, n), NOW, &c, NULL, 0), SB_EMALFORMED);
	free(t);
	/* too long */
	size_t big = API_TOKEN_MAX_LEN + 10;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, 'a', big);
	huge[10] = '.';
	huge[20] = '.';
	assert_int_equal(api_token_verify(&keys, sb_slice(huge, big), NOW, &c, NULL, 0),
			 SB_EMALFORMED);
	free(huge);
}

static void test_bearer(void **state)
{
	(void)state;
	struct sb_slice t;
	assert_int_equal(api_token_bearer(SB_SLICE_LIT("Bearer abc.def.ghi"), &t), 0);
	assert_true(sb_slice_eq_cstr(t, "abc.def.ghi"));
	assert_int_equal(api_token_bearer(SB_SLICE_LIT("bearer   x.y.z "), &t), 0);
	assert_true(sb_slice_eq_cstr(t, "x.y.z"));
	assert_int_equal(api_token_bearer(SB_SLICE_LIT(""), &t), SB_EAUTH);
	assert_int_equal(api_token_bearer(SB_SLICE_LIT("Bearer "), &t), SB_EAUTH);
	assert_int_equal(api_token_bearer(SB_SLICE_LIT("Basic dXNlcjpwYXNz"), &t), SB_EAUTH);
	assert_int_equal(api_token_bearer(SB_SLICE_LIT("abc.def.ghi"), &t), SB_EAUTH);
}

static void test_grants(void **state)
{
	(void)state;
	struct sb_slice sip = SB_SLICE_LIT("livekit.SIP"), rs = SB_SLICE_LIT("livekit.RoomService");
	assert_int_equal(api_rpc_perm(sip, SB_SLICE_LIT("CreateSIPDispatchRule")),
			 API_PERM_SIP_ADMIN);
	assert_int_equal(api_rpc_perm(sip, SB_SLICE_LIT("CreateSIPParticipant")),
			 API_PERM_SIP_CALL);
	assert_int_equal(api_rpc_perm(sip, SB_SLICE_LIT("TransferSIPParticipant")),
			 API_PERM_SIP_CALL_ROOM_ADMIN);
	assert_int_equal(api_rpc_perm(rs, SB_SLICE_LIT("DeleteRoom")), API_PERM_ROOM_CREATE);
	assert_int_equal(api_rpc_perm(rs, SB_SLICE_LIT("ListRooms")), API_PERM_ROOM_LIST);
	assert_int_equal(api_rpc_perm(rs, SB_SLICE_LIT("RemoveParticipant")), API_PERM_ROOM_ADMIN);
	assert_int_equal(api_rpc_perm(rs, SB_SLICE_LIT("CreateSIPParticipant")), API_PERM_NONE);
	assert_int_equal(api_rpc_perm(sip, SB_SLICE_LIT("CreateSIPTrunk")), API_PERM_NONE);
	assert_string_equal(api_perm_name(API_PERM_SIP_CALL), "sip.call");

	struct api_claims c;
	memset(&c, 0, sizeof(c));
	struct sb_slice room = SB_SLICE_LIT("r1");
	/* an empty grant allows nothing */
	for (int p = API_PERM_NONE; p <= API_PERM_ROOM_ADMIN; p++)
		assert_false(api_perm_check(&c, (enum api_perm)p, room));
	c.sip.admin = true;
	assert_true(api_perm_check(&c, API_PERM_SIP_ADMIN, room));
	assert_false(api_perm_check(&c, API_PERM_SIP_CALL, room)); /* admin is not call */
	c.sip.call = true;
	assert_true(api_perm_check(&c, API_PERM_SIP_CALL, room));
	assert_false(api_perm_check(&c, API_PERM_SIP_CALL_ROOM_ADMIN, room));
	c.video.room_admin = true;
	strcpy(c.video.room, "r1");
	assert_true(api_perm_check(&c, API_PERM_SIP_CALL_ROOM_ADMIN, room));
	assert_true(api_perm_check(&c, API_PERM_ROOM_ADMIN, room));
	/* roomAdmin is for one room */
	assert_false(api_perm_check(&c, API_PERM_ROOM_ADMIN, SB_SLICE_LIT("r2")));
	assert_false(api_perm_check(&c, API_PERM_ROOM_CREATE, room));
	assert_false(api_perm_check(&c, API_PERM_ROOM_LIST, room));
	c.video.room_list = true;
	assert_true(api_perm_check(&c, API_PERM_ROOM_LIST, room));
	assert_false(api_perm_check(&c, API_PERM_NONE, room));
}

/* Grants of the wrong JSON type make the token malformed rather than silently false. */
static void test_claim_types(void **state)
{
	(void)state;
	struct api_token_opts o = {.key = "devkey", .secret = "secret", .now = NOW};
	char *t = NULL;
	assert_int_equal(api_token_create(&o, &t), 0);
	free(t);
	/* kind and name round-trip */
	struct api_claims g = {.has_video = true};
	strcpy(g.kind, "agent");
	strcpy(g.name, "Agent Smith");
	g.video.room_join = true;
	strcpy(g.video.room, "lobby");
	o.grants = &g;
	o.identity = "agent-1";
	assert_int_equal(api_token_create(&o, &t), 0);
	struct api_claims c;
	assert_int_equal(verify(t, NOW, &c), 0);
	assert_string_equal(c.kind, "agent");
	assert_string_equal(c.name, "Agent Smith");
	assert_string_equal(c.sub, "agent-1");
	assert_true(c.video.room_join);
	free(t);
	/* creation needs a key and a secret */
	struct api_token_opts bad = {.key = "devkey", .secret = "", .now = NOW};
	assert_int_equal(api_token_create(&bad, &t), SB_EINVAL);
}

static void test_webhook(void **state)
{
	(void)state;
	char hash[45];
	/* echo -n '' | openssl dgst -sha256 -binary | base64 */
	api_sha256_b64(SB_SLICE_LIT(""), hash);
	assert_string_equal(hash, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
	api_sha256_b64(SB_SLICE_LIT("{\"event\":\"room_started\"}"), hash);
	assert_int_equal(strlen(hash), 44);

	const char *body = "{\"event\":\"participant_joined\",\"id\":\"EV_x\"}";
	char *t = NULL;
	assert_int_equal(api_webhook_sign("devkey", "secret", sb_slice_cstr(body), NOW, &t), 0);
	struct api_claims c;
	assert_int_equal(verify(t, NOW + 10, &c), 0);
	api_sha256_b64(sb_slice_cstr(body), hash);
	assert_string_equal(c.sha256, hash);
	assert_true(c.exp == NOW + 300);
	assert_int_equal(verify(t, NOW + 300 + API_TOKEN_LEEWAY_S + 1, &c), SB_EAUTH);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid),	cmocka_unit_test(test_sdk_token),
	    cmocka_unit_test(test_time_window), cmocka_unit_test(test_wrong_secret_unknown_key),
	    cmocka_unit_test(test_malformed),	cmocka_unit_test(test_bearer),
	    cmocka_unit_test(test_grants),	cmocka_unit_test(test_claim_types),
	    cmocka_unit_test(test_webhook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
