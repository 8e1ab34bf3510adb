/* Unit tests for src/stream/native.c (and the PCM16 mode of playout.c): the start message, audio
 * frames at every rate, events, marks and clear, call commands parsed for the handler, and bad
 * input answered with error events (never anything else). */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "stream/native.h"

#define ST "ST00112233445566778899aabbccddeeff"

/* ---- helpers ---- */

struct msg {
	bool binary;
	uint8_t *p;
	size_t len;
};

struct sink {
	struct msg *m;
	size_t n, cap;
	int fail; /* fail this many sends */
	/* the command handler */
	int cmd_err;
	size_t n_cmds;
	enum stream_native_cmd_type last_type;
	char last_to[128], last_id[128], last_digits[80];
	bool last_muted, last_attended;
};

static int sink_send(void *arg, bool binary, const void *p, size_t len)
{
	struct sink *s = arg;
	if (s->fail > 0) {
		s->fail--;
		return SB_EIO;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->m = realloc(s->m, s->cap * sizeof(*s->m));
		assert_non_null(s->m);
	}
	struct msg *m = &s->m[s->n++];
	m->binary = binary;
	m->len = len;
	m->p = malloc(len + 1);
	assert_non_null(m->p);
	memcpy(m->p, p, len);
	m->p[len] = 0;
	return 0;
}

static int sink_command(void *arg, const struct stream_native_cmd *c)
{
	struct sink *s = arg;
	s->n_cmds++;
	s->last_type = c->type;
	snprintf(s->last_to, sizeof(s->last_to), "%s", c->attended ? c->with : c->to ? c->to : "");
	s->last_attended = c->attended;
	snprintf(s->last_id, sizeof(s->last_id), "%s", c->id ? c->id : "");
	snprintf(s->last_digits, sizeof(s->last_digits), "%s", c->digits ? c->digits : "");
	s->last_muted = c->muted;
	return s->cmd_err;
}

static void sink_reset(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->m[i].p);
	s->n = 0;
}

static void sink_free(struct sink *s)
{
	sink_reset(s);
	free(s->m);
	memset(s, 0, sizeof(*s));
}

/* Message i as JSON (decref it); fails on a binary one. */
static json_t *msg_json(struct sink *s, size_t i)
{
	assert_true(i < s->n);
	assert_false(s->m[i].binary);
	json_error_t e;
	json_t *j = json_loadb((const char *)s->m[i].p, s->m[i].len, 0, &e);
	assert_non_null(j);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The type of message i (a static copy), or "binary". */
static const char *msg_type(struct sink *s, size_t i)
{
	static char t[64];
	if (s->m[i].binary)
		return "binary";
	json_t *j = msg_json(s, i);
	snprintf(t, sizeof(t), "%s", jstr(j, "type") ? jstr(j, "type") : "?");
	json_decref(j);
	return t;
}

static const struct stream_native_handlers handlers = {.send = sink_send, .command = sink_command};
static const struct stream_native_handlers handlers_nocmd = {.send = sink_send};

struct fx {
	struct sink s;
	struct stream_native *n;
};

static int fx_setup_rate(void **state, uint32_t rate)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct stream_native_opts o = {.rate = rate, .stream_id = ST, .room = "r1"};
	assert_int_equal(stream_native_new(&f->n, &o, &handlers, &f->s), 0);
	assert_int_equal(stream_native_start(f->n, 1000), 0);
	sink_reset(&f->s);
	*state = f;
	return 0;
}

static int fx_setup(void **state)
{
	return fx_setup_rate(state, 16000);
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	stream_native_free(f->n);
	sink_free(&f->s);
	free(f);
	return 0;
}

static int input(struct fx *f, const char *text)
{
	return stream_native_input(f->n, text, strlen(text));
}

/* The one error event expected from the last input: its code and id (NULL = none). */
static void expect_error(struct fx *f, const char *code, const char *id)
{
	assert_int_equal(f->s.n, 1);
	json_t *j = msg_json(&f->s, 0);
	assert_string_equal(jstr(j, "type"), "error");
	assert_string_equal(jstr(j, "code"), code);
	if (id)
		assert_string_equal(jstr(j, "id"), id);
	else
		assert_null(json_object_get(j, "id"));
	json_decref(j);
	sink_reset(&f->s);
}

