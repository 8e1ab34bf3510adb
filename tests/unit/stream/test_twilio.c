/* Unit tests for src/stream/twilio.c with time driven explicitly: golden messages, sequence, chunk
 * and timestamp continuity (hold, stalls), μ-law round trips, marks, clear, big/tiny/bad input. */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/compat.h"
#include "base/err.h"
#include "media/codec.h"
#include "stream/twilio.h"

#define AC "AC0123456789abcdef0123456789abcdef"
#define CA "CAfedcba9876543210fedcba9876543210"
#define MZ "MZ00112233445566778899aabbccddeeff"
/* 160 bytes of 0xFF */
#define SILENCE_B64                                                                                \
	"////////////////////////////////////////////////////////////////////////////////////////" \
	"////////////////////////////////////////////////////////////////////////////////////////" \
	"/////////////////////////////////////w=="

/* ---- helpers ---- */

struct sink {
	char **msg;
	size_t n, cap;
	int fail; /* fail this many sends */
};

static int sink_send(void *arg, const char *text, size_t len)
{
	struct sink *s = arg;
	if (s->fail > 0) {
		s->fail--;
		return SB_EIO;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->msg = realloc(s->msg, s->cap * sizeof(*s->msg));
		assert_non_null(s->msg);
	}
	char *c = malloc(len + 1);
	assert_non_null(c);
	memcpy(c, text, len);
	c[len] = '\0';
	s->msg[s->n++] = c;
	return 0;
}

static void sink_reset(struct sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->msg[i]);
	s->n = 0;
}

static void sink_free(struct sink *s)
{
	sink_reset(s);
	free(s->msg);
}

static const struct stream_twilio_handlers handlers = {sink_send};

struct fx {
	struct sink sink;
	struct stream_twilio *t;
};

static struct stream_twilio *mk(struct sink *s, const struct stream_twilio_opts *extra)
{
	struct stream_twilio_opts o = {0};
	if (extra)
		o = *extra;
	o.account_sid = AC;
	o.call_sid = CA;
	o.stream_sid = MZ;
	struct stream_twilio *t = NULL;
	assert_int_equal(stream_twilio_new(&t, &o, &handlers, s), 0);
	return t;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->t = mk(&f->sink, NULL);
	assert_int_equal(stream_twilio_start(f->t, 1000), 0);
	sink_reset(&f->sink); /* connected + start are tested on their own */
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	stream_twilio_free(f->t);
	sink_free(&f->sink);
	free(f);
	return 0;
}

static char *canon(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, text);
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

/* Same JSON, key order aside: both sides through json_dumps(JSON_SORT_KEYS|JSON_COMPACT). */
static void assert_json(const char *got, const char *want)
{
	char *a = canon(got), *b = canon(want);
	if (strcmp(a, b) != 0)
		print_error("got  %s\nwant %s\n", a, b);
	assert_string_equal(a, b);
	free(a);
	free(b);
}

static json_t *parse(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char *jstr(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);
	if (b)
		v = json_object_get(v, b);
	return json_string_value(v);
}

static unsigned long long jnum(json_t *j, const char *a, const char *b)
{
	const char *s = jstr(j, a, b);
	assert_non_null(s);
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	assert_true(*s && !*end);
	return v;
}

