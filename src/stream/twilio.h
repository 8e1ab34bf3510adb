/* One Twilio Media Streams session as a pure state machine: builds the messages Twilio sends,
 * parses what agents send back, owns the playout queue toward the caller. No sockets, no clock.
 *
 * Sent, one JSON object per WebSocket text frame, compact, fields in Twilio's order:
 *   connected  {"event":"connected","protocol":"Call","version":"1.0.0"}
 *   start      {"event":"start","sequenceNumber":"1","start":{"accountSid":A,"streamSid":S,
 *               "callSid":C,"tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw",
 *               "sampleRate":8000,"channels":1},"customParameters":{...}},"streamSid":S}
 *   media      {"event":"media","sequenceNumber":"N","media":{"track":"inbound","chunk":"K",
 *               "timestamp":"MS","payload":B64},"streamSid":S}      every 20 ms, 160 bytes
 *   dtmf       {"event":"dtmf","streamSid":S,"sequenceNumber":"N",
 *               "dtmf":{"track":"inbound_track","digit":"5"}}
 *   mark       {"event":"mark","sequenceNumber":"N","streamSid":S,"mark":{"name":NAME}}
 *   stop       {"event":"stop","sequenceNumber":"N","stop":{"accountSid":A,"callSid":C},
 *               "streamSid":S}
 * sequenceNumber counts every Twilio event from "1" (start) on; chunk counts media messages
 * from "1"; timestamp is ms since start, advancing 20 per media message, so it stays
 * consistent with the payload length (silence frames, 0xFF, fill hold and missing audio).
 *
 * Extensions (additive; Twilio clients ignore unknown events). They carry no sequenceNumber, so
 * the numbering of the standard events is exactly what Twilio would send; "timestamp" is the
 * position on the media timeline (ms since start) when the event happened:
 *   x-hold     {"event":"x-hold","streamSid":S,"x-hold":{"initiator":"remote"|"local",
 *               "direction":"sendonly"|"inactive"|...,"timestamp":"MS"}}   direction optional
 *   x-resume   {"event":"x-resume","streamSid":S,"x-resume":{"initiator":...,"timestamp":"MS"}}
 *   x-transfer {"event":"x-transfer","streamSid":S,"x-transfer":{"to":URI,
 *               "status":"succeeded"|"failed","sipStatusCode":486,"sipStatus":"Busy Here"}}
 *               sipStatusCode is a number, 0 when no final answer came; to/sipStatus optional
 *
 * Accepted (any streamSid, or none): media {media:{payload}} (base64 μ-law, any size, standard
 * or URL alphabet, padding optional), mark {mark:{name}}, clear. connected/start from the agent,
 * unknown events, bad JSON and bad base64 are ignored and counted: never a reason to hang up. */
#ifndef SB_STREAM_TWILIO_H
#define SB_STREAM_TWILIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "stream/playout.h"

#define STREAM_TWILIO_FRAME   160u /* samples (and μ-law bytes) per media message: 20 ms */
#define STREAM_TWILIO_SID_LEN 34u  /* "MZ"/"AC"/"CA" + 32 lowercase hex */

struct stream_twilio_param {
	const char *name;
	const char *value;
};

struct stream_twilio_opts {
	/* SIDs of the form XX + 32 hex; NULL = random. */
	const char *account_sid;
	const char *call_sid;
	const char *stream_sid;
	/* customParameters; NULL = key left out. Built-ins win over params of the same name. */
	const char *from_number;
	const char *to_number;
	const char *room;
	const char *participant;		  /* participant identity */
	const char *call_id;			  /* switchboard's call id */
	const char *sip_call_id;		  /* the SIP Call-ID */
	const struct stream_twilio_param *params; /* caller-given (dispatch rule), copied */
	size_t n_params;
	struct stream_playout_opts playout;
};

struct stream_twilio_handlers {
	/* One complete outgoing message for one text frame; text is valid during the call only.
	 * Return 0, or an error: the message is lost, counted, and its sequenceNumber (and chunk)
	 * reused by the next one. */
	int (*send)(void *arg, const char *text, size_t len);
};