/* ---- tests ---- */

static void test_start(void **state)
{
	(void)state;
	struct sink s = {0};
	const struct stream_native_attr attrs[] = {
	    {"sip.callID", "SCL_abc"}, {"sip.phoneNumber", "+15550100"}, {"other", "x"}};
	struct stream_native_opts o = {
	    .rate = 24000,
	    .stream_id = ST,
	    .room = "support",
	    .participant = "agent_" ST,
	    .caller = "sip_+15550100",
	    .call_id = "SCL_abc",
	    .sip_call_id = "a84b@pc33",
	    .from_number = "+15550100",
	    .to_number = "+15550199",
	    .call_status = "active",
	    .attrs = attrs,
	    .n_attrs = 3,
	};
	struct stream_native *n;
	assert_int_equal(stream_native_new(&n, &o, &handlers, &s), 0);
	assert_int_equal(stream_native_frame(n), 480);
	assert_int_equal(stream_native_start(n, 5), 0);
	assert_int_equal(stream_native_start(n, 5), SB_ESTATE);
	assert_int_equal(s.n, 1);
	json_t *j = msg_json(&s, 0);
	assert_string_equal(jstr(j, "type"), "start");
	assert_string_equal(jstr(j, "protocol"), STREAM_NATIVE_PROTOCOL);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	assert_string_equal(jstr(j, "streamId"), ST);
	assert_string_equal(jstr(j, "room"), "support");
	assert_string_equal(jstr(j, "participant"), "agent_" ST);
	json_t *c = json_object_get(j, "call");
	assert_string_equal(jstr(c, "participant"), "sip_+15550100");
	assert_string_equal(jstr(c, "callId"), "SCL_abc");
	assert_string_equal(jstr(c, "sipCallId"), "a84b@pc33");
	assert_string_equal(jstr(c, "from"), "+15550100");
	assert_string_equal(jstr(c, "to"), "+15550199");
	assert_string_equal(jstr(c, "direction"), "inbound");
	assert_string_equal(jstr(c, "status"), "active");
	json_t *at = json_object_get(c, "attributes");
	assert_int_equal(json_object_size(at), 2); /* sip.* only */
	assert_string_equal(jstr(at, "sip.phoneNumber"), "+15550100");
	json_t *m = json_object_get(j, "media");
	assert_string_equal(jstr(m, "encoding"), "pcm16le");
	assert_int_equal(json_integer_value(json_object_get(m, "sampleRate")), 24000);
	assert_int_equal(json_integer_value(json_object_get(m, "frameBytes")), 960);
	json_decref(j);
	/* call_state: only a change is sent */
	sink_reset(&s);
	assert_int_equal(stream_native_call_state(n, "active"), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(stream_native_call_state(n, "hangup"), 0);
	assert_int_equal(s.n, 1);
	j = msg_json(&s, 0);
	assert_string_equal(jstr(j, "type"), "call_state");
	assert_string_equal(jstr(j, "status"), "hangup");
	json_decref(j);
	stream_native_free(n);
	sink_free(&s);
}

static void test_bad_opts(void **state)
{
	(void)state;
	struct sink s = {0};
	struct stream_native *n = NULL;
	struct stream_native_opts o = {.rate = 11025};
	assert_int_equal(stream_native_new(&n, &o, &handlers, &s), SB_EINVAL);
	o.rate = 16000;
	o.stream_id = "MZ00112233445566778899aabbccddeeff";
	assert_int_equal(stream_native_new(&n, &o, &handlers, &s), SB_EINVAL);
	o.stream_id = NULL;
	assert_int_equal(stream_native_new(&n, &o, NULL, &s), SB_EINVAL);
	assert_true(stream_native_rate_valid(8000) && stream_native_rate_valid(48000));
	assert_false(stream_native_rate_valid(44100));
	/* default rate and a random id */
	assert_int_equal(stream_native_new(&n, NULL, &handlers, &s), 0);
	assert_int_equal(stream_native_rate(n), STREAM_NATIVE_RATE);
	assert_int_equal(strlen(stream_native_stream_id(n)), STREAM_NATIVE_ID_LEN);
	assert_memory_equal(stream_native_stream_id(n), "ST", 2);
	stream_native_free(n);
	sink_free(&s);
}

static void test_media_frames(void **state)
{
	(void)state;
	const uint32_t rates[] = {8000, 16000, 24000, 48000};
	for (size_t r = 0; r < 4; r++) {
		struct sink s = {0};
		struct stream_native_opts o = {.rate = rates[r]};
		struct stream_native *n;
		assert_int_equal(stream_native_new(&n, &o, &handlers, &s), 0);
		int16_t pcm[STREAM_NATIVE_MAX_FRAME];
		for (size_t i = 0; i < STREAM_NATIVE_MAX_FRAME; i++)
			pcm[i] = (int16_t)(i * 37 - 9000);
		assert_int_equal(stream_native_media(n, pcm), SB_ESTATE); /* not started */
		assert_int_equal(stream_native_start(n, 0), 0);
		sink_reset(&s);
		assert_int_equal(stream_native_media(n, pcm), 0);
		assert_int_equal(stream_native_media(n, NULL), 0);
		assert_int_equal(s.n, 2);
		size_t frame = rates[r] / 50;
		for (size_t k = 0; k < 2; k++) {
			assert_true(s.m[k].binary);
			assert_int_equal(s.m[k].len, frame * 2);
		}
		for (size_t i = 0; i < frame; i++) {
			int16_t v = (int16_t)(uint16_t)(s.m[0].p[2 * i] | s.m[0].p[2 * i + 1] << 8);
			assert_int_equal(v, pcm[i]);
			assert_int_equal(s.m[1].p[2 * i] | s.m[1].p[2 * i + 1], 0);
		}
		/* held: silence */
		assert_int_equal(stream_native_hold(n, 100, true, true, "sendonly"), 0);
		assert_int_equal(stream_native_hold(n, 100, true, true, NULL), SB_ESTATE);
		assert_true(stream_native_held(n));
		assert_int_equal(stream_native_media(n, pcm), 0);
		for (size_t i = 0; i < frame * 2; i++)
			assert_int_equal(s.m[3].p[i], 0);
		assert_int_equal(stream_native_stats(n)->out_silence, 2);
		json_t *j = msg_json(&s, 2);
		assert_string_equal(jstr(j, "type"), "hold");
		assert_string_equal(jstr(j, "initiator"), "remote");
		assert_string_equal(jstr(j, "direction"), "sendonly");
		assert_int_equal(json_integer_value(json_object_get(j, "timestamp")), 100);
		json_decref(j);
		assert_int_equal(stream_native_hold(n, 300, false, false, NULL), 0);
		j = msg_json(&s, 4);
		assert_string_equal(jstr(j, "type"), "resume");
		assert_string_equal(jstr(j, "initiator"), "local");
		json_decref(j);
		stream_native_free(n);
		sink_free(&s);
	}
}

static void test_events(void **state)
{
	struct fx *f = *state;
	assert_int_equal(stream_native_dtmf(f->n, 'x', 0), SB_EINVAL);
	assert_int_equal(stream_native_dtmf(f->n, 'b', 120), 0);
	assert_int_equal(stream_native_participant(f->n, true, "web_1", "web"), 0);
	assert_int_equal(stream_native_participant(f->n, false, "web_1", "web"), 0);
	struct stream_native_transfer t = {.id = "t1",
					   .to = "sip:a@b",
					   .status = "failed",
					   .sip_status = 486,
					   .sip_reason = "Busy"};
	assert_int_equal(stream_native_transfer(f->n, &t), 0);
	assert_int_equal(f->s.n, 4);
	json_t *j = msg_json(&f->s, 0);
	assert_string_equal(jstr(j, "type"), "dtmf");
	assert_string_equal(jstr(j, "digit"), "B");
	assert_int_equal(json_integer_value(json_object_get(j, "durationMs")), 120);
	json_decref(j);
	j = msg_json(&f->s, 1);
	assert_string_equal(jstr(j, "type"), "participant_joined");
	assert_string_equal(jstr(j, "identity"), "web_1");
	assert_string_equal(jstr(j, "kind"), "web");
	json_decref(j);
	assert_string_equal(msg_type(&f->s, 2), "participant_left");
	j = msg_json(&f->s, 3);
	assert_string_equal(jstr(j, "type"), "transfer");
	assert_string_equal(jstr(j, "id"), "t1");
	assert_string_equal(jstr(j, "status"), "failed");
	assert_int_equal(json_integer_value(json_object_get(j, "sipStatusCode")), 486);
	assert_string_equal(jstr(j, "sipStatus"), "Busy");
	json_decref(j);
	sink_reset(&f->s);
	/* stop ends it: nothing more is sent, input is refused without an event */
	assert_int_equal(stream_native_stop(f->n, "call_ended"), 0);
	j = msg_json(&f->s, 0);
	assert_string_equal(jstr(j, "type"), "stop");
	assert_string_equal(jstr(j, "reason"), "call_ended");
	json_decref(j);
	sink_reset(&f->s);
	assert_int_equal(stream_native_stop(f->n, NULL), SB_ESTATE);
	assert_int_equal(stream_native_dtmf(f->n, '1', 0), SB_ESTATE);
	assert_int_equal(input(f, "{\"type\":\"clear\"}"), SB_ESTATE);
	assert_int_equal(input(f, "junk"), SB_ESTATE);
	assert_int_equal(f->s.n, 0);
}

/* Binary audio is queued as PCM16LE: odd splits, marks echoed when pulled past. */
static void test_binary_and_marks(void **state)
{
	struct fx *f = *state;
	struct stream_playout *po = stream_native_playout(f->n);
	uint8_t b[640 * 2];
	for (size_t i = 0; i < 640; i++) {
		int16_t v = (int16_t)(i * 11 - 3000);
		b[2 * i] = (uint8_t)((uint16_t)v & 0xff);
		b[2 * i + 1] = (uint8_t)((uint16_t)v >> 8);
	}
	assert_int_equal(stream_native_input_binary(f->n, b, 321),
			 0); /* half a sample at the end */
	assert_int_equal(stream_playout_queued(po), 160);
	assert_int_equal(stream_native_input_binary(f->n, b + 321, sizeof(b) - 321), 0);
	assert_int_equal(stream_playout_queued(po), 640);
	assert_int_equal(input(f, "{\"type\":\"mark\",\"name\":\"m1\"}"), 0);
	assert_int_equal(f->s.n, 0); /* queued audio before it */
	int16_t pcm[320];
	assert_int_equal(stream_playout_pull(po, pcm, 320), 320);
	for (size_t i = 0; i < 320; i++)
		assert_int_equal(pcm[i], (int16_t)(i * 11 - 3000));
	assert_int_equal(stream_native_echo_marks(f->n, 8), 0);
	assert_int_equal(stream_playout_pull(po, pcm, 320), 320);
	assert_int_equal(stream_native_echo_marks(f->n, 8), 1);
	json_t *j = msg_json(&f->s, 0);
	assert_string_equal(jstr(j, "type"), "mark");
	assert_string_equal(jstr(j, "name"), "m1");
	json_decref(j);
	sink_reset(&f->s);
	/* empty queue: at once */
	assert_int_equal(input(f, "{\"type\":\"mark\",\"name\":\"e1\"}"), 0);
	assert_int_equal(f->s.n, 1);
	assert_string_equal(msg_type(&f->s, 0), "mark");
	sink_reset(&f->s);
	assert_int_equal(stream_native_stats(f->n)->in_marks, 2);
	assert_int_equal(stream_native_stats(f->n)->out_marks, 2);
}

static void test_json_media_and_clear(void **state)
{
	struct fx *f = *state;
	struct stream_playout *po = stream_native_playout(f->n);
	/* 4 samples: 1, -1, 256, -32768 little-endian = 01 00 ff ff 00 01 00 80 */
	assert_int_equal(input(f, "{\"type\":\"media\",\"payload\":\"AQD//wABAIA=\"}"), 0);
	assert_int_equal(input(f, "{\"type\":\"media\",\"payload\":\"AQD__wABAIA\"}"), 0); /* URL */
	assert_int_equal(f->s.n, 0);
	assert_int_equal(stream_playout_queued(po), 8);
	int16_t pcm[4];
	assert_int_equal(stream_playout_pull(po, pcm, 4), 4);
	assert_int_equal(pcm[0], 1);
	assert_int_equal(pcm[1], -1);
	assert_int_equal(pcm[2], 256);
	assert_int_equal(pcm[3], -32768);
	/* clear echoes pending marks in order */
	assert_int_equal(input(f, "{\"type\":\"mark\",\"name\":\"c1\"}"), 0);
	assert_int_equal(input(f, "{\"type\":\"mark\",\"name\":\"c2\",\"id\":\"x\"}"), 0);
	assert_int_equal(f->s.n, 0);
	assert_int_equal(input(f, "{\"type\":\"clear\"}"), 0);
	assert_int_equal(stream_playout_queued(po), 0);
	assert_int_equal(f->s.n, 2);
	json_t *j = msg_json(&f->s, 0);
	assert_string_equal(jstr(j, "name"), "c1");
	json_decref(j);
	j = msg_json(&f->s, 1);
	assert_string_equal(jstr(j, "name"), "c2");
	json_decref(j);
	sink_reset(&f->s);
	/* a bad payload queues nothing */
	assert_int_equal(input(f, "{\"type\":\"media\",\"payload\":\"AQD!\",\"id\":\"p\"}"),
			 SB_EMALFORMED);
	expect_error(f, "malformed", "p");
	assert_int_equal(stream_playout_queued(po), 0);
}

static void test_commands(void **state)
{
	struct fx *f = *state;
	assert_int_equal(input(f, "{\"type\":\"hangup\",\"id\":\"h\"}"), 0);
	assert_int_equal(f->s.last_type, STREAM_NATIVE_CMD_HANGUP);
	assert_string_equal(f->s.last_id, "h");
	assert_int_equal(input(f, "{\"type\":\"transfer\",\"to\":\"tel:+15550123\"}"), 0);
	assert_int_equal(f->s.last_type, STREAM_NATIVE_CMD_TRANSFER);
	assert_string_equal(f->s.last_to, "tel:+15550123");
	assert_string_equal(f->s.last_id, "");
	assert_false(f->s.last_attended);
	/* attended: to the far end of another participant's call */
	assert_int_equal(input(f, "{\"type\":\"transfer\",\"attended\":true,\"with\":\"sip_bob\"}"),
			 0);
	assert_true(f->s.last_attended);
	assert_string_equal(f->s.last_to, "sip_bob");
	assert_int_equal(input(f, "{\"type\":\"hold\"}"), 0);
	assert_int_equal(f->s.last_type, STREAM_NATIVE_CMD_HOLD);
	assert_int_equal(input(f, "{\"type\":\"resume\"}"), 0);
	assert_int_equal(f->s.last_type, STREAM_NATIVE_CMD_RESUME);
	assert_int_equal(input(f, "{\"type\":\"send_dtmf\",\"digits\":\"12w#\"}"), 0);
	assert_int_equal(f->s.last_type, STREAM_NATIVE_CMD_SEND_DTMF);
	assert_string_equal(f->s.last_digits, "12w#");
	assert_int_equal(input(f, "{\"type\":\"mute\"}"), 0);
	assert_true(f->s.last_muted);
	assert_int_equal(input(f, "{\"type\":\"mute\",\"muted\":false}"), 0);
	assert_false(f->s.last_muted);
	/* hello/config naming the stream's rate (or none) are fine */
	assert_int_equal(input(f, "{\"type\":\"hello\",\"sampleRate\":16000}"), 0);
	assert_int_equal(input(f, "{\"type\":\"config\"}"), 0);
	assert_int_equal(f->s.n_cmds, 8);
	assert_int_equal(f->s.n, 0); /* accepted commands send nothing themselves */
	assert_int_equal(stream_native_stats(f->n)->in_commands, 8);
	/* the handler's refusal becomes an error event with its code */
	f->s.cmd_err = SB_EBUSY;
	assert_int_equal(input(f, "{\"type\":\"transfer\",\"to\":\"sip:x@y\",\"id\":\"t2\"}"),
			 SB_EBUSY);
	expect_error(f, "busy", "t2");
	f->s.cmd_err = SB_ESTATE;
	assert_int_equal(input(f, "{\"type\":\"hold\"}"), SB_ESTATE);
	expect_error(f, "state", NULL);
	assert_int_equal(f->s.n_cmds, 10);
}

static void test_bad_commands(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *text;
		const char *code;
		const char *id;
	} bad[] = {
	    {"", "malformed", NULL},
	    {"not json", "malformed", NULL},
	    {"[1,2]", "malformed", NULL},
	    {"\"str\"", "malformed", NULL},
	    {"{}", "malformed", NULL},
	    {"{\"type\":7,\"id\":\"a\"}", "malformed", "a"},
	    {"{\"type\":\"nope\",\"id\":\"b\"}", "unsupported", "b"},
	    {"{\"type\":\"start\"}", "unsupported", NULL},
	    {"{\"type\":\"media\"}", "malformed", NULL},
	    {"{\"type\":\"media\",\"payload\":5}", "malformed", NULL},
	    {"{\"type\":\"media\",\"payload\":\"A\"}", "malformed", NULL},
	    {"{\"type\":\"mark\"}", "malformed", NULL},
	    {"{\"type\":\"mark\",\"name\":1}", "malformed", NULL},
	    {"{\"type\":\"transfer\"}", "invalid", NULL},
	    {"{\"type\":\"transfer\",\"to\":\"http://x\"}", "invalid", NULL},
	    {"{\"type\":\"transfer\",\"to\":\"sip:\"}", "invalid", NULL},
	    {"{\"type\":\"transfer\",\"to\":\"sip:a b\"}", "invalid", NULL},
	    {"{\"type\":\"transfer\",\"to\":\"sip:a@b\",\"attended\":true}", "invalid", NULL},
	    {"{\"type\":\"transfer\",\"attended\":true,\"with\":\"\"}", "invalid", NULL},
	    {"{\"type\":\"transfer\",\"attended\":1,\"with\":\"b\"}", "invalid", NULL},
	    {"{\"type\":\"send_dtmf\"}", "invalid", NULL},
	    {"{\"type\":\"send_dtmf\",\"digits\":\"\"}", "invalid", NULL},
	    {"{\"type\":\"send_dtmf\",\"digits\":\"1x\"}", "invalid", NULL},
	    {"{\"type\":\"mute\",\"muted\":1}", "invalid", NULL},
	    {"{\"type\":\"config\",\"sampleRate\":8000,\"id\":\"c\"}", "invalid", "c"},
	    {"{\"type\":\"hello\",\"sampleRate\":\"16000\"}", "invalid", NULL},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_not_equal(input(f, bad[i].text), 0);
		expect_error(f, bad[i].code, bad[i].id);
	}
	assert_int_equal(f->s.n_cmds, 0);
	/* an id that is too long is not echoed */
	char big[400];
	memset(big, 'i', 200);
	snprintf(big + 200, sizeof(big) - 200, "\",\"type\":\"nope\"}");
	char text[500];
	snprintf(text, sizeof(text), "{\"id\":\"%s", big);
	assert_int_equal(input(f, text), SB_EUNSUPPORTED);
	expect_error(f, "unsupported", NULL);
	/* a mark name over the limit */
	char name[STREAM_PLAYOUT_MARK_NAME + 64];
	memset(name, 'n', STREAM_PLAYOUT_MARK_NAME + 1);
	name[STREAM_PLAYOUT_MARK_NAME + 1] = '\0';
	char mk[STREAM_PLAYOUT_MARK_NAME + 128];
	snprintf(mk, sizeof(mk), "{\"type\":\"mark\",\"name\":\"%s\"}", name);
	assert_int_equal(input(f, mk), SB_ETOOBIG);
	expect_error(f, "invalid", NULL);
}

