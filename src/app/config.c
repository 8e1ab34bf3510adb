/* Defaults, config file and flags for struct sb_config. Owns the option table shared by flags
 * and the file, the walk of switchboard.yaml (libyaml document API) and the key resolution. */
#include "app/config.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "api/sip_json.h"
#include "base/compat.h"
#include "base/err.h"
#include "base/log.h"

void sb_config_defaults(struct sb_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->sip_listen, sizeof(c->sip_listen), "127.0.0.1:5060");
	snprintf(c->http_listen, sizeof(c->http_listen), "127.0.0.1:7880");
	snprintf(c->rtp_ports, sizeof(c->rtp_ports), "10000-20000");
	snprintf(c->rtp_ip, sizeof(c->rtp_ip), "127.0.0.1");
	snprintf(c->data_dir, sizeof(c->data_dir), "./data");
	snprintf(c->store_type, sizeof(c->store_type), "sqlite");
	c->call_records = 1;
	c->log_level = SB_LOG_INFO;
	c->dial_duration = 5;
	c->dial_transport = SIP_TP_UDP;
	c->ring_timeout = 30;
	c->hold_for = 2;
	c->register_expires = 3600;
	snprintf(c->codecs, sizeof(c->codecs), "PCMU,PCMA,G722,opus");
	snprintf(c->media_encryption, sizeof(c->media_encryption), "allow");
	c->opus_complexity = 5;
	c->opus_rate = 48000;
	c->room_rate = 16000;
	c->rtp_timeout = 15;
	c->rtp_first_timeout = 30;
	c->room_empty_timeout = 300;
	c->room_departure_timeout = 20;
	c->metrics_enabled = 1;
}

/* ---- the option table: one row per flag name, file keys map onto it ---- */

enum opt_kind {
	OPT_STR,
	OPT_U32,	 /* plain number up to max */
	OPT_SECS,	 /* duration in whole seconds: 30, "30s", "1m30s" */
	OPT_MS,		 /* duration in ms: 500 (a bare number is ms), "500ms", "2s" */
	OPT_BOOL,	 /* stored as 0/1: true/false, yes/no, on/off, 1/0 */
	OPT_PORT,	 /* 0-65535 */
	OPT_RANGE,	 /* "LO-HI" RTP ports */
	OPT_LOG_LEVEL,	 /* error, warn, info, debug, trace */
	OPT_TRANSPORT,	 /* udp, tcp, tls */
	OPT_ENCRYPTION,	 /* disable, allow, require */
	OPT_STORE_TYPE,	 /* sqlite */
	OPT_LISTEN_PORT, /* replaces the port of the HOST:PORT string in field */
};

struct opt {
	const char *name; /* flag spelling; file keys have '_' for '-' */
	enum opt_kind kind;
	size_t off, size;
	uint32_t max; /* OPT_U32, OPT_SECS (seconds), OPT_MS (ms) */
};

#define FIELD(f) offsetof(struct sb_config, f), sizeof(((struct sb_config *)0)->f)
#define OPT(name, kind, f, max)                                                                    \
	{                                                                                          \
		name, kind, FIELD(f), max                                                          \
	}

static const struct opt opts[] = {
    OPT("sip-listen", OPT_STR, sip_listen, 0),
    OPT("sip-port", OPT_LISTEN_PORT, sip_listen, 0), /* livekit-sip */
    OPT("sip-tls-listen", OPT_STR, sip_tls_listen, 0),
    OPT("tls-port", OPT_PORT, sip_tls_port, 0),
    OPT("tls-cert", OPT_STR, tls_cert, 0),
    OPT("tls-key", OPT_STR, tls_key, 0),
    OPT("http-listen", OPT_STR, http_listen, 0),
    OPT("port", OPT_LISTEN_PORT, http_listen, 0), /* livekit-server: the API port */
    OPT("api-key", OPT_STR, api_key, 0),
    OPT("api-secret", OPT_STR, api_secret, 0),
    OPT("rtp-ports", OPT_RANGE, rtp_ports, 0),
    OPT("rtp-port", OPT_RANGE, rtp_ports, 0), /* livekit-sip */
    OPT("rtp-ip", OPT_STR, rtp_ip, 0),
    OPT("data-dir", OPT_STR, data_dir, 0),
    OPT("store-type", OPT_STORE_TYPE, store_type, 0),
    OPT("store-dir", OPT_STR, store_dir, 0),
    OPT("call-records", OPT_BOOL, call_records, 1),
    OPT("log-level", OPT_LOG_LEVEL, log_level, 0),
    OPT("t1", OPT_MS, t1_ms, 60000),
    OPT("t2", OPT_MS, t2_ms, 600000),
    OPT("t4", OPT_MS, t4_ms, 600000),
    OPT("max-calls", OPT_U32, max_calls, 10000000),
    OPT("max-active-calls", OPT_U32, max_calls, 10000000), /* livekit-sip */
    OPT("answer-delay", OPT_MS, answer_delay_ms, 3600000),
    OPT("auth-md5-first", OPT_BOOL, auth_md5_first, 1),
    OPT("metrics-enabled", OPT_BOOL, metrics_enabled, 1),
    OPT("dev", OPT_BOOL, dev, 1),
    OPT("media-encryption", OPT_ENCRYPTION, media_encryption, 0),
    OPT("media-workers", OPT_U32, media_workers, 256),
    OPT("codecs", OPT_STR, codecs, 0),
    OPT("opus-complexity", OPT_U32, opus_complexity, 10),
    OPT("opus-rate", OPT_U32, opus_rate, 48000),
    OPT("room-rate", OPT_U32, room_rate, 48000),
    OPT("rtp-timeout", OPT_SECS, rtp_timeout, 86400),
    OPT("media-timeout", OPT_SECS, rtp_timeout, 86400), /* livekit-sip */
    OPT("rtp-first-timeout", OPT_SECS, rtp_first_timeout, 86400),
    OPT("media-timeout-initial", OPT_SECS, rtp_first_timeout, 86400), /* livekit-sip */
    OPT("room-empty-timeout", OPT_SECS, room_empty_timeout, 86400),
    OPT("room-departure-timeout", OPT_SECS, room_departure_timeout, 86400),
    OPT("duration", OPT_SECS, dial_duration, 86400),
    OPT("transport", OPT_TRANSPORT, dial_transport, 0),
    OPT("proxy", OPT_STR, dial_proxy, 0),
    OPT("auth-user", OPT_STR, dial_user, 0),
    OPT("auth-password", OPT_STR, dial_password, 0),
    OPT("ring-timeout", OPT_SECS, ring_timeout, 3600),
    OPT("refer", OPT_STR, refer_to, 0),
    OPT("hold-after", OPT_SECS, hold_after, 86400),
    OPT("hold-for", OPT_SECS, hold_for, 86400),
    OPT("dtmf", OPT_STR, dtmf, 0),
    OPT("say", OPT_STR, say, 0),
    OPT("hold-local", OPT_BOOL, hold_local, 1),
    OPT("music-on-hold", OPT_STR, music_on_hold, 0),
    OPT("voice", OPT_STR, say_voice, 0),
    OPT("room", OPT_STR, dial_room, 0),
    OPT("register", OPT_STR, register_uri, 0),
    OPT("register-expires", OPT_SECS, register_expires, 86400),
};

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < SB_ARRAY_LEN(opts); i++)
		if (!strcmp(opts[i].name, name))
			return &opts[i];
	return NULL;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	if (*v < '0' || *v > '9')
		return SB_EINVAL; /* strtoull takes signs and spaces */
	char *end;
	errno = 0;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return SB_EINVAL;
	*out = x;
	return 0;
}

/* Go's time.Duration text as livekit's config takes it ("30s", "1m30s", "1.5s", "500ms", "2h"),
 * or a bare number in unit_ms. */
static int parse_duration_ms(const char *v, uint64_t unit_ms, uint64_t *out)
{
	uint64_t n;
	if (!parse_u64(v, UINT64_MAX / 1000 / 3600, &n)) {
		*out = n * unit_ms;
		return 0;
	}
	double total = 0;
	const char *p = v;
	if (!*p)
		return SB_EINVAL;
	while (*p) {
		char num[24];
		size_t len = strspn(p, "0123456789.");
		if (!len || len >= sizeof(num))
			return SB_EINVAL; /* also keeps strtod from exponents, hex, inf */
		memcpy(num, p, len);
		num[len] = '\0';
		char *end;
		errno = 0;
		double x = strtod(num, &end);
		if (errno || *end || x > 1e9)
			return SB_EINVAL;
		p += len;
		double ms;
		if (!strncmp(p, "ms", 2)) {
			ms = 1;
			p += 2;
		} else if (*p == 's') {
			ms = 1000;
			p++;
		} else if (*p == 'm') {
			ms = 60000;
			p++;
		} else if (*p == 'h') {
			ms = 3600000;
			p++;
		} else {
			return SB_EINVAL;
		}
		total += x * ms;
	}
	if (total > 1e15)
		return SB_EINVAL;
	*out = (uint64_t)(total + 0.5);
	return 0;
}