static const char b64a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64(const uint8_t *in, size_t n)
{
	char *out = malloc((n + 2) / 3 * 4 + 1);
	assert_non_null(out);
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = b64a[v >> 18 & 63];
		out[o++] = b64a[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64a[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64a[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

static size_t unb64(const char *s, uint8_t *out, size_t cap)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	for (; *s && *s != '='; s++) {
		const char *p = strchr(b64a, *s);
		assert_non_null(p);
		acc = (acc << 6 | (uint32_t)(p - b64a)) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			assert_true(o < cap);
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return o;
}

/* Send μ-law bytes as one agent media message. */
static int send_media(struct stream_twilio *t, const uint8_t *u, size_t n)
{
	char *p = b64(u, n);
	size_t cap = strlen(p) + 128;
	char *msg = malloc(cap);
	assert_non_null(msg);
	int len = snprintf(
	    msg, cap, "{\"event\":\"media\",\"streamSid\":\"%s\",\"media\":{\"payload\":\"%s\"}}",
	    MZ, p);
	int err = stream_twilio_input(t, msg, (size_t)len);
	free(p);
	free(msg);
	return err;
}

static int send_mark(struct stream_twilio *t, const char *name)
{
	char msg[256];
	int len = snprintf(
	    msg, sizeof(msg),
	    "{\"event\":\"mark\",\"streamSid\":\"" MZ "\",\"mark\":{\"name\":\"%s\"}}", name);
	return stream_twilio_input(t, msg, (size_t)len);
}

static int send_text(struct stream_twilio *t, const char *text)
{
	return stream_twilio_input(t, text, strlen(text));
}

/* Message i is a mark echo named name. */
static void assert_echo(struct sink *s, size_t i, const char *name)
{
	assert_true(i < s->n);
	json_t *j = parse(s->msg[i]);
	assert_string_equal(jstr(j, "event", NULL), "mark");
	assert_string_equal(jstr(j, "mark", "name"), name);
	json_decref(j);
}

/* Every numbered message continues the count; media chunks count from the first one seen and
 * timestamps advance by 20. */
static void assert_continuous(struct sink *s, unsigned long long seq0)
{
	unsigned long long seq = seq0, chunk = 0, ts = 0;
	bool first = true;
	for (size_t i = 0; i < s->n; i++) {
		json_t *j = parse(s->msg[i]);
		if (json_object_get(j, "sequenceNumber"))
			assert_int_equal(jnum(j, "sequenceNumber", NULL), seq++);
		if (strcmp(jstr(j, "event", NULL), "media") == 0) {
			if (!first) {
				assert_int_equal(jnum(j, "media", "chunk"), chunk + 1);
				assert_int_equal(jnum(j, "media", "timestamp"), ts + 20);
			}
			first = false;
			chunk = jnum(j, "media", "chunk");
			ts = jnum(j, "media", "timestamp");
		}
		json_decref(j);
	}
}

static void tone(int16_t *pcm, size_t n, size_t off, double hz)
{
	for (size_t i = 0; i < n; i++)
		pcm[i] = (int16_t)(8000.0 * sin(2.0 * M_PI * hz * (double)(off + i) / 8000.0));
}

/* ---- golden messages ---- */

static void test_connected_start(void **state)
{
	(void)state;
	struct sink s = {0};
	const struct stream_twilio_param params[] = {
	    {"FirstName", "Jane"}, {"room", "ignored: built-in wins"}, {NULL, "x"}, {"k", NULL}};
	struct stream_twilio_opts o = {
	    .from_number = "+15550100",
	    .to_number = "+15550199",
	    .room = "support",
	    .participant = "sip_+15550100",
	    .call_id = "SCL_abc",
	    .sip_call_id = "a84b4c76e66710@pc33",
	    .params = params,
	    .n_params = SB_ARRAY_LEN(params),
	};
	struct stream_twilio *t = mk(&s, &o);
	assert_int_equal(stream_twilio_start(t, 5000), 0);
	assert_int_equal(stream_twilio_start(t, 5000), SB_ESTATE);
	assert_int_equal(s.n, 2);
	/* byte for byte: compact, Twilio's field order */
	assert_string_equal(
	    s.msg[0], "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}");
	assert_string_equal(
	    s.msg[1],
	    "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"start\":{\"accountSid\":\"" AC
	    "\",\"streamSid\":\"" MZ "\",\"callSid\":\"" CA "\",\"tracks\":[\"inbound\"],"
	    "\"mediaFormat\":{\"encoding\":\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1},"
	    "\"customParameters\":{\"from_number\":\"+15550100\",\"to_number\":\"+15550199\","
	    "\"room\":\"support\",\"participant\":\"sip_+15550100\",\"call_id\":\"SCL_abc\","
	    "\"sip_call_id\":\"a84b4c76e66710@pc33\",\"FirstName\":\"Jane\"}},\"streamSid\":\"" MZ
	    "\"}");
	/* the notes' shape, in their key order */
	assert_json(
	    s.msg[1],
	    "{\"event\":\"start\",\"sequenceNumber\":\"1\",\"streamSid\":\"" MZ "\","
	    "\"start\":{\"accountSid\":\"" AC "\",\"streamSid\":\"" MZ "\",\"callSid\":\"" CA
	    "\",\"tracks\":[\"inbound\"],\"customParameters\":{\"FirstName\":\"Jane\","
	    "\"from_number\":\"+15550100\",\"to_number\":\"+15550199\",\"room\":\"support\","
	    "\"participant\":\"sip_+15550100\",\"call_id\":\"SCL_abc\","
	    "\"sip_call_id\":\"a84b4c76e66710@pc33\"},\"mediaFormat\":{\"encoding\":"
	    "\"audio/x-mulaw\",\"sampleRate\":8000,\"channels\":1}}}");
	/* Pipecat's runner detection and the OpenAI transport's strict format check */
	json_t *j = parse(s.msg[1]);
	json_t *fmt = json_object_get(json_object_get(j, "start"), "mediaFormat");
	assert_true(json_is_integer(json_object_get(fmt, "sampleRate")));
	assert_int_equal(json_integer_value(json_object_get(fmt, "sampleRate")), 8000);
	assert_int_equal(json_integer_value(json_object_get(fmt, "channels")), 1);
	assert_non_null(jstr(j, "start", "callSid"));
	json_decref(j);
	stream_twilio_free(t);
	sink_free(&s);
}

static void test_minimal_start_and_sids(void **state)
{
	(void)state;
	struct sink s = {0};
	struct stream_twilio *t = NULL;
	assert_int_equal(stream_twilio_new(&t, NULL, &handlers, &s), 0);
	const char *sids[] = {stream_twilio_account_sid(t), stream_twilio_call_sid(t),
			      stream_twilio_stream_sid(t)};
	const char *pre[] = {"AC", "CA", "MZ"};
	for (int i = 0; i < 3; i++) {
		assert_int_equal(strlen(sids[i]), 34);
		assert_memory_equal(sids[i], pre[i], 2);
		assert_int_equal(strspn(sids[i] + 2, "0123456789abcdef"), 32);
	}
	assert_int_equal(stream_twilio_start(t, 0), 0);
	json_t *j = parse(s.msg[1]);
	assert_int_equal(
	    json_object_size(json_object_get(json_object_get(j, "start"), "customParameters")), 0);
	json_decref(j);
	stream_twilio_free(t);
	sink_free(&s);

	struct stream_twilio_opts bad = {.stream_sid = "MZ123"};
	assert_int_equal(stream_twilio_new(&t, &bad, &handlers, &s), SB_EINVAL);
	bad.stream_sid = "CA00112233445566778899aabbccddeeff"; /* wrong prefix */
	assert_int_equal(stream_twilio_new(&t, &bad, &handlers, &s), SB_EINVAL);
	bad.stream_sid = "MZ00112233445566778899aabbccddeefg";
	assert_int_equal(stream_twilio_new(&t, &bad, &handlers, &s), SB_EINVAL);
	struct stream_twilio_handlers none = {NULL};
	assert_int_equal(stream_twilio_new(&t, NULL, &none, &s), SB_EINVAL);
}

static void test_media_dtmf_mark_stop_golden(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	assert_int_equal(stream_twilio_media(f->t, 1000, NULL), 0);
	assert_string_equal(
	    s->msg[0], "{\"event\":\"media\",\"sequenceNumber\":\"2\",\"media\":{\"track\":"
		       "\"inbound\",\"chunk\":\"1\",\"timestamp\":\"0\",\"payload\":\"" SILENCE_B64
		       "\"},\"streamSid\":\"" MZ "\"}");
	assert_int_equal(stream_twilio_dtmf(f->t, '5'), 0);
	assert_json(s->msg[1],
		    "{\"event\":\"dtmf\",\"streamSid\":\"" MZ "\",\"sequenceNumber\":\"3\","
		    "\"dtmf\":{\"track\":\"inbound_track\",\"digit\":\"5\"}}");
	assert_int_equal(stream_twilio_dtmf(f->t, '#'), 0);
	assert_int_equal(stream_twilio_dtmf(f->t, 'b'), 0);
	json_t *j = parse(s->msg[3]);
	assert_string_equal(jstr(j, "dtmf", "digit"), "B");
	json_decref(j);
	assert_int_equal(stream_twilio_dtmf(f->t, 'x'), SB_EINVAL);
	assert_int_equal(stream_twilio_dtmf(f->t, '\0'), SB_EINVAL);
	/* mark on an empty queue: echoed at once */
	assert_int_equal(send_mark(f->t, "my label"), 0);
	assert_int_equal(s->n, 5);
	assert_json(s->msg[4], "{\"event\":\"mark\",\"sequenceNumber\":\"6\",\"streamSid\":\"" MZ
			       "\",\"mark\":{\"name\":\"my label\"}}");
	assert_int_equal(stream_twilio_stop(f->t), 0);
	assert_json(s->msg[5],
		    "{\"event\":\"stop\",\"sequenceNumber\":\"7\",\"stop\":{\"accountSid\":"
		    "\"" AC "\",\"callSid\":\"" CA "\"},\"streamSid\":\"" MZ "\"}");
	assert_string_equal(s->msg[5], "{\"event\":\"stop\",\"sequenceNumber\":\"7\",\"stop\":{"
				       "\"accountSid\":\"" AC "\",\"callSid\":\"" CA
				       "\"},\"streamSid\":\"" MZ "\"}");
	/* over: nothing more goes out, nothing comes in */
	assert_int_equal(stream_twilio_stop(f->t), SB_ESTATE);
	assert_int_equal(stream_twilio_media(f->t, 1020, NULL), SB_ESTATE);
	assert_int_equal(stream_twilio_dtmf(f->t, '1'), SB_ESTATE);
	assert_int_equal(send_mark(f->t, "late"), SB_ESTATE);
	assert_int_equal(s->n, 6);
	assert_int_equal(stream_twilio_stats(f->t)->in_ignored, 1);
	assert_int_equal(stream_twilio_stats(f->t)->out_msgs, 8); /* with connected, start */
}

static void test_extensions_golden(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	struct stream_twilio_hold h = {.remote = true, .direction = "sendonly"};
	assert_int_equal(stream_twilio_resume(f->t, 1100, &h), SB_ESTATE);
	assert_int_equal(stream_twilio_hold(f->t, 1100, &h), 0);
	assert_true(stream_twilio_held(f->t));
	assert_int_equal(stream_twilio_hold(f->t, 1100, &h), SB_ESTATE);
	assert_json(s->msg[0], "{\"event\":\"x-hold\",\"streamSid\":\"" MZ "\",\"x-hold\":{"
			       "\"initiator\":\"remote\",\"direction\":\"sendonly\","
			       "\"timestamp\":\"100\"}}");
	assert_int_equal(stream_twilio_resume(f->t, 3000, NULL), 0);
	assert_false(stream_twilio_held(f->t));
	assert_json(s->msg[1], "{\"event\":\"x-resume\",\"streamSid\":\"" MZ "\",\"x-resume\":{"
			       "\"initiator\":\"local\",\"timestamp\":\"2000\"}}");
	struct stream_twilio_transfer busy = {"sip:+15550123@pbx.example.com", 486, "Busy Here"};
	assert_int_equal(stream_twilio_transfer(f->t, &busy), 0);
	assert_json(s->msg[2], "{\"event\":\"x-transfer\",\"streamSid\":\"" MZ "\",\"x-transfer\":{"
			       "\"to\":\"sip:+15550123@pbx.example.com\",\"status\":\"failed\","
			       "\"sipStatusCode\":486,\"sipStatus\":\"Busy Here\"}}");
	struct stream_twilio_transfer ok = {NULL, 200, NULL};
	assert_int_equal(stream_twilio_transfer(f->t, &ok), 0);
	assert_json(s->msg[3], "{\"event\":\"x-transfer\",\"streamSid\":\"" MZ "\",\"x-transfer\":{"
			       "\"status\":\"succeeded\",\"sipStatusCode\":200}}");
	/* not numbered: the next Twilio event is still "2" */
	assert_int_equal(stream_twilio_dtmf(f->t, '1'), 0);
	json_t *j = parse(s->msg[4]);
	assert_string_equal(jstr(j, "sequenceNumber", NULL), "2");
	json_decref(j);
}

/* ---- continuity ---- */

static void test_continuity_over_hold(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	int16_t pcm[STREAM_TWILIO_FRAME];
	sb_time_ms now = 1003; /* ticks need not be aligned with start */
	size_t off = 0;
	for (int k = 0; k < 90; k++, now += 20, off += STREAM_TWILIO_FRAME) {
		if (k == 30)
			assert_int_equal(stream_twilio_hold(f->t, now, NULL), 0);
		if (k == 60)
			assert_int_equal(stream_twilio_resume(f->t, now, NULL), 0);
		if (k == 45)
			assert_int_equal(stream_twilio_dtmf(f->t, '9'), 0);
		tone(pcm, STREAM_TWILIO_FRAME, off, 440.0);
		assert_int_equal(stream_twilio_media(f->t, now, pcm), 0);
	}
	assert_int_equal(s->n, 93);
	assert_continuous(s, 2);
	/* timestamps start at the first frame's offset from start, frames on hold are silence */
	size_t media = 0;
	for (size_t i = 0; i < s->n; i++) {
		json_t *j = parse(s->msg[i]);
		if (strcmp(jstr(j, "event", NULL), "media") == 0) {
			assert_int_equal(jnum(j, "media", "timestamp"), 3 + 20 * media);
			bool on_hold = media >= 30 && media < 60;
			assert_int_equal(strcmp(jstr(j, "media", "payload"), SILENCE_B64) == 0,
					 on_hold);
			media++;
		}
		json_decref(j);
	}
	assert_int_equal(media, 90);
	assert_int_equal(stream_twilio_stats(f->t)->out_silence, 30);
	json_t *j = parse(s->msg[0]);
	assert_int_equal(jnum(j, "media", "chunk"), 1);
	json_decref(j);
}

static void test_continuity_over_stalls(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	int16_t pcm[STREAM_TWILIO_FRAME] = {0};
	sb_time_ms now = 1000;
	for (int k = 0; k < 5; k++, now += 20)
		assert_int_equal(stream_twilio_media(f->t, now, pcm), 0);
	/* a late tick (35 ms) is not filled */
	now += 15;
	assert_int_equal(stream_twilio_media(f->t, now, pcm), 0);
	assert_int_equal(s->n, 6);
	/* 100 ms without ticks: silence fills up to within 40 ms of now */
	now += 100;
	assert_int_equal(stream_twilio_media(f->t, now, pcm), 0);
	assert_int_equal(stream_twilio_stats(f->t)->out_silence, 3);
	assert_continuous(s, 2);
	json_t *j = parse(s->msg[s->n - 1]);
	unsigned long long ts = jnum(j, "media", "timestamp");
	json_decref(j);
	assert_true(now - 1000 - ts < 40);
	/* more than a second: the timestamp jumps, no burst of silence */
	size_t before = s->n;
	now += 5000;
	assert_int_equal(stream_twilio_media(f->t, now, pcm), 0);
	assert_int_equal(s->n, before + 1);
	assert_int_equal(stream_twilio_stats(f->t)->media_jumps, 1);
	j = parse(s->msg[s->n - 1]);
	assert_int_equal(jnum(j, "media", "timestamp"), now - 1000);
	assert_int_equal(jnum(j, "media", "chunk"), before + 1);
	assert_int_equal(jnum(j, "sequenceNumber", NULL), before + 2);
	json_decref(j);
}

static void test_send_failure_keeps_numbering(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	assert_int_equal(stream_twilio_media(f->t, 1000, NULL), 0);
	s->fail = 1;
	assert_int_equal(stream_twilio_media(f->t, 1020, NULL), SB_EIO);
	assert_int_equal(stream_twilio_media(f->t, 1040, NULL), 0);
	s->fail = 1;
	assert_int_equal(stream_twilio_dtmf(f->t, '1'), SB_EIO);
	assert_int_equal(stream_twilio_dtmf(f->t, '2'), 0);
	assert_int_equal(s->n, 3);
	json_t *j = parse(s->msg[1]);
	assert_string_equal(jstr(j, "sequenceNumber", NULL), "3");
	assert_string_equal(jstr(j, "media", "chunk"), "2");
	assert_string_equal(jstr(j, "media", "timestamp"), "40"); /* time went on */
	json_decref(j);
	j = parse(s->msg[2]);
	assert_string_equal(jstr(j, "sequenceNumber", NULL), "4");
	json_decref(j);
	assert_int_equal(stream_twilio_stats(f->t)->out_errors, 2);
}

/* ---- audio ---- */

/* The caller's PCM goes out as μ-law payload that decodes back to the companded tone. */
static void test_outgoing_tone(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	int16_t pcm[STREAM_TWILIO_FRAME];
	for (int k = 0; k < 10; k++) {
		tone(pcm, STREAM_TWILIO_FRAME, (size_t)k * STREAM_TWILIO_FRAME, 1000.0);
		assert_int_equal(stream_twilio_media(f->t, 1000 + 20 * (sb_time_ms)k, pcm), 0);
		json_t *j = parse(s->msg[k]);
		uint8_t u[STREAM_TWILIO_FRAME + 4];
		assert_int_equal(unb64(jstr(j, "media", "payload"), u, sizeof(u)),
				 STREAM_TWILIO_FRAME);
		for (size_t i = 0; i < STREAM_TWILIO_FRAME; i++)
			assert_int_equal(u[i], media_ulaw_encode(pcm[i]));
		json_decref(j);
	}
}

/* A tone sent by the agent in odd-sized messages comes out of the queue, 20 ms per pull. */
static void test_incoming_tone_roundtrip(void **state)
{
	struct fx *f = *state;
	enum { N = 8000 };
	int16_t *src = malloc(N * sizeof(*src));
	uint8_t *u = malloc(N);
	assert_non_null(src);
	assert_non_null(u);
	tone(src, N, 0, 1000.0);
	for (size_t i = 0; i < N; i++)
		u[i] = media_ulaw_encode(src[i]);
	size_t sizes[] = {1, 2, 3, 159, 160, 161, 320, 4000};
	size_t off = 0;
	for (size_t i = 0; off < N; i = (i + 1) % SB_ARRAY_LEN(sizes)) {
		size_t n = sizes[i] < N - off ? sizes[i] : N - off;
		assert_int_equal(send_media(f->t, u + off, n), 0);
		off += n;
	}
	assert_int_equal(stream_playout_queued(stream_twilio_playout(f->t)), N);
	int16_t pcm[STREAM_TWILIO_FRAME];
	for (size_t k = 0; k < N / STREAM_TWILIO_FRAME; k++) {
		assert_int_equal(stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME),
				 STREAM_TWILIO_FRAME);
		for (size_t i = 0; i < STREAM_TWILIO_FRAME; i++) {
			int16_t want = src[k * STREAM_TWILIO_FRAME + i];
			assert_int_equal(pcm[i], media_ulaw_decode(u[k * STREAM_TWILIO_FRAME + i]));
			/* μ-law keeps a 1 kHz tone within its quantisation step */
			assert_true(abs(pcm[i] - want) <= 256);
		}
	}
	assert_int_equal(stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME), 0);
	assert_int_equal(f->sink.n, 0);
	free(src);
	free(u);
}

static void test_big_media(void **state)
{
	struct fx *f = *state;
	enum { N = 10 * 8000 }; /* 10 s in one message: ~107 kB of base64 */
	uint8_t *u = malloc(N);
	assert_non_null(u);
	for (size_t i = 0; i < N; i++)
		u[i] = (uint8_t)(i * 7);
	assert_int_equal(send_media(f->t, u, N), 0);
	assert_int_equal(send_mark(f->t, "ten seconds"), 0);
	assert_int_equal(f->sink.n, 0);
	struct stream_playout *po = stream_twilio_playout(f->t);
	assert_int_equal(stream_playout_queued(po), N);
	int16_t pcm[STREAM_TWILIO_FRAME];
	for (size_t k = 0; k < N / STREAM_TWILIO_FRAME; k++) {
		assert_int_equal(f->sink.n, 0);
		assert_int_equal(stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME),
				 STREAM_TWILIO_FRAME);
		assert_int_equal(pcm[5], media_ulaw_decode(u[k * STREAM_TWILIO_FRAME + 5]));
	}
	assert_int_equal(f->sink.n, 1);
	assert_echo(&f->sink, 0, "ten seconds");
	free(u);
}

static void test_tiny_media(void **state)
{
	struct fx *f = *state;
	struct stream_playout *po = stream_twilio_playout(f->t);
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"media\":{\"payload\":\"/w==\"}}"),
			 0);
	assert_int_equal(stream_playout_queued(po), 1);
	/* no padding, URL-safe alphabet, empty payload, extra fields */
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"media\":{\"payload\":\"_w\"}}"),
			 0);
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"media\":{\"payload\":\"AAA\"}}"),
			 0);
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"media\":{\"payload\":\"\"}}"), 0);
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"x\":[1,{}],\"media\":{\"track\":"
					 "\"outbound\",\"payload\":\"AQ==\"}}"),
			 0);
	assert_int_equal(stream_playout_queued(po), 5);
	int16_t pcm[STREAM_TWILIO_FRAME];
	assert_int_equal(stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME), 5);
	assert_int_equal(pcm[0], media_ulaw_decode(0xFF));
	assert_int_equal(pcm[1], media_ulaw_decode(0xFF));
	assert_int_equal(pcm[2], media_ulaw_decode(0));
	assert_int_equal(pcm[3], media_ulaw_decode(0));
	assert_int_equal(pcm[4], media_ulaw_decode(1));
	assert_int_equal(pcm[5], 0);
	assert_int_equal(pcm[159], 0);
	assert_int_equal(stream_twilio_stats(f->t)->in_media, 5);
	assert_int_equal(stream_twilio_stats(f->t)->in_malformed, 0);
}

