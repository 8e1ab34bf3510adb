/* Defaults, config file and flags for struct sb_config. Owns the option table shared by flags
 * and the file, the walk of switchboard.yaml (libyaml document API) and the key resolution. */
#include "app/config.h"
#include "app/config_int.h"

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
	c->rtp_uring = 1;
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
    OPT("rtp-uring", OPT_BOOL, rtp_uring, 1),
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

int config__parse_u64(const char *v, uint64_t max, uint64_t *out)
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
int config__parse_duration_ms(const char *v, uint64_t unit_ms, uint64_t *out)
{
	uint64_t n;
	if (!config__parse_u64(v, UINT64_MAX / 1000 / 3600, &n)) {
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

int config__parse_bool(const char *v, uint32_t *out)
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
	if (config__parse_u64(lo_text, 65535, &lo) || config__parse_u64(dash + 1, 65535, &hi) ||
	    lo < 1024 || lo >= hi)
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
		if (config__parse_u64(v, o->max, &n)) {
			snprintf(err, cap, "wants a number from 0 to %u, not '%s'",
				 (unsigned)o->max, v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)n;
		return 0;
	case OPT_SECS:
		if (config__parse_duration_ms(v, 1000, &n) || n % 1000 || n / 1000 > o->max) {
			snprintf(err, cap,
				 "wants whole seconds up to %u (a number or a duration such as "
				 "\"30s\", \"2m\"), not '%s'",
				 (unsigned)o->max, v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)(n / 1000);
		return 0;
	case OPT_MS:
		if (config__parse_duration_ms(v, 1, &n) || n > o->max) {
			snprintf(err, cap,
				 "wants milliseconds up to %u (a number or a duration such as "
				 "\"500ms\"), not '%s'",
				 (unsigned)o->max, v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)n;
		return 0;
	case OPT_BOOL:
		if (config__parse_bool(v, u32)) {
			snprintf(err, cap, "wants true or false, not '%s'", v);
			return SB_EINVAL;
		}
		return 0;
	case OPT_PORT:
		if (config__parse_u64(v, 65535, &n)) {
			snprintf(err, cap, "wants a port number from 0 to 65535, not '%s'", v);
			return SB_EINVAL;
		}
		*u32 = (uint32_t)n;
		return 0;
	case OPT_LISTEN_PORT:
		if (config__parse_u64(v, 65535, &n)) {
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

size_t config__line_of(const yaml_node_t *n)
{
	return n->start_mark.line + 1;
}

int config__fail(struct yctx *y, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(y->err, y->cap, "%s:%zu: %s: %s", y->path, config__line_of(n), key, msg);
	return SB_EINVAL;
}

const char *config__scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* `key:` with nothing, `~` or `null` (plain, not quoted): leave the default. */
bool config__is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *v = config__scalar(n);
	return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

const char *config__type_name(const yaml_node_t *n)
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

void config__warn_ignored(struct yctx *y, const yaml_node_t *n, const char *key, const char *why)
{
	SB_WARN("config", "%s:%zu: %s: %s", y->path, config__line_of(n), key, why);
}

/* A scalar value for the option named name (flag spelling), reported as key. */
static int set_scalar(struct yctx *y, const char *name, const char *key, const yaml_node_t *v)
{
	if (config__is_null(v))
		return 0;
	if (v->type != YAML_SCALAR_NODE)
		return config__fail(y, v, key, "wants a single value, not %s",
				    config__type_name(v));
	const struct opt *o = find_opt(name);
	char why[200];
	if (o && opt_set(y->c, o, config__scalar(v), why, sizeof(why)))
		return config__fail(y, v, key, "%s", why);
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

int config__want_mapping(struct yctx *y, const yaml_node_t *v, const char *key)
{
	if (v->type != YAML_MAPPING_NODE)
		return config__fail(y, v, key,
				    "wants a mapping (key: value lines below it), not %s",
				    config__type_name(v));
	return 0;
}

yaml_node_t *config__node(struct yctx *y, int id)
{
	return yaml_document_get_node(y->doc, id);
}

/* Each pair of a nested mapping: its normalized name, the key as written, the nodes. */

int config__walk_section(struct yctx *y, yaml_node_t *map, const char *prefix, section_fn fn)
{
	FOR_PAIRS(map, p)
	{
		yaml_node_t *k = config__node(y, p->key), *v = config__node(y, p->value);
		char name[64], key[160];
		if (k->type != YAML_SCALAR_NODE)
			return config__fail(y, k, prefix, "keys must be plain names, not %s",
					    config__type_name(k));
		snprintf(key, sizeof(key), "%s.%s", prefix, config__scalar(k));
		if (!norm_key(k, name, sizeof(name))) {
			config__warn_ignored(y, k, key, "unknown key, ignored");
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
		yaml_node_t *k = config__node(y, p->key), *v = config__node(y, p->value);
		if (k->type != YAML_SCALAR_NODE || !*config__scalar(k))
			return config__fail(y, k, "keys", "an API key must be a non-empty name");
		char key[200];
		snprintf(key, sizeof(key), "keys.%s", config__scalar(k));
		if (v->type != YAML_SCALAR_NODE || config__is_null(v) || !*config__scalar(v))
			return config__fail(y, v, key, "wants the key's secret (a string), not %s",
					    config__is_null(v) ? "nothing" : config__type_name(v));
		if (sb_config_secret(c, config__scalar(k)))
			return config__fail(y, k, key, "listed twice");
		if (c->n_keys == SB_CONFIG_MAX_KEYS)
			return config__fail(y, k, key, "too many keys (at most %d)",
					    SB_CONFIG_MAX_KEYS);
		struct sb_config_key *e = &c->keys[c->n_keys];
		if (set_str(e->key, sizeof(e->key), config__scalar(k)))
			return config__fail(y, k, key, "key name too long (at most %zu bytes)",
					    sizeof(e->key) - 1);
		if (set_str(e->secret, sizeof(e->secret), config__scalar(v)))
			return config__fail(y, v, key, "secret too long (at most %zu bytes)",
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
		if (config__is_null(v))
			return 0;
		if (v->type != YAML_SCALAR_NODE)
			return config__fail(y, v, key, "wants a key name, not %s",
					    config__type_name(v));
		if (set_str(c->webhook.api_key, sizeof(c->webhook.api_key), config__scalar(v)))
			return config__fail(y, v, key, "value too long");
		return 0;
	}
	if (!strcmp(name, "urls")) {
		if (config__is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return config__fail(y, v, key, "wants a list of URLs, not %s",
					    config__type_name(v));
		c->webhook.n_urls = 0;
		size_t i = 0;
		FOR_ITEMS(v, it)
		{
			yaml_node_t *u = config__node(y, *it);
			char ukey[200];
			snprintf(ukey, sizeof(ukey), "%s[%zu]", key, i++);
			if (u->type != YAML_SCALAR_NODE ||
			    (strncmp(config__scalar(u), "http://", 7) &&
			     strncmp(config__scalar(u), "https://", 8)))
				return config__fail(y, u, ukey, "wants an http:// or https:// URL");
			if (c->webhook.n_urls == SB_CONFIG_MAX_WEBHOOK_URLS)
				return config__fail(y, u, ukey, "too many URLs (at most %d)",
						    SB_CONFIG_MAX_WEBHOOK_URLS);
			char *dst = c->webhook.urls[c->webhook.n_urls];
			if (set_str(dst, sizeof(c->webhook.urls[0]), config__scalar(u)))
				return config__fail(y, u, ukey, "URL too long");
			c->webhook.n_urls++;
		}
		return 0;
	}
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int logging_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			yaml_node_t *v)
{
	if (!strcmp(name, "level"))
		return set_scalar(y, "log-level", key, v);
	config__warn_ignored(y, k, key, "not supported, ignored");
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
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int cert_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		     yaml_node_t *v)
{
	if (!strcmp(name, "cert-file"))
		return set_scalar(y, "tls-cert", key, v);
	if (!strcmp(name, "key-file"))
		return set_scalar(y, "tls-key", key, v);
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int tls_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		    yaml_node_t *v)
{
	if (!strcmp(name, "port"))
		return set_scalar(y, "tls-port", key, v);
	if (strcmp(name, "certs")) {
		config__warn_ignored(y, k, key, "not supported, ignored");
		return 0;
	}
	if (config__is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return config__fail(y, v, key, "wants a list of {cert_file, key_file}, not %s",
				    config__type_name(v));
	size_t i = 0;
	FOR_ITEMS(v, it)
	{
		yaml_node_t *e = config__node(y, *it);
		char ekey[200];
		snprintf(ekey, sizeof(ekey), "%s[%zu]", key, i);
		if (e->type != YAML_MAPPING_NODE)
			return config__fail(y, e, ekey,
					    "wants {cert_file: FILE, key_file: FILE}, not %s",
					    config__type_name(e));
		if (i++ > 0) {
			config__warn_ignored(y, e, ekey,
					     "one certificate is served (no SNI yet), ignored");
			continue;
		}
		y->c->tls_cert[0] = y->c->tls_key[0] = '\0';
		int r = config__walk_section(y, e, ekey, cert_item);
		if (r)
			return r;
		if (!y->c->tls_cert[0] || !y->c->tls_key[0])
			return config__fail(y, e, ekey, "wants both cert_file and key_file");
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
		if (config__is_null(v))
			return 0;
		if (v->type != YAML_SEQUENCE_NODE)
			return config__fail(y, v, key, "wants a list of trunk ids, not %s",
					    config__type_name(v));
		c->n_hold_local_trunks = 0;
		size_t i = 0;
		FOR_ITEMS(v, it)
		{
			yaml_node_t *t = config__node(y, *it);
			char tkey[200];
			snprintf(tkey, sizeof(tkey), "%s[%zu]", key, i++);
			if (t->type != YAML_SCALAR_NODE || strncmp(config__scalar(t), "ST_", 3))
				return config__fail(y, t, tkey, "wants a trunk id (ST_...)");
			if (c->n_hold_local_trunks == SB_CONFIG_MAX_HOLD_TRUNKS)
				return config__fail(y, t, tkey, "too many trunks (at most %d)",
						    SB_CONFIG_MAX_HOLD_TRUNKS);
			if (set_str(c->hold_local_trunks[c->n_hold_local_trunks],
				    sizeof(c->hold_local_trunks[0]), config__scalar(t)))
				return config__fail(y, t, tkey, "trunk id too long");
			c->n_hold_local_trunks++;
		}
		return 0;
	}
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

/* registrations: a list of {trunk: ST_..., expires: S}. */
static int section_registrations(struct yctx *y, const char *key, yaml_node_t *v)
{
	struct sb_config *c = y->c;
	if (config__is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return config__fail(y, v, key,
				    "wants a list of {trunk: ST_..., expires: S}, not %s",
				    config__type_name(v));
	c->n_registrations = 0;
	size_t i = 0;
	FOR_ITEMS(v, it)
	{
		yaml_node_t *e = config__node(y, *it);
		char ekey[200];
		snprintf(ekey, sizeof(ekey), "%s[%zu]", key, i++);
		if (e->type != YAML_MAPPING_NODE)
			return config__fail(y, e, ekey, "wants {trunk: ST_..., expires: S}");
		if (c->n_registrations == SB_CONFIG_MAX_HOLD_TRUNKS)
			return config__fail(y, e, ekey, "too many registrations (at most %d)",
					    SB_CONFIG_MAX_HOLD_TRUNKS);
		char *trunk = c->registrations[c->n_registrations].trunk;
		uint32_t *expires = &c->registrations[c->n_registrations].expires;
		trunk[0] = 0;
		*expires = 0;
		for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
		     pr < e->data.mapping.pairs.top; pr++) {
			yaml_node_t *pk = config__node(y, pr->key),
				    *pv = config__node(y, pr->value);
			char fkey[240];
			snprintf(fkey, sizeof(fkey), "%s.%s", ekey,
				 pk->type == YAML_SCALAR_NODE ? config__scalar(pk) : "?");
			if (pk->type == YAML_SCALAR_NODE && !strcmp(config__scalar(pk), "trunk")) {
				if (pv->type != YAML_SCALAR_NODE ||
				    strncmp(config__scalar(pv), "ST_", 3) ||
				    set_str(trunk, sizeof(c->registrations[0].trunk),
					    config__scalar(pv)))
					return config__fail(y, pv, fkey,
							    "wants an outbound trunk id (ST_...)");
			} else if (pk->type == YAML_SCALAR_NODE &&
				   !strcmp(config__scalar(pk), "expires")) {
				uint64_t x;
				if (pv->type != YAML_SCALAR_NODE ||
				    config__parse_u64(config__scalar(pv), 86400, &x))
					return config__fail(y, pv, fkey,
							    "wants seconds (at most 86400)");
				*expires = (uint32_t)x;
			} else {
				config__warn_ignored(y, pk, fkey, "unknown key, ignored");
			}
		}
		if (!trunk[0])
			return config__fail(y, e, ekey, "trunk is required");
		c->n_registrations++;
	}
	return 0;
}

static int metrics_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
			yaml_node_t *v)
{
	if (!strcmp(name, "enabled"))
		return set_scalar(y, "metrics-enabled", key, v);
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int want_section(struct yctx *y, yaml_node_t *v, const char *key, section_fn fn)
{
	if (config__is_null(v))
		return 0;
	int r = config__want_mapping(y, v, key);
	return r ? r : config__walk_section(y, v, key, fn);
}

/* One top-level pair. Ports applied to HOST:PORT strings wait for the second pass, so
 * `sip_port` works wherever it stands relative to `sip_listen`. */
static int top_item(struct yctx *y, yaml_node_t *k, yaml_node_t *v, bool ports_pass)
{
	char name[64];
	const char *key = config__scalar(k);
	const struct opt *o = norm_key(k, name, sizeof(name)) ? find_opt(name) : NULL;
	bool port = o && o->kind == OPT_LISTEN_PORT;
	if (ports_pass || port)
		return ports_pass && port ? set_scalar(y, name, key, v) : 0;
	if (o)
		return set_scalar(y, name, key, v);
	if (!strcmp(name, "keys")) {
		if (config__is_null(v))
			return 0;
		int r = config__want_mapping(y, v, key);
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
		return config__section_sip(y, key, v);
	if (!strcmp(name, "inbound-trunks") || !strcmp(name, "outbound-trunks") ||
	    !strcmp(name, "dispatch-rules")) {
		config__warn_ignored(y, k, key, "belongs under sip:, ignored");
		return 0;
	}
	if (!strcmp(name, "agents"))
		return config__section_agents(y, key, v);
	if (!strcmp(name, "agent-close") || !strcmp(name, "agentClose"))
		return config__parse_close(y, key, v, &y->c->agent_close);
	if (!strcmp(name, "trunks")) {
		config__warn_ignored(y, k, key,
				     "not read from the file yet, ignored (use the API)");
		return 0;
	}
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

static int walk(struct yctx *y)
{
	yaml_node_t *root = yaml_document_get_root_node(y->doc);
	if (!root || config__is_null(root))
		return 0; /* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE) {
		snprintf(y->err, y->cap, "%s:%zu: the file must be a mapping of keys, not %s",
			 y->path, config__line_of(root), config__type_name(root));
		return SB_EINVAL;
	}
	for (int pass = 0; pass < 2; pass++)
		FOR_PAIRS(root, p)
		{
			yaml_node_t *k = config__node(y, p->key), *v = config__node(y, p->value);
			if (k->type != YAML_SCALAR_NODE) {
				snprintf(y->err, y->cap, "%s:%zu: keys must be plain names, not %s",
					 y->path, config__line_of(k), config__type_name(k));
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
