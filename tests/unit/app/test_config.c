/* Unit tests for src/app/config.c and declared.c: switchboard.yaml (flat and LiveKit-style
 * nested keys), durations, errors with file and line, unknown keys, flags over the file, key
 * resolution, the `sip:` trunks and dispatch rules and their application to a store. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "app/config.h"
#include "app/declared.h"
#include "base/err.h"
#include "base/log.h"
#include "media/wav.h"
#include "store/store.h"

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
	sb_config_free(c);
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
	assert_int_equal(cfg.metrics_enabled, 1);
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
			   "metrics:\n"
			   "  enabled: false\n"
			   "agents:\n"
			   "  x: {url: \"ws://127.0.0.1:9/\"}\n";
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
	assert_int_equal(cfg.metrics_enabled, 0);
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
	/* records outside sip: are not read */
	log = tmpfile();
	assert_non_null(log);
	sb_log_set_file(log);
	r = load(&cfg, "inbound_trunks:\n  - name: t\nsip:\n  trunks: []\n", err, sizeof(err));
	sb_log_set_file(stderr);
	assert_int_equal(r, 0);
	rewind(log);
	n = fread(buf, 1, sizeof(buf) - 1, log);
	buf[n] = '\0';
	fclose(log);
	assert_non_null(strstr(buf, ":1: inbound_trunks: belongs under sip:, ignored"));
	assert_non_null(strstr(buf, ":4: sip.trunks: unknown key, ignored"));
	assert_int_equal(cfg.sip.n_in, 0);
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

/* ---- sip: trunks and dispatch rules ---- */

static const char *const sip_good =
    "sip:\n"
    "  inbound_trunks:\n"
    "    - id: ST_office        # a stable id\n"
    "      name: office\n"
    "      numbers: [\"+15550100\", 5550101]\n"
    "      allowed_addresses: [\"10.0.0.0/8\"]\n"
    "      auth_username: pbx\n"
    "      auth_password: secret\n"
    "      ringing_timeout: 1m\n"
    "      max_call_duration: \"3600s\"\n"
    "      include_headers: x_headers\n"
    "      media_encryption: require\n"
    "      krisp_enabled: true\n"
    "      headers: {X-Site: \"true\"}\n"
    "    - name: front desk     # no id: ST_front_desk\n"
    "      allowedNumbers: [\"+1999\"]\n"
    "      numbers: [\"+15550100\"]\n"
    "  outbound_trunks:\n"
    "    - id: ST_twilio\n"
    "      name: twilio\n"
    "      address: example.pstn.twilio.com\n"
    "      numbers: [\"+15550199\"]\n"
    "      transport: tcp\n"
    "      auth_username: u\n"
    "      auth_password: p\n"
    "  dispatchRules:\n"
    "    - id: SDR_support\n"
    "      rule: {dispatch_rule_individual: {room_prefix: \"call-\"}}\n"
    "      trunk_ids: [ST_office]\n"
    "      attributes: {transport: tcp}\n"
    "    - sip_dispatch_rule_id: SDR_direct\n"
    "      rule: {dispatchRuleDirect: {roomName: yaml-room, pin: \"1234\"}}\n"
    "      trunkIds: [ST_office]\n"
    "      room_config: {maxParticipants: 3}\n";