/* ---- marks and clear ---- */

static void test_mark_timing(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	uint8_t u[480];
	memset(u, 0x80, sizeof(u));
	int16_t pcm[STREAM_TWILIO_FRAME];
	/* 3 frames then a mark: echoed right after the pull that plays the third frame */
	assert_int_equal(send_media(f->t, u, 480), 0);
	assert_int_equal(send_mark(f->t, "a"), 0);
	assert_int_equal(send_mark(f->t, "a2"), 0); /* same position: same pull, in order */
	stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME);
	stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME);
	assert_int_equal(s->n, 0);
	stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME);
	assert_int_equal(s->n, 2);
	assert_echo(s, 0, "a");
	assert_echo(s, 1, "a2");
	/* the queue is empty now: a mark is echoed from input itself */
	assert_int_equal(send_mark(f->t, "empty"), 0);
	assert_int_equal(s->n, 3);
	assert_echo(s, 2, "empty");
	/* a mark in the middle of a frame: echoed by the pull that passes it */
	assert_int_equal(send_media(f->t, u, 200), 0);
	assert_int_equal(send_mark(f->t, "mid"), 0);
	assert_int_equal(send_media(f->t, u, 200), 0);
	stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME); /* 0..160 */
	assert_int_equal(s->n, 3);
	stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME); /* 160..320 passes 200 */
	assert_int_equal(s->n, 4);
	assert_echo(s, 3, "mid");
	/* the echo is numbered like any Twilio event, interleaved with media */
	assert_int_equal(stream_twilio_media(f->t, 1000, NULL), 0);
	assert_continuous(s, 2);
	assert_int_equal(stream_twilio_stats(f->t)->out_marks, 4);
	assert_int_equal(stream_twilio_stats(f->t)->in_marks, 4);
}

