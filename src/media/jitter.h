/* Adaptive jitter buffer for one leg's RTP payloads (20-200 ms), driven by time passed in:
 * no thread, no clock read; payloads are kept in one store sized for the largest payload seen
 * (allocated at the first packet, grown in steps when a larger one arrives: a few times per
 * leg at most, never per packet; media_jb_free releases it). Reorders, drops duplicates and late
 * packets, reports losses so the caller conceals them (codec PLC / FEC), and adapts its
 * playout delay to the measured jitter (grows at once on late packets, shrinks slowly by
 * skipping a frame when the buffer has stayed above target). */
#ifndef SB_MEDIA_JITTER_H
#define SB_MEDIA_JITTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEDIA_JB_SLOTS	   16  /* packets held at most (200 ms of 20 ms frames and reordering) */
#define MEDIA_JB_MAX_BYTES 480 /* payload bytes per packet: 60 ms of G.711 (larger are dropped) */

struct media_jb_opts {
	uint32_t rtp_rate; /* timestamp units per second (8000, 16000, 48000) */
	uint32_t frame_ms; /* expected packet duration when it cannot be seen (default 20) */
	uint32_t min_ms;   /* lowest playout delay (default 20) */
	uint32_t max_ms;   /* highest playout delay (default 200) */
};

enum media_jb_put_result {
	MEDIA_JB_PUT_OK = 0,
	MEDIA_JB_PUT_DUPLICATE,
	MEDIA_JB_PUT_LATE,     /* its playout time has passed */
	MEDIA_JB_PUT_TOO_BIG,  /* payload over MEDIA_JB_MAX_BYTES (or no memory to keep it) */
	MEDIA_JB_PUT_OVERFLOW, /* buffer full: the oldest packet was dropped to make room */
	MEDIA_JB_PUT_RESET,    /* a jump in sequence/timestamp (new talk spurt or source): the
				  buffer restarted from this packet */
};

enum media_jb_get_result {
	MEDIA_JB_EMPTY = 0, /* nothing to play yet (not started, or drained): play silence */
	MEDIA_JB_FRAME,	    /* out->payload is the next frame */
	MEDIA_JB_LOST,	    /* the next frame is missing: conceal out->samples */
};

struct media_jb_frame {
	const uint8_t *payload; /* valid until the next put/get */
	size_t len;
	uint16_t seq;
	uint32_t ts;
	bool marker;
	uint32_t samples; /* duration in timestamp units */
	/* for LOST: the following packet if it is already here (Opus FEC), else NULL */
	const uint8_t *next_payload;
	size_t next_len;
};

struct media_jb_stats {
	uint64_t put, played, lost, late, duplicates, dropped, resets;
	uint32_t delay_ms;  /* current playout delay target */
	uint32_t jitter_ms; /* measured interarrival jitter */
	uint32_t depth;	    /* packets held now */
};

struct media_jb {
	struct media_jb_opts o;
	/* the rest is private to jitter.c */
	struct {
		uint16_t len, seq;
		uint32_t ts;
		bool used, marker;
		uint64_t arrival_ms;
	} slot[MEDIA_JB_SLOTS];
	uint8_t *data;	 /* slot i's payload at data + i * stride */
	uint16_t stride; /* bytes per slot in data (0 = nothing allocated yet) */
	bool started;
	uint16_t newest_seq;  /* the newest sequence number held (when any is) */
	uint16_t next_seq;    /* next sequence number to play */
	uint32_t next_ts;     /* its timestamp */
	uint32_t played_mask; /* bit i: next_seq - 1 - i was played (tells duplicates from late) */
	uint64_t play_at_ms;  /* when the next frame is due */
	uint32_t last_samples;
	int64_t last_transit;
	bool have_transit;
	uint32_t jitter_q4_ms;
	uint32_t target_ms;
	uint64_t target_at_ms;	  /* when the target last changed */
	uint32_t above_target_ms; /* how long the buffer has held more than the target */
	struct media_jb_stats st;
};

void media_jb_init(struct media_jb *jb, const struct media_jb_opts *o);
/* Release the payload store (the buffer is empty and usable again afterwards). */
void media_jb_free(struct media_jb *jb);
enum media_jb_put_result media_jb_put(struct media_jb *jb, uint16_t seq, uint32_t ts, bool marker,
				      const uint8_t *payload, size_t len, uint64_t now_ms);
/* Called when the consumer needs its next frame (every frame period, e.g. each 20 ms tick). */
enum media_jb_get_result media_jb_get(struct media_jb *jb, uint64_t now_ms,
				      struct media_jb_frame *out);
void media_jb_stats(const struct media_jb *jb, struct media_jb_stats *out);
void media_jb_reset(struct media_jb *jb);

#endif