/* hold:, registrations: and store.call_records */
static void test_hold_registrations(void **state)
{
	(void)state;
	assert_int_equal(load(&cfg,
			      "hold:\n  local: true\n  local_trunks: [ST_a, ST_b]\n"
			      "  music_on_hold: /tmp/moh.wav\n"
			      "registrations:\n  - {trunk: ST_a, expires: 300}\n  - trunk: ST_b\n"
			      "store:\n  call_records: false\n",
			      err, sizeof(err)),
			 0);
	assert_int_equal(cfg.hold_local, 1);
	assert_int_equal(cfg.n_hold_local_trunks, 2);
	assert_string_equal(cfg.hold_local_trunks[1], "ST_b");
	assert_string_equal(cfg.music_on_hold, "/tmp/moh.wav");
	assert_int_equal(cfg.n_registrations, 2);
	assert_string_equal(cfg.registrations[0].trunk, "ST_a");
	assert_int_equal(cfg.registrations[0].expires, 300);
	assert_int_equal(cfg.registrations[1].expires, 0);
	assert_int_equal(cfg.call_records, 0);
	/* the defaults */
	assert_int_equal(load(&cfg, "log_level: info\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.hold_local, 0);
	assert_int_equal(cfg.n_registrations, 0);
	assert_int_equal(cfg.call_records, 1);
	/* errors name the entry */
	assert_int_not_equal(load(&cfg, "hold:\n  local_trunks: [nope]\n", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "local_trunks[0]"));
	assert_int_not_equal(load(&cfg, "registrations:\n  - {expires: 5}\n", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "trunk is required"));
	assert_int_not_equal(
	    load(&cfg, "registrations:\n  - {trunk: ST_a, expires: soon}\n", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "registrations[0].expires"));
}

static void test_sip_records(void **state)
{
	(void)state;
	assert_int_equal(load(&cfg, sip_good, err, sizeof(err)), 0);
	const struct sb_config_sip *d = &cfg.sip;
	assert_int_equal(d->n_in, 2);
	assert_int_equal(d->n_out, 1);
	assert_int_equal(d->n_rules, 2);
	const struct store_inbound_trunk *t = &d->in[0];
	assert_string_equal(t->id, "ST_office");
	assert_string_equal(t->name, "office");
	assert_int_equal(t->numbers.n, 2);
	assert_string_equal(t->numbers.v[1], "5550101");
	assert_string_equal(t->allowed_addresses.v[0], "10.0.0.0/8");
	assert_string_equal(t->auth_password, "secret");
	assert_int_equal(t->ringing_timeout_ms, 60000);
	assert_int_equal(t->max_call_duration_ms, 3600000);
	assert_int_equal(t->include_headers, STORE_X_HEADERS);
	assert_int_equal(t->media_encryption, STORE_ENCRYPT_REQUIRE);
	assert_true(t->krisp_enabled);
	assert_string_equal(store_map_get(&t->headers, "X-Site"), "true");
	assert_non_null(strstr(d->in_where[0].text, ":3: sip.inbound_trunks[0]"));
	assert_string_equal(d->in[1].id, "ST_front_desk");
	assert_string_equal(d->in[1].allowed_numbers.v[0], "+1999");
	const struct store_outbound_trunk *o = &d->out[0];
	assert_string_equal(o->id, "ST_twilio");
	assert_string_equal(o->address, "example.pstn.twilio.com");
	assert_int_equal(o->transport, STORE_TRANSPORT_TCP);
	assert_string_equal(o->auth_username, "u");
	const struct store_dispatch_rule *r = &d->rules[0];
	assert_string_equal(r->id, "SDR_support");
	assert_int_equal(r->rule.kind, STORE_RULE_INDIVIDUAL);
	assert_string_equal(r->rule.room_prefix, "call-");
	assert_string_equal(r->trunk_ids.v[0], "ST_office");
	/* values under attributes are the user's own: no enum spelling */
	assert_string_equal(store_map_get(&r->attributes, "transport"), "tcp");
	assert_string_equal(d->rules[1].id, "SDR_direct");
	assert_int_equal(d->rules[1].rule.kind, STORE_RULE_DIRECT);
	assert_string_equal(d->rules[1].rule.room_name, "yaml-room");
	assert_string_equal(d->rules[1].rule.pin, "1234");
	assert_string_equal(d->rules[1].room_config_json, "{\"max_participants\":3}");
	assert_non_null(strstr(d->rule_where[1].text, "sip.dispatchRules[1]"));
	/* a later file without sip: keeps them, one with sip: replaces them */
	write_file("log_level: debug\n");
	assert_int_equal(sb_config_file(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(cfg.sip.n_in, 2);
	write_file("sip:\n  inbound_trunks:\n    - {name: x, numbers: [\"1\"]}\n");
	assert_int_equal(sb_config_file(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(cfg.sip.n_in, 1);
	assert_int_equal(cfg.sip.n_rules, 0);
	/* and a bad one leaves the earlier records alone */
	write_file("sip:\n  inbound_trunks:\n    - {name: x}\n");
	assert_int_not_equal(sb_config_file(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(cfg.sip.n_in, 1);
	sb_config_free(&cfg);
	assert_int_equal(cfg.sip.n_in, 0);
}

/* Each kind of mistake in sip: stops the load with the entry, its field and the line. */
static void test_sip_errors(void **state)
{
	(void)state;
	/* a field of the wrong type, with the line of the field itself */
	expect_error("sip:\n"
		     "  inbound_trunks:\n"
		     "    - {id: ST_a, numbers: [\"1\"]}\n"
		     "    - name: b\n"
		     "      numbers:\n"
		     "        - {x: 1}\n",
		     6, "sip.inbound_trunks[1].numbers[0]: must be a string");
	expect_error("sip:\n  inbound_trunks:\n    - name: b\n      allowedAddresses: x\n", 4,
		     "sip.inbound_trunks[0].allowed_addresses: must be an array of strings");
	expect_error("sip:\n  outbound_trunks:\n    - name: o\n      address: h\n"
		     "      numbers: [\"1\"]\n      transport: sctp\n",
		     6,
		     "sip.outbound_trunks[0].transport: unknown SIPTransport value "
		     "\"SIP_TRANSPORT_SCTP\"");
	expect_error("sip:\n  inbound_trunks:\n    - name: b\n      numbers: [\"1\"]\n"
		     "      krisp_enabled: maybe\n",
		     5, "sip.inbound_trunks[0].krisp_enabled: must be true or false");
	expect_error("sip:\n  inbound_trunks:\n    - name: b\n      numbers: [\"1\"]\n"
		     "      ringing_timeout: soon\n",
		     5, "sip.inbound_trunks[0].ringing_timeout: invalid duration");
	expect_error("sip:\n  dispatch_rules:\n    - id: SDR_r\n"
		     "      rule: {dispatch_rule_direct: {room_name: r, pin: 12}}\n"
		     "      attributes: {a: [1]}\n",
		     5, "sip.dispatch_rules[0].attributes[\"a\"]: must be a string");
	/* the API's validation */
	expect_error("sip:\n  inbound_trunks:\n    - name: open\n", 3,
		     "sip.inbound_trunks[0]: for security, one of the fields must be set");
	expect_error("sip:\n  outbound_trunks:\n    - {name: o, numbers: [\"1\"]}\n", 3,
		     "sip.outbound_trunks[0]: address is required");
	expect_error("sip:\n  dispatch_rules:\n    - {id: SDR_r, trunk_ids: [ST_a]}\n", 3,
		     "sip.dispatch_rules[0]: rule is required");
	expect_error("sip:\n  dispatch_rules:\n    - id: SDR_r\n      rule:\n"
		     "        dispatch_rule_direct: {pin: \"1\"}\n",
		     3, "sip.dispatch_rules[0]: rule.dispatchRuleDirect.roomName is required");
	/* ids */
	expect_error("sip:\n  inbound_trunks:\n    - {id: SDR_a, numbers: [\"1\"]}\n", 3,
		     "sip.inbound_trunks[0].id: 'SDR_a' is not an id: ST_ followed by");
	expect_error("sip:\n  dispatch_rules:\n    - id: ST_a\n      rule: {dispatch_rule_"
		     "individual: {room_prefix: c}}\n",
		     3, "sip.dispatch_rules[0].id: 'ST_a' is not an id: SDR_");
	expect_error("sip:\n  inbound_trunks:\n    - {numbers: [\"1\"]}\n", 3,
		     "sip.inbound_trunks[0]: needs an id (ST_...) or a name");
	expect_error("sip:\n  inbound_trunks:\n    - {id: ST_a, sip_trunk_id: ST_b, numbers: "
		     "[\"1\"]}\n",
		     3, "the id is given twice");
	expect_error("sip:\n"
		     "  inbound_trunks:\n"
		     "    - {id: ST_a, numbers: [\"1\"]}\n"
		     "  outbound_trunks:\n"
		     "    - {id: ST_a, address: h, numbers: [\"1\"]}\n",
		     5, "sip.outbound_trunks[0]: id ST_a is already declared at ");
	assert_non_null(strstr(err, ":3: sip.inbound_trunks[0]"));
	expect_error("sip:\n  inbound_trunks:\n    - {name: a b, numbers: [\"1\"]}\n"
		     "    - {name: a_b, numbers: [\"2\"]}\n",
		     4, "id ST_a_b is already declared");
	/* conflicts among the declared records, with the API's messages */
	expect_error(
	    "sip:\n  inbound_trunks:\n    - {id: ST_a, numbers: [\"+1 555\"]}\n"
	    "    - {id: ST_b, numbers: [\"1555\"]}\n",
	    4, "sip.inbound_trunks[1]: Conflicting inbound SIP Trunks: \"ST_a\" and \"ST_b\"");
	expect_error("sip:\n  dispatch_rules:\n"
		     "    - {id: SDR_a, rule: {dispatch_rule_direct: {room_name: a}}}\n"
		     "    - {id: SDR_b, rule: {dispatch_rule_direct: {room_name: b}}}\n",
		     4, "sip.dispatch_rules[1]: Dispatch rule for the same trunk");
	/* structure */
	expect_error("sip:\n  inbound_trunks: {name: a}\n", 2,
		     "sip.inbound_trunks: wants a list of trunks");
	expect_error("sip:\n  inbound_trunks:\n    - ST_a\n", 3,
		     "sip.inbound_trunks[0]: wants a mapping");
	expect_error("sip:\n  inbound_trunks:\n    - name: a\n      numbers: [\"1\"]\n"
		     "      name: b\n",
		     5, "sip.inbound_trunks[0].name: given twice");
	expect_error("sip: [a]\n", 1, "sip: wants a mapping");
	assert_int_equal(cfg.sip.n_in, 0);
}

/* ---- applying the records to a store ---- */

static uv_loop_t loop;
static char dir[64];

static int rm_entry(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(p);
}

static void closed(void *arg)
{
	*(bool *)arg = true;
}

static struct store *open_store(void)
{
	struct store *s = NULL;
	struct store_opts o = {.loop = &loop, .dir = dir};
	assert_int_equal(store_open(&s, &o), 0);
	return s;
}

static void close_store(struct store *s)
{
	bool done = false;
	store_close(s, closed, &done);
	while (!done)
		uv_run(&loop, UV_RUN_ONCE);
}

static void test_declared_apply(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sb-declared-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(uv_loop_init(&loop), 0);
	struct store *s = open_store();
	/* records made through the API: one in the way of the file, one declared in the file as
	 * the other direction, one left alone */
	struct store_inbound_trunk api = {0}, made;
	assert_int_equal(store_strv_push(&api.numbers, "+15550100"), 0);
	assert_int_equal(store_inbound_trunk_create(s, &api, &made, NULL, NULL), 0);
	struct store_inbound_trunk flip = {.id = "ST_twilio"};
	assert_int_equal(store_strv_push(&flip.numbers, "+15550777"), 0);
	assert_int_equal(store_inbound_trunk_put(s, &flip, NULL, NULL, NULL), 0);
	store_strv_free(&flip.numbers);

	assert_int_equal(load(&cfg, sip_good, err, sizeof(err)), 0);
	/* ST_office and the API trunk share +15550100: refused, nothing written */
	assert_int_equal(sb_declared_apply(s, &cfg.sip, err, sizeof(err)), SB_EINVAL);
	assert_non_null(strstr(err, ":3: sip.inbound_trunks[0]: Conflicting inbound SIP Trunks"));
	assert_non_null(strstr(err, made.id));
	size_t n;
	store_dispatch_rules(s, &n);
	assert_int_equal(n, 0);
	/* the API trunk serves another number now: applied */
	free(api.numbers.v[0]);
	api.numbers.v[0] = strdup("+15550300");
	free(made.numbers.v[0]);
	made.numbers.v[0] = strdup("+15550300");
	assert_int_equal(store_inbound_trunk_replace(s, &made, NULL, NULL, NULL), 0);
	assert_int_equal(sb_declared_apply(s, &cfg.sip, err, sizeof(err)), 0);
	store_inbound_trunks(s, &n);
	assert_int_equal(n, 3);
	struct store_outbound_trunk o;
	assert_int_equal(store_outbound_trunk_get(s, "ST_twilio", &o), 0);
	assert_int_equal(o.transport, STORE_TRANSPORT_TCP);
	store_outbound_trunk_free(&o);
	close_store(s);

	/* a restart with the file changed replaces the records; the API's trunk stays */
	s = open_store();
	const char *changed = "sip:\n"
			      "  inbound_trunks:\n"
			      "    - {id: ST_office, name: office2, numbers: [\"+15550111\"]}\n"
			      "  dispatch_rules:\n"
			      "    - id: SDR_support\n"
			      "      rule: {dispatch_rule_direct: {room_name: elsewhere}}\n";
	assert_int_equal(load(&cfg, changed, err, sizeof(err)), 0);
	struct store_inbound_trunk before;
	assert_int_equal(store_inbound_trunk_get(s, "ST_office", &before), 0);
	assert_int_equal(sb_declared_apply(s, &cfg.sip, err, sizeof(err)), 0);
	struct store_inbound_trunk after;
	assert_int_equal(store_inbound_trunk_get(s, "ST_office", &after), 0);
	assert_string_equal(after.name, "office2");
	assert_string_equal(after.numbers.v[0], "+15550111");
	assert_int_equal(after.created_at_ms, before.created_at_ms);
	store_inbound_trunk_free(&after);
	assert_int_equal(store_inbound_trunk_get(s, made.id, &after), 0);
	store_inbound_trunk_free(&after);
	struct store_dispatch_rule r;
	assert_int_equal(store_dispatch_rule_get(s, "SDR_support", &r), 0);
	assert_int_equal(r.rule.kind, STORE_RULE_DIRECT);
	assert_string_equal(r.rule.room_name, "elsewhere");
	store_dispatch_rule_free(&r);
	/* records no longer declared stay (the file owns only what it declares) */
	assert_int_equal(store_dispatch_rule_get(s, "SDR_direct", &r), 0);
	store_dispatch_rule_free(&r);
	close_store(s);

	store_inbound_trunk_free(&before);
	store_inbound_trunk_free(&api);
	store_inbound_trunk_free(&made);
	sb_config_free(&cfg);
	assert_int_equal(uv_loop_close(&loop), 0);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *kv_get(const struct api_agent_kv *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].key, key))
			return v[i].value;
	return NULL;
}

/* agents: declared by name, defaults, snake and camel keys, fallbacks, replacement */
static void test_agents(void **state)
{
	(void)state;
	const char *text = "agents:\n"
			   "  bot:\n"
			   "    url: ws://127.0.0.1:9000/media?x=1\n"
			   "    protocol: twilio\n"
			   "    headers: {Authorization: Bearer abc, X-Tenant: 42}\n"
			   "    custom_parameters: {lang: fr, tier: 2}\n"
			   "    connect_timeout: 1500ms\n"
			   "    on_failure: echo\n"
			   "    ringback: true\n"
			   "  plain:\n"
			   "    url: wss://agents.example.com\n"
			   "  sorry:\n"
			   "    url: ws://[::1]:8080/x\n"
			   "    customParameters: {a: b}\n"
			   "    connectTimeout: 2\n"
			   "    onFailure: {play: /tmp/sorry.wav}\n"
			   "  nat: {url: \"ws://n/\", protocol: native, rate: 24000}\n"
			   "  sorry2:\n"
			   "    url: ws://h/\n"
			   "    on_failure: \"play: busy.wav\"\n";
	assert_int_equal(load(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.n_agents, 5);
	const struct api_agent_def *a = sb_config_agent(&cfg, "nat");
	assert_non_null(a);
	assert_int_equal(a->protocol, API_AGENT_NATIVE);
	assert_int_equal(a->rate, 24000);
	a = sb_config_agent(&cfg, "bot");
	assert_non_null(a);
	assert_int_equal(a->rate, 0);
	assert_string_equal(a->url, "ws://127.0.0.1:9000/media?x=1");
	assert_int_equal(a->protocol, API_AGENT_TWILIO);
	assert_int_equal(a->n_headers, 2);
	assert_string_equal(kv_get(a->headers, a->n_headers, "Authorization"), "Bearer abc");
	assert_string_equal(kv_get(a->headers, a->n_headers, "X-Tenant"), "42");
	assert_int_equal(a->n_params, 2);
	assert_string_equal(kv_get(a->params, a->n_params, "lang"), "fr");
	assert_string_equal(kv_get(a->params, a->n_params, "tier"), "2");
	assert_int_equal(a->connect_timeout_ms, 1500);
	assert_int_equal(a->on_failure, API_AGENT_FAIL_ECHO);
	assert_true(a->ringback);
	a = sb_config_agent(&cfg, "plain");
	assert_non_null(a);
	assert_int_equal(a->connect_timeout_ms, 0); /* the default, 5 s, applies */
	assert_int_equal(a->on_failure, API_AGENT_FAIL_HANGUP);
	assert_false(a->ringback);
	assert_int_equal(a->n_headers + a->n_params, 0);
	a = sb_config_agent(&cfg, "sorry");
	assert_non_null(a);
	assert_int_equal(a->connect_timeout_ms, 2000);
	assert_int_equal(a->on_failure, API_AGENT_FAIL_PLAY);
	assert_string_equal(a->play_file, "/tmp/sorry.wav");
	assert_string_equal(kv_get(a->params, a->n_params, "a"), "b");
	a = sb_config_agent(&cfg, "sorry2");
	assert_non_null(a);
	assert_int_equal(a->on_failure, API_AGENT_FAIL_PLAY);
	assert_string_equal(a->play_file, "busy.wav");
	assert_null(sb_config_agent(&cfg, "nobody"));
	/* a second file's agents: replace the first's; an empty section keeps them */
	write_file("agents:\n  other: {url: ws://o/}\n");
	assert_int_equal(sb_config_file(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(cfg.n_agents, 1);
	assert_non_null(sb_config_agent(&cfg, "other"));
	write_file("agents:\n");
	assert_int_equal(sb_config_file(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(cfg.n_agents, 1);
	/* a failing section leaves the earlier one whole */
	write_file("agents:\n  x: {url: ws://x/}\n  y: {protocol: twilio}\n");
	assert_int_not_equal(sb_config_file(&cfg, path, err, sizeof(err)), 0);
	unlink(path);
	assert_int_equal(cfg.n_agents, 1);
	assert_non_null(sb_config_agent(&cfg, "other"));
	sb_config_free(&cfg);
	assert_int_equal(cfg.n_agents, 0);
}

static void test_agent_errors(void **state)
{
	(void)state;
	expect_error("agents:\n  bot:\n    protocol: twilio\n", 3,
		     "agents.bot: wants a url (ws://");
	expect_error("agents:\n  bot:\n    url: http://x/\n", 3,
		     "agents.bot.url: 'http://x/' is not a ws:// or wss:// URL");
	expect_error("agents:\n  bot: {url: \"ws://:80/\"}\n", 2, "is not a ws:// or wss:// URL");
	expect_error("agents:\n  bot: {url: \"ws://h:99999/\"}\n", 2, "agents.bot.url");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    protocol: sip\n", 4,
		     "agents.bot.protocol: unknown protocol 'sip' (want twilio or native)");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    protocol: native\n    rate: 44100\n",
		     5, "agents.bot.rate: wants 8000, 16000, 24000 or 48000");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    rate: 8000\n", 3,
		     "agents.bot: rate is for protocol: native");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    on_failure: retry\n", 4,
		     "agents.bot.on_failure: unknown fallback 'retry'");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    on_failure: {play: }\n", 4,
		     "agents.bot.on_failure: wants hangup, echo or {play: FILE.wav}");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    connect_timeout: soon\n", 4,
		     "agents.bot.connect_timeout: wants a duration");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    ringback: maybe\n", 4,
		     "agents.bot.ringback: wants true or false");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    headers: [a]\n", 4,
		     "agents.bot.headers: wants a mapping");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    headers: {\"a b\": c}\n", 4,
		     "agents.bot.headers.a b: not a valid header name");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    headers: {A: \"x\\r\\ny: z\"}\n", 4,
		     "agents.bot.headers.A: a value cannot hold line breaks");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    headers: {A: x, a: y}\n", 4,
		     "agents.bot.headers.a: listed twice");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    custom_parameters: {k: [1]}\n", 4,
		     "agents.bot.custom_parameters.k: wants a string");
	expect_error("agents:\n  \"a b\": {url: ws://h/}\n", 2, "agents.a b: an agent's name is");
	expect_error("agents:\n  bot: {url: ws://h/}\n  bot: {url: ws://i/}\n", 3,
		     "agents.bot: listed twice");
	expect_error("agents:\n  bot: ws://h/\n", 2, "agents.bot: wants {url: ws://..., ");
	expect_error("agents:\n  - bot\n", 2, "agents: wants a mapping");
}

/* agent_close and on_close: hangup, {play: WAV} (read at load), {transfer: URI}, one-string forms,
 * replacement by a later file, errors */
static void test_agent_close(void **state)
{
	(void)state;
	const char *wav = "/tmp/sb-test-config-close.wav";
	int16_t pcm[1600] = {1, 2, 3};
	assert_int_equal(media_wav_save(wav, pcm, 1600, 8000), 0);
	char text[512];
	assert_int_equal(load(&cfg, "log_level: info\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.agent_close.kind, API_AGENT_CLOSE_HANGUP);
	snprintf(text, sizeof(text),
		 "agent_close: {play: %s}\n"
		 "agents:\n"
		 "  a: {url: ws://a/, on_close: {transfer: \"sip:bob@example.com\"}}\n"
		 "  b: {url: ws://b/, on_close: \"play: %s\"}\n"
		 "  c: {url: ws://c/, onClose: hangup}\n"
		 "  d: {url: ws://d/}\n",
		 wav, wav);
	assert_int_equal(load(&cfg, text, err, sizeof(err)), 0);
	assert_int_equal(cfg.agent_close.kind, API_AGENT_CLOSE_PLAY);
	assert_string_equal(cfg.agent_close.file, wav);
	assert_int_equal(cfg.n_agents, 4);
	assert_int_equal(cfg.agents[0].on_close.kind, API_AGENT_CLOSE_TRANSFER);
	assert_string_equal(cfg.agents[0].on_close.target, "sip:bob@example.com");
	assert_int_equal(cfg.agents[1].on_close.kind, API_AGENT_CLOSE_PLAY);
	assert_string_equal(cfg.agents[1].on_close.file, wav);
	assert_int_equal(cfg.agents[2].on_close.kind, API_AGENT_CLOSE_HANGUP);
	assert_int_equal(cfg.agents[3].on_close.kind, API_AGENT_CLOSE_HANGUP);
	/* a later value replaces an earlier one */
	assert_int_equal(load(&cfg,
			      "agent_close: {transfer: \"tel:+15550100\"}\n"
			      "agent_close: \"transfer: sips:desk@example.com\"\n",
			      err, sizeof(err)),
			 0);
	assert_int_equal(cfg.agent_close.kind, API_AGENT_CLOSE_TRANSFER);
	assert_string_equal(cfg.agent_close.target, "sips:desk@example.com");
	assert_int_equal(load(&cfg, "agentClose: hangup\n", err, sizeof(err)), 0);
	assert_int_equal(cfg.agent_close.kind, API_AGENT_CLOSE_HANGUP);
	assert_null(cfg.agent_close.target);
	/* errors */
	expect_error("agent_close: retry\n", 1, "agent_close: unknown action 'retry'");
	expect_error("agent_close: {hold: x}\n", 1, "agent_close: unknown action 'hold'");
	expect_error("agent_close: {play: /nonexistent/x.wav}\n", 1,
		     "agent_close: cannot use /nonexistent/x.wav");
	expect_error("agent_close: {transfer: \"http://x/\"}\n", 1,
		     "agent_close: transfer wants a sip:, sips: or tel: URI");
	expect_error("agent_close: {transfer: \"sip:a b\"}\n", 1, "is not a plain URI");
	expect_error("agent_close: [hangup]\n", 1, "agent_close: wants hangup, {play: FILE.wav}");
	expect_error("agent_close: {play: a, transfer: b}\n", 1, "agent_close: wants hangup");
	expect_error("agent_close:\n", 1, "agent_close: wants hangup");
	expect_error("agents:\n  bot:\n    url: ws://h/\n    on_close: {play: }\n", 4,
		     "agents.bot.on_close: wants hangup");
	assert_int_equal(media_wav_save(wav, pcm, 1600, 11025), 0);
	snprintf(text, sizeof(text), "agent_close: {play: %s}\n", wav);
	expect_error(text, 1, "want 8000, 16000, 24000 or 48000 Hz");
	unlink(wav);
}

/* the built-in say agent: say, voice, then; no url */
static void test_agent_say(void **state)
{
	(void)state;
	assert_int_equal(
	    load(&cfg,
		 "agents:\n"
		 "  greeter: {say: \"Welcome to switchboard\", voice: en, then: hangup}\n"
		 "  host: {say: Hi, then: stay}\n",
		 err, sizeof(err)),
	    0);
	assert_int_equal(cfg.n_agents, 2);
	assert_string_equal(cfg.agents[0].say, "Welcome to switchboard");
	assert_string_equal(cfg.agents[0].voice, "en");
	assert_false(cfg.agents[0].say_stay);
	assert_null(cfg.agents[0].url);
	assert_string_equal(cfg.agents[1].say, "Hi");
	assert_null(cfg.agents[1].voice);
	assert_true(cfg.agents[1].say_stay);
	expect_error("agents:\n  g: {say: Hi, then: later}\n", 2,
		     "agents.g.then: wants hangup or stay");
	expect_error("agents:\n  g: {say: \"\"}\n", 2, "agents.g.say: wants the text to speak");
	expect_error("agents:\n  g: {say: Hi, voice: \"en us\"}\n", 2,
		     "agents.g.voice: 'en us' is not an espeak-ng voice name");
	expect_error("agents:\n  g: {say: Hi, url: ws://h/}\n", 2,
		     "agents.g: url or say, not both");
	expect_error("agents:\n  g: {voice: en}\n", 2, "or say: TEXT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	      cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_flat_keys),	      cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_unknown_keys_warn), cmocka_unit_test(test_flags_override),
	    cmocka_unit_test(test_anchors_and_nulls), cmocka_unit_test(test_hold_registrations),
	    cmocka_unit_test(test_sip_records),	      cmocka_unit_test(test_sip_errors),
	    cmocka_unit_test(test_declared_apply),    cmocka_unit_test(test_agents),
	    cmocka_unit_test(test_agent_errors),      cmocka_unit_test(test_agent_close),
	    cmocka_unit_test(test_agent_say),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
