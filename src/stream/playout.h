/* The playout queue toward the caller: agent audio (8 kHz μ-law for Twilio, or PCM16 little-endian
 * at the native protocol's rate) queued deep, pulled 20 ms at a time, with marks as positions in
 * it. Owns the ring, the pending marks and their names. */
#ifndef SB_STREAM_PLAYOUT_H
#define SB_STREAM_PLAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/slice.h"

#define STREAM_PLAYOUT_RATE	    8000u
#define STREAM_PLAYOUT_DEFAULT_MS   (10u * 60u * 1000u) /* Twilio's ~10 minutes (warning 31931) */
#define STREAM_PLAYOUT_DEFAULT_MARK 4096u
#define STREAM_PLAYOUT_MARK_NAME    1024u /* longest mark name kept, in bytes */

struct stream_playout_opts {
	uint32_t max_ms;    /* queued audio cap; 0 = STREAM_PLAYOUT_DEFAULT_MS */
	uint32_t max_marks; /* pending marks cap; 0 = STREAM_PLAYOUT_DEFAULT_MARK */
	/* The queue's audio: false = μ-law at 8 kHz (Twilio), true = PCM16 little-endian at rate
	 * (8000 to 48000; 0 = 8000). Set by the session, not by its users. */
	bool pcm16;
	uint32_t rate;
};

struct stream_playout_stats {
	uint64_t bytes_in;	/* μ-law bytes accepted into the queue */
	uint64_t bytes_dropped; /* refused: over the cap (or the ring could not grow) */
	uint64_t bytes_played;	/* pulled out */
	uint64_t bytes_cleared; /* flushed by clear */
	uint64_t overflows;	/* times the queue filled up and refused audio (per episode) */
	uint64_t marks_in;	/* marks queued */
	uint64_t marks_dropped; /* refused: too many pending, name too long, no memory */
	uint64_t pulls;		/* pull calls */
	uint64_t underruns;	/* pulls that emptied the queue part way through the frame */
};

struct stream_playout;

/* 0, SB_EINVAL or SB_ENOMEM; o may be NULL (defaults). The ring starts small and grows by
 * doubling up to the cap, on push only. */
int stream_playout_new(struct stream_playout **out, const struct stream_playout_opts *o);
void stream_playout_free(struct stream_playout *p);

/* Append n μ-law bytes (any n). Returns the bytes accepted; what does not fit under the cap is
 * dropped and counted. */
size_t stream_playout_push_ulaw(struct stream_playout *p, const uint8_t *u, size_t n);
/* The same for a PCM16 queue: n bytes of little-endian samples (an odd last byte waits in the
 * queue for its pair). */
size_t stream_playout_push_pcm16le(struct stream_playout *p, const uint8_t *b, size_t n);
/* n bytes in the queue's own format (μ-law or PCM16LE). */
size_t stream_playout_push_bytes(struct stream_playout *p, const uint8_t *b, size_t n);

/* Put a mark after the audio queued so far. A mark on an empty queue is reached at once.
 * 0, or SB_ENORES (too many pending), SB_ETOOBIG (name longer than STREAM_PLAYOUT_MARK_NAME),
 * SB_ENOMEM: the mark is dropped and counted. */
int stream_playout_mark(struct stream_playout *p, struct sb_slice name);

/* Take n samples of PCM (at the queue's rate). Returns how many came from the queue; the rest of
 * pcm is silence (0). Never allocates. Marks the playout passed become reached. */
size_t stream_playout_pull(struct stream_playout *p, int16_t *pcm, size_t n);

/* Pop the oldest reached mark: true and *name (valid until the next call on p), or false. */
bool stream_playout_reached(struct stream_playout *p, struct sb_slice *name);

/* Marks the playout has passed and reached() has not popped yet. */
size_t stream_playout_reached_count(const struct stream_playout *p);

/* Flush all queued audio; every pending mark becomes reached, in order. Returns bytes dropped. */
size_t stream_playout_clear(struct stream_playout *p);

/* Queued samples (whole ones); marks held (pending or reached, not yet popped). */
size_t stream_playout_queued(const struct stream_playout *p);
size_t stream_playout_marks(const struct stream_playout *p);
/* Cap in samples. */
size_t stream_playout_capacity(const struct stream_playout *p);
const struct stream_playout_stats *stream_playout_stats(const struct stream_playout *p);

#endif