static int parse_bool(const char *v, uint32_t *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < SB_ARRAY_LEN(yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return SB_EINVAL;
}

static int set_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n >= cap)
		return SB_ETOOBIG;
	memcpy(dst, v, n + 1);
	return 0;
}

/* "host:5060" -> "host:PORT" (IPv6 as "[::1]:5060"). */
static int set_listen_port(char *hostport, size_t cap, uint32_t port)
{
	const char *colon = strrchr(hostport, ':');
	if (colon && strchr(hostport, ':') != colon && hostport[0] != '[')
		colon = NULL; /* a bare IPv6 address: no port in it */
	int hl = colon ? (int)(colon - hostport) : (int)strlen(hostport);
	char buf[256];
	int n = snprintf(buf, sizeof(buf), "%.*s:%u", hl, hostport, (unsigned)port);
	if (n < 0 || (size_t)n >= cap || (size_t)n >= sizeof(buf))
		return SB_ETOOBIG;
	memcpy(hostport, buf, (size_t)n + 1);
	return 0;
}

static int parse_range(const char *v)
{
	const char *dash = strchr(v, '-');
	if (!dash || dash == v || dash - v > 5)
		return SB_EINVAL;
	char lo_text[8];
	memcpy(lo_text, v, (size_t)(dash - v));
	lo_text[dash - v] = '\0';
	uint64_t lo, hi;
	if (parse_u64(lo_text, 65535, &lo) || parse_u64(dash + 1, 65535, &hi) || lo < 1024 ||
	    lo >= hi)
		return SB_EINVAL;
	return 0;
}