/* Pulling from the playout itself and echoing later (the bridge: once the audio has played). */
static void test_echo_marks_later(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	uint8_t u[320];
	memset(u, 0x80, sizeof(u));
	int16_t pcm[STREAM_TWILIO_FRAME];
	struct stream_playout *po = stream_twilio_playout(f->t);
	assert_int_equal(send_media(f->t, u, 160), 0);
	assert_int_equal(send_mark(f->t, "a"), 0);
	assert_int_equal(send_media(f->t, u, 160), 0);
	assert_int_equal(send_mark(f->t, "b"), 0);
	assert_int_equal(stream_playout_pull(po, pcm, STREAM_TWILIO_FRAME), 160);
	assert_int_equal(stream_playout_pull(po, pcm, STREAM_TWILIO_FRAME), 160);
	assert_int_equal(s->n, 0); /* passed, not echoed */
	assert_int_equal(stream_playout_reached_count(po), 2);
	assert_int_equal(stream_twilio_echo_marks(f->t, 1), 1);
	assert_int_equal(s->n, 1);
	assert_echo(s, 0, "a");
	assert_int_equal(stream_twilio_echo_marks(f->t, 5), 1);
	assert_echo(s, 1, "b");
	assert_int_equal(stream_twilio_echo_marks(f->t, 5), 0);
	assert_int_equal(stream_twilio_stats(f->t)->out_marks, 2);
	/* after stop: nothing */
	assert_int_equal(send_media(f->t, u, 10), 0);
	assert_int_equal(send_mark(f->t, "c"), 0);
	stream_playout_pull(po, pcm, STREAM_TWILIO_FRAME);
	assert_int_equal(stream_twilio_stop(f->t), 0);
	size_t n = s->n;
	assert_int_equal(stream_twilio_echo_marks(f->t, 5), 0);
	assert_int_equal(s->n, n);
}