static void test_no_command_handler(void **state)
{
	(void)state;
	struct sink s = {0};
	struct stream_native *n;
	assert_int_equal(stream_native_new(&n, NULL, &handlers_nocmd, &s), 0);
	assert_int_equal(stream_native_start(n, 0), 0);
	sink_reset(&s);
	const char *t = "{\"type\":\"hangup\",\"id\":\"z\"}";
	assert_int_equal(stream_native_input(n, t, strlen(t)), SB_EUNSUPPORTED);
	assert_int_equal(s.n, 1);
	json_t *j = msg_json(&s, 0);
	assert_string_equal(jstr(j, "code"), "unsupported");
	assert_string_equal(jstr(j, "command"), "hangup");
	assert_string_equal(jstr(j, "id"), "z");
	json_decref(j);
	stream_native_free(n);
	sink_free(&s);
}

static void test_send_failure_counted(void **state)
{
	struct fx *f = *state;
	f->s.fail = 2;
	assert_int_equal(stream_native_media(f->n, NULL), SB_EIO);
	assert_int_equal(stream_native_dtmf(f->n, '1', 0), SB_EIO);
	assert_int_equal(stream_native_stats(f->n)->out_errors, 2);
	assert_int_equal(stream_native_media(f->n, NULL), 0);
	assert_int_equal(stream_native_stats(f->n)->out_media, 1);
}