/* Set one option from its text; on error a reason (without the key) in err. */
static int opt_set(struct sb_config *c, const struct opt *o, const char *v, char *err, size_t cap)
{
	char *field = (char *)c + o->off;
	uint32_t *u32 = (uint32_t *)(void *)field;
	uint64_t n;
	switch (o->kind) {
	case OPT_STR:
		if (set_str(field, o->size, v)) {
			snprintf(err, cap, "value too long (at most %zu bytes)", o->size - 1);
			return SB_EINVAL;
		}
		return 0;
	case OPT_U32:
		if (parse_u64(v, o->max, &n)) {
			snprintf(err, cap, "wants a number from 0 to %u, not '%s'",
				 (unsigned)o->max, v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)n;
		return 0;
	case OPT_SECS:
		if (parse_duration_ms(v, 1000, &n) || n % 1000 || n / 1000 > o->max) {
			snprintf(err, cap,
				 "wants whole seconds up to %u (a number or a duration such as "
				 "\"30s\", \"2m\"), not '%s'",
				 (unsigned)o->max, v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)(n / 1000);
		return 0;
	case OPT_MS:
		if (parse_duration_ms(v, 1, &n) || n > o->max) {
			snprintf(err, cap,
				 "wants milliseconds up to %u (a number or a duration such as "
				 "\"500ms\"), not '%s'",
				 (unsigned)o->max, v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)n;
		return 0;
	case OPT_BOOL:
		if (parse_bool(v, u32)) {
			snprintf(err, cap, "wants true or false, not '%s'", v);
			return SB_EINVAL;
		}
		return 0;
	case OPT_PORT:
		if (parse_u64(v, 65535, &n)) {
			snprintf(err, cap, "wants a port number from 0 to 65535, not '%s'", v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)n;
		return 0;
	case OPT_LISTEN_PORT:
		if (parse_u64(v, 65535, &n)) {
			snprintf(err, cap, "wants a port number from 0 to 65535, not '%s'", v);
			return SB_EINVAL;
		}
		if (set_listen_port(field, o->size, (uint32_t)n)) {
			snprintf(err, cap, "address too long");
			return SB_EINVAL;
		}
		return 0;
	case OPT_RANGE:
		if (parse_range(v) || set_str(field, o->size, v)) {
			snprintf(
			    err, cap,
			    "wants a port range \"LO-HI\" with 1024 <= LO < HI <= 65535, not '%s'",
			    v);
			return SB_EINVAL;
		}
		return 0;
	case OPT_LOG_LEVEL:
		if (sb_log_parse_level(v, &c->log_level)) {
			snprintf(err, cap, "wants error, warn, info, debug or trace, not '%s'", v);
			return SB_EINVAL;
		}
		return 0;
	case OPT_TRANSPORT:
		if (!strcmp(v, "udp"))
			c->dial_transport = SIP_TP_UDP;
		else if (!strcmp(v, "tcp"))
			c->dial_transport = SIP_TP_TCP;
		else if (!strcmp(v, "tls"))
			c->dial_transport = SIP_TP_TLS;
		else {
			snprintf(err, cap, "wants udp, tcp or tls, not '%s'", v);
			return SB_EINVAL;
		}
		return 0;
	case OPT_ENCRYPTION:
		if (strcmp(v, "disable") && strcmp(v, "allow") && strcmp(v, "require")) {
			snprintf(err, cap, "wants disable, allow or require, not '%s'", v);
			return SB_EINVAL;
		}
		return set_str(field, o->size, v);
	case OPT_STORE_TYPE:
		if (strcmp(v, "sqlite")) {
			snprintf(err, cap, "'%s' is not supported (only sqlite so far)", v);
			return SB_EINVAL;
		}
		return set_str(field, o->size, v);
	}
	return SB_EINVAL;
}

/* ---- the YAML file ---- */

struct yctx {
	struct sb_config *c;
	yaml_document_t *doc;
	const char *path;
	char *err;
	size_t cap;
	struct sb_config_sip *sip;   /* the `sip:` section being read */
	struct api_agent_def *agent; /* the `agents:` entry being read */
};

static size_t line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

static int fail(struct yctx *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
    SB_PRINTF(4, 5);
static int fail(struct yctx *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(y->err, y->cap, "%s:%zu: %s: %s", y->path, line_of(n), key, msg);
	return SB_EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* `key:` with nothing, `~` or `null` (plain, not quoted): leave the default. */
static bool is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = scalar(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

static const char *type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	default:
		return "a single value";
	}
}

static void warn_ignored(struct yctx *y, const yaml_node_t *n, const char *key, const char *why)
{
	SB_WARN("config", "%s:%zu: %s: %s", y->path, line_of(n), key, why);
}

/* A scalar value for the option named name (flag spelling), reported as key. */
static int set_scalar(struct yctx *y, const char *name, const char *key, const yaml_node_t *v)
{
	if (is_null(v))
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return fail(y, v, key, "wants a single value, not %s", type_name(v));
	const struct opt *o = find_opt(name);
	char why[200];
	if (o && opt_set(y->c, o, scalar(v), why, sizeof(why)))
		return fail(y, v, key, "%s", why);
	return 0;
}

/* "sip_port" -> "sip-port" into buf; false when it cannot be one of ours. */
static bool norm_key(const yaml_node_t *k, char *buf, size_t cap)
{
	if (k->type != YAML_SCALAR_NODE || k->data.scalar.length >= cap)
		return false;
	memcpy(buf, k->data.scalar.value, k->data.scalar.length + 1);
	for (char *p = buf; *p; p++)
		if (*p == '_')
			*p = '-';
	return true;
}

static int want_mapping(struct yctx *y, const yaml_node_t *v, const char *key)
{
	if (v->type != YAML_MAPPING_NODE)
		return fail(y, v, key, "wants a mapping (key: value lines below it), not %s",
			    type_name(v));
	return 0;
}

#define FOR_PAIRS(map, pair)                                                                       \
	for (yaml_node_pair_t *pair = (map)->data.mapping.pairs.start;                             \
	     pair < (map)->data.mapping.pairs.top; pair++)

#define FOR_ITEMS(seq, item)                                                                       \
	for (yaml_node_item_t *item = (seq)->data.sequence.items.start;                            \
	     item < (seq)->data.sequence.items.top; item++)

static yaml_node_t *node(struct yctx *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

/* Each pair of a nested mapping: its normalized name, the key as written, the nodes. */
typedef int (*section_fn)(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			  yaml_node_t *v);

static int walk_section(struct yctx *y, yaml_node_t *map, const char *prefix, section_fn fn)
{
	FOR_PAIRS(map, p)
	{
		yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
		char name[64], key[160];
		if (k->type != YAML_SCALAR_NODE)
			return fail(y, k, prefix, "keys must be plain names, not %s", type_name(k));
		snprintf(key, sizeof(key), "%s.%s", prefix, scalar(k));
		if (!norm_key(k, name, sizeof(name))) {
			warn_ignored(y, k, key, "unknown key, ignored");
			continue;
		}
		int r = fn(y, name, key, k, v);
		if (r)
			return r;
	}
	return 0;
}

/* keys: {KEY: SECRET, ...} (livekit-server) replaces the key list. */
static int section_keys(struct yctx *y, yaml_node_t *map)
{
	struct sb_config *c = y->c;
	c->n_keys = 0;
	FOR_PAIRS(map, p)
	{
		yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
		if (k->type != YAML_SCALAR_NODE || !*scalar(k))
			return fail(y, k, "keys", "an API key must be a non-empty name");
		char key[200];
		snprintf(key, sizeof(key), "keys.%s", scalar(k));
		if (v->type != YAML_SCALAR_NODE || is_null(v) || !*scalar(v))
			return fail(y, v, key, "wants the key's secret (a string), not %s",
				    is_null(v) ? "nothing" : type_name(v));
		if (sb_config_secret(c, scalar(k)))
			return fail(y, k, key, "listed twice");
		if (c->n_keys == SB_CONFIG_MAX_KEYS)
			return fail(y, k, key, "too many keys (at most %d)", SB_CONFIG_MAX_KEYS);
		struct sb_config_key *e = &c->keys[c->n_keys];
		if (set_str(e->key, sizeof(e->key), scalar(k)))
			return fail(y, k, key, "key name too long (at most %zu bytes)",
				    sizeof(e->key) - 1);
		if (set_str(e->secret, sizeof(e->secret), scalar(v)))
			return fail(y, v, key, "secret too long (at most %zu bytes)",
				    sizeof(e->secret) - 1);
		c->n_keys++;
	}
	return 0;
}

static int webhook_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			yaml_node_t *v)
{
	struct sb_config *c = y->c;
	if (!strcmp(name, "api-key")) {
		if (is_null(v))
			return 0;
		if (v->type != YAML_SCALAR_NODE)
			return fail(y, v, key, "wants a key name, not %s", type_name(v));
		if (set_str(c->webhook.api_key, sizeof(c->webhook.api_key), scalar(v)))
			return fail(y, v, key, "value too long");
		return 0;
	}
	if (!strcmp(name, "urls")) {
		if (is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(y, v, key, "wants a list of URLs, not %s", type_name(v));
		c->webhook.n_urls = 0;
		size_t i = 0;
		FOR_ITEMS(v, it)
		{
			yaml_node_t *u = node(y, *it);
			char ukey[200];
			snprintf(ukey, sizeof(ukey), "%s[%zu]", key, i++);
			if (u->type != YAML_SCALAR_NODE ||
			    (strncmp(scalar(u), "http://", 7) && strncmp(scalar(u), "https://", 8)))
				return fail(y, u, ukey, "wants an http:// or https:// URL");
			if (c->webhook.n_urls == SB_CONFIG_MAX_WEBHOOK_URLS)
				return fail(y, u, ukey, "too many URLs (at most %d)",
					    SB_CONFIG_MAX_WEBHOOK_URLS);
			char *dst = c->webhook.urls[c->webhook.n_urls];
			if (set_str(dst, sizeof(c->webhook.urls[0]), scalar(u)))
				return fail(y, u, ukey, "URL too long");
			c->webhook.n_urls++;
		}
		return 0;
	}
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int logging_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			yaml_node_t *v)
{
	if (!strcmp(name, "level"))
		return set_scalar(y, "log-level", key, v);
	warn_ignored(y, k, key, "not supported, ignored");
	return 0;
}

static int store_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		      yaml_node_t *v)
{
	if (!strcmp(name, "type"))
		return set_scalar(y, "store-type", key, v);
	if (!strcmp(name, "dir"))
		return set_scalar(y, "store-dir", key, v);
	if (!strcmp(name, "call-records"))
		return set_scalar(y, "call-records", key, v);
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int cert_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		     yaml_node_t *v)
{
	if (!strcmp(name, "cert-file"))
		return set_scalar(y, "tls-cert", key, v);
	if (!strcmp(name, "key-file"))
		return set_scalar(y, "tls-key", key, v);
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int tls_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		    yaml_node_t *v)
{
	if (!strcmp(name, "port"))
		return set_scalar(y, "tls-port", key, v);
	if (strcmp(name, "certs")) {
		warn_ignored(y, k, key, "not supported, ignored");
		return 0;
	}
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(y, v, key, "wants a list of {cert_file, key_file}, not %s",
			    type_name(v));
	size_t i = 0;
	FOR_ITEMS(v, it)
	{
		yaml_node_t *e = node(y, *it);
		char ekey[200];
		snprintf(ekey, sizeof(ekey), "%s[%zu]", key, i);
		if (e->type != YAML_MAPPING_NODE)
			return fail(y, e, ekey, "wants {cert_file: FILE, key_file: FILE}, not %s",
				    type_name(e));
		if (i++ > 0) {
			warn_ignored(y, e, ekey, "one certificate is served (no SNI yet), ignored");
			continue;
		}
		y->c->tls_cert[0] = y->c->tls_key[0] = '\0';
		int r = walk_section(y, e, ekey, cert_item);
		if (r)
			return r;
		if (!y->c->tls_cert[0] || !y->c->tls_key[0])
			return fail(y, e, ekey, "wants both cert_file and key_file");
	}
	return 0;
}

static int hold_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		     yaml_node_t *v)
{
	struct sb_config *c = y->c;
	if (!strcmp(name, "local"))
		return set_scalar(y, "hold-local", key, v);
	if (!strcmp(name, "music-on-hold"))
		return set_scalar(y, "music-on-hold", key, v);
	if (!strcmp(name, "local-trunks")) {
		if (is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(y, v, key, "wants a list of trunk ids, not %s", type_name(v));
		c->n_hold_local_trunks = 0;
		size_t i = 0;
		FOR_ITEMS(v, it)
		{
			yaml_node_t *t = node(y, *it);
			char tkey[200];
			snprintf(tkey, sizeof(tkey), "%s[%zu]", key, i++);
			if (t->type != YAML_SCALAR_NODE || strncmp(scalar(t), "ST_", 3))
				return fail(y, t, tkey, "wants a trunk id (ST_...)");
			if (c->n_hold_local_trunks == SB_CONFIG_MAX_HOLD_TRUNKS)
				return fail(y, t, tkey, "too many trunks (at most %d)",
					    SB_CONFIG_MAX_HOLD_TRUNKS);
			if (set_str(c->hold_local_trunks[c->n_hold_local_trunks],
				    sizeof(c->hold_local_trunks[0]), scalar(t)))
				return fail(y, t, tkey, "trunk id too long");
			c->n_hold_local_trunks++;
		}
		return 0;
	}
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

/* registrations: a list of {trunk: ST_..., expires: S}. */
static int section_registrations(struct yctx *y, const char *key, yaml_node_t *v)
{
	struct sb_config *c = y->c;
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(y, v, key, "wants a list of {trunk: ST_..., expires: S}, not %s",
			    type_name(v));
	c->n_registrations = 0;
	size_t i = 0;
	FOR_ITEMS(v, it)
	{
		yaml_node_t *e = node(y, *it);
		char ekey[200];
		snprintf(ekey, sizeof(ekey), "%s[%zu]", key, i++);
		if (e->type != YAML_MAPPING_NODE)
			return fail(y, e, ekey, "wants {trunk: ST_..., expires: S}");
		if (c->n_registrations == SB_CONFIG_MAX_HOLD_TRUNKS)
			return fail(y, e, ekey, "too many registrations (at most %d)",
				    SB_CONFIG_MAX_HOLD_TRUNKS);
		char *trunk = c->registrations[c->n_registrations].trunk;
		uint32_t *expires = &c->registrations[c->n_registrations].expires;
		trunk[0] = 0;
		*expires = 0;
		for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
		     pr < e->data.mapping.pairs.top; pr++) {
			yaml_node_t *pk = node(y, pr->key), *pv = node(y, pr->value);
			char fkey[240];
			snprintf(fkey, sizeof(fkey), "%s.%s", ekey,
				 pk->type == YAML_SCALAR_NODE ? scalar(pk) : "?");
			if (pk->type == YAML_SCALAR_NODE && !strcmp(scalar(pk), "trunk")) {
				if (pv->type != YAML_SCALAR_NODE || strncmp(scalar(pv), "ST_", 3) ||
				    set_str(trunk, sizeof(c->registrations[0].trunk), scalar(pv)))
					return fail(y, pv, fkey,
						    "wants an outbound trunk id (ST_...)");
			} else if (pk->type == YAML_SCALAR_NODE && !strcmp(scalar(pk), "expires")) {
				uint64_t x;
				if (pv->type != YAML_SCALAR_NODE ||
				    parse_u64(scalar(pv), 86400, &x))
					return fail(y, pv, fkey, "wants seconds (at most 86400)");
				*expires = (uint32_t)x;
			} else {
				warn_ignored(y, pk, fkey, "unknown key, ignored");
			}
		}
		if (!trunk[0])
			return fail(y, e, ekey, "trunk is required");
		c->n_registrations++;
	}
	return 0;
}

static int metrics_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			yaml_node_t *v)
{
	if (!strcmp(name, "enabled"))
		return set_scalar(y, "metrics-enabled", key, v);
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int want_section(struct yctx *y, yaml_node_t *v, const char *key, section_fn fn)
{
	if (is_null(v))
		return 0;
	int r = want_mapping(y, v, key);
	return r ? r : walk_section(y, v, key, fn);
}

/* ---- sip: trunks and dispatch rules ----
 * Each entry becomes the JSON object of the matching livekit.SIP Create request and goes
 * through the API's own parser and validator, so the file accepts what the API accepts. */

enum decl_kind { DECL_IN, DECL_OUT, DECL_RULE };

static const struct decl_def {
	const char *snake, *camel; /* the key under sip: */
	const char *wrapper;	   /* the Create request's member, as the parser names it */
	const char *wrapper_camel;
	const char *prefix;
	const char *id_snake, *id_camel; /* the record's own id field, taken as `id` */
} decl_defs[] = {
    [DECL_IN] = {"inbound_trunks", "inboundTrunks", "trunk", "trunk", STORE_TRUNK_PFX,
		 "sip_trunk_id", "sipTrunkId"},
    [DECL_OUT] = {"outbound_trunks", "outboundTrunks", "trunk", "trunk", STORE_TRUNK_PFX,
		  "sip_trunk_id", "sipTrunkId"},
    [DECL_RULE] = {"dispatch_rules", "dispatchRules", "dispatch_rule", "dispatchRule",
		   STORE_RULE_PFX, "sip_dispatch_rule_id", "sipDispatchRuleId"},
};

#define JSON_DEPTH_MAX 32

static bool key_is(const char *k, const char *snake, const char *camel)
{
	return !strcmp(k, snake) || !strcmp(k, camel);
}

/* Enum fields take the short name in the file: `transport: tcp` is SIP_TRANSPORT_TCP. */
static const char *enum_prefix(const char *k)
{
	if (!strcmp(k, "transport"))
		return "SIP_TRANSPORT_";
	if (key_is(k, "media_encryption", "mediaEncryption") || !strcmp(k, "encryption"))
		return "SIP_MEDIA_ENCRYPT_";
	if (key_is(k, "include_headers", "includeHeaders"))
		return "SIP_";
	return NULL;
}

static bool is_duration_key(const char *k)
{
	return key_is(k, "ringing_timeout", "ringingTimeout") ||
	       key_is(k, "max_call_duration", "maxCallDuration") ||
	       key_is(k, "media_timeout", "mediaTimeout");
}

/* How the scalars below a key become JSON. */
enum jmode {
	J_FIELDS,  /* record fields: strings, with enum short names and durations by key */
	J_STRINGS, /* metadata, attributes, headers: the user's strings, verbatim */
	J_TYPED,   /* room_config: numbers as numbers, as the API takes the JSON object */
};

static enum jmode mode_below(enum jmode m, const char *k)
{
	if (m != J_FIELDS)
		return m;
	if (key_is(k, "room_config", "roomConfig"))
		return J_TYPED;
	if (!strcmp(k, "attributes") || !strcmp(k, "headers") || !strcmp(k, "metadata") ||
	    key_is(k, "headers_to_attributes", "headersToAttributes") ||
	    key_is(k, "attributes_to_headers", "attributesToHeaders"))
		return J_STRINGS;
	return J_FIELDS;
}

/* A plain YAML number (core schema, decimal): as a JSON integer or real, else NULL. */
static json_t *number_json(const char *v)
{
	const char *p = v + (*v == '-' || *v == '+');
	if (!*p || strspn(p, "0123456789.eE+-") != strlen(p) || *p < '0' || *p > '9')
		return NULL;
	char *end;
	errno = 0;
	long long i = strtoll(v, &end, 10);
	if (!*end && !errno)
		return json_integer((json_int_t)i);
	errno = 0;
	double d = strtod(v, &end);
	return !*end && !errno ? json_real(d) : NULL;
}

/* A scalar as JSON: plain null/true/false as such, everything else a string; in J_FIELDS
 * under key k, enum short names and config-style durations are spelled the protobuf-JSON
 * way; in J_TYPED, plain numbers are numbers. */
static json_t *scalar_json(const yaml_node_t *n, enum jmode m, const char *k)
{
	const char *v = scalar(n);
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (is_null(n))
			return json_null();
		if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
			return json_true();
		if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
			return json_false();
		json_t *num = m == J_TYPED ? number_json(v) : NULL;
		if (num)
			return num;
	}
	const char *pfx = m == J_FIELDS ? enum_prefix(k) : NULL;
	if (pfx && len > 0 && len < 40 && strncmp(v, "SIP_", 4)) {
		uint64_t num;
		if (!parse_u64(v, 1000, &num))
			return json_integer((json_int_t)num);
		char name[80];
		size_t pl = strlen(pfx);
		memcpy(name, pfx, pl);
		for (size_t i = 0; i <= len; i++)
			name[pl + i] = (char)toupper((unsigned char)v[i]);
		return json_string(name);
	}
	uint64_t ms;
	if (m == J_FIELDS && is_duration_key(k) && !parse_duration_ms(v, 1000, &ms)) {
		char text[48];
		if (ms % 1000)
			snprintf(text, sizeof(text), "%llu.%03llus",
				 (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000));
		else
			snprintf(text, sizeof(text), "%llus", (unsigned long long)(ms / 1000));
		return json_string(text);
	}
	return json_stringn(v, len);
}

/* A YAML node as JSON; key is the path written so far for messages, k the mapping key the
 * node is the value of. */
static int node_json(struct yctx *y, yaml_node_t *n, const char *key, enum jmode m, const char *k,
		     int depth, json_t **out)
{
	*out = NULL;
	if (depth > JSON_DEPTH_MAX)
		return fail(y, n, key, "nested too deeply");
	if (n->type == YAML_SCALAR_NODE) {
		*out = scalar_json(n, m, k);
		return *out ? 0 : fail(y, n, key, "cannot convert (out of memory or not UTF-8)");
	}
	json_t *j = n->type == YAML_SEQUENCE_NODE ? json_array() : json_object();
	if (!j)
		return fail(y, n, key, "out of memory");
	char sub[256];
	int r = 0;
	if (n->type == YAML_SEQUENCE_NODE) {
		size_t i = 0;
		FOR_ITEMS(n, it)
		{
			json_t *x;
			snprintf(sub, sizeof(sub), "%s[%zu]", key, i++);
			if ((r = node_json(y, node(y, *it), sub, m, k, depth + 1, &x)))
				break;
			if (json_array_append_new(j, x)) {
				r = fail(y, n, key, "out of memory");
				break;
			}
		}
	} else {
		FOR_PAIRS(n, p)
		{
			yaml_node_t *kn = node(y, p->key), *vn = node(y, p->value);
			if (kn->type != YAML_SCALAR_NODE) {
				r = fail(y, kn, key, "keys must be plain names, not %s",
					 type_name(kn));
				break;
			}
			const char *name = scalar(kn);
			snprintf(sub, sizeof(sub), "%s.%s", key, name);
			if (json_object_get(j, name)) {
				r = fail(y, kn, sub, "given twice");
				break;
			}
			json_t *x;
			if ((r = node_json(y, vn, sub, mode_below(m, name), name, depth + 1, &x)))
				break;
			if (json_object_set_new(j, name, x)) {
				r = fail(y, kn, sub, "out of memory");
				break;
			}
		}
	}
	if (r)
		json_decref(j);
	else
		*out = j;
	return r;
}

/* "allowedAddresses" -> "allowed_addresses" (n bytes of in). */
static void snake_case(const char *in, size_t n, char *out, size_t cap)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 2 < cap; i++) {
		char ch = in[i];
		if (ch >= 'A' && ch <= 'Z') {
			if (j)
				out[j++] = '_';
			ch = (char)(ch - 'A' + 'a');
		}
		out[j++] = ch;
	}
	out[j] = '\0';
}

/* The value of the mapping m under a key whose snake_case spelling is name, or NULL. */
static yaml_node_t *map_get(struct yctx *y, yaml_node_t *m, const char *name)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	FOR_PAIRS(m, p)
	{
		yaml_node_t *kn = node(y, p->key);
		char s[96];
		if (kn->type != YAML_SCALAR_NODE)
			continue;
		snake_case(scalar(kn), kn->data.scalar.length, s, sizeof(s));
		if (!strcmp(s, name) || !strcmp(scalar(kn), name))
			return node(y, p->value);
	}
	return NULL;
}

/* The parser's message "trunk.allowedAddresses[1]: must be a string" as
 * "FILE:LINE: sip.inbound_trunks[0].allowed_addresses[1]: must be a string", the line that of
 * the field when it can be found under the entry e. */
static int json_fail(struct yctx *y, yaml_node_t *e, const char *entry, const struct decl_def *d,
		     const char *msg)
{
	size_t wl = strlen(d->wrapper_camel);
	const char *s = msg;
	if (!strncmp(s, d->wrapper_camel, wl) && (s[wl] == '.' || s[wl] == ':'))
		s += wl + (s[wl] == '.' ? 1 : 2);
	while (*s == ' ')
		s++;
	/* a leading field path: identifier characters, dots and [N] / ["key"] up to ": " */
	const char *colon = strstr(s, ": ");
	size_t plen = 0;
	if (colon) {
		const char *p = s;
		bool ok = p < colon;
		while (ok && p < colon) {
			if (*p == '"') {
				const char *q = memchr(p + 1, '"', (size_t)(colon - p - 1));
				ok = q != NULL;
				p = q ? q + 1 : p;
			} else {
				ok = isalnum((unsigned char)*p) || strchr("_.[]-", *p);
				p++;
			}
		}
		if (ok)
			plen = (size_t)(colon - s);
	}
	char path[192] = "";
	yaml_node_t *at = e;
	if (plen) {
		/* snake_case outside ["..."], and find the node segment by segment */
		size_t j = 0;
		const char *p = s, *end = s + plen;
		yaml_node_t *cur = e;
		while (p < end && j + 4 < sizeof(path)) {
			if (*p == '.') {
				path[j++] = *p++;
			} else if (*p == '[') {
				const char *q;
				if (p + 2 < end &&
				    p[1] == '"') { /* ["key"]: to the quote before ] */
					q = memchr(p + 2, '"', (size_t)(end - p - 2));
					q = q && q + 1 < end && q[1] == ']' ? q + 1 : NULL;
				} else {
					q = memchr(p, ']', (size_t)(end - p));
				}
				size_t n = q ? (size_t)(q - p + 1) : (size_t)(end - p);
				if (cur && p[1] != '"' && cur->type == YAML_SEQUENCE_NODE) {
					size_t idx = strtoul(p + 1, NULL, 10);
					size_t cnt = (size_t)(cur->data.sequence.items.top -
							      cur->data.sequence.items.start);
					cur = idx < cnt
						  ? node(y, cur->data.sequence.items.start[idx])
						  : NULL;
				} else if (cur && p[1] == '"' && n > 4) {
					char k[96];
					snprintf(k, sizeof(k), "%.*s", (int)(n - 4), p + 2);
					cur = map_get(y, cur, k);
				} else {
					cur = NULL;
				}
				if (cur)
					at = cur;
				if (n > sizeof(path) - j - 1)
					n = sizeof(path) - j - 1;
				memcpy(path + j, p, n);
				j += n;
				p += n;
			} else {
				size_t n = strcspn(p, ".[");
				if (n > (size_t)(end - p))
					n = (size_t)(end - p);
				char seg[96];
				snake_case(p, n, seg, sizeof(seg));
				cur = map_get(y, cur, seg);
				if (cur)
					at = cur;
				j += (size_t)snprintf(path + j, sizeof(path) - j, "%s", seg);
				if (j >= sizeof(path))
					j = sizeof(path) - 1;
				p += n;
			}
		}
		path[j] = '\0';
		s = colon + 2;
	}
	snprintf(y->err, y->cap, "%s:%zu: %s%s%s: %s", y->path, line_of(at), entry, plen ? "." : "",
		 path, s);
	return SB_EINVAL;
}

static void where_set(struct yctx *y, const yaml_node_t *n, const char *entry,
		      struct sb_config_where *w)
{
	snprintf(w->text, sizeof(w->text), "%s:%zu: %s", y->path, line_of(n), entry);
}

void sb_config_sip_free(struct sb_config_sip *s)
{
	for (size_t i = 0; i < s->n_in; i++)
		store_inbound_trunk_free(&s->in[i]);
	for (size_t i = 0; i < s->n_out; i++)
		store_outbound_trunk_free(&s->out[i]);
	for (size_t i = 0; i < s->n_rules; i++)
		store_dispatch_rule_free(&s->rules[i]);
	free(s->in);
	free(s->out);
	free(s->rules);
	free(s->in_where);
	free(s->out_where);
	free(s->rule_where);
	memset(s, 0, sizeof(*s));
}

static void close_free(struct api_agent_close *a)
{
	free(a->file);
	free(a->target);
	memset(a, 0, sizeof(*a));
}

void sb_config_free(struct sb_config *c)
{
	sb_config_sip_free(&c->sip);
	close_free(&c->agent_close);
	sb_config_agents_free(c->agents, c->n_agents);
	c->agents = NULL;
	c->n_agents = 0;
}

/* The id of the record in rec (the first member of every record type). */
static char **rec_id(void *rec)
{
	return (char **)rec;
}

/* Where an id is already declared, or NULL. */
static const char *id_declared(const struct sb_config_sip *s, enum decl_kind kind, const char *id)
{
	if (kind == DECL_RULE) {
		for (size_t i = 0; i < s->n_rules; i++)
			if (!strcmp(s->rules[i].id, id))
				return s->rule_where[i].text;
		return NULL;
	}
	for (size_t i = 0; i < s->n_in; i++)
		if (!strcmp(s->in[i].id, id))
			return s->in_where[i].text;
	for (size_t i = 0; i < s->n_out; i++)
		if (!strcmp(s->out[i].id, id))
			return s->out_where[i].text;
	return NULL;
}

/* The id of an entry: `id` (or the record's own id field), else prefix + the name with
 * characters an id cannot hold turned into '_'. Taken out of the object; *id malloc'd. */
static int entry_id(struct yctx *y, yaml_node_t *e, const char *entry, const struct decl_def *d,
		    json_t *obj, const char *name, char **id)
{
	const char *const fields[] = {"id", d->id_snake, d->id_camel};
	const char *given = NULL, *field = NULL;
	char key[320];
	*id = NULL;
	for (size_t i = 0; i < SB_ARRAY_LEN(fields); i++) {
		json_t *v = json_object_get(obj, fields[i]);
		if (!v || json_is_null(v))
			continue;
		snprintf(key, sizeof(key), "%s.%s", entry, fields[i]);
		yaml_node_t *at = map_get(y, e, fields[i]);
		if (given)
			return fail(y, at ? at : e, key, "the id is given twice (as %s and %s)",
				    field, fields[i]);
		if (!json_is_string(v))
			return fail(y, at ? at : e, key, "must be a string");
		given = json_string_value(v);
		field = fields[i];
	}
	char buf[STORE_ID_MAX + 8];
	if (given) {
		snprintf(key, sizeof(key), "%s.%s", entry, field);
		yaml_node_t *at = map_get(y, e, field);
		if (!store_id_valid(given, d->prefix))
			return fail(y, at ? at : e, key,
				    "'%.80s' is not an id: %s followed by letters, digits, '_' or "
				    "'-', at most %d characters",
				    given, d->prefix, STORE_ID_MAX - 1);
		snprintf(buf, sizeof(buf), "%s", given);
	} else {
		json_t *nv = json_object_get(obj, "name");
		if (nv && !json_is_null(nv) && !json_is_string(nv)) {
			snprintf(key, sizeof(key), "%s.name", entry);
			yaml_node_t *at = map_get(y, e, "name");
			return fail(y, at ? at : e, key, "must be a string");
		}
		if (!name || !*name)
			return fail(y, e, entry, "needs an id (%s...) or a name to derive one from",
				    d->prefix);
		size_t pl = strlen(d->prefix), n = strlen(name);
		if (pl + n >= STORE_ID_MAX)
			return fail(y, e, entry,
				    "the name is too long to derive an id from: give an id");
		memcpy(buf, d->prefix, pl);
		for (size_t i = 0; i <= n; i++) {
			char ch = name[i];
			buf[pl + i] = !ch || isalnum((unsigned char)ch) || ch == '-' ? ch : '_';
		}
	}
	for (size_t i = 0; i < SB_ARRAY_LEN(fields); i++)
		json_object_del(obj, fields[i]);
	if (!(*id = strdup(buf)))
		return fail(y, e, entry, "out of memory");
	return 0;
}

/* Grow the record and where arrays of kind by one zeroed slot; its index in *at. */
static int decl_grow(struct sb_config_sip *s, enum decl_kind kind, size_t *at)
{
	size_t *n = kind == DECL_IN ? &s->n_in : kind == DECL_OUT ? &s->n_out : &s->n_rules;
	size_t size = kind == DECL_IN	 ? sizeof(*s->in)
		      : kind == DECL_OUT ? sizeof(*s->out)
					 : sizeof(*s->rules);
	void **recs = kind == DECL_IN	 ? (void **)&s->in
		      : kind == DECL_OUT ? (void **)&s->out
					 : (void **)&s->rules;
	struct sb_config_where **w = kind == DECL_IN	? &s->in_where
				     : kind == DECL_OUT ? &s->out_where
							: &s->rule_where;
	void *nr = realloc(*recs, (*n + 1) * size);
	if (!nr)
		return SB_ENOMEM;
	*recs = nr;
	struct sb_config_where *nw = realloc(*w, (*n + 1) * sizeof(**w));
	if (!nw)
		return SB_ENOMEM;
	*w = nw;
	memset((char *)nr + *n * size, 0, size);
	memset(&nw[*n], 0, sizeof(nw[*n]));
	*at = (*n)++;
	return 0;
}

/* One entry of sip.KIND: parse, id, uniqueness, conflicts with the entries before it. */
static int decl_entry(struct yctx *y, struct sb_config_sip *s, enum decl_kind kind, yaml_node_t *e,
		      const char *entry)
{
	const struct decl_def *d = &decl_defs[kind];
	if (e->type != YAML_MAPPING_NODE)
		return fail(y, e, entry, "wants a mapping (the fields of a %s), not %s",
			    kind == DECL_RULE ? "dispatch rule" : "trunk", type_name(e));
	json_t *obj = NULL, *req = NULL;
	int r = node_json(y, e, entry, J_FIELDS, "", 0, &obj);
	if (r)
		return r;
	/* the id comes out of the object before the parser sees it (it wants none) */
	json_t *name = json_object_get(obj, "name");
	char *id = NULL;
	char *name_copy = name && json_is_string(name) ? strdup(json_string_value(name)) : NULL;
	r = entry_id(y, e, entry, d, obj, name_copy, &id);
	free(name_copy);
	if (r)
		goto out;
	const char *twin = id_declared(s, kind, id);
	if (twin) {
		r = fail(y, e, entry, "id %s is already declared at %s", id, twin);
		goto out;
	}
	if (!(req = json_object()) || json_object_set(req, d->wrapper, obj)) {
		r = fail(y, e, entry, "out of memory");
		goto out;
	}
	size_t at;
	if (decl_grow(s, kind, &at)) {
		r = fail(y, e, entry, "out of memory");
		goto out;
	}
	char msg[512];
	void *rec = kind == DECL_IN    ? (void *)&s->in[at]
		    : kind == DECL_OUT ? (void *)&s->out[at]
				       : (void *)&s->rules[at];
	if (kind == DECL_IN)
		r = sip_json_parse_create_inbound_trunk(req, &s->in[at], msg, sizeof(msg));
	else if (kind == DECL_OUT)
		r = sip_json_parse_create_outbound_trunk(req, &s->out[at], msg, sizeof(msg));
	else
		r = sip_json_parse_create_dispatch_rule(req, &s->rules[at], msg, sizeof(msg));
	if (!r) {
		free(*rec_id(rec));
		*rec_id(rec) = id;
		id = NULL;
		where_set(y, e, entry,
			  kind == DECL_IN    ? &s->in_where[at]
			  : kind == DECL_OUT ? &s->out_where[at]
					     : &s->rule_where[at]);
		if (kind == DECL_IN)
			r = sip_json_check_inbound_conflicts(&s->in[at], s->in, at, msg,
							     sizeof(msg));
		else if (kind == DECL_RULE)
			r = sip_json_check_rule_conflicts(&s->rules[at], s->rules, at, msg,
							  sizeof(msg));
		if (r) {
			snprintf(y->err, y->cap, "%s:%zu: %s: %s", y->path, line_of(e), entry, msg);
			r = SB_EINVAL;
		}
	} else if (r == SB_ENOMEM) {
		r = fail(y, e, entry, "out of memory");
	} else {
		r = json_fail(y, e, entry, d, msg);
	}
	if (r) { /* the slot holds nothing to keep */
		if (kind == DECL_IN) {
			store_inbound_trunk_free(&s->in[at]);
			s->n_in--;
		} else if (kind == DECL_OUT) {
			store_outbound_trunk_free(&s->out[at]);
			s->n_out--;
		} else {
			store_dispatch_rule_free(&s->rules[at]);
			s->n_rules--;
		}
	}
out:
	free(id);
	json_decref(req);
	json_decref(obj);
	return r;
}

static int sip_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		    yaml_node_t *v)
{
	(void)name;
	const char *raw = scalar(k);
	for (size_t kind = 0; kind < SB_ARRAY_LEN(decl_defs); kind++) {
		const struct decl_def *d = &decl_defs[kind];
		if (!key_is(raw, d->snake, d->camel))
			continue;
		if (is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return fail(y, v, key, "wants a list of %s, not %s",
				    kind == DECL_RULE ? "dispatch rules" : "trunks", type_name(v));
		size_t i = 0;
		FOR_ITEMS(v, it)
		{
			char entry[200];
			snprintf(entry, sizeof(entry), "%s[%zu]", key, i++);
			int r = decl_entry(y, y->sip, (enum decl_kind)kind, node(y, *it), entry);
			if (r)
				return r;
		}
		return 0;
	}
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

/* sip: {inbound_trunks, outbound_trunks, dispatch_rules}: replaces what an earlier file
 * declared, once the whole section is good. */
static int section_sip(struct yctx *y, const char *key, yaml_node_t *v)
{
	if (is_null(v))
		return 0;
	int r = want_mapping(y, v, key);
	if (r)
		return r;
	struct sb_config_sip fresh = {0};
	y->sip = &fresh;
	r = walk_section(y, v, key, sip_item);
	y->sip = NULL;
	if (r) {
		sb_config_sip_free(&fresh);
		return r;
	}
	sb_config_sip_free(&y->c->sip);
	y->c->sip = fresh;
	return 0;
}

/* ---- agents: {NAME: {url, protocol, headers, custom_parameters, ...}} ---- */

static void kv_free(struct api_agent_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

void sb_config_agents_free(struct api_agent_def *agents, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct api_agent_def *a = &agents[i];
		free(a->name);
		free(a->url);
		free(a->play_file);
		kv_free(a->headers, a->n_headers);
		kv_free(a->params, a->n_params);
		close_free(&a->on_close);
		free(a->say);
		free(a->voice);
	}
	free(agents);
}

const struct api_agent_def *sb_config_agent(const struct sb_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_agents; i++)
		if (!strcmp(c->agents[i].name, name))
			return &c->agents[i];
	return NULL;
}

static bool plain_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

/* A string value (a number or a boolean as written) into *dst (malloc'd). */
static int agent_str(struct yctx *y, const char *key, yaml_node_t *v, char **dst)
{
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return fail(y, v, key, "wants a string, not %s",
			    is_null(v) ? "nothing" : type_name(v));
	char *d = strdup(scalar(v));
	if (!d)
		return fail(y, v, key, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

/* headers / custom_parameters: a mapping of names to string values. Header names are HTTP
 * tokens and no value may hold CR or LF (they go into the handshake as they are). */
static int agent_map(struct yctx *y, const char *key, yaml_node_t *v, bool header,
		     struct api_agent_kv **out, size_t *n_out)
{
	if (is_null(v))
		return 0;
	int r = want_mapping(y, v, key);
	if (r)
		return r;
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	struct api_agent_kv *kv = n ? calloc(n, sizeof(*kv)) : NULL;
	if (n && !kv)
		return fail(y, v, key, "out of memory");
	size_t i = 0;
	FOR_PAIRS(v, p)
	{
		yaml_node_t *k = node(y, p->key), *val = node(y, p->value);
		char ekey[300];
		snprintf(ekey, sizeof(ekey), "%s.%s", key,
			 k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
		if (k->type != YAML_SCALAR_NODE || !*scalar(k)) {
			r = fail(y, k, key, "names must be non-empty plain strings");
			goto out;
		}
		if (header &&
		    strcspn(scalar(k), "()<>@,;:\\\"/[]?={} \t\r\n") != strlen(scalar(k))) {
			r = fail(y, k, ekey, "not a valid header name");
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (header ? !strcasecmp(kv[j].key, scalar(k))
				   : !strcmp(kv[j].key, scalar(k))) {
				r = fail(y, k, ekey, "listed twice");
				goto out;
			}
		if ((r = agent_str(y, ekey, val, &kv[i].value)) != 0)
			goto out;
		if (strpbrk(kv[i].value, "\r\n")) {
			free(kv[i].value);
			kv[i].value = NULL;
			r = fail(y, val, ekey, "a value cannot hold line breaks");
			goto out;
		}
		if (!(kv[i].key = strdup(scalar(k)))) {
			r = fail(y, k, ekey, "out of memory");
			goto out;
		}
		i++;
	}
	kv_free(*out, *n_out);
	*out = kv;
	*n_out = i;
	return 0;
out:
	kv_free(kv, i + 1 <= n ? i + 1 : n);
	return r;
}

/* on_failure: hangup | echo | {play: FILE} (or "play: FILE" as one string). */
static int agent_failure(struct yctx *y, const char *key, yaml_node_t *v)
{
	struct api_agent_def *a = y->agent;
	const char *file = NULL;
	yaml_node_t *at = v;
	if (v->type == YAML_MAPPING_NODE) {
		size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
		yaml_node_t *k = n == 1 ? node(y, v->data.mapping.pairs.start->key) : NULL;
		at = n == 1 ? node(y, v->data.mapping.pairs.start->value) : v;
		if (!k || k->type != YAML_SCALAR_NODE || strcmp(scalar(k), "play") ||
		    at->type != YAML_SCALAR_NODE || is_null(at))
			return fail(y, v, key, "wants hangup, echo or {play: FILE.wav}");
		file = scalar(at);
	} else if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		const char *t = scalar(v);
		if (!strcmp(t, "hangup")) {
			a->on_failure = API_AGENT_FAIL_HANGUP;
			return 0;
		}
		if (!strcmp(t, "echo")) {
			a->on_failure = API_AGENT_FAIL_ECHO;
			return 0;
		}
		if (strncmp(t, "play:", 5))
			return fail(y, v, key,
				    "unknown fallback '%s' (want hangup, echo or play: FILE.wav)",
				    t);
		file = t + 5 + strspn(t + 5, " \t");
	} else {
		return fail(y, v, key, "wants hangup, echo or {play: FILE.wav}, not %s",
			    is_null(v) ? "nothing" : type_name(v));
	}
	if (!*file)
		return fail(y, at, key, "play wants a WAV file");
	char *d = strdup(file);
	if (!d)
		return fail(y, at, key, "out of memory");
	free(a->play_file);
	a->play_file = d;
	a->on_failure = API_AGENT_FAIL_PLAY;
	return 0;
}

/* agent_close / on_close: hangup | {play: FILE.wav} | {transfer: sip:...} (or "play: FILE",
 * "transfer: URI" as one string). The WAV is read here so that a bad one fails at start. */
static int parse_close(struct yctx *y, const char *key, yaml_node_t *v, struct api_agent_close *out)
{
	static const char want[] = "wants hangup, {play: FILE.wav} or {transfer: sip:...}";
	const char *kind = NULL, *arg = NULL;
	char kbuf[16];
	yaml_node_t *at = v;
	if (v->type == YAML_MAPPING_NODE) {
		size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
		yaml_node_t *k = n == 1 ? node(y, v->data.mapping.pairs.start->key) : NULL;
		at = n == 1 ? node(y, v->data.mapping.pairs.start->value) : v;
		if (!k || k->type != YAML_SCALAR_NODE || at->type != YAML_SCALAR_NODE ||
		    is_null(at))
			return fail(y, v, key, "%s", want);
		kind = scalar(k);
		arg = scalar(at);
	} else if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		const char *t = scalar(v);
		if (!strcmp(t, "hangup")) {
			close_free(out);
			return 0;
		}
		size_t kl = strcspn(t, ":");
		if (!t[kl] || kl >= sizeof(kbuf))
			return fail(y, v, key, "unknown action '%s' (%s)", t, want + 6);
		snprintf(kbuf, sizeof(kbuf), "%.*s", (int)kl, t);
		kind = kbuf;
		arg = t + kl + 1 + strspn(t + kl + 1, " \t");
	} else {
		return fail(y, v, key, "%s, not %s", want, is_null(v) ? "nothing" : type_name(v));
	}
	struct api_agent_close c = {0};
	if (!strcmp(kind, "play")) {
		if (!*arg)
			return fail(y, at, key, "play wants a WAV file");
		struct media_wav w;
		const char *why = NULL;
		int err = media_wav_load(arg, &w);
		if (err) {
			why = sb_strerror(err);
		} else {
			err = api_agent_close_check_wav(&w, &why);
			media_wav_free(&w);
		}
		if (err)
			return fail(y, at, key, "cannot use %s: %s", arg, why);
		c.kind = API_AGENT_CLOSE_PLAY;
		c.file = strdup(arg);
		if (!c.file)
			return fail(y, at, key, "out of memory");
	} else if (!strcmp(kind, "transfer")) {
		if (strncasecmp(arg, "sip:", 4) && strncasecmp(arg, "sips:", 5) &&
		    strncasecmp(arg, "tel:", 4))
			return fail(y, at, key,
				    "transfer wants a sip:, sips: or tel: URI, not '%s'", arg);
		if (strpbrk(arg, " \t\r\n<>\""))
			return fail(y, at, key, "transfer: '%s' is not a plain URI", arg);
		c.kind = API_AGENT_CLOSE_TRANSFER;
		c.target = strdup(arg);
		if (!c.target)
			return fail(y, at, key, "out of memory");
	} else {
		return fail(y, v, key, "unknown action '%s' (%s)", kind, want + 6);
	}
	close_free(out);
	*out = c;
	return 0;
}

static int agent_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		      yaml_node_t *v)
{
	struct api_agent_def *a = y->agent;
	const char *raw = scalar(k);
	if (!strcmp(name, "url")) {
		int r = agent_str(y, key, v, &a->url);
		struct api_agent_url u;
		if (!r && api_agent_url_parse(a->url, &u))
			r = fail(y, v, key, "'%s' is not a ws:// or wss:// URL", a->url);
		return r;
	}
	if (!strcmp(name, "protocol")) {
		if (v->type != YAML_SCALAR_NODE || is_null(v))
			return fail(y, v, key, "wants twilio or native");
		if (!strcmp(scalar(v), "twilio")) {
			a->protocol = API_AGENT_TWILIO;
			return 0;
		}
		if (!strcmp(scalar(v), "native")) {
			a->protocol = API_AGENT_NATIVE;
			return 0;
		}
		return fail(y, v, key, "unknown protocol '%s' (want twilio or native)", scalar(v));
	}
	if (!strcmp(name, "rate")) {
		uint64_t r;
		if (v->type != YAML_SCALAR_NODE || is_null(v) || parse_u64(scalar(v), 48000, &r) ||
		    (r != 8000 && r != 16000 && r != 24000 && r != 48000))
			return fail(y, v, key, "wants 8000, 16000, 24000 or 48000 (Hz)");
		a->rate = (uint32_t)r;
		return 0;
	}
	if (!strcmp(name, "headers"))
		return agent_map(y, key, v, true, &a->headers, &a->n_headers);
	if (key_is(raw, "custom_parameters", "customParameters"))
		return agent_map(y, key, v, false, &a->params, &a->n_params);
	if (key_is(raw, "connect_timeout", "connectTimeout")) {
		uint64_t ms;
		if (v->type != YAML_SCALAR_NODE || is_null(v) ||
		    parse_duration_ms(scalar(v), 1000, &ms) || ms == 0 || ms > 600000)
			return fail(y, v, key, "wants a duration from 1ms to 10m (5s, 500ms, 2)");
		a->connect_timeout_ms = (uint32_t)ms;
		return 0;
	}
	if (key_is(raw, "on_failure", "onFailure"))
		return agent_failure(y, key, v);
	if (key_is(raw, "on_close", "onClose"))
		return parse_close(y, key, v, &a->on_close);
	if (!strcmp(name, "say")) {
		int r = agent_str(y, key, v, &a->say);
		if (!r && !*a->say)
			r = fail(y, v, key, "wants the text to speak");
		return r;
	}
	if (!strcmp(name, "voice")) {
		int r = agent_str(y, key, v, &a->voice);
		if (!r && (!plain_name(a->voice) || strlen(a->voice) > 40))
			r = fail(y, v, key,
				 "'%s' is not an espeak-ng voice name (en, en-us, de ...)",
				 a->voice);
		return r;
	}
	if (!strcmp(name, "then")) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "hangup")) {
			a->say_stay = false;
			return 0;
		}
		if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "stay")) {
			a->say_stay = true;
			return 0;
		}
		return fail(y, v, key, "wants hangup or stay");
	}
	if (!strcmp(name, "ringback")) {
		uint32_t b;
		if (v->type != YAML_SCALAR_NODE || is_null(v) || parse_bool(scalar(v), &b))
			return fail(y, v, key, "wants true or false");
		a->ringback = b != 0;
		return 0;
	}
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