static void test_clear(void **state)
{
	struct fx *f = *state;
	struct sink *s = &f->sink;
	uint8_t u[1600];
	memset(u, 0x33, sizeof(u));
	int16_t pcm[STREAM_TWILIO_FRAME];
	for (int i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "m%d", i);
		assert_int_equal(send_media(f->t, u, 1600), 0);
		assert_int_equal(send_mark(f->t, name), 0);
	}
	for (int k = 0; k < 12; k++) /* 240 ms: past m0 (200 ms) only */
		stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME);
	assert_int_equal(s->n, 1);
	assert_echo(s, 0, "m0");
	assert_int_equal(send_text(f->t, "{\"event\":\"clear\",\"streamSid\":\"" MZ "\"}"), 0);
	assert_int_equal(s->n, 4);
	assert_echo(s, 1, "m1");
	assert_echo(s, 2, "m2");
	assert_echo(s, 3, "m3");
	assert_continuous(s, 2);
	assert_int_equal(stream_playout_queued(stream_twilio_playout(f->t)), 0);
	assert_int_equal(stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME), 0);
	assert_int_equal(pcm[0], 0);
	/* clear on an empty queue: nothing to echo */
	assert_int_equal(send_text(f->t, "{\"event\":\"clear\"}"), 0);
	assert_int_equal(s->n, 4);
	/* audio after the clear plays normally */
	assert_int_equal(send_media(f->t, u, 160), 0);
	assert_int_equal(send_mark(f->t, "after"), 0);
	assert_int_equal(stream_twilio_pull(f->t, pcm, STREAM_TWILIO_FRAME), STREAM_TWILIO_FRAME);
	assert_echo(s, 4, "after");
	assert_int_equal(stream_twilio_stats(f->t)->in_clears, 2);
}

