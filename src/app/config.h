/* switchboard's settings: embedded defaults, the config file (switchboard.yaml, libyaml), then
 * command-line flags. Owns parsing of both; every setting has a default so `serve` runs bare. */
#ifndef SB_APP_CONFIG_H
#define SB_APP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "api/agent_dial.h"
#include "base/log.h"
#include "sip/transport.h"
#include "store/store.h"

#define SB_VERSION "0.1.0"

#define SB_CONFIG_MAX_KEYS	   16 /* API key/secret pairs */
#define SB_CONFIG_MAX_WEBHOOK_URLS 16

/* Where a declared record stands in the file, for messages: "FILE:LINE: sip.inbound_trunks[0]". */
struct sb_config_where {
	char text[320];
};

/* Trunks and dispatch rules declared under `sip:` (docs/configuration.md): parsed and
 * validated by the livekit.SIP API's JSON parsers, each with its id set (given, or derived
 * from its name), ids unique, no conflicts among them. Owned by the config (sb_config_free). */
struct sb_config_sip {
	struct store_inbound_trunk *in;
	struct sb_config_where *in_where;
	size_t n_in;
	struct store_outbound_trunk *out;
	struct sb_config_where *out_where;
	size_t n_out;
	struct store_dispatch_rule *rules;
	struct sb_config_where *rule_where;
	size_t n_rules;
};

/* An API key (the `iss` of tokens) and the secret they are signed with. */
struct sb_config_key {
	char key[128];
	char secret[256];
};

#define SB_CONFIG_MAX_HOLD_TRUNKS 16

