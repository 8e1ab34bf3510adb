/* The native agent protocol session: events built with jansson, audio frames by hand into one
 * reused buffer, the command parser. Owns its playout queue (PCM16LE) and its output buffers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/rand.h"
#include "stream/b64_int.h"
#include "stream/native.h"

#define DTMF_MAX 64u /* longest send_dtmf string */
#define URI_MAX	 1024u

enum state { ST_NEW, ST_STARTED, ST_STOPPED };

struct stream_native {
	struct stream_native_handlers h;
	void *arg;
	enum state state;
	uint32_t rate;
	size_t frame; /* samples per 20 ms */
	char id[STREAM_NATIVE_ID_LEN + 1];
	json_t *start; /* the start message's body, built once */
	sb_time_ms t0;
	bool held;
	char call_status[32];
	struct sb_buf out;
	uint8_t *audio; /* one frame of PCM16LE, reused */
	struct stream_playout *po;
	struct stream_native_stats st;
};

bool stream_native_rate_valid(uint32_t rate)
{
	return rate == 8000 || rate == 16000 || rate == 24000 || rate == 48000;
}

/* ---- ids ---- */

static int id_make(char *dst, const char *given)
{
	if (given) {
		if (strlen(given) != STREAM_NATIVE_ID_LEN || memcmp(given, "ST", 2) != 0)
			return SB_EINVAL;
		for (size_t i = 2; i < STREAM_NATIVE_ID_LEN; i++) {
			char c = given[i];
			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return SB_EINVAL;
		}
		memcpy(dst, given, STREAM_NATIVE_ID_LEN + 1);
		return 0;
	}
	uint8_t r[16];
	int err = sb_random_bytes(r, sizeof(r));
	if (err)
		return err;
	static const char hex[] = "0123456789abcdef";
	dst[0] = 'S';
	dst[1] = 'T';
	for (size_t i = 0; i < sizeof(r); i++) {
		dst[2 + 2 * i] = hex[r[i] >> 4];
		dst[3 + 2 * i] = hex[r[i] & 15];
	}
	dst[STREAM_NATIVE_ID_LEN] = '\0';
	return 0;
}

int stream_native_new_id(char out[STREAM_NATIVE_ID_LEN + 1])
{
	return id_make(out, NULL);
}

/* ---- JSON building ---- */

static void jset(json_t *o, const char *key, json_t *v, bool *fail)
{
	if (json_object_set_new(o, key, v))
		*fail = true;
}

/* An optional string: left out when NULL or not UTF-8. */
static void jset_opt(json_t *o, const char *key, const char *v, bool *fail)
{
	if (!v)
		return;
	json_t *s = json_string(v);
	if (s)
		jset(o, key, s, fail);
}

static json_t *start_build(const struct stream_native *n, const struct stream_native_opts *o)
{
	bool fail = false;
	json_t *attrs = json_object();
	for (size_t i = 0; i < o->n_attrs; i++)
		if (o->attrs[i].key && !strncmp(o->attrs[i].key, "sip.", 4))
			jset_opt(attrs, o->attrs[i].key, o->attrs[i].value, &fail);
	json_t *call = json_object();
	jset_opt(call, "participant", o->caller, &fail);
	jset_opt(call, "callId", o->call_id, &fail);
	jset_opt(call, "sipCallId", o->sip_call_id, &fail);
	jset_opt(call, "from", o->from_number, &fail);
	jset_opt(call, "to", o->to_number, &fail);
	jset(call, "direction", json_string(o->outbound ? "outbound" : "inbound"), &fail);
	jset_opt(call, "status", o->call_status, &fail);
	jset(call, "attributes", attrs, &fail);
	json_t *media = json_object();
	jset(media, "encoding", json_string("pcm16le"), &fail);
	jset(media, "sampleRate", json_integer(n->rate), &fail);
	jset(media, "channels", json_integer(1), &fail);
	jset(media, "frameMs", json_integer(20), &fail);
	jset(media, "frameBytes", json_integer((json_int_t)(n->frame * 2)), &fail);
	json_t *m = json_object();
	jset(m, "type", json_string("start"), &fail);
	jset(m, "protocol", json_string(STREAM_NATIVE_PROTOCOL), &fail);
	jset(m, "version", json_integer(STREAM_NATIVE_VERSION), &fail);
	jset(m, "streamId", json_string(n->id), &fail);
	jset_opt(m, "room", o->room, &fail);
	jset_opt(m, "participant", o->participant, &fail);
	jset(m, "call", call, &fail);
	jset(m, "media", media, &fail);
	if (fail || !m) {
		json_decref(m);
		return NULL;
	}
	return m;
}

