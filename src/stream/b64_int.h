/* Base64 (RFC 4648) shared by the agent protocols' sessions (twilio.c, native.c); private to
 * src/stream/. Owns nothing. */
#ifndef SB_STREAM_B64_INT_H
#define SB_STREAM_B64_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stream/playout.h"

/* Standard alphabet with padding; out needs (n + 2) / 3 * 4 bytes. Returns the characters. */
size_t stream__b64_encode(const uint8_t *in, size_t n, char *out);
/* Checks the whole text before anything is queued, so a bad payload queues nothing: standard
 * or URL-safe alphabet; padding optional but, when present, completes a group of four; spare
 * low bits tolerated. On success *data_len is the number of characters without padding. */
bool stream__b64_check(const char *s, size_t len, size_t *data_len);
/* Decode n checked characters straight into the playout queue (in its own format), a chunk at a
 * time. */
void stream__b64_decode_into(struct stream_playout *po, const char *s, size_t n);

#endif