/* ---- bad input ---- */

static void test_malformed_ignored(void **state)
{
	struct fx *f = *state;
	static const char *const malformed[] = {
	    "",
	    "not json",
	    "{\"event\":\"media\"",
	    "[]",
	    "\"media\"",
	    "{}",
	    "{\"event\":5}",
	    "{\"event\":null,\"media\":{\"payload\":\"AAAA\"}}",
	    "{\"event\":\"media\"}",
	    "{\"event\":\"media\",\"media\":{}}",
	    "{\"event\":\"media\",\"media\":\"AAAA\"}",
	    "{\"event\":\"media\",\"media\":{\"payload\":5}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"@@@@\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"A\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"AAAAA\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"AA=\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"AA=A\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"A===\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA AAAA\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA\\nAAAA\"}}",
	    "{\"event\":\"mark\"}",
	    "{\"event\":\"mark\",\"mark\":{}}",
	    "{\"event\":\"mark\",\"mark\":{\"name\":7}}",
	    "{\"event\":\"mark\",\"mark\":{\"name\":\"a\\u0000b\"}}",
	    "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA\"}}trailing",
	    "{\"event\":\"\xff\xfe\"}",
	};
	static const char *const unknown[] = {
	    "{\"event\":\"x-hangup\"}",
	    "{\"event\":\"stop\",\"streamSid\":\"" MZ "\"}",
	    "{\"event\":\"dtmf\",\"dtmf\":{\"digit\":\"1\"}}",
	    "{\"event\":\"Media\",\"media\":{\"payload\":\"AAAA\"}}",
	    "{\"event\":\"\"}",
	};
	static const char *const ignored[] = {
	    "{\"event\":\"connected\",\"protocol\":\"Call\",\"version\":\"1.0.0\"}",
	    "{\"event\":\"start\",\"start\":{\"streamSid\":\"MZ1\",\"callSid\":\"CA1\"}}",
	};
	for (size_t i = 0; i < SB_ARRAY_LEN(malformed); i++)
		assert_int_equal(send_text(f->t, malformed[i]), SB_EMALFORMED);
	/* a message with a NUL inside its length */
	assert_int_equal(stream_twilio_input(f->t, "{\"event\":\"clear\"}\0x", 19), SB_EMALFORMED);
	for (size_t i = 0; i < SB_ARRAY_LEN(unknown); i++)
		assert_int_equal(send_text(f->t, unknown[i]), SB_EUNSUPPORTED);
	for (size_t i = 0; i < SB_ARRAY_LEN(ignored); i++)
		assert_int_equal(send_text(f->t, ignored[i]), SB_ESTATE);
	const struct stream_twilio_stats *st = stream_twilio_stats(f->t);
	assert_int_equal(st->in_malformed, SB_ARRAY_LEN(malformed) + 1);
	assert_int_equal(st->in_unknown, SB_ARRAY_LEN(unknown));
	assert_int_equal(st->in_ignored, SB_ARRAY_LEN(ignored));
	assert_int_equal(st->in_msgs, SB_ARRAY_LEN(malformed) + 1 + SB_ARRAY_LEN(unknown) +
					  SB_ARRAY_LEN(ignored));
	assert_int_equal(st->in_media + st->in_marks + st->in_clears, 0);
	assert_int_equal(stream_playout_queued(stream_twilio_playout(f->t)), 0);
	assert_int_equal(f->sink.n, 0);
	/* and the session still works */
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA\"}}"),
			 0);
	assert_int_equal(stream_playout_queued(stream_twilio_playout(f->t)), 3);
}

