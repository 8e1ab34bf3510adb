/* Twilio Media Streams session: message building (media by hand, the rare ones with jansson),
 * the agent-message parser, SIDs, counters. Owns its playout queue and its output buffer. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/rand.h"
#include "media/codec.h"
#include "stream/b64_int.h"
#include "stream/twilio.h"

#define FRAME_MS     20u
#define GAP_FILL_MS  (2u * FRAME_MS) /* this far behind now: fill with silence */
#define GAP_JUMP_MS  1000u	     /* further behind than this: jump instead */
#define ULAW_SILENCE 0xFF
#define SEQ_STR_LEN  24u

enum state { ST_NEW, ST_STARTED, ST_STOPPED };

struct stream_twilio {
	struct stream_twilio_handlers h;
	void *arg;
	enum state state;
	char account_sid[STREAM_TWILIO_SID_LEN + 1];
	char call_sid[STREAM_TWILIO_SID_LEN + 1];
	char stream_sid[STREAM_TWILIO_SID_LEN + 1];
	json_t *params; /* customParameters, built once */

	sb_time_ms t0;	  /* stream time zero (start) */
	uint64_t seq;	  /* last sequenceNumber sent */
	uint64_t chunk;	  /* last media chunk sent */
	uint64_t ts_next; /* timestamp of the next media message, ms since t0 */
	bool media_started;
	bool held;

	struct sb_buf out; /* reused for every message */
	struct stream_playout *po;
	struct stream_twilio_stats st;
};

/* ---- SIDs ---- */