struct stream_twilio_stats {
	uint64_t in_msgs;	  /* messages given to stream_twilio_input */
	uint64_t in_media;	  /* media accepted */
	uint64_t in_marks;	  /* marks accepted */
	uint64_t in_clears;	  /* clears done */
	uint64_t in_malformed;	  /* bad JSON, no event, no payload/name, bad base64 */
	uint64_t in_unknown;	  /* unknown event names */
	uint64_t in_ignored;	  /* connected/start from the agent, anything after stop */
	uint64_t in_sid_mismatch; /* accepted although streamSid was not ours */
	uint64_t out_msgs;	  /* messages sent */
	uint64_t out_media;	  /* media messages sent */
	uint64_t out_silence;	  /* of which silence (hold, no audio, gap fill) */
	uint64_t out_marks;	  /* mark echoes sent */
	uint64_t out_errors;	  /* send failures (message lost) */
	uint64_t media_jumps;	  /* timestamp jumped after a stall longer than 1 s */
};

struct stream_twilio;

/* 0, SB_EINVAL (a malformed SID) or SB_ENOMEM. h->send is required. */
int stream_twilio_new(struct stream_twilio **out, const struct stream_twilio_opts *o,
		      const struct stream_twilio_handlers *h, void *arg);
void stream_twilio_free(struct stream_twilio *t);

/* Send connected and start; now is the stream's time zero. 0, SB_ESTATE (twice), SB_ENOMEM, or
 * the send error. */
int stream_twilio_start(struct stream_twilio *t, sb_time_ms now);

/* One 20 ms media message of the caller's audio: pcm = STREAM_TWILIO_FRAME samples of 8 kHz
 * PCM, or NULL for silence; silence also while on hold. Call once per 20 ms. When the calls fall
 * behind now by 40 ms or more, silence messages fill the gap first (a stall over 1 s makes the
 * timestamp jump instead). 0, SB_ESTATE (not started / stopped) or the send error. */
int stream_twilio_media(struct stream_twilio *t, sb_time_ms now, const int16_t *pcm);

/* A caller's key press: 0-9, *, #, A-D (a-d accepted). 0, SB_EINVAL, SB_ESTATE, send error. */
int stream_twilio_dtmf(struct stream_twilio *t, char digit);

struct stream_twilio_hold {
	bool remote;	       /* the caller's side held (re-INVITE) rather than us (API) */
	const char *direction; /* the SDP direction seen, NULL = left out */
};
/* x-hold / x-resume (timestamp = now on the media timeline; h NULL = local, no direction);
 * media is silence between them.
 * SB_ESTATE if not started or already in that state; the state changes even if the send fails. */
int stream_twilio_hold(struct stream_twilio *t, sb_time_ms now, const struct stream_twilio_hold *h);
int stream_twilio_resume(struct stream_twilio *t, sb_time_ms now,
			 const struct stream_twilio_hold *h);
bool stream_twilio_held(const struct stream_twilio *t);

struct stream_twilio_transfer {
	const char *to;		/* target URI, NULL = left out */
	int sip_status;		/* final SIP status (NOTIFY sipfrag or REFER failure), 0 = none */
	const char *sip_reason; /* reason phrase, NULL = left out */
};
/* x-transfer with the outcome. */
int stream_twilio_transfer(struct stream_twilio *t, const struct stream_twilio_transfer *r);

/* stop; the session is over afterwards (input ignored, sends refused). */
int stream_twilio_stop(struct stream_twilio *t);

/* One text message from the agent. 0 when acted on; otherwise why it was ignored (counted):
 * SB_EMALFORMED, SB_EUNSUPPORTED (unknown event), SB_ESTATE (after stop, or the agent's own
 * connected/start). Mark echoes due (empty queue, clear) are sent from here. Only a send error
 * of such an echo is a real error; none is a reason to close the socket. */
int stream_twilio_input(struct stream_twilio *t, const char *text, size_t len);

/* Take n samples of 8 kHz PCM of agent audio for the caller (the rest silence); returns how many
 * came from the queue. Marks passed are echoed from here. Never allocates (but for the echo). */
size_t stream_twilio_pull(struct stream_twilio *t, int16_t *pcm, size_t n);

/* For a caller that pulls from stream_twilio_playout() itself (no echo there) and echoes once
 * the audio has really been played: echo up to max of the marks the playout has passed, oldest
 * first. Returns how many were popped (a failed send is counted in out_errors). */
size_t stream_twilio_echo_marks(struct stream_twilio *t, size_t max);

const char *stream_twilio_stream_sid(const struct stream_twilio *t);
const char *stream_twilio_call_sid(const struct stream_twilio *t);
const char *stream_twilio_account_sid(const struct stream_twilio *t);
struct stream_playout *stream_twilio_playout(struct stream_twilio *t);
const struct stream_twilio_stats *stream_twilio_stats(const struct stream_twilio *t);

#endif
