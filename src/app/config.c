/* Defaults, config file and flags for struct sb_config. The file format is the top-level
 * scalar subset of switchboard.yaml ("key: value" lines, # comments); nested sections are
 * skipped until the configuration issue brings libyaml. */
#include "app/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/slice.h"

void sb_config_defaults(struct sb_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->sip_listen, sizeof(c->sip_listen), "127.0.0.1:5060");
	snprintf(c->http_listen, sizeof(c->http_listen), "127.0.0.1:7880");
	snprintf(c->api_key, sizeof(c->api_key), "devkey");
	snprintf(c->api_secret, sizeof(c->api_secret), "secret");
	snprintf(c->rtp_ports, sizeof(c->rtp_ports), "10000-20000");
	snprintf(c->rtp_ip, sizeof(c->rtp_ip), "127.0.0.1");
	snprintf(c->data_dir, sizeof(c->data_dir), "./data");
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
}

static int set_u32(const char *v, uint32_t max, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (errno || *end || end == v || x > max)
		return SB_EINVAL;
	*out = (uint32_t)x;
	return 0;
}

/* One setting by its name (flag without "--", or config key with '_' for '-'). */
static int apply(struct sb_config *c, const char *key, const char *v, char *err, size_t cap)
{
#define STR(name, field)                                                                           \
	if (!strcmp(key, name)) {                                                                  \
		if (strlen(v) >= sizeof(c->field)) {                                               \
			snprintf(err, cap, "value of %s is too long", key);                        \
			return SB_EINVAL;                                                          \
		}                                                                                  \
		snprintf(c->field, sizeof(c->field), "%s", v);                                     \
		return 0;                                                                          \
	}
#define NUM(name, field, max)                                                                      \
	if (!strcmp(key, name)) {                                                                  \
		if (set_u32(v, max, &c->field)) {                                                  \
			snprintf(err, cap, "%s wants a number up to %u", key, (unsigned)(max));    \
			return SB_EINVAL;                                                          \
		}                                                                                  \
		return 0;                                                                          \
	}
	STR("sip-listen", sip_listen)
	STR("sip-tls-listen", sip_tls_listen)
	STR("tls-cert", tls_cert)
	STR("tls-key", tls_key)
	STR("http-listen", http_listen)
	STR("api-key", api_key)
	STR("api-secret", api_secret)
	STR("rtp-ports", rtp_ports)
	STR("rtp-port", rtp_ports)
	STR("rtp-ip", rtp_ip)
	STR("data-dir", data_dir)
	STR("proxy", dial_proxy)
	STR("auth-user", dial_user)
	STR("auth-password", dial_password)
	STR("refer", refer_to)
	STR("dtmf", dtmf)
	STR("room", dial_room)
	STR("register", register_uri)
	NUM("register-expires", register_expires, 86400)
	NUM("ring-timeout", ring_timeout, 3600)
	NUM("hold-after", hold_after, 86400)
	NUM("hold-for", hold_for, 86400)
	NUM("t1", t1_ms, 60000)
	NUM("t2", t2_ms, 600000)
	NUM("t4", t4_ms, 600000)
	NUM("max-calls", max_calls, 10000000)
	NUM("answer-delay", answer_delay_ms, 3600000)
	NUM("auth-md5-first", auth_md5_first, 1)
	NUM("media-workers", media_workers, 256)
	STR("codecs", codecs)
	STR("media-encryption", media_encryption)
	NUM("opus-complexity", opus_complexity, 10)
	NUM("opus-rate", opus_rate, 48000)
	NUM("room-rate", room_rate, 48000)
	NUM("rtp-timeout", rtp_timeout, 86400)
	NUM("rtp-first-timeout", rtp_first_timeout, 86400)
	NUM("room-empty-timeout", room_empty_timeout, 86400)
	NUM("room-departure-timeout", room_departure_timeout, 86400)
	NUM("duration", dial_duration, 86400)
	if (!strcmp(key, "log-level")) {
		if (sb_log_parse_level(v, &c->log_level)) {
			snprintf(err, cap, "unknown log level '%s'", v);
			return SB_EINVAL;
		}
		return 0;
	}
	if (!strcmp(key, "transport")) {
		if (!strcmp(v, "udp"))
			c->dial_transport = SIP_TP_UDP;
		else if (!strcmp(v, "tcp"))
			c->dial_transport = SIP_TP_TCP;
		else if (!strcmp(v, "tls"))
			c->dial_transport = SIP_TP_TLS;
		else {
			snprintf(err, cap, "transport must be udp, tcp or tls");
			return SB_EINVAL;
		}
		return 0;
	}
#undef STR
#undef NUM
	snprintf(err, cap, "unknown option '%s'", key);
	return SB_ENOTFOUND;
}

int sb_config_file(struct sb_config *c, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, cap, "cannot open config %s: %s", path, strerror(errno));
		return SB_EIO;
	}
	char line[1024];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		struct sb_slice s = sb_slice_cstr(line);
		ptrdiff_t hash = sb_slice_find(s, '#');
		if (hash >= 0)
			s.len = (size_t)hash;
		if (s.len && (s.p[0] == ' ' || s.p[0] == '\t' || s.p[0] == '-'))
			continue; /* nested section content */
		s = sb_slice_trim(s);
		if (!s.len)
			continue;
		ptrdiff_t colon = sb_slice_find(s, ':');
		if (colon <= 0) {
			snprintf(err, cap, "%s:%d: expected 'key: value'", path, lineno);
			rc = SB_EINVAL;
			break;
		}
		char key[64], val[512];
		sb_slice_copy(sb_slice_trim(sb_slice(s.p, (size_t)colon)), key, sizeof(key));
		struct sb_slice vs =
		    sb_slice_trim(sb_slice(s.p + colon + 1, s.len - (size_t)colon - 1));
		if (vs.len >= 2 && (vs.p[0] == '"' || vs.p[0] == '\'') &&
		    vs.p[vs.len - 1] == vs.p[0])
			vs = sb_slice(vs.p + 1, vs.len - 2);
		if (!vs.len)
			continue; /* a section header such as "keys:" */
		sb_slice_copy(vs, val, sizeof(val));
		for (char *k = key; *k; k++)
			if (*k == '_')
				*k = '-';
		/* livekit-server / livekit-sip spellings */
		const char *name = key;
		if (!strcmp(key, "sip-port")) {
			char hp[sizeof(c->sip_listen)];
			const char *colon2 = strrchr(c->sip_listen, ':');
			int hl = colon2 ? (int)(colon2 - c->sip_listen) : 0;
			int n = snprintf(hp, sizeof(hp), "%.*s:%.8s", hl, c->sip_listen, val);
			if (n > 0 && (size_t)n < sizeof(hp))
				memcpy(c->sip_listen, hp, (size_t)n + 1);
			continue;
		}
		char e2[200];
		int r = apply(c, name, val, e2, sizeof(e2));
		if (r == SB_ENOTFOUND)
			continue; /* keys of later features are accepted and ignored for now */
		if (r) {
			snprintf(err, cap, "%s:%d: %s", path, lineno, e2);
			rc = r;
			break;
		}
	}
	fclose(f);
	return rc;
}

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
		int r = apply(c, key, val, err, cap);
		if (r)
			return r;
	}
	return 0;
}