static void test_sid_mismatch_accepted(void **state)
{
	struct fx *f = *state;
	assert_int_equal(
	    send_text(f->t, "{\"event\":\"media\",\"streamSid\":\"MZ0\",\"media\":{\"payload\":"
			    "\"AAAA\"}}"),
	    0);
	assert_int_equal(send_text(f->t, "{\"event\":\"media\",\"media\":{\"payload\":\"AAAA\"}}"),
			 0);
	assert_int_equal(stream_twilio_stats(f->t)->in_sid_mismatch, 1);
	assert_int_equal(stream_playout_queued(stream_twilio_playout(f->t)), 6);
}

static void test_input_before_start(void **state)
{
	(void)state;
	struct sink s = {0};
	struct stream_twilio *t = mk(&s, NULL);
	assert_int_equal(send_mark(t, "early"), SB_ESTATE);
	assert_int_equal(stream_twilio_media(t, 0, NULL), SB_ESTATE);
	assert_int_equal(stream_twilio_hold(t, 0, NULL), SB_ESTATE);
	struct stream_twilio_transfer r = {NULL, 200, NULL};
	assert_int_equal(stream_twilio_transfer(t, &r), SB_ESTATE);
	assert_int_equal(s.n, 0);
	stream_twilio_free(t);
	sink_free(&s);
}

