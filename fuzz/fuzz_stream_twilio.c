/* libFuzzer harness for src/stream/twilio.c: agent messages (one per line) into a started session,
 * with pulls, media ticks, hold and stop in between. Aborts on a broken invariant: every message we
 * send is a JSON object with an event, numbering never skips, the queue stays under its cap. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/twilio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
	unsigned long long seq; /* last sequenceNumber seen */
	size_t echoes;
};

static int check_send(void *arg, const char *text, size_t len)
{
	struct check *c = arg;
	json_t *j = json_loadb(text, len, 0, NULL);
	json_t *ev = json_object_get(j, "event");
	if (!json_is_string(ev))
		abort();
	const char *seq = json_string_value(json_object_get(j, "sequenceNumber"));
	if (seq) {
		char *end;
		unsigned long long v = strtoull(seq, &end, 10);
		if (*end || v != c->seq + 1)
			abort();
		c->seq = v;
	}
	if (strcmp(json_string_value(ev), "mark") == 0) {
		if (!json_is_string(json_object_get(json_object_get(j, "mark"), "name")))
			abort();
		c->echoes++;
	}
	json_decref(j);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct stream_twilio_handlers h = {check_send};
	struct check c = {0, 0};
	struct stream_twilio_opts o = {.room = "fuzz", .playout = {.max_ms = 2000, .max_marks = 8}};
	struct stream_twilio *t;
	if (stream_twilio_new(&t, &o, &h, &c) != 0)
		return 0;
	if (stream_twilio_start(t, 0) != 0)
		abort();
	/* each line is one message; the copy makes ASan catch any read past it */
	int16_t pcm[STREAM_TWILIO_FRAME];
	sb_time_ms now = 0;
	size_t off = 0;
	unsigned line = 0;
	while (off <= size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		char *msg = malloc(len ? len : 1);
		if (!msg)
			break;
		if (len)
			memcpy(msg, data + off, len);
		(void)stream_twilio_input(t, msg, len);
		free(msg);
		struct stream_playout *po = stream_twilio_playout(t);
		if (stream_playout_queued(po) > stream_playout_capacity(po))
			abort();
		stream_twilio_pull(t, pcm, STREAM_TWILIO_FRAME);
		now += 20;
		(void)stream_twilio_media(t, now, (line & 1) ? pcm : NULL);
		if (line % 7 == 3)
			(void)stream_twilio_hold(t, now, NULL);
		if (line % 7 == 5)
			(void)stream_twilio_resume(t, now, NULL);
		line++;
		off += len + 1;
	}
	/* draining plays out every mark that was accepted */
	struct stream_playout *po = stream_twilio_playout(t);
	while (stream_playout_queued(po))
		stream_twilio_pull(t, pcm, STREAM_TWILIO_FRAME);
	if (stream_playout_marks(po) != 0 || c.echoes != stream_twilio_stats(t)->in_marks)
		abort();
	if (stream_twilio_stop(t) != 0)
		abort();
	(void)stream_twilio_input(t, "{\"event\":\"clear\"}", 17);
	stream_twilio_free(t);
	return 0;
}