/* Dump j (consumed) and send it as one text frame. */
static int send_json(struct stream_native *n, json_t *j, bool fail)
{
	int err = 0;
	sb_buf_reset(&n->out);
	if (!j || fail) {
		err = SB_ENOMEM;
		goto out;
	}
	size_t len = json_dumpb(j, NULL, 0, JSON_COMPACT);
	if (len == 0 || sb_buf_reserve(&n->out, len + 1) != 0) {
		err = SB_ENOMEM;
		goto out;
	}
	n->out.len = json_dumpb(j, n->out.p, len, JSON_COMPACT);
	err = n->h.send(n->arg, false, n->out.p, n->out.len);
out:
	json_decref(j);
	if (err) {
		n->st.out_errors++;
		return err;
	}
	n->st.out_msgs++;
	return 0;
}

/* {"type":type} plus what the caller adds (m may be NULL on no memory: send_json reports it) */
static json_t *event(const char *type, bool *fail)
{
	json_t *m = json_object();
	jset(m, "type", json_string(type), fail);
	return m;
}

/* ---- lifecycle ---- */

int stream_native_new(struct stream_native **out, const struct stream_native_opts *o,
		      const struct stream_native_handlers *h, void *arg)
{
	static const struct stream_native_opts none;
	if (!h || !h->send)
		return SB_EINVAL;
	if (!o)
		o = &none;
	uint32_t rate = o->rate ? o->rate : STREAM_NATIVE_RATE;
	if (!stream_native_rate_valid(rate))
		return SB_EINVAL;
	struct stream_native *n = calloc(1, sizeof(*n));
	if (!n)
		return SB_ENOMEM;
	n->h = *h;
	n->arg = arg;
	n->rate = rate;
	n->frame = rate / 50u;
	sb_buf_init(&n->out, NULL, 0);
	int err = id_make(n->id, o->stream_id);
	if (err)
		goto fail;
	if (o->call_status)
		snprintf(n->call_status, sizeof(n->call_status), "%s", o->call_status);
	struct stream_playout_opts po = o->playout;
	po.pcm16 = true;
	po.rate = rate;
	n->audio = malloc(n->frame * 2);
	n->start = start_build(n, o);
	if (!n->audio || !n->start || sb_buf_reserve(&n->out, 512) != 0) {
		err = SB_ENOMEM;
		goto fail;
	}
	if ((err = stream_playout_new(&n->po, &po)) != 0)
		goto fail;
	*out = n;
	return 0;
fail:
	stream_native_free(n);
	return err;
}

void stream_native_free(struct stream_native *n)
{
	if (!n)
		return;
	json_decref(n->start);
	stream_playout_free(n->po);
	sb_buf_free(&n->out);
	free(n->audio);
	free(n);
}

/* ---- events ---- */

int stream_native_start(struct stream_native *n, sb_time_ms now)
{
	if (n->state != ST_NEW)
		return SB_ESTATE;
	n->state = ST_STARTED;
	n->t0 = now;
	return send_json(n, json_copy(n->start), false);
}

int stream_native_media(struct stream_native *n, const int16_t *pcm)
{
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	bool silent = !pcm || n->held;
	for (size_t i = 0; i < n->frame; i++) {
		uint16_t v = silent ? 0 : (uint16_t)pcm[i];
		n->audio[2 * i] = (uint8_t)(v & 0xff);
		n->audio[2 * i + 1] = (uint8_t)(v >> 8);
	}
	int err = n->h.send(n->arg, true, n->audio, n->frame * 2);
	if (err) {
		n->st.out_errors++;
		return err;
	}
	n->st.out_media++;
	if (silent)
		n->st.out_silence++;
	return 0;
}

