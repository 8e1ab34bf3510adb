/* A media leg: one remote RTP endpoint as a participant's audio, on a media worker. Owns the
 * RTP (and RTCP) socket, SRTP contexts, codec, jitter buffer, resamplers between the codec rate
 * and the room rate, DTMF in and out, RTCP reports, latching and the media timeouts.
 * Everything runs on the worker thread; time comes from the worker's loop. */
#ifndef SB_MEDIA_LEG_H
#define SB_MEDIA_LEG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "media/codec.h"
#include "media/tone.h"
#include "rtp/srtp.h"

enum media_leg_timeout {
	MEDIA_LEG_NO_RTP = 1,	       /* RTP stopped for rtp_timeout_ms */
	MEDIA_LEG_NO_RTP_AFTER_ANSWER, /* none ever arrived within first_rtp_timeout_ms */
};

struct media_leg_handlers {
	/* A key press: RFC 4733 event or in-band tone. */
	void (*dtmf)(void *arg, char digit, uint32_t duration_ms, bool inband);
	/* Once per leg; the leg keeps running until closed. */
	void (*timeout)(void *arg, enum media_leg_timeout why);
};

struct media_leg_opts {
	int rtp_fd; /* bound by the caller; the leg owns it from media_leg_new on (even on error) */
	int rtcp_fd;			/* -1 with rtcp-mux (RTCP then shares the RTP socket) */
	struct sockaddr_storage remote; /* where to send RTP (from SDP; latching may move it) */
	socklen_t remote_len;		/* 0 = unknown until the first packet arrives */
	struct sockaddr_storage remote_rtcp;
	socklen_t remote_rtcp_len;
	enum media_codec_id codec;
	uint8_t pt;
	int16_t te_pt; /* telephone-event PT, -1 = none (DTMF in-band both ways) */
	struct media_codec_opts codec_o; /* Opus rate/complexity/FEC */
	uint32_t room_rate;	       /* PCM rate of pull/push frames (media_leg_set_room_rate) */
	uint32_t rtp_timeout_ms;       /* 0 = 15000 */
	uint32_t first_rtp_timeout_ms; /* 0 = 30000 */
	enum rtp_srtp_suite srtp;      /* NONE = plain RTP */
	uint8_t srtp_tx_key[RTP_SRTP_KEY_LEN], srtp_rx_key[RTP_SRTP_KEY_LEN];
	uint32_t ssrc; /* 0 = random */
	const struct media_leg_handlers *h;
	void *arg;
};

struct media_leg_stats {
	uint64_t rx_packets, rx_bytes, rx_bad, rx_dtmf_packets, tx_packets, tx_bytes;
	uint64_t lost, late, concealed, jb_resets, srtp_failures;
	uint32_t jitter_ms, jb_delay_ms, rtt_ms;
	uint64_t rtcp_rx, rtcp_tx;
	bool latched;
};

struct media_leg;

/* 0, SB_EINVAL, SB_ENOMEM or SB_EIO. On the worker thread (loop is the worker's). */
int media_leg_new(struct media_leg **out, uv_loop_t *loop, const struct media_leg_opts *o);
/* Close the sockets and free; cb (may be NULL) runs when the ports can be reused. */
void media_leg_close(struct media_leg *l, void (*cb)(void *arg), void *arg);

/* Samples per 20 ms frame at the room rate. */
size_t media_leg_frame_samples(const struct media_leg *l);
/* The PCM rate o's codec decodes to (PCMU/PCMA 8000, G.722 16000, Opus codec_o.rate, 0 =
 * 48000): the highest room rate at which the leg's audio still gains anything. */
uint32_t media_leg_codec_rate(const struct media_leg_opts *o);
/* A new room rate (8000, 16000, 24000 or 48000) for pull and push frames, from the next pull
 * on: the resamplers between the codec rate and the room rate are rebuilt; everything at the
 * codec rate (jitter buffer, decoded audio not yet pulled, codec, DTMF, tones) goes on
 * untouched. Allocates (not for the hot path). 0, SB_EINVAL or SB_ENOMEM (the leg keeps its
 * old rate). */
int media_leg_set_room_rate(struct media_leg *l, uint32_t room_rate);
/* Every tick, on hold too: reads what arrived on the sockets, runs the timeouts and the RTCP
 * schedule, and gives the next 20 ms of what the remote said, at the room rate. false =
 * nothing to hear (silence, not started, on hold). */
bool media_leg_pull(struct media_leg *l, uint64_t now_ms, int16_t *pcm);
/* Every tick the leg is fed: 20 ms at the room rate to send (NULL = silence; RTP keeps flowing
 * so the remote's NAT and media timeout stay happy). */
void media_leg_push(struct media_leg *l, uint64_t now_ms, const int16_t *pcm);
/* On hold nothing is sent or heard and the timeouts are suspended. */
void media_leg_set_hold(struct media_leg *l, bool held);
/* New remote address / codec / SRTP keys after a re-INVITE or UPDATE (same rules as new; fds
 * untouched; a direction whose key is unchanged keeps its SRTP context). */
int media_leg_update(struct media_leg *l, const struct media_leg_opts *o);
/* Play a call-progress tone (dial tone, ringback, busy) into the leg: while it plays it
 * replaces what the room sends this leg (the leg still hears and is heard). on false stops it.
 * SB_EINVAL for an unknown kind or region. */
int media_leg_play_tone(struct media_leg *l, enum media_tone_kind kind,
			enum media_tone_region region, bool on);
/* How the leg paces keys it sends (media_dtmf_tx_keys_ms gives a string's duration). */
#define MEDIA_LEG_DTMF_DIGIT_MS 100
#define MEDIA_LEG_DTMF_GAP_MS	100
/* Queue keys to send (RFC 4733 when negotiated, else in-band). SB_EINVAL or SB_ETOOBIG. */
int media_leg_send_dtmf(struct media_leg *l, const char *keys);
void media_leg_stats(const struct media_leg *l, struct media_leg_stats *out);

#endif
