/* Unit tests for src/app/config.c: switchboard.yaml (flat and LiveKit-style nested keys),
 * durations, errors with file and line, unknown keys, flags over the file, key resolution. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/config.h"
#include "base/err.h"
#include "base/log.h"

static char path[64];

/* Write text to a fresh temporary file; its name in path. */
static void write_file(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/sb-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	size_t n = strlen(text);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

/* Load text as a config file over the defaults; err holds the message. */
static int load(struct sb_config *c, const char *text, char *err, size_t cap)
{
	sb_config_defaults(c);
	write_file(text);
	err[0] = '\0';
	int r = sb_config_file(c, path, err, cap);
	if (!r)
		r = sb_config_finish(c, err, cap);
	unlink(path);
	return r;
}

static struct sb_config cfg;
static char err[512];

static void test_defaults(void **state)
{
	(void)state;
	sb_config_defaults(&cfg);
	assert_int_equal(sb_config_args(&cfg, 0, NULL, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_keys, 1);
	assert_string_equal(cfg.keys[0].key, "devkey");
	assert_string_equal(cfg.keys[0].secret, "secret");
	assert_string_equal(cfg.sip_listen, "127.0.0.1:5060");
	assert_string_equal(cfg.rtp_ports, "10000-20000");
	assert_string_equal(cfg.store_type, "sqlite");
	assert_int_equal(cfg.rtp_timeout, 15);
	assert_int_equal(cfg.webhook.n_urls, 0);
	/* an empty file, or only comments, changes nothing */
	assert_int_equal(load(&cfg, "", err, sizeof(err)), 0);
	assert_int_equal(load(&cfg, "# nothing\n---\n", err, sizeof(err)), 0);
	assert_string_equal(cfg.keys[0].key, "devkey");
}

static void test_nested(void **state)
{
	(void)state;
	const char *text = "# LiveKit-style\n"
			   "keys:\n"
			   "  APIprod: prodsecret\n"
			   "  APIother: \"other secret\"\n"
			   "webhook:\n"
			   "  api_key: APIother\n"
			   "  urls:\n"
			   "    - https://example.com/hook\n"
			   "    - http://127.0.0.1:9000/lk\n"
			   "logging:\n"
			   "  level: debug\n"
			   "  json: false\n"
			   "sip_port: 5070\n"
			   "sip_listen: 0.0.0.0:5060\n"
			   "port: 7881\n"
			   "rtp_port: \"20000-30000\"\n"
			   "media_timeout: 20s\n"
			   "media_timeout_initial: 1m\n"
			   "tls:\n"
			   "  port: 5071\n"
			   "  certs:\n"
			   "    - cert_file: /etc/sb/cert.pem\n"
			   "      key_file: /etc/sb/key.pem\n"
			   "store:\n"
			   "  type: sqlite\n"
			   "  dir: /var/lib/switchboard\n"
			   "agents:\n"
			   "  - name: x\n";
	assert_int_equal(load(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_keys, 2);
	assert_string_equal(cfg.keys[0].key, "APIprod");
	assert_string_equal(cfg.keys[0].secret, "prodsecret");
	assert_string_equal(sb_config_secret(&cfg, "APIother"), "other secret");
	assert_null(sb_config_secret(&cfg, "devkey")); /* the dev key is gone */
	assert_int_equal(cfg.key_primary, 0);
	assert_string_equal(cfg.webhook.api_key, "APIother");
	assert_int_equal(cfg.webhook.n_urls, 2);
	assert_string_equal(cfg.webhook.urls[0], "https://example.com/hook");
	assert_string_equal(cfg.webhook.urls[1], "http://127.0.0.1:9000/lk");
	assert_int_equal(cfg.log_level, SB_LOG_DEBUG);
	/* sip_port applies after sip_listen whatever their order */
	assert_string_equal(cfg.sip_listen, "0.0.0.0:5070");
	assert_string_equal(cfg.http_listen, "127.0.0.1:7881");
	assert_string_equal(cfg.rtp_ports, "20000-30000");
	assert_int_equal(cfg.rtp_timeout, 20);
	assert_int_equal(cfg.rtp_first_timeout, 60);
	assert_int_equal(cfg.sip_tls_port, 5071);
	assert_string_equal(cfg.tls_cert, "/etc/sb/cert.pem");
	assert_string_equal(cfg.tls_key, "/etc/sb/key.pem");
	assert_string_equal(cfg.store_dir, "/var/lib/switchboard");
}

static void test_flat_keys(void **state)
{
	(void)state;
	const char *text = "sip_listen: 127.0.0.1:5080\n"
			   "sip-tls-listen: \"[::1]:5081\"\n"
			   "http_listen: 127.0.0.1:7890\n"
			   "api_key: flatkey\n"
			   "api_secret: flatsecret\n"
			   "rtp_ports: 12000-12100\n"
			   "rtp_ip: 192.0.2.1\n"
			   "data_dir: /tmp/sbdata\n"
			   "log_level: warn\n"
			   "tls_cert: c.pem\n"
			   "tls_key: k.pem\n"
			   "t1: 250\n"
			   "t2: 4s\n"
			   "t4: 5000\n"
			   "max_calls: 100\n"
			   "register: sip:alice@sip.example.com\n"
			   "register_expires: 600\n"
			   "auth_user: alice\n"
			   "auth_password: pw\n"
			   "auth_md5_first: yes\n"
			   "codecs: PCMU,opus\n"
			   "media_encryption: require\n"
			   "media_workers: 2\n"
			   "room_rate: 48000\n"
			   "opus_rate: 24000\n"
			   "opus_complexity: 9\n"
			   "rtp_timeout: 10\n"
			   "rtp_first_timeout: 40\n"
			   "room_empty_timeout: 5m\n"
			   "room_departure_timeout: 1m30s\n"
			   "answer_delay: 1.5s\n";
	assert_int_equal(load(&cfg, text, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_listen, "127.0.0.1:5080");
	assert_string_equal(cfg.sip_tls_listen, "[::1]:5081");
	assert_string_equal(cfg.http_listen, "127.0.0.1:7890");
	assert_int_equal(cfg.n_keys, 1);
	assert_string_equal(cfg.keys[0].key, "flatkey");
	assert_string_equal(cfg.keys[0].secret, "flatsecret");
	assert_string_equal(cfg.rtp_ports, "12000-12100");
	assert_string_equal(cfg.rtp_ip, "192.0.2.1");
	assert_string_equal(cfg.data_dir, "/tmp/sbdata");
	assert_int_equal(cfg.log_level, SB_LOG_WARN);
	assert_string_equal(cfg.tls_cert, "c.pem");
	assert_int_equal(cfg.t1_ms, 250);
	assert_int_equal(cfg.t2_ms, 4000);
	assert_int_equal(cfg.t4_ms, 5000);
	assert_int_equal(cfg.max_calls, 100);
	assert_string_equal(cfg.register_uri, "sip:alice@sip.example.com");
	assert_int_equal(cfg.register_expires, 600);
	assert_string_equal(cfg.dial_user, "alice");
	assert_int_equal(cfg.auth_md5_first, 1);
	assert_string_equal(cfg.codecs, "PCMU,opus");
	assert_string_equal(cfg.media_encryption, "require");
	assert_int_equal(cfg.media_workers, 2);
	assert_int_equal(cfg.room_rate, 48000);
	assert_int_equal(cfg.opus_rate, 24000);
	assert_int_equal(cfg.opus_complexity, 9);
	assert_int_equal(cfg.rtp_timeout, 10);
	assert_int_equal(cfg.rtp_first_timeout, 40);
	assert_int_equal(cfg.room_empty_timeout, 300);
	assert_int_equal(cfg.room_departure_timeout, 90);
	assert_int_equal(cfg.answer_delay_ms, 1500);
}

/* The file fails to load; the message names the file, the line and the key. */
static void expect_error(const char *text, int line, const char *key)
{
	assert_int_not_equal(load(&cfg, text, err, sizeof(err)), 0);
	char want[128] = "";
	if (line)
		snprintf(want, sizeof(want), "%s:%d:", path, line);
	if (!strstr(err, want) || (key && !strstr(err, key)))
		fail_msg("error '%s' lacks '%s' or '%s'", err, want, key ? key : "");
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("log_level: info\nsip_listen:\n  host: x\n", 3, "sip_listen: wants a single");
	expect_error("tls:\n  port: abc\n", 2, "tls.port: wants a port number");
	expect_error("tls:\n  port: 70000\n", 2, "tls.port");
	expect_error("sip_port: -1\n", 1, "sip_port");
	expect_error("a: 1\nrtp_port: 20000-10000\n", 2, "rtp_port: wants a port range");
	expect_error("rtp_port: 80-90\n", 1, "rtp_port");
	expect_error("keys:\n  k1: [a, b]\n", 2, "keys.k1: wants the key's secret");
	expect_error("keys:\n  - k1\n", 2, "keys: wants a mapping");
	expect_error("keys:\n  k1: a\n  k1: b\n", 3, "keys.k1: listed twice");
	expect_error("webhook:\n  urls: http://x\n", 2, "webhook.urls: wants a list");
	expect_error("webhook:\n  urls:\n    - ftp://x\n", 3, "webhook.urls[0]");
	expect_error("logging:\n  level: loud\n", 2, "logging.level: wants error, warn");
	expect_error("logging: debug\n", 1, "logging: wants a mapping");
	expect_error("tls:\n  certs:\n    - cert_file: c.pem\n", 3, "tls.certs[0]: wants both");
	expect_error("media_timeout: soon\n", 1, "media_timeout: wants whole seconds");
	expect_error("media_timeout: 1500ms\n", 1, "media_timeout");
	expect_error("media_timeout: 1e3s\n", 1, "media_timeout");
	expect_error("media_timeout: 0x10\n", 1, "media_timeout");
	expect_error("media_timeout: -5\n", 1, "media_timeout");
	expect_error("media_timeout: 2d\n", 1, "media_timeout");
	expect_error("t1: 1.5\n", 1, "t1: wants milliseconds");
	expect_error("opus_complexity: 11\n", 1, "opus_complexity: wants a number from 0 to 10");
	expect_error("auth_md5_first: maybe\n", 1, "auth_md5_first");
	expect_error("media_encryption: sometimes\n", 1, "media_encryption");
	expect_error("store:\n  type: postgres\n", 2, "store.type");
	expect_error("- a\n- b\n", 1, "must be a mapping");
	/* YAML syntax: line and column of the problem */
	expect_error("sip_listen: 127.0.0.1:5060\nkeys:\n  a: b\n c: d\n", 4, "YAML syntax");
	expect_error("x: \"unterminated\n", 2, "YAML syntax");
	/* resolved after the file */
	expect_error("webhook:\n  api_key: nobody\n", 0, NULL);
	assert_non_null(strstr(err, "webhook.api_key 'nobody' is not one of the API keys"));
	/* a missing file */
	sb_config_defaults(&cfg);
	assert_int_equal(sb_config_file(&cfg, "/nonexistent/sb.yaml", err, sizeof(err)), SB_EIO);
	assert_non_null(strstr(err, "/nonexistent/sb.yaml"));
}

static void test_unknown_keys_warn(void **state)
{
	(void)state;
	const char *text = "future_key: 1\n"
			   "sip_hostname: sip.example.com\n"
			   "webhook:\n"
			   "  url_hash: x\n"
			   "trunks:\n"
			   "  - name: t\n"
			   "? [complex]\n"
			   ": x\n";
	int r = load(&cfg, text, err, sizeof(err));
	/* a complex key is a structural error, the rest only warnings */
	assert_int_not_equal(r, 0);
	assert_non_null(strstr(err, ":7: keys must be plain names"));
	FILE *log = tmpfile();
	assert_non_null(log);
	sb_log_set_file(log);
	r = load(&cfg, "future_key: 1\nwebhook:\n  url_hash: x\ntrunks:\n  - name: t\n", err,
		 sizeof(err));
	sb_log_set_file(stderr);
	assert_int_equal(r, 0);
	char buf[2048];
	rewind(log);
	size_t n = fread(buf, 1, sizeof(buf) - 1, log);
	buf[n] = '\0';
	fclose(log);
	assert_non_null(strstr(buf, ":1: future_key: unknown key, ignored"));
	assert_non_null(strstr(buf, ":3: webhook.url_hash: unknown key, ignored"));
	assert_non_null(strstr(buf, ":4: trunks: not read from the file yet"));
}

static void test_flags_override(void **state)
{
	(void)state;
	sb_config_defaults(&cfg);
	write_file("keys:\n  filekey: filesecret\nrtp_port: 16000-16998\nmedia_timeout: 20\n"
		   "log_level: debug\n");
	char *argv[] = {"--rtp-ports", "14000-14998",	  "--config",
			path,	       "--media-timeout", "45s",
			"--api-key",   "flagkey",	  "--api-secret=flagsecret"};
	int r = sb_config_args(&cfg, (int)(sizeof(argv) / sizeof(argv[0])), argv, err, sizeof(err));
	unlink(path);
	assert_int_equal(r, 0);
	assert_string_equal(cfg.rtp_ports, "14000-14998");
	assert_int_equal(cfg.rtp_timeout, 45);
	assert_int_equal(cfg.log_level, SB_LOG_DEBUG);
	/* the flag pair is added and signs tokens */
	assert_int_equal(cfg.n_keys, 2);
	assert_string_equal(sb_config_secret(&cfg, "filekey"), "filesecret");
	assert_string_equal(sb_config_secret(&cfg, "flagkey"), "flagsecret");
	assert_string_equal(cfg.keys[cfg.key_primary].key, "flagkey");
	/* finishing twice changes nothing */
	assert_int_equal(sb_config_finish(&cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_keys, 2);

	/* --api-secret alone: the only key's secret is replaced */
	sb_config_defaults(&cfg);
	write_file("keys:\n  filekey: filesecret\n");
	char *argv2[] = {"--config", path, "--api-secret", "new"};
	assert_int_equal(sb_config_args(&cfg, 4, argv2, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_keys, 1);
	assert_string_equal(sb_config_secret(&cfg, "filekey"), "new");
	unlink(path);

	/* with no file, --api-secret alone goes with devkey (as before) */
	sb_config_defaults(&cfg);
	char *argv3[] = {"--api-secret", "s2"};
	assert_int_equal(sb_config_args(&cfg, 2, argv3, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_keys, 1);
	assert_string_equal(sb_config_secret(&cfg, "devkey"), "s2");

	/* a new key without a secret is refused */
	sb_config_defaults(&cfg);
	char *argv4[] = {"--api-key", "lonely"};
	assert_int_not_equal(sb_config_args(&cfg, 2, argv4, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "lonely"));

	/* bad flag values name the flag */
	sb_config_defaults(&cfg);
	char *argv5[] = {"--sip-port", "x"};
	assert_int_not_equal(sb_config_args(&cfg, 2, argv5, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--sip-port: wants a port number"));
	char *argv6[] = {"--no-such-flag", "1"};
	assert_int_equal(sb_config_args(&cfg, 2, argv6, err, sizeof(err)), SB_ENOTFOUND);
	/* a flag's port replaces the file's whole address */
	sb_config_defaults(&cfg);
	write_file("sip_port: 5999\n");
	char *argv7[] = {"--config", path, "--sip-listen", "127.0.0.1:0"};
	assert_int_equal(sb_config_args(&cfg, 4, argv7, err, sizeof(err)), 0);
	assert_string_equal(cfg.sip_listen, "127.0.0.1:0");
	unlink(path);
}

static void test_anchors_and_nulls(void **state)
{
	(void)state;
	const char *text = "base: &secret s3cr3t\n"
			   "keys:\n"
			   "  a: *secret\n"
			   "sip_listen:\n"
			   "webhook:\n"
			   "codecs: ~\n";
	assert_int_equal(load(&cfg, text, err, sizeof(err)), 0);
	assert_string_equal(sb_config_secret(&cfg, "a"), "s3cr3t");
	assert_string_equal(cfg.sip_listen, "127.0.0.1:5060");
	assert_string_equal(cfg.codecs, "PCMU,PCMA,G722,opus");
	/* an IPv6 listen address gets its port replaced */
	assert_int_equal(load(&cfg, "sip_listen: \"[::1]:5060\"\nsip_port: 0\n", err, sizeof(err)),
			 0);
	assert_string_equal(cfg.sip_listen, "[::1]:0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	      cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_flat_keys),	      cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_unknown_keys_warn), cmocka_unit_test(test_flags_override),
	    cmocka_unit_test(test_anchors_and_nulls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