static bool dtmf_digit(char d)
{
	return (d >= '0' && d <= '9') || d == '*' || d == '#' || (d >= 'A' && d <= 'D');
}

int stream_native_dtmf(struct stream_native *n, char digit, uint32_t duration_ms)
{
	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	if (!dtmf_digit(digit))
		return SB_EINVAL;
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	char d[2] = {digit, '\0'};
	bool fail = false;
	json_t *m = event("dtmf", &fail);
	jset(m, "digit", json_string(d), &fail);
	if (duration_ms)
		jset(m, "durationMs", json_integer(duration_ms), &fail);
	return send_json(n, m, fail);
}

int stream_native_hold(struct stream_native *n, sb_time_ms now, bool held, bool remote,
		       const char *direction)
{
	if (n->state != ST_STARTED || n->held == held)
		return SB_ESTATE;
	n->held = held;
	bool fail = false;
	json_t *m = event(held ? "hold" : "resume", &fail);
	jset(m, "initiator", json_string(remote ? "remote" : "local"), &fail);
	jset_opt(m, "direction", direction, &fail);
	jset(m, "timestamp", json_integer((json_int_t)(now > n->t0 ? now - n->t0 : 0)), &fail);
	return send_json(n, m, fail);
}

bool stream_native_held(const struct stream_native *n)
{
	return n->held;
}

int stream_native_call_state(struct stream_native *n, const char *status)
{
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	if (!status || !strcmp(status, n->call_status))
		return 0;
	snprintf(n->call_status, sizeof(n->call_status), "%s", status);
	bool fail = false;
	json_t *m = event("call_state", &fail);
	jset(m, "status", json_string(status), &fail);
	return send_json(n, m, fail);
}

int stream_native_participant(struct stream_native *n, bool joined, const char *identity,
			      const char *kind)
{
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	bool fail = false;
	json_t *m = event(joined ? "participant_joined" : "participant_left", &fail);
	jset_opt(m, "identity", identity ? identity : "", &fail);
	jset_opt(m, "kind", kind, &fail);
	return send_json(n, m, fail);
}

int stream_native_transfer(struct stream_native *n, const struct stream_native_transfer *t)
{
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	if (!t || !t->status)
		return SB_EINVAL;
	bool fail = false;
	json_t *m = event("transfer", &fail);
	jset_opt(m, "id", t->id, &fail);
	jset_opt(m, "to", t->to, &fail);
	jset(m, "status", json_string(t->status), &fail);
	if (t->sip_status)
		jset(m, "sipStatusCode", json_integer(t->sip_status), &fail);
	jset_opt(m, "sipStatus", t->sip_reason, &fail);
	return send_json(n, m, fail);
}

int stream_native_error(struct stream_native *n, const char *code, const char *message,
			const char *command, const char *id)
{
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	n->st.in_errors++;
	bool fail = false;
	json_t *m = event("error", &fail);
	jset(m, "code", json_string(code), &fail);
	jset_opt(m, "message", message, &fail);
	jset_opt(m, "command", command, &fail);
	jset_opt(m, "id", id, &fail);
	return send_json(n, m, fail);
}

const char *stream_native_err_code(int err)
{
	switch (err) {
	case SB_EMALFORMED:
		return "malformed";
	case SB_EINVAL:
	case SB_ETOOBIG:
		return "invalid";
	case SB_EUNSUPPORTED:
		return "unsupported";
	case SB_EBUSY:
		return "busy";
	case SB_ENOTFOUND:
		return "not_found";
	case SB_ESTATE:
		return "state";
	case SB_ENORES:
	case SB_ENOMEM:
		return "no_resources";
	default:
		return "failed";
	}
}

int stream_native_stop(struct stream_native *n, const char *reason)
{
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	n->state = ST_STOPPED;
	bool fail = false;
	json_t *m = event("stop", &fail);
	jset_opt(m, "reason", reason, &fail);
	return send_json(n, m, fail);
}