static bool sid_valid(const char *s, const char *prefix)
{
	if (strlen(s) != STREAM_TWILIO_SID_LEN || memcmp(s, prefix, 2) != 0)
		return false;
	for (size_t i = 2; i < STREAM_TWILIO_SID_LEN; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

static int sid_make(char *dst, const char *given, const char *prefix)
{
	if (given) {
		if (!sid_valid(given, prefix))
			return SB_EINVAL;
		memcpy(dst, given, STREAM_TWILIO_SID_LEN + 1);
		return 0;
	}
	uint8_t r[16];
	int err = sb_random_bytes(r, sizeof(r));
	if (err)
		return err;
	static const char hex[] = "0123456789abcdef";
	dst[0] = prefix[0];
	dst[1] = prefix[1];
	for (size_t i = 0; i < sizeof(r); i++) {
		dst[2 + 2 * i] = hex[r[i] >> 4];
		dst[3 + 2 * i] = hex[r[i] & 15];
	}
	dst[STREAM_TWILIO_SID_LEN] = '\0';
	return 0;
}

/* ---- JSON building ---- */

/* Sets key to v (stolen, also on failure and when o is NULL); remembers a failure instead of
 * checking every call. */
static void jset(json_t *o, const char *key, json_t *v, bool *fail)
{
	if (json_object_set_new(o, key, v))
		*fail = true;
}

/* Values that are not UTF-8 cannot be sent as JSON strings: left out. */
static int params_add(json_t *o, const char *name, const char *value)
{
	if (!name || !*name || !value || json_object_get(o, name))
		return 0;
	json_t *v = json_string(value);
	if (!v)
		return 0;
	return json_object_set_new(o, name, v) ? SB_ENOMEM : 0;
}

static json_t *params_build(const struct stream_twilio_opts *o)
{
	json_t *p = json_object();
	if (!p)
		return NULL;
	const char *builtin[][2] = {
	    {"from_number", o->from_number},
	    {"to_number", o->to_number},
	    {"room", o->room},
	    {"participant", o->participant},
	    {"call_id", o->call_id},
	    {"sip_call_id", o->sip_call_id},
	};
	int err = 0;
	for (size_t i = 0; i < SB_ARRAY_LEN(builtin) && !err; i++)
		err = params_add(p, builtin[i][0], builtin[i][1]);
	for (size_t i = 0; i < o->n_params && !err; i++)
		err = params_add(p, o->params[i].name, o->params[i].value);
	if (err) {
		json_decref(p);
		return NULL;
	}
	return p;
}

static int send_buf(struct stream_twilio *t)
{
	int err = t->out.err;
	if (!err)
		err = t->h.send(t->arg, t->out.p, t->out.len);
	if (err) {
		t->st.out_errors++;
		return err;
	}
	t->st.out_msgs++;
	return 0;
}

/* Dump j (consumed) into the output buffer and send it. */
static int send_json(struct stream_twilio *t, json_t *j, bool fail)
{
	int err = 0;
	sb_buf_reset(&t->out);
	if (!j || fail) {
		err = SB_ENOMEM;
		goto out;
	}
	size_t n = json_dumpb(j, NULL, 0, JSON_COMPACT);
	if (n == 0 || sb_buf_reserve(&t->out, n + 1) != 0) {
		err = SB_ENOMEM;
		goto out;
	}
	t->out.len = json_dumpb(j, t->out.p, n, JSON_COMPACT);
	t->out.p[t->out.len] = '\0';
	err = send_buf(t);
	json_decref(j);
	return err;
out:
	t->st.out_errors++;
	json_decref(j);
	return err;
}

static json_t *seq_string(struct stream_twilio *t)
{
	char s[SEQ_STR_LEN];
	snprintf(s, sizeof(s), "%" PRIu64, t->seq + 1);
	return json_string(s);
}

/* A numbered Twilio event: sends it and takes the sequence number only if it went out. */
static int send_numbered(struct stream_twilio *t, json_t *j, bool fail)
{
	int err = send_json(t, j, fail);
	if (!err)
		t->seq++;
	return err;
}

/* ---- Lifecycle ---- */

int stream_twilio_new(struct stream_twilio **out, const struct stream_twilio_opts *o,
		      const struct stream_twilio_handlers *h, void *arg)
{
	static const struct stream_twilio_opts none;
	if (!h || !h->send)
		return SB_EINVAL;
	if (!o)
		o = &none;
	struct stream_twilio *t = calloc(1, sizeof(*t));
	if (!t)
		return SB_ENOMEM;
	t->h = *h;
	t->arg = arg;
	sb_buf_init(&t->out, NULL, 0);
	int err = sid_make(t->account_sid, o->account_sid, "AC");
	if (!err)
		err = sid_make(t->call_sid, o->call_sid, "CA");
	if (!err)
		err = sid_make(t->stream_sid, o->stream_sid, "MZ");
	if (err)
		goto fail;
	t->params = params_build(o);
	if (!t->params) {
		err = SB_ENOMEM;
		goto fail;
	}
	err = stream_playout_new(&t->po, &o->playout);
	if (err)
		goto fail;
	/* one media message is ~330 bytes: sized once, reused */
	if (sb_buf_reserve(&t->out, 512) != 0) {
		err = SB_ENOMEM;
		goto fail;
	}
	*out = t;
	return 0;
fail:
	stream_twilio_free(t);
	return err;
}

void stream_twilio_free(struct stream_twilio *t)
{
	if (!t)
		return;
	json_decref(t->params);
	stream_playout_free(t->po);
	sb_buf_free(&t->out);
	free(t);
}

/* ---- Outgoing ---- */

int stream_twilio_start(struct stream_twilio *t, sb_time_ms now)
{
	if (t->state != ST_NEW)
		return SB_ESTATE;
	t->state = ST_STARTED;
	t->t0 = now;

	bool fail = false;
	json_t *c = json_object();
	jset(c, "event", json_string("connected"), &fail);
	jset(c, "protocol", json_string("Call"), &fail);
	jset(c, "version", json_string("1.0.0"), &fail);
	int err = send_json(t, c, fail);
	if (err)
		return err;

	json_t *fmt = json_object();
	jset(fmt, "encoding", json_string("audio/x-mulaw"), &fail);
	jset(fmt, "sampleRate", json_integer(8000), &fail);
	jset(fmt, "channels", json_integer(1), &fail);
	json_t *tracks = json_array();
	if (!tracks || json_array_append_new(tracks, json_string("inbound")))
		fail = true;
	json_t *st = json_object();
	jset(st, "accountSid", json_string(t->account_sid), &fail);
	jset(st, "streamSid", json_string(t->stream_sid), &fail);
	jset(st, "callSid", json_string(t->call_sid), &fail);
	jset(st, "tracks", tracks, &fail);
	jset(st, "mediaFormat", fmt, &fail);
	jset(st, "customParameters", json_copy(t->params), &fail);
	json_t *m = json_object();
	jset(m, "event", json_string("start"), &fail);
	jset(m, "sequenceNumber", seq_string(t), &fail);
	jset(m, "start", st, &fail);
	jset(m, "streamSid", json_string(t->stream_sid), &fail);
	return send_numbered(t, m, fail);
}

/* One media message; the timestamp advances whether or not it could be sent. */
static int send_media(struct stream_twilio *t, const uint8_t *ulaw)
{
	char b64[(STREAM_TWILIO_FRAME + 2) / 3 * 4];
	size_t n = stream__b64_encode(ulaw, STREAM_TWILIO_FRAME, b64);
	struct sb_buf *b = &t->out;
	sb_buf_reset(b);
	sb_buf_append_cstr(b, "{\"event\":\"media\",\"sequenceNumber\":\"");
	sb_buf_append_u64(b, t->seq + 1);
	sb_buf_append_cstr(b, "\",\"media\":{\"track\":\"inbound\",\"chunk\":\"");
	sb_buf_append_u64(b, t->chunk + 1);
	sb_buf_append_cstr(b, "\",\"timestamp\":\"");
	sb_buf_append_u64(b, t->ts_next);
	sb_buf_append_cstr(b, "\",\"payload\":\"");
	sb_buf_append(b, b64, n);
	sb_buf_append_cstr(b, "\"},\"streamSid\":\"");
	sb_buf_append_cstr(b, t->stream_sid);
	sb_buf_append_cstr(b, "\"}");
	t->ts_next += FRAME_MS;
	int err = send_buf(t);
	if (err)
		return err;
	t->seq++;
	t->chunk++;
	t->st.out_media++;
	return 0;
}

static int send_silence(struct stream_twilio *t)
{
	uint8_t u[STREAM_TWILIO_FRAME];
	memset(u, ULAW_SILENCE, sizeof(u));
	int err = send_media(t, u);
	if (!err)
		t->st.out_silence++;
	return err;
}

int stream_twilio_media(struct stream_twilio *t, sb_time_ms now, const int16_t *pcm)
{
	if (t->state != ST_STARTED)
		return SB_ESTATE;
	uint64_t rel = now > t->t0 ? now - t->t0 : 0;
	if (!t->media_started) {
		t->media_started = true;
		t->ts_next = rel;
	} else if (rel > t->ts_next + GAP_JUMP_MS) {
		t->ts_next = rel;
		t->st.media_jumps++;
	} else {
		while (rel >= t->ts_next + GAP_FILL_MS) {
			int err = send_silence(t);
			if (err)
				return err;
		}
	}
	if (!pcm || t->held)
		return send_silence(t);
	uint8_t u[STREAM_TWILIO_FRAME];
	for (size_t i = 0; i < STREAM_TWILIO_FRAME; i++)
		u[i] = media_ulaw_encode(pcm[i]);
	return send_media(t, u);
}

int stream_twilio_dtmf(struct stream_twilio *t, char digit)
{
	if (digit >= 'a' && digit <= 'd')
		digit = (char)(digit - 'a' + 'A');
	if (!((digit >= '0' && digit <= '9') || digit == '*' || digit == '#' ||
	      (digit >= 'A' && digit <= 'D')))
		return SB_EINVAL;
	if (t->state != ST_STARTED)
		return SB_ESTATE;
	char d[2] = {digit, '\0'};
	bool fail = false;
	json_t *dt = json_object();
	jset(dt, "track", json_string("inbound_track"), &fail);
	jset(dt, "digit", json_string(d), &fail);
	json_t *m = json_object();
	jset(m, "event", json_string("dtmf"), &fail);
	jset(m, "streamSid", json_string(t->stream_sid), &fail);
	jset(m, "sequenceNumber", seq_string(t), &fail);
	jset(m, "dtmf", dt, &fail);
	return send_numbered(t, m, fail);
}

static int send_mark(struct stream_twilio *t, struct sb_slice name)
{
	bool fail = false;
	json_t *mk = json_object();
	jset(mk, "name", json_stringn(name.p, name.len), &fail);
	json_t *m = json_object();
	jset(m, "event", json_string("mark"), &fail);
	jset(m, "sequenceNumber", seq_string(t), &fail);
	jset(m, "streamSid", json_string(t->stream_sid), &fail);
	jset(m, "mark", mk, &fail);
	int err = send_numbered(t, m, fail);
	if (!err)
		t->st.out_marks++;
	return err;
}

/* Echo every reached mark, in order; the first error is returned, the rest still go. */
static int echo_reached(struct stream_twilio *t)
{
	struct sb_slice name;
	int first = 0;
	while (stream_playout_reached(t->po, &name)) {
		int err = send_mark(t, name);
		if (err && !first)
			first = err;
	}
	return first;
}

/* x-hold / x-resume: not numbered (see twilio.h). */
static int send_hold_event(struct stream_twilio *t, const char *event, sb_time_ms now,
			   const struct stream_twilio_hold *h)
{
	bool fail = false;
	char ts[SEQ_STR_LEN];
	snprintf(ts, sizeof(ts), "%" PRIu64, now > t->t0 ? now - t->t0 : 0);
	json_t *d = json_object();
	jset(d, "initiator", json_string(h && h->remote ? "remote" : "local"), &fail);
	if (h && h->direction) {
		json_t *dir = json_string(h->direction);
		if (dir)
			jset(d, "direction", dir, &fail);
	}
	jset(d, "timestamp", json_string(ts), &fail);
	json_t *m = json_object();
	jset(m, "event", json_string(event), &fail);
	jset(m, "streamSid", json_string(t->stream_sid), &fail);
	jset(m, event, d, &fail);
	return send_json(t, m, fail);
}

int stream_twilio_hold(struct stream_twilio *t, sb_time_ms now, const struct stream_twilio_hold *h)
{
	if (t->state != ST_STARTED || t->held)
		return SB_ESTATE;
	t->held = true;
	return send_hold_event(t, "x-hold", now, h);
}

int stream_twilio_resume(struct stream_twilio *t, sb_time_ms now,
			 const struct stream_twilio_hold *h)
{
	if (t->state != ST_STARTED || !t->held)
		return SB_ESTATE;
	t->held = false;
	return send_hold_event(t, "x-resume", now, h);
}

bool stream_twilio_held(const struct stream_twilio *t)
{
	return t->held;
}

int stream_twilio_transfer(struct stream_twilio *t, const struct stream_twilio_transfer *r)
{
	if (t->state != ST_STARTED)
		return SB_ESTATE;
	if (!r)
		return SB_EINVAL;
	bool fail = false;
	json_t *d = json_object();
	if (r->to) {
		json_t *to = json_string(r->to);
		if (to)
			jset(d, "to", to, &fail);
	}
	bool ok = r->sip_status >= 200 && r->sip_status < 300;
	jset(d, "status", json_string(ok ? "succeeded" : "failed"), &fail);
	jset(d, "sipStatusCode", json_integer(r->sip_status), &fail);
	if (r->sip_reason) {
		json_t *reason = json_string(r->sip_reason);
		if (reason)
			jset(d, "sipStatus", reason, &fail);
	}
	json_t *m = json_object();
	jset(m, "event", json_string("x-transfer"), &fail);
	jset(m, "streamSid", json_string(t->stream_sid), &fail);
	jset(m, "x-transfer", d, &fail);
	return send_json(t, m, fail);
}

int stream_twilio_stop(struct stream_twilio *t)
{
	if (t->state != ST_STARTED)
		return SB_ESTATE;
	t->state = ST_STOPPED;
	bool fail = false;
	json_t *sp = json_object();
	jset(sp, "accountSid", json_string(t->account_sid), &fail);
	jset(sp, "callSid", json_string(t->call_sid), &fail);
	json_t *m = json_object();
	jset(m, "event", json_string("stop"), &fail);
	jset(m, "sequenceNumber", seq_string(t), &fail);
	jset(m, "stop", sp, &fail);
	jset(m, "streamSid", json_string(t->stream_sid), &fail);
	return send_numbered(t, m, fail);
}

/* ---- Incoming ---- */

static int in_media(struct stream_twilio *t, json_t *root)
{
	json_t *payload = json_object_get(json_object_get(root, "media"), "payload");
	size_t n;
	if (!json_is_string(payload) ||
	    !stream__b64_check(json_string_value(payload), json_string_length(payload), &n))
		return SB_EMALFORMED;
	stream__b64_decode_into(t->po, json_string_value(payload), n);
	t->st.in_media++;
	return 0;
}

static int in_mark(struct stream_twilio *t, json_t *root)
{
	json_t *name = json_object_get(json_object_get(root, "mark"), "name");
	if (!json_is_string(name))
		return SB_EMALFORMED;
	int err =
	    stream_playout_mark(t->po, sb_slice(json_string_value(name), json_string_length(name)));
	if (err)
		return err; /* counted by the queue */
	t->st.in_marks++;
	return echo_reached(t); /* at once when nothing was queued */
}

int stream_twilio_input(struct stream_twilio *t, const char *text, size_t len)
{
	t->st.in_msgs++;
	if (t->state != ST_STARTED) {
		t->st.in_ignored++;
		return SB_ESTATE;
	}
	json_t *root = json_loadb(text, len, 0, NULL);
	json_t *ev = json_object_get(root, "event");
	int err;
	if (!json_is_string(ev)) {
		err = SB_EMALFORMED;
		goto out;
	}
	const char *e = json_string_value(ev);
	if (strcmp(e, "media") == 0) {
		err = in_media(t, root);
	} else if (strcmp(e, "mark") == 0) {
		err = in_mark(t, root);
	} else if (strcmp(e, "clear") == 0) {
		stream_playout_clear(t->po);
		t->st.in_clears++;
		err = echo_reached(t);
	} else if (strcmp(e, "connected") == 0 || strcmp(e, "start") == 0) {
		t->st.in_ignored++;
		err = SB_ESTATE;
		goto out;
	} else {
		t->st.in_unknown++;
		err = SB_EUNSUPPORTED;
		goto out;
	}
	if (err == SB_EMALFORMED)
		goto out;
	json_t *sid = json_object_get(root, "streamSid");
	if (json_is_string(sid) && strcmp(json_string_value(sid), t->stream_sid) != 0)
		t->st.in_sid_mismatch++;
out:
	if (err == SB_EMALFORMED)
		t->st.in_malformed++;
	json_decref(root);
	return err;
}

size_t stream_twilio_pull(struct stream_twilio *t, int16_t *pcm, size_t n)
{
	size_t got = stream_playout_pull(t->po, pcm, n);
	if (t->state == ST_STARTED)
		(void)echo_reached(t); /* a lost echo is counted in out_errors */
	return got;
}

size_t stream_twilio_echo_marks(struct stream_twilio *t, size_t max)
{
	size_t n = 0;
	struct sb_slice name;
	while (n < max && t->state == ST_STARTED && stream_playout_reached(t->po, &name)) {
		(void)send_mark(t, name); /* a lost echo is counted in out_errors */
		n++;
	}
	return n;
}

/* ---- Accessors ---- */

const char *stream_twilio_stream_sid(const struct stream_twilio *t)
{
	return t->stream_sid;
}

const char *stream_twilio_call_sid(const struct stream_twilio *t)
{
	return t->call_sid;
}

const char *stream_twilio_account_sid(const struct stream_twilio *t)
{
	return t->account_sid;
}

struct stream_playout *stream_twilio_playout(struct stream_twilio *t)
{
	return t->po;
}

const struct stream_twilio_stats *stream_twilio_stats(const struct stream_twilio *t)
{
	return &t->st;
}
