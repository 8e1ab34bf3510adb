/* `agents:` in switchboard.yaml: the agents switchboard dials, built-in say agents, and what
 * happens when an agent closes its socket. */
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
		config__close_free(&a->on_close);
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
	if (v->type != YAML_SCALAR_NODE || config__is_null(v))
		return config__fail(y, v, key, "wants a string, not %s",
				    config__is_null(v) ? "nothing" : config__type_name(v));
	char *d = strdup(config__scalar(v));
	if (!d)
		return config__fail(y, v, key, "out of memory");
	free(*dst);
	*dst = d;
	return 0;
}

/* headers / custom_parameters: a mapping of names to string values. Header names are HTTP
 * tokens and no value may hold CR or LF (they go into the handshake as they are). */
static int agent_map(struct yctx *y, const char *key, yaml_node_t *v, bool header,
		     struct api_agent_kv **out, size_t *n_out)
{
	if (config__is_null(v))
		return 0;
	int r = config__want_mapping(y, v, key);
	if (r)
		return r;
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
	struct api_agent_kv *kv = n ? calloc(n, sizeof(*kv)) : NULL;
	if (n && !kv)
		return config__fail(y, v, key, "out of memory");
	size_t i = 0;
	FOR_PAIRS(v, p)
	{
		yaml_node_t *k = config__node(y, p->key), *val = config__node(y, p->value);
		char ekey[300];
		snprintf(ekey, sizeof(ekey), "%s.%s", key,
			 k->type == YAML_SCALAR_NODE ? config__scalar(k) : "?");
		if (k->type != YAML_SCALAR_NODE || !*config__scalar(k)) {
			r = config__fail(y, k, key, "names must be non-empty plain strings");
			goto out;
		}
		if (header && strcspn(config__scalar(k), "()<>@,;:\\\"/[]?={} \t\r\n") !=
				  strlen(config__scalar(k))) {
			r = config__fail(y, k, ekey, "not a valid header name");
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (header ? !strcasecmp(kv[j].key, config__scalar(k))
				   : !strcmp(kv[j].key, config__scalar(k))) {
				r = config__fail(y, k, ekey, "listed twice");
				goto out;
			}
		if ((r = agent_str(y, ekey, val, &kv[i].value)) != 0)
			goto out;
		if (strpbrk(kv[i].value, "\r\n")) {
			free(kv[i].value);
			kv[i].value = NULL;
			r = config__fail(y, val, ekey, "a value cannot hold line breaks");
			goto out;
		}
		if (!(kv[i].key = strdup(config__scalar(k)))) {
			r = config__fail(y, k, ekey, "out of memory");
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
		yaml_node_t *k = n == 1 ? config__node(y, v->data.mapping.pairs.start->key) : NULL;
		at = n == 1 ? config__node(y, v->data.mapping.pairs.start->value) : v;
		if (!k || k->type != YAML_SCALAR_NODE || strcmp(config__scalar(k), "play") ||
		    at->type != YAML_SCALAR_NODE || config__is_null(at))
			return config__fail(y, v, key, "wants hangup, echo or {play: FILE.wav}");
		file = config__scalar(at);
	} else if (v->type == YAML_SCALAR_NODE && !config__is_null(v)) {
		const char *t = config__scalar(v);
		if (!strcmp(t, "hangup")) {
			a->on_failure = API_AGENT_FAIL_HANGUP;
			return 0;
		}
		if (!strcmp(t, "echo")) {
			a->on_failure = API_AGENT_FAIL_ECHO;
			return 0;
		}
		if (strncmp(t, "play:", 5))
			return config__fail(
			    y, v, key,
			    "unknown fallback '%s' (want hangup, echo or play: FILE.wav)", t);
		file = t + 5 + strspn(t + 5, " \t");
	} else {
		return config__fail(y, v, key, "wants hangup, echo or {play: FILE.wav}, not %s",
				    config__is_null(v) ? "nothing" : config__type_name(v));
	}
	if (!*file)
		return config__fail(y, at, key, "play wants a WAV file");
	char *d = strdup(file);
	if (!d)
		return config__fail(y, at, key, "out of memory");
	free(a->play_file);
	a->play_file = d;
	a->on_failure = API_AGENT_FAIL_PLAY;
	return 0;
}

/* agent_close / on_close: hangup | {play: FILE.wav} | {transfer: sip:...} (or "play: FILE",
 * "transfer: URI" as one string). The WAV is read here so that a bad one fails at start. */
int config__parse_close(struct yctx *y, const char *key, yaml_node_t *v,
			struct api_agent_close *out)
{
	static const char want[] = "wants hangup, {play: FILE.wav} or {transfer: sip:...}";
	const char *kind = NULL, *arg = NULL;
	char kbuf[16];
	yaml_node_t *at = v;
	if (v->type == YAML_MAPPING_NODE) {
		size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
		yaml_node_t *k = n == 1 ? config__node(y, v->data.mapping.pairs.start->key) : NULL;
		at = n == 1 ? config__node(y, v->data.mapping.pairs.start->value) : v;
		if (!k || k->type != YAML_SCALAR_NODE || at->type != YAML_SCALAR_NODE ||
		    config__is_null(at))
			return config__fail(y, v, key, "%s", want);
		kind = config__scalar(k);
		arg = config__scalar(at);
	} else if (v->type == YAML_SCALAR_NODE && !config__is_null(v)) {
		const char *t = config__scalar(v);
		if (!strcmp(t, "hangup")) {
			config__close_free(out);
			return 0;
		}
		size_t kl = strcspn(t, ":");
		if (!t[kl] || kl >= sizeof(kbuf))
			return config__fail(y, v, key, "unknown action '%s' (%s)", t, want + 6);
		snprintf(kbuf, sizeof(kbuf), "%.*s", (int)kl, t);
		kind = kbuf;
		arg = t + kl + 1 + strspn(t + kl + 1, " \t");
	} else {
		return config__fail(y, v, key, "%s, not %s", want,
				    config__is_null(v) ? "nothing" : config__type_name(v));
	}
	struct api_agent_close c = {0};
	if (!strcmp(kind, "play")) {
		if (!*arg)
			return config__fail(y, at, key, "play wants a WAV file");
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
			return config__fail(y, at, key, "cannot use %s: %s", arg, why);
		c.kind = API_AGENT_CLOSE_PLAY;
		c.file = strdup(arg);
		if (!c.file)
			return config__fail(y, at, key, "out of memory");
	} else if (!strcmp(kind, "transfer")) {
		if (strncasecmp(arg, "sip:", 4) && strncasecmp(arg, "sips:", 5) &&
		    strncasecmp(arg, "tel:", 4))
			return config__fail(
			    y, at, key, "transfer wants a sip:, sips: or tel: URI, not '%s'", arg);
		if (strpbrk(arg, " \t\r\n<>\""))
			return config__fail(y, at, key, "transfer: '%s' is not a plain URI", arg);
		c.kind = API_AGENT_CLOSE_TRANSFER;
		c.target = strdup(arg);
		if (!c.target)
			return config__fail(y, at, key, "out of memory");
	} else {
		return config__fail(y, v, key, "unknown action '%s' (%s)", kind, want + 6);
	}
	config__close_free(out);
	*out = c;
	return 0;
}

static int agent_item(struct yctx *y, const char *name, const char *key, yaml_node_t *k,
		      yaml_node_t *v)
{
	struct api_agent_def *a = y->agent;
	const char *raw = config__scalar(k);
	if (!strcmp(name, "url")) {
		int r = agent_str(y, key, v, &a->url);
		struct api_agent_url u;
		if (!r && api_agent_url_parse(a->url, &u))
			r = config__fail(y, v, key, "'%s' is not a ws:// or wss:// URL", a->url);
		return r;
	}
	if (!strcmp(name, "protocol")) {
		if (v->type != YAML_SCALAR_NODE || config__is_null(v))
			return config__fail(y, v, key, "wants twilio or native");
		if (!strcmp(config__scalar(v), "twilio")) {
			a->protocol = API_AGENT_TWILIO;
			return 0;
		}
		if (!strcmp(config__scalar(v), "native")) {
			a->protocol = API_AGENT_NATIVE;
			return 0;
		}
		return config__fail(y, v, key, "unknown protocol '%s' (want twilio or native)",
				    config__scalar(v));
	}
	if (!strcmp(name, "rate")) {
		uint64_t r;
		if (v->type != YAML_SCALAR_NODE || config__is_null(v) ||
		    config__parse_u64(config__scalar(v), 48000, &r) ||
		    (r != 8000 && r != 16000 && r != 24000 && r != 48000))
			return config__fail(y, v, key, "wants 8000, 16000, 24000 or 48000 (Hz)");
		a->rate = (uint32_t)r;
		return 0;
	}
	if (!strcmp(name, "headers"))
		return agent_map(y, key, v, true, &a->headers, &a->n_headers);
	if (config__key_is(raw, "custom_parameters", "customParameters"))
		return agent_map(y, key, v, false, &a->params, &a->n_params);
	if (config__key_is(raw, "connect_timeout", "connectTimeout")) {
		uint64_t ms;
		if (v->type != YAML_SCALAR_NODE || config__is_null(v) ||
		    config__parse_duration_ms(config__scalar(v), 1000, &ms) || ms == 0 ||
		    ms > 600000)
			return config__fail(y, v, key,
					    "wants a duration from 1ms to 10m (5s, 500ms, 2)");
		a->connect_timeout_ms = (uint32_t)ms;
		return 0;
	}
	if (config__key_is(raw, "on_failure", "onFailure"))
		return agent_failure(y, key, v);
	if (config__key_is(raw, "on_close", "onClose"))
		return config__parse_close(y, key, v, &a->on_close);
	if (!strcmp(name, "say")) {
		int r = agent_str(y, key, v, &a->say);
		if (!r && !*a->say)
			r = config__fail(y, v, key, "wants the text to speak");
		return r;
	}
	if (!strcmp(name, "voice")) {
		int r = agent_str(y, key, v, &a->voice);
		if (!r && (!plain_name(a->voice) || strlen(a->voice) > 40))
			r = config__fail(y, v, key,
					 "'%s' is not an espeak-ng voice name (en, en-us, de ...)",
					 a->voice);
		return r;
	}
	if (!strcmp(name, "then")) {
		if (v->type == YAML_SCALAR_NODE && !strcmp(config__scalar(v), "hangup")) {
			a->say_stay = false;
			return 0;
		}
		if (v->type == YAML_SCALAR_NODE && !strcmp(config__scalar(v), "stay")) {
			a->say_stay = true;
			return 0;
		}
		return config__fail(y, v, key, "wants hangup or stay");
	}
	if (!strcmp(name, "ringback")) {
		uint32_t b;
		if (v->type != YAML_SCALAR_NODE || config__is_null(v) ||
		    config__parse_bool(config__scalar(v), &b))
			return config__fail(y, v, key, "wants true or false");
		a->ringback = b != 0;
		return 0;
	}
	config__warn_ignored(y, k, key, "unknown key, ignored");
	return 0;
}

/* agents: replaces what an earlier file declared, once the whole section is good. */
int config__section_agents(struct yctx *y, const char *key, yaml_node_t *v)
{
	if (config__is_null(v))
		return 0;
	int r = config__want_mapping(y, v, key);
	if (r)
		return r;
	size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start), got = 0;
	struct api_agent_def *list = n ? calloc(n, sizeof(*list)) : NULL;
	if (n && !list)
		return config__fail(y, v, key, "out of memory");
	FOR_PAIRS(v, p)
	{
		yaml_node_t *k = config__node(y, p->key), *e = config__node(y, p->value);
		char ekey[200];
		snprintf(ekey, sizeof(ekey), "%s.%s", key,
			 k->type == YAML_SCALAR_NODE ? config__scalar(k) : "?");
		if (k->type != YAML_SCALAR_NODE || !plain_name(config__scalar(k)) ||
		    strlen(config__scalar(k)) >= API_AGENT_NAME_MAX) {
			r = config__fail(y, k, ekey,
					 "an agent's name is letters, digits, - _ . (at most %d)",
					 API_AGENT_NAME_MAX - 1);
			goto out;
		}
		for (size_t i = 0; i < got; i++)
			if (!strcmp(list[i].name, config__scalar(k))) {
				r = config__fail(y, k, ekey, "listed twice");
				goto out;
			}
		struct api_agent_def *a = &list[got++];
		if (!(a->name = strdup(config__scalar(k)))) {
			r = config__fail(y, k, ekey, "out of memory");
			goto out;
		}
		if (e->type != YAML_MAPPING_NODE) {
			r = config__fail(y, e, ekey,
					 "wants {url: ws://..., protocol: twilio, ...}, not %s",
					 config__is_null(e) ? "nothing" : config__type_name(e));
			goto out;
		}
		y->agent = a;
		r = config__walk_section(y, e, ekey, agent_item);
		y->agent = NULL;
		if (r)
			goto out;
		if (!a->url && !a->say) {
			r = config__fail(
			    y, e, ekey,
			    "wants a url (ws://HOST:PORT/PATH or wss://...) or say: TEXT");
			goto out;
		}
		if (a->url && a->say) {
			r = config__fail(y, e, ekey, "url or say, not both");
			goto out;
		}
		if (a->rate && a->protocol != API_AGENT_NATIVE) {
			r = config__fail(y, e, ekey,
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