static int send_mark(struct stream_native *n, struct sb_slice name)
{
	bool fail = false;
	json_t *m = event("mark", &fail);
	jset(m, "name", json_stringn(name.p, name.len), &fail);
	int err = send_json(n, m, fail);
	if (!err)
		n->st.out_marks++;
	return err;
}

static void echo_reached(struct stream_native *n)
{
	struct sb_slice name;
	while (stream_playout_reached(n->po, &name))
		(void)send_mark(n, name); /* a lost echo is counted in out_errors */
}

size_t stream_native_echo_marks(struct stream_native *n, size_t max)
{
	size_t k = 0;
	struct sb_slice name;
	while (k < max && n->state == ST_STARTED && stream_playout_reached(n->po, &name)) {
		(void)send_mark(n, name);
		k++;
	}
	return k;
}

/* ---- commands ---- */

/* Answer a bad command: an error event; returns err. */
static int reject(struct stream_native *n, int err, const char *message, const char *command,
		  const char *id)
{
	(void)stream_native_error(n, stream_native_err_code(err), message, command, id);
	return err;
}

static int in_media(struct stream_native *n, json_t *root, const char *id)
{
	json_t *payload = json_object_get(root, "payload");
	size_t len;
	if (!json_is_string(payload))
		return reject(n, SB_EMALFORMED, "media needs a string payload", "media", id);
	if (!stream__b64_check(json_string_value(payload), json_string_length(payload), &len))
		return reject(n, SB_EMALFORMED, "media payload is not base64", "media", id);
	stream__b64_decode_into(n->po, json_string_value(payload), len);
	n->st.in_media++;
	return 0;
}

static int in_mark(struct stream_native *n, json_t *root, const char *id)
{
	json_t *name = json_object_get(root, "name");
	if (!json_is_string(name))
		return reject(n, SB_EMALFORMED, "mark needs a string name", "mark", id);
	int err =
	    stream_playout_mark(n->po, sb_slice(json_string_value(name), json_string_length(name)));
	if (err)
		return reject(n, err,
			      err == SB_ETOOBIG ? "mark name too long" : "too many pending marks",
			      "mark", id);
	n->st.in_marks++;
	echo_reached(n); /* at once when nothing was queued */
	return 0;
}

/* The rate is chosen at connect time (the room's participant is made at it): a hello/config
 * that names the same rate (or none) is fine, another one is refused. */
static int in_config(struct stream_native *n, json_t *root, const char *type, const char *id)
{
	json_t *r = json_object_get(root, "sampleRate");
	if (r && (!json_is_integer(r) || json_integer_value(r) != (json_int_t)n->rate))
		return reject(
		    n, SB_EINVAL,
		    "the sample rate is chosen when connecting (?rate=) and cannot change", type,
		    id);
	return 0;
}

static bool uri_ok(const char *s)
{
	size_t len = strlen(s);
	if (len > URI_MAX)
		return false;
	if (strncmp(s, "sip:", 4) && strncmp(s, "sips:", 5) && strncmp(s, "tel:", 4))
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == '<' || s[i] == '>' || s[i] == '"')
			return false;
	return strchr(s, ':')[1] != '\0';
}

static bool digits_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > DTMF_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!dtmf_digit(s[i]) && !(s[i] >= 'a' && s[i] <= 'd') && s[i] != 'w')
			return false;
	return true;
}