struct sb_config {
	char sip_listen[128];
	char sip_tls_listen[128];
	char tls_cert[256], tls_key[256];
	char http_listen[128];
	/* API keys: the `keys:` map of the file plus the pair of api_key/api_secret (flags or
	 * flat keys), which adds a key or replaces the secret of one. With neither, devkey/secret.
	 * Resolved by sb_config_args; keys[key_primary] signs `switchboard token`. */
	struct sb_config_key keys[SB_CONFIG_MAX_KEYS];
	size_t n_keys, key_primary;
	char api_key[128], api_secret[256]; /* the pair from flags or flat keys; "" = none */
	/* webhooks (LiveKit `webhook:`): POSTed to every URL, signed with the secret of api_key
	 * (the primary key when the file names none) */
	struct {
		char api_key[128];
		char urls[SB_CONFIG_MAX_WEBHOOK_URLS][512];
		size_t n_urls;
	} webhook;
	/* store (`store: {type, dir}`): the database lives in store_dir ("" = data_dir) */
	char store_type[16];
	char store_dir[256];
	uint32_t call_records; /* `store: {call_records}`: write a record per call (default 1) */
	uint32_t sip_tls_port; /* `tls.port`: TLS on sip_listen's host (0 = SIP port + 1) */
	char rtp_ports[32];
	char rtp_ip[64];
	char data_dir[256];
	enum sb_log_level log_level;
	uint32_t t1_ms, t2_ms, t4_ms;
	uint32_t max_calls;
	uint32_t answer_delay_ms; /* serve: send 180 and answer after this long */
	uint32_t auth_md5_first;  /* serve: MD5 challenge before SHA-256 */
	/* media */
	char media_encryption[16]; /* disable, allow, require (SDES SRTP) */
	uint32_t media_workers;	   /* 0 = one per CPU */
	uint32_t rtp_uring; /* media workers move RTP through io_uring where possible (default 1) */
	char codecs[128];   /* preference, e.g. "PCMU,PCMA,G722,opus" */
	uint32_t opus_complexity;	 /* 0-10 */
	uint32_t opus_rate;		 /* PCM rate of Opus legs (8000 ... 48000) */
	uint32_t room_rate;		 /* room mix rate */
	uint32_t rtp_timeout;		 /* s without RTP before BYE */
	uint32_t rtp_first_timeout;	 /* s after answer without any RTP: the call fails */
	uint32_t room_empty_timeout;	 /* s a room nobody joined stays */
	uint32_t room_departure_timeout; /* s a room stays after its last participant left */
	/* dial */
	uint32_t dial_duration;
	enum sip_tp_type dial_transport;
	char dial_proxy[128];
	char dial_user[128], dial_password[128];
	uint32_t ring_timeout; /* s: CANCEL an unanswered outgoing call after this */
	char refer_to[256];    /* dial: REFER the callee here once answered */
	uint32_t hold_after;   /* dial: put on hold this many seconds after answer (0 = never) */
	uint32_t hold_for;     /* dial: resume after this many seconds on hold */
	char dtmf[64];	       /* dial: digits sent by SIP INFO after answer */
	char say[1024];	       /* dial: speak this (espeak-ng) once answered, then hang up */
	char say_voice[64];    /* its espeak-ng voice ("" = en) */
	char dial_room[128];   /* dial: the room the call joins ("" = a fresh echo room) */
	/* REGISTER client: keep a registration to a provider */
	char register_uri[256]; /* sip:user@registrar[:port] */
	uint32_t register_expires;
	uint32_t metrics_enabled; /* `metrics: {enabled}`: serve GET /metrics (default 1) */
	uint32_t dev; /* `dev: true` (--dev): the web console's /api/token whatever the keys */
	/* `hold: {local, local_trunks, music_on_hold}`: hold without re-INVITE (every call, or
	 * the calls of these trunks), the held hearing music_on_hold (a WAV) */
	uint32_t hold_local;
	char hold_local_trunks[SB_CONFIG_MAX_HOLD_TRUNKS][64];
	size_t n_hold_local_trunks;
	char music_on_hold[256];
	/* `registrations: [{trunk: ST_..., expires: S}]`: outbound trunks that keep a
	 * registration at their provider (sip:<auth user or first number>@<address>) */
	struct {
		char trunk[64];
		uint32_t expires; /* 0 = 3600 */
	} registrations[SB_CONFIG_MAX_HOLD_TRUNKS];
	size_t n_registrations;
	struct sb_config_sip sip; /* `sip:` records; a later file's `sip:` replaces them */
	/* `agents:` (api/agent_dial.h), each validated; owned (sb_config_free); a later file's
	 * `agents:` replaces them */
	struct api_agent_def *agents;
	size_t n_agents;
	/* `agent_close:` (api/agent_close.h): the calls of agents that connect in (/twilio,
	 * /agent) when their socket closes; hangup (default), {play: WAV}, {transfer: URI};
	 * strings owned (sb_config_free) */
	struct api_agent_close agent_close;
};

/* Overwrites c (free a loaded one with sb_config_free first). */
void sb_config_defaults(struct sb_config *c);
/* Free what a file's `sip:` and `agents:` sections allocated; c keeps its other settings. */
void sb_config_free(struct sb_config *c);
void sb_config_sip_free(struct sb_config_sip *s);
void sb_config_agents_free(struct api_agent_def *agents, size_t n);
/* The declared agent called name, or NULL. */
const struct api_agent_def *sb_config_agent(const struct sb_config *c, const char *name);
/* Load a YAML config file (see docs/configuration.md) over c. Unknown keys are logged and
 * skipped; a syntax error or a value of the wrong type or range fails with
 * "FILE:LINE: KEY: reason" in err. 0 or a negative code. */
int sb_config_file(struct sb_config *c, const char *path, char *err, size_t cap);
/* Apply flags; --config is loaded first wherever it appears, so flags override the file.
 * Ends with sb_config_finish. */
int sb_config_args(struct sb_config *c, int argc, char **argv, char *err, size_t cap);
/* Resolve what depends on several settings: the API key list (api_key/api_secret merged into
 * keys, devkey/secret when empty) and the webhook key. Idempotent. 0 or SB_EINVAL. */
int sb_config_finish(struct sb_config *c, char *err, size_t cap);
/* The secret of an API key, or NULL. */
const char *sb_config_secret(const struct sb_config *c, const char *key);

#endif