static void test_err_codes(void **state)
{
	(void)state;
	assert_string_equal(stream_native_err_code(SB_EMALFORMED), "malformed");
	assert_string_equal(stream_native_err_code(SB_EINVAL), "invalid");
	assert_string_equal(stream_native_err_code(SB_EUNSUPPORTED), "unsupported");
	assert_string_equal(stream_native_err_code(SB_EBUSY), "busy");
	assert_string_equal(stream_native_err_code(SB_ENOTFOUND), "not_found");
	assert_string_equal(stream_native_err_code(SB_ESTATE), "state");
	assert_string_equal(stream_native_err_code(SB_ENOMEM), "no_resources");
	assert_string_equal(stream_native_err_code(SB_EIO), "failed");
}

/* The PCM16 queue's cap is in time at its rate. */
static void test_playout_pcm16_cap(void **state)
{
	(void)state;
	struct stream_playout *po;
	struct stream_playout_opts o = {.max_ms = 100, .pcm16 = true, .rate = 48000};
	assert_int_equal(stream_playout_new(&po, &o), 0);
	assert_int_equal(stream_playout_capacity(po), 4800);
	static uint8_t b[20000];
	assert_int_equal(stream_playout_push_pcm16le(po, b, sizeof(b)), 9600);
	assert_int_equal(stream_playout_push_ulaw(po, b, 10), 0); /* wrong kind */
	assert_int_equal(stream_playout_queued(po), 4800);
	assert_int_equal(stream_playout_stats(po)->bytes_dropped, sizeof(b) - 9600);
	stream_playout_free(po);
	o.rate = 11025;
	assert_int_equal(stream_playout_new(&po, &o), SB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_start),
	    cmocka_unit_test(test_bad_opts),
	    cmocka_unit_test(test_media_frames),
	    cmocka_unit_test_setup_teardown(test_events, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_binary_and_marks, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_json_media_and_clear, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_commands, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_commands, fx_setup, fx_teardown),
	    cmocka_unit_test(test_no_command_handler),
	    cmocka_unit_test_setup_teardown(test_send_failure_counted, fx_setup, fx_teardown),
	    cmocka_unit_test(test_err_codes),
	    cmocka_unit_test(test_playout_pcm16_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