static void test_overflow(void **state)
{
	(void)state;
	struct sink s = {0};
	struct stream_twilio_opts o = {.playout = {.max_ms = 2000, .max_marks = 2}};
	struct stream_twilio *t = mk(&s, &o);
	assert_int_equal(stream_twilio_start(t, 0), 0);
	sink_reset(&s);
	enum { N = 3 * 8000 };
	uint8_t *u = malloc(N);
	assert_non_null(u);
	memset(u, 0x42, N);
	assert_int_equal(send_media(t, u, N), 0); /* accepted, partly dropped */
	struct stream_playout *po = stream_twilio_playout(t);
	assert_int_equal(stream_playout_queued(po), 16000);
	assert_int_equal(stream_playout_stats(po)->bytes_dropped, 8000);
	assert_int_equal(send_media(t, u, 160), 0);
	assert_int_equal(stream_playout_stats(po)->bytes_dropped, 8160);
	assert_int_equal(stream_playout_stats(po)->overflows, 1); /* one episode */
	/* marks beyond the cap are dropped and never echoed */
	assert_int_equal(send_mark(t, "one"), 0);
	assert_int_equal(send_mark(t, "two"), 0);
	assert_int_equal(send_mark(t, "three"), SB_ENORES);
	int16_t pcm[STREAM_TWILIO_FRAME];
	for (int k = 0; k < 100; k++)
		assert_int_equal(stream_twilio_pull(t, pcm, STREAM_TWILIO_FRAME),
				 STREAM_TWILIO_FRAME);
	assert_int_equal(s.n, 2);
	assert_echo(&s, 0, "one");
	assert_echo(&s, 1, "two");
	free(u);
	stream_twilio_free(t);
	sink_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_connected_start),
	    cmocka_unit_test(test_minimal_start_and_sids),
	    cmocka_unit_test_setup_teardown(test_media_dtmf_mark_stop_golden, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_extensions_golden, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_continuity_over_hold, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_continuity_over_stalls, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_send_failure_keeps_numbering, fx_setup,
					    fx_teardown),
	    cmocka_unit_test_setup_teardown(test_outgoing_tone, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_incoming_tone_roundtrip, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_big_media, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_tiny_media, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_mark_timing, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_echo_marks_later, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_clear, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_ignored, fx_setup, fx_teardown),
	    cmocka_unit_test_setup_teardown(test_sid_mismatch_accepted, fx_setup, fx_teardown),
	    cmocka_unit_test(test_input_before_start),
	    cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