/* agents: replaces what an earlier file declared, once the whole section is good. */
static int section_agents(struct yctx *y, const char *key, yaml_node_t *v)
{
	if (is_null(v))
		return 0;
	int r = want_mapping(y, v, key);
	if (r)
		return r;
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start), got = 0;
	struct api_agent_def *list = n ? calloc(n, sizeof(*list)) : NULL;
	if (n && !list)
		return fail(y, v, key, "out of memory");
	FOR_PAIRS(v, p)
	{
		yaml_node_t *k = node(y, p->key), *e = node(y, p->value);
		char ekey[200];
		snprintf(ekey, sizeof(ekey), "%s.%s", key,
			 k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
		if (k->type != YAML_SCALAR_NODE || !plain_name(scalar(k)) ||
		    strlen(scalar(k)) >= API_AGENT_NAME_MAX) {
			r = fail(y, k, ekey,
				 "an agent's name is letters, digits, - _ . (at most %d)",
				 API_AGENT_NAME_MAX - 1);
			goto out;
		}
		for (size_t i = 0; i < got; i++)
			if (!strcmp(list[i].name, scalar(k))) {
				r = fail(y, k, ekey, "listed twice");
				goto out;
			}
		struct api_agent_def *a = &list[got++];
		if (!(a->name = strdup(scalar(k)))) {
			r = fail(y, k, ekey, "out of memory");
			goto out;
		}
		if (e->type != YAML_MAPPING_NODE) {
			r = fail(y, e, ekey, "wants {url: ws://..., protocol: twilio, ...}, not %s",
				 is_null(e) ? "nothing" : type_name(e));
			goto out;
		}
		y->agent = a;
		r = walk_section(y, e, ekey, agent_item);
		y->agent = NULL;
		if (r)
			goto out;
		if (!a->url && !a->say) {
			r = fail(y, e, ekey,
				 "wants a url (ws://HOST:PORT/PATH or wss://...) or say: TEXT");
			goto out;
		}
		if (a->url && a->say) {
			r = fail(y, e, ekey, "url or say, not both");
			goto out;
		}
		if (a->rate && a->protocol != API_AGENT_NATIVE) {
			r = fail(y, e, ekey,
				 "rate is for protocol: native (Twilio streams are 8 kHz)");
			goto out;
		}
	}
	sb_config_agents_free(y->c->agents, y->c->n_agents);
	y->c->agents = list;
	y->c->n_agents = got;
	return 0;
out:
	sb_config_agents_free(list, got);
	return r;
}