static int in_call_cmd(struct stream_native *n, json_t *root, const char *type, const char *id)
{
	struct stream_native_cmd c = {.name = type, .id = id};
	if (!strcmp(type, "hangup")) {
		c.type = STREAM_NATIVE_CMD_HANGUP;
	} else if (!strcmp(type, "hold")) {
		c.type = STREAM_NATIVE_CMD_HOLD;
	} else if (!strcmp(type, "resume")) {
		c.type = STREAM_NATIVE_CMD_RESUME;
	} else if (!strcmp(type, "transfer")) {
		c.type = STREAM_NATIVE_CMD_TRANSFER;
		json_t *to = json_object_get(root, "to");
		json_t *att = json_object_get(root, "attended");
		if (att && !json_is_boolean(att))
			return reject(n, SB_EINVAL, "transfer: attended must be a boolean", type,
				      id);
		if (att && json_is_true(att)) {
			/* attended: to the far end of another call in the room (REFER + Replaces)
			 */
			json_t *w = json_object_get(root, "with");
			if (!json_is_string(w) || !json_string_length(w) ||
			    json_string_length(w) > 255)
				return reject(n, SB_EINVAL,
					      "attended transfer needs with: the identity of the "
					      "other call's participant",
					      type, id);
			c.attended = true;
			c.with = json_string_value(w);
		} else if (!json_is_string(to) || !uri_ok(json_string_value(to)))
			return reject(n, SB_EINVAL, "transfer needs to: a sip:, sips: or tel: URI",
				      type, id);
		c.to = json_string_value(to);
	} else if (!strcmp(type, "send_dtmf")) {
		c.type = STREAM_NATIVE_CMD_SEND_DTMF;
		json_t *d = json_object_get(root, "digits");
		if (!json_is_string(d) || !digits_ok(json_string_value(d)))
			return reject(n, SB_EINVAL,
				      "send_dtmf needs digits: 1 to 64 of 0-9 * # A-D w", type, id);
		c.digits = json_string_value(d);
	} else if (!strcmp(type, "mute")) {
		c.type = STREAM_NATIVE_CMD_MUTE;
		json_t *m = json_object_get(root, "muted");
		if (m && !json_is_boolean(m))
			return reject(n, SB_EINVAL, "mute: muted must be a boolean", type, id);
		c.muted = !m || json_is_true(m);
	} else {
		return reject(n, SB_EUNSUPPORTED, "unknown command", type, id);
	}
	if (!n->h.command)
		return reject(n, SB_EUNSUPPORTED, "call commands are not available on this stream",
			      type, id);
	int err = n->h.command(n->arg, &c);
	if (err)
		return reject(n, err, NULL, type, id);
	n->st.in_commands++;
	return 0;
}

int stream_native_input(struct stream_native *n, const char *text, size_t len)
{
	n->st.in_msgs++;
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	json_t *root = json_loadb(text, len, 0, NULL);
	int err;
	if (!json_is_object(root)) {
		err = reject(n, SB_EMALFORMED, "not a JSON object", NULL, NULL);
		goto out;
	}
	const char *id = NULL;
	json_t *jid = json_object_get(root, "id");
	if (json_is_string(jid) && json_string_length(jid) <= STREAM_NATIVE_CMD_ID)
		id = json_string_value(jid);
	json_t *jt = json_object_get(root, "type");
	if (!json_is_string(jt)) {
		err = reject(n, SB_EMALFORMED, "no string type", NULL, id);
		goto out;
	}
	const char *type = json_string_value(jt);
	if (!strcmp(type, "media")) {
		err = in_media(n, root, id);
	} else if (!strcmp(type, "mark")) {
		err = in_mark(n, root, id);
	} else if (!strcmp(type, "clear")) {
		stream_playout_clear(n->po);
		n->st.in_clears++;
		echo_reached(n);
		err = 0;
	} else if (!strcmp(type, "hello") || !strcmp(type, "config")) {
		err = in_config(n, root, type, id);
	} else {
		err = in_call_cmd(n, root, type, id);
	}
out:
	json_decref(root);
	return err;
}

int stream_native_input_binary(struct stream_native *n, const uint8_t *p, size_t len)
{
	n->st.in_binary++;
	if (n->state != ST_STARTED)
		return SB_ESTATE;
	if (len == 0)
		return 0;
	stream_playout_push_pcm16le(n->po, p, len);
	n->st.in_media++;
	return 0;
}

/* ---- accessors ---- */

uint32_t stream_native_rate(const struct stream_native *n)
{
	return n->rate;
}

size_t stream_native_frame(const struct stream_native *n)
{
	return n->frame;
}

const char *stream_native_stream_id(const struct stream_native *n)
{
	return n->id;
}

struct stream_playout *stream_native_playout(struct stream_native *n)
{
	return n->po;
}

const struct stream_native_stats *stream_native_stats(const struct stream_native *n)
{
	return &n->st;
}
