/* DTMF: RFC 4733 telephone-event payloads (parse, build), a receiver that reports each key press
 * once (missing marker bit, end-of-event triplicates and long-duration segments tolerated), a
 * sender that turns a digit string into timed event packets ('w' = 0.5 s pause), and in-band
 * tone detection and generation (spandsp) for trunks without telephone-event. Time passed in. */
#ifndef SB_MEDIA_DTMF_H
#define SB_MEDIA_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct media_dtmf_event {
	uint8_t event; /* 0-9, 10 = *, 11 = #, 12-15 = A-D, other events allowed */
	bool end;
	uint8_t volume;	   /* 0-63, -dBm0 */
	uint16_t duration; /* timestamp units */
};

/* 0 or SB_EMALFORMED (shorter than 4 bytes). Extra bytes (RFC 4733 §2.5.1.5 redundancy) are
 * ignored. */
int media_dtmf_event_parse(const uint8_t *p, size_t len, struct media_dtmf_event *e);
/* Writes 4 bytes; returns 4, or 0 when cap < 4. */
size_t media_dtmf_event_write(uint8_t *p, size_t cap, const struct media_dtmf_event *e);
/* '0'-'9', '*', '#', 'A'-'D' for events 0-15, else 0. */
char media_dtmf_event_char(uint8_t event);
/* Inverse (case-insensitive letters); -1 when c is not a DTMF key. */
int media_dtmf_char_event(char c);

/* ---- receiver ---- */
struct media_dtmf_rx {
	bool active; /* an event is in progress */
	bool have_last;
	uint32_t last_ts; /* timestamp of the current/last event */
	uint8_t last_event;
	uint32_t last_end_ts; /* ts + duration of the last segment seen */
	bool last_ended;
	uint64_t last_at_ms;
};

struct media_dtmf_digit {
	char digit;
	uint32_t duration; /* timestamp units known so far */
};

void media_dtmf_rx_init(struct media_dtmf_rx *rx);
/* One telephone-event packet (RTP marker, timestamp, payload) at now_ms. Returns true and fills
 * *out once per key press: when a new event starts (a new timestamp not continuing the
 * previous long event), whether or not the marker bit is set. Retransmitted and end packets of
 * a reported event return false. */
bool media_dtmf_rx_packet(struct media_dtmf_rx *rx, bool marker, uint32_t ts,
			  const uint8_t *payload, size_t len, uint64_t now_ms,
			  struct media_dtmf_digit *out);

/* ---- sender ---- */
#define MEDIA_DTMF_TX_MAX 64 /* queued keys */

struct media_dtmf_tx_pkt {
	struct media_dtmf_event ev;
	bool marker;	 /* first packet of an event */
	uint32_t ts_off; /* event timestamp relative to the sender's start (timestamp units) */
};

struct media_dtmf_tx {
	uint32_t rate;	   /* timestamp rate (8000 usually) */
	uint32_t digit_ms; /* tone duration (default 100) */
	uint32_t gap_ms;   /* pause between keys (default 100) */
	char queue[MEDIA_DTMF_TX_MAX];
	size_t head, n;
	/* private state */
	int state;
	uint32_t elapsed_ms, ts_off, end_sent;
	char cur;
	uint64_t clock_ms; /* start of the next tick, ms since init */
	uint32_t wait_ms;  /* length of the current gap or pause */
};

/* How long sending keys takes: digit_ms + gap_ms per key, 500 ms per 'w', 1 s per ','. */
uint64_t media_dtmf_tx_keys_ms(const char *keys, uint32_t digit_ms, uint32_t gap_ms);
void media_dtmf_tx_init(struct media_dtmf_tx *tx, uint32_t rate, uint32_t digit_ms,
			uint32_t gap_ms);
/* Queue keys ("0-9*#A-D", 'w'/'W' = 0.5 s pause, ',' = 1 s pause). SB_EINVAL for any other
 * character (nothing queued), SB_ETOOBIG when the queue is full. */
int media_dtmf_tx_queue(struct media_dtmf_tx *tx, const char *keys);
bool media_dtmf_tx_busy(const struct media_dtmf_tx *tx);
/* Advance by one packet period (ms, normally 20). Returns the number of packets to send now
 * (0-3; 3 for the end-of-event triplicate) written into pkts. */
size_t media_dtmf_tx_tick(struct media_dtmf_tx *tx, uint32_t ms, struct media_dtmf_tx_pkt pkts[3]);
/* The key currently sounding (for in-band generation), or 0 in a gap/pause/idle. */
char media_dtmf_tx_current(const struct media_dtmf_tx *tx);

/* ---- in-band (spandsp) ---- */
struct media_dtmf_detector;
/* PCM at 8000 Hz. 0 or SB_ENOMEM. */
int media_dtmf_detector_new(struct media_dtmf_detector **out);
void media_dtmf_detector_free(struct media_dtmf_detector *d);
/* Feed samples; digits recognised are written to out (up to cap), returns how many. */
size_t media_dtmf_detect(struct media_dtmf_detector *d, const int16_t *pcm, size_t n, char *out,
			 size_t cap);

struct media_dtmf_gen;
int media_dtmf_gen_new(struct media_dtmf_gen **out); /* 8000 Hz */
void media_dtmf_gen_free(struct media_dtmf_gen *g);
/* Fill n samples with the tone of key (0 = silence). Continuous across calls. */
void media_dtmf_gen_fill(struct media_dtmf_gen *g, char key, int16_t *pcm, size_t n);

#endif
