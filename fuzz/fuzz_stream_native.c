/* libFuzzer harness for src/stream/native.c: agent messages (one per line; a line starting with 'B'
 * is a binary frame of the bytes after it) into a started 16 kHz session, with pulls, frames, hold
 * and stop in between. Aborts on a broken invariant: every text message we send is a JSON object
 * with a type, frames are 20 ms, the queue stays under its cap, every accepted mark is echoed. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/native.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct check {
	size_t echoes, errors, cmds;
};

static int check_send(void *arg, bool binary, const void *p, size_t len)
{
	struct check *c = arg;
	if (binary) {
		if (len != 640)
			abort();
		return 0;
	}
	json_t *j = json_loadb(p, len, 0, NULL);
	json_t *ty = json_object_get(j, "type");
	if (!json_is_string(ty))
		abort();
	const char *t = json_string_value(ty);
	if (!strcmp(t, "mark")) {
		if (!json_is_string(json_object_get(j, "name")))
			abort();
		c->echoes++;
	} else if (!strcmp(t, "error")) {
		if (!json_is_string(json_object_get(j, "code")))
			abort();
		c->errors++;
	}
	json_decref(j);
	return 0;
}

static int check_command(void *arg, const struct stream_native_cmd *cmd)
{
	struct check *c = arg;
	c->cmds++;
	if (cmd->type == STREAM_NATIVE_CMD_TRANSFER && (!cmd->to || !*cmd->to))
		abort();
	if (cmd->type == STREAM_NATIVE_CMD_SEND_DTMF && (!cmd->digits || !*cmd->digits))
		abort();
	return (c->cmds & 3) == 0 ? -1 : 0; /* refuse some: an error event */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct stream_native_handlers h = {check_send, check_command};
	struct check c = {0, 0, 0};
	struct stream_native_opts o = {
	    .rate = 16000, .room = "fuzz", .playout = {.max_ms = 2000, .max_marks = 8}};
	struct stream_native *n;
	if (stream_native_new(&n, &o, &h, &c) != 0)
		return 0;
	if (stream_native_start(n, 0) != 0)
		abort();
	int16_t pcm[320];
	size_t off = 0;
	unsigned line = 0;
	while (off <= size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		/* the copy makes ASan catch any read past it */
		uint8_t *msg = malloc(len ? len : 1);
		if (!msg)
			break;
		if (len)
			memcpy(msg, data + off, len);
		if (len && msg[0] == 'B')
			(void)stream_native_input_binary(n, msg + 1, len - 1);
		else
			(void)stream_native_input(n, (const char *)msg, len);
		free(msg);
		struct stream_playout *po = stream_native_playout(n);
		if (stream_playout_queued(po) > stream_playout_capacity(po))
			abort();
		stream_playout_pull(po, pcm, 320);
		(void)stream_native_echo_marks(n, 64);
		(void)stream_native_media(n, (line & 1) ? pcm : NULL);
		if (line % 7 == 3)
			(void)stream_native_hold(n, line * 20u, true, true, NULL);
		if (line % 7 == 5)
			(void)stream_native_hold(n, line * 20u, false, false, NULL);
		line++;
		off += len + 1;
	}
	struct stream_playout *po = stream_native_playout(n);
	while (stream_playout_queued(po)) {
		stream_playout_pull(po, pcm, 320);
		(void)stream_native_echo_marks(n, 64);
	}
	const struct stream_native_stats *st = stream_native_stats(n);
	if (stream_playout_marks(po) != 0 || c.echoes != st->in_marks || c.errors != st->in_errors)
		abort();
	if (stream_native_stop(n, "call_ended") != 0)
		abort();
	(void)stream_native_input(n, "{\"type\":\"clear\"}", 16);
	stream_native_free(n);
	return 0;
}
