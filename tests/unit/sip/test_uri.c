/* Unit tests for src/sip/uri.c: sip/sips/tel parsing, IPv6 references, escapes, comparison
 * (RFC 3261 §19.1.4 examples), printing and the tel → sip mapping. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "sip/uri.h"

/* Parse from an exact-size heap copy (ASan catches reads past the end); caller frees *keep. */
static int uparse(const char *s, struct sip_uri *u, char **keep)
{
	size_t n = strlen(s);
	*keep = malloc(n ? n : 1);
	assert_non_null(*keep);
	memcpy(*keep, s, n);
	return sip_uri_parse(sb_slice(*keep, n), u);
}

static void ok(const char *s)
{
	struct sip_uri u;
	char *k;
	if (uparse(s, &u, &k) != 0)
		fail_msg("should parse: %s", s);
	free(k);
}

static void bad(const char *s)
{
	struct sip_uri u;
	char *k;
	if (uparse(s, &u, &k) != SB_EMALFORMED)
		fail_msg("should be malformed: %s", s);
	free(k);
}

static void test_sip_parts(void **state)
{
	(void)state;
	struct sip_uri u;
	char *k;
	assert_int_equal(uparse("sip:alice:secretword@atlanta.com:5070;transport=tcp;lr?subject="
				"project%20x&priority=urgent",
				&u, &k),
			 0);
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_true(sb_slice_eq_cstr(u.scheme_name, "sip"));
	assert_true(sb_slice_eq_cstr(u.user, "alice"));
	assert_true(sb_slice_eq_cstr(u.password, "secretword"));
	assert_true(sb_slice_eq_cstr(u.host, "atlanta.com"));
	assert_int_equal(u.port, 5070);
	assert_true(sb_slice_eq_cstr(u.params, ";transport=tcp;lr"));
	assert_true(sb_slice_eq_cstr(u.headers, "subject=project%20x&priority=urgent"));
	free(k);

	assert_int_equal(uparse("SIPS:atlanta.com", &u, &k), 0);
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_true(sb_slice_empty(u.user));
	assert_true(sb_slice_eq_cstr(u.host, "atlanta.com"));
	free(k);

	/* ';' inside the user part (RFC 4475 semiuri) */
	assert_int_equal(uparse("sip:user;par=u%40example.net@example.com", &u, &k), 0);
	assert_true(sb_slice_eq_cstr(u.user, "user;par=u%40example.net"));
	assert_true(sb_slice_eq_cstr(u.host, "example.com"));
	assert_true(sb_slice_empty(u.params));
	char dec[64];
	int n = sip_unescape(u.user, dec, sizeof(dec));
	assert_int_equal(n, 22);
	assert_memory_equal(dec, "user;par=u@example.net", 22);
	free(k);

	assert_int_equal(uparse("sip:host:5060;maddr=239.255.255.1", &u, &k), 0);
	assert_true(sb_slice_eq_cstr(u.host, "host"));
	assert_int_equal(u.port, 5060);
	free(k);

	assert_int_equal(uparse("sip:192.0.2.4", &u, &k), 0);
	assert_true(sb_slice_eq_cstr(u.host, "192.0.2.4"));
	free(k);
	ok("sip:%61lice@a.example");
	ok("sip:a@b;lr");
	ok("sip:a-b_c@my_host.example");
	ok("sip:+1-212-555-1212:1234@gateway.com;user=phone");
}

static void test_ipv6(void **state)
{
	(void)state;
	struct sip_uri u;
	char *k;
	assert_int_equal(uparse("sip:[2001:db8::10]:5070", &u, &k), 0);
	assert_true(u.host_ipv6);
	assert_true(sb_slice_eq_cstr(u.host, "2001:db8::10"));
	assert_int_equal(u.port, 5070);
	free(k);
	/* RFC 5118 §4.3: port-like tail inside the brackets is part of the address */
	assert_int_equal(uparse("sip:user@[2001:db8::10:5070]", &u, &k), 0);
	assert_true(sb_slice_eq_cstr(u.host, "2001:db8::10:5070"));
	assert_int_equal(u.port, 0);
	free(k);
	ok("sip:[::1]");
	ok("sip:[::]");
	ok("sip:[::ffff:192.0.2.2]");
	ok("sip:[2001:db8::192.0.2.1]");
	ok("sip:[1:2:3:4:5:6:7:8]");
	ok("sip:[1:2:3:4:5:6:192.0.2.1]");
	bad("sip:2001:db8::10");	   /* no brackets (RFC 5118 §4.2) */
	bad("sip:[2001:db8:::192.0.2.1]"); /* three colons (RFC 5954) */
	bad("sip:[1:2:3:4:5:6:7:8:9]");
	bad("sip:[1:2:3:4:5:6:7]");
	bad("sip:[12345::1]");
	bad("sip:[::1");
	bad("sip:[]");
	bad("sip:[1::2::3]");
	bad("sip:[::1]x");
	bad("sip:[::256.0.0.1]");
	bad("sip:[:1::2]");
}

static void test_bad(void **state)
{
	(void)state;
	bad("");
	bad("sip:");
	bad("sip");
	bad(":x");
	bad("1sip:a@b");
	bad("sip:@host");
	bad("sip:user@");
	bad("sip:user@host:");
	bad("sip:user@host:65536");
	bad("sip:user@host:99999999999999999999");
	bad("sip:user@host:-1");
	bad("sip:user@ho st");
	bad("sip:user@host; lr");
	bad("sip:us er@host");
	bad("sip:user@host;;lr");
	bad("sip:user@host;=x");
	bad("sip:user@host;a=");
	bad("sip:us%er@host");
	bad("sip:user%4@host");
	bad("sip:user%");
	bad("sip:user@host?");
	bad("sip:user@host?a");
	bad("sip:user@host?=b");
	bad("sip:user@host>");
	bad("<sip:user@host>");
	bad("sip:a@b@c");
	bad("sip:1.2.3.256");
	bad("sip:1.2.3");
	bad("tel:");
	bad("tel:+");
	bad("tel:12 34");
	bad("tel:123?x=y");
	bad("nobody:with space");
	bad("http:<x>");
	ok("sip:user@host:65535");
	ok("sip:user@host:0");
	ok("sip:user@host?a=");
}