/* One top-level pair. Ports applied to HOST:PORT strings wait for the second pass, so
 * `sip_port` works wherever it stands relative to `sip_listen`. */
static int top_item(struct yctx *y, yaml_node_t *k, yaml_node_t *v, bool ports_pass)
{
	char name[64];
	const char *key = scalar(k);
	const struct opt *o = norm_key(k, name, sizeof(name)) ? find_opt(name) : NULL;
	bool port = o && o->kind == OPT_LISTEN_PORT;
	if (ports_pass || port)
		return ports_pass && port ? set_scalar(y, name, key, v) : 0;
	if (o)
		return set_scalar(y, name, key, v);
	if (!strcmp(name, "keys")) {
		if (is_null(v))
			return 0;
		int r = want_mapping(y, v, key);
		return r ? r : section_keys(y, v);
	}
	if (!strcmp(name, "webhook"))
		return want_section(y, v, key, webhook_item);
	if (!strcmp(name, "logging"))
		return want_section(y, v, key, logging_item);
	if (!strcmp(name, "store"))
		return want_section(y, v, key, store_item);
	if (!strcmp(name, "tls"))
		return want_section(y, v, key, tls_item);
	if (!strcmp(name, "metrics"))
		return want_section(y, v, key, metrics_item);
	if (!strcmp(name, "hold"))
		return want_section(y, v, key, hold_item);
	if (!strcmp(name, "registrations"))
		return section_registrations(y, key, v);
	if (!strcmp(name, "sip"))
		return section_sip(y, key, v);
	if (!strcmp(name, "inbound-trunks") || !strcmp(name, "outbound-trunks") ||
	    !strcmp(name, "dispatch-rules")) {
		warn_ignored(y, k, key, "belongs under sip:, ignored");
		return 0;
	}
	if (!strcmp(name, "agents"))
		return section_agents(y, key, v);
	if (key_is(key, "agent_close", "agentClose"))
		return parse_close(y, key, v, &y->c->agent_close);
	if (!strcmp(name, "trunks")) {
		warn_ignored(y, k, key, "not read from the file yet, ignored (use the API)");
		return 0;
	}
	warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int walk(struct yctx *y)
{
	yaml_node_t *root = yaml_document_get_root_node(y->doc);
	if (!root || is_null(root))
		return 0; /* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(y->err, y->cap, "%s:%zu: the file must be a mapping of keys, not %s",
			 y->path, line_of(root), type_name(root));
		return SB_EINVAL;
	}
	for (int pass = 0; pass < 2; pass++)
		FOR_PAIRS(root, p)
		{
			yaml_node_t *k = node(y, p->key), *v = node(y, p->value);
			if (k->type != YAML_SCALAR_NODE) {
				snprintf(y->err, y->cap, "%s:%zu: keys must be plain names, not %s",
					 y->path, line_of(k), type_name(k));
				return SB_EINVAL;
			}
			int r = top_item(y, k, v, pass == 1);
			if (r)
				return r;
		}
	return 0;
}

int sb_config_file(struct sb_config *c, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, cap, "cannot open config %s: %s", path, strerror(errno));
		return SB_EIO;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = 0;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, cap, "%s: out of memory", path);
		return SB_ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, cap, "%s:%zu:%zu: YAML syntax: %s%s%s", path,
			 parser.problem_mark.line + 1, parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "cannot parse",
			 parser.context ? ", " : "", parser.context ? parser.context : "");
		rc = parser.error == YAML_MEMORY_ERROR ? SB_ENOMEM : SB_EINVAL;
		goto out;
	}
	struct yctx y = {.c = c, .doc = &doc, .path = path, .err = err, .cap = cap};
	rc = walk(&y);
	yaml_document_delete(&doc);
out:
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* ---- keys ---- */

const char *sb_config_secret(const struct sb_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (!strcmp(c->keys[i].key, key))
			return c->keys[i].secret;
	return NULL;
}

static size_t key_index(const struct sb_config *c, const char *key)
{
	for (size_t i = 0; i < c->n_keys; i++)
		if (!strcmp(c->keys[i].key, key))
			return i;
	return c->n_keys;
}

static int add_key(struct sb_config *c, const char *key, const char *secret)
{
	if (c->n_keys == SB_CONFIG_MAX_KEYS)
		return SB_ETOOBIG;
	struct sb_config_key *e = &c->keys[c->n_keys++];
	snprintf(e->key, sizeof(e->key), "%s", key);
	snprintf(e->secret, sizeof(e->secret), "%s", secret);
	return 0;
}

int sb_config_finish(struct sb_config *c, char *err, size_t cap)
{
	c->key_primary = 0;
	if (c->api_key[0] || c->api_secret[0]) {
		const char *key = c->api_key;
		if (!key[0]) {
			if (c->n_keys > 1) {
				snprintf(err, cap,
					 "api_secret without api_key, but there are %zu keys: say "
					 "which one",
					 c->n_keys);
				return SB_EINVAL;
			}
			key = c->n_keys ? c->keys[0].key : "devkey";
		}
		size_t i = key_index(c, key);
		if (i == c->n_keys) {
			if (!c->api_secret[0]) {
				snprintf(err, cap,
					 "API key '%s' has no secret (give api_secret, or list it "
					 "under keys:)",
					 key);
				return SB_EINVAL;
			}
			if (add_key(c, key, c->api_secret)) {
				snprintf(err, cap, "too many API keys (at most %d)",
					 SB_CONFIG_MAX_KEYS);
				return SB_EINVAL;
			}
		} else if (c->api_secret[0]) {
			snprintf(c->keys[i].secret, sizeof(c->keys[i].secret), "%s", c->api_secret);
		}
		c->key_primary = i;
	} else if (!c->n_keys) {
		add_key(c, "devkey", "secret"); /* dev mode */
	}
	if (c->webhook.api_key[0]) {
		if (!sb_config_secret(c, c->webhook.api_key)) {
			snprintf(err, cap, "webhook.api_key '%s' is not one of the API keys",
				 c->webhook.api_key);
			return SB_EINVAL;
		}
	} else if (c->webhook.n_urls) {
		snprintf(c->webhook.api_key, sizeof(c->webhook.api_key), "%s",
			 c->keys[c->key_primary].key);
	}
	return 0;
}

/* ---- flags ---- */

int sb_config_args(struct sb_config *c, int argc, char **argv, char *err, size_t cap)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc) {
				snprintf(err, cap, "--config needs a file");
				return SB_EINVAL;
			}
			int r = sb_config_file(c, argv[i + 1], err, cap);
			if (r)
				return r;
		}
	}
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "--", 2)) {
			snprintf(err, cap, "unexpected argument '%s'", a);
			return SB_EINVAL;
		}
		const char *key = a + 2;
		char kbuf[64];
		const char *val = NULL;
		const char *eq = strchr(key, '=');
		if (eq) {
			snprintf(kbuf, sizeof(kbuf), "%.*s", (int)(eq - key), key);
			key = kbuf;
			val = eq + 1;
		} else {
			if (i + 1 >= argc) {
				snprintf(err, cap, "%s needs a value", a);
				return SB_EINVAL;
			}
			val = argv[++i];
		}
		if (!strcmp(key, "config"))
			continue;
		const struct opt *o = find_opt(key);
		if (!o) {
			snprintf(err, cap, "unknown option '--%s'", key);
			return SB_ENOTFOUND;
		}
		char why[200];
		if (opt_set(c, o, val, why, sizeof(why))) {
			snprintf(err, cap, "--%s: %s", key, why);
			return SB_EINVAL;
		}
	}
	return sb_config_finish(c, err, cap);
}