static void test_tel_other(void **state)
{
	(void)state;
	struct sip_uri u;
	char *k;
	assert_int_equal(uparse("tel:+1-201-555-0123;ext=1234;phone-context=example.com", &u, &k),
			 0);
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_true(sb_slice_eq_cstr(u.user, "+1-201-555-0123"));
	assert_true(sb_slice_eq_cstr(u.params, ";ext=1234;phone-context=example.com"));
	free(k);
	assert_int_equal(uparse("nobodyKnowsThisScheme:totallyopaquecontent", &u, &k), 0);
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_true(sb_slice_eq_cstr(u.scheme_name, "nobodyKnowsThisScheme"));
	free(k);
	ok("soap.beep://192.0.2.103:3002");
	ok("tel:7042;phone-context=example.com");
	ok("tel:*21#");
}

static void test_unescape(void **state)
{
	(void)state;
	char out[16];
	assert_int_equal(sip_unescape(SB_SLICE_LIT("a%41%62c"), out, sizeof(out)), 4);
	assert_memory_equal(out, "aAbc", 4);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("null-%00-null"), out, sizeof(out)), 11);
	assert_memory_equal(out, "null-\0-null", 11);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("%"), out, sizeof(out)), SB_EMALFORMED);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("abc%"), out, sizeof(out)), SB_EMALFORMED);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("abc%4"), out, sizeof(out)), SB_EMALFORMED);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("%Z%45"), out, sizeof(out)), SB_EMALFORMED);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("0123456789abcdefg"), out, sizeof(out)),
			 SB_ETOOBIG);
	assert_int_equal(sip_unescape(SB_SLICE_NULL, out, sizeof(out)), 0);
	assert_int_equal(sip_unescape(SB_SLICE_LIT("x"), out, 0), SB_ETOOBIG);
}

static bool eq(const char *a, const char *b)
{
	struct sip_uri x, y;
	char *ka, *kb;
	assert_int_equal(uparse(a, &x, &ka), 0);
	assert_int_equal(uparse(b, &y, &kb), 0);
	bool r = sip_uri_equal(&x, &y);
	assert_int_equal(r, sip_uri_equal(&y, &x));
	free(ka);
	free(kb);
	return r;
}

static void test_equal(void **state)
{
	(void)state;
	/* RFC 3261 §19.1.4: equivalent */
	assert_true(
	    eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		       "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		       "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
	assert_true(eq("sip:[2001:db8::1]", "sip:[2001:DB8:0::1]"));
	assert_true(eq("tel:+1-201-555-0123", "tel:+1(201)5550123"));
	/* not equivalent */
	assert_false(
	    eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	assert_false(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
	assert_false(eq("sip:a@b", "sips:a@b"));
	assert_false(eq("sip:a:x@b", "sip:a:y@b"));
	assert_false(eq("sip:a@b", "tel:+1"));
	assert_false(eq("tel:+1-201-555-0123;ext=1", "tel:+1-201-555-0123"));
}

static void test_print(void **state)
{
	(void)state;
	struct sb_buf b;
	struct sip_uri u;
	char *k;
	sb_buf_init(&b, NULL, 0);
	assert_int_equal(uparse("sip:alice:pw@[2001:db8::1]:5061;transport=tls?x=y", &u, &k), 0);
	sip_uri_print(&b, &u);
	assert_int_equal(b.err, 0);
	assert_string_equal(b.p, "sip:alice:pw@[2001:db8::1]:5061;transport=tls");
	free(k);

	sb_buf_reset(&b);
	assert_int_equal(uparse("tel:+358-555-1234567;postd=pp22", &u, &k), 0);
	sip_uri_print(&b, &u);
	assert_string_equal(b.p, "tel:+358-555-1234567;postd=pp22");
	sb_buf_reset(&b);
	sip_uri_tel_to_sip(&b, &u, SB_SLICE_LIT("foo.com"), 0);
	assert_string_equal(b.p, "sip:+358-555-1234567;postd=pp22@foo.com;user=phone");
	sb_buf_reset(&b);
	sip_uri_tel_to_sip(&b, &u, SB_SLICE_LIT("2001:db8::5"), 5080);
	assert_string_equal(b.p, "sip:+358-555-1234567;postd=pp22@[2001:db8::5]:5080;user=phone");
	free(k);

	/* the printed form parses back to an equal URI */
	sb_buf_reset(&b);
	assert_int_equal(uparse("sips:%61b@h.example:1;lr", &u, &k), 0);
	sip_uri_print(&b, &u);
	struct sip_uri v;
	assert_int_equal(sip_uri_parse(sb_buf_slice(&b), &v), 0);
	assert_true(sip_uri_equal(&u, &v));
	free(k);

	sb_buf_reset(&b);
	assert_int_equal(uparse("urn:service:sos", &u, &k), 0);
	sip_uri_print(&b, &u);
	assert_string_equal(b.p, "urn:service:sos");
	free(k);
	sb_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_parts), cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_bad),	      cmocka_unit_test(test_tel_other),
	    cmocka_unit_test(test_unescape),  cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_print),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
